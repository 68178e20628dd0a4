"""Never lose work: saving, the unsaved-changes prompt, bad files, autosave and crash recovery."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from auditapp.core.project import Project
from auditapp.core.project_io import load_project, save_project
from auditapp.gui.dialogs import recovery
from auditapp.gui.session import ProjectSession


def test_save_and_reopen_with_title_marker(window, ctx, tmp_path: Path) -> None:
    ctx.session.new(Project(name="Kunde", domain="example.com"))
    assert window.isWindowModified() and "Kunde" in window.windowTitle()
    path = tmp_path / "kunde.auditproj"
    ctx.session.save(path)
    assert not window.isWindowModified() and "kunde.auditproj" in window.windowTitle()
    ctx.session.edit(lambda p: setattr(p, "helo", "mail.example.com"))
    assert window.isWindowModified()
    ctx.session.close()
    assert window.windowTitle() == "auditapp" and window.current_key() == "welcome"
    assert window.open_path(path)
    assert ctx.session.project.helo is None  # the unsaved edit was not written
    assert str(path.resolve()) in ctx.settings.recent_files


def test_unsaved_changes_prompt_can_cancel_save_or_discard(window, ctx, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.auditproj"
    save_project(Project(name="A", domain="example.com"), path)
    window.open_path(path)
    ctx.session.edit(lambda p: setattr(p, "name", "B"))
    answers = [QMessageBox.StandardButton.Cancel]
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: answers.pop(0)))
    window.close_project()
    assert ctx.session.project is not None and ctx.session.modified  # cancelled: nothing lost
    answers.append(QMessageBox.StandardButton.Save)
    window.close_project()
    assert ctx.session.project is None and load_project(path).name == "B"


@pytest.mark.parametrize(("content", "message"), [
    (b'{"format": "auditapp.project", "schema_version": 99, "project": {}}', "newer auditapp"),
    (b'{"format": "auditapp.project", "schema_version": 1, "project": {"domain": "exa', "ends too early"),
    (b"%PDF-1.7 not a project", "JSON"),
    (b'{"hello": "world"}', "not an auditapp project"),
])
def test_bad_files_get_a_clear_message_and_stay_unchanged(window, ctx, tmp_path: Path, content: bytes, message: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bad.auditproj"
    path.write_bytes(content)
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda _p, _t, text, *a: shown.append(text)))
    assert window.open_path(path) is False
    assert path.read_bytes() == content
    assert len(shown) == 1 and str(path) in shown[0]
    assert message.lower() in shown[0].lower(), shown[0]
    assert ctx.session.project is None and not (tmp_path / "bad.auditproj.bak").exists()


def test_dropping_a_project_file_opens_it(window, ctx, tmp_path: Path) -> None:
    path = tmp_path / "dropped.auditproj"
    save_project(Project(name="Drop", domain="example.org"), path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert ctx.session.project is not None and ctx.session.project.name == "Drop"


def test_autosave_writes_a_recovery_copy_and_a_save_removes_it(ctx, tmp_path: Path) -> None:
    session = ctx.session
    assert session.autosave() is False  # nothing open
    session.new(Project(name="Auto", domain="example.com"))
    assert session.autosave() is True and session.recovery_file.exists()
    assert session.find_recoveries() == []  # our own, still running: not offered
    session.save(tmp_path / "auto.auditproj")
    assert not session.recovery_file.exists()
    assert session.autosave() is False  # saved: nothing to recover


_CRASHING_WINDOW = textwrap.dedent("""
    import os, sys, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication
    from auditapp.core.project import Project
    from auditapp.gui.session import ProjectSession
    app = QApplication([])
    session = ProjectSession(__import__("pathlib").Path(sys.argv[1]))
    session.open(sys.argv[2])
    session.edit(lambda p: setattr(p, "helo", "mail.recovered.example"))
    session.autosave()
    print("autosaved", flush=True)
    time.sleep(60)
