"""The typed review layer: which entry covers a result, expiry, effective severity, open counts."""

from __future__ import annotations

from datetime import date

import pytest

from auditapp.core.model import Finding, Reason, Run, Severity, Status
from auditapp.core.project import Project
from auditapp.core.review import accept_risk, override_severity
from auditapp.core.review_layer import AcceptedRisk, Review, ReviewLayer, open_counts, run_day
from auditapp.report import build_report

DAY = date(2026, 11, 20)


def _f(rule: str = "SPF-MISSING", status: Status = Status.FAIL, severity: Severity = Severity.HIGH,
       subject: str = "example.com") -> Finding:
    reason = Reason("dns.timeout") if status is Status.NOT_TESTED else None
    return Finding(rule, status, severity, subject, "x", reason=reason)


def _risk(subject: str = "*", expires: str | None = None, rule: str = "SPF-MISSING") -> AcceptedRisk:
    return AcceptedRisk(rule, subject, "j", "A", "2026-01-01T00:00:00+00:00", expires)


def _override(severity: str, subject: str = "example.com", at: str = "2026-01-01", text: str = "t") -> Review:
    return Review("SPF-MISSING", subject, "severity", text, "A", at, Severity(severity))


@pytest.mark.parametrize(("subject", "covered"), [("*", True), ("", True), ("example.com", True),
                                                   ("other.example", False)])
def test_star_and_empty_subjects_cover_every_subject_of_the_rule(subject: str, covered: bool) -> None:
    risk = _risk(subject)
    comment = Review("SPF-MISSING", subject, "comment", "c", "A", "2026-01-01")
    assert risk.covers(_f()) is covered and comment.covers(_f()) is covered
    assert risk.every_subject is (subject in ("*", ""))
    assert not risk.covers(_f("DMARC-MISSING")) and not comment.covers(_f("DMARC-MISSING"))


def test_an_acceptance_expires_on_its_day_not_the_day_after() -> None:
    risk = _risk(expires="2026-11-20")
    assert risk.expiry_day == DAY
    assert not risk.expired_on(date(2026, 11, 19)) and risk.in_force(_f(), date(2026, 11, 19))
    assert risk.expired_on(DAY) and not risk.in_force(_f(), DAY)
    assert not risk.expired_on(None)  # a run without a readable day expires nothing
    assert not _risk().expired_on(DAY) and _risk().expiry_day is None
    # A time is read as the date written, whatever the offset.
    assert _risk(expires="2026-11-20T00:30:00+02:00").expiry_day == DAY


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.FAIL])
def test_only_a_failure_can_be_accepted(status: Status) -> None:
    layer = ReviewLayer((_risk(),))
    assert layer.acceptance_for(_f(status=status), DAY) is None
    assert not layer.is_open(_f(status=status), DAY)
    assert layer.acceptance_for(_f(), DAY) is layer.accepted_risks[0]
    assert not layer.is_open(_f(), DAY)


def test_the_first_recorded_acceptance_in_force_counts_and_expired_ones_are_skipped() -> None:
    expired, exact, star = _risk("*", "2026-01-01"), _risk("example.com"), _risk("*")
    layer = ReviewLayer((expired, star, exact))
    assert layer.acceptance_for(_f(), DAY) is star
    assert layer.acceptances_covering(_f()) == [expired, star, exact]
    # What "withdraw" removes: its own subject first, even expired; else the first "*" entry.
    assert layer.acceptance_entry(_f()) is exact
    assert ReviewLayer((expired, star)).acceptance_entry(_f()) is expired
    assert ReviewLayer().acceptance_entry(_f()) is None


def test_an_override_wins_over_the_catalog_exact_subject_over_star_then_the_latest() -> None:
    finding = _f(severity=Severity.HIGH)
    assert ReviewLayer().effective_severity(finding) is Severity.HIGH
    exact = _override("low", at="2026-01-01")
    star = _override("critical", subject="*", at="2026-06-01")
    comment = Review("SPF-MISSING", "example.com", "comment", "c", "A", "2026-07-01")
    layer = ReviewLayer(reviews=(exact, star, comment))
    assert layer.override_for(finding) is exact and layer.effective_severity(finding) is Severity.LOW
    assert ReviewLayer(reviews=(star, comment)).effective_severity(finding) is Severity.CRITICAL
    later = _override("medium", at="2026-02-01")
    assert ReviewLayer(reviews=(later, exact)).override_for(finding) is later
    # Same subject and same time: the one recorded last wins.
    first, second = _override("low", text="a"), _override("info", text="b")
    assert ReviewLayer(reviews=(first, second)).override_for(finding) is second
    assert layer.comments_for(finding) == [comment]
    assert layer.reviews_covering(_f(subject="other.example")) == [star]


