"""The vocabulary every part of auditapp shares: statuses, severities, findings.

A :class:`Finding` is language-neutral: it keeps the catalog outcome key and its parameters
rather than rendered prose, so one run can be shown in German in the GUI and written in
English into a report, and re-rendered when a text in the catalog is improved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from auditapp.core.problem import Problem, problems_to_json, with_problems


class Status(StrEnum):
    """Outcome of one check on one subject. ``not_tested`` always carries a reason."""

    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    NOT_TESTED = "not_tested"
    ERROR = "error"


class Severity(StrEnum):
    """How much a failed check matters; the scale is defined in knowledge-2026.md §0.2."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse; used for ``--fail-on`` and sorting."""
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


@dataclass(frozen=True)
class Reason:
    """Why something was not tested, as a message key plus parameters (rendered per language).

    A parameter may be a probe's :class:`~auditapp.core.problem.Problem`: in ``params`` it is
    stored as its English text, as always, and its message key beside them under ``problems``,
    so a German report of a saved run is German too. Runs without ``problems`` render the
    English text.
    """

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key,
            "params": {k: str(v) if isinstance(v, Problem) else v for k, v in self.params.items()},
        }
        problems = problems_to_json(self.params)
        if problems:
            data["problems"] = problems
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reason:
        return cls(str(data["key"]), with_problems(dict(data.get("params", {})), data.get("problems")))


@dataclass(frozen=True)
class Finding:
    """One verdict of one rule on one subject (an IP, a host name or a domain)."""

    rule: str
    status: Status
    severity: Severity
    subject: str
    outcome: str
    params: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[str, ...] = ()
    reason: Reason | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "status": self.status.value,
            "severity": self.severity.value,
            "subject": self.subject,
            "outcome": self.outcome,
            "params": {k: str(v) if isinstance(v, Problem) else v for k, v in self.params.items()},
            "evidence": list(self.evidence),
            "reason": self.reason.to_json() if self.reason else None,
        }
        problems = problems_to_json(self.params)
        if problems:  # a parameter that is a translatable Problem (a DNSSEC reason) keeps its key, as in Reason
            data["problems"] = problems
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(
            rule=str(data["rule"]),
            status=Status(data["status"]),
            severity=Severity(data["severity"]),
            subject=str(data["subject"]),
            outcome=str(data["outcome"]),
            params=with_problems(dict(data.get("params", {})), data.get("problems")),
            evidence=tuple(data.get("evidence", ())),
            reason=Reason.from_json(data["reason"]) if data.get("reason") else None,
        )

    @property
    def key(self) -> tuple[str, str]:
        """Identity across runs: the same rule on the same subject (for run comparisons)."""
        return (self.rule, self.subject)


@dataclass
class Run:
    """One execution of an audit: when, with what, against which resolver, and every finding."""

    id: str
    started: str
    finished: str
    tool_version: str
    catalog_version: str
    resolver: str
    target: dict[str, Any]
    findings: list[Finding]
    cancelled: bool = False
    duration_s: float = 0.0
    #: What was found and probed (hosts with their sources, endpoints with their state): the
    #: scope of the audit, shown in summaries and the report's method section.
    inventory: dict[str, Any] = field(default_factory=dict)
    #: The resolver left most of the run's DNS questions without a usable answer (see
    #: :data:`auditapp.dnsclient.DEGRADED_SHARE`): the results say nothing about the domain, and
    #: no reader may show them as an improvement. ``degraded_reason`` says which resolver and how
    #: many of how many questions failed, as a message key (``run.degraded``) rendered per language.
    degraded: bool = False
    degraded_reason: Reason | None = None

    def to_json(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "started": self.started,
            "finished": self.finished,
            "tool_version": self.tool_version,
            "catalog_version": self.catalog_version,
            "resolver": self.resolver,
            "target": self.target,
            "findings": [f.to_json() for f in self.findings],
            "cancelled": self.cancelled,
            "duration_s": self.duration_s,
        }
        if self.inventory:  # runs without service probes keep the compact v1 shape
            data["inventory"] = self.inventory
        if self.degraded:  # healthy runs keep the shape older versions wrote and read
            data["degraded"] = True
            if self.degraded_reason is not None:
                data["degraded_reason"] = self.degraded_reason.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Run:
        return cls(
            id=str(data["id"]),
            started=str(data["started"]),
            finished=str(data["finished"]),
            tool_version=str(data["tool_version"]),
            catalog_version=str(data["catalog_version"]),
            resolver=str(data.get("resolver", "")),
            target=dict(data.get("target", {})),
            findings=[Finding.from_json(f) for f in data.get("findings", [])],
            cancelled=bool(data.get("cancelled", False)),
            duration_s=float(data.get("duration_s", 0.0)),
            inventory=dict(data.get("inventory", {})),
            degraded=bool(data.get("degraded", False)),
            degraded_reason=Reason.from_json(data["degraded_reason"]) if data.get("degraded_reason") else None,
        )
