"""Long work off the UI thread: audits and report rendering, cancellable, streaming by signals.

Each worker is a :class:`QThread` that runs Qt-free code (:func:`auditapp.engine.iter_audit`,
:mod:`auditapp.report`) and hands immutable results (``Finding``, ``Run``, paths) to the UI
thread through queued signals; no widget is touched from a worker. Cancelling sets a
``threading.Event`` that the engine checks between scheduling steps, so a run against dead
hosts stops within a fraction of a second instead of waiting for its timeouts.
"""

from __future__ import annotations

import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from auditapp.core.project import Project
from auditapp.engine import Finished, Progress, ResultEvent, Started, iter_audit
from auditapp.project_run import PreparedAudit


class AuditWorker(QThread):
    audit_started = Signal(int)  # number of checks
    progress = Signal(int, int, str)  # done, total, label of the step just finished
    result = Signal(object)  # Finding
    run_finished = Signal(object)  # Run (cancelled runs too)
    failed = Signal(str)  # an unexpected error, with its traceback
    warning = Signal(str)  # found while preparing in this thread (the keyring's answer)

    def __init__(self, prepared: PreparedAudit, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.prepared = prepared
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelling(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:
        try:
            before = len(self.prepared.warnings)
            p = self.prepared.with_password()  # the keyring may block: here, not on the UI thread
            for text in p.warnings[before:]:
                self.warning.emit(text)
            for event in iter_audit(p.target, p.make_dns, p.config, self._cancel):
                if isinstance(event, Started):
                    self.audit_started.emit(event.total)
                elif isinstance(event, Progress):
                    self.progress.emit(event.done, event.total, event.label)
                elif isinstance(event, ResultEvent):
                    self.result.emit(event.finding)
                elif isinstance(event, Finished):
                    self.run_finished.emit(event.run)
        except Exception:
            self.failed.emit(traceback.format_exc())


class ReportWorker(QThread):
    """Build the document of one project run and render it to ``path`` (rendering takes seconds)."""

    done = Signal(str)  # the written path
    failed = Signal(str)

    def __init__(self, project: Project, run_number: int, path: Path, *, lang: str, theme: str,
                 base_dir: Path | None, password: str | None = None, draft: bool = False,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        # The project is copied through its JSON form, so edits in the window while the
        # worker renders cannot reach the thread half-way through.
        self.project = Project.from_json(project.to_json())
        self.run_number, self.path, self.lang, self.theme = run_number, path, lang, theme
        self.base_dir, self.password, self.draft = base_dir, password, draft

    def run(self) -> None:
        from auditapp.report.from_project import project_document, project_theme
        from auditapp.report.pdf import render_pdf
        from auditapp.report.theme import ThemeError

        try:
            theme = project_theme(self.project, self.theme, base_dir=self.base_dir)
            document = project_document(self.project, self.run_number, lang=self.lang)
            render_pdf(document, theme, self.path, password=self.password, draft=self.draft)
        except (ThemeError, ValueError, OSError) as exc:
            self.failed.emit(str(exc))
        except Exception:
            self.failed.emit(traceback.format_exc())
        else:
            self.done.emit(str(self.path))


class DiscoverWorker(QThread):
    """Look up a domain's mail hosts (MX, SRV, autoconfig, conventional names) for the target form."""

    found = Signal(object)  # Discovery
    failed = Signal(str)

    def __init__(self, prepared: PreparedAudit, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.prepared = prepared

    def run(self) -> None:
        import asyncio
        from dataclasses import replace

        from auditapp.collectors.discovery import discover_hosts

        # Discover from DNS only: hosts already typed into the form must not mask what DNS says.
        target = replace(self.prepared.target, mx_hosts=(), submission_hosts=(), mailbox_hosts=())
        try:
            discovery = asyncio.run(discover_hosts(self.prepared.make_dns(), target, self.prepared.timeout))
        except Exception as exc:
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.found.emit(discovery)


class KeyringProbe(QThread):
    """Ask the keyring whether a password is stored for ``user`` at ``domain``, off the UI thread.

    The keyring is a D-Bus service (or the OS store) that can hang for the length of a D-Bus
    timeout; the window must not. Emits ``answered(user, state, detail, hosts)`` with state
    "stored", "missing" or "problem" and the hosts outside the domain the user confirmed for
    this account's login.
    """

    answered = Signal(str, str, str, list)

    def __init__(self, domain: str, user: str) -> None:
        super().__init__()
        self.domain, self.user = domain, user

    def run(self) -> None:
        from auditapp.credentials import CredentialError, backend_problem, get_password, trusted_hosts

        hosts: list[str] = []
        try:
            problem = backend_problem()
            if problem:
                self.answered.emit(self.user, "problem", problem, hosts)
                return
            hosts = list(trusted_hosts(self.domain, self.user))
            stored = bool(get_password(self.domain, self.user, prompt=False))
        except CredentialError:
            stored = False
        except Exception as exc:  # a keyring backend that fails in its own way
            self.answered.emit(self.user, "problem", str(exc), hosts)
            return
        self.answered.emit(self.user, "stored" if stored else "missing", "", hosts)
