"""The demo project in the window: a made-up client a newcomer can open, run and report on.

The demo's DNS and mail services are the demo lab (:mod:`auditapp.lab.demolab`), started on
first use and kept for the life of the program. Its ports change with every start, so they
are not the project's: importing this module tells the prepare step how to reach the running
lab (:func:`auditapp.audit.prepare.use_demo_lab`), and every audit of a project marked
``demo`` -- however it was opened, even restored after a crash -- runs against the live lab.

Opening a demo project (:func:`follow_demo_lab`, called by ``MainWindow.open_path``, which
recent files, the Open dialog, drag and drop, the command line and the macOS file-open event
all go through) starts the lab and shows its current resolver and ports on the Target page.
That is a runtime detail, not an edit: the project is not marked modified, and the next
session replaces them again. Runs, reviews and answers the user made are never touched.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from auditapp.audit.prepare import use_demo_lab
from auditapp.core.project_io import load_project, save_project
from auditapp.lab.demo import DEMO_DOMAIN, as_demo, demo_project
from auditapp.lab.demolab import demo_lab_endpoints

if TYPE_CHECKING:
    from auditapp.gui.context import AppContext

log = logging.getLogger(__name__)

use_demo_lab(demo_lab_endpoints)


def demo_nameserver() -> str:
    """The running demo lab's resolver (``host:port``), starting the lab if needed."""
    return demo_lab_endpoints().nameservers[0]


def demo_file(home: Path) -> Path:
    """Where the window keeps the demo project."""
    return home / "demo" / f"{DEMO_DOMAIN}.auditproj"


def demo_project_file(home: Path) -> Path:
    """The demo project under ``home/demo``, created on first use.

    A demo file an older version wrote (DNS only, its lab's resolver of that day) is marked as
    the demo and saved once; everything the user did with it stays. An unreadable demo file
    is reported (ProjectError), never silently replaced.
    """
    path = demo_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        save_project(demo_project(), path)
        return path
    project = load_project(path)
    if not project.demo:
        save_project(as_demo(project), path)
    return path


def follow_demo_lab(ctx: AppContext) -> None:
    """After a project was opened: if it is a demo project, start the lab and show its endpoints.

    A demo project is one marked ``demo``, or the window's own demo file written by an older
    version (recognised by its place, never by its domain alone: a user's own project for the
    same name is left alone). The lab failing to start is not an error here: the project still
    opens, and Run reports why the demo cannot be audited.
    """
    session = ctx.session
    project = session.project
    if project is None:
        return
    own_file = session.path is not None and session.path.resolve() == demo_file(ctx.home).resolve()
    if not (project.demo or own_file):
        return
    try:
        lab = demo_lab_endpoints()
    except Exception as exc:  # a port that cannot be bound, a temp folder that cannot be written
        log.warning("the demo lab could not start: %s", exc)
        return
    if not project.demo:
        as_demo(project)  # an older version's demo file: upgraded in memory, saved with the next save
    project.nameservers = list(lab.nameservers)
    project.ports = dict(lab.ports)
    session.replaced.emit()  # the pages show the live lab; nothing to save
