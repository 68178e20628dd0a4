"""Checks over an imported Postfix configuration (knowledge base R2, R8-R11, B6-B9).

Each result cites the parameter, its effective value and its provenance (``{setting}``: a
file line, a postconf output line, or the Postfix default for the detected compatibility
level) and carries the exact ``postconf -e`` / ``postconf -P`` command as ``{fix}``.
Service-level rules look at every relevant master.cf service with its ``-o`` overrides;
without master.cf (only main.cf or ``postconf -n``) they say so instead of guessing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from auditapp.checks.identity import address_literal, helo_syntax_problem
from auditapp.checks.registry import CheckContext, check
from auditapp.core.model import Finding, Reason
from auditapp.postfix import MasterService, Param, PostfixConfig, PostfixLoadFailure
from auditapp.postfix.analysis import (
    allowed_protocols,
    auth_required_verdict,
    auth_services,
    client_tls_level,
    is_implicit_tls_port,
    judge_mynetworks,
    looks_like_scanner,
    looks_like_signer,
    milter_list,
    milters_disabled,
    mx_services,
    mynetworks_local_only,
    restriction_params,
    restrictions,
    server_tls,
    stranger_relay_verdict,
    submission_services,
    uses_permit_mynetworks,
)
from auditapp.postfix.defaults import format_duration, level_text

NEEDS = ("postfix",)
DAY = 86400
#: Message keys (``why.*`` in _messages.toml) for prerequisites an offline import cannot see.
NO_MASTER = "why.no_master"


# -- loading and scopes ----------------------------------------------------------------------

def with_config(fn: Callable[[CheckContext, PostfixConfig], Iterator[Finding]]) -> Callable[
        [CheckContext], Iterator[Finding]]:
    """Give a check the parsed configuration; without one, the check reports why it is not tested."""

    @functools.wraps(fn)
    def check_with_config(ctx: CheckContext) -> Iterator[Finding]:
        cfg = _config(ctx)
        if isinstance(cfg, Finding):
            yield cfg
            return
        yield from fn(ctx, cfg)

    return check_with_config


def _config(ctx: CheckContext) -> PostfixConfig | Finding:
    """The imported configuration, or the ``not_tested`` result that explains why there is none."""
    pf = ctx.facts.postfix
    if pf is None:
        return ctx.not_tested(ctx.domain, Reason("reason.no_postfix_config"))
    if isinstance(pf, PostfixConfig):
        return pf
    if isinstance(pf, PostfixLoadFailure):
        error = pf.error
    elif isinstance(pf, BaseException):
        error = str(pf) or type(pf).__name__
    else:
        error = f"unexpected import result {type(pf).__name__}"
    return ctx.not_tested(ctx.domain, Reason("reason.postfix_config_error", {"error": error}))


def _dependency(ctx: CheckContext, subject: str, what: str, evidence: tuple[str, ...] = ()) -> Finding:
    return ctx.not_tested(subject, Reason("reason.dependency", {"what": what}), evidence)


def _unusable(ctx: CheckContext, subject: str, p: Param, problem: str) -> Finding:
    """A value the audit cannot evaluate (bad syntax, unresolvable macro): ``not_tested`` naming it."""
    return ctx.not_tested(subject, Reason("reason.postfix_config_error", {"error": f"{p.cite()}: {problem}"}),
                          (p.cite(),))


@dataclass(frozen=True)
class Scope:
    """What one result is about: main.cf as a whole, or one master.cf service."""

    cfg: PostfixConfig
    svc: MasterService | None

    @property
    def subject(self) -> str:
        return f"postfix:{self.svc.key}" if self.svc else "postfix"

    @property
    def label(self) -> str:
        return f"{self.svc.key} [{self.svc.source}]" if self.svc else "main.cf"

    def get(self, name: str) -> Param:
        return self.cfg.get(name, self.svc)


def _scopes(cfg: PostfixConfig, services: list[MasterService]) -> list[Scope]:
    return [Scope(cfg, s) for s in services]


def _cites(*params: Param) -> str:
    return "; ".join(p.cite() for p in params)


def _fix_main(*pairs: tuple[str, str]) -> str:
    return "postconf -e " + " ".join(f"'{name} = {value}'" for name, value in pairs)


def _fix_service(svc: MasterService, *pairs: tuple[str, str]) -> str:
    return "postconf -P " + " ".join(f"'{svc.key}/{name}={value.replace(' ', '')}'" for name, value in pairs)


def _fix_where(scope: Scope, name: str, value: str) -> str:
    """Change the value where it comes from: the service's ``-o`` override, else main.cf."""
    if scope.svc is not None and name in scope.svc.overrides:
        return _fix_service(scope.svc, (name, value))
    return _fix_main((name, value))


