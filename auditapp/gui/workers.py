"""The window's background jobs, as plain functions for :class:`~auditapp.gui.tasks.TaskService`.

Each function runs on a task thread, touches no widget and no Qt object, and hands immutable
values back (a ``Run``, a path, a ``Discovery``, a ``Project``). What a job needs from the
window is copied before it starts, so an edit made while the job runs cannot reach it
half-way. Keeping them Qt-free here (only the service is Qt) means a job can be called from a
test or a benchmark without a window.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditapp.audit.engine import Finished, Progress, ResultEvent, Started, run_audit
from auditapp.audit.prepare import PreparedAudit
from auditapp.core.atomic import write_atomic
from auditapp.core.project import Project
from auditapp.core.project_io import load_project, project_to_document, save_project
from auditapp.gui.tasks import TaskControl


@dataclass(frozen=True)
class Warned:
    """A note found while preparing in the task thread (the keyring's answer)."""

    text: str


def audit_job(prepared: PreparedAudit) -> Callable[[TaskControl], Any]:
    """Stream the audit's events (``Started``, ``Progress``, ``ResultEvent``, ``Finished``, ``Warned``)."""

    def job(control: TaskControl) -> Any:
        before = len(prepared.warnings)
        p = prepared.with_password()  # the keyring may block: here, not on the UI thread
        for text in p.warnings[before:]:
            control.emit(Warned(text))
        return run_audit(p.target, p.make_dns, p.config, control.cancel_event, control.emit)

    return job


#: The events an audit job streams (for isinstance dispatch in the window).
AUDIT_EVENTS = (Started, Progress, ResultEvent, Finished, Warned)


def report_job(project: Project, run_number: int, path: Path, *, lang: str, theme: str,
               base_dir: Path | None, password: str | None = None,
               draft: bool = False) -> Callable[[TaskControl], str]:
    """Build the document of one run of ``project`` (a snapshot) and render it to ``path``."""

    def job(_control: TaskControl) -> str:
        from auditapp.report.from_project import project_document, project_theme
        from auditapp.report.pdf import render_pdf

        chosen = project_theme(project, theme, base_dir=base_dir)
        document = project_document(project, run_number, lang=lang)
        render_pdf(document, chosen, path, password=password, draft=draft)
        return str(path)

    return job


def discover_job(prepared: PreparedAudit) -> Callable[[TaskControl], Any]:
    """Look up a domain's mail hosts (MX, SRV, autoconfig, conventional names) for the target form."""

    def job(_control: TaskControl) -> Any:
        from auditapp.collectors.discovery import discover_hosts

        # Discover from DNS only: hosts already typed into the form must not mask what DNS says.
        target = replace(prepared.target, mx_hosts=(), submission_hosts=(), mailbox_hosts=())
        return asyncio.run(discover_hosts(prepared.make_dns(), target, prepared.timeout))

    return job


@dataclass(frozen=True)
class KeyringAnswer:
    """Whether a password is stored: state "stored", "missing" or "problem" (with ``detail``)."""

    user: str
    state: str
    detail: str
    hosts: tuple[str, ...]  # hosts outside the domain the user confirmed for this account's login


def keyring_job(domain: str, user: str) -> Callable[[TaskControl], KeyringAnswer]:
    """Ask the keyring about ``user`` at ``domain``: it is a D-Bus service that can hang for a timeout."""

    def job(_control: TaskControl) -> KeyringAnswer:
        from auditapp.credentials import CredentialError, backend_problem, get_password, trusted_hosts

        hosts: tuple[str, ...] = ()
        try:
            problem = backend_problem()
            if problem:
                return KeyringAnswer(user, "problem", problem, hosts)
            hosts = tuple(trusted_hosts(domain, user))
            stored = bool(get_password(domain, user, prompt=False))
        except CredentialError:
            stored = False
        except Exception as exc:  # a keyring backend that fails in its own way
            return KeyringAnswer(user, "problem", str(exc), hosts)
        return KeyringAnswer(user, "stored" if stored else "missing", "", hosts)

    return job


def load_job(path: Path) -> Callable[[TaskControl], Project]:
    """Read and check a project file (0.5 s at 200 runs); raises ProjectError."""
    return lambda _control: load_project(path)


def save_job(project: Project, path: Path) -> Callable[[TaskControl], Path]:
    """Check and write a project snapshot atomically; raises ProjectError or OSError.

    The check (can the file be read back?) and the encoding are most of the cost of a save
    (1 s at 200 runs), and the reason it runs here.
    """

    def job(_control: TaskControl) -> Path:
        save_project(project, path)
        return path

    return job


def recovery_job(project: Project, original: Path | None, file: Path) -> Callable[[TaskControl], Path]:
    """Write the recovery copy of an unsaved project snapshot (see :mod:`auditapp.gui.session`)."""

    def job(_control: TaskControl) -> Path:
        document = project_to_document(project)
        document["recovery"] = {"original": str(original) if original else None,
                                "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
                                "pid": os.getpid()}
        write_atomic(file, json.dumps(document, ensure_ascii=False).encode("utf-8"))
        return file

    return job


@dataclass(frozen=True)
class MessageImport:
    """One file or pasted text examined for the target page: the stored record, or why not.

    ``stored`` holds the header block and the import's verdicts only; the body was dropped
    in the worker once DKIM had seen it, so it never reaches the window or the project.
    """

    name: str
    stored: Any = None  # auditapp.core.stored_message.StoredMessage
    error: str = ""


def message_import_job(sources: list[tuple[str, Path | bytes]], prepared: PreparedAudit, *,
                       allow_internal: bool) -> Callable[[TaskControl], tuple[MessageImport, ...]]:
    """Read and examine received messages (files or pasted header text) with the project's resolvers.

    ``sources`` pairs a display name with a path (read here, in the worker: a file on a slow
    share or a FIFO must not hang the window) or the bytes of pasted text. All messages are
    verified at once through one resolver client, so a key several of them need is asked once.
    A file that cannot be read or is not a message is reported by name; the others go on.
    """

    def job(control: TaskControl) -> tuple[MessageImport, ...]:
        from auditapp.core.safe_read import read_regular_file
        from auditapp.message.evidence import examine, to_stored
        from auditapp.message.headers import MAX_FILE_BYTES, MessageError

        raws: list[tuple[str, bytes | None, str]] = []
        for name, source in sources:
            if isinstance(source, bytes):
                raws.append((name, source, ""))
                continue
            try:
                raws.append((name, read_regular_file(source, MAX_FILE_BYTES), ""))
            except OSError as exc:  # UnsafeFileError (too big, a FIFO, a folder) or the OS's refusal
                raws.append((name, None, str(exc) or type(exc).__name__))
        if control.cancelled:
            return ()
        dns = prepared.make_dns()

        async def one(name: str, raw: bytes) -> MessageImport:
            try:
                evidence = await examine(name, raw, dns, allow_internal=allow_internal)
            except MessageError as exc:
                return MessageImport(name, error=str(exc))
            return MessageImport(name, stored=to_stored(evidence))

        async def every() -> list[MessageImport]:
            pending = [one(name, raw) for name, raw, _ in raws if raw is not None]
            return list(await asyncio.gather(*pending))

        examined = iter(asyncio.run(every()))
        # Back in the order the user chose, read failures in their place; the bytes go with ``raws``.
        return tuple(next(examined) if raw is not None else MessageImport(name, error=error)
                     for name, raw, error in raws)

    return job
