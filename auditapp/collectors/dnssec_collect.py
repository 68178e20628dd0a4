"""The ``dnssec`` collector: validate the RRsets the mail verdicts rest on (issue 16).

Validated, all at once: the domain's SOA and MX, ``_dmarc``, ``_mta-sts`` and ``_smtp._tls``
TXT, and for every MX host its A and AAAA and the TLSA RRset at ``_25._tcp.<mx>`` (the DANE
checks read ``facts.dnssec.status(f"_25._tcp.{mx}", "TLSA")``). The validation is auditapp's
own, from the trust anchor (:mod:`auditapp.dnssec`); a resolver's AD bit is never used.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from auditapp.collectors.dnssec_types import DnssecFacts, NameSecurity, Security
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsClient
from auditapp.dnssec import METHOD, TrustAnchorError, Validator, iana_root, load_anchor_file


def mx_hosts(records: tuple[str, ...]) -> tuple[str, ...]:
    """Host names of MX records ("10 mx.example.com."), without the null MX ("0 .")."""
    hosts: list[str] = []
    for record in records:
        parts = record.split()
        if len(parts) == 2 and parts[1] != ".":
            host = parts[1].rstrip(".").lower()
            if host and host not in hosts:
                hosts.append(host)
    return tuple(hosts)


def questions(domain: str, mxs: tuple[str, ...]) -> list[tuple[str, str]]:
    asked = [(domain, "SOA"), (domain, "MX"), (f"_dmarc.{domain}", "TXT"), (f"_mta-sts.{domain}", "TXT"),
             (f"_smtp._tls.{domain}", "TXT")]
    for mx in mxs:
        asked += [(mx, "A"), (mx, "AAAA"), (f"_25._tcp.{mx}", "TLSA")]
    return asked


async def collect_dnssec(dns: DnsClient, target: AuditTarget, now: datetime | None = None) -> DnssecFacts:
    """Validate every RRset above from the target's trust anchor (the IANA root by default).

    The domain's own records are validated while the MX question is still out, so a dead
    resolver costs one timeout, not the MX timeout followed by the trust anchor's.
    """
    domain = target.domain.rstrip(".").lower()
    path = target.trust_anchor
    try:
        anchor = load_anchor_file(path) if path else iana_root()
    except TrustAnchorError as exc:
        mx_answer = await dns.query(domain, "MX")
        asked = questions(domain, mx_hosts(mx_answer.records) or tuple(target.mx_hosts))
        names = {(n.lower(), t): NameSecurity(n.lower(), t, Security.NOT_TESTED, reason=str(exc)) for n, t in asked}
        return DnssecFacts(anchor=f"trust anchor file {path}", method=METHOD, names=names)
    validator = Validator(dns, anchor, now)
    first = questions(domain, ())
    # Every question of the chain at once (Validator.prefetch): a round trip per delegation otherwise.
    validator.prefetch(questions(domain, tuple(h.rstrip(".").lower() for h in target.mx_hosts)))
    own = asyncio.gather(*(validator.validate(n, t) for n, t in first))
    try:
        mx_answer = await dns.query(domain, "MX")
        mxs = mx_hosts(mx_answer.records) or tuple(h.rstrip(".").lower() for h in target.mx_hosts)
        validator.prefetch(questions(domain, mxs)[len(first):])
        hosts = await asyncio.gather(*(validator.validate(n, t) for n, t in questions(domain, mxs)[len(first):]))
    except BaseException:  # cancelled: stop the domain's validations too
        own.cancel()
        validator.cancel()
        raise
    results = [*await own, *hosts]
    return DnssecFacts(anchor=anchor.label, method=METHOD, names={(r.name, r.rdtype): r for r in results})
