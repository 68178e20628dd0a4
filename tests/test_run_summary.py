"""One source for every count (issue 14, item 2): the report, the CLI and ``run_summary`` agree.

A real run of the demo zones (our DNS responder on loopback) is recorded in a project with an
accepted risk in force, an acceptance that expired before the run and a severity override;
then the report's numbers, the terminal summary's totals line and ``--fail-on`` are compared
with :func:`auditapp.core.review_layer.run_summary`. The window's pages are checked against the
same function in the GUI tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditapp.catalog import CATEGORIES
from auditapp.cli.main import main
from auditapp.cli.summary import print_summary
from auditapp.core.grading import Grade
from auditapp.core.model import Run, Severity, Status
from auditapp.core.project import Project
from auditapp.core.project_io import load_project, save_project
from auditapp.core.review import accept_risk, override_severity
from auditapp.core.review_layer import ReviewLayer, open_counts, run_summary
from auditapp.lab.demo import DEMO_DNSBL, DEMO_DOMAIN, DEMO_HELO, DEMO_IPS, DEMO_SELECTOR, DEMO_ZONES
from auditapp.lab.dnsserver import LabDnsServer, RecordSet
from auditapp.report.from_project import project_document


@pytest.fixture(scope="module")
def lab() -> Iterator[LabDnsServer]:
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES)) as server:
        yield server


@pytest.fixture()
def reviewed(tmp_path: Path, lab: LabDnsServer) -> Path:
    """A project with one recorded run and three kinds of review entries on its high findings."""
    path = tmp_path / "reviewed.auditproj"
    save_project(Project(name="Beispiel GmbH", domain=DEMO_DOMAIN, server_ips=list(DEMO_IPS), helo=DEMO_HELO,
                         dkim_selectors=[DEMO_SELECTOR], dnsbl_zones=[DEMO_DNSBL], nameservers=[lab.address],
                         probe_services=False), path)
    assert main(["audit", "--project", str(path), "--timeout", "2", "--lang", "en", "--json",
                 str(tmp_path / "first.json")]) == 0
    project = load_project(path)
    highs = sorted({f.rule for f in project.runs[0].findings
                    if f.status is Status.FAIL and f.severity is Severity.HIGH})
    assert len(highs) >= 3, highs
    accept_risk(project, highs[0], "*", "Der Anbieter behebt das bis Quartalsende.", "E. Muster")
    accept_risk(project, highs[1], "*", "Galt nur bis 2020.", "E. Muster", expires="2020-01-31")
    override_severity(project, highs[2], "*", "low", "Nur ein Testsystem.", "E. Muster")
    save_project(project, path)
    return path


def totals(out: str) -> dict[str, object]:
    """The numbers of the terminal summary's totals line (English)."""
    line = next(x for x in out.splitlines() if x.startswith("Totals: "))
    found: dict[str, object] = {}
    for label, key in (("pass", "passed"), ("open", "open"), ("accepted", "accepted"),
                       ("not applicable", "not_applicable"), ("not tested", "not_tested"), ("error", "errors")):
        m = re.search(rf"(?:: | · ){label} (\d+)", line)
        found[key] = int(m.group(1)) if m else 0
    severities = re.search(r"open \d+ \(([^)]*)\)", line)
    per = dict.fromkeys(Severity, 0)
    for part in (severities.group(1).split(", ") if severities else ()):
        n, name = part.split(" ", 1)
        per[Severity(name)] = int(n)
    found["by_severity"] = per
    found["grade"] = line.rsplit("Overall grade: ", 1)[1]
    return found


