"""Issue 13, item 1: one request type, one prepare step, every input rule in core/validation.py.

The command line (``audit DOMAIN``), ``audit --project``, the GUI and the demo all build an
:class:`AuditRequest` and go through :func:`prepare`; these tests pin that equal input gives an
equal audit whichever front end it came from, and that each rule exists once.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from auditapp.audit.prepare import NoResolverError, PreparedAudit, PrepareError, prepare, prepare_project_audit
from auditapp.audit.request import AuditRequest, InputNames, build_target, request_from_project
from auditapp.cli.inputs import CLI_NAMES, request_from_args
from auditapp.cli.main import build_parser, main
from auditapp.core.project import Project, ProjectError
from auditapp.core.validation import (
    InputError,
    check_distinct_ports,
    parse_nameservers,
    validate_account,
    validate_ca_file,
    validate_nameserver,
)
from auditapp.dnsclient import Nameserver, parse_nameserver
from auditapp.lab.demo import DEMO_DATA
from auditapp.postfix import PostfixLoadFailure


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    from lab.certs import make_lab_certs

    return str(make_lab_certs(tmp_path_factory.mktemp("certs")).ca)


def _cli(*argv: str) -> AuditRequest:
    return request_from_args(build_parser().parse_args(["audit", *argv]))


def _comparable(prepared: PreparedAudit) -> PreparedAudit:
    """Drop what names the front end, not the audit: where the HELO came from and how a password is asked."""
    return replace(prepared, target=replace(prepared.target, helo_source="-"), password_lookup=None,
                   trust_lookup=None)


# -- one prepare step --------------------------------------------------------------------------

def test_the_command_line_and_a_project_prepare_the_same_audit(ca_file: str) -> None:
    answers = str(DEMO_DATA / "answers.json")
    cli = prepare(_cli(
        "bücher.example", "--server-ip", "192.0.2.1", "--server-ip", "2001:db8::1", "--helo", "mail.bücher.example",
        "--mx", "mx.bücher.example", "--dkim-selector", "s1", "--dnsbl", "bl.example", "--port", "smtp=2525",
        "--account", "audit@xn--bcher-kva.example", "--nameserver", "127.0.0.1:5353", "--timeout", "3",
        "--ca-file", ca_file, "--answers", answers, "--relay-test", "--allow-internal",
    ))
    from auditapp.questionnaire import load_answers_file

    project = Project(
        name="Bücher", domain="xn--bcher-kva.example", server_ips=["192.0.2.1", "2001:db8::1"],
        helo="mail.bücher.example", mx_hosts=["mx.xn--bcher-kva.example"], dkim_selectors=["s1"],
        dnsbl_zones=["bl.example"], ports={"smtp": 2525}, test_account="audit@xn--bcher-kva.example",
        nameservers=["127.0.0.1:5353"], relay_test=True, allow_internal=True, answers=load_answers_file(answers),
    )
    from_project = prepare(request_from_project(project, timeout=3, ca_file=ca_file))
    assert _comparable(cli) == _comparable(from_project)
    assert cli.target.domain == "xn--bcher-kva.example" and cli.target.ports["smtp"] == 2525
    assert cli.nameservers == (Nameserver("127.0.0.1", 5353),) and cli.config.timeout == 3.0
    assert (cli.target.helo_source, from_project.target.helo_source) == ("cli", "project")
    # prepare_project_audit, the GUI's entry, is the same two steps.
    gui = prepare_project_audit(project, timeout=3, ca_file=ca_file, defer_password=True)
    assert gui == from_project


def test_prepare_never_asks_for_the_password_itself() -> None:
    asked: list[tuple[str, str]] = []

    def lookup(domain: str, account: str) -> str:
        asked.append((domain, account))
        return "secret"

    request = AuditRequest("example.com", account="tester", nameservers=("127.0.0.1",), password_lookup=lookup,
                           trust_lookup=lambda d, a: ("smtp.provider.example",))
    prepared = prepare(request)
    assert asked == [] and prepared.config.account_password is None
    done = prepared.with_password()
    assert asked == [("example.com", "tester")] and done.config.account_password == "secret"
    assert done.target.trusted_hosts == ("smtp.provider.example",)


def test_hosts_typed_on_the_command_line_are_trusted_those_of_a_project_are_not() -> None:
    cli = build_target(_cli("example.com", "--submission-host", "smtp.provider.example",
                            "--trust-host", "IMAP.Provider.Example."))
    assert cli.trusted_hosts == ("smtp.provider.example", "imap.provider.example")
    project = Project(name="p", domain="example.com", client_hosts=["smtp.provider.example"])
    assert build_target(request_from_project(project)).trusted_hosts == ()
    assert build_target(request_from_project(project, trust_hosts=["smtp.provider.example"])).trusted_hosts == (
        "smtp.provider.example",)


def test_run_choices_narrow_or_widen_a_project_but_resolvers_fall_back_in_order() -> None:
    project = Project(name="p", domain="example.com", nameservers=["192.0.2.53"])
    assert request_from_project(project, nameservers=["127.0.0.1"]).nameservers == ("127.0.0.1",)
    assert request_from_project(project, default_nameservers=["127.0.0.2"]).nameservers == ("192.0.2.53",)
    project.nameservers = []
    assert request_from_project(project, default_nameservers=["127.0.0.2"]).nameservers == ("127.0.0.2",)
    project.probe_services = False
    assert not request_from_project(project, services=True).services
    assert request_from_project(project, allow_internal=True).allow_internal


def test_a_postfix_file_that_cannot_be_read_is_input_but_a_stored_text_is_a_finding(tmp_path: Path) -> None:
    with pytest.raises(PrepareError, match=r"^--postfix-config: "):
        prepare(replace(_cli("example.com", "--nameserver", "127.0.0.1"), postfix_path=str(tmp_path / "nope")))
    broken = {"main.cf": "myhostname = mail.example.com\n= no name here\n"}
    project = Project(name="p", domain="example.com", nameservers=["127.0.0.1"],
                      postfix_config={"origin": "old export", "files": broken})
    prepared = prepare(request_from_project(project))
    assert isinstance(prepared.config.postfix, PostfixLoadFailure)
    assert prepared.target.postfix_origin == "old export"


def test_no_system_resolver_is_the_environment_and_says_where_to_give_one(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from auditapp.audit import prepare as project_run

    def no_resolv_conf(**_kwargs: object) -> None:
        raise OSError("no /etc/resolv.conf")

    monkeypatch.setattr(project_run.DnsClient, "from_system", no_resolv_conf)
    with pytest.raises(NoResolverError, match="enter a resolver in the settings"):
        prepare(AuditRequest("example.com"))
    assert main(["audit", "example.com", "--no-services"]) == 3
    assert capsys.readouterr().err.strip() == (
        "auditapp: cannot run: no system resolver configured (no /etc/resolv.conf); give --nameserver")
    # An input error still wins: exit 2 before exit 3.
    assert main(["audit", "exa mple.com", "--no-services"]) == 2


@pytest.mark.parametrize(("argv", "message"), [
    (["--trust-host", "bad..example"], "--trust-host 'bad..example' is not a valid domain name: Empty Label"),
    (["--nameserver", " 127.0.0.1"], "nameserver ' 127.0.0.1' has leading or trailing whitespace"),
    (["--mx", "mx.example", "--mx", "MX.example."], None),
])
def test_command_line_inputs_that_used_to_escape_the_rules(argv: list[str], message: str | None,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A bad --trust-host was a traceback, a blank around --nameserver was ignored, a host typed
    twice was audited twice."""
    if message is None:
        assert build_target(_cli("example.com", *argv)).mx_hosts == ("mx.example",)
        return
    assert main(["audit", "example.com", "--no-services", *argv]) == 2
    assert capsys.readouterr().err.strip() == f"auditapp: error: {message}"


