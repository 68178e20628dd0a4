"""TLS versions and certificates of the mail services, and the MTA-STS policy that makes port 25 certificates matter.

Certificates and TLS are judged in the role a port serves (knowledge base B3, B6, B7, R11):
a client port must present a valid certificate for the name clients use, port 25 only
matters that much once MTA-STS in enforce mode covers the MX.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from auditapp.checks.registry import CheckContext, CheckFn, check
from auditapp.checks.services.base import (
    NEEDS,
    NEEDS_STS,
    dialogue_not_tested,
    discovery_of,
    expected_role,
    names_at,
    probe_evidence,
    probe_params,
    probes_of,
)
from auditapp.checks.services.tlscert import cert_covers, days_left, parse_time
from auditapp.collectors.service_facts import CLIENT_SERVICES, CertInfo, EndpointProbe, PortState, Role
from auditapp.core.model import Finding, Reason


def tls_endpoints(ctx: CheckContext, *, untrusted_too: bool = False) -> list[tuple[EndpointProbe, Role]]:
    """Endpoints that completed a TLS handshake in the role they are meant to serve.

    ``untrusted_too`` adds endpoints whose handshake stopped at certificate verification (the
    certificate could then not be read on a second connection): the chain verdict still stands.
    """
    disc = discovery_of(ctx)
    out = []
    for p in sorted(probes_of(ctx).values(), key=lambda p: (p.address, p.port)):
        role = expected_role(disc, p)
        if role is None or p.state is not PortState.OPEN or p.tls is None:
            continue
        if p.tls.ok or (untrusted_too and p.tls.chain_valid is False):
            out.append((p, role))
    return out


def _is_client(p: EndpointProbe) -> bool:
    return p.service in CLIENT_SERVICES


def _sts_enforced_for(ctx: CheckContext, p: EndpointProbe) -> bool:
    """MTA-STS in enforce mode covers an MX name at this address: senders then validate its certificate.

    Without it, port 25 uses opportunistic TLS and a bad certificate is a minor matter
    (knowledge base B6); with it, the same certificate blocks inbound mail (B3).
    """
    policy = ctx.facts.mta_sts_policy
    if policy is None or not policy.fetched or policy.errors or policy.mode != "enforce":
        return False
    names = names_at(discovery_of(ctx), p.address, Role.MX)
    return any(sts_pattern_matches(pat, n) for n in names for pat in policy.mx_patterns)


def _mx_outcome(ctx: CheckContext, p: EndpointProbe, client: str, mx: str) -> str:
    if _is_client(p):
        return client
    return mx + "_sts" if _sts_enforced_for(ctx, p) else mx


#: Versions the TLS scan asks about that RFC 8996, RFC 7568 and RFC 6176 retired, oldest first.
SCAN_LEGACY = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1")


@check("TLS-LEGACY-PROTOCOL", needs=(*NEEDS, "tls_scan"))
def tls_legacy_protocol(ctx: CheckContext) -> Iterator[Finding]:
    scans = ctx.facts.tls_scan or {}
    for p, _role in tls_endpoints(ctx):
        tls = p.tls
        assert tls is not None
        scan = scans.get((p.address, p.port))
        if scan is not None and set(SCAN_LEGACY) <= set(scan.versions_tested):
            # The scan asked every old version itself, SSLv2 and SSLv3 included (issue 16).
            accepted = [v for v in SCAN_LEGACY if v in scan.versions]
            ev = [*probe_evidence(p), f"TLS scan: accepted {', '.join(scan.versions) or '-'}"]
            if any(v.startswith("SSL") for v in accepted):
                outcome = "ssl_client" if _is_client(p) else "ssl_mx"
                yield ctx.fail(p.endpoint, outcome, ev, **probe_params(p, versions=", ".join(accepted)))
            elif accepted:
                outcome = "legacy_client" if _is_client(p) else "legacy_mx"
                yield ctx.fail(p.endpoint, outcome, ev, **probe_params(p, versions=", ".join(accepted)))
            else:
                yield ctx.passed(p.endpoint, ev, **probe_params(p))
        elif not tls.legacy_tested:
            yield ctx.not_tested(p.endpoint, Reason("reason.legacy_untested", {"problem": tls.legacy_problem or "-"}),
                                 probe_evidence(p))
        elif tls.legacy_accepted:
            outcome = "legacy_client" if _is_client(p) else "legacy_mx"
            yield ctx.fail(p.endpoint, outcome, probe_evidence(p),
                           **probe_params(p, versions=", ".join(tls.legacy_accepted)))
        else:
            yield ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p))


# -- certificates --------------------------------------------------------------------------

#: How a certificate check judges the certificate one endpoint presented, against the host
#: names that point at the endpoint in its role (the names clients or senders ask for there).
CertJudge = Callable[[CheckContext, EndpointProbe, CertInfo, list[str]], Finding]


def _nothing_to_judge(ctx: CheckContext, p: EndpointProbe) -> Finding:
    return ctx.not_applicable(p.endpoint, probe_evidence(p), **probe_params(p))


def per_certificate(judge: CertJudge) -> CheckFn:
    """Make a check of ``judge`` over every TLS endpoint; one whose certificate was not read has nothing to judge."""

    @functools.wraps(judge)
    def check_each(ctx: CheckContext) -> Iterator[Finding]:
        disc = discovery_of(ctx)
        for p, role in tls_endpoints(ctx):
            cert = p.tls.cert if p.tls else None
            yield _nothing_to_judge(ctx, p) if cert is None else judge(ctx, p, cert, names_at(disc, p.address, role))

    return check_each


@check("TLS-CERT-NAME", needs=NEEDS_STS)
@per_certificate
def tls_cert_name(ctx: CheckContext, p: EndpointProbe, cert: CertInfo, names: list[str]) -> Finding:
    if not names:
        return _nothing_to_judge(ctx, p)
    uncovered = [n for n in names if not cert_covers(cert, n)]
    san = ", ".join(cert.san_dns + cert.san_ip) or cert.subject
    if uncovered:
        outcome = _mx_outcome(ctx, p, "mismatch_client", "mismatch_mx")
        return ctx.fail(p.endpoint, outcome, probe_evidence(p), **probe_params(p, host=uncovered[0], san=san))
    return ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p, host=", ".join(names)))


@check("TLS-CERT-EXPIRED", needs=NEEDS_STS)
@per_certificate
def tls_cert_expired(ctx: CheckContext, p: EndpointProbe, cert: CertInfo, names: list[str]) -> Finding:
    params = probe_params(p, not_after=cert.not_after, not_before=cert.not_before, host=", ".join(names))
    if parse_time(cert.not_after) < ctx.now:
        return ctx.fail(p.endpoint, _mx_outcome(ctx, p, "expired_client", "expired_mx"), probe_evidence(p), **params)
    if parse_time(cert.not_before) > ctx.now:
        return ctx.fail(p.endpoint, "not_yet_valid", probe_evidence(p), **params)
    return ctx.passed(p.endpoint, probe_evidence(p), **params)


@check("TLS-CERT-EXPIRING", needs=NEEDS)
@per_certificate
def tls_cert_expiring(ctx: CheckContext, p: EndpointProbe, cert: CertInfo, names: list[str]) -> Finding:
    if parse_time(cert.not_after) < ctx.now:
        return _nothing_to_judge(ctx, p)  # expired: TLS-CERT-EXPIRED's finding
    days = int(days_left(cert, ctx.now))
    params = probe_params(p, days=days, not_after=cert.not_after, host=", ".join(names))
    if days < ctx.target.cert_warn_days:
        return ctx.fail(p.endpoint, "expiring", probe_evidence(p), **params)
    return ctx.passed(p.endpoint, probe_evidence(p), **params)


@check("TLS-CERT-UNTRUSTED", needs=NEEDS_STS)
def tls_cert_untrusted(ctx: CheckContext) -> Iterator[Finding]:
    for p, _role in tls_endpoints(ctx, untrusted_too=True):
        tls = p.tls
        assert tls is not None
        issuer = tls.cert.issuer if tls.cert else "-"
        if tls.chain_valid is None:
            yield dialogue_not_tested(ctx, p) if p.problem else dialogue_not_tested(ctx, p, "chain not validated",
                                                                                    evidence=())
        elif tls.chain_valid:
            yield ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p, issuer=issuer))
        else:
            outcome = _mx_outcome(ctx, p, "untrusted_client", "untrusted_mx")
            yield ctx.fail(p.endpoint, outcome, probe_evidence(p), **probe_params(p, error=tls.chain_error or "-"))


# -- MTA-STS policy ------------------------------------------------------------------------

def sts_pattern_matches(pattern: str, host: str) -> bool:
    """RFC 8461 §4.1: ``*.example.com`` matches exactly one extra left-most label."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == pattern[2:]
    return pattern == host


