"""Facts: what the collectors learned, each carrying the DNS answers that prove it.

Facts are plain frozen data. Checks read them and never ask the network themselves, so a
check can be tested by building facts by hand, and a saved run can be re-evaluated.
A fact that could not be collected keeps the failed :class:`DnsAnswer`; the check turns it
into ``not_tested`` with that reason.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditapp.dnsclient import DnsAnswer

if TYPE_CHECKING:
    from auditapp.collectors.dane_collect import TlsaFact
    from auditapp.collectors.dnssec_types import DnssecFacts
    from auditapp.collectors.hosting import HostingFact
    from auditapp.collectors.service_facts import Discovery, EndpointProbe, MtaStsPolicy
    from auditapp.collectors.tls_scan import TlsScan
    from auditapp.spf import SpfEvaluation, SpfTree


@dataclass(frozen=True)
class ForwardLookup:
    """A and AAAA of one name, asked in parallel."""

    name: str
    a: DnsAnswer
    aaaa: DnsAnswer

    @property
    def addresses(self) -> tuple[str, ...]:
        return self.a.records + self.aaaa.records

    @property
    def failure(self) -> DnsAnswer | None:
        """The first lookup that failed, if neither gave a usable answer."""
        for ans in (self.a, self.aaaa):
            if ans.outcome.is_failure:
                return ans
        return None

    @property
    def nxdomain(self) -> bool:
        """NXDOMAIN is about the name, so either query saying it is enough."""
        return "nxdomain" in (self.a.outcome.value, self.aaaa.outcome.value)

    def answer_for(self, ip: str) -> DnsAnswer:
        """The lookup that can contain ``ip``: A for IPv4, AAAA for IPv6.

        Whether an IPv4 sender is confirmed never depends on the AAAA query (and vice versa),
        so a failing AAAA lookup must not turn a clear IPv4 mismatch into "not tested".
        """
        return self.aaaa if ":" in ip and not is_ipv4_mapped(ip) else self.a


def is_ipv4_mapped(ip: str) -> bool:
    """``::ffff:192.0.2.10``: how dual-stack MTAs log an IPv4 peer; it is IPv4 (issue 16)."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None


@dataclass(frozen=True)
class PtrFact:
    """Reverse DNS of one sending IP and the forward lookup of every PTR name."""

    ip: str
    answer: DnsAnswer
    forward: tuple[ForwardLookup, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.rstrip(".").lower() for r in self.answer.records)


@dataclass(frozen=True)
class HeloFact:
    """The HELO name of one sending IP, where it came from, and what DNS says about it."""

    ip: str
    name: str | None
    source: str
    unknown_why: str = ""
    forward: ForwardLookup | None = None
    spf: DnsAnswer | None = None
    transcript: tuple[str, ...] = ()


@dataclass(frozen=True)
class DmarcDiscovery:
    """RFC 9989 policy discovery: the answers along the tree walk and where a record was found."""

    domain: str
    answers: tuple[DnsAnswer, ...]
    found_at: str | None = None
    records: tuple[str, ...] = ()
    failure: DnsAnswer | None = None


@dataclass(frozen=True)
class DnsblFact:
    ip: str
    zone: str
    #: None when the zone was not asked: an IPv6 address on a zone that lists no IPv6
    #: addresses (dnsbl_zones.toml ``ipv6 = "no"``), whose NXDOMAIN would prove nothing.
    answer: DnsAnswer | None
    txt: DnsAnswer | None = None


@dataclass
class Facts:
    """Everything one audit collected. Fields stay ``None`` until their collector finished."""

    ptr: dict[str, PtrFact] | None = None
    helo: dict[str, HeloFact] | None = None
    spf_tree: SpfTree | None = None
    spf_eval: dict[str, SpfEvaluation] | None = None
    dkim: dict[str, DnsAnswer] | None = None
    #: The relevant CAA RRset of every MX host (auditapp.collectors.caa.CaaFact).
    caa: Any = None
    #: The routes to the MX and name server addresses and their RPKI states (collectors/rpki_collect.py).
    rpki: Any = None
    #: Whether a hosted provider runs the domain's inbound mail (from the MX hosts).
    hosting: HostingFact | None = None
    adsp: DnsAnswer | None = None
    dmarc: DmarcDiscovery | None = None
    #: External DMARC report destinations and their authorisation records (collectors/dmarc_reports.py).
    dmarc_reports: Any = None
    mta_sts: DnsAnswer | None = None
    tlsrpt: DnsAnswer | None = None
    dnsbl: dict[tuple[str, str], DnsblFact] | None = None
    discovery: Discovery | None = None
    services: dict[tuple[str, int, str], EndpointProbe] | None = None
    #: The TLS scan of every TLS endpoint (versions, suites, groups, certificate), by (address, port).
    tls_scan: dict[tuple[str, int], TlsScan] | None = None
    #: None also when the domain publishes no _mta-sts record (nothing to fetch).
    mta_sts_policy: MtaStsPolicy | None = None
    #: TLSA records at _25._tcp.<mx> of every MX host (DANE, collectors/dane_collect.py).
    tlsa: TlsaFact | None = None
    #: DNSSEC validation of the domain's mail records, by auditapp from the trust anchor (issue 16).
    dnssec: DnssecFacts | None = None
    #: The domain's name servers, their addresses and a SOA question to each (collectors/nameservers.py).
    nameservers: Any = None
    #: The imported Postfix configuration (auditapp.postfix.PostfixConfig), None if none was given.
    postfix: Any = None
    #: Received messages examined on import (auditapp.message.evidence.MessageEvidence); empty: none.
    messages: tuple[Any, ...] | None = None
    #: Questionnaire answers by question id; a missing id means "not answered".
    answers: dict[str, Any] | None = None
    done: set[str] = field(default_factory=set)
    #: Facts whose collector crashed (a bug, not a network failure), with the error text.
    errors: dict[str, str] = field(default_factory=dict)

    def has(self, *names: str) -> bool:
        return all(n in self.done for n in names)
