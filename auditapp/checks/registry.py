"""Check registration and the context a check works with.

Checks are registered explicitly by decorator at import of ``auditapp.checks`` (no package
walking, which breaks in frozen bundles); that package, not this module, answers "every
check" (:func:`auditapp.checks.registered`), so this module never imports the checks that
import it. The registry and the catalog must match one to one;
:func:`auditapp.checks.verify_registry` is run by the test suite and at engine start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from auditapp.catalog import Catalog, Rule
from auditapp.collectors.facts import Facts
from auditapp.core.model import Finding, Reason, Status
from auditapp.core.problem import Problem
from auditapp.core.project import MAX_EVIDENCE_LINE, MAX_SUBJECT
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsAnswer

CheckFn = Callable[["CheckContext"], Iterable[Finding]]


@dataclass(frozen=True)
class RegisteredCheck:
    rule_id: str
    needs: tuple[str, ...]
    fn: CheckFn


_REGISTRY: dict[str, RegisteredCheck] = {}


def check(rule_id: str, needs: tuple[str, ...]) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the implementation of catalog rule ``rule_id``, needing facts ``needs``."""

    def deco(fn: CheckFn) -> CheckFn:
        if rule_id in _REGISTRY:
            raise RuntimeError(f"check {rule_id} registered twice")
        _REGISTRY[rule_id] = RegisteredCheck(rule_id, needs, fn)
        return fn

    return deco


def registry() -> dict[str, RegisteredCheck]:
    """What is registered so far; :func:`auditapp.checks.registered` imports every check first."""
    return dict(_REGISTRY)


def dns_reason(answer: DnsAnswer) -> Reason:
    """The standard ``not_tested`` reason for a DNS question that could not be answered."""
    return Reason(
        "reason.dns_failure",
        {"query": f"{answer.rdtype} {answer.name}", "outcome": answer.outcome.value, "detail": answer.detail},
    )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class CheckContext:
    """What a check may look at, and the verbs to state its verdicts.

    The verbs fill in rule, severity and subject consistently, so a check body reads like the
    rule it implements and cannot invent a severity the catalog does not know.
    """

    def __init__(self, rule: Rule, facts: Facts, target: AuditTarget, now: datetime | None = None) -> None:
        self.rule = rule
        self.facts = facts
        self.target = target
        #: The audit's clock (certificate validity is judged against the run's start, not the
        #: moment a report is re-rendered).
        self.now = now or datetime.now(UTC)

    def _finding(
        self, status: Status, subject: str, outcome: str, evidence: Iterable[str], reason: Reason | None,
        params: dict[str, Any],
    ) -> Finding:
        if outcome not in self.rule.outcomes and status in (Status.PASS, Status.FAIL, Status.NOT_APPLICABLE):
            raise KeyError(f"{self.rule.id}: outcome {outcome!r} is not in the catalog")
        # Rationale and remediation texts may name the audited domain whatever the outcome.
        params = {"domain": self.target.domain, **params}
        return Finding(
            rule=self.rule.id,
            status=status,
            severity=self.rule.severity_for(outcome),
            subject=_shorten(subject, MAX_SUBJECT),
            outcome=outcome,
            params=params,
            # A 60 kB TXT record is evidence too, but a project stores at most 8 KB of a line:
            # what the engine writes must always load again (core/project.py).
            evidence=tuple(_shorten(line, MAX_EVIDENCE_LINE) for line in evidence),
            reason=reason,
        )

    def passed(self, subject: str, evidence: Iterable[str] = (), outcome: str = "pass", **params: Any) -> Finding:
        return self._finding(Status.PASS, subject, outcome, evidence, None, params)

    def fail(self, subject: str, outcome: str, evidence: Iterable[str] = (), **params: Any) -> Finding:
        return self._finding(Status.FAIL, subject, outcome, evidence, None, params)

    def not_applicable(
        self, subject: str, evidence: Iterable[str] = (), outcome: str = "not_applicable", **params: Any
    ) -> Finding:
        return self._finding(Status.NOT_APPLICABLE, subject, outcome, evidence, None, params)

    def not_tested(self, subject: str, reason: Reason, evidence: Iterable[str] = (), **params: Any) -> Finding:
        if reason.key == "reason.dialogue" and str(reason.params.get("problem", "")).startswith("not probed: "):
            # A probe the network guard refused never started: say so, not "did not complete".
            refused = reason.params["problem"]
            problem = refused.params.get("reason") if isinstance(refused, Problem) else None
            problem = problem or str(refused)[len("not probed: "):]
            reason = Reason("reason.not_probed", {"endpoint": reason.params.get("endpoint", subject),
                                                  "problem": problem})
        return self._finding(Status.NOT_TESTED, subject, "not_tested", evidence, reason, params)

    def dns_not_tested(self, subject: str, answer: DnsAnswer, evidence: Iterable[str] = ()) -> Finding:
        ev = tuple(evidence) or (answer.evidence(),)
        return self.not_tested(subject, dns_reason(answer), ev)

    @property
    def ips(self) -> tuple[str, ...]:
        return self.target.server_ips

    @property
    def domain(self) -> str:
        return self.target.domain


def run_check(reg: RegisteredCheck, cat: Catalog, facts: Facts, target: AuditTarget,
              now: datetime | None = None) -> Iterator[Finding]:
    """Run one check; a crash becomes an ``error`` result instead of ending the audit."""
    ctx = CheckContext(cat[reg.rule_id], facts, target, now)
    try:
        findings = list(reg.fn(ctx))
    except Exception as exc:
        findings = [
            Finding(
                rule=reg.rule_id, status=Status.ERROR, severity=cat[reg.rule_id].severity,
                subject=target.domain, outcome="error",
                reason=Reason("reason.check_crashed", {"error": f"{type(exc).__name__}: {exc}"}),
            )
        ]
    yield from findings
