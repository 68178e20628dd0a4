"""Mail submission for clients: a port at all, implicit TLS, AUTH on it (R11, RFC 6409, RFC 8314)."""

from __future__ import annotations

from collections.abc import Iterator

from auditapp.checks.registry import CheckContext, check
from auditapp.checks.services.base import (
    NEEDS,
    NEEDS_HOSTING,
    SUBMISSION_PORTS,
    address_evidence,
    auth_mechs,
    dialogue_not_tested,
    discovery_of,
    host_probes,
    lookup_not_tested,
    per_endpoint,
    probe_evidence,
    probe_params,
    unless_hosted,
)
from auditapp.collectors.service_facts import EndpointProbe, PortState, Role
from auditapp.core.model import Finding, Reason


@check("SUBMISSION-MISSING", needs=NEEDS_HOSTING)
@unless_hosted
def submission_missing(ctx: CheckContext) -> Iterator[Finding]:
    hosts = discovery_of(ctx).hosts_with(Role.SUBMISSION)
    if not hosts:
        yield ctx.not_applicable(ctx.domain, domain=ctx.domain)
        return
    for host in hosts:
        probes = host_probes(ctx, host.addresses, "submission", "submissions")
        ev = [line for p in probes for line in probe_evidence(p)[:3]]
        open_ = sorted({f"{p.port} ({p.service})" for p in probes if p.state is PortState.OPEN})
        if open_:
            yield ctx.passed(host.name, ev, host=host.name, ports=", ".join(open_))
        elif not host.addresses:
            yield lookup_not_tested(ctx, host) or ctx.not_applicable(host.name, address_evidence(host))
        elif any(p.state in (PortState.ERROR, PortState.UNREACHABLE) for p in probes):
            bad = next(p for p in probes if p.state in (PortState.ERROR, PortState.UNREACHABLE))
            why = {"endpoint": bad.endpoint, "problem": bad.state_detail or bad.problem}
            yield ctx.not_tested(host.name, Reason("reason.dialogue", why), ev)
        elif probes and all(p.state is PortState.TIMEOUT for p in probes):
            yield ctx.not_tested(host.name, Reason("reason.host_silent", {"host": host.name}), ev)
        else:
            yield ctx.fail(host.name, "missing", ev, host=host.name, addresses=", ".join(host.addresses))


@check("SUBMISSION-IMPLICIT-TLS-MISSING", needs=NEEDS)
def submission_implicit_tls_missing(ctx: CheckContext) -> Iterator[Finding]:
    for host in discovery_of(ctx).hosts_with(Role.SUBMISSION):
        p587 = [p for p in host_probes(ctx, host.addresses, "submission") if p.state is PortState.OPEN]
        p465 = [p for p in host_probes(ctx, host.addresses, "submissions") if p.state is PortState.OPEN]
        if p465:
            yield ctx.passed(host.name, probe_evidence(p465[0]), host=host.name, endpoint=p465[0].endpoint)
        elif p587:
            yield ctx.fail(host.name, "missing", probe_evidence(p587[0]), host=host.name)
        else:
            yield ctx.not_applicable(host.name, host=host.name)


@check("SUBMISSION-AUTH-MISSING", needs=NEEDS)
@per_endpoint(SUBMISSION_PORTS)
def submission_auth_missing(ctx: CheckContext, p: EndpointProbe) -> Finding:
    if p.tls is None or not p.tls.ok:
        if p.problem:
            return dialogue_not_tested(ctx, p)
        return ctx.not_applicable(p.endpoint, probe_evidence(p), **probe_params(p))
    mechs = auth_mechs(p.caps_tls)
    if mechs:
        return ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p, auth="AUTH " + " ".join(mechs)))
    if p.caps_tls:
        return ctx.fail(p.endpoint, "missing", probe_evidence(p), **probe_params(p))
    return dialogue_not_tested(ctx, p)
