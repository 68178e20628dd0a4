"""What changed between any two runs of a project, with the review layer applied to both.

The report compares the latest run with the one before (:func:`auditapp.report.model._delta`);
the GUI's history page compares any two runs the consultant picks. Both follow the same
honest rule: only a result that is tested again and now passes (or no longer applies) is
"fixed". A previously open result that is now not tested, errored or missing from the run is
"not re-tested", because a timeout or a skipped probe must never read as a repair.

"Open" means failed and not covered by a valid accepted-risk entry. Acceptances and severity
overrides come from the project and apply to both runs, so an override never shows up as a
changed severity, and a risk accepted since the earlier run is listed on its own instead of
as fixed. Acceptances are checked against each run's own day, as the report does, so an
acceptance that had expired by the later run makes that result count again.

This module is Qt-free so the rule can be unit-tested and reused by the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from auditapp.core.model import Finding, Run, Severity, Status

#: Statuses after which an earlier failure counts as repaired.
_REPAIRED = (Status.PASS, Status.NOT_APPLICABLE)


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def run_day(run: Run) -> date | None:
    """The (UTC) day a run started, against which acceptance expiry dates are checked."""
    parsed = _parse(run.started) or _parse(run.finished)
    return parsed.astimezone(UTC).date() if parsed else None


def _covers(entry: Mapping[str, Any], finding: Finding) -> bool:
    return entry.get("rule") == finding.rule and entry.get("subject", "") in ("", "*", finding.subject)


def acceptance_for(finding: Finding, accepted_risks: Iterable[Mapping[str, Any]],
                   day: date | None) -> Mapping[str, Any] | None:
    """The accepted-risk entry in force for a failed result on ``day``, or None.

    Only failures can be accepted: a passing result needs no acceptance, and an untested one
    must stay visible as untested. An entry whose expiry day has been reached no longer counts.
    """
    if finding.status is not Status.FAIL:
        return None
    for entry in accepted_risks:
        if not _covers(entry, finding):
            continue
        expires = _parse(entry.get("expires"))
        if expires is not None and day is not None and expires.date() <= day:
            continue
        return entry
    return None


def override_for(finding: Finding, reviews: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The severity override that applies: an exact subject beats ``"*"``, then the latest wins."""
    overrides = [r for r in reviews if r.get("kind") == "severity" and _covers(r, finding) and r.get("severity")]
    if not overrides:
        return None
    return max(overrides, key=lambda r: (r.get("subject") == finding.subject, r.get("at", "")))


def effective_severity(finding: Finding, reviews: Iterable[Mapping[str, Any]]) -> Severity:
    """The severity the report uses: the reviewer's override if any, else the catalog's."""
    override = override_for(finding, reviews)
    return Severity(override["severity"]) if override else finding.severity


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

    GROUPS = ("new", "fixed", "changed", "not_retested", "accepted", "unchanged")

    def group(self, name: str) -> tuple[ComparedResult, ...]:
        if name not in self.GROUPS:
            raise KeyError(name)
        return getattr(self, name)  # type: ignore[no-any-return]


def compare_runs(before: Run, after: Run, *, accepted_risks: Sequence[Mapping[str, Any]] = (),
                 reviews: Sequence[Mapping[str, Any]] = (), rule_order: Mapping[str, int] | None = None
                 ) -> RunComparison:
    """Compare the open results of ``before`` with those of ``after`` by (rule, subject).

    Lists are ordered worst first, then by ``rule_order`` (the catalog's order when given),
    then by subject, the order the report uses.
    """
    day_before, day_after = run_day(before), run_day(after)
    order = rule_order or {}

    def is_open(f: Finding, day: date | None) -> bool:
        return f.status is Status.FAIL and acceptance_for(f, accepted_risks, day) is None

    now = {f.key: f for f in after.findings}
    was_open = {f.key: f for f in before.findings if is_open(f, day_before)}
    new, fixed, unchanged, changed, not_retested, accepted = [], [], [], [], [], []

    def item(current: Finding | None, old: Finding | None) -> ComparedResult:
        # A result that was not re-tested is listed with the severity it had when it was open.
        shown = current if current is not None and current.status not in (Status.NOT_TESTED, Status.ERROR) else old
        shown = shown or current
        assert shown is not None
        sev = effective_severity(shown, reviews)
        prev = effective_severity(old, reviews) if old is not None else None
        return ComparedResult(shown.rule, shown.subject, sev, prev, old.status if old else None,
                              current.status if current else None)

    for key, f in now.items():
        if is_open(f, day_after) and key not in was_open:
            new.append(item(f, None))
    for key, old in was_open.items():
        current = now.get(key)
        if current is None or current.status in (Status.NOT_TESTED, Status.ERROR):
            not_retested.append(item(current, old))
        elif current.status in _REPAIRED:
            fixed.append(item(current, old))
        elif not is_open(current, day_after):
            accepted.append(item(current, old))
        elif effective_severity(current, reviews) is effective_severity(old, reviews):
            unchanged.append(item(current, old))
        else:
            changed.append(item(current, old))

    def ordered(rows: list[ComparedResult]) -> tuple[ComparedResult, ...]:
        return tuple(sorted(rows, key=lambda r: (-r.severity.rank, order.get(r.rule, len(order)), r.rule, r.subject)))

    return RunComparison(new=ordered(new), fixed=ordered(fixed), unchanged=ordered(unchanged),
                         changed=ordered(changed), not_retested=ordered(not_retested), accepted=ordered(accepted))
