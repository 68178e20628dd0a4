"""The history page: the runs table, comparing two runs, showing one in Findings, deleting one."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QTreeWidgetItem

from auditapp.core.model import Finding, Reason, Run, Severity, Status
from auditapp.core.project import Project
from auditapp.gui.pages.history_page import HistoryPage
from auditapp.gui.qmodels.runs_model import COLUMNS

pytestmark = pytest.mark.gui


def _f(rule: str, status: Status, severity: Severity = Severity.MEDIUM, subject: str = "example.com") -> Finding:
    reason = Reason("reason.timeout") if status is Status.NOT_TESTED else None
    return Finding(rule, status, severity, subject, "missing", reason=reason)


def _run(run_id: str, started: str, findings: list[Finding], cancelled: bool = False) -> Run:
    return Run(id=run_id, started=started, finished=started, tool_version="0.1.0", catalog_version="abc123",
               resolver="192.0.2.53", target={"domain": "example.com"}, findings=findings, cancelled=cancelled,
               duration_s=12.5)


def _project() -> Project:
    first = _run("one", "2026-11-01T09:00:00+00:00", [
        _f("SPF-MISSING", Status.FAIL, Severity.HIGH),
        _f("DMARC-MISSING", Status.FAIL),
        _f("MTA-STS-MISSING", Status.FAIL, Severity.LOW),
        _f("DKIM-WEAK-KEY", Status.FAIL, Severity.LOW, "mail._domainkey.example.com"),
        _f("TLSRPT-MISSING", Status.PASS, Severity.LOW),
    ])
    second = _run("two", "2026-11-20T09:00:00+00:00", [
        _f("SPF-MISSING", Status.PASS, Severity.HIGH),  # fixed
        _f("DMARC-MISSING", Status.FAIL),  # unchanged
        _f("MTA-STS-MISSING", Status.NOT_TESTED, Severity.LOW),  # not re-tested, never "fixed"
        _f("DKIM-WEAK-KEY", Status.FAIL, Severity.HIGH, "mail._domainkey.example.com"),  # changed severity
        _f("TLSRPT-MISSING", Status.FAIL, Severity.LOW),  # new
    ], cancelled=True)
    return Project(name="Kunde", domain="example.com", runs=[first, second])


def _page(ctx, qtbot, project: Project) -> HistoryPage:
    ctx.session.new(project)
    page = HistoryPage(ctx)
    qtbot.addWidget(page)
    page.resize(1100, 760)
    return page


def _group(page: HistoryPage, index: int) -> list[tuple[str, ...]]:
    top: QTreeWidgetItem = page.tree.topLevelItem(index)
    return [tuple(top.child(i).text(c) for c in range(5)) for i in range(top.childCount())]


def _groups(page: HistoryPage) -> dict[str, list[tuple[str, ...]]]:
    names = ("new", "fixed", "changed", "not_retested", "accepted", "unchanged")
    assert page.tree.topLevelItemCount() == len(names)
    return {name: _group(page, i) for i, name in enumerate(names)}


def test_runs_table_counts_failures_by_severity(ctx, qtbot) -> None:
    page = _page(ctx, qtbot, _project())
    model = page.model
    assert model.rowCount() == 2

    def cell(row: int, column: str) -> str:
        return model.index(row, COLUMNS.index(column)).data()

    assert [cell(0, "number"), cell(1, "number")] == ["1", "2"]
    assert cell(0, "high") == "1" and cell(0, "medium") == "1" and cell(0, "low") == "2"
    assert cell(1, "high") == "1" and cell(1, "low") == "1" and cell(1, "not_tested") == "1"
    assert cell(0, "results") == "5" and cell(0, "duration") == "12 s"
    assert cell(0, "state") == "vollständig" and cell(1, "state") == "abgebrochen"
    assert "abc123" in cell(0, "version")
    assert model.headerData(COLUMNS.index("critical"), Qt.Orientation.Horizontal) == "Kritisch"
    assert cell(0, "started").startswith("01.11.2026")
    assert page.selected_number() == 2  # the latest run is selected


def test_comparison_defaults_to_previous_versus_latest(ctx, qtbot) -> None:
    page = _page(ctx, qtbot, _project())
    assert (page.before_combo.currentData(), page.after_combo.currentData()) == (1, 2)
    assert page.after_combo.currentText().endswith("(abgebrochen)")
    groups = _groups(page)
    assert [(r[0], r[2]) for r in groups["new"]] == [("TLSRPT-MISSING", "example.com")]
    assert [r[0] for r in groups["fixed"]] == ["SPF-MISSING"]
    assert groups["changed"] == [("DKIM-WEAK-KEY", "DKIM-Schlüssel zu kurz", "mail._domainkey.example.com",
                                  "Niedrig → Hoch", "Befund")]
    assert [(r[0], r[4]) for r in groups["not_retested"]] == [("MTA-STS-MISSING", "Nicht getestet")]
    assert [r[0] for r in groups["unchanged"]] == ["DMARC-MISSING"]
    assert groups["accepted"] == []
    from auditapp.catalog import catalog

    assert groups["new"][0][1] == catalog()["TLSRPT-MISSING"].title.de
    summary = page.summary.text()
    assert "<b>1</b> neu" in summary and "<b>1</b> behoben" in summary and "<b>1</b> nicht erneut geprüft" in summary


def test_comparison_of_any_two_runs_and_acceptance(ctx, qtbot) -> None:
    project = _project()
    third = _run("three", "2026-11-25T09:00:00+00:00", [_f("DMARC-MISSING", Status.FAIL)])
    project.runs.append(third)
    page = _page(ctx, qtbot, project)
    # The default compares the newest run with the complete run before it: run 2 was cancelled.
    assert (page.before_combo.currentData(), page.after_combo.currentData()) == (1, 3)
    assert page.before_combo.currentText().startswith("Lauf 1 – 01.11.2026 ")
    assert page.before_combo.currentText().count(":") == 2  # the time with seconds
    page.before_combo.setCurrentIndex(page.before_combo.findData(1))
    groups = _groups(page)
    assert sorted(r[0] for r in groups["not_retested"]) == ["DKIM-WEAK-KEY", "MTA-STS-MISSING", "SPF-MISSING"]
    assert [r[4] for r in groups["not_retested"]] == ["Nicht im Lauf"] * 3

    page.set_comparison(2, 1)  # reversed: what was new is now fixed
    groups = _groups(page)
    assert [r[0] for r in groups["fixed"]] == ["TLSRPT-MISSING"]
    assert "vertauscht" in page.summary.text()

    # Accepting a risk through the session updates the comparison of the page.
    from auditapp.core.review import accept_risk

    page.set_comparison(1, 2)
    ctx.session.edit(lambda p: accept_risk(p, "DMARC-MISSING", "*", "bewusst", "Anna"), None)
    groups = _groups(page)
    assert groups["unchanged"] == [] and groups["accepted"] == []  # accepted in both runs: open in neither
    assert (page.before_combo.currentData(), page.after_combo.currentData()) == (1, 2)  # choice kept


def test_show_in_findings_switches_page_and_run(ctx, qtbot, window) -> None:
    project = _project()
    ctx.session.new(project)
    history = window.pages["history"]
    window.go("history")
    history.select_run(1)
    with qtbot.waitSignal(ctx.show_run) as shown:
        qtbot.mouseClick(history.show_button, Qt.MouseButton.LeftButton)
    assert shown.args == [1]
    assert window.current_key() == "findings"
    findings = window.pages["findings"]
    assert findings.run_number == 1 and findings.model.rowCount() == 5
    ctx.session.close()  # nothing unsaved: closing the window must not ask


def test_delete_run_after_confirmation(ctx, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    page = _page(ctx, qtbot, _project())
    asked: list[str] = []

    def answer(result: QMessageBox.StandardButton):
        def question(_parent, _title, text, *_args):
            asked.append(text)
            return result
        return question

    page.select_run(1)
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel))
    page.delete_button.click()
    assert len(ctx.session.project.runs) == 2 and "Lauf 1 – 01.11.2026" in asked[0]

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    page.delete_button.click()
    assert [r.id for r in ctx.session.project.runs] == ["two"]
    assert ctx.session.modified
    assert page.model.rowCount() == 1
    assert page.before_combo.count() == page.after_combo.count() == 1
    assert "zweiten Lauf" in page.runs_hint.text()


def test_empty_project_and_english(ctx, qtbot) -> None:
    page = _page(ctx, qtbot, Project(name="Kunde", domain="example.com"))
    assert page.empty.isVisibleTo(page) and not page.splitter.isVisibleTo(page)
    assert not page.show_button.isEnabled() and not page.delete_button.isEnabled()

    from auditapp.gui import i18n

    i18n.set_language("en")  # the gui_lang fixture switches back afterwards
    project = _project()
    project.runs[1] = dataclasses.replace(project.runs[1], cancelled=False)
    english = _page(ctx, qtbot, project)
    assert english.after_combo.currentText().startswith("Run 2 – 2026-11-20")
    assert "<b>1</b> fixed" in english.summary.text()
    assert _group(english, 2)[0][3] == "Low → High"
    assert english.delete_button.text() == "Delete run…" and english.delete_button.toolTip()


def test_the_comparison_follows_the_newest_run_until_the_user_picks_a_pair(ctx, qtbot) -> None:
    project = _project()
    project.runs[1] = dataclasses.replace(project.runs[1], cancelled=False)
    page = _page(ctx, qtbot, project)
    assert (page.before_combo.currentData(), page.after_combo.currentData()) == (1, 2)
    third = _run("three", "2026-11-25T09:00:00+00:00", [_f("DMARC-MISSING", Status.FAIL)])
    ctx.session.edit(lambda p: p.runs.append(third), None)  # as a finished audit does
    assert (page.before_combo.currentData(), page.after_combo.currentData()) == (2, 3)
    page.before_combo.setCurrentIndex(page.before_combo.findData(1))  # picked by hand: kept
    fourth = _run("four", "2026-11-26T09:00:00+00:00", [_f("DMARC-MISSING", Status.PASS)])
    ctx.session.edit(lambda p: p.runs.append(fourth), None)
    assert (page.before_combo.currentData(), page.after_combo.currentData()) == (1, 3)
    degraded = dataclasses.replace(fourth, id="five", degraded=True)
    ctx.session.new(Project(name="K", domain="example.com", runs=[project.runs[0], degraded, third]))
    assert (page.before_combo.currentData(), page.after_combo.currentData()) == (1, 3)  # never the degraded run
    assert "ohne Aussagekraft" in page.after_combo.itemText(page.after_combo.findData(2))
