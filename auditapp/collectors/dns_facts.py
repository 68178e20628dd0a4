"""Collectors for everything DNS can tell about a mail setup.

Each collector asks its questions in parallel where they are independent and only waits
where the protocol forces an order (PTR before the forward lookup of its names). They never
judge: a timeout is stored as a timeout, and the checks decide what it means.
"""

from __future__ import annotations

import asyncio
import ipaddress

from dns.reversename import from_address as reverse_name

from auditapp.collectors.facts import DmarcDiscovery, DnsblFact, ForwardLookup, HeloFact, PtrFact
from auditapp.collectors.smtp_greeting import probe_greeting
from auditapp.core.dnsnames import address_literal, helo_syntax_problem, nonpublic_why, walk_targets
from auditapp.core.target import AuditTarget
from auditapp.data.blocklists import ipv6_coverage
from auditapp.dnsclient import DnsClient


async def forward(dns: DnsClient, name: str) -> ForwardLookup:
    a, aaaa = await dns.addresses(name)
    return ForwardLookup(name.rstrip(".").lower(), a, aaaa)


async def collect_ptr(dns: DnsClient, ip: str) -> PtrFact:
    answer = await dns.reverse(ip)
    names = [r.rstrip(".").lower() for r in answer.records] if answer.ok else []
    # Names that can never resolve publicly are not sent to the resolver: the check knows why.
    lookups = await asyncio.gather(*(forward(dns, n) for n in names if not nonpublic_why(n)))
    return PtrFact(ip=ip, answer=answer, forward=tuple(lookups))


async def collect_helo(dns: DnsClient, target: AuditTarget, ip: str, timeout: float, probe: bool = True) -> HeloFact:
    name, source, why = target.helo, target.helo_source, ""
    learned = target.learned_helo(ip) if name is None else None
    if learned is not None:
        name, source = learned.value, "message"
    transcript: tuple[str, ...] = (f"HELO name {name} ({source})",) if name else ()
    if learned is not None:
        transcript += (f"learned from message {learned.message}, hop {learned.hop}",)
    if not name and not probe:
        return HeloFact(ip=ip, name=None, source="smtp", unknown_why="the port-25 probe is switched off")
    if not name:
        greeting = await probe_greeting(ip, target.ports.get("smtp", 25), timeout)
        name, why, transcript = greeting.name, greeting.problem, greeting.transcript
        source = "smtp"
    if not name:
        return HeloFact(ip=ip, name=None, source=source, unknown_why=why, transcript=transcript)
    if address_literal(name) or helo_syntax_problem(name):
        return HeloFact(ip=ip, name=name, source=source, transcript=transcript)
    fw, spf = await asyncio.gather(forward(dns, name), dns.query(name, "TXT"))
    return HeloFact(ip=ip, name=name, source=source, forward=fw, spf=spf, transcript=transcript)


async def collect_dkim(dns: DnsClient, target: AuditTarget) -> dict[str, object]:
    selectors = target.all_selectors
    answers = await dns.query_many((f"{s}._domainkey.{target.domain}", "TXT") for s in selectors)
    return dict(zip(selectors, answers, strict=True))


async def collect_dmarc(dns: DnsClient, domain: str) -> DmarcDiscovery:
    # The tree walk is sequential in RFC 9989, but every level is a fixed name known in
    # advance, so all of them are asked at once and the walk is replayed over the answers.
    names = [f"_dmarc.{t}" for t in walk_targets(domain)]
    answers = await dns.query_many((n, "TXT") for n in names)
    return DmarcDiscovery(domain=domain, answers=tuple(answers))


async def collect_dnsbl(dns: DnsClient, ip: str, zone: str) -> DnsblFact:
    """The A and TXT answers of ``zone`` for ``ip`` (RFC 5782; IPv6 as reversed nibbles).

    An IPv6 address is not sent to a zone known to list no IPv6 addresses: its NXDOMAIN would
    only be read as "not listed" without being evidence of anything, so the question is not
    asked at all (no traffic) and the fact carries no answer; DNSBL-LISTED reports it as not
    applicable.
    """
    if ipaddress.ip_address(ip).version == 6 and ipv6_coverage(zone) == "no":
        return DnsblFact(ip=ip, zone=zone, answer=None)
    rev = reverse_name(ip).to_text(omit_final_dot=True)
    rev = rev.removesuffix(".in-addr.arpa").removesuffix(".ip6.arpa")
    name = f"{rev}.{zone}"
    a, txt = await dns.query_many([(name, "A"), (name, "TXT")])
    return DnsblFact(ip=ip, zone=zone, answer=a, txt=txt)
