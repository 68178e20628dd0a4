"""Queue lifetimes, delay warnings, compatibility level, SMTPUTF8 and the HELO name (knowledge base R2, R8)."""

from __future__ import annotations

from collections.abc import Iterator

from auditapp.checks.postfix.base import (
    DAY,
    NEEDS,
    Scope,
    dependency,
    fix_main,
    fix_where,
    scopes,
    unusable,
    with_config,
)
from auditapp.checks.registry import CheckContext, check
from auditapp.core.dnsnames import address_literal, helo_syntax_problem
from auditapp.core.model import Finding
from auditapp.postfix import Param, PostfixConfig
from auditapp.postfix.defaults import format_duration, level_text

HOUR = 3600


# -- queue lifetimes (R8) ----------------------------------------------------------------------

def _time(ctx: CheckContext, cfg: PostfixConfig, name: str, unit: str) -> tuple[Param, int] | Finding:
    p = cfg.get(name)
    if p.unknown or p.problems:
        return unusable(ctx, "postfix", p, "; ".join(p.problems) or "the value is unknown offline")
    try:
        return p, p.seconds(unit)
    except ValueError as exc:
        return unusable(ctx, "postfix", p, str(exc))


@check("PF-QUEUE-LIFETIME", needs=NEEDS)
@with_config
def queue_lifetime(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    got = _time(ctx, cfg, "maximal_queue_lifetime", "d")
    if isinstance(got, Finding):
        yield got
        return
    p, secs = got
    params = {"setting": p.cite(), "duration": format_duration(secs),
              "fix": fix_main(("maximal_queue_lifetime", "5d"))}
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
              "fix": fix_main(("bounce_queue_lifetime", "1d"))}
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
    params = {"setting": p.cite(), "duration": format_duration(secs), "fix": fix_main(("delay_warning_time", "4h"))}
    if secs == 0:
        yield ctx.fail("postfix", "off", (p.cite(),), **params)
    elif secs < HOUR:
        # Every greylisted message is delayed by minutes: senders would get a warning for each.
        yield ctx.fail("postfix", "too_short", (p.cite(),), **params)
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
        params = {"setting": p.cite(), "legacy": _legacy_defaults(cfg), "fix": fix_main(("compatibility_level", "2"))}
        if level < (2,):
            yield ctx.fail("postfix", "legacy", evidence, **params)
        else:
            yield ctx.passed("postfix", evidence, outcome="pass_no_version", **params)
        return
    best = _highest_level(cfg.version)
    params = {"setting": p.cite(), "version": cfg.version_text, "legacy": _legacy_defaults(cfg),
              "recommended": level_text(best) if best else "-",
              "fix": fix_main(("compatibility_level", level_text(best) if best else "2"))}
    if best is not None and level < best:
        yield ctx.fail("postfix", "below", evidence, **params)
    else:
        yield ctx.passed("postfix", evidence, **params)


@check("PF-SMTPUTF8", needs=NEEDS)
@with_config
def smtputf8(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    p = cfg.get("smtputf8_enable")
    params = {"setting": p.cite(), "fix": fix_main(("smtputf8_enable", "yes"))}
    if p.flag():
        yield ctx.passed("postfix", (p.cite(),), **params)
    else:
        yield ctx.fail("postfix", "disabled", (p.cite(),), **params)


# -- HELO name (R2) ----------------------------------------------------------------------------------

def _heloscopes(cfg: PostfixConfig) -> list[Scope]:
    """main.cf, plus SMTP delivery services that set their own HELO name or host name."""
    extra = [s for s in cfg.smtp_client_services() if {"smtp_helo_name", "myhostname"} & set(s.overrides)]
    return [Scope(cfg, None), *scopes(cfg, extra)]


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
    for scope in _heloscopes(cfg):
        p, host = scope.get("smtp_helo_name"), scope.get("myhostname")
        evidence = (p.cite(), host.cite())
        if p.unknown:
            yield dependency(ctx, scope.subject, "why.myhostname_unknown", evidence)
            continue
        if p.problems:
            yield unusable(ctx, scope.subject, p, "; ".join(p.problems))
            continue
        name = p.expanded.strip()
        example = f"mail.{ctx.domain}"
        # Fix the parameter the bad name comes from: smtp_helo_name itself, or myhostname behind it.
        target = "smtp_helo_name" if scope.cfg.is_set("smtp_helo_name", scope.svc) and "$" not in p.value \
            else "myhostname"
        params = {"service": scope.label, "setting": p.cite(), "name": name or '""',
                  "fix": fix_where(scope, target, example)}
        why = helo_problem(name)
        if why:
            yield ctx.fail(scope.subject, "not_fqdn", evidence, why=why, **params)
        else:
            yield ctx.passed(scope.subject, evidence, **params)
