"""No Qt object is left for Python's garbage collector: the reason the GUI may collect on any thread.

CPython's cyclic collector runs in whichever thread allocates when a threshold is crossed; in
this program that is often a task thread (an audit, a render). If the garbage it frees holds
the only reference to a Qt object that Python owns (a widget without a parent, a timer kept in
a lambda's cycle), Qt destroys that object from the wrong thread and the next timer tick
crashes the program. Earlier versions therefore switched automatic collection off and
collected on the GUI thread; now every Qt object has a parent or is ``deleteLater()``-ed (see
:mod:`auditapp.gui.tasks`), and this test keeps it that way: after a session that touches
every page, a language switch, an audit, a report preview and the dialogs, the garbage holds
no live Qt object that Python owns. A second test collects on a task thread in the middle of
that, as the interpreter may.
"""

from __future__ import annotations

import gc

import shiboken6
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from auditapp.gui.demo_project import demo_nameserver
from auditapp.gui.pages import PAGES
from auditapp.lab.demo import demo_project


def _python_owned_qt_garbage() -> list[str]:
    """Collect with DEBUG_SAVEALL: what would have been freed, kept for inspection."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        found = [f"{type(o).__name__} {getattr(o, 'objectName', lambda: '')()!r}" for o in gc.garbage
                 if isinstance(o, QObject) and shiboken6.isValid(o) and shiboken6.ownedByPython(o)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    return found


def _use_the_window(window, ctx, qtbot) -> None:
    ctx.session.new(demo_project(demo_nameserver()))
    with qtbot.waitSignal(ctx.runner.finished, timeout=60000):
        window.run_audit()
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10000)
    for key in PAGES:
        window.go(key)
        qtbot.wait(20)
    report = window.pages["report"]
    report.refresh_preview()
    qtbot.waitUntil(lambda: not report.preview_busy, timeout=60000)
    QTimer.singleShot(300, lambda: QApplication.activeModalWidget().reject())
    window.preferences()  # a modal dialog, closed by the timer
    window.set_language("en")
    window.set_language("de")
    for key in PAGES:
        window.go(key)
    ctx.session.autosave()


def test_a_session_leaves_no_python_owned_qt_object_to_the_collector(window, ctx, qtbot) -> None:
    gc.collect()
    gc.disable()  # so that every piece of garbage of the session is still there to be looked at
    try:
        _use_the_window(window, ctx, qtbot)
        found = _python_owned_qt_garbage()
    finally:
        gc.enable()
    assert found == []


def test_collecting_on_a_task_thread_does_not_crash(window, ctx, qtbot) -> None:
    """What the interpreter may do at any allocation: collect in a worker thread, mid-session."""
    _use_the_window(window, ctx, qtbot)
    task = ctx.tasks.submit("collect", lambda _control: gc.collect())
    assert ctx.tasks.wait(task, timeout_s=30)
    assert task.exception is None and not task.error
    for key in PAGES:  # timers and widgets still work afterwards
        window.go(key)
        qtbot.wait(50)
    assert window.current_key() == list(PAGES)[-1]


def test_the_detector_finds_a_python_owned_qt_object_in_a_cycle(qapp) -> None:
    """The check above can fail: a parentless timer kept alive only by a cycle is found."""

    class Holder:
        def __init__(self) -> None:
            self.timer = QTimer()
            self.timer.setObjectName("planted")
            self.timer.timeout.connect(self.tick)
            self.me = self

        def tick(self) -> None:
            pass

    gc.collect()
    Holder()
    found = _python_owned_qt_garbage()
    assert any("planted" in entry for entry in found), found
