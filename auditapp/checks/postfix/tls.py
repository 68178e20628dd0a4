"""TLS in Postfix: protocol versions, STARTTLS on the MX, SMTP smuggling, outbound TLS (knowledge base B6, B7, B9).

Only services that take mail from the network are judged: a content filter's loopback
re-injection port or an ``smtpd pass`` entry without postscreen is no MX, and a delivery
transport that only feeds a local filter (smtp-amavis) is no path to the Internet.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditapp.checks.postfix.base import (
    NEEDS,
    Scope,
    cites,
    dependency,
    fix_main,
    fix_service,
    fix_where,
    group_main_cf,
    kinds_of,
    scopes,
    unusable,
    with_config,
    with_services,
)
from auditapp.checks.registry import CheckContext, check
from auditapp.core.model import Finding, Reason
from auditapp.postfix import PostfixConfig
from auditapp.postfix.analysis import allowed_protocols, client_tls_level, server_tls
from auditapp.postfix.roles import Kind, filter_transports, front_proxy

PROTOCOL_FIX = "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"


def _inbound_scopes(cfg: PostfixConfig) -> list[Scope]:
    return scopes(cfg, [k.svc for k in kinds_of(cfg, Kind.MX)]) if cfg.has_master else [Scope(cfg, None)]


def _proxied(ctx: CheckContext, cfg: PostfixConfig, scope: Scope, evidence: tuple[str, ...]) -> Finding | None:
    """Not tested when a front proxy terminates TLS for this service (Postfix then offers none itself)."""
    proxy = front_proxy(cfg, scope.svc)
    if not proxy or server_tls(cfg, scope.svc).offered:
        return None
    return ctx.not_tested(scope.subject, Reason("reason.postfix_front_proxy", {"service": scope.label,
                                                                             "setting": proxy}),
                          (*evidence, proxy))


@check("PF-TLS-PROTOCOLS", needs=NEEDS)
@with_services
def tls_protocols(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    if cfg.has_master:
        roles = [(Scope(cfg, k.svc), "client") for k in kinds_of(cfg, Kind.SUBMISSION)]
        roles += [(s, "mx") for s in _inbound_scopes(cfg)]
        if not roles:
            yield ctx.not_applicable("postfix", outcome="no_services")
            return
    else:
        roles = [(Scope(cfg, None), "mx")]
    results: list[Finding] = []
    for scope, role in roles:
        tls = server_tls(cfg, scope.svc)
        proxied = _proxied(ctx, cfg, scope, (tls.deciding.cite(),))
        if proxied is not None:
            results.append(proxied)
            continue
        if not tls.offered:
            results.append(ctx.not_applicable(scope.subject, (tls.deciding.cite(),), outcome="no_tls",
                                              service=scope.label, setting=tls.deciding.cite()))
            continue
        # With mandatory TLS (encrypt, or implicit TLS on 465) smtpd uses the *_mandatory_* list.
        name = "smtpd_tls_mandatory_protocols" if tls.mandatory else "smtpd_tls_protocols"
        p = scope.get(name)
        allowed = allowed_protocols(p.expanded)
        if allowed is None or p.problems:
            results.append(unusable(ctx, scope.subject, p, "not a TLS protocol list"))
            continue
        if role == "client":
            # Client ports get their own -o: tightening main.cf would also reach port 25.
            fix = fix_service(scope.svc, (name, PROTOCOL_FIX)) if scope.svc else fix_main((name, PROTOCOL_FIX))
        else:
            fix = fix_where(scope, name, PROTOCOL_FIX)
        params = {"service": scope.label, "setting": cites(p, tls.deciding), "allowed": allowed or ["-"], "fix": fix}
        evidence = (p.cite(), tls.deciding.cite())
        if {"SSLv2", "SSLv3"} & set(allowed):
            results.append(ctx.fail(scope.subject, "sslv3", evidence, **params))
        elif {"TLSv1", "TLSv1.1"} & set(allowed):
            results.append(ctx.fail(scope.subject, "legacy_client" if role == "client" else "legacy_mx", evidence,
                                    **params))
        else:
            results.append(ctx.passed(scope.subject, evidence, **params))
    yield from group_main_cf(ctx, cfg, results, "smtpd_tls_protocols")


@check("PF-INBOUND-TLS", needs=NEEDS)
@with_services
def inbound_tls(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    judged = _inbound_scopes(cfg)
    if not judged:
        yield ctx.not_applicable("postfix")
        return
    results: list[Finding] = []
    for scope in judged:
        tls = server_tls(cfg, scope.svc)
        certs = [scope.get(n) for n in ("smtpd_tls_cert_file", "smtpd_tls_chain_files", "smtpd_tls_eccert_file")]
        has_cert = any(c.expanded.strip() for c in certs)
        evidence = (tls.deciding.cite(), *(c.cite() for c in certs))
        proxied = _proxied(ctx, cfg, scope, evidence)
        if proxied is not None:
            results.append(proxied)
            continue
        params = {"service": scope.label, "setting": tls.deciding.cite()}
        cert_fix = fix_main(("smtpd_tls_cert_file", "/path/to/fullchain.pem"),
                            ("smtpd_tls_key_file", "/path/to/privkey.pem"))
        if tls.mandatory:
            results.append(ctx.fail(scope.subject, "mx_requires_tls", evidence, fix=fix_where(
                scope, tls.deciding.name, "may" if "level" in tls.deciding.name else "no"), **params))
        elif not tls.offered:
            level_fix = fix_where(scope, "smtpd_tls_security_level", "may")
            results.append(ctx.fail(scope.subject, "off", evidence,
                                    fix=level_fix if has_cert else f"{level_fix}; {cert_fix}", **params))
        elif not has_cert:
            results.append(ctx.fail(scope.subject, "no_cert", evidence, fix=cert_fix, **params))
        else:
            results.append(ctx.passed(scope.subject, evidence, **params))
    yield from group_main_cf(ctx, cfg, results, "smtpd_tls_security_level")


@check("PF-SMUGGLING", needs=NEEDS)
@with_services
def smuggling(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    judged = _inbound_scopes(cfg)
    if not judged:
        yield ctx.not_applicable("postfix")
        return
    results: list[Finding] = []
    for scope in judged:
        p = scope.get("smtpd_forbid_bare_newline")
        params = {"service": scope.label, "setting": p.cite(), "version": cfg.version_text,
                  "fix": fix_where(scope, "smtpd_forbid_bare_newline", "normalize")}
        evidence = (p.cite(), cfg.get("mail_version").cite())
        if cfg.is_set("smtpd_forbid_bare_newline", scope.svc):
            if p.expanded.strip().lower() == "no":
                results.append(ctx.fail(scope.subject, "disabled", evidence, **params))
            else:
                results.append(ctx.passed(scope.subject, evidence, **params))
        elif cfg.version is None:
            results.append(dependency(ctx, scope.subject, "why.postfix_version_unknown", evidence))
        elif cfg.version < (3, 9):
            results.append(ctx.fail(scope.subject, "old_default", evidence, **params))
        else:
            results.append(ctx.passed(scope.subject, evidence, **params))
    yield from group_main_cf(ctx, cfg, results, "smtpd_forbid_bare_newline")


@check("PF-OUTBOUND-TLS", needs=NEEDS)
@with_config
def outbound_tls(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    knobs = {"smtp_tls_security_level", "smtp_use_tls", "smtp_enforce_tls"}
    # Transports that only feed a local content filter (smtp-amavis) never reach the Internet.
    feeds = filter_transports(cfg)
    extra = [s for s in cfg.smtp_client_services() if knobs & set(s.overrides) and s.name not in feeds]
    for scope in [Scope(cfg, None), *scopes(cfg, extra)]:
        level, deciding = client_tls_level(cfg, scope.svc)
        params = {"service": scope.label, "setting": cites(*deciding),
                  "fix": fix_where(scope, "smtp_tls_security_level", "may")}
        evidence = (*(p.cite() for p in deciding), cfg.get("compatibility_level").cite())
        if level in ("none", ""):
            yield ctx.fail(scope.subject, "off", evidence, **params)
        else:
            yield ctx.passed(scope.subject, evidence, **params)
