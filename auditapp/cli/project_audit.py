"""``auditapp audit --project FILE``: audit the target a project defines and record the run in it.

The order matters. Everything that can be refused is refused before the first DNS
question (exit 2, nothing written): the project must load, the command line must not
describe a second target, the output paths must be writable. The project file is written
once, after the audit finished: an interrupted audit (Ctrl+C, a cancelled run) leaves it
exactly as it was, and the atomic save leaves the previous version as ``FILE.bak``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import replace
from pathlib import Path

from auditapp.audit.engine import audit
from auditapp.audit.request import AuditRequest, request_from_project
from auditapp.cli.errors import CannotRun, UsageError
from auditapp.cli.inputs import (
    PROJECT_NAMES,
    check_output_paths,
    exit_code,
    load_answers,
    prepare_or_exit,
    terminal_password,
    warn_about_run,
    with_password,
    write_json,
)
from auditapp.cli.message_command import examine_message_files
from auditapp.cli.summary import print_summary
from auditapp.core.model import Run
from auditapp.core.project import Project, ProjectError
from auditapp.core.project_io import load_project, save_project, size_warning
from auditapp.core.review_layer import ReviewLayer
from auditapp.core.stored_message import MAX_MESSAGES, StoredMessage
from auditapp.message.evidence import to_stored
from auditapp.postfix import PostfixConfigError, read_texts

#: Exit code of an interrupted audit, as for Ctrl+C elsewhere in the CLI (128 + SIGINT).
EXIT_INTERRUPTED = 130

#: Files the command line may give for one run instead of the project's: (field, option).
_RUN_FILE_OPTIONS = (("trust_anchor", "--trust-anchor"), ("rpki_vrps", "--rpki-vrps"),
                     ("connect_interval", "--connect-interval"))

#: Options that describe a target; with --project the project file is the one source of
#: the target, so mixing them would leave it unclear which one was audited and recorded.
_TARGET_OPTIONS = (
    ("domain", "DOMAIN"), ("server_ip", "--server-ip"), ("helo", "--helo"), ("mx", "--mx"),
    ("dkim_selector", "--dkim-selector"), ("dnsbl", "--dnsbl"), ("port", "--port"),
    ("submission_host", "--submission-host"), ("mailbox_host", "--mailbox-host"), ("relay_test", "--relay-test"),
    ("account", "--account"),
)


def _refuse_target_options(args: argparse.Namespace) -> None:
    given = [flag for attr, flag in _TARGET_OPTIONS if getattr(args, attr, None) not in (None, [], "", False)]
    if given:
        raise UsageError(f"--project defines the target; remove {', '.join(given)} "
                         "(change the target in the project instead)")


def _fingerprint(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _check_writable(path: Path) -> None:
    """Find out before the audit, not after it, that the run could not be recorded."""
    target = path.resolve()
    directory = target.parent
    if not os.access(directory, os.W_OK | os.X_OK):
        raise CannotRun(f"cannot record the run: directory {directory} is not writable")


def audit_project(args: argparse.Namespace) -> int:
    """Run the audit a project file describes, append the run and save the file atomically."""
    _refuse_target_options(args)
    path = Path(args.project)
    try:
        stamp = _fingerprint(path)
        project = load_project(path)
    except ProjectError as exc:
        raise UsageError(str(exc)) from None
    check_output_paths(args.json, getattr(args, "pdf", None))
    _check_writable(path)
    # --postfix-config / --answers given with --project re-import into the project (saved with the run).
    if getattr(args, "postfix_config", None):
        try:
            project.postfix_config = {"origin": str(Path(args.postfix_config).resolve()),
                                      "files": read_texts(args.postfix_config)}
        except PostfixConfigError as exc:
            raise UsageError(f"--postfix-config: {exc}") from None
    if getattr(args, "answers", None):
        project.answers = load_answers(args.answers)
    # --nameserver, --trust-anchor, --rpki-vrps, --connect-interval, --no-services and --allow-internal are
    # choices for this run, never edits of the project; the run's target records them.
    if project.demo:  # a demo project audits this process's demo lab, as in the window
        from auditapp.audit.prepare import use_demo_lab
        from auditapp.lab.demolab import demo_lab_endpoints

        use_demo_lab(demo_lab_endpoints)
    def request() -> AuditRequest:
        return request_from_project(
            project, nameservers=args.nameserver, timeout=args.timeout,
            services=not getattr(args, "no_services", False), allow_internal=getattr(args, "allow_internal", False),
            ca_file=getattr(args, "ca_file", None), trust_hosts=getattr(args, "trust_host", ()),
            trust_anchor=getattr(args, "trust_anchor", None), rpki_vrps=getattr(args, "rpki_vrps", None),
            connect_interval=getattr(args, "connect_interval", None), password_lookup=terminal_password,
            # A file given here is named by its option; the project's own by its field.
            names=replace(PROJECT_NAMES, **{field: flag for field, flag in _RUN_FILE_OPTIONS
                                            if getattr(args, field, None) is not None}))

    prepared = prepare_or_exit(request())
    imported = []
    if getattr(args, "message", None):
        # Stored in the project (header block and verdicts) and saved with the run; the audit
        # then learns from all of the project's messages at once, as the window's audit does.
        imported = [to_stored(ev) for ev in examine_message_files(args.message, prepared)]
        _add_messages(project, imported)
        prepared = prepare_or_exit(request())
    prepared = with_password(prepared)
    run = asyncio.run(audit(prepared.target, prepared.make_dns(), prepared.config))
    if run.cancelled:
        print(f"auditapp: interrupted; {path} was not changed", file=sys.stderr)
        return EXIT_INTERRUPTED

    if _fingerprint(path) != stamp:
        # Someone (the GUI, a colleague's sync) saved the project while the audit ran: add
        # the run to their version instead of overwriting their change with ours.
        try:
            project = load_project(path)
        except ProjectError as exc:
            raise CannotRun(f"the project changed during the audit and can no longer be read; "
                            f"the run was not recorded ({exc})") from None
        _add_messages(project, imported)
    _record(project, run, path)
    # The project's review applies to the summary, the JSON and --fail-on, as it does to the report.
    layer = ReviewLayer.of(project)
    if args.json:
        try:
            write_json(args.json, run, args.lang, layer)
        except OSError as exc:
            raise CannotRun(f"the run was recorded in {path}, but {args.json} could not be written: "
                            f"{exc.strerror or exc}") from None
        print(f"JSON written to {args.json}")
    if getattr(args, "pdf", None):
        from auditapp.cli.report_output import write_project_pdf

        write_project_pdf(project, path, args.pdf, lang=args.lang)
        print(f"PDF written to {args.pdf}")
    if not args.json and not getattr(args, "pdf", None):
        print_summary(run, args.lang, verbose=getattr(args, "verbose", False), layer=layer)
    print(f"Run {run.id} recorded in {path} ({len(project.runs)} runs)")
    warn_about_run(run, args.lang)
    return exit_code(run, args.fail_on, layer)


def _add_messages(project: Project, messages: list[StoredMessage]) -> None:
    """Add imported messages the project does not hold yet (the same header block is one message)."""
    known = {m.id for m in project.messages}
    new = [m for m in messages if m.id not in known and not known.add(m.id)]  # type: ignore[func-returns-value]
    if len(project.messages) + len(new) > MAX_MESSAGES:
        raise UsageError(f"--message: a project keeps at most {MAX_MESSAGES} messages "
                         f"({len(project.messages)} stored, {len(new)} new); remove some in the window first")
    project.messages.extend(new)


def _record(project: Project, run: Run, path: Path) -> None:
    project.runs.append(run)
    try:
        save_project(project, path)
    except ProjectError as exc:  # too large, a link, or a run the load check would refuse
        raise CannotRun(f"the run could not be recorded in {path}: {exc}") from None
    except OSError as exc:
        raise CannotRun(f"the run could not be recorded in {path}: {exc.strerror or exc}") from None
    warning = size_warning(path)
    if warning:
        print(f"auditapp: warning: {warning}", file=sys.stderr)
