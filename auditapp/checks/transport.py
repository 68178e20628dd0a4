"""MTA-STS and TLS-RPT records (DNS part) and DNS blocklists (knowledge base B3, B4, R9)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from auditapp.checks.registry import CheckContext, check
from auditapp.checks.tags import TagError, parse_tags
from auditapp.collectors.facts import DnsblFact
from auditapp.core.model import Finding, Reason
from auditapp.dnsclient import DnsAnswer

#: Spamhaus answers in 127.255.255.0/24 mean "query refused", not "listed" (knowledge base R9).
REFUSAL_CODES = {
    "127.255.255.252": "typing error in the DNSBL name",
    "127.255.255.254": "query via a public or open resolver",
    "127.255.255.255": "excessive number of queries",
}


def _sts_records(ans: DnsAnswer) -> list[str]:
    return [t for t in ans.texts if re.match(r"^v=STSv1\s*(;|$)", t.strip())]


@check("MTA-STS-MISSING", needs=("mta_sts",))
def mta_sts_missing(ctx: CheckContext) -> Iterator[Finding]:
    ans: DnsAnswer = ctx.facts.mta_sts  # type: ignore[assignment]
    if ans.outcome.is_failure:
        yield ctx.dns_not_tested(ctx.domain, ans)
        return
    records = _sts_records(ans)
    if not records:
        yield ctx.fail(ctx.domain, "missing", [ans.evidence()], domain=ctx.domain)
        return
    if len(records) > 1:
        yield ctx.fail(ctx.domain, "invalid", [ans.evidence()], domain=ctx.domain,
                       error=f"{len(records)} v=STSv1 records (RFC 8461 §3.1 requires exactly one)")
        return
    try:
        tags = parse_tags(records[0])
    except TagError as exc:
        yield ctx.fail(ctx.domain, "invalid", [ans.evidence()], domain=ctx.domain, error=str(exc))
        return
    # RFC 8461 §3.1: id is 1 to 32 alphanumeric characters.
    if not re.fullmatch(r"[A-Za-z0-9]{1,32}", tags.get("id", "")):
        yield ctx.fail(ctx.domain, "invalid", [ans.evidence()], domain=ctx.domain,
                       error="id= must be 1 to 32 letters or digits")
        return
    yield ctx.passed(ctx.domain, [ans.evidence()], domain=ctx.domain, record=records[0])


@check("TLSRPT-MISSING", needs=("tlsrpt", "mta_sts"))
def tlsrpt_missing(ctx: CheckContext) -> Iterator[Finding]:
    ans: DnsAnswer = ctx.facts.tlsrpt  # type: ignore[assignment]
    if ans.outcome.is_failure:
        yield ctx.dns_not_tested(ctx.domain, ans)
        return
    records = [t for t in ans.texts if re.match(r"^v=TLSRPTv1\s*(;|$)", t.strip())]
    if records:
        yield ctx.passed(ctx.domain, [ans.evidence()], domain=ctx.domain, record=records[0])
        return
    sts: DnsAnswer = ctx.facts.mta_sts  # type: ignore[assignment]
    outcome = "missing_with_sts" if sts.ok and _sts_records(sts) else "missing"
    yield ctx.fail(ctx.domain, outcome, [ans.evidence()], domain=ctx.domain)


@check("DNSBL-LISTED", needs=("dnsbl",))
def dnsbl_listed(ctx: CheckContext) -> Iterator[Finding]:
    for (ip, zone), fact in sorted((ctx.facts.dnsbl or {}).items()):
        yield _dnsbl_verdict(ctx, ip, zone, fact)


def _dnsbl_verdict(ctx: CheckContext, ip: str, zone: str, fact: DnsblFact) -> Finding:
    subject = f"{ip} @ {zone}"
    ans = fact.answer
    ev = [ans.evidence()] + ([fact.txt.evidence()] if fact.txt and fact.txt.ok else [])
    params = {"ip": ip, "zone": zone, "domain": ctx.domain}
    if ans.outcome.is_failure:
        return ctx.dns_not_tested(subject, ans)
    if ans.outcome.is_void:
        return ctx.passed(subject, ev, **params)
    codes = sorted(ans.records)
    refusals = [c for c in codes if c.startswith("127.255.255.")]
    if refusals:
        code = refusals[0]
        meaning = REFUSAL_CODES.get(code, "query refused by the list operator")
        return ctx.not_tested(subject, Reason("reason.dnsbl_refused", {"zone": zone, "code": code,
                                                                       "meaning": meaning}), ev, **params)
    outside = [c for c in codes if ipaddress.ip_address(c) not in ipaddress.ip_network("127.0.0.0/8")]
    if outside:
        # RFC 5782 §2.1: list entries answer in 127.0.0.0/8. Anything else is a resolver that
        # rewrites NXDOMAIN (ad or search pages), so the answer proves nothing.
        return ctx.not_tested(subject, Reason("reason.dnsbl_refused", {
            "zone": zone, "code": ", ".join(outside), "meaning": "answer outside 127.0.0.0/8, the resolver "
                                                             "rewrites NXDOMAIN"}), ev, **params)
    text = ""
    if fact.txt and fact.txt.ok and fact.txt.texts:
        text = f": {fact.txt.texts[0]}"
    return ctx.fail(subject, "listed", ev, codes=", ".join(codes), text=text, **params)
