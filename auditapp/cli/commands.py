"""The subcommands. Each validates all input before the first packet is sent."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from auditapp.audit.engine import audit
from auditapp.cli.errors import EXIT_OK, CannotRun, UsageError
from auditapp.cli.inputs import (
    check_output_paths,
    exit_code,
    make_client,
    prepare_or_exit,
    request_from_args,
    save_project_or_exit,
    warn_about_run,
    with_password,
    write_json,
)
from auditapp.cli.message_command import examine_message_files
from auditapp.cli.summary import print_summary
from auditapp.core.validation import InputError, parse_ip
from auditapp.message.evidence import to_stored

if TYPE_CHECKING:
    from auditapp.core.project import Project


def cmd_audit(args: argparse.Namespace) -> int:
    if args.project:
        from auditapp.cli.project_audit import audit_project

        return audit_project(args)
    request = request_from_args(args)
    check_output_paths(args.json, args.pdf)
    prepared = prepare_or_exit(request)
    examined = examine_message_files(args.message, prepared) if args.message else []
    prepared = with_password(prepared.with_messages(examined))
    run = asyncio.run(audit(prepared.target, prepared.make_dns(), prepared.config))
    if args.json:
        write_json(args.json, run, args.lang)
        print(f"JSON written to {args.json}")
    if args.pdf:
        from auditapp.cli.report_output import write_pdf

        write_pdf(run, args.pdf, lang=args.lang, messages=[to_stored(ev) for ev in examined])
        print(f"PDF written to {args.pdf}")
    if not args.json and not args.pdf:
        print_summary(run, args.lang, verbose=args.verbose)
    warn_about_run(run, args.lang)
    return exit_code(run, args.fail_on)


def cmd_spf_eval(args: argparse.Namespace) -> int:
    from auditapp.spf import check_host

    try:
        ip = parse_ip(args.ip)
        sender = args.sender.strip()
        helo = args.helo.strip()
        if sender and "@" in sender:
            domain = sender.rsplit("@", 1)[1]
        elif sender:
            domain = sender
            sender = f"postmaster@{sender}"
        else:
            if not helo:
                raise InputError("with an empty SENDER, --helo is needed (the HELO identity is checked)")
            domain = helo
    except InputError as exc:
        raise UsageError(str(exc)) from None
    client = make_client(args.nameserver, args.timeout)
    result = asyncio.run(check_host(client, ip, domain, sender, helo))
    print(result.result.value)
    if result.mechanism:
        print(f"matched: {result.mechanism}")
    if result.problem:
        print(f"problem: {result.problem}")
    if result.explanation:
        print(f"explanation: {result.explanation}")
    print(f"DNS lookups: {result.lookups}, void lookups: {result.void_lookups}")
    for line in result.trace:
        print(f"  {line}")
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from auditapp.catalog import catalog

    cat = catalog()
    if args.json:
        out = [
            {"id": r.id, "family": r.family, "category": r.category, "severity": r.severity.value,
             "lifecycle": r.lifecycle, "title": {"de": r.title.de, "en": r.title.en},
             "references": [ref.en for ref in r.references]}
            for r in cat.rules.values()
        ]
        print(json.dumps({"schema": "auditapp.rules/1", "catalog_version": cat.version, "rules": out},
                         ensure_ascii=False, indent=2))
        return EXIT_OK
    width = max(len(r) for r in cat.rules)
    for r in cat.rules.values():
        print(f"{r.id:<{width}}  {r.family:<9} {r.severity.value:<8} {r.title.get(args.lang)}")
        print(f"{'':<{width}}  {'':<9} {'':<8} {'; '.join(ref.get(args.lang) for ref in r.references)}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Audit the built-in demo lab (DNS and mail services on loopback) and write its JSON and PDF.

    The demo project is the one the desktop application opens, prepared the same way: the
    prepare step aims it at the running lab (resolver, service ports, the lab's demo CA). No
    keyring: the demo has no test account. The HELO name comes from the demo's Postfix
    configuration (myhostname).
    """
    from auditapp.audit.prepare import use_demo_lab
    from auditapp.audit.request import request_from_project
    from auditapp.lab.demo import demo_project
    from auditapp.lab.demolab import demo_lab_endpoints, running_demo_lab

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CannotRun(f"cannot create {out}: {exc}") from None
    try:
        running_demo_lab()
    except (OSError, RuntimeError) as exc:  # no loopback port, no temp folder: the machine, not the input
        raise CannotRun(f"the demo lab could not start: {exc}") from None
    use_demo_lab(demo_lab_endpoints)
    project = demo_project()
    request = request_from_project(project, timeout=2.0, password_lookup=None, trust_lookup=None)
    prepared = prepare_or_exit(request)
    run = asyncio.run(audit(prepared.target, prepared.make_dns(), prepared.config))
    print_summary(run, args.lang)
    json_path = out / "demo-audit.json"
    write_json(str(json_path), run, args.lang)
    print(f"\nJSON: {json_path}")
    from auditapp.cli.report_output import write_pdf

    pdf_path = out / f"demo-report-{args.lang}.pdf"
    write_pdf(run, str(pdf_path), lang=args.lang, project_name="Beispiel GmbH", messages=project.messages)
    print(f"PDF:  {pdf_path}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """``auditapp report --project FILE --pdf OUT``: the PDF of a recorded run, re-rendered offline."""
    from auditapp.cli.report_output import write_project_pdf
    from auditapp.core.project import ProjectError
    from auditapp.core.project_io import load_project

    try:
        project = load_project(Path(args.project))
    except ProjectError as exc:
        raise UsageError(str(exc)) from None
    if not project.runs:
        raise UsageError(f"{args.project} has no recorded run yet; run auditapp audit --project first")
    index = len(project.runs) if args.run is None else args.run
    if not 1 <= index <= len(project.runs):
        raise UsageError(f"--run {index}: the project has runs 1 to {len(project.runs)}")
    check_output_paths(args.pdf)
    password = None
    if args.password_from_keyring:
        from auditapp.credentials import CredentialError, get_report_password

        try:
            password = get_report_password(project.name or project.domain)
        except CredentialError as exc:
            raise CannotRun(str(exc)) from None
    write_project_pdf(project, Path(args.project), args.pdf, lang=args.lang, run_number=index, theme=args.theme,
                      password=password, draft=args.draft)
    print(f"PDF written to {args.pdf} (run {index} of {len(project.runs)})")
    return EXIT_OK


def cmd_accept(args: argparse.Namespace) -> int:
    """``auditapp accept``: record a deliberately accepted deviation in the project's risk register."""
    from auditapp.core.review import accept_risk

    def act(project: Project) -> str:
        accept_risk(project, args.rule, args.subject, args.reason, args.by, args.expires)
        return f"{args.rule} on {args.subject} recorded as accepted"

    return _review_project(args.project, act)


def cmd_review(args: argparse.Namespace) -> int:
    """``auditapp review``: a reviewer comment or a severity override, with author and time."""
    from auditapp.core.review import add_comment, clear_override, override_severity

    if args.severity and args.severity != "catalog" and not args.reason:
        raise UsageError("--severity needs --reason: the report says why the severity differs from the catalog")
    if args.reason and not args.severity:
        raise UsageError("--reason belongs to --severity; use --comment for a remark")

    def act(project: Project) -> str:
        done = []
        if args.comment:
            add_comment(project, args.rule, args.subject, args.comment, args.by)
            done.append("comment added")
        if args.severity == "catalog":
            done.append("severity override removed" if clear_override(project, args.rule, args.subject)
                        else "no severity override to remove")
        elif args.severity:
            override_severity(project, args.rule, args.subject, args.severity, args.reason, args.by)
            done.append(f"severity set to {args.severity}")
        return f"{args.rule} on {args.subject}: {', '.join(done)}"

    if not args.comment and not args.severity:
        raise UsageError("nothing to record: give --comment and/or --severity with --reason")
    return _review_project(args.project, act)


def _review_project(project_file: str, act: Callable[[Project], str]) -> int:
    """Load, apply one review action, save atomically; a refused action changes nothing on disk."""
    from auditapp.core.project import ProjectError
    from auditapp.core.project_io import load_project

    path = Path(project_file)
    try:
        project = load_project(path)
        message = act(project)
    except ProjectError as exc:
        raise UsageError(str(exc)) from None
    save_project_or_exit(project, path)
    print(f"{message} in {path}")
    return EXIT_OK


def cmd_archive(args: argparse.Namespace) -> int:
    """``auditapp archive``: keep the latest runs in the project, move the others to an archive file."""
    from auditapp.core.archive import archive_path, split_runs
    from auditapp.core.project import ProjectError
    from auditapp.core.project_io import MAX_FILE_BYTES, load_project

    path = Path(args.project)
    target = Path(args.to) if args.to else archive_path(path)
    if target.resolve() == path.resolve():
        raise UsageError("--to must name another file than --project")
    try:
        # A file that grew past the limit is exactly what this command rescues.
        project = load_project(path, max_bytes=4 * MAX_FILE_BYTES)
        archive = load_project(target, max_bytes=4 * MAX_FILE_BYTES) if target.exists() else None
        if archive is not None and archive.domain != project.domain:
            raise UsageError(f"{target} is the archive of {archive.domain}, not of {project.domain}")
        kept, archive, moved = split_runs(project, args.keep, archive)
    except ProjectError as exc:
        raise UsageError(str(exc)) from None
    except ValueError as exc:
        raise UsageError(f"--keep: {exc}") from None
    if not moved:
        print(f"{path} has {len(project.runs)} runs; nothing to archive with --keep {args.keep}")
        return EXIT_OK
    # The archive first: an interruption between the two saves leaves runs in both, never in neither.
    save_project_or_exit(archive, target)
    save_project_or_exit(kept, path)
    print(f"{moved} runs moved to {target} ({len(archive.runs)} runs there); {len(kept.runs)} stay in {path}")
    return EXIT_OK


def cmd_batch(args: argparse.Namespace) -> int:
    from auditapp.cli.batch import run_batch

    return run_batch(args)


def stderr(msg: str) -> None:
    print(msg, file=sys.stderr)
