"""DANE for SMTP: the TLSA records at ``_25._tcp.<mx>`` of every MX host (RFC 7672 §2.2), asked concurrently.

The MX hosts are the ones the user named (``--mx``) or the domain's MX answer (the same question
discovery and the hosting collector ask: the DNS client's single-flight cache answers it once).
The TLSA name always uses port 25, whatever port the audit probes: it is the port sending servers
use. Whether a record counts (DNSSEC) is the ``dnssec`` fact's business, whether it matches is the
checks' (:mod:`auditapp.checks.dane`); this module only asks.

The fact also carries the SPKI digests the project's previous run saw on each MX endpoint
(``EngineConfig.previous_spki``), so DANE-NO-ROLLOVER can tell a key reused across renewals from
one that changed, without the engine or the checks knowing about projects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from auditapp.collectors.discovery import mx_hosts
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsAnswer, DnsClient


def tlsa_name(mx: str) -> str:
    """Where a sending server looks for the TLSA records of ``mx`` (RFC 7672 §2.2.1, port 25)."""
    return f"_25._tcp.{mx.rstrip('.').lower()}"


@dataclass(frozen=True)
class TlsaFact:
    """The TLSA answer of every MX host, and the keys a previous run saw."""

    #: The MX answer; None when the user named the MX hosts (--mx).
    mx: DnsAnswer | None
    #: MX host name -> the TLSA answer at ``_25._tcp.<host>``.
    answers: dict[str, DnsAnswer] = field(default_factory=dict)
    #: Endpoint ("127.0.0.1:25", "[::1]:25") -> SPKI SHA-256 (hex) the previous run of the project saw.
    previous_spki: Mapping[str, str] = field(default_factory=dict)
    #: When that run started (ISO 8601), "" without one.
    previous_run: str = ""
    #: Endpoint -> the not-after date of the certificate the previous run saw (a renewal changes it).
    previous_not_after: Mapping[str, str] = field(default_factory=dict)


async def collect_tlsa(dns: DnsClient, target: AuditTarget, previous_spki: Mapping[str, str] | None = None,
                       previous_run: str = "", previous_not_after: Mapping[str, str] | None = None) -> TlsaFact:
    mx_answer: DnsAnswer | None = None
    if target.mx_hosts:
        hosts = tuple(dict.fromkeys(h.rstrip(".").lower() for h in target.mx_hosts))
    else:
        mx_answer = await dns.query(target.domain, "MX")
        hosts = tuple(dict.fromkeys(h for _, h in mx_hosts(mx_answer))) if mx_answer.ok else ()
    answers = await asyncio.gather(*(dns.query(tlsa_name(h), "TLSA") for h in hosts))
    return TlsaFact(mx=mx_answer, answers=dict(zip(hosts, answers, strict=True)),
                    previous_spki=dict(previous_spki or {}), previous_run=previous_run,
                    previous_not_after=dict(previous_not_after or {}))
