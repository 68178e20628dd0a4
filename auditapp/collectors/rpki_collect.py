"""RPKI: which BGP route carries each mail and name server address, and is its origin valid? (issue 16)

internet.nl's six RPKI subtests cover three sets of hosts: the MX hosts, the domain's name servers
and the name servers of the MX hosts' zones (a hijacked route to those redirects the MX lookup).
For each address this collector asks which routes cover it and from which origin AS, and judges
each route against the validated ROA payloads (auditapp/rpki.py, RFC 6811).

Which routes cover an address comes from Team Cymru's IP-to-ASN service over DNS
(``<reversed address>.origin.asn.cymru.com`` TXT, ``origin6`` for IPv6; "AS | prefix | CC |
registry | date", several ASes space-separated when more than one originates the prefix). It is
DNS, so it goes through the audit's own resolvers, counts in the resolver tally and can be served
by the lab's BIND; a timeout or SERVFAIL is ``not_tested``, NXDOMAIN is "not announced". The
lookup says which address is being audited to the resolver and to Team Cymru, as a PTR lookup
does; private and loopback addresses are never looked up (they are not routed), except in an
internal audit (``allow_internal``, the labs).

Without a VRP file (``--rpki-vrps``) nothing is looked up: the hosts are listed and the rules say
``not_tested`` with the reason, because a guess about RPKI from the origin alone would be a verdict
without evidence.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass

from auditapp.collectors.discovery import mx_hosts
from auditapp.collectors.nameservers import find_ns
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsAnswer, DnsClient
from auditapp.rpki import VrpError, VrpSet, cached_vrps

ORIGIN_ZONES = {4: "origin.asn.cymru.com", 6: "origin6.asn.cymru.com"}
#: Host sets, in the order internet.nl lists its subtests.
MX, NS, MX_NS = "mx", "ns", "mx_ns"
#: At most this many hosts per set: a bound on questions, not a limit real domains reach.
MAX_HOSTS = 20


@dataclass(frozen=True)
class Route:
    """One BGP announcement covering an address, judged against the VRPs."""

    prefix: str
    asn: int
    state: str  # valid, invalid, not_found (auditapp.rpki)
    covering: tuple[str, ...] = ()
    matched: tuple[str, ...] = ()


@dataclass(frozen=True)
class RpkiAddress:
    """One address of one or more hosts, its roles, and the routes that carry it."""

    address: str
    hosts: tuple[str, ...]
    roles: tuple[str, ...]
    lookup: DnsAnswer | None = None
    routes: tuple[Route, ...] = ()
    #: Why no origin was looked up: "private" (not routed), "no_vrps" (no VRP file given).
    skipped: str = ""

    @property
    def failed(self) -> bool:
        return self.lookup is not None and self.lookup.outcome.is_failure


@dataclass(frozen=True)
class RpkiFact:
    vrp_source: str
    vrp_count: int
    vrp_generated: str
    #: The VRP file could not be used (it was valid when the audit was prepared, so it changed since).
    vrp_error: str
    addresses: tuple[RpkiAddress, ...]
    #: Host lookups (MX, NS, A/AAAA) that failed: hosts of a set may be missing from ``addresses``.
    failures: tuple[DnsAnswer, ...] = ()


def origin_name(address: str) -> str:
    """The Team Cymru origin name of an address (RFC 1035 / RFC 3596 reversal)."""
    ip = ipaddress.ip_address(address)
    if ip.version == 4:
        return ".".join(reversed(str(ip).split("."))) + "." + ORIGIN_ZONES[4]
    return ".".join(reversed(ip.exploded.replace(":", ""))) + "." + ORIGIN_ZONES[6]


def parse_origins(texts: tuple[str, ...]) -> list[tuple[str, int]]:
    """(prefix, origin AS) pairs from the origin TXT strings; malformed strings are skipped."""
    out: list[tuple[str, int]] = []
    for text in texts:
        fields = [f.strip() for f in text.split("|")]
        if len(fields) < 2:
            continue
        try:
            prefix = str(ipaddress.ip_network(fields[1], strict=False))
            asns = [int(a) for a in fields[0].split()]
        except ValueError:
            continue
        out += [(prefix, asn) for asn in asns if (prefix, asn) not in out]
    return out


async def _hosts(dns: DnsClient, target: AuditTarget) -> tuple[dict[str, set[str]], list[DnsAnswer]]:
    """{host: roles} of the three sets, and the lookups that failed on the way."""
    failures: list[DnsAnswer] = []
    roles: dict[str, set[str]] = {}
    if target.mx_hosts:
        mxs = [h.rstrip(".").lower() for h in target.mx_hosts]
    else:
        answer = await dns.query(target.domain, "MX")
        if answer.outcome.is_failure:
            failures.append(answer)
        mxs = [h for _pref, h in mx_hosts(answer)] if answer.ok else []
    for host in mxs[:MAX_HOSTS]:
        roles.setdefault(host, set()).add(MX)

    async def servers(name: str) -> list[str]:
        zone, answers = await find_ns(dns, name)
        failures.extend(a for a in answers if a.outcome.is_failure)
        return [r.rstrip(".").lower() for r in answers[-1].records][:MAX_HOSTS] if zone else []

    for host in await servers(target.domain):
        roles.setdefault(host, set()).add(NS)
    for found in await asyncio.gather(*(servers(h) for h in mxs[:MAX_HOSTS])):
        for host in found:
            roles.setdefault(host, set()).add(MX_NS)
    return roles, failures


def _routed(address: str, target: AuditTarget) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global or target.allow_internal


async def collect_rpki(dns: DnsClient, target: AuditTarget) -> RpkiFact:
    """The addresses of the MX hosts and both name server sets, with their routes' RFC 6811 states."""
    vrps: VrpSet | None = None
    error = ""
    if target.rpki_vrps:
        try:
            vrps = await asyncio.to_thread(cached_vrps, target.rpki_vrps)
        except (VrpError, OSError) as exc:
            error = str(exc)
    roles, failures = await _hosts(dns, target)
    lookups = await asyncio.gather(*(dns.addresses(h) for h in roles))
    by_address: dict[str, tuple[list[str], set[str]]] = {}
    for host, (a, aaaa) in zip(roles, lookups, strict=True):
        for answer in (a, aaaa):
            if answer.outcome.is_failure:
                failures.append(answer)
            for address in answer.records if answer.ok else ():
                hosts, r = by_address.setdefault(address, ([], set()))
                hosts.append(host)
                r |= roles[host]

    async def one(address: str, hosts: list[str], r: set[str]) -> RpkiAddress:
        ordered = tuple(x for x in (MX, NS, MX_NS) if x in r)
        if not _routed(address, target):
            return RpkiAddress(address, tuple(hosts), ordered, skipped="private")
        if vrps is None:
            return RpkiAddress(address, tuple(hosts), ordered, skipped="no_vrps")
        answer = await dns.query(origin_name(address), "TXT")
        routes = []
        if answer.ok:
            ip = ipaddress.ip_address(address)
            for prefix, asn in parse_origins(answer.texts):
                network = ipaddress.ip_network(prefix)
                if network.version != ip.version or ip not in network:
                    continue  # an answer about another address is no evidence about this one
                v = vrps.validate(network, asn)
                routes.append(Route(prefix, asn, v.state, tuple(map(str, v.covering[:5])),
                                    tuple(map(str, v.matched[:5]))))
        return RpkiAddress(address, tuple(hosts), ordered, answer, tuple(routes))

    addresses = await asyncio.gather(*(one(a, h, r) for a, (h, r) in sorted(by_address.items())))
    return RpkiFact(target.rpki_vrps or "", vrps.count if vrps else 0, vrps.generated if vrps else "", error,
                    tuple(addresses), tuple(dict.fromkeys(failures)))

