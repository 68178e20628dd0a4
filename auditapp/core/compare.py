"""What changed between any two runs of a project, with the review layer applied to both.

The report compares the latest run with the one before (:func:`auditapp.report.model._delta`);
the GUI's history page compares any two runs the consultant picks. Both follow the same
honest rule: only a result that is tested again and now passes (or no longer applies) is
"fixed". A previously open result that is now not tested, errored or missing from the run is
"not re-tested", because a timeout or a skipped probe must never read as a repair.

"Open" means failed and not covered by a valid accepted-risk entry (the review layer's
:meth:`~auditapp.core.review_layer.ReviewLayer.is_open`). Acceptances and severity overrides
come from the project and apply to both runs, so an override never shows up as a
changed severity, and a risk accepted since the earlier run is listed on its own instead of
as fixed. Acceptances are checked against each run's own day, as the report does, so an
acceptance that had expired by the later run makes that result count again.

A degraded run (its resolver did not answer, :attr:`~auditapp.core.model.Run.degraded`) can
never look like an improvement: when the later run is degraded nothing counts as fixed (every
previously open result that is not failing again is "not re-tested", because the few answers
the resolver gave do not make the rest trustworthy), and the comparison carries a ``caveat``
(a message key) that every reader shows instead of presenting the difference as progress. A
degraded earlier run gets a caveat too: what looks "new" may simply not have been tested then.

This module is Qt-free so the rule can be unit-tested and reused by the CLI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from auditapp.core.model import Finding, Reason, Run, Severity, Status
from auditapp.core.review_layer import ReviewLayer, run_day

#: Statuses after which an earlier failure counts as repaired.
_REPAIRED = (Status.PASS, Status.NOT_APPLICABLE)


@dataclass(frozen=True)
class ComparedResult:
    """One result in a comparison; ``before``/``after`` are None where the run has no such result."""

    rule: str
    subject: str
    severity: Severity
    previous_severity: Severity | None
    before: Status | None
    after: Status | None


@dataclass(frozen=True)
class RunComparison:
    """The differences in open results between an earlier and a later run."""

    new: tuple[ComparedResult, ...]
    fixed: tuple[ComparedResult, ...]
    unchanged: tuple[ComparedResult, ...]
    changed: tuple[ComparedResult, ...]
    not_retested: tuple[ComparedResult, ...]
    #: Open before, failed now but covered by an acceptance: neither fixed nor still open.
    accepted: tuple[ComparedResult, ...]
    #: Why the difference says nothing about the domain (``compare.after_degraded`` or
    #: ``compare.before_degraded``, rendered with :func:`auditapp.catalog.wording.render_reason`);
    #: None for a comparison of two healthy runs.
    caveat: Reason | None = None

    GROUPS = ("new", "fixed", "changed", "not_retested", "accepted", "unchanged")

    @property
    def meaningful(self) -> bool:
        """False when either run is degraded: show the caveat, never the difference as progress."""
        return self.caveat is None

    def group(self, name: str) -> tuple[ComparedResult, ...]:
        if name not in self.GROUPS:
            raise KeyError(name)
        return getattr(self, name)  # type: ignore[no-any-return]


def compare_runs(before: Run, after: Run, *, layer: ReviewLayer | None = None,
                 rule_order: Mapping[str, int] | None = None) -> RunComparison:
    """Compare the open results of ``before`` with those of ``after`` by (rule, subject).

    ``layer`` is the project's review (:meth:`ReviewLayer.of`), applied to both runs.
    Lists are ordered worst first, then by ``rule_order`` (the catalog's order when given),
    then by subject, the order the report uses.
    """
    review = layer or ReviewLayer()
    day_before, day_after = run_day(before), run_day(after)
    order = rule_order or {}
    is_open = review.is_open
    effective_severity = review.effective_severity

    now = {f.key: f for f in after.findings}
    was_open = {f.key: f for f in before.findings if is_open(f, day_before)}
    new, fixed, unchanged, changed, not_retested, accepted = [], [], [], [], [], []

    def item(current: Finding | None, old: Finding | None) -> ComparedResult:
        # A result that was not re-tested is listed with the severity it had when it was open.
        shown = current if current is not None and current.status not in (Status.NOT_TESTED, Status.ERROR) else old
        shown = shown or current
        assert shown is not None
        sev = effective_severity(shown)
        prev = effective_severity(old) if old is not None else None
        return ComparedResult(shown.rule, shown.subject, sev, prev, old.status if old else None,
                              current.status if current else None)

    for key, f in now.items():
        if is_open(f, day_after) and key not in was_open:
            new.append(item(f, None))
    for key, old in was_open.items():
        current = now.get(key)
        if current is None or current.status in (Status.NOT_TESTED, Status.ERROR):
            not_retested.append(item(current, old))
        elif current.status in _REPAIRED and after.degraded:
            not_retested.append(item(current, old))  # a pass among timeouts is no proof of a repair
        elif current.status in _REPAIRED:
            fixed.append(item(current, old))
        elif not is_open(current, day_after):
            accepted.append(item(current, old))
        elif effective_severity(current) is effective_severity(old):
            unchanged.append(item(current, old))
        else:
            changed.append(item(current, old))

    def ordered(rows: list[ComparedResult]) -> tuple[ComparedResult, ...]:
        return tuple(sorted(rows, key=lambda r: (-r.severity.rank, order.get(r.rule, len(order)), r.rule, r.subject)))

    caveat = None
    if after.degraded:
        caveat = Reason("compare.after_degraded", {"resolver": after.resolver})
    elif before.degraded:
        caveat = Reason("compare.before_degraded", {"resolver": before.resolver})
    return RunComparison(new=ordered(new), fixed=ordered(fixed), unchanged=ordered(unchanged),
                         changed=ordered(changed), not_retested=ordered(not_retested), accepted=ordered(accepted),
                         caveat=caveat)
