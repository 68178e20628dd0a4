"""Port 25 and STARTTLS: is the MX reachable, how does it greet, does it offer TLS before AUTH (R10, R11)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditapp.checks.registry import CheckContext, check
from auditapp.checks.services.base import (
    MX_PORTS,
    NEEDS,
    STARTTLS_PORTS,
    address_evidence,
    auth_mechs,
    dialogue_not_tested,
    discovery_of,
    lookup_not_tested,
    names_at,
    per_endpoint,
    probe_evidence,
    probe_params,
)
from auditapp.collectors.probes.parsing import limits_connections
from auditapp.collectors.service_facts import EndpointProbe, PortState, Role
from auditapp.core.dnsnames import helo_syntax_problem
from auditapp.core.model import Finding, Reason


@check("SMTP-UNREACHABLE", needs=NEEDS)
def smtp_unreachable(ctx: CheckContext) -> Iterator[Finding]:
    # This rule judges the port state itself, so it walks MX_PORTS instead of using per_endpoint.
    disc = discovery_of(ctx)
    probes = MX_PORTS.endpoints(ctx)
    if not disc.hosts_with(Role.MX):
        if disc.mx is not None and disc.mx.outcome.is_failure:
            yield ctx.dns_not_tested(ctx.domain, disc.mx)
        else:
            yield ctx.not_applicable(ctx.domain, [disc.mx.evidence()] if disc.mx else [])
        return
    for host in disc.hosts_with(Role.MX):
        if not host.addresses:
            yield lookup_not_tested(ctx, host) or ctx.fail(host.name, "no_address", address_evidence(host),
                                                           host=host.name, endpoint=host.name, detail="")
    any_open = any(p.state is PortState.OPEN for p in probes)
    for p in probes:
        host = ", ".join(names_at(disc, p.address, Role.MX))
        params = probe_params(p, host=host, detail=p.state_detail)
        if p.state is PortState.OPEN:
            yield ctx.passed(p.endpoint, probe_evidence(p), **params)
        elif p.state is PortState.REFUSED:
            yield ctx.fail(p.endpoint, "refused", probe_evidence(p), **params)
        elif p.state is PortState.TIMEOUT and not any_open:
            # Nothing answers on 25 anywhere: most likely our own network blocks outbound 25.
            yield ctx.not_tested(p.endpoint, Reason("reason.port25_filtered"), probe_evidence(p), **params)
        elif p.state is PortState.TIMEOUT:
            yield ctx.fail(p.endpoint, "filtered", probe_evidence(p), **params)
        elif p.state is PortState.UNREACHABLE:
            yield ctx.fail(p.endpoint, "unreachable", probe_evidence(p), **params)
        else:  # a local error (or the test guard): nothing was learned about the server
            yield dialogue_not_tested(ctx, p, p.state_detail or p.problem)


def _greeting_domain(greeting: str) -> str:
    m = re.match(r"^\d{3}[ -](\S+)", greeting, re.ASCII)
    return m.group(1) if m else ""


def _banner_params(p: EndpointProbe) -> dict[str, object]:
    return probe_params(p, greeting=p.greeting or "-", ms=round(p.greeting_ms or 0))


@check("SMTP-BANNER", needs=NEEDS)
@per_endpoint(MX_PORTS, params=_banner_params)
def smtp_banner(ctx: CheckContext, p: EndpointProbe) -> Finding:
    if not p.greeting or not re.match(r"^\d{3}(?:[ -]|$)", p.greeting, re.ASCII):
        # No greeting, or bytes that are not SMTP at all: this says nothing about the banner.
        return dialogue_not_tested(ctx, p, p.problem or "greeting is not an SMTP reply")
    if p.greeting.startswith(("554", "421")):
        # RFC 5321 §3.1: 554 = no service for this client, 421 = shedding load: it is about us. A
        # connection limit has a remedy of its own (a pause between connections), so it says so.
        key = "reason.connection_limit" if limits_connections(p.greeting) else "reason.session_refused"
        return ctx.not_tested(p.endpoint, Reason(key, {"endpoint": p.endpoint, "greeting": p.greeting[:80]}),
                              probe_evidence(p))
    if not p.greeting.startswith("220"):
        return ctx.fail(p.endpoint, "not_220", probe_evidence(p), **_banner_params(p))
    if helo_syntax_problem(_greeting_domain(p.greeting)):
        return ctx.fail(p.endpoint, "not_fqdn", probe_evidence(p), **_banner_params(p))
    return ctx.passed(p.endpoint, probe_evidence(p), **_banner_params(p))


# -- STARTTLS and AUTH ---------------------------------------------------------------------

@check("STARTTLS-MISSING", needs=NEEDS)
@per_endpoint(STARTTLS_PORTS)
def starttls_missing(ctx: CheckContext, p: EndpointProbe) -> Finding:
    if p.starttls_offered is None:
        return dialogue_not_tested(ctx, p)
    if not p.starttls_offered:
        outcome = "missing_submission" if p.service == "submission" else "missing"
        return ctx.fail(p.endpoint, outcome, probe_evidence(p), **probe_params(p))
    if p.tls is not None and not p.tls.ok and p.tls.chain_valid is False:
        # The handshake got as far as the certificate check: the server does speak TLS; the
        # certificate is TLS-CERT-UNTRUSTED's business.
        return ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p, version=p.tls.version or "TLS"))
    if p.tls is None or not p.tls.ok:
        if p.tls is not None and p.tls.error and not p.tls.timed_out:
            return ctx.fail(p.endpoint, "handshake_failed", probe_evidence(p), **probe_params(p, error=p.tls.error))
        return dialogue_not_tested(ctx, p)
    return ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p, version=p.tls.version))


@check("AUTH-WITHOUT-TLS", needs=NEEDS)
@per_endpoint(STARTTLS_PORTS)
def auth_without_tls(ctx: CheckContext, p: EndpointProbe) -> Finding:
    if not p.caps_plain:
        return dialogue_not_tested(ctx, p)
    clear = [m for m in auth_mechs(p.caps_plain) if m in ("PLAIN", "LOGIN")]
    if clear:
        return ctx.fail(p.endpoint, "auth_in_clear", probe_evidence(p),
                        **probe_params(p, auth="AUTH " + " ".join(clear)))
    return ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p))
