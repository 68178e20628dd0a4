"""What every page and dialog shares: the open project, the settings, the run in progress.

Pages do not know each other. They talk through :class:`AppContext`: the session announces
project changes, the :class:`RunController` announces audits, and the few cross-page requests
("show run 3 in the findings page") are signals on the context rather than calls between
widgets, so a page can be rebuilt (language switch) or tested on its own.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from auditapp.core.model import Finding, Run
from auditapp.gui.session import ProjectSession
from auditapp.gui.settings import Settings
from auditapp.gui.workers import AuditWorker
from auditapp.project_run import PreparedAudit, prepare_project_audit


class RunController(QObject):
    """Starts and cancels audits of the open project; at most one at a time."""

    started = Signal(int)  # total checks
    warning = Signal(str)  # something to know before trusting the result (e.g. no password stored)
    progress = Signal(int, int, str)
    result = Signal(object)  # Finding
    finished = Signal(object)  # Run, already recorded in the project
    failed = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, session: ProjectSession, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.settings = session, settings
        self.worker: AuditWorker | None = None
        self.live: list[Finding] = []
        self.total = 0
        self.warnings: tuple[str, ...] = ()

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def prepare(self, *, services: bool = True) -> PreparedAudit:
        """The audit of the open project; raises PrepareError (shown beside the Run button).

        ``services=False`` (host discovery) skips the keyring: DNS needs no password. The
        password itself is looked up in the audit's worker thread (the keyring can block).
        """
        assert self.session.project is not None
        return prepare_project_audit(self.session.project, default_nameservers=self.settings.nameservers,
                                     timeout=self.settings.timeout, ca_file=self.settings.ca_file or None,
                                     services=services, defer_password=True)

    def start(self, prepared: PreparedAudit | None = None) -> None:
        if self.busy or self.session.project is None:
            return
        prepared = prepared or self.prepare()
        self.warnings = prepared.warnings
        self.live, self.total = [], 0
        worker = AuditWorker(prepared, self)
        worker.audit_started.connect(self._on_started)
        worker.warning.connect(self.warning)
        worker.progress.connect(self.progress)
        worker.result.connect(self._on_result)
        worker.run_finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_thread_done)
        self.worker = worker
        self.busy_changed.emit(True)
        worker.start()

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def wait(self, ms: int = 5000) -> bool:
        """Block until the worker thread ended (for quitting and tests)."""
        return self.worker.wait(ms) if self.worker is not None else True

    def _on_started(self, total: int) -> None:
        self.total = total
        self.started.emit(total)

    def _on_result(self, finding: Finding) -> None:
        self.live.append(finding)
        self.result.emit(finding)

    def _on_finished(self, run: Run) -> None:
        # A cancelled run is kept too: it is honest about what was and was not tested, and
        # the user decides whether to keep it (History lets them delete it).
        self.session.edit(lambda p: p.runs.append(run), self)
        self.finished.emit(run)
        # The recovery copy is written in the next turn of the event loop, so the UI paints the
        # finished run first; a crash in between loses nothing the worker had not just reported.
        QTimer.singleShot(0, self.session.autosave)

    def _on_failed(self, details: str) -> None:
        self.failed.emit(details)

    def _on_thread_done(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.deleteLater()
        self.busy_changed.emit(False)


class AppContext(QObject):
    """Shared services for pages; ``window`` is the main window (for dialogs' parent)."""

    #: Ask the findings page to show run N (1-based) and switch to it.
    show_run = Signal(int)
    #: Ask the window to switch to the page with this key.
    navigate = Signal(str)
    #: A short message for the status bar.
    status = Signal(str)
    #: Some page holds input that is not valid (so it was not stored): Run is disabled.
    input_validity_changed = Signal(bool)

    def __init__(self, session: ProjectSession, settings: Settings, home: Path,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.settings, self.home = session, settings, home
        self.runner = RunController(session, settings, self)
        self.window: QWidget | None = None
        self._input_problems: dict[str, str] = {}

    @property
    def input_ok(self) -> bool:
        return not self._input_problems

    @property
    def input_problems(self) -> dict[str, str]:
        """Page key → a message naming the field that holds invalid input."""
        return dict(self._input_problems)

    def set_input_problem(self, page: str, problem: str) -> None:
        before = self.input_ok
        if problem:
            self._input_problems[page] = problem
        else:
            self._input_problems.pop(page, None)
        if before != self.input_ok:
            self.input_validity_changed.emit(self.input_ok)

    @property
    def base_dir(self) -> Path | None:
        """Folder relative paths in the project (logos) resolve against."""
        return self.session.path.resolve().parent if self.session.path else None