def test_open_counts_apply_acceptances_expiry_and_overrides_on_the_runs_day() -> None:
    run = Run(id="r", started="2026-11-20T23:30:00-02:00", finished="", tool_version="0", catalog_version="c",
              resolver="", target={}, findings=[
                  _f("SPF-MISSING", severity=Severity.HIGH),  # accepted
                  _f("DMARC-MISSING", severity=Severity.MEDIUM),  # acceptance expired on the run's day
                  _f("DKIM-WEAK-KEY", severity=Severity.LOW, subject="sel"),  # overridden to critical
                  _f("MTA-STS-MISSING", status=Status.PASS),
                  _f("TLSRPT-MISSING", status=Status.NOT_TESTED),
              ])
    assert run_day(run) == date(2026, 11, 21)  # the UTC day
    layer = ReviewLayer(
        (_risk(), _risk(rule="DMARC-MISSING", expires="2026-11-21")),
        (Review("DKIM-WEAK-KEY", "*", "severity", "signs invoices", "A", "2026-01-01", Severity.CRITICAL),),
    )
    counts = open_counts(run, layer)
    assert list(counts) == list(Severity)  # every severity, worst first
    assert counts == {Severity.CRITICAL: 1, Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 0, Severity.INFO: 0}
    assert [f.rule for f in layer.open_findings(run)] == ["DMARC-MISSING", "DKIM-WEAK-KEY"]
    # The report's management summary counts the same way.
    doc = build_report(run, lang="en", accepted=layer.accepted_risks, reviews=layer.reviews)
    assert {c.severity: c.count for c in doc.section("summary").body.severity_counts} == counts


def test_entries_keep_the_project_file_shape() -> None:
    risk = _risk(expires="")
    assert list(risk.to_json()) == ["rule", "subject", "justification", "accepted_by", "accepted_at", "expires"]
    assert "expires" not in _risk().to_json()
    assert AcceptedRisk.from_json(risk.to_json()) == risk
    override = Review.from_json({"rule": "SPF-MISSING", "subject": "*", "kind": "severity", "text": "t",
                                 "author": "A", "at": "2026-01-01", "severity": "low"})
    assert override.severity is Severity.LOW and override.is_override
    assert list(override.to_json()) == ["rule", "subject", "kind", "text", "author", "at", "severity"]
    assert override.to_json()["severity"] == "low"
    comment = Review("SPF-MISSING", "*", "comment", "c", "A", "2026-01-01")
    assert "severity" not in comment.to_json() and not comment.is_override


@pytest.mark.parametrize("make", [
    lambda: Review("SPF-MISSING", "*", "note", "t", "A", "2026-01-01"),
    lambda: Review("SPF-MISSING", "*", "severity", "t", "A", "2026-01-01"),
    lambda: Review("SPF-MISSING", "*", "comment", "t", "A", "2026-01-01", Severity.LOW),
    lambda: Review("SPF-MISSING", "*", "severity", "t", "A", "2026-01-01", "urgent"),
    lambda: AcceptedRisk("SPF-MISSING", "*", "j", "A", "yesterday"),
    lambda: AcceptedRisk("SPF-MISSING", "*", "j", "A", "2026-01-01", "soon"),
])
def test_inconsistent_entries_are_refused(make) -> None:
    with pytest.raises(ValueError):
        make()


def test_the_layer_of_a_project_sees_what_the_review_functions_recorded() -> None:
    assert ReviewLayer.of(None) == ReviewLayer()
    project = Project(name="K", domain="example.com")
    risk = accept_risk(project, "SPF-MISSING", "*", "parked domain", "Anna", "2027-06-30")
    override = override_severity(project, "SPF-MISSING", "example.com", "low", "parked", "Anna")
    layer = ReviewLayer.of(project)
    assert layer.acceptance_for(_f(), DAY) is risk and layer.override_for(_f()) is override
    assert isinstance(risk, AcceptedRisk) and risk.expiry_day == date(2027, 6, 30)
