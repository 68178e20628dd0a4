"""The domain's name servers and whether each answers over IPv6 (issue 16; internet.nl's two NS subtests).

internet.nl checks that a domain has at least two name servers with an IPv6 address and that every
name server with an AAAA record answers over IPv6. This collector finds the NS RRset of the domain
(climbing to the parent when the domain is not a zone cut), the A and AAAA records of every name
server, and then sends one SOA question for the zone directly to every address of every name server,
over IPv6 and over IPv4, so a check can tell "IPv6 broken" from "server down".

The direct questions are reachability probes, not resolution: they go out with dnspython, not
through :class:`~auditapp.dnsclient.DnsClient`, so they are never counted in the run's
resolver tally (a name server that ignores us must not make the run look degraded). Every
address learned from DNS passes the network guard first (collectors/netguard.py), as the
service probes do; the port is ``target.ports["dns"]`` (53 unless a lab says otherwise).
"""

from __future__ import annotations

import asyncio
import errno
import time
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from auditapp.collectors.netguard import blocked
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsAnswer, DnsClient, Outcome

#: How the direct SOA question to one name server address ended.
ANSWERED, REFUSED, TIMEOUT, UNREACHABLE, BLOCKED, ERROR = (
    "answered", "refused", "timeout", "unreachable", "blocked", "error")

_UNREACHABLE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}


@dataclass(frozen=True)
class NsProbe:
    """One SOA question sent straight to one address of a name server."""

    address: str
    port: int
    state: str
    #: The rcode and flags of the answer, or why there was none.
    detail: str = ""
    elapsed_ms: float = 0.0

    @property
    def v6(self) -> bool:
        return ":" in self.address

    @property
    def endpoint(self) -> str:
        host = f"[{self.address}]" if self.v6 else self.address
        return f"{host}:{self.port}"

    def evidence(self) -> str:
        return f"SOA query to {self.endpoint}: {self.state}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class NsHost:
    name: str
    a: DnsAnswer
    aaaa: DnsAnswer
    probes: tuple[NsProbe, ...] = ()

    @property
    def v6_addresses(self) -> tuple[str, ...]:
        return self.aaaa.records if self.aaaa.ok else ()

    @property
    def v4_addresses(self) -> tuple[str, ...]:
        return self.a.records if self.a.ok else ()


@dataclass(frozen=True)
class NameserverFact:
    #: The zone whose NS RRset was found (the domain or a parent), "" when none was found.
    zone: str
    #: Every NS lookup made on the way up; the last one decided.
    ns_answers: tuple[DnsAnswer, ...]
    hosts: tuple[NsHost, ...]

    @property
    def ns_answer(self) -> DnsAnswer:
        return self.ns_answers[-1]


async def probe_soa(address: str, port: int, zone: str, timeout: float, allow_internal: bool) -> NsProbe:
    """Ask ``address`` for the SOA of ``zone`` (UDP, TCP on truncation); any DNS answer means it is reachable."""
    why = blocked(address, learned=True, allow_internal=allow_internal)
    if why:
        return NsProbe(address, port, BLOCKED, str(why))
    query = dns.message.make_query(dns.name.from_text(zone), dns.rdatatype.SOA, use_edns=0, payload=1232)
    query.flags &= ~dns.flags.RD
    started = time.perf_counter()

    def took() -> float:
        return (time.perf_counter() - started) * 1000

    try:
        try:
            resp, tcp = await dns.asyncquery.udp_with_fallback(query, address, timeout=timeout * 0.6, port=port)
        except dns.exception.Timeout:
            # UDP says nothing about why it is silent (an ICMP "port unreachable" is not reported):
            # TCP tells a closed port (RST) from a filtered one, and a server reachable over TCP is reachable.
            resp = await dns.asyncquery.tcp(query, address, timeout=timeout * 0.4, port=port)
            tcp = True
    except dns.exception.Timeout:
        return NsProbe(address, port, TIMEOUT, f"no answer within {timeout:g} s", took())
    except ConnectionRefusedError as exc:
        return NsProbe(address, port, REFUSED, f"port unreachable: {exc}", took())
    except OSError as exc:
        state = UNREACHABLE if exc.errno in _UNREACHABLE_ERRNOS else ERROR
        return NsProbe(address, port, state, f"{type(exc).__name__}: {exc}", took())
    except (dns.exception.DNSException, EOFError, ValueError) as exc:
        # Something answered, but not with DNS we can read: not a reachability verdict.
        return NsProbe(address, port, ERROR, f"{type(exc).__name__}: {exc}", took())
    aa = " aa" if resp.flags & dns.flags.AA else ""
    via = " over TCP" if tcp else ""
    return NsProbe(address, port, ANSWERED, f"{dns.rcode.to_text(resp.rcode())}{aa}{via}", took())


async def find_ns(dns_client: DnsClient, domain: str) -> tuple[str, tuple[DnsAnswer, ...]]:
    """The NS RRset of ``domain`` or, when it is no zone cut (NODATA), of the closest parent below the TLD."""
    labels = domain.rstrip(".").lower().split(".")
    seen: list[DnsAnswer] = []
    for i in range(max(1, len(labels) - 1)):
        name = ".".join(labels[i:])
        answer = await dns_client.query(name, "NS")
        seen.append(answer)
        if answer.ok and answer.records:
            return name, tuple(seen)
        if answer.outcome.is_failure or answer.outcome is Outcome.NXDOMAIN:
            break
    return "", tuple(seen)


async def collect_nameservers(dns_client: DnsClient, target: AuditTarget, timeout: float = 5.0) -> NameserverFact:
    """The name servers of the audited domain, their addresses, and a SOA question to every address."""
    zone, answers = await find_ns(dns_client, target.domain)
    names = list(dict.fromkeys(r.rstrip(".").lower() for r in answers[-1].records)) if zone else []
    port = int(target.ports.get("dns", 53))
    budget = min(timeout, 5.0)

    async def host(name: str) -> NsHost:
        a, aaaa = await dns_client.addresses(name)
        addrs = [*(aaaa.records if aaaa.ok else ()), *(a.records if a.ok else ())]
        probes = await asyncio.gather(*(probe_soa(ad, port, zone, budget, target.allow_internal) for ad in addrs))
        return NsHost(name, a, aaaa, tuple(probes))

    hosts = await asyncio.gather(*(host(n) for n in names))
    return NameserverFact(zone, answers, tuple(hosts))
