"""The review layer as types: accepted risks, reviewer entries, and the questions asked of them.

A run records what the servers answered; the consultant's review (an accepted risk, a comment,
a severity override) is kept beside it in the project and applied on top. The Findings page,
the History page, the report and the CLI all need the same answers from that layer: does this
entry cover this result, has the acceptance expired on the run's day, which severity counts, is
the result still open, and how many open results of each severity does a run have. They are
answered here, once, so the screens and the PDF cannot drift apart; readers only read.
:func:`run_summary` adds up a whole run (counts per effective severity, accepted, untested,
category grades) for every reader that shows numbers.

The entries are frozen: an edit (:mod:`auditapp.core.review`) replaces an entry instead of
changing it, so a row or a report built from an entry never sees it change underneath.
The project file keeps its dict shape; :meth:`AcceptedRisk.to_json` and :meth:`Review.to_json`
write exactly the keys, in the order, the loader in :mod:`auditapp.core.project` produces.

Entries address results by ``(rule, subject)``, the same key the run comparison uses; a
subject of ``"*"`` (or an empty one, from older files) covers every subject of the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date
from typing import TYPE_CHECKING, Any

from auditapp.core.grading import Grade, Light, grade_counts, light_for, overall_grade
from auditapp.core.model import Finding, Reason, Run, Severity, Status
from auditapp.core.times import parse_time

if TYPE_CHECKING:
    from auditapp.core.project import Project

#: Review kinds stored in ``Project.reviews``.
COMMENT = "comment"
SEVERITY = "severity"
REVIEW_KINDS = (COMMENT, SEVERITY)
#: Subjects that stand for every subject of a rule ("" is what early files wrote).
EVERY_SUBJECT = ("*", "")


def run_day(run: Run) -> date | None:
    """The (UTC) day a run started, against which acceptance expiry dates are checked."""
    parsed = parse_time(run.started) or parse_time(run.finished)
    return parsed.astimezone(UTC).date() if parsed else None


@dataclass(frozen=True)
class _Entry:
    """What accepted risks and review entries share: the result they address."""

    rule: str
    subject: str

    @property
    def key(self) -> tuple[str, str]:
        """``(rule, subject)`` as written: what a replacing or withdrawing edit matches exactly."""
        return (self.rule, self.subject)

    @property
    def every_subject(self) -> bool:
        """True for ``"*"`` (and the empty subject of older files): the entry covers the whole rule."""
        return self.subject in EVERY_SUBJECT

    def applies_to(self, rule: str, subject: str) -> bool:
        """Whether the entry addresses the result ``(rule, subject)``: same rule, same or every subject."""
        return rule == self.rule and (self.every_subject or subject == self.subject)

    def covers(self, finding: Finding) -> bool:
        """Whether the entry addresses this result (whatever its status)."""
        return self.applies_to(finding.rule, finding.subject)

    def exact_for(self, finding: Finding) -> bool:
        """Whether the entry names this result's subject itself (it then beats a ``"*"`` entry)."""
        return self.subject == finding.subject


@dataclass(frozen=True)
class AcceptedRisk(_Entry):
    """A deliberately accepted deviation: a failure of ``rule`` on ``subject`` is shown as "accepted".

    ``expires`` is kept as written (usually ``2027-06-30``) so a saved file reads back byte for
    byte; from that day on the entry no longer applies and the finding counts again, so an
    acceptance cannot silently outlive its review date. Dates are checked on creation.
    """

    justification: str
    accepted_by: str
    accepted_at: str
    expires: str | None = None

    def __post_init__(self) -> None:
        for name in ("accepted_at", "expires"):
            value = getattr(self, name)
            if value and parse_time(value) is None:
                raise ValueError(f"accepted risk {self.rule}: {name} is not an ISO date: {value!r}")

    @property
    def expiry_day(self) -> date | None:
        """The day from which the entry no longer counts: the date as written, None without expiry."""
        parsed = parse_time(self.expires)
        return parsed.date() if parsed else None

    def expired_on(self, day: date | None) -> bool:
        """Whether the expiry day has been reached on ``day`` (an unknown day never expires anything)."""
        expiry = self.expiry_day
        return expiry is not None and day is not None and expiry <= day

    def in_force(self, finding: Finding, day: date | None) -> bool:
        """Whether this entry accepts ``finding`` on ``day``.

        Only failures can be accepted: a passing result needs no acceptance, and an untested one
        must stay visible as untested.
        """
        return finding.status is Status.FAIL and self.covers(finding) and not self.expired_on(day)

    def to_json(self) -> dict[str, Any]:
        """The entry as the project file stores it (``expires`` only when set, as loaded)."""
        out: dict[str, Any] = {"rule": self.rule, "subject": self.subject, "justification": self.justification,
                               "accepted_by": self.accepted_by, "accepted_at": self.accepted_at}
        if self.expires is not None:
            out["expires"] = self.expires
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AcceptedRisk:
        """Build from a project-file entry already checked by :mod:`auditapp.core.project`."""
        return cls(rule=data["rule"], subject=data["subject"], justification=data["justification"],
                   accepted_by=data["accepted_by"], accepted_at=data["accepted_at"], expires=data.get("expires"))