""")


def test_after_kill_9_the_next_start_offers_the_unsaved_work(window, ctx, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "crash.auditproj"
    save_project(Project(name="Absturz GmbH", domain="example.com"), path)
    before = path.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", _CRASHING_WINDOW, str(ctx.session.recovery_dir), str(path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "autosaved"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert path.read_bytes() == before  # the crash did not touch the project file
    found = ctx.session.find_recoveries()
    assert [r.name for r in found] == ["Absturz GmbH"] and found[0].original == str(path)
    asked: list[str] = []

    def answer(rec, parent):
        box, buttons = recovery.recovery_box(rec, parent)
        asked.append(box.informativeText())
        assert [buttons[c].text() for c in recovery.RecoveryChoice] == ["Wiederherstellen", "Verwerfen",
                                                                         "Später entscheiden"]
        box.deleteLater()
        return recovery.RecoveryChoice.RESTORE

    monkeypatch.setattr(recovery, "ask_recovery", answer)
    window.offer_recovery()
    assert asked and "Absturz GmbH" in asked[0]
    assert re.search(r"Gesichert: \d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d\n", asked[0])  # the time as the window writes times
    assert ctx.session.project.helo == "mail.recovered.example"
    assert ctx.session.path == path and ctx.session.modified
    assert not found[0].file.exists()  # taken over: now recovered under our own pid
    ctx.session.save()
    assert load_project(path).helo == "mail.recovered.example"


_SAVING_LOOP = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QCoreApplication
    from auditapp.core.project import Project
    from auditapp.gui.session import ProjectSession
    app = QCoreApplication([])
    session = ProjectSession(__import__("pathlib").Path(sys.argv[1]))
    session.open(sys.argv[2])
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        session.edit(lambda p, i=i: setattr(p, "answers", {"iteration": i, "filler": "x" * 400_000}))
        session.save()
""")


def test_killing_the_program_during_saves_leaves_a_readable_project(ctx, tmp_path: Path) -> None:
    import time

    path = tmp_path / "busy.auditproj"
    save_project(Project(name="Busy", domain="example.com"), path)
    proc = subprocess.Popen([sys.executable, "-c", _SAVING_LOOP, str(tmp_path / "rec"), str(path)],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(0.7)  # let it save many times; the kill lands somewhere inside a save
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    project = load_project(path)  # never a half-written file
    assert project.name == "Busy"
    iteration = project.answers.get("iteration", 0)
    assert iteration > 0
    expected = ("busy.auditproj", "busy.auditproj.bak", "rec", "home")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in expected]
    assert all(".tmp" in name for name in leftovers), leftovers  # at most the temp file of the interrupted save


def test_session_refuses_to_save_without_a_file(ctx) -> None:
    session: ProjectSession = ctx.session
    session.new(Project(name="X", domain="example.com"))
    with pytest.raises(ValueError, match="Save As"):
        session.save()
    assert json.dumps(session.project.to_json())


def test_a_file_open_event_opens_the_project(window, ctx, qapp, tmp_path: Path) -> None:
    """What macOS sends when a .auditproj file is double-clicked in the Finder."""
    from PySide6.QtGui import QFileOpenEvent

    from auditapp.gui.app import FileOpenFilter

    path = tmp_path / "finder.auditproj"
    save_project(Project(name="Finder", domain="example.net"), path)
    opener = FileOpenFilter(window.open_path)
    qapp.installEventFilter(opener)
    try:
        qapp.sendEvent(qapp, QFileOpenEvent(str(path)))
    finally:
        qapp.removeEventFilter(opener)
    assert ctx.session.project is not None and ctx.session.project.name == "Finder"


def test_a_failing_autosave_warns_once_in_the_status_bar(window, ctx, tmp_path: Path) -> None:
    """A full disk made the error dialog pop up every minute; now one status-bar line until a write succeeds."""
    session = ctx.session
    session.new(Project(name="Voll", domain="example.com"))
    good_dir = session.recovery_dir
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x", "utf-8")
    warnings: list[str] = []
    session.autosave_failed.connect(warnings.append)
    try:
        session.recovery_dir = blocker / "recovery"  # every write fails (ENOTDIR), also for root
        assert session.autosave() is False and session.autosave() is False
        assert len(warnings) == 1
        assert window.statusBar().currentMessage().startswith(("Wiederherstellungskopie", "Recovery copy"))
        session.recovery_dir = good_dir
        assert session.autosave() is True
        session.recovery_dir = blocker / "recovery"
        assert session.autosave() is False and len(warnings) == 2  # a new failure after a success: said again
    finally:
        session.recovery_dir = good_dir
