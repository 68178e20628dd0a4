"""The review layer as types: accepted risks, reviewer entries, and the questions asked of them.

A run records what the servers answered; the consultant's review (an accepted risk, a comment,
a severity override) is kept beside it in the project and applied on top. The Findings page,
the History page, the report and the CLI all need the same answers from that layer: does this
entry cover this result, has the acceptance expired on the run's day, which severity counts, is
the result still open, and how many open results of each severity does a run have. They are
answered here, once, so the screens and the PDF cannot drift apart; readers only read.

The entries are frozen: an edit (:mod:`auditapp.core.review`) replaces an entry instead of
changing it, so a row or a report built from an entry never sees it change underneath.
The project file keeps its dict shape; :meth:`AcceptedRisk.to_json` and :meth:`Review.to_json`
write exactly the keys, in the order, the loader in :mod:`auditapp.core.project` produces.

Entries address results by ``(rule, subject)``, the same key the run comparison uses; a
subject of ``"*"`` (or an empty one, from older files) covers every subject of the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date
from typing import TYPE_CHECKING, Any

from auditapp.core.model import Finding, Run, Severity, Status
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
    """
    counts = dict.fromkeys(Severity, 0)
    for finding in layer.open_findings(run):
        counts[layer.effective_severity(finding)] += 1
    return counts