def test_report_cli_and_run_summary_agree(reviewed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = load_project(reviewed)
    layer = ReviewLayer.of(project)
    run: Run = project.runs[-1]
    s = run_summary(run, layer)

    # the review changed the numbers (else the test would prove nothing)
    plain = run_summary(run)
    assert s.accepted >= 1 and s.expired >= 1 and s.overridden >= 1
    assert s.open_by_severity != plain.open_by_severity
    assert s.open == plain.open - s.accepted
    assert dict(s.open_by_severity) == open_counts(run, layer)

    # the report
    summary = project_document(project, lang="en").section("summary").body
    assert {c.severity: c.count for c in summary.severity_counts} == dict(s.open_by_severity)
    assert summary.grade is s.grade and summary.worst_category == s.worst_category
    assert [light.category for light in summary.lights] == list(CATEGORIES)
    for light in summary.lights:
        c = s.categories[light.category]
        assert (light.grade, light.failed, light.passed, light.not_tested, light.accepted) == (
            c.grade, c.open, c.passed, c.untested, c.accepted), light.category
    accepted_note = "One result is registered" if s.accepted == 1 else f"{s.accepted} results are registered"
    assert any(note.startswith(accepted_note) for note in summary.notes)

    # the terminal summary of the same run, with the project's review
    capsys.readouterr()
    print_summary(run, "en", layer=layer)
    got = totals(capsys.readouterr().out)
    assert got["by_severity"] == dict(s.open_by_severity)
    assert (got["open"], got["accepted"], got["passed"], got["not_applicable"], got["not_tested"], got["errors"]) \
        == (s.open, s.accepted, s.passed, s.not_applicable, s.not_tested, s.errors)
    assert got["grade"] == (s.grade.value if s.grade is not Grade.NOT_ASSESSED else "none (nothing tested)")


def test_audit_project_prints_and_fails_on_the_reviewed_numbers(reviewed: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """``audit --project`` applies the review to its summary and to ``--fail-on``."""
    capsys.readouterr()
    code = main(["audit", "--project", str(reviewed), "--timeout", "2", "--lang", "en", "--fail-on", "high"])
    out = capsys.readouterr().out
    project = load_project(reviewed)
    s = run_summary(project.runs[-1], ReviewLayer.of(project))
    assert totals(out)["by_severity"] == dict(s.open_by_severity)
    assert code == (1 if s.open_at_least(Severity.HIGH) else 0)
    assert "Accepted risks (" in out
    assert "(catalogue: high)" in out  # the override shows the catalogue's severity beside it


def test_fail_on_ignores_an_accepted_risk_but_not_an_expired_one(reviewed: Path) -> None:
    """High results left open (the expired acceptance's among them) fail; accepting them all lets ``high`` pass."""
    project = load_project(reviewed)
    run = project.runs[-1]
    layer = ReviewLayer.of(project)
    open_high = {f.rule for f in layer.open_findings(run) if layer.effective_severity(f).rank >= Severity.HIGH.rank}
    for rule in sorted(open_high):
        accept_risk(project, rule, "*", "Bewusst hingenommen.", "E. Muster")
    save_project(project, reviewed)
    assert run_summary(run).open_at_least(Severity.HIGH) > 0  # the catalogue's view still fails
    assert main(["report", "--project", str(reviewed), "--pdf", str(reviewed.with_suffix(".pdf")),
                 "--lang", "de"]) == 0
    from auditapp.cli.inputs import exit_code

    assert exit_code(run, "high", ReviewLayer.of(load_project(reviewed))) == 0
    assert exit_code(run, "high") == 1


def test_the_json_of_audit_project_carries_the_reports_numbers(reviewed: Path, tmp_path: Path) -> None:
    """``audit --project --json``: the summary's review block equals run_summary with the project's review.

    ``total``, ``by_status`` and ``failed_by_severity`` stay the catalogue's view (they were in the
    schema first); the added fields are what the report, the window and ``--fail-on`` show.
    """
    import json

    out = tmp_path / "reviewed.json"
    assert main(["audit", "--project", str(reviewed), "--timeout", "2", "--lang", "en", "--json", str(out)]) == 0
    project = load_project(reviewed)
    run = project.runs[-1]
    s, plain = run_summary(run, ReviewLayer.of(project)), run_summary(run)
    summary = json.loads(out.read_text("utf-8"))["summary"]
    assert summary["accepted"] == s.accepted >= 1 and summary["overridden"] == s.overridden >= 1
    assert summary["open_by_severity"] == {sev.value: n for sev, n in s.open_by_severity.items()}
    assert summary["open_by_severity"] != {sev.value: n for sev, n in plain.open_by_severity.items()}
    assert summary["grade"] == s.grade.value and summary["worst_category"] == s.worst_category
    for name, c in s.categories.items():
        assert (summary["categories"][name]["grade"], summary["categories"][name]["open"]) == (c.grade.value, c.open)
    # the catalogue's view is unchanged: every failure, accepted or not, at its catalogue severity
    assert summary["by_status"]["fail"] == s.failed
    assert sum(summary["failed_by_severity"].values()) == s.failed
    # the first run, recorded before any review, has the catalogue's numbers in both places
    first = json.loads((tmp_path / "first.json").read_text("utf-8"))["summary"]
    assert sum(first["open_by_severity"].values()) == first["by_status"]["fail"] and first["accepted"] == 0
