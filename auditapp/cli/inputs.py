"""What every audit command needs before and after the engine runs: its request, the DNS
client, the keyring password, writing results and saving projects.

The command line builds an :class:`~auditapp.audit.request.AuditRequest` like every other
front end and prepares it with :func:`auditapp.audit.prepare.prepare`; what is left here is
the command line's own part: the names of its options in messages, a password prompt on a
terminal, and the mapping of errors to exit codes (2 for input, 3 for the environment).

Shared by :mod:`auditapp.cli.commands`, :mod:`auditapp.cli.project_audit` and
:mod:`auditapp.cli.batch`; it imports none of them, so ``cli/`` has no import cycle.
"""


from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from auditapp.audit.prepare import NoResolverError, PreparedAudit, PrepareError, choose_resolvers, prepare
from auditapp.audit.request import AuditRequest, InputNames
from auditapp.catalog.wording import run_to_json
from auditapp.cli.errors import EXIT_CANNOT_RUN, EXIT_FINDINGS, EXIT_OK, CannotRun, UsageError
from auditapp.core.atomic import write_atomic
from auditapp.core.limits import connection_limited
from auditapp.core.model import Run, Severity
from auditapp.core.review_layer import ReviewLayer, run_summary
from auditapp.dnsclient import DnsClient

if TYPE_CHECKING:
    from auditapp.core.project import Project

#: The command line names its inputs by their options, as its messages always did.
CLI_NAMES = InputNames(
    no_domain="a DOMAIN or --project FILE is needed", server_ip="--server-ip", mx="--mx host",
    dnsbl="--dnsbl zone", ports="--port", submission="--submission-host", mailbox="--mailbox-host",
    trust="--trust-host", ca_file="--ca-file", postfix="--postfix-config", timeout="--timeout",
    trust_anchor="--trust-anchor", rpki_vrps="--rpki-vrps", connect_interval="--connect-interval",
    resolver_hint="give --nameserver",
)
#: With ``--project`` the target comes from the file (named by its fields), this run's choices
#: from the command line (named by their options).
PROJECT_NAMES = replace(InputNames(), trust="--trust-host", ca_file="--ca-file", postfix="--postfix-config",
                        timeout="--timeout", resolver_hint="give --nameserver")


def make_client(nameservers: list[str], timeout: float) -> DnsClient:
    """The client of the commands that need no full request (``spf-eval``, ``batch``): the same resolver rule."""
    servers = _or_exit(choose_resolvers, nameservers, timeout, CLI_NAMES.resolver_hint)
    return DnsClient(list(servers), timeout=timeout) if servers else DnsClient.from_system(timeout=timeout)


def request_from_args(args: argparse.Namespace) -> AuditRequest:
    """``audit DOMAIN ...`` as a request; nothing is checked yet (:func:`prepare_or_exit` does that)."""
    return AuditRequest(
        domain=args.domain or "", server_ips=tuple(args.server_ip), helo=args.helo, mx_hosts=tuple(args.mx),
        dkim_selectors=tuple(args.dkim_selector), dnsbl_zones=tuple(args.dnsbl) or None, ports=tuple(args.port),
        submission_hosts=tuple(args.submission_host), mailbox_hosts=tuple(args.mailbox_host),
        relay_test=args.relay_test, allow_internal=args.allow_internal, services=not args.no_services,
        account=args.account,
        # Hosts typed on this command line are the user's word; discovered ones are not.
        trust_hosts=(*args.submission_host, *args.trust_host),
        ca_file=args.ca_file, answers_file=args.answers, postfix_path=args.postfix_config,
        trust_anchor=getattr(args, "trust_anchor", None), rpki_vrps=getattr(args, "rpki_vrps", None),
        nameservers=tuple(args.nameserver), timeout=args.timeout, password_lookup=terminal_password,
        connect_interval=0.0 if args.connect_interval is None else args.connect_interval, names=CLI_NAMES,
    )


def prepare_or_exit(request: AuditRequest) -> PreparedAudit:
    """:func:`prepare`, with its errors as the command line reports them (exit 2 input, exit 3 no resolver)."""
    return _or_exit(prepare, request)


