"""The demo project: the offline demo lab as a project a newcomer can open, run and report on.

The demo's DNS answers come from :class:`~auditapp.lab.dnsserver.LabDnsServer` on loopback,
started on first use and kept for the life of the program. Its port changes between starts,
so the project's resolver is rewritten each time the demo is opened; everything else the
user did to the demo project (runs, reviews, answers) is kept.
"""

from __future__ import annotations

import atexit
from pathlib import Path

from auditapp.core.project_io import load_project, save_project
from auditapp.lab.demo import DEMO_DOMAIN, DEMO_ZONES, demo_project
from auditapp.lab.dnsserver import LabDnsServer, RecordSet

_server: list[LabDnsServer] = []


def demo_nameserver() -> str:
    if not _server:
        server = LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES)).start()
        atexit.register(server.stop)
        _server.append(server)
    return _server[0].address


def demo_project_file(home: Path) -> Path:
    """The demo project under ``home/demo``, created on first use, pointing at the running lab."""
    path = home / "demo" / f"{DEMO_DOMAIN}.auditproj"
    path.parent.mkdir(parents=True, exist_ok=True)
    nameserver = demo_nameserver()
    # An unreadable demo file is reported (ProjectError), never silently replaced.
    project = load_project(path) if path.exists() else demo_project(nameserver)
    project.nameservers = [nameserver]
    save_project(project, path)
    return path
