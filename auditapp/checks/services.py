"""Checks over the service probes: reachability, greeting, STARTTLS and AUTH, submission, mailbox access (R10-R12)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from auditapp.checks.endpoints import (
    NEEDS,
    NEEDS_HOSTING,
    ROLE_SERVICES,
    auth_mechs,
    dialogue_not_tested,
    discovery_of,
    host_lookup_failure,
    host_probes,
    names_at,
    not_listening,
    probe_evidence,
    probe_params,
    probes_of,
    role_endpoints,
)
from auditapp.checks.identity import helo_syntax_problem
from auditapp.checks.layout import hosted_by, hosted_result
from auditapp.checks.registry import CheckContext, check
from auditapp.collectors.service_facts import EndpointProbe, PortState, Role
from auditapp.core.model import Finding, Reason


@check("SMTP-UNREACHABLE", needs=NEEDS)
def smtp_unreachable(ctx: CheckContext) -> Iterator[Finding]:
    disc = discovery_of(ctx)
    probes = role_endpoints(ctx, Role.MX)
    if not disc.hosts_with(Role.MX):
        if disc.mx is not None and disc.mx.outcome.is_failure:
            yield ctx.dns_not_tested(ctx.domain, disc.mx)
        else:
            yield ctx.not_applicable(ctx.domain, [disc.mx.evidence()] if disc.mx else [])
        return
    for host in disc.hosts_with(Role.MX):
        if not host.addresses:
            failed = host_lookup_failure(host)
            if failed is not None:
                yield ctx.dns_not_tested(host.name, failed)  # type: ignore[arg-type]
            else:
                yield ctx.fail(host.name, "no_address", [a.evidence() for a in (host.a, host.aaaa) if a],
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
            yield ctx.not_tested(p.endpoint, Reason("reason.dialogue", {"endpoint": p.endpoint,
                                                                         "problem": p.state_detail or p.problem}),
                                 probe_evidence(p))


def _greeting_domain(greeting: str) -> str:
    m = re.match(r"^\d{3}[ -](\S+)", greeting, re.ASCII)
    return m.group(1) if m else ""


@check("SMTP-BANNER", needs=NEEDS)
def smtp_banner(ctx: CheckContext) -> Iterator[Finding]:
    for p in role_endpoints(ctx, Role.MX):
        params = probe_params(p, greeting=p.greeting or "-", ms=round(p.greeting_ms or 0))
        if p.state is not PortState.OPEN:
            yield not_listening(ctx, p, **params)
        elif not p.greeting or not re.match(r"^\d{3}(?:[ -]|$)", p.greeting, re.ASCII):
            # No greeting, or bytes that are not SMTP at all: this says nothing about the banner.
            yield dialogue_not_tested(ctx, replace(p, problem=p.problem or "greeting is not an SMTP reply"))
        elif p.greeting.startswith(("554", "421")):
            # RFC 5321 §3.1: 554 = no service for this client, 421 = shedding load: it is about us.
            yield ctx.not_tested(p.endpoint, Reason("reason.session_refused", {"endpoint": p.endpoint,
                                                                               "greeting": p.greeting[:80]}),
                                 probe_evidence(p))
        elif not p.greeting.startswith("220"):
            yield ctx.fail(p.endpoint, "not_220", probe_evidence(p), **params)
        elif helo_syntax_problem(_greeting_domain(p.greeting)):
            yield ctx.fail(p.endpoint, "not_fqdn", probe_evidence(p), **params)
        else:
            yield ctx.passed(p.endpoint, probe_evidence(p), **params)


# -- STARTTLS and AUTH ---------------------------------------------------------------------

def _starttls_endpoints(ctx: CheckContext) -> list[EndpointProbe]:
    return role_endpoints(ctx, Role.MX) + role_endpoints(ctx, Role.SUBMISSION, ("submission",))


@check("STARTTLS-MISSING", needs=NEEDS)
def starttls_missing(ctx: CheckContext) -> Iterator[Finding]:
    for p in _starttls_endpoints(ctx):
        if p.state is not PortState.OPEN:
            yield not_listening(ctx, p, **probe_params(p))
        elif p.starttls_offered is None:
            yield dialogue_not_tested(ctx, p)
        elif not p.starttls_offered:
            outcome = "missing_submission" if p.service == "submission" else "missing"
            yield ctx.fail(p.endpoint, outcome, probe_evidence(p), **probe_params(p))
        elif p.tls is not None and not p.tls.ok and p.tls.chain_valid is False:
            # The handshake got as far as the certificate check: the server does speak TLS; the
            # certificate is TLS-CERT-UNTRUSTED's business.
            yield ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p, version=p.tls.version or "TLS"))
        elif p.tls is None or not p.tls.ok:
            if p.tls is not None and p.tls.error and not p.tls.timed_out:
                yield ctx.fail(p.endpoint, "handshake_failed", probe_evidence(p), **probe_params(p, error=p.tls.error))
            else:
                yield dialogue_not_tested(ctx, p)
        else:
            yield ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p, version=p.tls.version))


@check("AUTH-WITHOUT-TLS", needs=NEEDS)
def auth_without_tls(ctx: CheckContext) -> Iterator[Finding]:
    for p in _starttls_endpoints(ctx):
        if p.state is not PortState.OPEN:
            yield not_listening(ctx, p, **probe_params(p))
        elif not p.caps_plain:
            yield dialogue_not_tested(ctx, p)
        else:
            clear = [m for m in auth_mechs(p.caps_plain) if m in ("PLAIN", "LOGIN")]
            if clear:
                yield ctx.fail(p.endpoint, "auth_in_clear", probe_evidence(p),
                               **probe_params(p, auth="AUTH " + " ".join(clear)))
            else:
                yield ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p))


# -- submission ----------------------------------------------------------------------------

@check("SUBMISSION-MISSING", needs=NEEDS_HOSTING)
def submission_missing(ctx: CheckContext) -> Iterator[Finding]:
    provider = hosted_by(ctx)
    if provider is not None:
        yield hosted_result(ctx, provider)
        return
    hosts = discovery_of(ctx).hosts_with(Role.SUBMISSION)
    if not hosts:
        yield ctx.not_applicable(ctx.domain, domain=ctx.domain)
        return
    for host in hosts:
        probes = host_probes(ctx, host.addresses, "submission") + host_probes(ctx, host.addresses, "submissions")
        ev = [line for p in probes for line in probe_evidence(p)[:3]]
        open_ = sorted({f"{p.port} ({p.service})" for p in probes if p.state is PortState.OPEN})
        if open_:
            yield ctx.passed(host.name, ev, host=host.name, ports=", ".join(open_))
        elif not host.addresses:
            failed = host_lookup_failure(host)
            if failed is not None:
                yield ctx.dns_not_tested(host.name, failed)
            else:
                yield ctx.not_applicable(host.name, [a.evidence() for a in (host.a, host.aaaa) if a])
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


def _submission_endpoints(ctx: CheckContext) -> list[EndpointProbe]:
    return [p for p in role_endpoints(ctx, Role.SUBMISSION) if p.state is PortState.OPEN]


@check("SUBMISSION-AUTH-MISSING", needs=NEEDS)
def submission_auth_missing(ctx: CheckContext) -> Iterator[Finding]:
    for p in _submission_endpoints(ctx):
        if p.tls is None or not p.tls.ok:
            if p.problem:
                yield dialogue_not_tested(ctx, p)
            else:
                yield ctx.not_applicable(p.endpoint, probe_evidence(p), **probe_params(p))
            continue
        mechs = auth_mechs(p.caps_tls)
        if mechs:
            yield ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p, auth="AUTH " + " ".join(mechs)))
        elif p.caps_tls:
            yield ctx.fail(p.endpoint, "missing", probe_evidence(p), **probe_params(p))
        else:
            yield dialogue_not_tested(ctx, p)


@check("SUBMISSION-NO-AUTH-RELAY", needs=NEEDS)
def submission_no_auth_relay(ctx: CheckContext) -> Iterator[Finding]:
    for p in _submission_endpoints(ctx):
        relay = p.relay
        if relay is None or relay.accepted is None:
            yield ctx.not_tested(p.endpoint, Reason("reason.dialogue", {
                "endpoint": p.endpoint, "problem": (relay.problem if relay else "") or p.problem or "no relay probe"}),
                probe_evidence(p))
        elif relay.accepted:
            yield ctx.fail(p.endpoint, "accepted", probe_evidence(p),
                           **probe_params(p, rcpt=relay.rcpt_to, reply=relay.reply))
        else:
            yield ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p, rcpt=relay.rcpt_to, reply=relay.reply))


@check("OPEN-RELAY", needs=NEEDS)
def open_relay(ctx: CheckContext) -> Iterator[Finding]:
    for p in role_endpoints(ctx, Role.MX):
        if p.state is not PortState.OPEN:
            yield not_listening(ctx, p, **probe_params(p))
        elif not ctx.target.relay_test:
            yield ctx.not_tested(p.endpoint, Reason("reason.relay_test_off"), probe_evidence(p)[:2])
        elif p.relay is None or p.relay.accepted is None:
            problem = (p.relay.problem if p.relay else "") or p.problem or "no relay probe"
            yield ctx.not_tested(p.endpoint, Reason("reason.dialogue", {"endpoint": p.endpoint, "problem": problem}),
                                 probe_evidence(p))
        elif p.relay.accepted:
            yield ctx.fail(p.endpoint, "accepted", probe_evidence(p), **probe_params(
                p, rcpt=p.relay.rcpt_to, mail_from=p.relay.mail_from, reply=p.relay.reply))
        else:
            yield ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p, reply=p.relay.reply))


@check("SUBMISSION-SENDER-SPOOFING", needs=NEEDS)
def submission_sender_spoofing(ctx: CheckContext) -> Iterator[Finding]:
    if not ctx.target.account:
        yield ctx.not_applicable(ctx.domain)
        return
    for p in _submission_endpoints(ctx):
        auth = p.auth
        params = probe_params(p, user=ctx.target.account)
        if auth is None and p.problem:
            yield dialogue_not_tested(ctx, p)
        elif auth is None:
            yield ctx.not_tested(p.endpoint, Reason("reason.no_password", {"user": ctx.target.account}),
                                 probe_evidence(p))
        elif auth.login_ok is False:
            yield ctx.not_tested(p.endpoint, Reason("reason.login_failed", {
                "user": auth.username, "reply": auth.login_reply or auth.problem or "-"}), probe_evidence(p))
        elif auth.login_ok is None:
            # Not attempted (credentials are only sent over verified TLS) or undetermined.
            yield ctx.not_tested(p.endpoint, Reason("reason.dialogue", {
                "endpoint": p.endpoint, "problem": auth.problem or "login not attempted"}), probe_evidence(p))
        elif auth.foreign_sender_accepted is None:
            yield ctx.not_tested(p.endpoint, Reason("reason.dialogue", {"endpoint": p.endpoint,
                                                                         "problem": auth.problem or "-"}),
                                 probe_evidence(p))
        elif auth.foreign_sender_accepted:
            yield ctx.fail(p.endpoint, "accepted", probe_evidence(p), sender=auth.foreign_sender,
                           reply=auth.foreign_reply, **params)
        else:
            yield ctx.passed(p.endpoint, probe_evidence(p), sender=auth.foreign_sender, reply=auth.foreign_reply,
                             **params)


# -- mailbox access ------------------------------------------------------------------------

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
            yield ctx.not_tested(p.endpoint, Reason("reason.dialogue", {"endpoint": p.endpoint,
                                                                         "problem": p.state_detail or p.problem}))
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
        elif not probes and host_lookup_failure(host) is not None:
            yield ctx.dns_not_tested(host.name, host_lookup_failure(host))  # type: ignore[arg-type]
        elif not probes:
            yield ctx.not_applicable(host.name)
        elif any(p.problem for p in probes):
            yield dialogue_not_tested(ctx, next(p for p in probes if p.problem))
        else:
            yield ctx.fail(host.name, "missing", [line for p in probes for line in probe_evidence(p)[:3]],
                           host=host.name, addresses=", ".join(host.addresses))
