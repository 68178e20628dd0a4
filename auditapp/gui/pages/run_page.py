"""Running an audit: start, cancel, progress, and the results as they arrive.

The audit runs as a task of :mod:`auditapp.gui.tasks` (via the context's
:class:`~auditapp.gui.context.RunController`); this page only shows what the task reports.
Results are appended to a table model in batches (what arrived during one turn of the event
loop), so a long run stays responsive, and a
cancelled run is kept as what it is: a partial run whose unchecked items are "not tested".
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
)

from auditapp.catalog import catalog
from auditapp.catalog.wording import severity_label
from auditapp.core.limits import connection_limited
from auditapp.core.model import Finding, Run, Status
from auditapp.core.review_layer import ReviewLayer, run_summary
from auditapp.gui import i18n
from auditapp.gui.context import AppContext
from auditapp.gui.dialogs.error_dialog import ErrorDialog
from auditapp.gui.i18n import shortcut_text, tr
from auditapp.gui.pages.base import FORM_MARGINS, Page
from auditapp.gui.qmodels import cap, rich_tip
from auditapp.gui.qmodels.findings_model import status_text
from auditapp.gui.widgets.fields import prepare_message
from auditapp.gui.widgets.run_banner import DegradedBanner

#: Status colours that read on light and dark backgrounds alike.
STATUS_COLOURS = {
    Status.PASS: QColor(0x2E, 0x8B, 0x57),
    Status.FAIL: QColor(0xC6, 0x28, 0x28),
    Status.NOT_TESTED: QColor(0xB8, 0x86, 0x0B),
    Status.ERROR: QColor(0xB8, 0x86, 0x0B),
    Status.NOT_APPLICABLE: QColor(0x80, 0x80, 0x80),
}

Index = QModelIndex | QPersistentModelIndex


class LiveResultsModel(QAbstractTableModel):
    """The results of the running audit, newest last."""

    COLUMNS = ("run.col_status", "run.col_severity", "run.col_rule", "run.col_title", "run.col_subject")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Finding] = []
        self.lang = i18n.language()
        self.headers = [tr(key) for key in self.COLUMNS]
        #: The project's review, applied to a recorded run (a live run has none yet).
        self.layer = ReviewLayer()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        return len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        f = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return cap(status_text(f.status.value, self.lang))  # the words Findings uses: OK, Befund, …
            if column == 1:
                if f.status is not Status.FAIL:
                    return ""
                # The severity the report prints: a reviewer's override first, the catalogue's beside it.
                label = cap(severity_label(self.layer.effective_severity(f), self.lang))
                if self.layer.effective_severity(f) is f.severity:
                    return label
                return tr("findings.override_marker", label=label, catalog=severity_label(f.severity, self.lang))
            if column == 2:
                return f.rule
            if column == 3:
                rule = catalog().rules.get(f.rule)
                return rule.title.get(self.lang) if rule else f.rule
            return f.subject
        if role == Qt.ItemDataRole.ForegroundRole and column == 0:
            return STATUS_COLOURS.get(f.status)
        if role == Qt.ItemDataRole.ToolTipRole and column == 4:
            return rich_tip(f.subject)  # subjects come from DNS
        return None

    def extend(self, findings: list[Finding]) -> None:
        """Add a batch (all findings that arrived in one turn of the event loop) as one insertion."""
        if not findings:
            return
        row = len(self.rows)
        self.beginInsertRows(QModelIndex(), row, row + len(findings) - 1)
        self.rows.extend(findings)
        self.endInsertRows()

    def reset(self, findings: list[Finding] | tuple[Finding, ...] = (), layer: ReviewLayer | None = None) -> None:
        self.beginResetModel()
        self.rows = list(findings)
        self.layer = layer or ReviewLayer()
        self.endResetModel()


class RunPage(Page):
    key = "run"
    nav_text_key = "window.nav.run"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self._started_at = 0.0
        layout = self.page_column("run.heading", "run.intro", margins=FORM_MARGINS)
        buttons = QHBoxLayout()
        self.start_button = QPushButton(tr("run.start"))
        self.start_button.setToolTip(shortcut_text("Ctrl+R"))
        self.start_button.setMinimumHeight(34)
        self.cancel_button = QPushButton(tr("run.cancel"))
        self.cancel_button.setMinimumHeight(34)
        self.findings_button = QPushButton(tr("run.show_findings"))
        self.findings_button.setMinimumHeight(34)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.findings_button)
        layout.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setAccessibleName(tr("run.heading"))
        layout.addWidget(self.progress)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.state.setTextFormat(Qt.TextFormat.PlainText)  # quotes setup errors and input
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.state)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setTextFormat(Qt.TextFormat.PlainText)
        self.notes.setVisible(False)
        layout.addWidget(self.notes)
        self.banner = DegradedBanner()
        layout.addWidget(self.banner)
        layout.addWidget(QLabel(f"<b>{tr('run.live')}</b>"))
        self.model = LiveResultsModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName(tr("run.live"))
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((120, 110, 190, 330)):
            header.resizeSection(column, width)
        layout.addWidget(self.table, 1)

        self._ticker = QTimer(self)
        self._ticker.setInterval(250)
        self._ticker.timeout.connect(self._tick)
        self._last_label = ""
        self._done = 0
        self._total = 0

        runner = ctx.runner
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.findings_button.clicked.connect(lambda: ctx.navigate.emit("findings"))
        runner.started.connect(self._on_started)
        runner.warning.connect(self._on_warning)
        runner.progress.connect(self._on_progress)
        # Long-lived signals get bound methods only: Qt drops those connections when the page is
        # deleted (a language switch rebuilds it), a lambda would outlive its widgets.
        runner.results.connect(self._on_results)
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        runner.busy_changed.connect(self._update_buttons)
        ctx.input_validity_changed.connect(self._update_buttons)
        self.on_replaced()

    # -- actions --------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the audit of the open project (Ctrl+R); input problems and setup errors are shown here."""
        from auditapp.audit.prepare import PrepareError

        ctx = self.ctx
        if ctx.session.project is None or ctx.runner.busy:
            return
        if not ctx.input_ok:
            self.state.setText(tr("run.invalid_input", problems="; ".join(ctx.input_problems.values())))
            ctx.show_input_problem.emit()  # the window shows the first invalid field and why
            return
        try:
            prepared = ctx.runner.prepare()
        except PrepareError as exc:
            self.state.setText(tr("run.cannot_start", reason=prepare_message(exc)))
            return
        notes = [tr("run.warning", text=w) for w in prepared.warnings]
        if not prepared.target.services:
            notes.append(tr("run.services_off"))
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))
        self.model.reset()
        self.banner.show_run(None)
        self.progress.setRange(0, 0)  # busy until the engine says how many steps there are
        self.state.setText(tr("run.preparing"))
        self._started_at = time.monotonic()
        self._done = self._total = 0
        self._last_label = ""
        ctx.runner.start(prepared)
        self._ticker.start()

    def cancel(self) -> None:
        if self.ctx.runner.busy:
            self.ctx.runner.cancel()
            self.cancel_button.setEnabled(False)
            self.state.setText(tr("run.cancelling"))

    # -- runner events --------------------------------------------------------------------------

    def _elapsed(self) -> str:
        text = f"{time.monotonic() - self._started_at:.1f}" if self._started_at else "0"
        return text.replace(".", ",") if i18n.language() == "de" else text

    def _on_started(self, total: int) -> None:
        self._total = total
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(0)

    def _on_progress(self, done: int, total: int, label: str) -> None:
        self._done, self._total, self._last_label = done, total, label
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _tick(self) -> None:
        runner = self.ctx.runner
        if runner.busy and not runner.cancelling:
            self.state.setText(tr("run.running", done=self._done, total=self._total, elapsed=self._elapsed(),
                                  label=self._last_label or "…"))

    def _on_finished(self, run: Run) -> None:
        self._ticker.stop()
        self._show_progress_of(run)
        layer = ReviewLayer.of(self.ctx.session.project)
        self.model.reset(run.findings, layer)
        summary = run_summary(run, layer)  # the numbers History, Findings and the report show
        self.banner.show_run(run)
        if run.degraded:
            self.state.setText(tr("run.degraded", elapsed=self._elapsed()))
        elif run.cancelled:
            done, total = _evaluated(run)
            self.state.setText(tr("run.cancelled", elapsed=self._elapsed(), done=done, total=total))
        else:
            # A connection limit is the one refusal the auditor can avoid alone: a line of its own per server.
            limited = [tr("run.connection_limited", server=address, count=count)
                       for address, count in connection_limited(run).items()]
            self.state.setText("\n".join([tr("run.finished", elapsed=self._elapsed(), open=summary.open,
                                            accepted=summary.accepted, passed=summary.passed,
                                            untested=summary.untested), *limited]))
        self._update_buttons()

    def _show_progress_of(self, run: Run | None) -> None:
        """The bar for a recorded run: full when it ran to the end, the evaluated share when cancelled."""
        if run is None:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            return
        done, total = _evaluated(run)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done if run.cancelled else max(total, 1))

    def _on_failed(self, details: str) -> None:
        self._ticker.stop()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.state.setText(tr("run.failed"))
        log_file = self.ctx.home / "logs" / "auditapp.log"
        import logging

        logging.getLogger(__name__).error("audit failed\n%s", details)
        ErrorDialog(details, log_file, self).open()

    # -- state ----------------------------------------------------------------------------------

    def _on_warning(self, text: str) -> None:
        notes = [n for n in self.notes.text().split("\n") if n]
        self.notes.setText("\n".join([*notes, tr("run.warning", text=text)]))
        self.notes.setVisible(True)

    def _on_results(self, findings: list[Finding]) -> None:
        self.model.extend(findings)
        self.table.scrollToBottom()

    def _update_buttons(self, *_: object) -> None:
        ctx = self.ctx
        busy = ctx.runner.busy
        has = ctx.session.project is not None
        # Enabled with invalid input too: pressing it shows the field and the reason (a disabled
        # button only explains itself in a tooltip nobody finds).
        self.start_button.setEnabled(has and not busy)
        self.start_button.setToolTip(shortcut_text("Ctrl+R") if ctx.input_ok
                                     else "; ".join(ctx.input_problems.values()))
        self.cancel_button.setEnabled(busy and not ctx.runner.cancelling)
        self.findings_button.setEnabled(has and not busy and bool(ctx.session.project and ctx.session.project.runs))

    def on_replaced(self) -> None:
        project = self.ctx.session.project
        if not self.ctx.runner.busy:
            self.model.reset(project.runs[-1].findings if project and project.runs else (), ReviewLayer.of(project))
            self.notes.setVisible(False)
            if project is not None:
                from auditapp.report.texts import format_datetime

                last = format_datetime(project.runs[-1].started, i18n.language()) if project.runs else tr("run.never")
                self.state.setText(tr("run.idle", last=last))
            # The bar belongs to the table beside it: the last run's, not 0 % beside its results.
            self._show_progress_of(project.runs[-1] if project and project.runs else None)
            self.banner.show_run(project.runs[-1] if project and project.runs else None)
        self._update_buttons()

    def on_changed(self, source: object) -> None:
        if source is not self.ctx.runner:
            self._update_buttons()


def _evaluated(run: Run) -> tuple[int, int]:
    """How many of a run's results were evaluated, of all; a cancel leaves the rest "not tested: cancelled"."""
    skipped = sum(1 for f in run.findings if f.reason is not None and f.reason.key == "reason.cancelled")
    return len(run.findings) - skipped, len(run.findings)
