"""What every audit command needs before and after the engine runs: validated input, the DNS
client, the keyring password, writing results and saving projects.

Shared by :mod:`auditapp.cli.commands`, :mod:`auditapp.cli.project_audit` and
:mod:`auditapp.cli.batch`; it imports none of them, so ``cli/`` has no import cycle.
"""


from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from auditapp.cli.errors import EXIT_FINDINGS, EXIT_OK, CannotRun, UsageError
from auditapp.core.atomic import write_atomic
from auditapp.core.model import Run, Severity, Status
from auditapp.core.target import DEFAULT_DNSBL_ZONES, DEFAULT_PORTS, AuditTarget
from auditapp.core.validation import (
    InputError,
    normalize_domain,
    parse_ip,
    parse_port_override,
    validate_account,
    validate_helo,
    validate_selector,
)
from auditapp.dnsclient import DnsClient, Nameserver, parse_nameserver
from auditapp.render import run_to_json

if TYPE_CHECKING:
    from auditapp.core.project import Project


def make_client(nameservers: list[str], timeout: float) -> DnsClient:
    servers: list[Nameserver] = []
    for text in nameservers:
        try:
            servers.append(parse_nameserver(text))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if servers:
        return DnsClient(servers, timeout=timeout)
    try:
        return DnsClient.from_system(timeout=timeout)
    except Exception as exc:  # no resolv.conf, unreadable registry, ...
        raise CannotRun(f"no system resolver configured ({exc}); give --nameserver") from None


def target_from_args(args: argparse.Namespace) -> AuditTarget:
    try:
        if not args.domain:
            raise InputError("a DOMAIN or --project FILE is needed")
        domain = normalize_domain(args.domain)
        ips = tuple(dict.fromkeys(parse_ip(ip, "--server-ip") for ip in args.server_ip))
        helo = validate_helo(args.helo) if args.helo is not None else None
        mx = tuple(normalize_domain(h, "--mx host") for h in args.mx)
        selectors = tuple(dict.fromkeys(validate_selector(s) for s in args.dkim_selector))
        zones = tuple(normalize_domain(z, "--dnsbl zone") for z in args.dnsbl) or DEFAULT_DNSBL_ZONES
        ports = dict(DEFAULT_PORTS)
        for text in args.port:
            service, port = parse_port_override(text)
            ports[service] = port
        mail_ports = {s: p for s, p in ports.items() if s != "https"}
        if len(set(mail_ports.values())) < len(mail_ports):
            clash = sorted({p for p in mail_ports.values() if list(mail_ports.values()).count(p) > 1})
            raise InputError(f"--port: two services share port {clash[0]}; each mail service needs its own port")
        submission = tuple(normalize_domain(h, "--submission-host") for h in args.submission_host)
        mailbox = tuple(normalize_domain(h, "--mailbox-host") for h in args.mailbox_host)
        account = validate_account(args.account) if args.account is not None else None
        check_ca_file(args.ca_file)
        answers = load_answers(args.answers) if args.answers else None
        postfix_origin = str(Path(args.postfix_config).resolve()) if args.postfix_config else None
    except InputError as exc:
        raise UsageError(str(exc)) from None
    return AuditTarget(domain=domain, server_ips=ips, helo=helo, mx_hosts=mx, dkim_selectors=selectors,
                       dnsbl_zones=zones, ports=ports, submission_hosts=submission, mailbox_hosts=mailbox,
                       relay_test=args.relay_test, account=account, ca_file=args.ca_file,
                       allow_internal=args.allow_internal,
                       # Hosts typed on this command line are the user's word; discovered ones are not.
                       trusted_hosts=tuple(dict.fromkeys((*submission, *(normalize_domain(h, "--trust-host")
                                                                         for h in args.trust_host)))),
                       services=not args.no_services, answers=answers, postfix_origin=postfix_origin)


def check_output_paths(*paths: str | None) -> None:
    for p in paths:
        if p:
            parent = Path(p).resolve().parent
            if not parent.is_dir():
                raise UsageError(f"cannot write {p}: directory {parent} does not exist")


def check_ca_file(path: str | None) -> None:
    """Load ``--ca-file`` once up front: an unreadable anchor file is an input error, not a finding."""
    if not path:
        return
    from auditapp.project_run import PrepareError
    from auditapp.project_run import check_ca_file as check

    try:
        check(path, "--ca-file")
    except PrepareError as exc:
        raise InputError(str(exc)) from None


def load_postfix(path: str) -> object:
    """The parsed ``--postfix-config``; a file that cannot be parsed is an input error (exit 2)."""
    from auditapp.postfix import PostfixConfigError, load_postfix_config

    try:
        return load_postfix_config(path)
    except PostfixConfigError as exc:
        raise UsageError(f"--postfix-config: {exc}") from None


def load_answers(path: str) -> dict:
    """The validated questionnaire answers of ``--answers`` (an input error names the problem)."""
    from auditapp.questionnaire import AnswersError, load_answers_file

    try:
        return load_answers_file(path)
    except AnswersError as exc:
        raise InputError(str(exc)) from None


def account_password(target: AuditTarget, trust: Sequence[str] = ()) -> tuple[AuditTarget, str | None]:
    """The test account's password from the keyring (asked once on a terminal) and the hosts it may go to.

    Hosts outside the audited domain receive it only when the user confirmed them: with
    ``--trust-host`` on this command line or earlier in the desktop application (remembered
    in this computer's keyring). Hosts a project file lists are not a confirmation.
    """
    if not target.account or not target.services:
        return target, None
    from auditapp.credentials import CredentialError, get_password, trusted_hosts

    try:
        password = get_password(target.domain, target.account)
        confirmed = trusted_hosts(target.domain, target.account)
    except CredentialError as exc:
        # The audit still runs; only the logged-in checks are reported as not tested.
        print(f"auditapp: warning: {exc}; the checks that need a login are skipped", file=sys.stderr)
        return target, None
    hosts = (*target.trusted_hosts, *(h.rstrip(".").lower() for h in trust), *confirmed)
    return replace(target, trusted_hosts=tuple(dict.fromkeys(hosts))), password


def write_json(path: str, run: Run, lang: str) -> None:
    data = json.dumps(run_to_json(run, lang), ensure_ascii=False, indent=2).encode("utf-8")
    write_atomic(Path(path), data + b"\n")


def exit_code(run: Run, fail_on: str | None) -> int:
    if not fail_on:
        return EXIT_OK
    threshold = Severity(fail_on).rank
    failed = any(f.status is Status.FAIL and f.severity.rank >= threshold for f in run.findings)
    return EXIT_FINDINGS if failed else EXIT_OK


def save_project_or_exit(project: Project, path: Path) -> None:
    """Save, or exit with one line: 2 for a save the format refuses, 3 for a disk that refuses.

    Exit code 1 stays reserved for ``--fail-on``; a full or read-only disk is not a finding.
    """
    from auditapp.core.project import ProjectError
    from auditapp.core.project_io import save_project, size_warning

    try:
        save_project(project, path)
    except ProjectError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise CannotRun(f"cannot save {path}, the file was not changed: {exc.strerror or exc}") from None
    warning = size_warning(path)
    if warning:
        print(f"auditapp: warning: {warning}", file=sys.stderr)
