"""The report page: choose run, theme, branding and language, see the PDF, export it.

The preview is the real PDF: a render task (:func:`~auditapp.gui.workers.report_job`) renders it with
:func:`auditapp.report.from_project.project_document` and ``project_theme`` into a temporary
file, exactly as the export and the CLI do, so what the consultant checks on screen is what
the client receives. Rendering takes seconds, so it runs in a thread; every option change
starts a new render and a result that arrives after a newer request is dropped (reportlab
cannot be interrupted, so superseded renders finish and are thrown away).

The optional PDF password lives only in the password field and, if the user asks, in the
system keyring under the CLI's key (``report:<project name or domain>``), so
``auditapp report --password-from-keyring`` finds the same password. It never reaches the
project, the settings or the log.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QWidget,
)

from auditapp.core.project import Project
from auditapp.gui.context import AppContext
from auditapp.gui.i18n import language, tr
from auditapp.gui.icons import ui_icon
from auditapp.gui.pages.base import Page, frameless_scroll, heading_column, tab_chain
from auditapp.gui.qmodels.runs_model import run_label
from auditapp.gui.widgets.pdf_preview import PdfPreview
from auditapp.gui.workers import report_job
from auditapp.report.theme import available_themes

log = logging.getLogger(__name__)

#: How long option changes settle before a new preview starts (typing a theme name, clicking through runs).
PREVIEW_DELAY_MS = 350
REPORT_LANGS = ("de", "en")

_tmp: Path | None = None


def _preview_dir() -> Path:
    """A private folder for preview files, removed when the program ends."""
    global _tmp
    if _tmp is None:
        _tmp = Path(tempfile.mkdtemp(prefix="auditapp-preview-"))
        atexit.register(shutil.rmtree, _tmp, True)
    return _tmp


class _Job(QObject):
    """Routes one render task's answer to the page with its request number.

    A child of the page, so a page deleted during a render simply never hears back.
    """

    done = Signal(int, str)
    failed = Signal(int, str)

    def __init__(self, seq: int, parent: QObject) -> None:
        super().__init__(parent)
        self.seq = seq

    def on_done(self, path: str) -> None:
        self.done.emit(self.seq, path)
        self.deleteLater()

    def on_failed(self, message: str) -> None:
        self.failed.emit(self.seq, message)
        self.deleteLater()


def _short_reason(message: str) -> str:
    """A traceback's last line (the exception), a ThemeError's single line as it is."""
    lines = [line for line in message.strip().splitlines() if line.strip()]
    return lines[-1] if lines else message


def keyring_account(project: Project) -> str:
    """The name of the report password the CLI's ``report --password-from-keyring`` reads for this project.

    It is stored under its own keyring service (``auditapp-report``), apart from test accounts.
    """
    return project.name or project.domain


class ReportPage(Page):
    key = "report"
    nav_text_key = "window.nav.report"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self._seq = 0
        self._latest_done = 0
        self._preview_file: Path | None = None
        self._stale = True
        self._export_job: _Job | None = None
        self._export_path: Path | None = None
        self._export_notes: list[str] = []
        self._filling = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(PREVIEW_DELAY_MS)
        self._debounce.timeout.connect(self.refresh_preview)
        self._build()
        self.on_replaced()

    # -- building ------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.no_run = QLabel()
        self.no_run.setWordWrap(True)
        self.goto_run = QPushButton(tr("report.no_run.button"))
        self.goto_run.setToolTip(tr("report.no_run.button_tip"))
        self.goto_run.clicked.connect(lambda: self.ctx.navigate.emit("run"))

        # Content of the report
        self.run_combo = self._combo("report.options.run", "report.options.run_tip")
        self.lang_combo = self._combo("report.options.language", "report.options.language_tip")
        for code in REPORT_LANGS:
            self.lang_combo.addItem(tr(f"report.lang.{code}"), code)
        self.theme_combo = self._combo("report.options.theme", "report.options.theme_tip")
        self.branding_combo = self._combo("report.options.branding", "report.options.branding_tip")
        self.draft_check = QCheckBox(tr("report.options.draft"))
        self.draft_check.setToolTip(tr("report.options.draft_tip"))
        self.draft_check.setAccessibleName(tr("report.options.draft"))
        content = QGroupBox(tr("report.options.group"))
        form = QFormLayout(content)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # Labels above their fields: the run's full label ("Lauf 3 – 06.12.2026 14:18:28 – neuester")
        # needs the panel's whole width, also at the window's smallest size.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        form.addRow(tr("report.options.run"), self.run_combo)
        form.addRow(tr("report.options.language"), self.lang_combo)
        form.addRow(tr("report.options.theme"), self.theme_combo)
        form.addRow(tr("report.options.branding"), self.branding_combo)
        form.addRow("", self.draft_check)
        for combo in (self.run_combo, self.lang_combo, self.theme_combo, self.branding_combo):
            combo.currentIndexChanged.connect(self._options_changed)
        self.draft_check.toggled.connect(self._options_changed)

        # Export
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(tr("report.export.password_placeholder"))
        self.password.setToolTip(tr("report.export.password_tip"))
        self.password.setAccessibleName(tr("report.export.password"))
        self.password.setClearButtonEnabled(True)
        self.store_check = QCheckBox(tr("report.export.store"))
        self.store_check.setToolTip(tr("report.export.store_tip"))
        self.store_check.setAccessibleName(tr("report.export.store"))
        self.password.textChanged.connect(self._password_changed)
        self.export_button = QPushButton(ui_icon("export"), tr("report.export.button"))  # the toolbar's Export icon
        self.export_button.setToolTip(tr("report.export.button_tip"))
        self.export_button.setAccessibleName(tr("report.export.button"))
        self.export_button.clicked.connect(self.export)
        self.export_status = QLabel()
        self.export_status.setWordWrap(True)
        self.export_status.setTextFormat(Qt.TextFormat.PlainText)  # paths and error messages
        self.export_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_status.setAccessibleName(tr("report.export.status"))
        self.open_button = QPushButton(tr("report.export.open"))
        self.open_button.setToolTip(tr("report.export.open_tip"))
        self.open_button.clicked.connect(self.open_exported)
        self.open_button.setVisible(False)
        export = QGroupBox(tr("report.export.group"))
        eform = QFormLayout(export)
        eform.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        eform.addRow(tr("report.export.password"), self.password)
        eform.addRow(self.store_check)
        eform.addRow(self.export_button)
        eform.addRow(self.export_status)
        eform.addRow(self.open_button)
        self.content_group, self.export_group = content, export

        left = QWidget()
        lay = heading_column(left, tr("report.title"), tr("report.intro"))
        lay.addWidget(self.no_run)
        lay.addWidget(self.goto_run, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(content)
        lay.addWidget(export)
        lay.addStretch(1)
        scroll = frameless_scroll(left, horizontal=False)
        scroll.setMinimumWidth(320)

        self.preview = PdfPreview()
        splitter = QSplitter()
        splitter.addWidget(scroll)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([400, 880])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(splitter)

        tab_chain(self.goto_run, self.run_combo, self.lang_combo, self.theme_combo, self.branding_combo,
                  self.draft_check, self.password, self.store_check, self.export_button, self.open_button,
                  self.preview.prev_button)

    def _combo(self, text_key: str, tip_key: str) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(tr(text_key))
        combo.setToolTip(tr(tip_key))
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(12)
        return combo

    # -- filling from project and settings ----------------------------------------------------------

    def _fill(self, *, reset: bool) -> None:
        """Refill the choices, keeping the current ones unless another project was opened."""
        project = self.ctx.session.project
        settings = self.ctx.settings
        previous = {} if reset else {
            "run": self.run_combo.currentData(), "theme": self.theme_combo.currentData(),
            "branding": self.branding_combo.currentData(), "lang": self.lang_combo.currentData()}
        had_project_branding = self.branding_combo.findData("project") >= 0
        self._filling = True
        try:
            self.run_combo.clear()
            runs = project.runs if project is not None else []
            for number in range(len(runs), 0, -1):
                run = runs[number - 1]
                label = run_label(number, run, language())  # as Findings and History name runs
                if number == len(runs):
                    label += " " + tr("report.options.run_latest")
                self.run_combo.addItem(label, run.id)
            self._select(self.run_combo, previous.get("run"))

            self.theme_combo.clear()
            for name in available_themes():
                label = tr("report.options.theme_default") if name == "default" else name
                self.theme_combo.addItem(label, name)
            self._select(self.theme_combo, previous.get("theme") or settings.report_theme)

            self.branding_combo.clear()
            self.branding_combo.addItem(tr("report.options.branding_none"), "none")
            if project is not None and project.branding:
                self.branding_combo.addItem(tr("report.options.branding_project"), "project")
            for name in sorted(settings.branding_profiles):
                self.branding_combo.addItem(tr("report.options.branding_profile", name=name), f"profile:{name}")
            wanted = previous.get("branding")
            if project is not None and project.branding and (
                    wanted is None or (wanted == "none" and not had_project_branding)):
                wanted = "project"  # branding just given to the project (settings dialog): show it
            self._select(self.branding_combo, wanted)

            self._select(self.lang_combo, previous.get("lang") or settings.report_language or language())
        finally:
            self._filling = False

        has_runs = bool(runs)
        self.no_run.setVisible(not has_runs)
        self.goto_run.setVisible(not has_runs)
        self.no_run.setText(tr("report.no_run.text") if project is not None else tr("report.no_project"))
        self.content_group.setEnabled(has_runs)
        self.export_group.setEnabled(has_runs)
        self._password_changed()

    @staticmethod
    def _select(combo: QComboBox, data: Any) -> None:
        index = combo.findData(data) if data is not None else -1
        combo.setCurrentIndex(index if index >= 0 else 0)

    # -- Page interface -----------------------------------------------------------------------------

    def on_replaced(self) -> None:
        self._fill(reset=True)
        self.password.clear()
        self._set_export_status("")
        self.open_button.setVisible(False)
        self._export_path = None
        self._invalidate()

    def on_changed(self, source: object) -> None:
        self._fill(reset=False)
        self._invalidate()

    def shown(self) -> None:
        self._fill(reset=False)  # branding profiles may have changed in the settings dialog
        if self._stale:
            self.refresh_preview()

    def _options_changed(self, *_args: object) -> None:
        if not self._filling:
            self._invalidate()

    def _invalidate(self) -> None:
        """The preview no longer matches the options: render again now if visible, else when shown."""
        self._stale = True
        project = self.ctx.session.project
        if project is None or not project.runs:
            self._seq += 1  # drop any render still running for the old project
            self.preview.set_busy(False)
            self.preview.clear(self.no_run.text())
            return
        if self.preview.page_count == 0:
            # Still showing "no audit yet" from before the first run: say what is coming instead.
            self.preview.show_message(tr("report.preview.busy"))
        if self.isVisible():
            self.preview.set_busy(True)
            self._debounce.start()

    def _password_changed(self, *_args: object) -> None:
        has = bool(self.password.text())
        self.store_check.setEnabled(has)
        if not has:
            self.store_check.setChecked(False)

    # -- rendering ------------------------------------------------------------------------------------

    def options(self) -> dict[str, Any]:
        """The chosen run (1-based), language, theme, branding and draft flag."""
        project = self.ctx.session.project
        assert project is not None
        run_id = self.run_combo.currentData()
        numbers = [i for i, run in enumerate(project.runs, start=1) if run.id == run_id]
        return {"run": numbers[0] if numbers else len(project.runs),
                "lang": self.lang_combo.currentData() or "de",
                "theme": self.theme_combo.currentData() or "default",
                "branding": self.branding_combo.currentData() or "none",
                "draft": self.draft_check.isChecked()}

    def _render_snapshot(self, branding: str) -> Project:
        """A snapshot of the project carrying the chosen branding (the project itself is not touched).

        ``branding`` is "none", "project" or "profile:<name>" (plain strings: QComboBox finds them again).
        """
        project = self.ctx.session.project
        assert project is not None
        snapshot = project.snapshot()
        kind, _, name = branding.partition(":")
        if kind == "profile":
            snapshot.branding = dict(self.ctx.settings.branding_profiles.get(name, {}))
        elif kind == "none":
            snapshot.branding = {}
        return snapshot

    def _render(self, path: Path, opts: dict[str, Any], job: _Job, *, password: str | None = None) -> None:
        """Render in a task; its answer reaches ``job`` (a child of this page, gone with it)."""
        from auditapp.report.theme import ThemeError

        task = self.ctx.tasks.submit("report", report_job(
            self._render_snapshot(opts["branding"]), opts["run"], path, lang=opts["lang"], theme=opts["theme"],
            base_dir=self.ctx.base_dir, password=password, draft=opts["draft"]),
            expected=(ThemeError, ValueError, OSError))
        task.done.connect(job.on_done)
        task.failed.connect(job.on_failed)

    def refresh_preview(self) -> None:
        """Render the preview for the current options; a newer request makes older results irrelevant."""
        self._debounce.stop()
        project = self.ctx.session.project
        if project is None or not project.runs:
            self._invalidate()
            return
        self._stale = False
        self._seq += 1
        path = _preview_dir() / f"preview-{self._seq}-{uuid.uuid4().hex[:8]}.pdf"
        job = _Job(self._seq, self)
        job.done.connect(self._preview_done)
        job.failed.connect(self._preview_failed)
        self.preview.set_busy(True)
        self._render(path, self.options(), job)

    @property
    def preview_busy(self) -> bool:
        """True until the newest preview request has finished (tests wait on it)."""
        return self._latest_done != self._seq or self._debounce.isActive()

    def _preview_done(self, seq: int, path: str) -> None:
        if seq != self._seq:
            Path(path).unlink(missing_ok=True)
            return
        self._latest_done = seq
        self.preview.set_busy(False)
        old, self._preview_file = self._preview_file, Path(path)
        self.preview.show_file(path)
        if old is not None and old != self._preview_file:
            old.unlink(missing_ok=True)

    def _preview_failed(self, seq: int, message: str) -> None:
        if seq != self._seq:
            return
        self._latest_done = seq
        self.preview.set_busy(False)
        log.warning("report preview failed: %s", message)
        text = tr("report.msg.preview_failed", reason=_short_reason(message))
        if "Traceback" not in message:  # a ThemeError or a missing run: something the user can fix here
            text += "\n\n" + tr("report.msg.preview_fix")
        self.preview.clear(text, error=True)

    # -- export ---------------------------------------------------------------------------------------

    def default_file_name(self) -> str:
        project = self.ctx.session.project
        assert project is not None
        opts = self.options()
        run = project.runs[opts["run"] - 1]
        return f"{project.domain}-audit-{run.started[:10]}-{opts['lang']}.pdf"

    @property
    def exporting(self) -> bool:
        return self._export_job is not None

    def export(self) -> None:
        """Ask where to save and render the PDF there with the chosen password and draft mark."""
        project = self.ctx.session.project
        if project is None or not project.runs:
            self.ctx.status.emit(tr("report.no_run.text") if project is not None else tr("report.no_project"))
            return
        if self.exporting:
            self.ctx.status.emit(tr("report.msg.export_running"))
            return
        start = Path(self.ctx.settings.last_dir or Path.home()) / self.default_file_name()
        chosen, _ = QFileDialog.getSaveFileName(self, tr("report.export.dialog_title"), str(start),
                                                tr("report.export.filter"))
        if not chosen:
            return
        target = Path(chosen)
        if target.suffix.lower() != ".pdf":
            target = target.with_name(target.name + ".pdf")
        password = self.password.text() or None
        notes = []
        if password and self.store_check.isChecked():
            notes.append(self._store_password(project, password))
        self.ctx.settings.last_dir = str(target.resolve().parent)
        opts = self.options()
        job = _Job(0, self)
        job.done.connect(self._export_done)
        job.failed.connect(self._export_failed)
        self._export_job = job
        self._render(target, opts, job, password=password)
        self.password.clear()  # the secret does not linger in the window once the export has it
        self.export_button.setEnabled(False)
        self.open_button.setVisible(False)
        self._export_notes = notes
        self._set_export_status(" ".join([tr("report.msg.exporting", path=str(target)), *notes]))
        log.info("exporting report (run %s, %s, theme %s, encrypted %s) to %s", opts["run"], opts["lang"],
                 opts["theme"], bool(password), target)

    def _store_password(self, project: Project, password: str) -> str:
        from auditapp.credentials import set_report_password

        account = keyring_account(project)
        try:
            set_report_password(account, password)
        except Exception as exc:  # CredentialError, or whatever the keyring backend raises
            log.warning("cannot store the report password in the keyring: %s", type(exc).__name__)
            return tr("report.msg.keyring_failed", reason=str(exc))
        log.info("report password stored in the system keyring as %s", account)
        return tr("report.msg.keyring_stored", account=account)

    def _set_export_status(self, text: str, *, error: bool = False) -> None:
        self.export_status.setStyleSheet("color: #D03636;" if error else "")
        self.export_status.setText(text)
        self.export_status.setVisible(bool(text))

    def _export_done(self, _seq: int, path: str) -> None:
        self._export_job = None
        self.export_button.setEnabled(True)
        self._export_path = Path(path)
        self._set_export_status(" ".join([tr("report.msg.exported", path=path), *self._export_notes]))
        self.open_button.setVisible(True)
        self.ctx.status.emit(tr("report.msg.exported", path=path))
        log.info("report exported to %s", path)

    def _export_failed(self, _seq: int, message: str) -> None:
        self._export_job = None
        self.export_button.setEnabled(True)
        log.warning("report export failed: %s", message)
        self._set_export_status(tr("report.msg.export_failed", reason=_short_reason(message)), error=True)
        self.ctx.status.emit(tr("report.msg.export_failed", reason=_short_reason(message)))

    def open_exported(self) -> None:
        if self._export_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._export_path)))