@dataclass(frozen=True)
class Review(_Entry):
    """A reviewer's comment or severity override on one result (see :mod:`auditapp.core.review`).

    ``severity`` is set for overrides only. Text and author come from a person and are shown
    literally by every reader. ``at`` is kept as written (ISO); readers format it.
    """

    kind: str  # COMMENT or SEVERITY
    text: str
    author: str
    at: str
    severity: Severity | None = None

    def __post_init__(self) -> None:
        if self.kind not in REVIEW_KINDS:
            raise ValueError(f"review of {self.rule}: kind {self.kind!r} is neither 'comment' nor 'severity'")
        if (self.kind == SEVERITY) != (self.severity is not None):
            raise ValueError(f"review of {self.rule}: only severity overrides carry a severity, and always one")
        if self.severity is not None and not isinstance(self.severity, Severity):
            object.__setattr__(self, "severity", Severity(self.severity))  # "low" from a file or a caller

    @property
    def is_override(self) -> bool:
        return self.kind == SEVERITY

    def to_json(self) -> dict[str, Any]:
        """The entry as the project file stores it (``severity`` last, for overrides only)."""
        out: dict[str, Any] = {"rule": self.rule, "subject": self.subject, "kind": self.kind, "text": self.text,
                               "author": self.author, "at": self.at}
        if self.severity is not None:
            out["severity"] = self.severity.value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Review:
        """Build from a project-file entry already checked by :mod:`auditapp.core.project`."""
        return cls(rule=data["rule"], subject=data["subject"], kind=data["kind"], text=data["text"],
                   author=data["author"], at=data["at"], severity=data.get("severity"))


@dataclass(frozen=True)
class ReviewLayer:
    """A project's review entries, answering for any result what the review makes of it.

    Entries keep the project's order (the order they were recorded in). Built cheaply
    (:meth:`of`) whenever a reader needs it; it holds no state of its own.
    """

    accepted_risks: tuple[AcceptedRisk, ...] = ()
    reviews: tuple[Review, ...] = ()

    @classmethod
    def of(cls, project: Project | None) -> ReviewLayer:
        """The layer of ``project`` (an empty one without a project)."""
        if project is None:
            return cls()
        return cls(tuple(project.accepted_risks), tuple(project.reviews))

    # -- acceptances ------------------------------------------------------------------------------

    def acceptance_for(self, finding: Finding, day: date | None) -> AcceptedRisk | None:
        """The accepted-risk entry in force for ``finding`` on ``day`` (the first recorded), or None."""
        return next((a for a in self.accepted_risks if a.in_force(finding, day)), None)

    def acceptances_covering(self, finding: Finding) -> list[AcceptedRisk]:
        """Every acceptance addressing this result, expired or not, in recorded order (its history)."""
        return [a for a in self.accepted_risks if a.covers(finding)]

    def acceptance_entry(self, finding: Finding) -> AcceptedRisk | None:
        """The acceptance a consultant means for this result (even an expired one), its own subject first.

        What "withdraw" removes: the entry for exactly this subject when there is one, else the
        ``"*"`` entry of the rule.
        """
        covering = self.acceptances_covering(finding)
        return max(covering, key=lambda a: a.exact_for(finding), default=None)

    # -- reviews ----------------------------------------------------------------------------------

    def reviews_covering(self, finding: Finding) -> list[Review]:
        """Comments and overrides addressing this result, in recorded order."""
        return [r for r in self.reviews if r.covers(finding)]

    def comments_for(self, finding: Finding) -> list[Review]:
        """The comments on this result, oldest first."""
        return sorted((r for r in self.reviews_covering(finding) if r.kind == COMMENT), key=lambda r: r.at)

    def override_for(self, finding: Finding) -> Review | None:
        """The severity override that applies: an exact subject beats ``"*"``, then the latest wins.

        Of two equally specific overrides with the same time, the one recorded last wins.
        """
        overrides = [r for r in self.reviews_covering(finding) if r.is_override]
        if not overrides:
            return None
        return sorted(overrides, key=lambda r: (r.exact_for(finding), r.at))[-1]

    def effective_severity(self, finding: Finding) -> Severity:
        """The severity every reader uses: the reviewer's override if any, else the catalog's."""
        override = self.override_for(finding)
        return override.severity if override is not None and override.severity is not None else finding.severity

    # -- results ----------------------------------------------------------------------------------

    def is_open(self, finding: Finding, day: date | None) -> bool:
        """Failed and not covered by an acceptance in force on ``day``: what still needs doing."""
        return finding.status is Status.FAIL and self.acceptance_for(finding, day) is None

    def open_findings(self, run: Run) -> list[Finding]:
        """The open results of ``run``, acceptances checked against the run's own day."""
        day = run_day(run)
        return [f for f in run.findings if self.is_open(f, day)]


