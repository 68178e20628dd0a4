"""MTA-STS and TLS-RPT records (DNS part) and DNS blocklists (knowledge base B3, B4, R9)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from auditapp.catalog import Text
from auditapp.checks.registry import CheckContext, check
from auditapp.checks.tags import TagError, parse_tags
from auditapp.collectors.facts import DnsblFact
from auditapp.core.model import Finding, Reason, Severity
from auditapp.data.blocklists import NOT_LISTINGS, blocklist_for, ipv6_coverage, meaning_of
from auditapp.dnsclient import DnsAnswer


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


def _lang(t: Text) -> dict[str, str]:
    return {"de": t.de, "en": t.en}


#: Outcome per severity of a listing (the meaning, and with it the severity, comes from dnsbl_zones.toml).
LISTED_OUTCOMES = {Severity.CRITICAL: "listed_critical", Severity.HIGH: "listed", Severity.MEDIUM: "listed_medium",
                   Severity.LOW: "listed_low", Severity.INFO: "listed_info"}


#: Evidence line for an IPv6 "not listed" on a zone whose IPv6 coverage is not on record.
IPV6_UNDOCUMENTED = ("{zone}: whether this list holds IPv6 addresses at all is not documented "
                     "(dnsbl_zones.toml ipv6 = \"unknown\"); its NXDOMAIN may only mean that it lists no IPv6")


def _dnsbl_verdict(ctx: CheckContext, ip: str, zone: str, fact: DnsblFact) -> Finding:
    subject = f"{ip} @ {zone}"
    params = {"ip": ip, "zone": zone, "domain": ctx.domain}
    bl = blocklist_for(zone)
    ipv6 = ipaddress.ip_address(ip).version == 6
    ans = fact.answer
    if ans is None or (ipv6 and ipv6_coverage(zone) == "no"):
        # The zone lists no IPv6 addresses, so it was not asked (collect_dnsbl): a "not listed"
        # would be a verdict without evidence.
        source = f" (source: {bl.ipv6_source})" if bl is not None and bl.ipv6_source else ""
        note = f"{zone}: no query sent, the list holds no IPv6 addresses (dnsbl_zones.toml ipv6 = \"no\"){source}"
        return ctx.not_applicable(subject, [note], outcome="no_ipv6", **params)
    ev = [ans.evidence()] + ([fact.txt.evidence()] if fact.txt and fact.txt.ok else [])
    if bl is not None and bl.closed:
        # A shut-down list answers nothing meaningful, whatever it answers.
        meaning = bl.codes[0].meaning if bl.codes else None
        return ctx.not_applicable(subject, ev, outcome="closed", operator=bl.operator,
                                  meaning=_lang(meaning) if meaning else "", **params)
    if ans.outcome.is_failure:
        return ctx.dns_not_tested(subject, ans)
    if ans.outcome.is_void:
        if ipv6 and ipv6_coverage(zone) == "unknown":
            # The query was answered, so this stays a PASS; but many lists answer NXDOMAIN to
            # every IPv6 query, and the reader must know this one may be such a list.
            ev.append(IPV6_UNDOCUMENTED.format(zone=zone))
        return ctx.passed(subject, ev, **params)
    codes = sorted(ans.records, key=lambda c: (len(c), c))
    outside = [c for c in codes if ipaddress.ip_address(c) not in ipaddress.ip_network("127.0.0.0/8")]
    if outside:
        # RFC 5782 §2.1: list entries answer in 127.0.0.0/8. Anything else is a resolver that
        # rewrites NXDOMAIN (ad or search pages), so the answer proves nothing.
        return ctx.not_tested(subject, Reason("reason.dnsbl_refused", {
            "zone": zone, "code": ", ".join(outside), "meaning": {
                "de": "Antwort außerhalb von 127.0.0.0/8, der Resolver schreibt NXDOMAIN um",
                "en": "answer outside 127.0.0.0/8, the resolver rewrites NXDOMAIN"}}), ev, **params)
    meanings = [(c, meaning_of(zone, c)) for c in codes]
    refused = [(c, m) for c, m in meanings if m.klass == "refused"]
    if refused:
        code, m = refused[0]
        return ctx.not_tested(subject, Reason("reason.dnsbl_refused", {"zone": zone, "code": code,
                                                                       "meaning": _lang(m.meaning)}), ev, **params)
    listed = [(c, m) for c, m in meanings if m.klass not in NOT_LISTINGS and m.severity is not None]
    if not listed:
        code, m = meanings[0]
        return ctx.passed(subject, ev, outcome="rated", codes=", ".join(codes), meaning=_lang(m.meaning), **params)
    code, worst = max(listed, key=lambda cm: cm[1].severity.rank)  # type: ignore[union-attr]
    said = fact.txt.texts[0] if fact.txt and fact.txt.ok and fact.txt.texts else ""
    # The sub-list's name (SBL, PBL) is part of the meaning text, in the report's language.
    return ctx.fail(subject, LISTED_OUTCOMES[worst.severity], ev,  # type: ignore[index]
                    codes=", ".join(codes),
                    meaning=_lang(worst.meaning), remediation=_lang(worst.remediation),
                    text={"de": f" Angabe der Liste: „{said}“", "en": f" The list says: \"{said}\""} if said else "",
                    delisting={"de": f" Austragung: {bl.delisting}", "en": f" Delisting: {bl.delisting}"}
                    if bl and bl.delisting else "", **params)
