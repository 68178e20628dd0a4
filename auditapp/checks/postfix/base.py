"""What every PF-* check shares: the imported configuration, scopes, provenance, safe fixes.

Each result cites the parameter, its effective value and its provenance (``{setting}``: a
file line, a postconf output line, or the Postfix default for the detected compatibility
level) and carries the exact ``postconf -e`` / ``postconf -P`` command as ``{fix}``. A fix is
printed only where it is safe to paste: it changes the value where it comes from, never
removes a milter, never names a transport master.cf does not define, and a main.cf change
that several services inherit is reported once, naming all of them and the internal services
it would change too (:func:`group_main_cf`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from auditapp.checks.registry import CheckContext
from auditapp.core.model import Finding, Reason, Status
from auditapp.postfix import MasterService, Param, PostfixConfig, PostfixLoadFailure
from auditapp.postfix.roles import Kind, ServiceKind, classify, smtpd_kinds

NEEDS = ("postfix",)
DAY = 86400
#: Message keys (``why.*`` in _messages.toml) for prerequisites an offline import cannot see.
NO_MASTER = "why.no_master"
NO_MASTER_M = "why.no_master_m"


# -- loading --------------------------------------------------------------------------------

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


def with_services(fn: Callable[[CheckContext, PostfixConfig], Iterator[Finding]]) -> Callable[
        [CheckContext], Iterator[Finding]]:
    """:func:`with_config` for rules about master.cf services.

    ``postconf -P`` output without ``-M`` names overrides but not the services: judging main.cf
    alone would ignore what is known to override it, so such a rule says which command to add.
    """

    @functools.wraps(fn)
    def check_with_services(ctx: CheckContext) -> Iterator[Finding]:
        cfg = _config(ctx)
        if isinstance(cfg, Finding):
            yield cfg
        elif cfg.master_partial:
            yield no_master(ctx, cfg)
        else:
            yield from fn(ctx, cfg)

    return check_with_services


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


def dependency(ctx: CheckContext, subject: str, what: str, evidence: Iterable[str] = ()) -> Finding:
    return ctx.not_tested(subject, Reason("reason.dependency", {"what": what}), tuple(evidence))


def no_master(ctx: CheckContext, cfg: PostfixConfig, evidence: Iterable[str] = ()) -> Finding:
    """Services unknown: master.cf (or ``postconf -M``) was not imported; say which input is missing."""
    return dependency(ctx, "postfix", NO_MASTER_M if cfg.master_partial else NO_MASTER, evidence)


def unusable(ctx: CheckContext, subject: str, p: Param, problem: str) -> Finding:
    """A value the audit cannot evaluate (bad syntax, unresolvable macro): ``not_tested`` naming it."""
    return ctx.not_tested(subject, Reason("reason.postfix_config_error", {"error": f"{p.cite()}: {problem}"}),
                          (p.cite(),))


def not_applicable_service(ctx: CheckContext, sk: ServiceKind) -> Finding:
    """A service that is not what the rule is about (internal, unused), with the reason."""
    return ctx.not_applicable(f"postfix:{sk.svc.key}", (f"{sk.svc.key} [{sk.svc.source}]",), outcome="internal",
                              service=f"{sk.svc.key} [{sk.svc.source}]", why=sk.why)


# -- scopes ---------------------------------------------------------------------------------

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


def scopes(cfg: PostfixConfig, services: Iterable[MasterService]) -> list[Scope]:
    return [Scope(cfg, s) for s in services]


def kinds_of(cfg: PostfixConfig, *kinds: Kind) -> list[ServiceKind]:
    return [k for k in smtpd_kinds(cfg) if k.kind in kinds]


# -- fixes ----------------------------------------------------------------------------------

def cites(*params: Param) -> str:
    return "; ".join(p.cite() for p in params)


def fix_main(*pairs: tuple[str, str]) -> str:
    return "postconf -e " + " ".join(f"'{name} = {value}'" for name, value in pairs)


def fix_service(svc: MasterService, *pairs: tuple[str, str]) -> str:
    return "postconf -P " + " ".join(f"'{svc.key}/{name}={value.replace(' ', '')}'" for name, value in pairs)


def fix_where(scope: Scope, name: str, value: str) -> str:
    """Change the value where it comes from: the service's ``-o`` override, else main.cf."""
    if scope.svc is not None and name in scope.svc.overrides:
        return fix_service(scope.svc, (name, value))
    return fix_main((name, value))


def worst(ctx: CheckContext, outcomes: list[str]) -> str:
    return max(outcomes, key=lambda o: ctx.rule.severity_for(o).rank)


def inheritors(cfg: PostfixConfig, name: str, *, exclude: Iterable[MasterService] = ()) -> list[str]:
    """Other smtpd services that take ``name`` from main.cf (no ``-o``): a main.cf change reaches them too."""
    skip = {id(s) for s in exclude}
    out = []
    for k in smtpd_kinds(cfg):
        if id(k.svc) in skip or name in k.svc.overrides or k.kind is Kind.UNUSED:
            continue
        out.append(f"{k.svc.key} ({k.kind.value})")
    return out


def also_text(services: list[str]) -> object:
    """The sentence that warns which other services a main.cf change reaches (empty if none)."""
    if not services:
        return ""
    listed = ", ".join(services)
    return {"de": f" Die Änderung in main.cf gilt auch für: {listed}; prüfen, dass diese Dienste weiter funktionieren.",
            "en": f" The main.cf change also applies to: {listed}; check that these services still work."}


def group_main_cf(ctx: CheckContext, cfg: PostfixConfig, findings: list[Finding], param: str) -> list[Finding]:
    """Failures that one main.cf line causes in several services become one finding.

    A consultant should see "this line, these services, this one command", not the same
    command nine times; and the admin must learn which other services (often internal ports
    of a container stack) the main.cf change reaches, so that pasting it breaks nothing
    unnoticed. Results whose fix is a per-service ``postconf -P`` stay per service.
    """
    groups: dict[tuple[str, str], list[Finding]] = {}
    out: list[Finding] = []
    for f in findings:
        fix = str(f.params.get("fix", ""))
        if f.status is Status.FAIL and fix.startswith("postconf -e"):
            groups.setdefault((f.outcome, fix), []).append(f)
        else:
            out.append(f if "also" in f.params else replace(f, params={**f.params, "also": ""}))
    for members in groups.values():
        judged = {m.subject.removeprefix("postfix:") for m in members}
        also = [s for s in inheritors(cfg, param) if s.split(" ", 1)[0] not in judged]
        first = members[0]
        params = {**first.params, "also": also_text(also)}
        if len(members) == 1:
            out.append(replace(first, params=params))
            continue
        params["service"] = ", ".join(str(m.params.get("service", m.subject)) for m in members)
        evidence = tuple(dict.fromkeys(e for m in members for e in m.evidence))
        out.append(replace(first, subject="postfix", evidence=evidence, params=params))
    return out


def classify_service(cfg: PostfixConfig, svc: MasterService) -> ServiceKind:
    return classify(cfg, svc)
