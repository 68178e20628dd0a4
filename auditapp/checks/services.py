"""Checks over the service probes: reachability, dialogues, TLS, relay, layout (knowledge base R10-R12).

Every check looks only at endpoints that belong to the role being judged (port 25 on MX
addresses, 587/465 on submission hosts, 143/993/110/995 on mailbox hosts); services answering
elsewhere are SERVICE-UNEXPECTED-PORT's business. A dialogue that could not finish is
``not_tested`` with its reason: a server that drops or tarpits the auditor is not failing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from auditapp.checks.identity import helo_syntax_problem
from auditapp.checks.registry import CheckContext, check
from auditapp.checks.tlscert import cert_covers, days_left, parse_time
from auditapp.collectors.service_facts import (
    CLIENT_SERVICES,
    IMPLICIT_TLS,
    Discovery,
    EndpointProbe,
    PortState,
    Role,
)
from auditapp.core.model import Finding, Reason
from auditapp.data.providers import Provider

ROLE_SERVICES = {
    Role.MX: ("smtp",),
    Role.SUBMISSION: ("submission", "submissions"),
    Role.MAILBOX: ("imap", "imaps", "pop3", "pop3s"),
}
NEEDS = ("discovery", "services")
#: Layout checks also ask who runs the mail: a hosted provider's host layout is not the customer's.
NEEDS_HOSTING = ("discovery", "services", "hosting")
#: Certificate checks also look at the MTA-STS policy: enforce mode makes port 25 certificates matter.
NEEDS_STS = ("discovery", "services", "mta_sts_policy")


# -- helpers over the facts --------------------------------------------------------------

def _disc(ctx: CheckContext) -> Discovery:
    return ctx.facts.discovery  # type: ignore[return-value]


def _probes(ctx: CheckContext) -> dict[tuple[str, int, str], EndpointProbe]:
    return ctx.facts.services or {}


def roles_at(disc: Discovery, address: str) -> set[Role]:
    return {r for h in disc.hosts if address in h.addresses for r in h.roles}


def names_at(disc: Discovery, address: str, role: Role | None = None) -> list[str]:
    return [h.name for h in disc.hosts if address in h.addresses and (role is None or role in h.roles)]


def role_endpoints(ctx: CheckContext, role: Role, services: tuple[str, ...] | None = None) -> list[EndpointProbe]:
    """Probes of the given services on addresses that play ``role``, in a stable order."""
    wanted = services or ROLE_SERVICES[role]
    disc = _disc(ctx)
    out = [p for p in _probes(ctx).values() if p.service in wanted and role in roles_at(disc, p.address)]
    return sorted(out, key=lambda p: (p.address, p.port))


def expected_role(disc: Discovery, probe: EndpointProbe) -> Role | None:
    roles = roles_at(disc, probe.address)
    for role in (Role.MX, Role.SUBMISSION, Role.MAILBOX):
        if role in roles and probe.service in ROLE_SERVICES[role]:
            return role
    return None


def _evidence(probe: EndpointProbe) -> tuple[str, ...]:
    return probe.transcript or (f"{probe.endpoint} {probe.service}: {probe.state.value} {probe.state_detail}",)


def _dialogue_not_tested(ctx: CheckContext, probe: EndpointProbe) -> Finding:
    return ctx.not_tested(probe.endpoint, Reason("reason.dialogue", {"endpoint": probe.endpoint,
                                                                      "problem": probe.problem}),
                          _evidence(probe))


def _not_listening(ctx: CheckContext, probe: EndpointProbe, **params: object) -> Finding:
    """A port-level check on a port that did not open.

    Only a refused connection (RST in answer to the SYN) is a closed port, on which the
    check has nothing to judge. A timeout, a reset after the handshake or any other connect
    error says nothing about the service: not tested, with the reason.
    """
    if probe.state is PortState.REFUSED:
        return ctx.not_applicable(probe.endpoint, _evidence(probe), **params)
    return ctx.not_tested(probe.endpoint, Reason("reason.dialogue", {
        "endpoint": probe.endpoint, "problem": probe.state_detail or probe.problem or probe.state.value}),
        _evidence(probe))


def hosted_by(ctx: CheckContext) -> Provider | None:
    """The mailbox provider that runs all of the domain's MX hosts, if the user named no own hosts.

    Its endpoints and host layout are the provider's business: nothing the customer could
    change, so no finding is reported against the customer for them.
    """
    hosting = ctx.facts.hosting
    provider = hosting.provider if hosting is not None else None
    if provider is None or provider.kind != "mailbox":
        return None
    if ctx.target.submission_hosts or ctx.target.mailbox_hosts:
        return None
    return provider


def _hosted(ctx: CheckContext, provider: Provider) -> Finding:
    hosting = ctx.facts.hosting
    assert hosting is not None
    endpoints = sorted({*provider.client_hosts("submission", hosting.match.matched),
                        *provider.client_hosts("mailbox", hosting.match.matched)})
    return ctx.not_applicable(ctx.domain, [f"MX: {', '.join(hosting.mx_hosts)}", provider.documentation],
                              outcome="hosted", provider=provider.name, endpoints=", ".join(endpoints) or "-",
                              documentation=provider.documentation, domain=ctx.domain)


def _params(probe: EndpointProbe, **more: object) -> dict[str, object]:
    return {"endpoint": probe.endpoint, "service": probe.service, **more}


def _auth_mechs(caps: tuple[str, ...]) -> list[str]:
    mechs: list[str] = []
    for cap in caps:
        words = cap.upper().replace("=", " ").split()
        if words and words[0] == "AUTH":
            mechs += words[1:]
    return mechs


# -- reachability and greeting -----------------------------------------------------------

@check("SMTP-UNREACHABLE", needs=NEEDS)
def smtp_unreachable(ctx: CheckContext) -> Iterator[Finding]:
    disc = _disc(ctx)
    probes = role_endpoints(ctx, Role.MX)
    if not disc.hosts_with(Role.MX):
        if disc.mx is not None and disc.mx.outcome.is_failure:
            yield ctx.dns_not_tested(ctx.domain, disc.mx)
        else:
            yield ctx.not_applicable(ctx.domain, [disc.mx.evidence()] if disc.mx else [])
        return
    for host in disc.hosts_with(Role.MX):
        if not host.addresses:
            failed = _host_lookup_failure(host)
            if failed is not None:
                yield ctx.dns_not_tested(host.name, failed)  # type: ignore[arg-type]
            else:
                yield ctx.fail(host.name, "no_address", [a.evidence() for a in (host.a, host.aaaa) if a],
                               host=host.name, endpoint=host.name, detail="")
    any_open = any(p.state is PortState.OPEN for p in probes)
    for p in probes:
        host = ", ".join(names_at(disc, p.address, Role.MX))
        params = _params(p, host=host, detail=p.state_detail)
        if p.state is PortState.OPEN:
            yield ctx.passed(p.endpoint, _evidence(p), **params)
        elif p.state is PortState.REFUSED:
            yield ctx.fail(p.endpoint, "refused", _evidence(p), **params)
        elif p.state is PortState.TIMEOUT and not any_open:
            # Nothing answers on 25 anywhere: most likely our own network blocks outbound 25.
            yield ctx.not_tested(p.endpoint, Reason("reason.port25_filtered"), _evidence(p), **params)
        elif p.state is PortState.TIMEOUT:
            yield ctx.fail(p.endpoint, "filtered", _evidence(p), **params)
        elif p.state is PortState.UNREACHABLE:
            yield ctx.fail(p.endpoint, "unreachable", _evidence(p), **params)
        else:  # a local error (or the test guard): nothing was learned about the server
            yield ctx.not_tested(p.endpoint, Reason("reason.dialogue", {"endpoint": p.endpoint,
                                                                         "problem": p.state_detail or p.problem}),
                                 _evidence(p))


def _greeting_domain(greeting: str) -> str:
    m = re.match(r"^\d{3}[ -](\S+)", greeting)
    return m.group(1) if m else ""


@check("SMTP-BANNER", needs=NEEDS)
def smtp_banner(ctx: CheckContext) -> Iterator[Finding]:
    for p in role_endpoints(ctx, Role.MX):
        params = _params(p, greeting=p.greeting or "-", ms=round(p.greeting_ms or 0))
        if p.state is not PortState.OPEN:
            yield _not_listening(ctx, p, **params)
        elif not p.greeting or not re.match(r"^\d{3}(?:[ -]|$)", p.greeting):
            # No greeting, or bytes that are not SMTP at all: this says nothing about the banner.
            yield _dialogue_not_tested(ctx, replace(p, problem=p.problem or "greeting is not an SMTP reply"))
        elif p.greeting.startswith(("554", "421")):
            # RFC 5321 §3.1: 554 = no service for this client, 421 = shedding load: it is about us.
            yield ctx.not_tested(p.endpoint, Reason("reason.session_refused", {"endpoint": p.endpoint,
                                                                               "greeting": p.greeting[:80]}),
                                 _evidence(p))
        elif not p.greeting.startswith("220"):
            yield ctx.fail(p.endpoint, "not_220", _evidence(p), **params)
        elif helo_syntax_problem(_greeting_domain(p.greeting)):
            yield ctx.fail(p.endpoint, "not_fqdn", _evidence(p), **params)
        else:
            yield ctx.passed(p.endpoint, _evidence(p), **params)


# -- STARTTLS and AUTH ---------------------------------------------------------------------

def _starttls_endpoints(ctx: CheckContext) -> list[EndpointProbe]:
    return role_endpoints(ctx, Role.MX) + role_endpoints(ctx, Role.SUBMISSION, ("submission",))


@check("STARTTLS-MISSING", needs=NEEDS)
def starttls_missing(ctx: CheckContext) -> Iterator[Finding]:
    for p in _starttls_endpoints(ctx):
        if p.state is not PortState.OPEN:
            yield _not_listening(ctx, p, **_params(p))
        elif p.starttls_offered is None:
            yield _dialogue_not_tested(ctx, p)
        elif not p.starttls_offered:
            outcome = "missing_submission" if p.service == "submission" else "missing"
            yield ctx.fail(p.endpoint, outcome, _evidence(p), **_params(p))
        elif p.tls is not None and not p.tls.ok and p.tls.chain_valid is False:
            # The handshake got as far as the certificate check: the server does speak TLS; the
            # certificate is TLS-CERT-UNTRUSTED's business.
            yield ctx.passed(p.endpoint, _evidence(p), **_params(p, version=p.tls.version or "TLS"))
        elif p.tls is None or not p.tls.ok:
            if p.tls is not None and p.tls.error and not p.tls.timed_out:
                yield ctx.fail(p.endpoint, "handshake_failed", _evidence(p), **_params(p, error=p.tls.error))
            else:
                yield _dialogue_not_tested(ctx, p)
        else:
            yield ctx.passed(p.endpoint, _evidence(p), **_params(p, version=p.tls.version))


@check("AUTH-WITHOUT-TLS", needs=NEEDS)
def auth_without_tls(ctx: CheckContext) -> Iterator[Finding]:
    for p in _starttls_endpoints(ctx):
        if p.state is not PortState.OPEN:
            yield _not_listening(ctx, p, **_params(p))
        elif not p.caps_plain:
            yield _dialogue_not_tested(ctx, p)
        else:
            clear = [m for m in _auth_mechs(p.caps_plain) if m in ("PLAIN", "LOGIN")]
            if clear:
                yield ctx.fail(p.endpoint, "auth_in_clear", _evidence(p), **_params(p, auth="AUTH " + " ".join(clear)))
            else:
                yield ctx.passed(p.endpoint, _evidence(p), **_params(p))


# -- submission ----------------------------------------------------------------------------

def _host_lookup_failure(host: object) -> object | None:
    """The failed A/AAAA lookup of a host without addresses, if one failed (not tested, not "absent")."""
    for ans in (getattr(host, "a", None), getattr(host, "aaaa", None)):
        if ans is not None and ans.outcome.is_failure:
            return ans
    return None


def _host_probes(ctx: CheckContext, host_addresses: tuple[str, ...], service: str) -> list[EndpointProbe]:
    return [p for p in _probes(ctx).values() if p.address in host_addresses and p.service == service]


@check("SUBMISSION-MISSING", needs=NEEDS_HOSTING)
def submission_missing(ctx: CheckContext) -> Iterator[Finding]:
    provider = hosted_by(ctx)
    if provider is not None:
        yield _hosted(ctx, provider)
        return
    hosts = _disc(ctx).hosts_with(Role.SUBMISSION)
    if not hosts:
        yield ctx.not_applicable(ctx.domain, domain=ctx.domain)
        return
    for host in hosts:
        probes = _host_probes(ctx, host.addresses, "submission") + _host_probes(ctx, host.addresses, "submissions")
        ev = [line for p in probes for line in _evidence(p)[:3]]
        open_ = sorted({f"{p.port} ({p.service})" for p in probes if p.state is PortState.OPEN})
        if open_:
            yield ctx.passed(host.name, ev, host=host.name, ports=", ".join(open_))
        elif not host.addresses:
            failed = _host_lookup_failure(host)
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
    for host in _disc(ctx).hosts_with(Role.SUBMISSION):
        p587 = [p for p in _host_probes(ctx, host.addresses, "submission") if p.state is PortState.OPEN]
        p465 = [p for p in _host_probes(ctx, host.addresses, "submissions") if p.state is PortState.OPEN]
        if p465:
            yield ctx.passed(host.name, _evidence(p465[0]), host=host.name, endpoint=p465[0].endpoint)
        elif p587:
            yield ctx.fail(host.name, "missing", _evidence(p587[0]), host=host.name)
        else:
            yield ctx.not_applicable(host.name, host=host.name)


def _submission_endpoints(ctx: CheckContext) -> list[EndpointProbe]:
    return [p for p in role_endpoints(ctx, Role.SUBMISSION) if p.state is PortState.OPEN]


@check("SUBMISSION-AUTH-MISSING", needs=NEEDS)
def submission_auth_missing(ctx: CheckContext) -> Iterator[Finding]:
    for p in _submission_endpoints(ctx):
        if p.tls is None or not p.tls.ok:
            if p.problem:
                yield _dialogue_not_tested(ctx, p)
            else:
                yield ctx.not_applicable(p.endpoint, _evidence(p), **_params(p))
            continue
        mechs = _auth_mechs(p.caps_tls)
        if mechs:
            yield ctx.passed(p.endpoint, _evidence(p), **_params(p, auth="AUTH " + " ".join(mechs)))
        elif p.caps_tls:
            yield ctx.fail(p.endpoint, "missing", _evidence(p), **_params(p))
        else:
            yield _dialogue_not_tested(ctx, p)


@check("SUBMISSION-NO-AUTH-RELAY", needs=NEEDS)
def submission_no_auth_relay(ctx: CheckContext) -> Iterator[Finding]:
    for p in _submission_endpoints(ctx):
        relay = p.relay
        if relay is None or relay.accepted is None:
            yield ctx.not_tested(p.endpoint, Reason("reason.dialogue", {
                "endpoint": p.endpoint, "problem": (relay.problem if relay else "") or p.problem or "no relay probe"}),
                _evidence(p))
        elif relay.accepted:
            yield ctx.fail(p.endpoint, "accepted", _evidence(p), **_params(p, rcpt=relay.rcpt_to, reply=relay.reply))
        else:
            yield ctx.passed(p.endpoint, _evidence(p), **_params(p, rcpt=relay.rcpt_to, reply=relay.reply))


@check("OPEN-RELAY", needs=NEEDS)
def open_relay(ctx: CheckContext) -> Iterator[Finding]:
    for p in role_endpoints(ctx, Role.MX):
        if p.state is not PortState.OPEN:
            yield _not_listening(ctx, p, **_params(p))
        elif not ctx.target.relay_test:
            yield ctx.not_tested(p.endpoint, Reason("reason.relay_test_off"), _evidence(p)[:2])
        elif p.relay is None or p.relay.accepted is None:
            problem = (p.relay.problem if p.relay else "") or p.problem or "no relay probe"
            yield ctx.not_tested(p.endpoint, Reason("reason.dialogue", {"endpoint": p.endpoint, "problem": problem}),
                                 _evidence(p))
        elif p.relay.accepted:
            yield ctx.fail(p.endpoint, "accepted", _evidence(p), **_params(
                p, rcpt=p.relay.rcpt_to, mail_from=p.relay.mail_from, reply=p.relay.reply))
        else:
            yield ctx.passed(p.endpoint, _evidence(p), **_params(p, reply=p.relay.reply))


@check("SUBMISSION-SENDER-SPOOFING", needs=NEEDS)
def submission_sender_spoofing(ctx: CheckContext) -> Iterator[Finding]:
    if not ctx.target.account:
        yield ctx.not_applicable(ctx.domain)
        return
    for p in _submission_endpoints(ctx):
        auth = p.auth
        params = _params(p, user=ctx.target.account)
        if auth is None and p.problem:
            yield _dialogue_not_tested(ctx, p)
        elif auth is None:
            yield ctx.not_tested(p.endpoint, Reason("reason.no_password", {"user": ctx.target.account}), _evidence(p))
        elif auth.login_ok is False:
            yield ctx.not_tested(p.endpoint, Reason("reason.login_failed", {
                "user": auth.username, "reply": auth.login_reply or auth.problem or "-"}), _evidence(p))
        elif auth.login_ok is None:
            # Not attempted (credentials are only sent over verified TLS) or undetermined.
            yield ctx.not_tested(p.endpoint, Reason("reason.dialogue", {
                "endpoint": p.endpoint, "problem": auth.problem or "login not attempted"}), _evidence(p))
        elif auth.foreign_sender_accepted is None:
            yield ctx.not_tested(p.endpoint, Reason("reason.dialogue", {"endpoint": p.endpoint,
                                                                         "problem": auth.problem or "-"}), _evidence(p))
        elif auth.foreign_sender_accepted:
            yield ctx.fail(p.endpoint, "accepted", _evidence(p), sender=auth.foreign_sender, reply=auth.foreign_reply,
                           **params)
        else:
            yield ctx.passed(p.endpoint, _evidence(p), sender=auth.foreign_sender, reply=auth.foreign_reply, **params)


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
    cleartext = [p for p in _probes(ctx).values() if p.service in ("imap", "pop3")]
    for p in sorted(cleartext, key=lambda p: (p.address, p.port)):
        if p.state in (PortState.ERROR, PortState.UNREACHABLE):
            yield ctx.not_tested(p.endpoint, Reason("reason.dialogue", {"endpoint": p.endpoint,
                                                                         "problem": p.state_detail or p.problem}))
            continue
        if p.state is not PortState.OPEN:
            continue  # a closed cleartext port is exactly what we want; nothing to report per port
        if not p.caps_plain:
            yield _dialogue_not_tested(ctx, p)
            continue
        why = plaintext_login_why(p)
        if why:
            yield ctx.fail(p.endpoint, "plaintext", _evidence(p), **_params(p, why=why))
        else:
            yield ctx.passed(p.endpoint, _evidence(p), **_params(p))
    disc = _disc(ctx)
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
    hosts = _disc(ctx).hosts_with(Role.MAILBOX)
    if not hosts:
        yield ctx.not_applicable(ctx.domain)
    for host in hosts:
        probes = [p for p in _probes(ctx).values() if p.address in host.addresses
                  and p.service in ROLE_SERVICES[Role.MAILBOX] and p.state is PortState.OPEN]
        with_tls = sorted({f"{p.port} ({p.service})" for p in probes if p.tls is not None and p.tls.ok})
        if with_tls:
            yield ctx.passed(host.name, [line for p in probes for line in _evidence(p)[:2]], host=host.name,
                             ports=", ".join(with_tls))
        elif not probes and _host_lookup_failure(host) is not None:
            yield ctx.dns_not_tested(host.name, _host_lookup_failure(host))  # type: ignore[arg-type]
        elif not probes:
            yield ctx.not_applicable(host.name)
        elif any(p.problem for p in probes):
            yield _dialogue_not_tested(ctx, next(p for p in probes if p.problem))
        else:
            yield ctx.fail(host.name, "missing", [line for p in probes for line in _evidence(p)[:3]],
                           host=host.name, addresses=", ".join(host.addresses))


# -- TLS certificates and versions ---------------------------------------------------------

def tls_endpoints(ctx: CheckContext, *, untrusted_too: bool = False) -> list[tuple[EndpointProbe, Role]]:
    """Endpoints that completed a TLS handshake in the role they are meant to serve.

    ``untrusted_too`` adds endpoints whose handshake stopped at certificate verification (the
    certificate could then not be read on a second connection): the chain verdict still stands.
    """
    disc = _disc(ctx)
    out = []
    for p in sorted(_probes(ctx).values(), key=lambda p: (p.address, p.port)):
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
    names = names_at(_disc(ctx), p.address, Role.MX)
    return any(sts_pattern_matches(pat, n) for n in names for pat in policy.mx_patterns)


def _mx_outcome(ctx: CheckContext, p: EndpointProbe, client: str, mx: str) -> str:
    if _is_client(p):
        return client
    return mx + "_sts" if _sts_enforced_for(ctx, p) else mx


@check("TLS-LEGACY-PROTOCOL", needs=NEEDS)
def tls_legacy_protocol(ctx: CheckContext) -> Iterator[Finding]:
    for p, _role in tls_endpoints(ctx):
        tls = p.tls
        assert tls is not None
        if not tls.legacy_tested:
            yield ctx.not_tested(p.endpoint, Reason("reason.legacy_untested", {"problem": tls.legacy_problem or "-"}),
                                 _evidence(p))
        elif tls.legacy_accepted:
            outcome = "legacy_client" if _is_client(p) else "legacy_mx"
            yield ctx.fail(p.endpoint, outcome, _evidence(p), **_params(p, versions=", ".join(tls.legacy_accepted)))
        else:
            yield ctx.passed(p.endpoint, _evidence(p), **_params(p))


@check("TLS-CERT-NAME", needs=NEEDS_STS)
def tls_cert_name(ctx: CheckContext) -> Iterator[Finding]:
    disc = _disc(ctx)
    for p, role in tls_endpoints(ctx):
        cert = p.tls.cert if p.tls else None
        names = names_at(disc, p.address, role)
        if cert is None or not names:
            yield ctx.not_applicable(p.endpoint, _evidence(p), **_params(p))
            continue
        uncovered = [n for n in names if not cert_covers(cert, n)]
        san = ", ".join(cert.san_dns + cert.san_ip) or cert.subject
        if uncovered:
            outcome = _mx_outcome(ctx, p, "mismatch_client", "mismatch_mx")
            yield ctx.fail(p.endpoint, outcome, _evidence(p), **_params(p, host=uncovered[0], san=san))
        else:
            yield ctx.passed(p.endpoint, _evidence(p), **_params(p, host=", ".join(names)))


@check("TLS-CERT-EXPIRED", needs=NEEDS_STS)
def tls_cert_expired(ctx: CheckContext) -> Iterator[Finding]:
    disc = _disc(ctx)
    for p, role in tls_endpoints(ctx):
        cert = p.tls.cert if p.tls else None
        if cert is None:
            yield ctx.not_applicable(p.endpoint, _evidence(p), **_params(p))
            continue
        params = _params(p, not_after=cert.not_after, not_before=cert.not_before,
                         host=", ".join(names_at(disc, p.address, role)))
        if parse_time(cert.not_after) < ctx.now:
            yield ctx.fail(p.endpoint, _mx_outcome(ctx, p, "expired_client", "expired_mx"), _evidence(p), **params)
        elif parse_time(cert.not_before) > ctx.now:
            yield ctx.fail(p.endpoint, "not_yet_valid", _evidence(p), **params)
        else:
            yield ctx.passed(p.endpoint, _evidence(p), **params)


@check("TLS-CERT-EXPIRING", needs=NEEDS)
def tls_cert_expiring(ctx: CheckContext) -> Iterator[Finding]:
    disc = _disc(ctx)
    for p, role in tls_endpoints(ctx):
        cert = p.tls.cert if p.tls else None
        if cert is None or parse_time(cert.not_after) < ctx.now:
            yield ctx.not_applicable(p.endpoint, _evidence(p), **_params(p))
            continue
        days = int(days_left(cert, ctx.now))
        params = _params(p, days=days, not_after=cert.not_after, host=", ".join(names_at(disc, p.address, role)))
        if days < ctx.target.cert_warn_days:
            yield ctx.fail(p.endpoint, "expiring", _evidence(p), **params)
        else:
            yield ctx.passed(p.endpoint, _evidence(p), **params)


@check("TLS-CERT-UNTRUSTED", needs=NEEDS_STS)
def tls_cert_untrusted(ctx: CheckContext) -> Iterator[Finding]:
    for p, _role in tls_endpoints(ctx, untrusted_too=True):
        tls = p.tls
        assert tls is not None
        issuer = tls.cert.issuer if tls.cert else "-"
        if tls.chain_valid is None:
            yield _dialogue_not_tested(ctx, p) if p.problem else ctx.not_tested(
                p.endpoint, Reason("reason.dialogue", {"endpoint": p.endpoint, "problem": "chain not validated"}))
        elif tls.chain_valid:
            yield ctx.passed(p.endpoint, _evidence(p), **_params(p, issuer=issuer))
        else:
            outcome = _mx_outcome(ctx, p, "untrusted_client", "untrusted_mx")
            yield ctx.fail(p.endpoint, outcome, _evidence(p), **_params(p, error=tls.chain_error or "-"))


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
    disc = _disc(ctx)
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


# -- layout --------------------------------------------------------------------------------

@check("SERVICE-NAMES", needs=NEEDS_HOSTING)
def service_names(ctx: CheckContext) -> Iterator[Finding]:
    provider = hosted_by(ctx)
    if provider is not None:
        yield _hosted(ctx, provider)
        return
    disc = _disc(ctx)
    clients = [h for h in disc.hosts if Role.SUBMISSION in h.roles or Role.MAILBOX in h.roles]
    ev = [a.evidence() for a in disc.srv] + list(disc.notes)
    if clients:
        hosts = "; ".join(f"{h.name} ({', '.join(h.sources)})" for h in clients)
        yield ctx.passed(ctx.domain, ev, hosts=hosts, domain=ctx.domain)
    elif disc.failures:
        yield ctx.not_tested(ctx.domain, Reason("reason.discovery_failed", {"what": disc.failures[0].reason}), ev)
    else:
        yield ctx.fail(ctx.domain, "missing", ev, domain=ctx.domain)


@check("SERVICE-SHARED-MX", needs=NEEDS_HOSTING)
def service_shared_mx(ctx: CheckContext) -> Iterator[Finding]:
    provider = hosted_by(ctx)
    if provider is not None:
        yield _hosted(ctx, provider)
        return
    disc = _disc(ctx)
    mx_hosts = disc.hosts_with(Role.MX)
    mx_addresses = {a: h.name for h in mx_hosts for a in h.addresses}
    subs = disc.hosts_with(Role.SUBMISSION)
    if not mx_hosts or not subs:
        yield ctx.not_applicable(ctx.domain, domain=ctx.domain)
        return
    unresolved = [h for h in [*mx_hosts, *subs] if not h.addresses and _host_lookup_failure(h) is not None]
    if unresolved:
        yield ctx.dns_not_tested(ctx.domain, _host_lookup_failure(unresolved[0]))  # type: ignore[arg-type]
        return
    for host in subs:
        shared = [a for a in host.addresses if a in mx_addresses]
        if shared:
            yield ctx.fail(host.name, "shared", [], submission=host.name, mx=mx_addresses[shared[0]],
                           addresses=", ".join(shared), domain=ctx.domain)
        else:
            yield ctx.passed(host.name, [], submission=host.name, mx=", ".join(h.name for h in mx_hosts),
                             domain=ctx.domain)


@check("SERVICE-UNEXPECTED-PORT", needs=NEEDS)
def service_unexpected_port(ctx: CheckContext) -> Iterator[Finding]:
    disc = _disc(ctx)
    by_address: dict[str, list[EndpointProbe]] = {}
    for p in _probes(ctx).values():
        by_address.setdefault(p.address, []).append(p)
    for address, probes in sorted(by_address.items()):
        roles = roles_at(disc, address)
        expected = {s for r in roles for s in ROLE_SERVICES[r]}
        # A name that is both MX and mail.* may legitimately answer everywhere; only judge
        # services that no role of this address explains.
        stray = [p for p in probes if p.state is PortState.OPEN and p.service not in expected]
        hosts = ", ".join(names_at(disc, address))
        role_text = ", ".join(sorted(r.value for r in roles))
        for p in sorted(stray, key=lambda p: p.port):
            yield ctx.fail(p.endpoint, "unexpected", _evidence(p)[:3], **_params(p, hosts=hosts, roles=role_text))
        if not stray:
            open_services = sorted(p.service for p in probes if p.state is PortState.OPEN)
            yield ctx.passed(address, [], address=address, services=", ".join(open_services) or "-")


__all__ = ["IMPLICIT_TLS", "plaintext_login_why", "sts_pattern_matches"]
