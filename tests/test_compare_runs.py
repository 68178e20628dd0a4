"""Comparing any two runs: new, fixed, unchanged, changed severity, not re-tested, accepted."""

from __future__ import annotations

from dataclasses import replace

from auditapp.core.compare import compare_runs
from auditapp.core.model import Finding, Reason, Run, Severity, Status
from auditapp.core.review_layer import AcceptedRisk, Review, ReviewLayer


def _f(rule: str, status: Status, severity: Severity = Severity.MEDIUM, subject: str = "example.com") -> Finding:
    reason = Reason("reason.timeout") if status is Status.NOT_TESTED else None
    return Finding(rule, status, severity, subject, "x", reason=reason)


def _run(findings: list[Finding], started: str = "2026-11-01T10:00:00+00:00") -> Run:
    return Run(id="r", started=started, finished=started, tool_version="0", catalog_version="c", resolver="",
               target={"domain": "example.com"}, findings=findings)


def _keys(rows: tuple) -> list[tuple[str, str]]:
    return [(r.rule, r.subject) for r in rows]


BEFORE = _run([
    _f("SPF-MISSING", Status.FAIL, Severity.HIGH),  # fixed
    _f("DMARC-MISSING", Status.FAIL),  # unchanged
    _f("DKIM-WEAK-KEY", Status.FAIL, Severity.LOW),  # changed (low -> high)
    _f("MTA-STS-MISSING", Status.FAIL),  # not re-tested (timeout now)
    _f("TLSRPT-MISSING", Status.FAIL, Severity.INFO),  # gone from the later run: not re-tested
    _f("DANE-MISSING", Status.PASS),  # new failure below
    _f("ADSP-RECORD", Status.FAIL, Severity.INFO, "a.example.com"),  # not applicable now: fixed
])
AFTER = _run([
    _f("SPF-MISSING", Status.PASS, Severity.HIGH),
    _f("DMARC-MISSING", Status.FAIL),
    _f("DKIM-WEAK-KEY", Status.FAIL, Severity.HIGH),
    _f("MTA-STS-MISSING", Status.NOT_TESTED),
    _f("DANE-MISSING", Status.FAIL, Severity.CRITICAL),
    _f("ADSP-RECORD", Status.NOT_APPLICABLE, Severity.INFO, "a.example.com"),
    _f("BIMI-MISSING", Status.PASS),
], started="2026-11-20T10:00:00+00:00")


def test_each_open_result_lands_in_exactly_one_group() -> None:
    result = compare_runs(BEFORE, AFTER)
    assert _keys(result.new) == [("DANE-MISSING", "example.com")]
    assert _keys(result.fixed) == [("SPF-MISSING", "example.com"), ("ADSP-RECORD", "a.example.com")]
    assert _keys(result.unchanged) == [("DMARC-MISSING", "example.com")]
    assert _keys(result.changed) == [("DKIM-WEAK-KEY", "example.com")]
    assert result.changed[0].previous_severity is Severity.LOW and result.changed[0].severity is Severity.HIGH
    assert _keys(result.not_retested) == [("MTA-STS-MISSING", "example.com"), ("TLSRPT-MISSING", "example.com")]
    assert result.not_retested[0].after is Status.NOT_TESTED and result.not_retested[1].after is None
    assert result.accepted == ()


def test_not_tested_is_never_fixed_and_error_neither() -> None:
    before = _run([_f("SPF-MISSING", Status.FAIL)])
    for status in (Status.NOT_TESTED, Status.ERROR):
        after = _run([_f("SPF-MISSING", status)])
        result = compare_runs(before, after)
        assert result.fixed == () and _keys(result.not_retested) == [("SPF-MISSING", "example.com")]


def test_comparing_a_run_with_itself_lists_only_unchanged() -> None:
    result = compare_runs(AFTER, AFTER)
    assert result.new == result.fixed == result.changed == result.not_retested == ()
    assert sorted(_keys(result.unchanged)) == [("DANE-MISSING", "example.com"), ("DKIM-WEAK-KEY", "example.com"),
                                               ("DMARC-MISSING", "example.com")]


def test_reversed_order_swaps_new_and_fixed() -> None:
    result = compare_runs(AFTER, BEFORE)
    assert ("SPF-MISSING", "example.com") in _keys(result.new)
    assert _keys(result.fixed) == [("DANE-MISSING", "example.com")]


def test_acceptance_counts_per_run_day() -> None:
    accepted = AcceptedRisk("DMARC-MISSING", "*", "j", "A", "2026-11-10T00:00:00+00:00", expires="2026-11-15")
    # in force on the earlier run's day, expired by the later one: the result counts again, as new
    result = compare_runs(BEFORE, AFTER, layer=ReviewLayer((accepted,)))
    assert ("DMARC-MISSING", "example.com") in _keys(result.new)
    assert ("DMARC-MISSING", "example.com") not in _keys(result.unchanged)
    # valid on both days: not open in either run, so it appears nowhere
    accepted = replace(accepted, expires="2027-01-01")
    result = compare_runs(BEFORE, AFTER, layer=ReviewLayer((accepted,)))
    assert all(("DMARC-MISSING", "example.com") not in _keys(result.group(g)) for g in result.GROUPS)


def test_accepted_between_runs_goes_to_its_own_group() -> None:
    before = _run([_f("DMARC-MISSING", Status.FAIL)], started="2026-10-01T00:00:00+00:00")
    after = _run([_f("DMARC-MISSING", Status.FAIL)], started="2026-12-01T00:00:00+00:00")
    # The acceptance expires between the two runs in reverse: in force for the earlier run only.
    layer = ReviewLayer((AcceptedRisk("DMARC-MISSING", "example.com", "j", "A", "", expires="2026-11-01"),))
    result = compare_runs(after, before, layer=layer)
    assert _keys(result.accepted) == [("DMARC-MISSING", "example.com")]
    assert result.fixed == () and result.unchanged == ()
    # In forward order the result was accepted before and counts again now: new.
    assert _keys(compare_runs(before, after, layer=layer).new) == [("DMARC-MISSING", "example.com")]


def test_overrides_apply_to_both_runs_so_they_are_no_severity_change() -> None:
    override = Review("DKIM-WEAK-KEY", "example.com", "severity", "t", "A", "2026-11-02T00:00:00+00:00", Severity.HIGH)
    result = compare_runs(BEFORE, AFTER, layer=ReviewLayer(reviews=(override,)))
    assert _keys(result.unchanged)[0] == ("DKIM-WEAK-KEY", "example.com")
    assert result.changed == ()


def test_catalog_order_breaks_ties_within_a_severity() -> None:
    before = _run([])
    after = _run([_f("B-RULE", Status.FAIL), _f("A-RULE", Status.FAIL), _f("C-RULE", Status.FAIL, Severity.HIGH)])
    result = compare_runs(before, after, rule_order={"B-RULE": 0, "A-RULE": 1, "C-RULE": 2})
    assert [r.rule for r in result.new] == ["C-RULE", "B-RULE", "A-RULE"]
