"""The open project: its file, unsaved changes, autosave to a recovery file, crash recovery.

The window never edits a :class:`Project` directly. Pages call :meth:`ProjectSession.edit`,
which applies the change, marks the project modified and tells every page (``changed``,
with the page that made the change so it does not reload the field being typed in).

Never lose work:

* Saves go through :func:`auditapp.core.project_io.save_project` (atomic, keeps ``.bak``).
* Loading, saving and the recovery copy run as tasks (:mod:`auditapp.gui.tasks`): at 200 runs
  each costs 0.5 to 1 s, which the window spends painting instead. Only a snapshot of the
  project (:meth:`Project.snapshot`, microseconds) is taken on the UI thread, so an edit made
  while a save runs is not half in the file; such an edit keeps the project marked modified.
* While there are unsaved changes, a copy is written to a recovery file every minute (and
  after each finished run). A clean close or a save removes it; after a crash or ``kill -9``
  it is still there, and the next start offers to restore it. The recovery file holds the
  path of the project it belongs to, so the restored project saves back to the same file.
* Recovery files carry the writer's process id; a file whose writer still runs belongs to
  another open window and is left alone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from auditapp.core.project import Project, ProjectError
from auditapp.core.project_io import project_from_document
from auditapp.gui.tasks import Task, TaskService

AUTOSAVE_MS = 60_000
PROJECT_SUFFIX = ".auditproj"


@dataclass(frozen=True)
class Recovery:
    """An unsaved project left behind by a crashed window."""

    file: Path
    original: str | None  # the project file it belongs to, if it had one
    saved_at: str
    name: str


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but not ours (or we cannot tell): leave it alone
    return True


class ProjectSession(QObject):
    #: A different project was opened, created or closed (pages reload everything).
    replaced = Signal()
    #: The project was edited; the argument is the object that made the change (or None).
    changed = Signal(object)
    modified_changed = Signal(bool)
    path_changed = Signal()
    #: The recovery copy could not be written (a full disk): said once until a write succeeds.
    autosave_failed = Signal(str)

    def __init__(self, recovery_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.path: Path | None = None
        self._modified = False
        self._edits = 0  # counts edits, so a save knows whether the project changed meanwhile
        self._autosave_warned = False
        self._autosave_task: Task | None = None
        self._tasks: TaskService | None = None
        self.recovery_dir = recovery_dir
        self.recovery_dir.mkdir(parents=True, exist_ok=True)
        self._timer = QTimer(self)
        self._timer.setInterval(AUTOSAVE_MS)
        self._timer.timeout.connect(self.autosave_in_background)
        self._timer.start()

    @property
    def tasks(self) -> TaskService:
        """The application's task service (:class:`~auditapp.gui.context.AppContext` hands it over).

        A session used on its own (a test in a subprocess) gets one of its own.
        """
        if self._tasks is None:
            self._tasks = TaskService(self)
        return self._tasks

    def use_tasks(self, tasks: TaskService) -> None:
        self._tasks = tasks

    def _await(self, task: Task) -> Any:
        """The task's result once it ended (the window keeps painting); its exception re-raised."""
        self.tasks.wait(task)
        if task.exception is not None:
            raise task.exception
        if task.error:
            raise RuntimeError(task.error)
        return task.result

    # -- state ------------------------------------------------------------------------------

    @property
    def modified(self) -> bool:
        return self._modified

    def _set_modified(self, value: bool) -> None:
        if value != self._modified:
            self._modified = value
            self.modified_changed.emit(value)

    @property
    def display_name(self) -> str:
        if self.path is not None:
            return self.path.name
        if self.project is not None:
            return self.project.name or self.project.display_domain
        return ""

    # -- lifecycle ----------------------------------------------------------------------------

    def new(self, project: Project) -> None:
        self._replace(project, None, modified=True)

    def open(self, path: str | os.PathLike[str]) -> None:
        """Load ``path``; raises ProjectError with a one-line reason and changes nothing."""
        from auditapp.gui.workers import load_job

        project = self._await(self.tasks.submit("load", load_job(Path(path)), expected=(ProjectError, OSError)))
        self._replace(project, Path(path), modified=False)

    def close(self) -> None:
        self.discard_recovery()
        self._replace(None, None, modified=False)

    def _replace(self, project: Project | None, path: Path | None, *, modified: bool) -> None:
        self.discard_recovery()
        self.project, self.path = project, path
        self._set_modified(modified)
        self.path_changed.emit()
        self.replaced.emit()

    def edit(self, change: Callable[[Project], object], source: object = None) -> None:
        """Apply ``change`` to the project and announce it; exceptions propagate with nothing marked."""
        if self.project is None:
            return
        change(self.project)
        self._edits += 1
        self._set_modified(True)
        self.changed.emit(source)

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Save atomically (to ``path`` for Save As); raises ProjectError or OSError."""
        if self.project is None:
            raise ValueError("no project is open")
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("the project has no file yet; choose one with Save As")
        from auditapp.gui.workers import save_job

        edits = self._edits
        self._await(self.tasks.submit("save", save_job(self.project.snapshot(), target),
                                      expected=(ProjectError, OSError)))
        moved = target != self.path
        self.path = target
        if edits == self._edits:  # an edit made while the file was written is not in it
            self._set_modified(False)
            self.discard_recovery()
        if moved:
            self.path_changed.emit()
        return target

    # -- recovery -----------------------------------------------------------------------------

    @property
    def recovery_file(self) -> Path:
        return self.recovery_dir / f"recovery-{os.getpid()}{PROJECT_SUFFIX}"

    def autosave(self) -> bool:
        """Write the recovery copy now if there are unsaved changes; True when one was written.

        A full or read-only disk is announced once through :attr:`autosave_failed` (the status
        bar), not as an error dialog every minute.
        """
        task = self.autosave_in_background()
        if task is None:
            return False
        self.tasks.wait(task)
        return task.exception is None and not task.error

    def autosave_in_background(self) -> Task | None:
        """Start writing the recovery copy (the minute timer, after each run); None when not needed."""
        from auditapp.gui.workers import recovery_job

        if self.project is None or not self._modified or self.tasks.closed:
            return None  # (closed: the window is closing; its own close discards or saves the work)
        if self._autosave_task is not None and not self._autosave_task.is_ended:
            return self._autosave_task  # one copy at a time; the running one is recent enough
        task = self.tasks.submit("recovery", recovery_job(self.project.snapshot(), self.path, self.recovery_file),
                                 expected=(OSError, ProjectError))
        task.done.connect(self._autosaved)
        task.failed.connect(self._autosave_failed)
        self._autosave_task = task
        return task

    def _autosaved(self, _file: object) -> None:
        self._autosave_task = None
        self._autosave_warned = False
        if not self._modified:  # saved while the copy was written: nothing left to recover
            self.discard_recovery()

    def _autosave_failed(self, reason: str) -> None:
        exc = self._autosave_task.exception if self._autosave_task is not None else None
        self._autosave_task = None
        if not self._autosave_warned:
            self._autosave_warned = True
            self.autosave_failed.emit(exc.strerror if isinstance(exc, OSError) and exc.strerror else reason)

    def discard_recovery(self) -> None:
        self.recovery_file.unlink(missing_ok=True)

    def find_recoveries(self) -> list[Recovery]:
        """Recovery files of windows that are no longer running, newest first."""
        found = []
        for file in self.recovery_dir.glob(f"recovery-*{PROJECT_SUFFIX}"):
            try:
                pid = int(file.stem.split("-", 1)[1])
                info = json.loads(file.read_text(encoding="utf-8")).get("recovery", {})
            except (ValueError, OSError, AttributeError):
                continue
            if _pid_alive(pid):
                continue
            name = ""
            try:
                doc = json.loads(file.read_text(encoding="utf-8"))
                name = doc["project"].get("name") or doc["project"].get("domain", "")
            except (ValueError, KeyError, AttributeError, OSError):
                pass
            found.append(Recovery(file, info.get("original"), str(info.get("saved_at", "")), str(name)))
        return sorted(found, key=lambda r: r.saved_at, reverse=True)

    def restore(self, recovery: Recovery) -> None:
        """Open the recovered project as unsaved changes to its original file; the copy is then removed."""
        doc = json.loads(recovery.file.read_text(encoding="utf-8"))
        doc.pop("recovery", None)
        project = project_from_document(doc, recovery.file)
        self._replace(project, Path(recovery.original) if recovery.original else None, modified=True)
        recovery.file.unlink(missing_ok=True)
        self.autosave()  # keep a recovery copy under our own pid right away

    @staticmethod
    def drop_recovery(recovery: Recovery) -> None:
        recovery.file.unlink(missing_ok=True)
