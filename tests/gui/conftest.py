"""Fixtures for the GUI tests: an isolated home folder, settings file, session and window.

Every test gets its own ``AUDITAPP_HOME`` (settings.ini, logs, recovery files), so nothing a
test does reaches the developer's real settings and tests cannot see each other's state.
``demo_run_project`` is a project with one real run of the offline demo lab (DNS only),
audited once per test session.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QSettings

from auditapp.core.project import Project
from auditapp.gui import i18n


class UnexpectedDialog(AssertionError):
    pass


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """A modal message box would block an offscreen test forever; an unplanned one fails the test.

    Tests that expect a dialog patch the method themselves (after this fixture ran).
    """
    from PySide6.QtWidgets import QMessageBox

    shown: list[tuple[str, str]] = []

    def refuse(kind: str):
        def show(_parent, title, text, *args, **kwargs):
            shown.append((kind, f"{title}: {text}"))
            raise UnexpectedDialog(f"unexpected {kind} dialog: {title}: {text}")
        return staticmethod(show)

    for kind in ("question", "warning", "critical", "information", "about"):
        monkeypatch.setattr(QMessageBox, kind, refuse(kind))
    return shown


@pytest.fixture
def gui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("AUDITAPP_HOME", str(home))
    return home


@pytest.fixture(params=["de"])
def gui_lang(request: pytest.FixtureRequest) -> Iterator[str]:
    previous = i18n.language()
    i18n.set_language(request.param)
    yield request.param
    i18n.set_language(previous)


@pytest.fixture
def ctx(qapp, gui_home: Path, gui_lang: str):
    from auditapp.gui.context import AppContext
    from auditapp.gui.session import ProjectSession
    from auditapp.gui.settings import Settings

    settings = Settings(QSettings(str(gui_home / "settings.ini"), QSettings.Format.IniFormat))
    session = ProjectSession(gui_home / "recovery")
    context = AppContext(session, settings, gui_home)
    yield context
    context.runner.cancel()
    context.runner.wait(5.0)
    context.tasks.shutdown(30.0)
    session._timer.stop()


@pytest.fixture
def window(ctx, qtbot):
    from auditapp.gui.main_window import MainWindow

    win = MainWindow(ctx)
    win.show()
    yield win
    # Closed here rather than by qtbot.addWidget, which closes before fixtures are torn down:
    # the session is closed first, so no "unsaved changes" question blocks the teardown.
    ctx.runner.cancel()
    ctx.runner.wait(10.0)
    ctx.session.close()
    win.close()
    # The window is the one widget without a parent (as in the application, where it lives until
    # the program ends); deleted here so tests do not pile up windows.
    shiboken6.delete(win)


@pytest.fixture(scope="session")
def demo_run_project_json() -> dict:
    """One real audit of the demo lab (DNS only), recorded in the demo project; built once."""
    import asyncio

    from auditapp.audit.engine import audit
    from auditapp.audit.prepare import prepare_project_audit
    from auditapp.gui.demo_project import demo_nameserver
    from auditapp.lab.demo import demo_project

    project = demo_project(demo_nameserver())
    prepared = prepare_project_audit(project, timeout=2.0)
    run = asyncio.run(audit(prepared.target, prepared.make_dns(), prepared.config))
    project.runs.append(run)
    return project.to_json()


@pytest.fixture
def demo_run_project(demo_run_project_json: dict) -> Project:
    """A fresh copy per test (tests edit it)."""
    return Project.from_json(demo_run_project_json)


@pytest.fixture
def standalone_page(ctx, qtbot, monkeypatch: pytest.MonkeyPatch):
    """Build one page outside the window for a fresh project; confirmations answer yes."""
    created = []

    def make(cls, project: Project | None = None):
        ctx.session.new(project or Project(name="Test GmbH", domain="example.com"))
        widget = cls(ctx)
        qtbot.addWidget(widget)
        widget.resize(1280, 800)
        widget.show()
        if hasattr(widget, "confirm"):
            monkeypatch.setattr(widget, "confirm", lambda title, text: True)
        created.append(widget)
        return widget

    yield make
    ctx.session.discard_recovery()
