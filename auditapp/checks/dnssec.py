"""DNSSEC of the domain, its MX zones and the records the mail verdicts rest on (issue 16, knowledge base B5).

The verdicts come from auditapp's own validation (``facts.dnssec``, see
:mod:`auditapp.collectors.dnssec_collect`), never from a resolver's AD bit. ``not_tested``
stays ``not_tested`` with its reason (timeout, SERVFAIL, no DNSSEC data): a failed lookup is
never called bogus or unsigned.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditapp.checks.registry import CheckContext, check
from auditapp.collectors.dnssec_types import DnssecFacts, NameSecurity, Security
from auditapp.core.model import Finding, Reason
from auditapp.core.problem import Problem

#: RFC 8624 §3.1: RSA/SHA-1 (5) and RSASHA1-NSEC3-SHA1 (7) are NOT RECOMMENDED for signing.
SHA1_ALGORITHMS = {5: "RSASHA1", 7: "RSASHA1-NSEC3-SHA1"}
MIN_RSA_BITS = 2048


def _facts(ctx: CheckContext) -> DnssecFacts | None:
    return ctx.facts.dnssec  # type: ignore[no-any-return]


def _missing_facts(ctx: CheckContext) -> Finding:
    return ctx.not_tested(ctx.domain, Reason("reason.dependency",
                                             {"what": Problem("problem.dnssec.not_run",
                                                              "DNSSEC was not validated in this run")}),
                          zone=ctx.domain)


def _not_tested(ctx: CheckContext, subject: str, ns: NameSecurity) -> Finding:
    what = ns.reason or Problem("problem.dnssec.incomplete", "DNSSEC validation did not complete")
    rrset = Problem("problem.dnssec.rrset", "DNSSEC {name}/{rdtype}: {reason}", name=ns.name, rdtype=ns.rdtype,
                    reason=what)
    return ctx.not_tested(subject, Reason("reason.dependency", {"what": rrset}), ns.evidence,
                          zone=ns.insecure_at or ns.zone or subject)


def _mx_hosts(facts: DnssecFacts, domain: str) -> list[str]:
    return [name for name, rdtype in facts.names if rdtype == "A" and name != domain]


def _host_status(facts: DnssecFacts, host: str) -> NameSecurity | None:
    a, aaaa = facts.status(host, "A"), facts.status(host, "AAAA")
    for ns in (a, aaaa):
        if ns is not None and ns.security is not Security.NOT_TESTED:
            return ns
    return a or aaaa


@check("DNSSEC-MISSING", needs=("dnssec",))
def dnssec_missing(ctx: CheckContext) -> Iterator[Finding]:
    facts = _facts(ctx)
    if facts is None:
        yield _missing_facts(ctx)
        return
    domain = ctx.domain.rstrip(".").lower()
    subjects: list[tuple[str, NameSecurity | None, str]] = [(domain, facts.status(domain, "SOA"), "domain")]
    seen_zones = set()
    dom = subjects[0][1]
    if dom is not None and dom.security is not Security.NOT_TESTED:
        seen_zones.add(dom.insecure_at or dom.zone)
    for host in _mx_hosts(facts, domain):
        ns = _host_status(facts, host)
        zone = (ns.insecure_at or ns.zone) if ns is not None else ""
        if ns is not None and ns.security is not Security.NOT_TESTED and zone in seen_zones:
            continue  # the MX lives in a zone already judged (usually the domain's own)
        seen_zones.add(zone)
        subjects.append((host, ns, "mx"))
    for subject, ns, kind in subjects:
        if ns is None:
            yield ctx.not_tested(subject, Reason("reason.dependency", {"what": Problem(
                "problem.dnssec.no_result", "no DNSSEC result for {subject}", subject=subject)}), zone=subject)
        elif ns.security is Security.NOT_TESTED:
            yield _not_tested(ctx, subject, ns)
        elif ns.security is Security.INSECURE:
            yield ctx.fail(subject, f"{kind}_unsigned", ns.evidence, host=subject, zone=ns.insecure_at or ns.zone,
                           reason=ns.reason)
        elif ns.security is Security.BOGUS:
            yield ctx.not_applicable(subject, ns.evidence, outcome="bogus", host=subject, zone=ns.zone)
        else:
            yield ctx.passed(subject, ns.evidence, host=subject, zone=ns.zone)


@check("DNSSEC-BOGUS", needs=("dnssec",))
def dnssec_bogus(ctx: CheckContext) -> Iterator[Finding]:
    facts = _facts(ctx)
    if facts is None:
        yield _missing_facts(ctx)
        return
    results = list(facts.names.values())
    if results and all(ns.security is Security.NOT_TESTED for ns in results):
        yield _not_tested(ctx, ctx.domain, results[0])
        return
    bogus = [ns for ns in results if ns.security is Security.BOGUS]
    for ns in bogus:
        yield ctx.fail(f"{ns.name}/{ns.rdtype}", "bogus", ns.evidence, name=ns.name, rdtype=ns.rdtype,
                       zone=ns.zone, reason=ns.reason)
    for ns in results:
        if ns.security is Security.NOT_TESTED and ns.reason and not bogus:
            yield _not_tested(ctx, f"{ns.name}/{ns.rdtype}", ns)
    if bogus:
        return
    secure = [ns for ns in results if ns.security is Security.SECURE]
    if secure:
        lines = [f"{ns.name}/{ns.rdtype}: {ns.security.value}" + (f" ({ns.nonexistent})" if ns.nonexistent else "")
                 for ns in results]
        yield ctx.passed(ctx.domain, [secure[0].evidence[0], *lines], count=len(secure), zone=secure[0].zone)
    elif any(ns.security is Security.INSECURE for ns in results):
        yield ctx.not_applicable(ctx.domain, [ns.reason for ns in results if ns.reason][:3], outcome="unsigned",
                                 zone=ctx.domain)


@check("DNSSEC-WEAK-ALGORITHM", needs=("dnssec",))
def dnssec_weak_algorithm(ctx: CheckContext) -> Iterator[Finding]:
    facts = _facts(ctx)
    if facts is None:
        yield _missing_facts(ctx)
        return
    zones: dict[str, NameSecurity] = {}
    for ns in facts.names.values():
        if ns.security is Security.SECURE and ns.zone and ns.zone not in zones:
            zones[ns.zone] = ns
    if not zones:
        untested = [ns for ns in facts.names.values() if ns.security is Security.NOT_TESTED]
        if untested and len(untested) == len(facts.names):
            yield _not_tested(ctx, ctx.domain, untested[0])
        else:
            yield ctx.not_applicable(ctx.domain, outcome="not_applicable", zone=ctx.domain)
        return
    for zone, ns in sorted(zones.items()):
        algs = ", ".join(str(a) for a in ns.zone_algorithms)
        evidence = [f"{zone}: DNSKEY algorithms {algs}; smallest RSA key "
                    f"{ns.zone_min_rsa_bits or '-'} bits", *ns.evidence[1:]]
        weak = [f"{a} ({SHA1_ALGORITHMS[a]})" for a in ns.zone_algorithms if a in SHA1_ALGORITHMS]
        if weak:
            yield ctx.fail(zone, "sha1", evidence, zone=zone, algorithms=", ".join(weak))
        elif ns.zone_min_rsa_bits and ns.zone_min_rsa_bits < MIN_RSA_BITS:
            yield ctx.fail(zone, "short_rsa", evidence, zone=zone, bits=ns.zone_min_rsa_bits)
        else:
            yield ctx.passed(zone, evidence, zone=zone, algorithms=algs)
