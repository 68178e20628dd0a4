"""Command line: the contract other tools and the tests rely on.

Exit codes: 0 done, 1 an open result at or above ``--fail-on`` failed, 2 invalid input (one line
on stderr, nothing written), 3 could not run or could test nothing (see :mod:`auditapp.cli.errors`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from auditapp import __version__
from auditapp.cli.errors import EXIT_CANNOT_RUN, EXIT_INPUT, CannotRun, UsageError
from auditapp.core.text import SafeStream
from auditapp.core.validation import InputError, validate_timeout


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="auditapp", description="Audit how a domain sends and receives e-mail.")
    p.add_argument("--version", action="version", version=f"auditapp {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    a = sub.add_parser("audit", help="audit one domain (DNS, identity, mail authentication)")
    a.add_argument("domain", nargs="?", help="the domain to audit (U-label or A-label)")
    a.add_argument("--project", metavar="FILE", help="audit the target saved in a project file and record the run")
    a.add_argument("--server-ip", action="append", default=[], metavar="IP", help="a sending server address")
    a.add_argument("--helo", metavar="NAME", help="the HELO name the sending servers use")
    a.add_argument("--mx", action="append", default=[], metavar="HOST", help="an MX host (default: from DNS)")
    a.add_argument("--dkim-selector", action="append", default=[], metavar="SEL")
    a.add_argument("--dnsbl", action="append", default=[], metavar="ZONE", help="a DNS blocklist zone")
    _resolver_args(a)
    a.add_argument("--port", action="append", default=[], metavar="SERVICE=PORT",
                   help="port override, e.g. smtp=2525")
    a.add_argument("--submission-host", action="append", default=[], metavar="HOST",
                   help="client submission host (default: SRV records, then smtp./mail.)")
    a.add_argument("--mailbox-host", action="append", default=[], metavar="HOST",
                   help="IMAP/POP3 host (default: SRV records, then imap./pop./mail.)")
    a.add_argument("--relay-test", action="store_true",
                   help="test port 25 for open relaying (MAIL FROM/RCPT TO/RSET, never DATA)")
    a.add_argument("--account", metavar="USER", help="test account for submission (password from the keyring)")
    a.add_argument("--allow-internal", action="store_true",
                   help="internal audit: also probe private, loopback and link-local addresses found in DNS "
                        "(without it only hosts and addresses you typed are probed there)")
    a.add_argument("--trust-host", action="append", default=[], metavar="HOST",
                   help="allow the test account's login on HOST although it is outside the audited domain "
                        "(hosts under the domain need no confirmation; hosts a project file names are not trusted)")
    a.add_argument("--ca-file", metavar="PEM", help="extra trust anchors (internal CA); the system store stays in use")
    a.add_argument("--trust-anchor", metavar="FILE",
                   help="DNSSEC trust anchor: DS or DNSKEY records, one per line (as dig or unbound's root.key "
                        "show them); default: the IANA root keys")
    a.add_argument("--rpki-vrps", metavar="FILE",
                   help="validated ROA payloads exported by an RPKI validator (Routinator/rpki-client JSON or CSV); "
                        "enables the RPKI-* rules")
    a.add_argument("--no-services", action="store_true", help="DNS checks only; do not connect to the mail servers")
    a.add_argument("--connect-interval", type=float, default=None, metavar="SECONDS",
                   help="pause between two connections to the same server (for servers that limit how often a "
                        "client may connect, e.g. Postfix's smtpd_client_connection_rate_limit); default 0, with "
                        "--project the project's setting")
    a.add_argument("--postfix-config", metavar="PATH",
                   help="Postfix configuration to audit: a directory with main.cf/master.cf, a main.cf, "
                        "or a file with postconf -n/-M/-P output")
    a.add_argument("--answers", metavar="FILE", help="questionnaire answers (JSON, format auditapp.answers)")
    a.add_argument("--message", action="append", default=[], metavar="FILE.eml",
                   help="a received message of the domain: judged by the MSG-* rules; its sending IP, HELO and "
                        "DKIM selectors are used where none are given (with --project: stored in the project, "
                        "header block only)")
    a.add_argument("--lang", choices=("de", "en"), default=None)
    a.add_argument("--json", metavar="FILE", help="write the results as JSON (auditapp.result/1)")
    a.add_argument("--pdf", metavar="FILE", help="write the PDF report")
    a.add_argument("--fail-on", choices=("critical", "high", "medium", "low", "info"), metavar="SEVERITY",
                   help="exit 1 if a result of at least this severity failed")
    a.add_argument("--verbose", "-v", action="store_true", help="also list passed checks")

    s = sub.add_parser("spf-eval", help="evaluate SPF for an IP and sender (RFC 7208 check_host)")
    s.add_argument("ip")
    s.add_argument("sender", help="MAIL FROM address; empty string for the null reverse-path")
    s.add_argument("--helo", metavar="NAME", default="")
    _resolver_args(s)

    from auditapp.cli.message_command import add_parser as add_message_parser

    add_message_parser(sub, _resolver_args)

    b = sub.add_parser("batch", help="audit every domain listed in a file (DNS checks)")
    b.add_argument("file")
    b.add_argument("--out", required=True, metavar="DIR")
    b.add_argument("--concurrency", type=int, default=20, metavar="N")
    b.add_argument("--dnsbl", action="append", default=[], metavar="ZONE")
    b.add_argument("--lang", choices=("de", "en"), default=None)
    _resolver_args(b)

    r = sub.add_parser("rules", help="list the rule catalog")
    r.add_argument("--json", action="store_true")
    r.add_argument("--lang", choices=("de", "en"), default=None)

    rp = sub.add_parser("report", help="write the PDF report of a recorded run of a project")
    rp.add_argument("--project", required=True, metavar="FILE")
    rp.add_argument("--pdf", required=True, metavar="OUT")
    rp.add_argument("--run", type=int, metavar="N", help="which run (1 = first; default: the latest)")
    rp.add_argument("--theme", metavar="FILE", help="a theme file or the name of a theme under reports/themes")
    rp.add_argument("--password-from-keyring", action="store_true",
                    help="encrypt the PDF (AES-256) with the password stored in the system keyring")
    rp.add_argument("--draft", action="store_true", help="mark every page as a draft")
    rp.add_argument("--lang", choices=("de", "en"), default=None)

    ac = sub.add_parser("accept", help="record an accepted risk (rule + subject) in a project's register")
    ac.add_argument("rule")
    ac.add_argument("subject", help='the subject as shown in the results, or "*" for every subject')
    ac.add_argument("--project", required=True, metavar="FILE")
    ac.add_argument("--reason", required=True, help="why the deviation is accepted")
    ac.add_argument("--by", required=True, metavar="NAME", help="who accepted it")
    ac.add_argument("--expires", metavar="YYYY-MM-DD", help="from this day on the finding counts again")

    rv = sub.add_parser("review", help="add a reviewer comment or override a result's severity in a project")
    rv.add_argument("rule")
    rv.add_argument("subject", help='the subject as shown in the results, or "*" for every subject')
    rv.add_argument("--project", required=True, metavar="FILE")
    rv.add_argument("--by", required=True, metavar="NAME", help="who reviewed it")
    rv.add_argument("--comment", metavar="TEXT", help="a remark shown with the finding in the report")
    rv.add_argument("--severity", choices=("critical", "high", "medium", "low", "info", "catalog"),
                    help='the severity the report uses ("catalog" removes an override)')
    rv.add_argument("--reason", metavar="TEXT", help="why the severity differs from the catalog")

    ar = sub.add_parser("archive", help="move a project's older runs into an archive project file")
    ar.add_argument("--project", required=True, metavar="FILE")
    ar.add_argument("--keep", type=int, default=10, metavar="N", help="runs that stay in the project (default 10)")
    ar.add_argument("--to", metavar="ARCHIVE", help="the archive file (default: FILE's name with .archive; "
                                                  "runs are added to an existing archive)")

    d = sub.add_parser("demo", help="audit the built-in offline demo lab")
    d.add_argument("--out", default="demo-output", metavar="DIR")
    d.add_argument("--lang", choices=("de", "en"), default=None)
    return p


def _resolver_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--nameserver", action="append", default=[], metavar="IP[:PORT]",
                   help="recursive resolver to query (default: the system's)")
    p.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS", help="budget per DNS question")


def default_lang() -> str:
    import locale
    import os

    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "de" if value.lower().startswith("de") else "en"
    loc = locale.getlocale()[0] or ""
    return "de" if loc.lower().startswith("de") else "en"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; everything it prints passes the printable filter (issue 12, item 8).

    Network strings (TXT records, banners, server replies) reach the summary in many ways; the
    streams are wrapped here, once, so none of them can send raw escape sequences to a terminal.
    """
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(out), SafeStream(err)  # type: ignore[assignment]
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(args_list)
        if args.command is None:
            raise UsageError("a subcommand is needed (audit, report, spf-eval, batch, rules, demo); see --help")
        if getattr(args, "lang", "x") is None:
            args.lang = default_lang()
        try:
            validate_timeout(getattr(args, "timeout", 1.0), "--timeout")
        except InputError as exc:
            raise UsageError(str(exc)) from None
        from auditapp.cli import commands

        if args.command == "message":
            from auditapp.cli.message_command import cmd_message

            return cmd_message(args)
        return int(getattr(commands, "cmd_" + args.command.replace("-", "_"))(args))
    except UsageError as exc:
        print(f"auditapp: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except CannotRun as exc:
        print(f"auditapp: cannot run: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        print("auditapp: interrupted", file=sys.stderr)
        return 130
