"""The findings page: every result of one run, filtered and sorted, with the review actions.

Consultants go through a run result by result and record their judgement (accept a risk,
comment, change a severity); managers read what is open. The table is a model with a
filtering proxy so 500+ results filter on each key press; the detail pane renders one result
at a time in the GUI language.

Everything from the network (TXT records, banners, host names) or from a person (comments,
justifications) is escaped before it goes into rich text: a TXT record is free text chosen by
whoever runs the zone, and ``<font>`` or ``<img>`` in it must show as characters, not as markup.
Monospace blocks are plain-text widgets and cannot interpret markup at all.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from auditapp.catalog import CATEGORIES
from auditapp.catalog.wording import severity_label
from auditapp.core.model import Run, Severity, Status
from auditapp.core.review import clear_override, withdraw_acceptance
from auditapp.core.review_layer import AcceptedRisk, ReviewLayer, run_day, run_summary
from auditapp.gui.context import AppContext
from auditapp.gui.i18n import language, tr
from auditapp.gui.pages.base import Page, frameless_scroll, tab_chain
from auditapp.gui.qmodels import cap, severity_icon, status_icon
from auditapp.gui.qmodels.findings_model import (
    ACCEPTED,
    COLUMNS,
    OPEN,
    ROW_ROLE,
    FindingRow,
    FindingsFilter,
    FindingsModel,
    build_rows,
    category_label,
    status_text,
)
from auditapp.gui.qmodels.runs_model import run_label
from auditapp.gui.widgets.finding_detail import FindingDetail, review_history

SPLITTER_STATE = "findings_splitter"
HEADER_STATE = "findings_header"
_SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)
_STATUSES = (OPEN, Status.FAIL.value, ACCEPTED, Status.NOT_TESTED.value, Status.ERROR.value, Status.PASS.value,
             Status.NOT_APPLICABLE.value)


_DETAIL_PARTS = (
    "placeholder", "content", "title_label", "meta_label", "subject_label", "detail_label", "reason_label",
    "explanation_label", "review_label", "references_label", "remediation_block", "evidence_block", "copy_button",
    "accept_button", "withdraw_button", "comment_button", "severity_button", "reset_button",
)


class FindingsPage(Page):
    key = "findings"
    nav_text_key = "window.nav.findings"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.lang = language()
        self.run_number = 0  # 1-based; 0: no run
        self.current: FindingRow | None = None
        self._reloading = False
        self._shown_run: Run | None = None
        #: Open results of the shown run (the review layer's count), for the line under the table.
        self._open_count = 0
        self._run_count = 0

        self.model = FindingsModel(self)
        self.proxy = FindingsFilter(self)
        self.proxy.setSourceModel(self.model)

        # -- filter bar ------------------------------------------------------------------------
        self.run_combo = QComboBox()
        self.run_combo.setAccessibleName(tr("findings.run"))
        self.run_combo.setToolTip(tr("findings.run_tip"))
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.run_combo.setMinimumContentsLength(24)  # "Lauf 12 – 29.11.2026 14:02" fits before runs exist
        self.run_combo.currentIndexChanged.connect(self._on_run_chosen)
        self.search = QLineEdit()
        self.search.setPlaceholderText(tr("findings.search_placeholder"))
        self.search.setAccessibleName(tr("findings.search"))
        self.search.setToolTip(tr("findings.search_tip"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(260)
        self.search.textChanged.connect(lambda text: self._filter(text=text))
        self.severity_filter = QComboBox()
        self.severity_filter.setAccessibleName(tr("findings.filter.severity"))
        self.severity_filter.addItem(tr("findings.filter.all_severities"), "")
        for level in _SEVERITIES:
            self.severity_filter.addItem(severity_icon(level), cap(severity_label(level, self.lang)), level.value)
        self.severity_filter.currentIndexChanged.connect(
            lambda: self._filter(severity=self.severity_filter.currentData()))
        self.category_filter = QComboBox()
        self.category_filter.setAccessibleName(tr("findings.filter.category"))
        self.category_filter.addItem(tr("findings.filter.all_categories"), "")
        for category in CATEGORIES:
            self.category_filter.addItem(category_label(category), category)
        self.category_filter.currentIndexChanged.connect(
            lambda: self._filter(category=self.category_filter.currentData()))
        self.status_filter = QComboBox()
        self.status_filter.setAccessibleName(tr("findings.filter.status"))
        self.status_filter.addItem(tr("findings.filter.all_statuses"), "")
        for status in _STATUSES:
            icon = status_icon(Status.FAIL.value if status == OPEN else status)
            label = tr(f"findings.filter.{status}") if status in (OPEN, Status.FAIL.value) else \
                cap(status_text(status, self.lang))
            self.status_filter.addItem(icon, label, status)
        self.status_filter.currentIndexChanged.connect(lambda: self._filter(status=self.status_filter.currentData()))
        self.count_label = QLabel()
        self.count_label.setAccessibleName(tr("findings.count_name"))

        # Two rows: at the window's smallest width one row clipped the run, the filters and the count.
        bar = QVBoxLayout()
        first, second = QHBoxLayout(), QHBoxLayout()
        run_label_widget = QLabel(tr("findings.run_label"))
        run_label_widget.setBuddy(self.run_combo)
        first.addWidget(run_label_widget)
        first.addWidget(self.run_combo)
        first.addSpacing(12)
        first.addWidget(self.search, 1)
        second.addWidget(self.severity_filter)
        second.addWidget(self.category_filter)
        second.addWidget(self.status_filter)
        second.addStretch(1)
        second.addWidget(self.count_label)
        bar.addLayout(first)
        bar.addLayout(second)

        # -- table -----------------------------------------------------------------------------
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName(tr("findings.table"))
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        widths = {"severity": 100, "rule": 190, "title": 300, "category": 175, "subject": 205, "status": 135}
        for i, column in enumerate(COLUMNS):
            header.resizeSection(i, widths[column])
        header.setSectionResizeMode(COLUMNS.index("title"), QHeaderView.ResizeMode.Stretch)
        self.table.sortByColumn(COLUMNS.index("severity"), Qt.SortOrder.DescendingOrder)
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        self.table.doubleClicked.connect(lambda _i: self.detail_scroll.setFocus())

        # -- detail pane -----------------------------------------------------------------------
        self.detail = FindingDetail({
            "accept_risk": self.accept_risk, "withdraw": self.withdraw, "comment": self.comment,
            "change_severity": self.change_severity, "reset_severity": self.reset_severity,
            "copy_remediation": self.copy_remediation,
        })
        for name in _DETAIL_PARTS:  # the pane's widgets, under the names the page and its tests use
            setattr(self, name, getattr(self.detail, name))
        self.detail_scroll = frameless_scroll(self.detail, horizontal=False)
        self.detail_scroll.setMinimumHeight(160)
        self.detail_scroll.setAccessibleName(tr("findings.detail.name"))

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail_scroll)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        state = ctx.settings.state(SPLITTER_STATE)
        if state is None or not self.splitter.restoreState(state):
            self.splitter.setSizes([300, 340])
        self.splitter.splitterMoved.connect(self._save_splitter)

        main = QWidget()
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(0, 0, 0, 0)
        main_layout.addLayout(bar)
        main_layout.addWidget(self.splitter, 1)

        # -- empty state -----------------------------------------------------------------------
        empty = QWidget()
        empty_layout = QVBoxLayout(empty)
        empty_layout.addStretch(1)
        self.empty_label = QLabel(tr("findings.empty"))
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        empty_layout.addWidget(self.empty_label)
        go = QPushButton(tr("findings.empty_go"))
        go.setToolTip(tr("findings.empty_go_tip"))
        go.clicked.connect(lambda: ctx.navigate.emit("run"))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(go)
        row.addStretch(1)
        empty_layout.addLayout(row)
        empty_layout.addStretch(2)

        self.stack = QStackedWidget()
        self.stack.addWidget(empty)
        self.stack.addWidget(main)
        self.page_column("findings.heading").addWidget(self.stack, 1)

        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(self.focus_search)
        tab_chain(self.run_combo, self.search, self.severity_filter, self.category_filter, self.status_filter,
                  self.table, self.accept_button)

        ctx.show_run.connect(self.show_run)
        self.on_replaced()

    # -- building ------------------------------------------------------------------------------

    # -- page interface --------------------------------------------------------------------------

    def on_replaced(self) -> None:
        # A project opens on what needs attention; everything else is one click away.
        self.status_filter.setCurrentIndex(self.status_filter.findData(OPEN))
        self._fill_runs(keep=False)

    def on_changed(self, source: object) -> None:
        self._fill_runs(keep=True)

    def show_run(self, number: int) -> None:
        """Show run ``number`` (1-based), as asked by the history or run page."""
        index = self.run_combo.findData(number)
        if index >= 0:
            self.run_combo.setCurrentIndex(index)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    # -- loading ---------------------------------------------------------------------------------

    @property
    def runs(self) -> list[Run]:
        project = self.ctx.session.project
        return project.runs if project is not None else []

    @property
    def run(self) -> Run | None:
        runs = self.runs
        return runs[self.run_number - 1] if 0 < self.run_number <= len(runs) else None

    def _fill_runs(self, *, keep: bool) -> None:
        runs = self.runs
        wanted = len(runs)
        shown = self._shown_run
        if keep and shown is not None and any(r is shown for r in runs):
            # Follow the run itself, not its number: deleting an older run renumbers the rest.
            # When the latest run was shown and a new one arrived, show the new one.
            position = next(i for i, r in enumerate(runs) if r is shown) + 1
            was_latest = position == self._run_count
            wanted = len(runs) if was_latest and len(runs) > self._run_count else position
        self._run_count = len(runs)
        self._reloading = True
        self.run_combo.clear()
        for number in range(len(runs), 0, -1):  # newest first: the one usually wanted
            self.run_combo.addItem(run_label(number, runs[number - 1], self.lang), number)
        self._reloading = False
        self.stack.setCurrentIndex(1 if runs else 0)
        self.run_number = -1  # force a reload even when the number is the same
        index = self.run_combo.findData(wanted)
        if index >= 0:
            self.run_combo.setCurrentIndex(index)
            self._load(wanted, keep=keep)
        else:
            self._load(0, keep=False)

    def _on_run_chosen(self, index: int) -> None:
        if self._reloading or index < 0:
            return
        number = self.run_combo.itemData(index)
        if number != self.run_number:
            self._load(number, keep=False)

    def _load(self, number: int, *, keep: bool) -> None:
        selected = self.current.key if keep and self.current is not None else None
        self.run_number = number
        project = self.ctx.session.project
        run = self.run
        self._shown_run = run
        if run is None or project is None:
            self.model.set_rows([], self.lang)
            self._open_count = 0
        else:
            layer = ReviewLayer.of(project)
            self.model.set_rows(build_rows(run, layer, self.lang), self.lang)
            self._open_count = run_summary(run, layer).open
        self._update_count()
        if selected is not None and self._select(selected):
            return
        if self.proxy.rowCount() > 0:
            self.table.selectRow(0)
            self.table.scrollToTop()
        else:
            self._show(None)

    def _select(self, key: tuple[str, str]) -> bool:
        row = self.model.row_of(key)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)
        self._show(index.data(ROW_ROLE))
        return True

    def select_finding(self, rule: str, subject: str) -> bool:
        """Select the result ``(rule, subject)`` of the shown run (clears filters that hide it)."""
        if self.model.row_of((rule, subject)) < 0:
            return False
        if not self.proxy.mapFromSource(self.model.index(self.model.row_of((rule, subject)), 0)).isValid():
            self.clear_filters()
        return self._select((rule, subject))

    def clear_filters(self) -> None:
        for combo in (self.severity_filter, self.category_filter, self.status_filter):
            combo.setCurrentIndex(0)
        self.search.clear()

    def _filter(self, **changes: str) -> None:
        key = self.current.key if self.current is not None else None
        self.proxy.set_filters(**changes)
        self._update_count()
        if key is not None and self._select(key):
            return
        if self.proxy.rowCount() > 0:
            self.table.selectRow(0)
        else:
            self._show(None)

    def _update_count(self) -> None:
        total = self.model.rowCount()
        shown = self.proxy.rowCount()
        self.count_label.setText(tr("findings.count", shown=shown, total=total, open=self._open_count))

    def _save_splitter(self, *_args: object) -> None:
        self.ctx.settings.set_state(SPLITTER_STATE, self.splitter.saveState())

    # -- detail pane ------------------------------------------------------------------------------

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show(current.data(ROW_ROLE) if current.isValid() else None)

    def _show(self, row: FindingRow | None) -> None:
        self.current = row
        history = ""
        project = self.ctx.session.project
        if row is not None:
            run = self.run
            history = review_history(project, row.finding, run_day(run) if run is not None else None, self.lang)
        self.detail.show_row(row, self.lang, history)
        if row is not None:
            self._update_buttons(row)

    def _update_buttons(self, row: FindingRow) -> None:
        project = self.ctx.session.project
        f = row.finding
        self.accept_button.setEnabled(f.status is Status.FAIL)
        self.accept_button.setToolTip(tr("findings.action.accept_tip" if f.status is Status.FAIL
                                         else "findings.action.accept_only_failed"))
        self.withdraw_button.setVisible(self._acceptance(row) is not None)
        self.reset_button.setVisible(row.override is not None)
        self.comment_button.setEnabled(project is not None)
        self.severity_button.setEnabled(project is not None)

    def _acceptance(self, row: FindingRow) -> AcceptedRisk | None:
        """The acceptance entry for this result (even an expired one), exact subject first."""
        project = self.ctx.session.project
        return None if project is None else ReviewLayer.of(project).acceptance_entry(row.finding)

    # -- actions ------------------------------------------------------------------------------------

    def copy_remediation(self) -> None:
        text = self.remediation_block.toPlainText()
        if text:
            QApplication.clipboard().setText(text)
            self.ctx.status.emit(tr("findings.msg.copied"))

    def _dialog(self, cls_name: str) -> bool:
        from auditapp.gui.dialogs import review_dialogs

        if self.current is None:
            return False
        dialog = getattr(review_dialogs, cls_name)(self.ctx, self.current.finding, self)
        self.last_dialog = dialog
        return bool(dialog.exec())

    def accept_risk(self) -> None:
        if self._dialog("AcceptRiskDialog"):
            self.ctx.status.emit(tr("findings.msg.accepted"))

    def comment(self) -> None:
        if self._dialog("CommentDialog"):
            self.ctx.status.emit(tr("findings.msg.commented"))

    def change_severity(self) -> None:
        if self._dialog("SeverityDialog"):
            self.ctx.status.emit(tr("findings.msg.severity"))

    def withdraw(self) -> None:
        if self.current is None:
            return
        entry = self._acceptance(self.current)
        if entry is None:
            return
        rule, subject = entry.key
        self.ctx.session.edit(lambda p: withdraw_acceptance(p, rule, subject), None)
        self.ctx.status.emit(tr("findings.msg.withdrawn"))

    def reset_severity(self) -> None:
        if self.current is None or self.current.override is None:
            return
        rule, subject = self.current.override.key
        self.ctx.session.edit(lambda p: clear_override(p, rule, subject), None)
        self.ctx.status.emit(tr("findings.msg.reset"))

    def shown(self) -> None:
        if self.current is not None:
            QTimer.singleShot(0, lambda: self.table.setFocus())
