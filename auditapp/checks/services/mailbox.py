"""Mailbox access (IMAP, POP3): no login in clear text, TLS offered (R12, RFC 8314)."""

from __future__ import annotations

from collections.abc import Iterator

from auditapp.checks.registry import CheckContext, check
from auditapp.checks.services.base import (
    NEEDS,
    ROLE_SERVICES,
    dialogue_not_tested,
    discovery_of,
    lookup_not_tested,
    probe_evidence,
    probe_params,
    probes_of,
)
from auditapp.collectors.service_facts import EndpointProbe, PortState, Role
from auditapp.core.model import Finding, Reason


def plaintext_login_why(p: EndpointProbe) -> str:
    """Why a cleartext IMAP/POP3 port lets clients log in before TLS, or ``""``."""
    caps = {c.upper() for c in p.caps_plain}
    if p.service == "imap":
        if "STARTTLS" not in caps:
            return "no STARTTLS, so every login is in clear text"
        sasl = [c for c in caps if c in ("AUTH=PLAIN", "AUTH=LOGIN")]
        if sasl:
            return f"{', '.join(sorted(sasl))} advertised before STARTTLS"
        if "LOGINDISABLED" not in caps:
            return "LOGINDISABLED is missing before STARTTLS"
        return ""
    if "STLS" not in caps:
        return "no STLS, so every login is in clear text"
    if "USER" in caps:
        return "USER offered before STLS"
    mechs = [m for c in caps if c.startswith("SASL") for m in c.split()[1:] if m in ("PLAIN", "LOGIN")]
    if mechs:
        return f"SASL {' '.join(mechs)} offered before STLS"
    return ""


@check("MAILBOX-PLAINTEXT-LOGIN", needs=NEEDS)
def mailbox_plaintext_login(ctx: CheckContext) -> Iterator[Finding]:
    cleartext = [p for p in probes_of(ctx).values() if p.service in ("imap", "pop3")]
    for p in sorted(cleartext, key=lambda p: (p.address, p.port)):
        if p.state in (PortState.ERROR, PortState.UNREACHABLE):
            yield dialogue_not_tested(ctx, p, p.state_detail or p.problem, evidence=())
            continue
        if p.state is not PortState.OPEN:
            continue  # a closed cleartext port is exactly what we want; nothing to report per port
        if not p.caps_plain:
            yield dialogue_not_tested(ctx, p)
            continue
        why = plaintext_login_why(p)
        if why:
            yield ctx.fail(p.endpoint, "plaintext", probe_evidence(p), **probe_params(p, why=why))
        else:
            yield ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p))
    disc = discovery_of(ctx)
    mailbox = disc.hosts_with(Role.MAILBOX)
    closed = [p for p in cleartext if p.state in (PortState.REFUSED, PortState.TIMEOUT)]
    if any(p.state is PortState.OPEN for p in cleartext) or any(
            p.state in (PortState.ERROR, PortState.UNREACHABLE) for p in cleartext):
        return
    if mailbox and closed and any(h.addresses for h in mailbox):
        yield ctx.passed(ctx.domain, outcome="pass", endpoint="143/110", service="imap/pop3")
    elif disc.failures:
        yield ctx.not_tested(ctx.domain, Reason("reason.discovery_failed", {"what": disc.failures[0].reason}))
    else:
        yield ctx.not_applicable(ctx.domain, endpoint="143/110", service="imap/pop3")


@check("MAILBOX-TLS-MISSING", needs=NEEDS)
def mailbox_tls_missing(ctx: CheckContext) -> Iterator[Finding]:
    hosts = discovery_of(ctx).hosts_with(Role.MAILBOX)
    if not hosts:
        yield ctx.not_applicable(ctx.domain)
    for host in hosts:
        probes = [p for p in probes_of(ctx).values() if p.address in host.addresses
                  and p.service in ROLE_SERVICES[Role.MAILBOX] and p.state is PortState.OPEN]
        with_tls = sorted({f"{p.port} ({p.service})" for p in probes if p.tls is not None and p.tls.ok})
        if with_tls:
            yield ctx.passed(host.name, [line for p in probes for line in probe_evidence(p)[:2]], host=host.name,
                             ports=", ".join(with_tls))
        elif not probes:
            yield lookup_not_tested(ctx, host) or ctx.not_applicable(host.name)
        elif any(p.problem for p in probes):
            yield dialogue_not_tested(ctx, next(p for p in probes if p.problem))
        else:
            yield ctx.fail(host.name, "missing", [line for p in probes for line in probe_evidence(p)[:3]],
                           host=host.name, addresses=", ".join(host.addresses))
