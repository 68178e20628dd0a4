"""The history page: every run of the project, and what changed between any two of them.

A consultant returns to a client after the fixes and wants to show what improved; a manager
wants to see that "fixed" means tested again and passed. The comparison therefore uses
:func:`auditapp.core.compare.compare_runs`, which never counts an untested result as fixed
and applies the project's acceptances and severity overrides to both runs.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from auditapp.catalog import catalog
from auditapp.catalog.wording import severity_label
from auditapp.core.compare import ComparedResult, RunComparison, compare_runs
from auditapp.core.model import Run
from auditapp.core.project import Project
from auditapp.core.review_layer import ReviewLayer
from auditapp.gui.context import AppContext
from auditapp.gui.i18n import language, tr
from auditapp.gui.icons import ui_icon
from auditapp.gui.pages.base import Page, tab_chain
from auditapp.gui.qmodels import cap, rich_tip, severity_icon, status_icon
from auditapp.gui.qmodels.findings_model import status_text
from auditapp.gui.qmodels.runs_model import COLUMNS, RunsModel, run_label
from auditapp.gui.widgets.run_banner import DegradedBanner

SPLITTER_STATE = "history_splitter"
#: Group order on screen and the status mark shown for each group.
_GROUP_MARKS = {"new": "fail", "fixed": "pass", "changed": "error", "not_retested": "not_tested",
                "accepted": "accepted", "unchanged": "not_applicable"}


class HistoryPage(Page):
    key = "history"
    nav_text_key = "window.nav.history"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.lang = language()
        self.comparison: RunComparison | None = None
        self._filling = False
        self._user_chose = False  # False: the comparison follows the newest run

        # -- runs ------------------------------------------------------------------------------
        self.model = RunsModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName(tr("history.table"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("version"), QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _i: self.show_in_findings())
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

        # Own icons: the style's arrow was black on a dark palette.
        self.show_button = QPushButton(ui_icon("show"), tr("history.show"))
        self.show_button.setToolTip(tr("history.show_tip"))
        self.show_button.clicked.connect(self.show_in_findings)
        self.delete_button = QPushButton(ui_icon("delete"), tr("history.delete"))
        self.delete_button.setToolTip(tr("history.delete_tip"))
        self.delete_button.clicked.connect(self.delete_run)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        self.runs_hint = QLabel()
        self.runs_hint.setWordWrap(True)
        buttons.addWidget(self.runs_hint)

        runs_box = QWidget()
        runs_layout = QVBoxLayout(runs_box)
        runs_layout.setContentsMargins(0, 0, 0, 0)
        runs_layout.addWidget(self.table, 1)
        runs_layout.addLayout(buttons)

        # -- comparison --------------------------------------------------------------------------
        self.before_combo = QComboBox()
        self.before_combo.setAccessibleName(tr("history.compare.before_name"))
        self.before_combo.setToolTip(tr("history.compare.before_tip"))
        self.after_combo = QComboBox()
        self.after_combo.setAccessibleName(tr("history.compare.after_name"))
        self.after_combo.setToolTip(tr("history.compare.after_tip"))
        for combo in (self.before_combo, self.after_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(self._compare)
        chooser = QHBoxLayout()
        before_label = QLabel(tr("history.compare.before"))
        before_label.setBuddy(self.before_combo)
        after_label = QLabel(tr("history.compare.after"))
        after_label.setBuddy(self.after_combo)
        chooser.addWidget(before_label)
        chooser.addWidget(self.before_combo)
        chooser.addSpacing(8)
        chooser.addWidget(after_label)
        chooser.addWidget(self.after_combo)
        chooser.addStretch(1)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.tree = QTreeWidget()
        self.tree.setAccessibleName(tr("history.compare.tree"))
        self.tree.setColumnCount(5)
        self.tree.setHeaderLabels([tr("history.compare.column.rule"), tr("history.compare.column.title"),
                                   tr("history.compare.column.subject"), tr("history.compare.column.severity"),
                                   tr("history.compare.column.now")])
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setRootIsDecorated(True)
        tree_header = self.tree.header()
        tree_header.setStretchLastSection(False)
        for column, width in enumerate((230, 320, 230, 150, 150)):
            tree_header.resizeSection(column, width)
        tree_header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        compare_box = QGroupBox(tr("history.compare.title"))
        compare_layout = QVBoxLayout(compare_box)
        compare_layout.addLayout(chooser)
        self.caveat = DegradedBanner()
        compare_layout.addWidget(self.caveat)
        compare_layout.addWidget(self.summary)
        compare_layout.addWidget(self.tree, 1)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(runs_box)
        self.splitter.addWidget(compare_box)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        state = ctx.settings.state(SPLITTER_STATE)
        if state is None or not self.splitter.restoreState(state):
            self.splitter.setSizes([170, 520])
        self.splitter.splitterMoved.connect(
            lambda *_a: ctx.settings.set_state(SPLITTER_STATE, self.splitter.saveState()))

        self.empty = QLabel(tr("history.empty"))
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        layout = self.page_column("history.heading", "history.intro")
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.splitter, 1)

        tab_chain(self.table, self.show_button, self.delete_button, self.before_combo, self.after_combo, self.tree)
        self.on_replaced()

    # -- page interface ----------------------------------------------------------------------------

    def on_replaced(self) -> None:
        self._user_chose = False
        self._reload(keep=False)

    def on_changed(self, source: object) -> None:
        self._reload(keep=True)

    def _reload(self, *, keep: bool) -> None:
        project = self.ctx.session.project
        runs = project.runs if project is not None else []
        selected = self.selected_number() if keep else None
        before = self.before_combo.currentData() if keep else None
        after = self.after_combo.currentData() if keep else None
        self.model.set_runs(runs, self.lang, ReviewLayer.of(project) if project is not None else None)
        self.empty.setVisible(not runs)
        self.splitter.setVisible(bool(runs))
        count = len(runs)
        self._filling = True
        for combo in (self.before_combo, self.after_combo):
            combo.clear()
            for number in range(count, 0, -1):
                combo.addItem(run_label(number, runs[number - 1], self.lang), number)
        self._filling = False
        still_there = isinstance(before, int) and isinstance(after, int) and max(before, after) <= count
        if not (self._user_chose and still_there):
            before, after = default_comparison(runs)
            self._user_chose = False
        self.set_comparison(before, after, chosen=self._user_chose)
        row = (selected if selected and selected <= count else count) - 1
        if row >= 0:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self._update_buttons()
        self.runs_hint.setText(tr("history.hint_one") if count == 1 else "")

    def selected_number(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() + 1 if rows else None

    def _update_buttons(self, *_args: object) -> None:
        has = self.selected_number() is not None
        self.show_button.setEnabled(has)
        self.delete_button.setEnabled(has and not self.ctx.runner.busy)

    # -- actions -----------------------------------------------------------------------------------

    def select_run(self, number: int) -> None:
        self.table.selectRow(number - 1)

    def show_in_findings(self) -> None:
        number = self.selected_number()
        if number is None:
            return
        self.ctx.show_run.emit(number)
        self.ctx.navigate.emit("findings")

    def delete_run(self) -> None:
        number = self.selected_number()
        project = self.ctx.session.project
        if number is None or project is None or self.ctx.runner.busy:
            return
        run = project.runs[number - 1]
        answer = QMessageBox.question(
            self, tr("history.delete_title"),
            tr("history.delete_text", label=run_label(number, run, self.lang), results=len(run.findings)),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        run_id = run.id

        def remove(p: Project) -> None:
            # By identity, not position: the list could have changed while the question was open.
            p.runs[:] = [r for r in p.runs if r is not run]

        self.ctx.session.edit(remove, None)
        self.ctx.status.emit(tr("history.deleted", label=run_label(number, run, self.lang), id=run_id))

    # -- comparison --------------------------------------------------------------------------------

    def set_comparison(self, before: int, after: int, *, chosen: bool = True) -> None:
        """Compare run ``before`` with run ``after`` (1-based numbers); a chosen pair stays after new runs."""
        self._user_chose = chosen
        self._filling = True
        self.before_combo.setCurrentIndex(self.before_combo.findData(before))
        self.after_combo.setCurrentIndex(self.after_combo.findData(after))
        self._filling = False
        self._compare()

    def _compare(self) -> None:
        if self._filling:
            return
        if self.sender() in (self.before_combo, self.after_combo):
            self._user_chose = True  # a pair picked by hand stays until another project opens
        self.tree.clear()
        project = self.ctx.session.project
        before, after = self.before_combo.currentData(), self.after_combo.currentData()
        if project is None or not isinstance(before, int) or not isinstance(after, int):
            self.comparison = None
            self.summary.setText("")
            self.caveat.show_reason(None)
            return
        cat = catalog()
        order = {rule_id: i for i, rule_id in enumerate(cat.rules)}
        self.comparison = compare_runs(project.runs[before - 1], project.runs[after - 1],
                                       layer=ReviewLayer.of(project), rule_order=order)
        self.caveat.show_reason(self.comparison.caveat)  # a degraded run: the difference is no progress
        parts = []
        for group in RunComparison.GROUPS:
            rows = self.comparison.group(group)
            parts.append(tr(f"history.compare.count.{group}", n=len(rows)))
            top = QTreeWidgetItem([tr(f"history.compare.group.{group}", n=len(rows))])
            top.setIcon(0, status_icon(_GROUP_MARKS[group]))
            top.setToolTip(0, tr(f"history.compare.group_tip.{group}"))
            top.setFirstColumnSpanned(True)
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(top)
            for result in rows:
                top.addChild(self._item(result, group))
            top.setFirstColumnSpanned(True)
            top.setExpanded(bool(rows) and group != "unchanged")
            if not rows:
                top.setDisabled(True)
        note = tr("history.compare.same") if before == after else ""
        if before > after:
            note = tr("history.compare.reversed")
        self.summary.setText(" · ".join(parts) + (f"<br><i>{html.escape(note)}</i>" if note else ""))

    def _item(self, result: ComparedResult, group: str) -> QTreeWidgetItem:
        rule = catalog().rules.get(result.rule)
        title = rule.title.get(self.lang) if rule else result.rule
        severity = cap(severity_label(result.severity, self.lang))
        if group == "changed" and result.previous_severity is not None:
            severity = tr("history.compare.severity_change",
                          before=cap(severity_label(result.previous_severity, self.lang)), after=severity)
        # The neutral words of Findings and the Audit page (OK / Befund / nicht getestet).
        now = cap(status_text(result.after.value, self.lang) if result.after is not None
                  else tr("history.compare.missing"))
        if group == "accepted":
            now = cap(tr("findings.status.accepted"))
        item = QTreeWidgetItem([result.rule, title, result.subject, severity, now])
        item.setIcon(3, severity_icon(result.severity))
        item.setToolTip(1, rich_tip(title))
        item.setToolTip(2, rich_tip(result.subject))
        return item


def default_comparison(runs: list[Run]) -> tuple[int, int]:
    """The pair History compares until the user picks one: the newest run against the complete run before it.

    "Complete" means neither cancelled nor degraded: comparing with a run whose resolver did not
    answer would show every repair that never happened. With one run, it is compared with itself.
    """
    newest = len(runs)
    for number in range(newest - 1, 0, -1):
        if not runs[number - 1].cancelled and not runs[number - 1].degraded:
            return number, newest
    return max(1, newest - 1), newest