def open_counts(run: Run, layer: ReviewLayer) -> dict[Severity, int]:
    """Open results of ``run`` per effective severity, every severity present (worst first).

    The one count of "what is still open": acceptances in force on the run's day are left out,
    expired ones count again, and a reviewer's override moves a result to its new severity.
    The same numbers as :attr:`RunSummary.open_by_severity` (which adds everything else).
    """
    counts = dict.fromkeys(Severity, 0)
    for finding in layer.open_findings(run):
        counts[layer.effective_severity(finding)] += 1
    return counts


@dataclass(frozen=True)
class CategorySummary:
    """One category of a run after the review layer: its grade, light and what its results add up to."""

    category: str
    grade: Grade
    light: Light
    open_by_severity: Mapping[Severity, int]
    accepted: int
    passed: int
    not_applicable: int
    #: ``not_tested`` and ``error`` together: the state is unknown either way.
    untested: int

    @property
    def open(self) -> int:
        return sum(self.open_by_severity.values())


@dataclass(frozen=True)
class RunSummary:
    """Every number a reader shows about one run, after accepted risks, expiries and overrides.

    The Audit page, Findings, History, the report and the CLI all take their counts, grades and
    "open" numbers from here (:func:`run_summary`), so two screens can never disagree about the
    same run (issue 14: History said 3 High where the report said 2, because one of them ignored
    the review). Severities are the effective ones (a reviewer's override wins), "open" means
    failed and not covered by an acceptance in force on the run's day (an expired one counts
    again), and the grades follow :mod:`auditapp.core.grading`.
    """

    #: Open failures per effective severity, every severity present, worst first.
    open_by_severity: Mapping[Severity, int]
    #: Failures covered by an acceptance in force on the run's day.
    accepted: int
    #: Open failures whose acceptance had expired by the run's day (they are in ``open_by_severity``).
    expired: int
    #: Open failures whose severity a reviewer changed (they count under the new severity).
    overridden: int
    passed: int
    not_applicable: int
    not_tested: int
    errors: int
    #: Per category in the catalogue's order (the report's order), every category present.
    categories: Mapping[str, CategorySummary]
    #: The overall grade: the worst category's (:func:`auditapp.core.grading.overall_grade`).
    grade: Grade
    worst_category: str | None
    #: Copied from the run so a reader that shows the numbers cannot miss that they mean nothing.
    degraded: bool
    degraded_reason: Reason | None
    cancelled: bool

    @property
    def open(self) -> int:
        """All open failures."""
        return sum(self.open_by_severity.values())

    @property
    def failed(self) -> int:
        """Every failed result, open or accepted (what the catalogue calls "fail")."""
        return self.open + self.accepted

    @property
    def untested(self) -> int:
        """``not_tested`` and ``error`` results: the state is unknown."""
        return self.not_tested + self.errors

    @property
    def total(self) -> int:
        return self.failed + self.passed + self.not_applicable + self.untested

    @property
    def light(self) -> Light:
        return light_for(self.grade)

    @property
    def nothing_tested(self) -> bool:
        """No result passed or failed: the run assessed nothing (the CLI exits 3, the grade is "not assessed")."""
        return self.passed == 0 and self.failed == 0

    def to_json(self) -> dict[str, Any]:
        """The numbers as ``auditapp.result/1`` adds them to its ``summary`` (the report's, after the review).

        ``summary.total``, ``by_status`` and ``failed_by_severity`` stay the catalogue's view of the
        results (as since the schema began); these are what the report, the window and ``--fail-on``
        show: open per effective severity, accepted risks, grades per category.
        """
        def counts(by: Mapping[Severity, int]) -> dict[str, int]:
            return {sev.value: n for sev, n in by.items()}

        return {
            "grade": self.grade.value, "light": self.light.value, "worst_category": self.worst_category,
            "open": self.open, "open_by_severity": counts(self.open_by_severity), "accepted": self.accepted,
            "expired": self.expired, "overridden": self.overridden, "passed": self.passed,
            "not_applicable": self.not_applicable, "not_tested": self.not_tested, "errors": self.errors,
            "categories": {name: {"grade": c.grade.value, "light": c.light.value, "open": c.open,
                                  "open_by_severity": counts(c.open_by_severity), "accepted": c.accepted,
                                  "passed": c.passed, "not_applicable": c.not_applicable,
                                  "untested": c.untested}
                           for name, c in self.categories.items()},
        }

    def open_at_least(self, severity: Severity) -> int:
        """Open failures of at least ``severity`` (``--fail-on``)."""
        return sum(n for sev, n in self.open_by_severity.items() if sev.rank >= severity.rank)


