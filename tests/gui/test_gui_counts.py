"""One truth for every number (issue 14): the Audit page, Findings, History, the report and the CLI agree.

The project has the three things that made the screens disagree before: an accepted risk in
force, an acceptance that had expired by the run's day, and a reviewer's severity override.
Every count is compared with :func:`auditapp.core.review_layer.run_summary` and with the others.
"""

from __future__ import annotations

import re

from auditapp.core.model import Finding, Reason, Run, Severity, Status
from auditapp.core.project import Project
from auditapp.core.review import accept_risk, override_severity
from auditapp.core.review_layer import ReviewLayer, run_summary
from auditapp.gui.qmodels.runs_model import COLUMNS
from auditapp.report.from_project import project_document

STARTED = "2026-11-20T09:00:00+00:00"


def _f(rule: str, status: Status, severity: Severity, subject: str = "example.com") -> Finding:
    reason = Reason("reason.services_off") if status is Status.NOT_TESTED else None
    return Finding(rule, status, severity, subject, "missing" if status is Status.FAIL else "pass", reason=reason)


def _project() -> Project:
    run = Run(id="r1", started=STARTED, finished=STARTED, tool_version="t", catalog_version="c", resolver="x",
              target={"domain": "example.com"}, duration_s=3.0, findings=[
                  _f("SPF-MISSING", Status.FAIL, Severity.HIGH),       # accepted, in force
                  _f("DMARC-MISSING", Status.FAIL, Severity.MEDIUM),   # accepted, expired before the run
                  _f("DKIM-WEAK-KEY", Status.FAIL, Severity.LOW, "mail._domainkey.example.com"),  # overridden to high
                  _f("MTA-STS-MISSING", Status.FAIL, Severity.LOW),
                  _f("TLSRPT-MISSING", Status.PASS, Severity.LOW),
                  _f("DKIM-NO-KEY", Status.NOT_TESTED, Severity.HIGH),
              ])
    project = Project(name="Kunde", domain="example.com", runs=[run])
    accept_risk(project, "SPF-MISSING", "*", "bewusst", "Anna", expires="2027-06-30")
    accept_risk(project, "DMARC-MISSING", "*", "damals", "Anna", expires="2026-11-01")
    override_severity(project, "DKIM-WEAK-KEY", "*", Severity.HIGH, "Schlüssel zu kurz für uns", "Anna")
    return project


def test_every_screen_and_the_report_count_the_same(window, ctx, qtbot) -> None:
    project = _project()
    run = project.runs[0]
    summary = run_summary(run, ReviewLayer.of(project))
    # The review layer applied: SPF accepted, DMARC open again (expired), DKIM-WEAK-KEY high.
    assert summary.accepted == 1 and summary.expired == 1 and summary.overridden == 1
    assert summary.open_by_severity[Severity.HIGH] == 1 and summary.open_by_severity[Severity.MEDIUM] == 1
    assert summary.open_by_severity[Severity.LOW] == 1 and summary.open == 3
    ctx.session.new(project)

    # History's runs table.
    window.go("history")
    history = window.pages["history"]
    row = {column: history.model.index(0, i).data() for i, column in enumerate(COLUMNS)}
    for severity in (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW):
        assert row[severity.value] == str(summary.open_by_severity[severity]), severity
    assert row["not_tested"] == str(summary.untested)

    # Findings: the "open" number, and the overridden severity beside the catalogue's.
    window.go("findings")
    findings = window.pages["findings"]
    assert re.search(rf"· {summary.open} offen", findings.count_label.text()), findings.count_label.text()
    assert findings.proxy.rowCount() == summary.open  # it opens on the open findings
    findings.clear_filters()

    # The Audit page: the table beside the last run shows the effective severity.
    window.go("run")
    live = window.pages["run"].model
    weak = next(i for i, f in enumerate(live.rows) if f.rule == "DKIM-WEAK-KEY")
    assert live.index(weak, 1).data() == "Hoch (Katalog: niedrig)"

    # The report's management summary.
    document = project_document(project, 1, lang="de")
    counts = {c.severity: c.count for c in document.section("summary").body.severity_counts}
    assert counts == {s: summary.open_by_severity[s] for s in counts}
