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

from auditapp.audit.engine import Finished, Progress, ResultEvent, Started
from auditapp.audit.prepare import PreparedAudit, prepare_project_audit
from auditapp.core.model import Finding, Run
from auditapp.gui.session import ProjectSession
from auditapp.gui.settings import Settings
from auditapp.gui.tasks import Task, TaskService
from auditapp.gui.workers import Warned, audit_job


class RunController(QObject):
    """Starts and cancels audits of the open project; at most one at a time."""

    started = Signal(int)  # total checks
    warning = Signal(str)  # something to know before trusting the result (e.g. no password stored)
    progress = Signal(int, int, str)
    results = Signal(list)  # new findings, batched per turn of the event loop
    finished = Signal(object)  # Run, already recorded in the project
    failed = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, session: ProjectSession, settings: Settings, tasks: TaskService,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.settings, self.tasks = session, settings, tasks
        self.task: Task | None = None
        self.live: list[Finding] = []
        self.total = 0
        self.warnings: tuple[str, ...] = ()

    @property
    def busy(self) -> bool:
        return self.task is not None

    @property
    def cancelling(self) -> bool:
        return self.task is not None and self.task.cancelled

    def prepare(self, *, services: bool = True) -> PreparedAudit:
        """The audit of the open project; raises PrepareError (shown beside the Run button).

        ``services=False`` (host discovery) skips the keyring: DNS needs no password. The
        password itself is looked up in the audit's task thread (the keyring can block).
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
        task = self.tasks.submit("audit", audit_job(prepared))
        task.items.connect(self._on_events)
        task.failed.connect(self.failed)
        task.ended.connect(self._on_ended)
        self.task = task
        self.busy_changed.emit(True)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def wait(self, timeout_s: float = 5.0) -> bool:
        """Keep the event loop turning until the audit ended (quitting, tests); True when it did."""
        return self.tasks.wait(self.task, timeout_s=timeout_s) if self.task is not None else True

    def _on_events(self, events: list[object]) -> None:
        found: list[Finding] = []
        for event in events:
            if isinstance(event, ResultEvent):
                found.append(event.finding)
                continue
            if found:  # keep the order: findings before the progress that followed them
                self._emit_results(found)
                found = []
            if isinstance(event, Started):
                self.total = event.total
                self.started.emit(event.total)
            elif isinstance(event, Progress):
                self.progress.emit(event.done, event.total, event.label)
            elif isinstance(event, Warned):
                self.warning.emit(event.text)
            elif isinstance(event, Finished):
                self._on_finished(event.run)
        if found:
            self._emit_results(found)

    def _emit_results(self, found: list[Finding]) -> None:
        self.live.extend(found)
        self.results.emit(found)

    def _on_finished(self, run: Run) -> None:
        # A cancelled run is kept too: it is honest about what was and was not tested, and
        # the user decides whether to keep it (History lets them delete it).
        self.session.edit(lambda p: p.runs.append(run), self)
        self.finished.emit(run)
        # The recovery copy is started in the next turn of the event loop, so the UI paints the
        # finished run first; a crash in between loses nothing the task had not just reported.
        QTimer.singleShot(0, self.session.autosave_in_background)

    def _on_ended(self) -> None:
        self.task = None
        self.busy_changed.emit(False)


class AppContext(QObject):
    """Shared services for pages; ``window`` is the main window (for dialogs' parent)."""

    #: Ask the findings page to show run N (1-based) and switch to it.
    show_run = Signal(int)
    #: Ask the window to switch to the page with this key.
    navigate = Signal(str)
    #: A short message for the status bar.
    status = Signal(str)
    #: Some page holds input that is not valid (so it was not stored): an audit cannot start.
    input_validity_changed = Signal(bool)
    #: Which pages hold invalid input changed (the sidebar marks them).
    input_problems_changed = Signal()
    #: Someone asked to run with invalid input: the window shows the first invalid field and why.
    show_input_problem = Signal()

    def __init__(self, session: ProjectSession, settings: Settings, home: Path,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.settings, self.home = session, settings, home
        #: Every background job of the window runs here; drained once when the window closes.
        self.tasks = TaskService(self)
        session.use_tasks(self.tasks)
        self.runner = RunController(session, settings, self.tasks, self)
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
        before, problems = self.input_ok, dict(self._input_problems)
        if problem:
            self._input_problems[page] = problem
        else:
            self._input_problems.pop(page, None)
        if problems != self._input_problems:
            self.input_problems_changed.emit()
        if before != self.input_ok:
            self.input_validity_changed.emit(self.input_ok)

    @property
    def base_dir(self) -> Path | None:
        """Folder relative paths in the project (logos) resolve against."""
        return self.session.path.resolve().parent if self.session.path else None