@check("MTA-STS-POLICY", needs=("discovery", "mta_sts_policy", "mta_sts"))
def mta_sts_policy(ctx: CheckContext) -> Iterator[Finding]:
    policy = ctx.facts.mta_sts_policy
    txt = ctx.facts.mta_sts
    if policy is None:
        if txt is not None and txt.outcome.is_failure:
            yield ctx.dns_not_tested(ctx.domain, txt)
        else:
            yield ctx.not_applicable(ctx.domain, [txt.evidence()] if txt else [])
        return
    params = {"url": policy.url, "domain": ctx.domain, "mode": policy.mode or "-"}
    ev = [policy.url + (f" → HTTP {policy.status}" if policy.status else ""), *policy.text.splitlines()[:12]]
    if policy.dns_failure is not None:
        yield ctx.dns_not_tested(ctx.domain, policy.dns_failure)
        return
    if policy.local_error:
        yield ctx.not_tested(ctx.domain, Reason("reason.dialogue", {"endpoint": policy.url,
                                                                     "problem": policy.local_error}), ev)
        return
    if not policy.fetched and policy.silent:
        # Connected or not, nothing answered in time: a timeout is never a failing policy.
        yield ctx.not_tested(ctx.domain, Reason("reason.dialogue", {"endpoint": policy.url,
                                                                     "problem": policy.problem}), ev)
        return
    if not policy.fetched:
        yield ctx.fail(ctx.domain, "unreachable", ev, problem=policy.problem, **params)
        return
    if policy.errors:
        yield ctx.fail(ctx.domain, "invalid", ev, problem="; ".join(policy.errors), **params)
        return
    disc = discovery_of(ctx)
    mx = [h.name for h in disc.hosts_with(Role.MX)]
    if not mx and disc.mx is not None and disc.mx.outcome.is_failure:
        yield ctx.dns_not_tested(ctx.domain, disc.mx)
        return
    uncovered = [h for h in mx if not any(sts_pattern_matches(pat, h) for pat in policy.mx_patterns)]
    patterns = ", ".join(policy.mx_patterns) or "-"
    covered = [h for h in mx if h not in uncovered]
    if uncovered and policy.mode == "enforce" and not covered:
        yield ctx.fail(ctx.domain, "uncovered_all", ev, patterns=patterns, uncovered=", ".join(uncovered), **params)
    elif uncovered and policy.mode == "enforce":
        # Senders skip the uncovered MX and use the covered ones: degraded redundancy, not loss.
        yield ctx.fail(ctx.domain, "uncovered_enforce", ev, patterns=patterns, uncovered=", ".join(uncovered),
                       covered=", ".join(covered), **params)
    elif uncovered and policy.mode == "testing":
        yield ctx.fail(ctx.domain, "uncovered_testing", ev, patterns=patterns, uncovered=", ".join(uncovered), **params)
    else:
        yield ctx.passed(ctx.domain, ev, mx=", ".join(mx) or "-", max_age=policy.max_age, **params)