def _bucket() -> dict[str, Any]:
    """The running counts of one category while :func:`run_summary` walks the results."""
    return {"open": dict.fromkeys(Severity, 0), "accepted": 0, "passed": 0, "not_applicable": 0, "untested": 0,
            "assessed": False}


def run_summary(run: Run, layer: ReviewLayer | None = None) -> RunSummary:
    """The numbers of ``run`` with the review ``layer`` applied (an empty layer: the catalogue's view).

    One pass over the results; acceptances are checked against the run's own day, as the
    report and the comparison do. Results of rules the catalogue no longer has count in the
    totals but in no category.
    """
    from auditapp.catalog import CATEGORIES, catalog

    review = layer or ReviewLayer()
    cat = catalog()
    day = run_day(run)
    totals = {"accepted": 0, "expired": 0, "overridden": 0, "passed": 0, "not_applicable": 0, "not_tested": 0,
              "errors": 0}
    open_all = dict.fromkeys(Severity, 0)
    per = {c: _bucket() for c in CATEGORIES}
    for f in run.findings:
        rule = cat.rules.get(f.rule)
        bucket = per.get(rule.category, _bucket()) if rule is not None else _bucket()
        if f.status is Status.FAIL:
            bucket["assessed"] = True
            if review.acceptance_for(f, day) is not None:
                totals["accepted"] += 1
                bucket["accepted"] += 1
                continue
            severity = review.effective_severity(f)
            open_all[severity] += 1
            bucket["open"][severity] += 1
            totals["overridden"] += severity is not f.severity
            totals["expired"] += any(a.expired_on(day) for a in review.acceptances_covering(f))
        elif f.status is Status.PASS:
            bucket["assessed"] = True
            totals["passed"] += 1
            bucket["passed"] += 1
        elif f.status is Status.NOT_APPLICABLE:
            totals["not_applicable"] += 1
            bucket["not_applicable"] += 1
        else:
            totals["not_tested" if f.status is Status.NOT_TESTED else "errors"] += 1
            bucket["untested"] += 1
    categories = {}
    for name, b in per.items():
        grade = grade_counts(b["assessed"], b["open"])
        categories[name] = CategorySummary(name, grade, light_for(grade), b["open"], b["accepted"], b["passed"],
                                           b["not_applicable"], b["untested"])
    grade, worst = overall_grade({name: c.grade for name, c in categories.items()})
    return RunSummary(open_by_severity=open_all, categories=categories, grade=grade, worst_category=worst,
                      degraded=run.degraded, degraded_reason=run.degraded_reason, cancelled=run.cancelled, **totals)