def _worst(ctx: CheckContext, outcomes: list[str]) -> str:
    return max(outcomes, key=lambda o: ctx.rule.severity_for(o).rank)


# -- queue lifetimes (R8) ----------------------------------------------------------------------

def _time(ctx: CheckContext, cfg: PostfixConfig, name: str, unit: str) -> tuple[Param, int] | Finding:
    p = cfg.get(name)
    if p.unknown or p.problems:
        return _unusable(ctx, "postfix", p, "; ".join(p.problems) or "the value is unknown offline")
    try:
        return p, p.seconds(unit)
    except ValueError as exc:
        return _unusable(ctx, "postfix", p, str(exc))


@check("PF-QUEUE-LIFETIME", needs=NEEDS)
@with_config
def queue_lifetime(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    got = _time(ctx, cfg, "maximal_queue_lifetime", "d")
    if isinstance(got, Finding):
        yield got
        return
    p, secs = got
    params = {"setting": p.cite(), "duration": format_duration(secs),
              "fix": _fix_main(("maximal_queue_lifetime", "5d"))}
    if p.is_default:
        # A note (severity info), not an error: the default is RFC-conformant; the finding
        # carries the 2009 recommendation and why it is optional (knowledge base R8).
        yield ctx.fail("postfix", "default", (p.cite(),), **params)
    elif secs < DAY:
        yield ctx.fail("postfix", "very_short", (p.cite(),), **params)
    elif secs < 2 * DAY:
        yield ctx.fail("postfix", "one_day", (p.cite(),), **params)
    elif secs < 4 * DAY:
        # 2 to under 4 days (the seed's 3d): a documented local choice, a note (knowledge base R8).
        yield ctx.fail("postfix", "short", (p.cite(),), **params)
    else:
        yield ctx.passed("postfix", (p.cite(),), **params)


@check("PF-BOUNCE-LIFETIME", needs=NEEDS)
@with_config
def bounce_lifetime(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    got = _time(ctx, cfg, "bounce_queue_lifetime", "d")
    if isinstance(got, Finding):
        yield got
        return
    p, secs = got
    params = {"setting": p.cite(), "duration": format_duration(secs),
              "fix": _fix_main(("bounce_queue_lifetime", "1d"))}
    if secs <= DAY:
        yield ctx.passed("postfix", (p.cite(),), **params)
    else:
        yield ctx.fail("postfix", "long_default" if p.is_default else "long", (p.cite(),), **params)


@check("PF-DELAY-WARNING", needs=NEEDS)
@with_config
def delay_warning(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    got = _time(ctx, cfg, "delay_warning_time", "h")
    if isinstance(got, Finding):
        yield got
        return
    p, secs = got
    params = {"setting": p.cite(), "duration": format_duration(secs), "fix": _fix_main(("delay_warning_time", "4h"))}
    if secs == 0:
        yield ctx.fail("postfix", "off", (p.cite(),), **params)
    else:
        yield ctx.passed("postfix", (p.cite(),), **params)


# -- compatibility level and SMTPUTF8 (R8) -------------------------------------------------------

def _highest_level(version: tuple[int, ...]) -> tuple[int, ...] | None:
    """The newest compatibility level a Postfix version knows (levels that changed defaults)."""
    for since, level in (((3, 11), (3, 11)), ((3, 6), (3, 6)), ((3, 0), (2,))):
        if version >= since:
            return level
    return None


def _legacy_defaults(cfg: PostfixConfig) -> list[str]:
    """Legacy defaults kept by the configured level (only those knowledge base R8 documents)."""
    level, version = cfg.compatibility_level, cfg.version
    out: list[str] = []
    if level < (1,):
        out += ["smtputf8_enable = no", 'smtpd_relay_restrictions = ""']
    if level < (2,):
        out.append("mynetworks_style = subnet")
    if level < (3, 11) and version is not None and version >= (3, 11):
        out.append('smtp_tls_security_level = ""')
    return out or ["COMPATIBILITY_README"]


@check("PF-COMPAT-LEVEL", needs=NEEDS)
@with_config
def compat_level(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    p = cfg.get("compatibility_level")
    level = cfg.compatibility_level
    evidence = (p.cite(), cfg.get("mail_version").cite())
    if cfg.version is None:
        params = {"setting": p.cite(), "legacy": _legacy_defaults(cfg), "fix": _fix_main(("compatibility_level", "2"))}
        if level < (2,):
            yield ctx.fail("postfix", "legacy", evidence, **params)
        else:
            yield ctx.passed("postfix", evidence, outcome="pass_no_version", **params)
        return
    best = _highest_level(cfg.version)
    params = {"setting": p.cite(), "version": cfg.version_text, "legacy": _legacy_defaults(cfg),
              "recommended": level_text(best) if best else "-",
              "fix": _fix_main(("compatibility_level", level_text(best) if best else "2"))}
    if best is not None and level < best:
        yield ctx.fail("postfix", "below", evidence, **params)
    else:
        yield ctx.passed("postfix", evidence, **params)


@check("PF-SMTPUTF8", needs=NEEDS)
@with_config
def smtputf8(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    p = cfg.get("smtputf8_enable")
    params = {"setting": p.cite(), "fix": _fix_main(("smtputf8_enable", "yes"))}
    if p.flag():
        yield ctx.passed("postfix", (p.cite(),), **params)
    else:
        yield ctx.fail("postfix", "disabled", (p.cite(),), **params)


# -- HELO name (R2) ----------------------------------------------------------------------------------

def _helo_scopes(cfg: PostfixConfig) -> list[Scope]:
    """main.cf, plus SMTP delivery services that set their own HELO name or host name."""
    extra = [s for s in cfg.smtp_client_services() if {"smtp_helo_name", "myhostname"} & set(s.overrides)]
    return [Scope(cfg, None), *_scopes(cfg, extra)]


def helo_problem(name: str) -> str:
    """Why ``name`` is not usable as a public HELO name, or ``""``."""
    if address_literal(name):
        return "an address literal instead of a host name"
    if not name:
        return "empty"
    return helo_syntax_problem(name)


@check("PF-HELO-NAME", needs=NEEDS)
@with_config
def helo_name(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    for scope in _helo_scopes(cfg):
        p, host = scope.get("smtp_helo_name"), scope.get("myhostname")
        evidence = (p.cite(), host.cite())
        if p.unknown:
            yield _dependency(ctx, scope.subject, "why.myhostname_unknown", evidence)
            continue
        if p.problems:
            yield _unusable(ctx, scope.subject, p, "; ".join(p.problems))
            continue
        name = p.expanded.strip()
        example = f"mail.{ctx.domain}"
        # Fix the parameter the bad name comes from: smtp_helo_name itself, or myhostname behind it.
        target = "smtp_helo_name" if scope.cfg.is_set("smtp_helo_name", scope.svc) and "$" not in p.value \
            else "myhostname"
        params = {"service": scope.label, "setting": p.cite(), "name": name or '""',
                  "fix": _fix_where(scope, target, example)}
        why = helo_problem(name)
        if why:
            yield ctx.fail(scope.subject, "not_fqdn", evidence, why=why, **params)
        else:
            yield ctx.passed(scope.subject, evidence, **params)


# -- relay protection (B8) ---------------------------------------------------------------------------

RELAY_FIX = "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination"


def _relay_fix(scope: Scope) -> str:
    return _fix_where(scope, "smtpd_relay_restrictions", RELAY_FIX)


def _mynetworks_outcome(scope: Scope) -> tuple[str | None, dict[str, object], tuple[str, ...]]:
    """Judge what permit_mynetworks trusts: (outcome or None, params, evidence)."""
    mn, style = scope.get("mynetworks"), scope.get("mynetworks_style")
    if not mn.is_default:
        rep = judge_mynetworks(mn.expanded)
        wide = rep.any_address + rep.large_public
        evidence = (mn.cite(), *(f"not evaluated (file or table): {e}" for e in rep.unevaluated))
        params: dict[str, object] = {"setting": mn.cite(), "networks": wide,
                                     "fix": _fix_where(scope, "mynetworks", "127.0.0.0/8 [::1]/128")}
        return ("mynetworks_wide" if wide else None), params, evidence
    kind = style.expanded.strip().lower()
    params = {"setting": style.cite(), "fix": _fix_where(scope, "mynetworks_style", "host")}
    outcome = {"class": "style_class", "subnet": "style_subnet"}.get(kind)
    return outcome, params, (mn.cite(), style.cite())


@check("PF-OPEN-RELAY-CONFIG", needs=NEEDS)
@with_config
def open_relay_config(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    if cfg.has_master:
        scopes = _scopes(cfg, [s for s in cfg.smtpd_services() if not s.loopback_only])
        if not scopes:
            yield ctx.not_applicable("postfix", [f"{s.key} [{s.source}]" for s in cfg.smtpd_services()])
            return
    else:
        scopes = [Scope(cfg, None)]
    for scope in scopes:
        lists = restriction_params(cfg, scope.svc)
        evidence = tuple(p.cite() for p in lists)
        denial = None
        for p in lists:
            verdict = stranger_relay_verdict(restrictions(p.expanded))
            if verdict.denies:
                denial = f"{verdict.decided_by} ({p.name})"
                evidence += tuple(f"not evaluated (may permit): {u}" for u in verdict.unevaluated)
                break
        if denial is None:
            relay_lists = [p for p in lists if p.name in ("smtpd_relay_restrictions", "smtpd_recipient_restrictions")]
            yield ctx.fail(scope.subject, "open_relay", evidence, service=scope.label, setting=_cites(*relay_lists),
                           fix=_relay_fix(scope))
            continue
        if uses_permit_mynetworks(lists):
            outcome, params, more = _mynetworks_outcome(scope)
        else:
            outcome, params, more = None, {"setting": "permit_mynetworks not used"}, ()
        params.update(service=scope.label, denial=denial)
        if outcome:
            yield ctx.fail(scope.subject, outcome, evidence + more, **params)
        else:
            yield ctx.passed(scope.subject, evidence + more, **params)


# -- submission: authentication and TLS (R10) -------------------------------------------------------

def _tls_fix(svc: MasterService) -> tuple[str, str]:
    return ("smtpd_tls_wrappermode", "yes") if is_implicit_tls_port(svc) else ("smtpd_tls_security_level", "encrypt")


def _auth_state(cfg: PostfixConfig, svc: MasterService) -> tuple[Param | None, list[str], Param | None]:
    """(list that makes AUTH mandatory, exemptions of the best partial list, that partial list)."""
    partial: tuple[Param, list[str]] | None = None
    for p in restriction_params(cfg, svc):
        verdict = auth_required_verdict(restrictions(p.expanded))
        if not verdict.denies:
            continue
        exemptions = [e for e in verdict.exemptions
                      if not (e == "permit_mynetworks" and mynetworks_local_only(cfg, svc))]
        if not exemptions:
            return p, [], None
        if partial is None:
            partial = (p, exemptions)
    return None, (partial[1] if partial else []), (partial[0] if partial else None)


@check("PF-SUBMISSION-NO-AUTH", needs=NEEDS)
@with_config
def submission_no_auth(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    if not cfg.has_master:
        yield _dependency(ctx, "postfix", NO_MASTER)
        return
    subs = submission_services(cfg)
    if not subs:
        yield ctx.not_applicable("postfix", [f"{s.key} [{s.source}]" for s in cfg.smtpd_services()])
        return
    for svc in subs:
        scope = Scope(cfg, svc)
        sasl, auth_only = svc.effective("smtpd_sasl_auth_enable"), svc.effective("smtpd_tls_auth_only")
        required, exemptions, partial = _auth_state(cfg, svc)
        tls = server_tls(cfg, svc)
        relay = svc.effective("smtpd_relay_restrictions")
        problems: list[str] = []
        fixes: list[tuple[str, str]] = []
        if required is None and partial is None:
            problems.append("no_auth")
            fixes += [("smtpd_sasl_auth_enable", "yes"),
                      ("smtpd_relay_restrictions", "permit_sasl_authenticated,reject")]
        elif required is None:
            problems.append("auth_exempt")
            fixes.append((partial.name if partial else "smtpd_relay_restrictions", "permit_sasl_authenticated,reject"))
        elif not sasl.flag():
            problems.append("sasl_disabled")
        if problems and not sasl.flag() and ("smtpd_sasl_auth_enable", "yes") not in fixes:
            fixes.insert(0, ("smtpd_sasl_auth_enable", "yes"))
        if not tls.mandatory:
            problems.append("tls_optional" if auth_only.flag() else "tls_optional_clear")
            fixes.append(_tls_fix(svc))
        shown = [sasl, required or partial or relay, tls.deciding]
        evidence = tuple(p.cite() for p in (sasl, *restriction_params(cfg, svc), tls.deciding, auth_only))
        params = {"service": scope.label, "setting": _cites(*shown), "exemptions": exemptions,
                  "fix": _fix_service(svc, *fixes) if fixes else "-"}
        if problems:
            yield ctx.fail(scope.subject, _worst(ctx, problems), evidence, **params)
        else:
            yield ctx.passed(scope.subject, evidence, **params)


@check("PF-AUTH-WITHOUT-TLS", needs=NEEDS)
@with_config
def auth_without_tls(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    if cfg.has_master:
        scopes = _scopes(cfg, [s for s in cfg.smtpd_services() if s.effective("smtpd_sasl_auth_enable").flag()])
        if not scopes:
            yield ctx.not_applicable("postfix")
            return
    elif cfg.get("smtpd_sasl_auth_enable").flag():
        scopes = [Scope(cfg, None)]
    else:
        yield _dependency(ctx, "postfix", NO_MASTER, (cfg.get("smtpd_sasl_auth_enable").cite(),))
        return
    for scope in scopes:
        sasl, auth_only = scope.get("smtpd_sasl_auth_enable"), scope.get("smtpd_tls_auth_only")
        tls = server_tls(cfg, scope.svc)
        evidence = (sasl.cite(), auth_only.cite(), tls.deciding.cite())
        params = {"service": scope.label, "fix": _fix_where(scope, "smtpd_tls_auth_only", "yes")}
        if tls.mandatory:
            yield ctx.passed(scope.subject, evidence, setting=tls.deciding.cite(), **params)
        elif auth_only.flag():
            yield ctx.passed(scope.subject, evidence, setting=auth_only.cite(), **params)
        else:
            yield ctx.fail(scope.subject, "auth_in_clear", evidence,
                           setting=_cites(sasl, auth_only, tls.deciding), **params)


# -- filtering of authenticated mail (R9, R11) -------------------------------------------------------

AMAVIS_EXAMPLE = "smtp-amavis:[127.0.0.1]:10024"


@dataclass(frozen=True)
class Filters:
    content_filter: Param
    proxy: Param
    milters_param: Param
    override_options: Param
    milters: list[str]

    def cites(self) -> str:
        shown = [self.content_filter, self.proxy, self.milters_param]
        if milters_disabled(self.override_options.expanded):
            shown.append(self.override_options)
        return _cites(*shown)


def _filters(svc: MasterService) -> Filters:
    rov = svc.effective("receive_override_options")
    milt = svc.effective("smtpd_milters")
    milters = [] if milters_disabled(rov.expanded) else milter_list(milt.expanded)
    return Filters(svc.effective("content_filter"), svc.effective("smtpd_proxy_filter"), milt, rov, milters)


def _auth_scopes(ctx: CheckContext, cfg: PostfixConfig) -> list[MasterService] | Finding:
    if not cfg.has_master:
        return _dependency(ctx, "postfix", NO_MASTER)
    services = auth_services(cfg)
    if not services:
        return ctx.not_applicable("postfix", [f"{s.key} [{s.source}]" for s in cfg.smtpd_services()])
    return services


@check("PF-NO-OUTBOUND-FILTER", needs=NEEDS)
@with_config
def no_outbound_filter(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    services = _auth_scopes(ctx, cfg)
    if isinstance(services, Finding):
        yield services
        return
    for svc in services:
        scope = Scope(cfg, svc)
        f = _filters(svc)
        found: list[str] = []
        if f.content_filter.expanded.strip():
            found.append(f"content_filter {f.content_filter.expanded.strip()}")
        if f.proxy.expanded.strip():
            found.append(f"smtpd_proxy_filter {f.proxy.expanded.strip()}")
        signers = [m for m in f.milters if looks_like_signer(m)]
        found += [f"milter {m}" for m in f.milters if m not in signers]
        params = {"service": scope.label, "setting": f.cites(),
                  "fix": _fix_service(svc, ("content_filter", AMAVIS_EXAMPLE))}
        evidence = tuple(p.cite() for p in (f.content_filter, f.proxy, f.milters_param, f.override_options))
        if found:
            yield ctx.passed(scope.subject, evidence, filters=found, **params)
        elif signers:
            yield ctx.fail(scope.subject, "signing_only", evidence, filters=signers, **params)
        else:
            yield ctx.fail(scope.subject, "none", evidence, filters=[], **params)


@check("PF-PREQUEUE-FOR-AUTH", needs=NEEDS)
@with_config
def prequeue_for_auth(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    services = _auth_scopes(ctx, cfg)
    if isinstance(services, Finding):
        yield services
        return
    for svc in services:
        scope = Scope(cfg, svc)
        f = _filters(svc)
        scanners = [m for m in f.milters if looks_like_scanner(m)]
        evidence = tuple(p.cite() for p in (f.content_filter, f.proxy, f.milters_param, f.override_options))
        after_queue = ("content_filter", AMAVIS_EXAMPLE)
        if f.proxy.expanded.strip():
            yield ctx.fail(scope.subject, "proxy", evidence, service=scope.label, setting=f.proxy.cite(),
                           filters=[f.proxy.expanded.strip()],
                           fix=_fix_service(svc, ("smtpd_proxy_filter", ""), after_queue))
        elif scanners:
            keep = ",".join(m for m in f.milters if m not in scanners)
            yield ctx.fail(scope.subject, "scanning_milter", evidence, service=scope.label,
                           setting=f.milters_param.cite(), filters=scanners,
                           fix=_fix_service(svc, ("smtpd_milters", keep), after_queue))
        else:
            yield ctx.passed(scope.subject, evidence, service=scope.label, setting=f.cites(), filters=[])


# -- TLS on the server side (B6, B7) ------------------------------------------------------------------

PROTOCOL_FIX = "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"


def _inbound_scopes(cfg: PostfixConfig) -> list[Scope]:
    return _scopes(cfg, mx_services(cfg)) if cfg.has_master else [Scope(cfg, None)]


@check("PF-TLS-PROTOCOLS", needs=NEEDS)
@with_config
def tls_protocols(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    if cfg.has_master:
        roles = [(Scope(cfg, s), "client") for s in submission_services(cfg)]
        roles += [(Scope(cfg, s), "mx") for s in mx_services(cfg) if s not in submission_services(cfg)]
        if not roles:
            yield ctx.not_applicable("postfix", outcome="no_services")
            return
    else:
        roles = [(Scope(cfg, None), "mx")]
    for scope, role in roles:
        tls = server_tls(cfg, scope.svc)
        if not tls.offered:
            yield ctx.not_applicable(scope.subject, (tls.deciding.cite(),), service=scope.label,
                                     setting=tls.deciding.cite())
            continue
        # With mandatory TLS (encrypt, or implicit TLS on 465) smtpd uses the *_mandatory_* list.
        name = "smtpd_tls_mandatory_protocols" if tls.mandatory else "smtpd_tls_protocols"
        p = scope.get(name)
        allowed = allowed_protocols(p.expanded)
        if allowed is None or p.problems:
            yield _unusable(ctx, scope.subject, p, "not a TLS protocol list")
            continue
        if role == "client":
            fix = _fix_service(scope.svc, (name, PROTOCOL_FIX)) if scope.svc else _fix_main((name, PROTOCOL_FIX))
        else:
            fix = _fix_where(scope, name, PROTOCOL_FIX)
        params = {"service": scope.label, "setting": _cites(p, tls.deciding), "allowed": allowed or ["-"], "fix": fix}
        evidence = (p.cite(), tls.deciding.cite())
        if {"SSLv2", "SSLv3"} & set(allowed):
            yield ctx.fail(scope.subject, "sslv3", evidence, **params)
        elif {"TLSv1", "TLSv1.1"} & set(allowed):
            yield ctx.fail(scope.subject, "legacy_client" if role == "client" else "legacy_mx", evidence, **params)
        else:
            yield ctx.passed(scope.subject, evidence, **params)


@check("PF-INBOUND-TLS", needs=NEEDS)
@with_config
def inbound_tls(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    scopes = _inbound_scopes(cfg)
    if not scopes:
        yield ctx.not_applicable("postfix")
        return
    for scope in scopes:
        tls = server_tls(cfg, scope.svc)
        certs = [scope.get(n) for n in ("smtpd_tls_cert_file", "smtpd_tls_chain_files", "smtpd_tls_eccert_file")]
        has_cert = any(c.expanded.strip() for c in certs)
        evidence = (tls.deciding.cite(), *(c.cite() for c in certs))
        params = {"service": scope.label, "setting": tls.deciding.cite()}
        cert_fix = _fix_main(("smtpd_tls_cert_file", "/path/to/fullchain.pem"),
                             ("smtpd_tls_key_file", "/path/to/privkey.pem"))
        if tls.mandatory:
            yield ctx.fail(scope.subject, "mx_requires_tls", evidence,
                           fix=_fix_where(scope, tls.deciding.name, "may" if "level" in tls.deciding.name else "no"),
                           **params)
        elif not tls.offered:
            level_fix = _fix_where(scope, "smtpd_tls_security_level", "may")
            yield ctx.fail(scope.subject, "off", evidence, fix=level_fix if has_cert else f"{level_fix}; {cert_fix}",
                           **params)
        elif not has_cert:
            yield ctx.fail(scope.subject, "no_cert", evidence, fix=cert_fix, **params)
        else:
            yield ctx.passed(scope.subject, evidence, **params)


# -- SMTP smuggling (B9) and outbound TLS (B6) --------------------------------------------------------

@check("PF-SMUGGLING", needs=NEEDS)
@with_config
def smuggling(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    scopes = _inbound_scopes(cfg)
    if not scopes:
        yield ctx.not_applicable("postfix")
        return
    for scope in scopes:
        p = scope.get("smtpd_forbid_bare_newline")
        params = {"service": scope.label, "setting": p.cite(), "version": cfg.version_text,
                  "fix": _fix_where(scope, "smtpd_forbid_bare_newline", "normalize")}
        evidence = (p.cite(), cfg.get("mail_version").cite())
        if cfg.is_set("smtpd_forbid_bare_newline", scope.svc):
            if p.expanded.strip().lower() == "no":
                yield ctx.fail(scope.subject, "disabled", evidence, **params)
            else:
                yield ctx.passed(scope.subject, evidence, **params)
        elif cfg.version is None:
            yield _dependency(ctx, scope.subject, "why.postfix_version_unknown", evidence)
        elif cfg.version < (3, 9):
            yield ctx.fail(scope.subject, "old_default", evidence, **params)
        else:
            yield ctx.passed(scope.subject, evidence, **params)


@check("PF-OUTBOUND-TLS", needs=NEEDS)
@with_config
def outbound_tls(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    knobs = {"smtp_tls_security_level", "smtp_use_tls", "smtp_enforce_tls"}
    extra = [s for s in cfg.smtp_client_services() if knobs & set(s.overrides)]
    for scope in [Scope(cfg, None), *_scopes(cfg, extra)]:
        level, deciding = client_tls_level(cfg, scope.svc)
        params = {"service": scope.label, "setting": _cites(*deciding),
                  "fix": _fix_where(scope, "smtp_tls_security_level", "may")}
        evidence = (*(p.cite() for p in deciding), cfg.get("compatibility_level").cite())
        if level in ("none", ""):
            yield ctx.fail(scope.subject, "off", evidence, **params)
        else:
            yield ctx.passed(scope.subject, evidence, **params)
