"""The findings page and the review dialogs, driven through their real widgets (offscreen)."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
from gui_helpers import run_modal
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QDialog

from auditapp.catalog.wording import render_finding
from auditapp.core.model import Finding, Run, Severity, Status
from auditapp.core.project import Project
from auditapp.core.review import accept_risk, add_comment
from auditapp.gui import i18n
from auditapp.gui.dialogs.review_dialogs import AcceptRiskDialog, CommentDialog, SeverityDialog
from auditapp.gui.pages.findings_page import FindingsPage
from auditapp.gui.qmodels.findings_model import COLUMNS, ROW_ROLE

pytestmark = pytest.mark.gui

HOSTILE = "<font color=red>&<br/>"
WEAK_KEY = ("DKIM-WEAK-KEY", "mail._domainkey.beispiel-gmbh.example")


def _page(ctx, qtbot, project: Project, *, every_status: bool = True) -> FindingsPage:
    """The page for ``project``; it opens on open findings, and ``every_status`` shows all results."""
    ctx.session.new(project)
    page = FindingsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1100, 760)
    assert page.status_filter.currentData() == "open"
    if every_status:
        page.clear_filters()
    return page


def test_the_page_opens_on_open_findings_and_the_rest_is_one_click_away(ctx, qtbot, demo_run_project: Project) -> None:
    run = demo_run_project.runs[-1]
    page = _page(ctx, qtbot, demo_run_project, every_status=False)
    failed = sum(f.status is Status.FAIL for f in run.findings)
    assert page.proxy.rowCount() == failed < len(run.findings)
    assert page.current is not None and page.current.finding.status is Status.FAIL
    page.status_filter.setCurrentIndex(0)
    assert page.proxy.rowCount() == len(run.findings)


def _shown(page: FindingsPage, column: str) -> list[str]:
    col = COLUMNS.index(column)
    return [page.proxy.index(r, col).data() for r in range(page.proxy.rowCount())]


def _rows(page: FindingsPage) -> list:
    return [page.proxy.index(r, 0).data(ROW_ROLE) for r in range(page.proxy.rowCount())]


def _cell(page: FindingsPage, key: tuple[str, str], column: str, role: int = Qt.ItemDataRole.DisplayRole) -> str:
    row = page.model.row_of(key)
    return page.model.index(row, COLUMNS.index(column)).data(role)


def test_table_lists_every_result_and_filters(ctx, qtbot, demo_run_project: Project) -> None:
    run = demo_run_project.runs[-1]
    page = _page(ctx, qtbot, demo_run_project)
    assert page.stack.currentIndex() == 1
    assert page.model.rowCount() == page.proxy.rowCount() == len(run.findings)
    failed = sum(f.status is Status.FAIL for f in run.findings)
    assert page.count_label.text() == f"{len(run.findings)} von {len(run.findings)} · {failed} offen"

    page.severity_filter.setCurrentIndex(page.severity_filter.findData("medium"))
    assert page.proxy.rowCount() == sum(f.severity is Severity.MEDIUM for f in run.findings)
    assert set(_shown(page, "severity")) == {"Mittel"}

    page.status_filter.setCurrentIndex(page.status_filter.findData("open"))
    expected = sum(f.severity is Severity.MEDIUM and f.status is Status.FAIL for f in run.findings)
    assert page.proxy.rowCount() == expected > 0
    assert set(_shown(page, "status")) == {"Befund"}

    page.clear_filters()
    page.status_filter.setCurrentIndex(page.status_filter.findData("not_tested"))
    assert page.proxy.rowCount() == sum(f.status is Status.NOT_TESTED for f in run.findings)

    page.clear_filters()
    qtbot.keyClicks(page.search, "dmarc")
    dmarc = [f for f in run.findings if "DMARC" in f.rule or "dmarc" in f.subject]
    assert page.proxy.rowCount() >= len(dmarc) > 0
    assert all("dmarc" in r.haystack for r in _rows(page))
    page.search.clear()
    qtbot.keyClicks(page.search, "weak-key mail._domainkey")  # every word must match
    assert [r.key for r in _rows(page)] == [WEAK_KEY]
    assert page.current is not None and page.current.key == WEAK_KEY  # the only match is selected

    page.clear_filters()
    page.category_filter.setCurrentIndex(page.category_filter.findData("policy_legal"))
    assert set(_shown(page, "category")) == {"Richtlinien und Recht"}


def test_severity_sorts_by_rank_not_by_name(ctx, qtbot, demo_run_project: Project) -> None:
    page = _page(ctx, qtbot, demo_run_project)
    page.show()
    qtbot.waitExposed(page)
    rows = _rows(page)
    # The default, worst first: open findings by severity, then everything else; a passed
    # critical check never heads the list.
    failed = [r for r in rows if r.status == "fail"]
    assert rows[:len(failed)] == failed
    ranks = [r.severity.rank for r in failed]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] > ranks[-1]
    medium = [r.status for r in rows if r.severity is Severity.MEDIUM]
    assert medium.index("fail") < medium.index("pass")

    header = page.table.horizontalHeader()
    x = header.sectionViewportPosition(COLUMNS.index("severity")) + 10
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
    failed = [r for r in _rows(page) if r.status == "fail"]
    assert _rows(page)[-len(failed):] == failed
    ranks = [r.severity.rank for r in failed]
    assert ranks == sorted(ranks) and ranks[0] < ranks[-1]
    labels = list(dict.fromkeys(_shown(page, "severity")))
    assert labels != sorted(labels)  # alphabetical order would put "Hinweis" before "Niedrig"

    page.table.sortByColumn(COLUMNS.index("rule"), Qt.SortOrder.AscendingOrder)
    rules = _shown(page, "rule")
    assert rules == sorted(rules, key=str.casefold)


def test_detail_pane_in_german_and_english(ctx, qtbot, demo_run_project: Project) -> None:
    run = demo_run_project.runs[-1]
    finding = next(f for f in run.findings if f.key == WEAK_KEY)
    page = _page(ctx, qtbot, demo_run_project)
    assert page.select_finding(*WEAK_KEY)
    de = render_finding(finding, "de")
    assert de["title"] in page.title_label.text()
    assert "Schweregrad <b>niedrig</b>" in page.meta_label.text()
    assert WEAK_KEY[1] in page.subject_label.text()
    assert page.detail_label.text() == de["detail"] and "1024" in de["detail"]
    assert page.explanation_label.text() == de["explanation"]
    assert page.remediation_block.toPlainText() == de["remediation"] != ""
    assert page.evidence_block.toPlainText() == "\n".join(finding.evidence)
    assert all(ref in page.references_label.text() for ref in de["references"])
    assert "Noch keine Vermerke" in page.review_label.text()
    assert not page.reset_button.isVisibleTo(page) and not page.withdraw_button.isVisibleTo(page)

    page.copy_button.click()
    assert QApplication.clipboard().text() == de["remediation"]

    # A not-tested result explains why and offers no acceptance.
    untested = next(f for f in run.findings if f.status is Status.NOT_TESTED)
    page.select_finding(untested.rule, untested.subject)
    assert page.reason_label.isVisibleTo(page) and page.reason_label.text() == render_finding(untested, "de")["reason"]
    assert not page.accept_button.isEnabled()

    i18n.set_language("en")  # the gui_lang fixture switches back afterwards
    english = FindingsPage(ctx)
    qtbot.addWidget(english)
    assert english.select_finding(*WEAK_KEY)
    en = render_finding(finding, "en")
    assert en["title"] in english.title_label.text() and en["title"] != de["title"]
    assert "Severity <b>low</b>" in english.meta_label.text()
    assert english.remediation_block.toPlainText() == en["remediation"]
    assert english.count_label.text().endswith("open")
    assert english.accept_button.text() == "Accept risk…"
    assert _cell(english, WEAK_KEY, "status") == "Finding"


def _hostile_project() -> Project:
    finding = Finding("DMARC-MISSING", Status.FAIL, Severity.MEDIUM, HOSTILE, "missing",
                      params={"domain": HOSTILE, "checked": HOSTILE}, evidence=(f'_dmarc TXT "{HOSTILE}"',))
    run = Run(id="h", started="2026-11-28T13:02:00+00:00", finished="2026-11-28T13:02:01+00:00", tool_version="0",
              catalog_version="c", resolver="", target={"domain": "example.com"}, findings=[finding])
    project = Project(name="Kunde", domain="example.com", runs=[run])
    add_comment(project, "DMARC-MISSING", HOSTILE, f"note {HOSTILE}", f"Eve {HOSTILE}")
    accept_risk(project, "DMARC-MISSING", HOSTILE, f"why {HOSTILE}", "Eve")
    return project


def test_network_and_reviewer_text_is_escaped_in_rich_text(ctx, qtbot) -> None:
    page = _page(ctx, qtbot, _hostile_project())
    assert page.current is not None and page.current.finding.subject == HOSTILE
    escaped = "&lt;font color=red&gt;&amp;&lt;br/&gt;"
    rich = [page.title_label, page.meta_label, page.subject_label, page.review_label, page.references_label]
    assert escaped in page.subject_label.text()
    assert page.review_label.text().count(escaped) == 3  # comment text, its author, the justification
    for label in rich:
        assert label.textFormat() == Qt.TextFormat.RichText
        assert "<font" not in label.text() and "<br/>" not in label.text()
    # Plain-text widgets show the characters as they are (they never interpret markup).
    assert page.detail_label.textFormat() == Qt.TextFormat.PlainText and HOSTILE in page.detail_label.text()
    assert page.evidence_block.toPlainText() == f'_dmarc TXT "{HOSTILE}"'
    assert _cell(page, ("DMARC-MISSING", HOSTILE), "subject") == HOSTILE
    # Tooltips are guessed to be rich text by Qt, so they are escaped as well.
    for column in ("subject", "status"):
        tip = _cell(page, ("DMARC-MISSING", HOSTILE), column, Qt.ItemDataRole.ToolTipRole)
        assert escaped in tip and "<font" not in tip
    # The dialogs' headers escape the subject too.
    dialog = CommentDialog(ctx, page.current.finding, page)
    qtbot.addWidget(dialog)
    assert escaped in dialog.header.text() and "<font" not in dialog.header.text()


def test_accept_risk_through_the_dialog_then_withdraw(ctx, qtbot, demo_run_project: Project) -> None:
    page = _page(ctx, qtbot, demo_run_project)
    page.select_finding(*WEAK_KEY)
    open_before = sum(r.is_open for r in page.model.rows)

    def fill(dialog: QDialog) -> None:
        assert isinstance(dialog, AcceptRiskDialog)
        assert not dialog.ok.isEnabled()
        qtbot.keyClicks(dialog.justification.edit, "Schluesseltausch im 1. Quartal geplant")
        assert not dialog.ok.isEnabled()  # no author yet
        assert dialog.author_message.text() != ""
        qtbot.keyClicks(dialog.author, "Anna Berger")
        dialog.expires_check.setChecked(True)
        assert dialog.ok.isEnabled()
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)

    dialog = run_modal(qtbot, page.accept_button.click, fill)
    assert dialog.result() == QDialog.DialogCode.Accepted
    [entry] = ctx.session.project.accepted_risks
    assert entry.key == WEAK_KEY
    assert entry.justification == "Schluesseltausch im 1. Quartal geplant"
    assert entry.accepted_by == "Anna Berger" and entry.expires is not None and len(entry.expires) == 10
    assert ctx.settings.reviewer == "Anna Berger"
    assert ctx.session.modified
    assert _cell(page, WEAK_KEY, "status") == "Akzeptiert"
    assert "Anna Berger" in _cell(page, WEAK_KEY, "status", Qt.ItemDataRole.ToolTipRole)
    assert sum(r.is_open for r in page.model.rows) == open_before - 1
    assert page.current is not None and page.current.key == WEAK_KEY  # the selection survives the reload
    assert "Risiko akzeptiert" in page.review_label.text() and "gültig bis" in page.review_label.text()
    assert page.withdraw_button.isVisibleTo(page)
    page.status_filter.setCurrentIndex(page.status_filter.findData("accepted"))
    assert [r.key for r in _rows(page)] == [WEAK_KEY]

    page.withdraw_button.click()
    assert ctx.session.project.accepted_risks == []
    assert _cell(page, WEAK_KEY, "status") == "Befund"


def test_accept_dialog_needs_a_justification_and_can_cover_every_subject(ctx, qtbot, demo_run_project) -> None:
    ctx.settings.reviewer = "Ben"
    page = _page(ctx, qtbot, demo_run_project)
    finding = next(f for f in demo_run_project.runs[-1].findings if f.key == WEAK_KEY)
    dialog = AcceptRiskDialog(ctx, finding, page)
    qtbot.addWidget(dialog)
    assert dialog.author.text() == "Ben"  # prefilled from the settings
    assert not dialog.ok.isEnabled() and dialog.justification.message.text() != ""
    qtbot.keyClicks(dialog.justification.edit, "   ")
    assert not dialog.ok.isEnabled()
    qtbot.keyClicks(dialog.justification.edit, "bewusst")
    assert dialog.ok.isEnabled() and dialog.justification.message.isHidden()
    assert not dialog.expires.isEnabled()
    dialog.all_subjects.setChecked(True)
    dialog.ok.click()
    [entry] = ctx.session.project.accepted_risks
    assert entry.subject == "*" and entry.expires is None and entry.justification == "bewusst"


def test_comment_and_severity_override_through_the_dialogs(ctx, qtbot, demo_run_project: Project) -> None:
    page = _page(ctx, qtbot, demo_run_project)
    page.select_finding(*WEAK_KEY)

    def comment(dialog: QDialog) -> None:
        assert isinstance(dialog, CommentDialog) and not dialog.ok.isEnabled()
        qtbot.keyClicks(dialog.text.edit, "Mit dem Provider besprochen")
        qtbot.keyClicks(dialog.author, "Anna")
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)

    run_modal(qtbot, page.comment_button.click, comment)
    [entry] = ctx.session.project.reviews
    assert entry.kind == "comment" and entry.text == "Mit dem Provider besprochen" and entry.author == "Anna"
    assert "Mit dem Provider besprochen" in page.review_label.text() and "Anna" in page.review_label.text()

    def override(dialog: QDialog) -> None:
        assert isinstance(dialog, SeverityDialog)
        assert dialog.author.text() == "Anna"  # remembered from the comment
        assert dialog.severity.currentData() == "low" and dialog.severity_message.text() != ""
        dialog.severity.setCurrentIndex(dialog.severity.findData("critical"))
        assert not dialog.ok.isEnabled()  # no reason yet
        qtbot.keyClicks(dialog.reason.edit, "Schluessel signiert auch Rechnungen")
        assert dialog.ok.isEnabled()
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)

    run_modal(qtbot, page.severity_button.click, override)
    severity = [r for r in ctx.session.project.reviews if r.kind == "severity"]
    assert len(severity) == 1 and severity[0].severity == "critical"
    assert _cell(page, WEAK_KEY, "severity") == "Kritisch (Katalog: niedrig)"
    tip = _cell(page, WEAK_KEY, "severity", Qt.ItemDataRole.ToolTipRole)
    assert "Katalog: niedrig" in tip and "Schluessel signiert auch Rechnungen" in tip
    assert _rows(page)[0].key == WEAK_KEY  # now sorted among the worst
    assert "Katalog: niedrig" in page.meta_label.text()
    page.severity_filter.setCurrentIndex(page.severity_filter.findData("critical"))
    assert WEAK_KEY in [r.key for r in _rows(page)]
    page.clear_filters()

    assert page.reset_button.isVisibleTo(page)
    page.reset_button.click()
    assert [r.kind for r in ctx.session.project.reviews] == ["comment"]
    assert _cell(page, WEAK_KEY, "severity") == "Niedrig"


def test_cancel_changes_nothing(ctx, qtbot, demo_run_project: Project) -> None:
    page = _page(ctx, qtbot, demo_run_project)
    page.select_finding(*WEAK_KEY)

    def cancel(dialog: QDialog) -> None:
        qtbot.keyClicks(dialog.justification.edit, "x")
        qtbot.keyClicks(dialog.author, "y")
        dialog.reject()

    run_modal(qtbot, page.accept_button.click, cancel)
    assert ctx.session.project.accepted_risks == [] and ctx.settings.reviewer == ""


def test_run_selector_follows_show_run_and_latest_is_default(ctx, qtbot, demo_run_project: Project) -> None:
    latest = demo_run_project.runs[-1]
    first = dataclasses.replace(latest, id="first", started="2026-11-01T08:00:00+00:00",
                                findings=latest.findings[:10])
    demo_run_project.runs.insert(0, first)
    page = _page(ctx, qtbot, demo_run_project)
    assert page.run_combo.count() == 2 and page.run_number == 2
    assert page.run_combo.currentText().startswith("Lauf 2 – ")
    ctx.show_run.emit(1)
    assert page.run_number == 1 and page.model.rowCount() == 10
    assert page.run_combo.currentText() == "Lauf 1 – " + page.run_combo.currentText().split(" – ")[1]
    page.run_combo.setCurrentIndex(page.run_combo.findData(2))
    assert page.model.rowCount() == len(latest.findings)


def test_empty_project_shows_the_way_to_an_audit(ctx, qtbot) -> None:
    page = _page(ctx, qtbot, Project(name="Kunde", domain="example.com"))
    assert page.stack.currentIndex() == 0 and "Audit" in page.empty_label.text()
    with qtbot.waitSignal(ctx.navigate) as signal:
        page.stack.widget(0).findChildren(type(page.copy_button))[0].click()
    assert signal.args == ["run"]


def test_ctrl_f_focuses_the_search(ctx, qtbot, demo_run_project: Project) -> None:
    page = _page(ctx, qtbot, demo_run_project)
    with qtbot.waitActive(page):
        page.show()
        page.activateWindow()
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(page.search.hasFocus, timeout=2000)
    assert page.search.accessibleName() == "Befunde durchsuchen"
    assert all(w.accessibleName() for w in (page.run_combo, page.severity_filter, page.category_filter,
                                            page.status_filter, page.table))
    assert all(b.toolTip() for b in (page.accept_button, page.comment_button, page.severity_button,
                                     page.copy_button, page.withdraw_button, page.reset_button))


def test_many_results_filter_and_sort_through_the_model(ctx, qtbot, demo_run_project: Project) -> None:
    run = demo_run_project.runs[-1]
    many = [dataclasses.replace(f, subject=f"{i}.{f.subject}") for i in range(7) for f in run.findings]
    demo_run_project.runs[-1] = dataclasses.replace(run, findings=many)
    page = _page(ctx, qtbot, demo_run_project)
    assert page.proxy.rowCount() == len(many) >= 500
    qtbot.keyClicks(page.search, "3.")
    assert page.proxy.rowCount() == sum(f.subject.startswith("3.") or "3." in f.subject for f in many)
    page.clear_filters()
    page.status_filter.setCurrentIndex(page.status_filter.findData("fail"))
    assert Counter(r.status for r in _rows(page)) == Counter({"fail": sum(f.status is Status.FAIL for f in many)})


def test_splitter_state_is_remembered(ctx, qtbot, demo_run_project: Project) -> None:
    page = _page(ctx, qtbot, demo_run_project)
    page.show()
    qtbot.waitExposed(page)
    page.splitter.setSizes([200, 500])
    page.splitter.splitterMoved.emit(200, 1)
    assert ctx.settings.state("findings_splitter") == page.splitter.saveState()
    again = FindingsPage(ctx)
    qtbot.addWidget(again)
    assert again.splitter.saveState() == page.splitter.saveState()


def test_new_and_deleted_runs_keep_the_shown_run_sensible(ctx, qtbot, demo_run_project: Project) -> None:
    latest = demo_run_project.runs[-1]
    older = dataclasses.replace(latest, id="older", findings=latest.findings[:5])
    demo_run_project.runs.insert(0, older)
    page = _page(ctx, qtbot, demo_run_project)
    assert page.run_number == 2
    newer = dataclasses.replace(latest, id="newer", findings=latest.findings[:7])
    ctx.session.edit(lambda p: p.runs.append(newer), None)  # what the run controller does after an audit
    assert page.run_number == 3 and page.model.rowCount() == 7  # the latest was shown: follow to the new one
    ctx.show_run.emit(2)
    ctx.session.edit(lambda p: p.runs.pop(0), None)  # deleting run 1 renumbers run 2 to 1
    assert page.run_number == 1 and page.model.rowCount() == len(latest.findings)
    assert page.run_combo.count() == 2
