"""The task service: streaming in batches, results, errors, cancel and the one drain at shutdown."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject

from auditapp.core.project import Project, ProjectError
from auditapp.gui.tasks import TaskService


@pytest.fixture
def service(qapp):
    tasks = TaskService()
    yield tasks
    tasks.shutdown(10.0)


def test_streamed_items_arrive_in_order_in_few_batches(service: TaskService, qtbot) -> None:
    batches: list[list[object]] = []
    go = threading.Event()

    def job(control) -> str:
        go.wait(5)
        for i in range(1000):
            control.emit(i)
        return "done"

    task = service.submit("stream", job)
    task.items.connect(batches.append)
    go.set()
    assert service.wait(task, timeout_s=10)
    assert [i for batch in batches for i in batch] == list(range(1000))
    assert len(batches) < 1000  # batched per turn of the event loop, not one event per item
    assert task.result == "done" and task.error == "" and task.exception is None


def test_an_expected_error_gives_its_message_and_another_its_traceback(service: TaskService) -> None:
    def expected(_control) -> None:
        raise ProjectError("broken.auditproj: not a project file")

    def unexpected(_control) -> None:
        raise KeyError("bug")

    one = service.submit("a", expected, expected=(ProjectError,))
    two = service.submit("b", unexpected, expected=(ProjectError,))
    assert service.wait(one, timeout_s=10) and service.wait(two, timeout_s=10)
    assert one.error == "broken.auditproj: not a project file" and isinstance(one.exception, ProjectError)
    assert "Traceback" in two.error and "KeyError: 'bug'" in two.error and two.exception is None


def test_cancel_reaches_the_function_and_ended_comes_last(service: TaskService) -> None:
    order: list[str] = []

    def job(control) -> str:
        while not control.cancelled:
            control.cancel_event.wait(0.01)
        return "stopped"

    task = service.submit("loop", job)
    task.done.connect(lambda _v: order.append("done"))
    task.ended.connect(lambda: order.append("ended"))
    task.cancel()
    assert service.wait(task, timeout_s=10)
    assert order == ["done", "ended"] and task.cancelled


def test_the_handle_belongs_to_the_service_and_is_deleted_after_it_ended(service: TaskService, qtbot) -> None:
    import shiboken6

    task = service.submit("quick", lambda _c: 1)
    assert isinstance(task, QObject) and task.parent() is service and not shiboken6.ownedByPython(task)
    assert service.wait(task, timeout_s=10) and service.running() == []
    qtbot.waitUntil(lambda: not shiboken6.isValid(task), timeout=5000)  # deleteLater on the UI thread


def test_shutdown_cancels_and_joins_everything_once(service: TaskService) -> None:
    started = threading.Event()

    def job(control) -> None:
        started.set()
        control.cancel_event.wait(30)

    service.submit("one", job)
    assert started.wait(5)
    assert service.shutdown(10.0)
    with pytest.raises(RuntimeError):
        service.submit("late", job)


def test_a_project_snapshot_shares_runs_and_copies_everything_editable() -> None:
    from auditapp.core.model import Run

    project = Project(name="Snap", domain="example.com", answers={"q": {"nested": [1]}}, mx_hosts=["mx.example.com"])
    project.runs.append(Run(id="r1", started="2026-12-01T10:00:00+00:00", finished="2026-12-01T10:01:00+00:00",
                            tool_version="x", catalog_version="y", resolver="", target={}, findings=[]))
    snap = project.snapshot()
    project.answers["q"]["nested"].append(2)
    project.mx_hosts.append("mx2.example.com")
    project.runs.append(project.runs[0])
    assert snap.answers == {"q": {"nested": [1]}} and snap.mx_hosts == ["mx.example.com"]
    assert len(snap.runs) == 1 and snap.runs[0] is project.runs[0]
    assert snap.to_json() != project.to_json()


def test_a_recovery_copy_after_shutdown_is_not_started(ctx) -> None:
    """The minute timer may tick between the window's close and the program's end: no new task then."""
    ctx.session.new(Project(name="Late", domain="example.com"))
    ctx.tasks.shutdown(5.0)
    assert ctx.tasks.closed
    assert ctx.session.autosave_in_background() is None
