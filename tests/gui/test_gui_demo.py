"""The demo project in the window (issue 14): the demo lab follows the demo project, by any way it is opened.

A saved demo project names the resolver of the lab that ran when it was saved. Reopened after
a restart it audited a dead port; now opening it starts this session's lab and shows it, the
audit runs against it, and the lab also runs the demo's mail services.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QFileOpenEvent
from PySide6.QtWidgets import QFileDialog

from auditapp.core.model import Run, Status
from auditapp.core.project import Project
from auditapp.core.project_io import load_project, save_project
from auditapp.gui.demo_project import demo_file, demo_project_file
from auditapp.lab.demo import DEMO_DOMAIN, demo_project
from auditapp.lab.demolab import demo_lab_endpoints, stop_demo_lab

SERVICE_PREFIXES = ("SMTP-", "STARTTLS-", "AUTH-", "SUBMISSION-", "MAILBOX-", "TLS-CERT-", "TLS-LEGACY-", "SERVICE-")


def run_in_window(window, ctx, qtbot) -> Run:
    with qtbot.waitSignal(ctx.runner.finished, timeout=60000) as finished:
        window.run_audit()
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10000)
    return finished.args[0]


def assert_full_demo(run: Run, resolver: str) -> None:
    """A demo run against the live lab: DNS and services, passes and failures, nothing "not probed"."""
    assert run.resolver == resolver
    assert not getattr(run, "degraded", False) and not run.cancelled
    assert any(f.rule == "PTR-FCRDNS" and f.status is Status.FAIL for f in run.findings)
    assert any(f.rule == "DNSBL-LISTED" and f.status is Status.FAIL for f in run.findings)
    service = [f for f in run.findings if f.rule.startswith(SERVICE_PREFIXES)]
    assert {Status.PASS, Status.FAIL} <= {f.status for f in service}
    assert not [f for f in service if f.status is Status.NOT_TESTED]
    assert not any(f.reason and f.reason.key == "reason.services_off" for f in run.findings)


def stale(path: Path) -> None:
    """Rewrite the file as a restart leaves it: resolver and service ports of a lab that is gone."""
    data = json.loads(path.read_text("utf-8"))
    data["project"]["nameservers"] = ["127.0.0.1:9"]
    data["project"]["ports"] = {"smtp": 11, "submission": 12, "imaps": 13}
    path.write_text(json.dumps(data), "utf-8")


def test_the_demo_from_the_start_page_probes_dns_and_services(window, ctx, qtbot, gui_home: Path) -> None:
    window.open_demo()
    project = ctx.session.project
    assert project is not None and project.demo and ctx.session.path == demo_file(gui_home)
    assert not ctx.session.modified  # opening is not an edit
    live = demo_lab_endpoints()
    target = window.pages["target"]
    assert target.nameservers.values() == list(live.nameservers)  # the Target page shows the running lab
    run = run_in_window(window, ctx, qtbot)
    assert_full_demo(run, live.nameservers[0])


def test_a_saved_demo_reopened_after_its_lab_is_gone_runs_against_the_live_lab(window, ctx, qtbot,
                                                                              gui_home: Path) -> None:
    path = demo_project_file(gui_home)
    window.open_path(path)
    assert window.save()
    old = ctx.session.project.nameservers
    ctx.session.close()
    stop_demo_lab()  # the program ended: its lab is gone
    stale(path)
    assert window.open_path(path)  # what recent files, the command line and the Open dialog do
    live = demo_lab_endpoints()
    assert live.nameservers[0] not in old
    project = ctx.session.project
    assert project.nameservers == list(live.nameservers) and project.ports == dict(live.ports)
    assert not ctx.session.modified
    assert json.loads(path.read_text("utf-8"))["project"]["nameservers"] == ["127.0.0.1:9"]  # file untouched
    run = run_in_window(window, ctx, qtbot)
    assert_full_demo(run, live.nameservers[0])


@pytest.mark.parametrize("way", ["recent", "dialog", "file_open_event", "drop"])
def test_every_way_of_opening_a_demo_starts_the_lab(window, ctx, qtbot, gui_home: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    path = tmp_path / "Kopie der Demo.auditproj"  # saved elsewhere under another name: still the demo
    save_project(demo_project(), path)
    stale(path)
    if way == "recent":
        ctx.settings.add_recent(path)
        window._fill_recent()
        next(a for a in window.recent_menu.actions() if a.text() == str(path)).trigger()
    elif way == "dialog":
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(path), ""))
        window.open_dialog()
    elif way == "file_open_event":  # macOS: a double-clicked document arrives as an event
        from auditapp.gui.app import FileOpenFilter

        opener = FileOpenFilter(window.open_path)
        QCoreApplication.instance().installEventFilter(opener)
        try:
            QCoreApplication.sendEvent(window, QFileOpenEvent(str(path)))
        finally:
            QCoreApplication.instance().removeEventFilter(opener)
    else:  # dragged onto the window
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        window.dropEvent(QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                    Qt.KeyboardModifier.NoModifier))
    assert ctx.session.path == path
    assert ctx.session.project.nameservers == list(demo_lab_endpoints().nameservers)
    assert not ctx.session.modified
    prepared = ctx.runner.prepare()
    assert prepared.resolver_text == demo_lab_endpoints().nameservers[0]


def test_a_restored_demo_never_opened_through_a_path_still_audits_the_live_lab(ctx) -> None:
    """A crash recovery replaces the project without open_path: the prepare step still aims it at the lab."""
    project = demo_project()
    project.nameservers = ["127.0.0.1:9"]
    ctx.session.new(project)
    assert ctx.runner.prepare().resolver_text == demo_lab_endpoints().nameservers[0]


def test_an_older_versions_demo_file_is_upgraded_to_the_full_demo(window, ctx, gui_home: Path) -> None:
    path = demo_file(gui_home)
    path.parent.mkdir(parents=True)
    old = demo_project("127.0.0.1:9")  # DNS only, a fixed resolver, no demo mark: as 0.1.0 wrote it
    old.runs = []
    save_project(old, path)
    assert window.open_path(path)
    project = ctx.session.project
    assert project.demo and project.probe_services and project.nameservers == list(demo_lab_endpoints().nameservers)
    assert not ctx.session.modified
    ctx.session.close()
    window.open_demo()  # the start page's button writes the upgrade once
    assert load_project(path).demo


def test_a_users_own_project_for_the_demo_domain_is_left_alone(window, ctx, tmp_path: Path) -> None:
    path = tmp_path / "eigenes.auditproj"
    save_project(Project(name="Eigenes Labor", domain=DEMO_DOMAIN, nameservers=["127.0.0.1:5353"]), path)
    assert window.open_path(path)
    assert not ctx.session.project.demo and ctx.session.project.nameservers == ["127.0.0.1:5353"]