def _or_exit[**P, T](step: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    try:
        return step(*args, **kwargs)
    except NoResolverError as exc:
        raise CannotRun(str(exc)) from None
    except PrepareError as exc:
        raise UsageError(str(exc)) from None


def terminal_password(domain: str, account: str) -> str | None:
    """The keyring's password, or asked once on a terminal and stored; only the command line may prompt."""
    from auditapp.credentials import CredentialError, get_password

    try:
        return get_password(domain, account)
    except CredentialError as exc:
        # The audit still runs; only the logged-in checks are reported as not tested.
        raise CredentialError(f"{exc}; the checks that need a login are skipped") from None


def with_password(prepared: PreparedAudit) -> PreparedAudit:
    """Look the password up (it may prompt) and print every warning of the prepared audit on stderr.

    Hosts outside the audited domain receive it only when the user confirmed them: with
    ``--trust-host`` on this command line or earlier in the desktop application (remembered
    in this computer's keyring). Hosts a project file lists are not a confirmation.
    """
    done = prepared.with_password()
    # Both prepare()'s warnings (e.g. Postfix sends over IPv6 from an address it does not name) and
    # the password lookup's; each prepared audit passes through here once.
    for warning in done.warnings:
        print(f"auditapp: warning: {warning}", file=sys.stderr)
    return done


def check_output_paths(*paths: str | None) -> None:
    for p in paths:
        if p:
            parent = Path(p).resolve().parent
            if not parent.is_dir():
                raise UsageError(f"cannot write {p}: directory {parent} does not exist")


def load_answers(path: str) -> dict:
    """The validated questionnaire answers of ``--answers`` (for a project: imported and saved with the run)."""
    from auditapp.questionnaire import AnswersError, load_answers_file

    try:
        return load_answers_file(path)
    except AnswersError as exc:
        raise UsageError(str(exc)) from None


def write_json(path: str, run: Run, lang: str, layer: ReviewLayer | None = None) -> None:
    """``auditapp.result/1``; its summary also carries :func:`run_summary`'s numbers under ``layer``.

    So ``audit --project --json`` counts an accepted risk as the report and ``--fail-on`` do, and
    a script reading the JSON sees the report's grade, not a count of its own.
    """
    doc = run_to_json(run, lang)
    doc["summary"].update(run_summary(run, layer).to_json())
    data = json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")
    write_atomic(Path(path), data + b"\n")


def exit_code(run: Run, fail_on: str | None, layer: ReviewLayer | None = None) -> int:
    """3 when the run assessed nothing (no result passed or failed), else 1 for ``--fail-on``, else 0.

    ``--fail-on`` counts the *open* failures at their effective severity (:func:`run_summary`):
    with a project's review layer (``audit --project``) an accepted risk in force does not fail
    the build and an override moves a result to its new severity, as in the report; ``audit
    DOMAIN`` has no layer, so there every failure counts at the catalogue's severity.
    A run that tested nothing (a dead resolver and no Postfix file) is exit 3 whatever
    ``--fail-on`` says: "no finding" would be a lie a script cannot tell from a clean domain.
    """
    summary = run_summary(run, layer)
    if summary.nothing_tested:
        return EXIT_CANNOT_RUN
    if not fail_on:
        return EXIT_OK
    return EXIT_FINDINGS if summary.open_at_least(Severity(fail_on)) else EXIT_OK


def warn_about_run(run: Run, lang: str) -> None:
    """Say on stderr what a script must not miss: the resolver did not answer, nothing could be tested,
    a server limited the audit's connections (the one refusal the auditor can avoid alone)."""
    from auditapp.catalog.wording import render_reason

    if run.degraded:
        why = render_reason(run.degraded_reason, lang) if run.degraded_reason else "the resolver did not answer"
        print(f"auditapp: warning: degraded run: {why}", file=sys.stderr)
    if run_summary(run).nothing_tested:
        print("auditapp: nothing could be tested (no check passed or failed); exit code 3", file=sys.stderr)
    for address, count in connection_limited(run).items():
        print(f"auditapp: warning: {address} refused connections because the audit connected too often; "
              f"{count} results are not tested. Repeat with a pause between connections, e.g. --connect-interval 2",
              file=sys.stderr)


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