def test_messages_name_the_input_as_the_front_end_calls_it() -> None:
    request = AuditRequest("example.com", server_ips=("192.0.2.1:25",))
    with pytest.raises(InputError, match=r"^server IP '192.0.2.1:25' has a port glued on"):
        build_target(request)
    with pytest.raises(InputError, match=r"^--server-ip '192.0.2.1:25'"):
        build_target(replace(request, names=CLI_NAMES))
    with pytest.raises(InputError, match=r"^a DOMAIN or --project FILE is needed$"):
        build_target(AuditRequest("", names=CLI_NAMES))
    assert InputNames().resolver_hint != CLI_NAMES.resolver_hint


# -- the rules in core/validation.py -------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("192.0.2.53", ("192.0.2.53", 53)), ("127.0.0.1:5353", ("127.0.0.1", 5353)),
    ("::1", ("::1", 53)), ("[2001:db8::53]:5353", ("2001:db8::53", 5353)), ("[::1]", ("::1", 53)),
])
def test_validate_nameserver(text: str, expected: tuple[str, int]) -> None:
    assert validate_nameserver(text) == expected
    assert parse_nameserver(text) == Nameserver(*expected)  # the engine's parser is the same rule


@pytest.mark.parametrize(("text", "code", "message"), [
    ("dns.example", "not_ip", "invalid nameserver 'dns.example': not an IP address"),
    ("192.0.2.1:99999", "invalid", "invalid nameserver '192.0.2.1:99999': bad port '99999'"),
    ("192.0.2.1:٥٣", "invalid", "bad port"),
    ("[::1", "invalid", "missing ']'"),
    ("[::1]5353", "invalid", "invalid nameserver '[::1]5353'"),
    (" 192.0.2.1", "whitespace_edges", "leading or trailing whitespace"),
    ("", "empty", "nameserver is empty"),
])
def test_validate_nameserver_refuses(text: str, code: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")) as caught:
        validate_nameserver(text)
    assert caught.value.code == code


def test_parse_nameservers_keeps_order_and_stops_at_the_first_bad_one() -> None:
    assert parse_nameservers(["127.0.0.2", "127.0.0.1:53"]) == (("127.0.0.2", 53), ("127.0.0.1", 53))
    assert parse_nameservers([]) == ()
    with pytest.raises(InputError, match="'x'"):
        parse_nameservers(["127.0.0.1", "x", "y"])


def test_a_project_file_uses_the_same_resolver_and_account_rules() -> None:
    for value, message in ((" 192.0.2.1", "field nameservers[0]: nameserver ' 192.0.2.1' has leading"),
                           ("dns.example", "field nameservers[0]: invalid nameserver 'dns.example': not an IP")):
        with pytest.raises(ProjectError, match=message.replace("[", r"\[").replace("]", r"\]")):
            Project.from_json({"domain": "example.com", "nameservers": [value]})
    for name in ("report:victim.test", "tester@", "a" * 321, "tab\tbed"):
        with pytest.raises(InputError) as typed:
            validate_account(name)
        with pytest.raises(ProjectError) as stored:
            Project.from_json({"domain": "example.com", "test_account": name})
        assert str(stored.value) == f"field test_account: {typed.value}"


def test_check_distinct_ports() -> None:
    check_distinct_ports({"smtp": 25, "submission": 587, "https": 587})  # HTTPS may share
    with pytest.raises(InputError, match=r"^ports: two services share port 587") as caught:
        check_distinct_ports({"smtp": 25, "submission": 587, "submissions": 587})
    assert caught.value.params == {"port": 587}


def test_a_project_with_two_services_on_one_port_is_refused_like_the_command_line() -> None:
    project = Project(name="p", domain="example.com", nameservers=["127.0.0.1"], ports={"submissions": 587})
    with pytest.raises(PrepareError, match=r"^ports: two services share port 587"):
        prepare_project_audit(project)


def test_validate_ca_file(ca_file: str, tmp_path: Path) -> None:
    assert validate_ca_file(ca_file) == ca_file
    with pytest.raises(InputError, match=r"^--ca-file /nonexistent.pem: no such file$"):
        validate_ca_file("/nonexistent.pem", "--ca-file")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(InputError, match=r"^CA file .*: not a PEM file with certificates"):
        validate_ca_file(str(junk))
