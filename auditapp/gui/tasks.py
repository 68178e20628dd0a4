"""The one way the window runs work off the UI thread: a task service owned by the app context.

Every long job (an audit, a report render, host discovery, a keyring question, loading and
saving project files) is a plain Python function that runs on a plain Python thread and talks
to the window only through its :class:`Task` handle:

* The function gets a :class:`TaskControl`: ``control.cancelled`` to stop early and
  ``control.emit(item)`` to stream partial results (an audit's findings).
* Streamed items are handed over in batches, one batch per turn of the UI event loop
  (:attr:`Task.items`), so 300 findings arriving within a few milliseconds cost the window one
  table update, not 300.
* The return value arrives as :attr:`Task.done`, an exception as :attr:`Task.failed` (the text
  of an expected error, a traceback otherwise), and :attr:`Task.ended` always comes last.

Why Python threads and not ``QThread`` subclasses (which this program used before): a
``QThread`` is a Qt object whose Python wrapper can be destroyed while its thread runs, which
aborts the process; keeping them alive needed a keeper per page and a wait in ``closeEvent`` for
each of them. Here the only Qt object is the :class:`Task` handle. It lives in the UI thread, is
parented to the service (Qt owns it, not Python's garbage collector) and is removed with
``deleteLater()`` after it ended, so no Qt object is ever destroyed by a worker thread. The
service cancels and joins every thread once, at shutdown.

This is the shape of Anki's ``TaskManager`` and superqt's ``GeneratorWorker``; superqt's
workers are ``QRunnable``s on the global thread pool whose signal objects are Python-owned,
which brings back the lifetime question this module exists to close, so it is not used.
"""

from __future__ import annotations

import threading
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Qt, Signal, Slot


class TaskControl:
    """What a task's function may do: look at the cancel flag and stream items to the window."""

    def __init__(self, task: Task) -> None:
        self._task = task
        self.cancel_event = task._cancel  # for Qt-free code that takes a threading.Event

    @property
    def cancelled(self) -> bool:
        return self._task._cancel.is_set()

    def emit(self, item: object) -> None:
        self._task._push(item)


class Task(QObject):
    """The UI-thread handle of one background job; signals arrive in the UI thread."""

    items = Signal(list)  # streamed items, in order, batched per event-loop turn
    done = Signal(object)  # the function's return value
    failed = Signal(str)  # str(exc) for an expected error, a traceback for anything else
    ended = Signal()  # always, last; the handle is deleted in a later event-loop turn
    _wake = Signal()  # from the worker thread: there is something to deliver

    def __init__(self, name: str, parent: QObject) -> None:
        super().__init__(parent)
        self.name = name
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._pending: deque[object] = deque()
        self._wake_posted = False
        self._outcome: tuple[str, object] | None = None
        self._thread: threading.Thread | None = None
        self.result: object = None
        self.error: str = ""
        #: The exception of an expected failure (for callers that re-raise it), else None.
        self.exception: BaseException | None = None
        self.is_ended = False
        self._wake.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def join(self, timeout_s: float | None = None) -> bool:
        """Wait for the thread (not for the delivery of its signals); True when it ended."""
        if self._thread is not None:
            self._thread.join(timeout_s)
            return not self._thread.is_alive()
        return True

    # -- worker-thread side ---------------------------------------------------------------------

    def _push(self, item: object) -> None:
        with self._lock:
            self._pending.append(item)
            post = not self._wake_posted
            self._wake_posted = True
        if post:
            self._wake.emit()

    def _finish(self, kind: str, value: object) -> None:
        with self._lock:
            self._outcome = (kind, value)
            post = not self._wake_posted
            self._wake_posted = True
        if post:
            self._wake.emit()

    # -- UI-thread side -------------------------------------------------------------------------

    @Slot()
    def _deliver(self) -> None:
        with self._lock:
            batch = list(self._pending)
            self._pending.clear()
            outcome = self._outcome
            self._wake_posted = False
        if batch:
            self.items.emit(batch)
        if outcome is None or self.is_ended:
            return
        kind, value = outcome
        if kind == "done":
            self.result = value
            self.done.emit(value)
        else:
            if isinstance(value, BaseException):
                self.exception = value
            self.error = str(value)
            self.failed.emit(self.error)
        self.is_ended = True
        self.ended.emit()
        parent = self.parent()
        if isinstance(parent, TaskService):
            parent._forget(self)
        self.deleteLater()


class TaskService(QObject):
    """Starts tasks, knows which run, cancels and joins them all once at shutdown."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: list[Task] = []
        self._closed = False

    def submit(self, name: str, function: Callable[[TaskControl], Any], *,
               expected: tuple[type[BaseException], ...] = ()) -> Task:
        """Run ``function(control)`` on a new thread; connect to the returned handle's signals.

        Connect before control returns to the event loop: nothing is delivered earlier.
        Exceptions listed in ``expected`` are reported by their message (a project file that
        cannot be read); any other exception with its traceback, for the error dialog.
        """
        if self._closed:
            raise RuntimeError("the task service was shut down")
        task = Task(name, self)
        control = TaskControl(task)

        def body() -> None:
            try:
                value = function(control)
            except expected as exc:
                task._finish("failed", exc)
            except Exception:
                task._finish("failed", traceback.format_exc())
            else:
                task._finish("done", value)

        task._thread = threading.Thread(target=body, name=f"task:{name}", daemon=True)
        self._running.append(task)
        task._thread.start()
        return task

    @property
    def closed(self) -> bool:
        """True after :meth:`shutdown`: the window is going away and takes no new work."""
        return self._closed

    def running(self, name: str | None = None) -> list[Task]:
        return [t for t in self._running if name is None or t.name == name]

    def _forget(self, task: Task) -> None:
        if task in self._running:
            self._running.remove(task)

    def wait(self, task: Task, *, timeout_s: float | None = None) -> bool:
        """Keep the window painting until ``task`` has ended and its signals were delivered.

        For the few callers that need the answer before they go on (save before close, open a
        file from the command line). Input still reaches the window while it waits; callers
        disable what must not be used meanwhile. True when the task ended in time.
        """
        if task.is_ended:
            return True
        loop = QEventLoop()
        task.ended.connect(loop.quit)
        if timeout_s is not None:
            from PySide6.QtCore import QTimer

            QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        if not task.is_ended:
            loop.exec()
        return task.is_ended

    def shutdown(self, timeout_s: float = 60.0) -> bool:
        """Cancel every task, wait for their threads, deliver what they left; True when all ended.

        Called once, when the window closes. Threads are daemons, so one that does not end
        in time (a keyring stuck in D-Bus) cannot keep the process alive after this.
        """
        self._closed = True
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        ok = all(task.join(timeout_s) for task in tasks)
        QCoreApplication.sendPostedEvents(None, 0)  # the queued deliveries of the tasks that ended
        return ok
