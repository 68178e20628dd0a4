"""Issue 12, credentials: a project file or a DNS zone cannot steer a stored password elsewhere.

The reproductions of the security review, each against the real pieces: the SecretService
keyring of ``tests/lab/with-keyring.sh``, BIND with hostile zones (``hijack.test``,
``borrowed.test``, ``other.example``) and the WRONGNAME Postfix, whose valid lab certificate
names only ``other.example`` -- the part the attacker's own server plays.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from test_cli_services import lab_args, results

from auditapp.cli.main import main
from auditapp.core.project import Project, ProjectError
from auditapp.core.project_io import load_project, save_project
from auditapp.core.validation import InputError, in_domain, validate_account


def _need_keyring() -> None:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        if os.environ.get("CI"):
            pytest.fail("CI runs the tests through tests/lab/with-keyring.sh; no D-Bus session here")
        pytest.skip("no D-Bus session (run through tests/lab/with-keyring.sh)")


# -- account names ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["tester@victim.test", "audit-test", "a.b+c=d_e-f@mail.beispiel.de",
                                  "x@xn--bcher-kva.example"])
def test_plain_users_and_addresses_are_accounts(name: str) -> None:
    assert validate_account(name) == name


@pytest.mark.parametrize("name", ["report:victim.test", "victim.test:tester", "a/b", "tester@", "@victim.test",
                                  "tester@victim.test:25", "tester@-bad-.test", "two@at@signs.test", "",
                                  " tester", "tester@victim test", "x" * 65 + "@victim.test"])
def test_names_that_could_address_another_secret_are_refused(name: str) -> None:
    with pytest.raises(InputError):
        validate_account(name)


def test_in_domain_is_label_wise() -> None:
    assert in_domain("smtp.victim.test", "victim.test") and in_domain("VICTIM.test.", "victim.test")
    assert not in_domain("evilvictim.test", "victim.test") and not in_domain("victim.test", "")


def test_a_project_with_a_report_account_does_not_load_and_the_cli_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "crafted.auditproj"
    save_project(Project(name="crafted", domain="attacker.test"), path)
    data = json.loads(path.read_text("utf-8"))
    data["project"]["test_account"] = "report:victim.test"
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(ProjectError, match="test_account"):
        load_project(path)
    before = path.read_bytes()
    assert main(["audit", "--project", str(path), "--no-services"]) == 2
    err = capsys.readouterr().err
    assert "test_account" in err and len(err.strip().splitlines()) == 1
    assert path.read_bytes() == before  # damaged input changes nothing on disk


# -- keyring keys ----------------------------------------------------------------------------

def test_a_crafted_project_for_another_domain_cannot_read_the_password() -> None:
    """domain attacker.test + account tester@victim.test finds nothing: entries are keyed by domain too."""
    _need_keyring()
    import keyring

    from auditapp.audit.prepare import prepare_project_audit
    from auditapp.credentials import (
        REPORT_SERVICE,
        SERVICE,
        delete_password,
        delete_report_password,
        get_password,
        set_password,
        set_report_password,
    )

    victim = f"victim-{uuid.uuid4().hex[:8]}.test"
    account = f"tester@{victim}"
    set_password(victim, account, "victim-login-secret")
    set_report_password(victim, "victim-pdf-secret")
    try:
        assert get_password(victim, account, prompt=False) == "victim-login-secret"
        crafted = Project(name="crafted", domain="attacker.test", nameservers=["127.0.0.1:53"],
                          client_hosts=["mx.attacker.test"], test_account=account)
        prepared = prepare_project_audit(crafted)
        assert prepared.config.account_password is None
        assert any("no password" in w for w in prepared.warnings)
        # The old keys are gone: neither the bare account nor "report:<name>" names anything.
        assert keyring.get_password(SERVICE, account) is None
        assert keyring.get_password(SERVICE, f"report:{victim}") is None
        assert keyring.get_password(REPORT_SERVICE, victim) == "victim-pdf-secret"
        # And the project of the real domain still finds its password.
        real = Project(name="real", domain=victim, nameservers=["127.0.0.1:53"], test_account=account)
        assert prepare_project_audit(real).config.account_password == "victim-login-secret"
    finally:
        delete_password(victim, account)
        delete_report_password(victim)


def test_a_plaintext_backend_behind_the_chainer_is_refused() -> None:
    """keyring's ChainerBackend can hide a clear-text file store; the refusal looks through it."""
    _need_keyring()
    import keyring
    from keyring.backend import KeyringBackend
    from keyring.backends import SecretService
    from keyring.backends.chainer import ChainerBackend

    from auditapp.credentials import CredentialError, backend_problem, set_password

    written: list[tuple[str, str]] = []

    class FileStore(KeyringBackend):
        """What keyrings.alt's PlaintextKeyring looks like from outside: a store with a file path."""

        priority = 0.5
        file_path = "/nonexistent/keyring_pass.cfg"

        def get_password(self, service: str, username: str) -> str | None:
            return None

        def set_password(self, service: str, username: str, password: str) -> None:
            written.append((service, username))

        def delete_password(self, service: str, username: str) -> None:
            pass

    class Chain(ChainerBackend):
        backends = (SecretService.Keyring(), FileStore())

    previous = keyring.get_keyring()
    keyring.set_keyring(Chain())
    try:
        assert "in a file" in backend_problem()
        with pytest.raises(CredentialError, match="unencrypted"):
            set_password("victim.test", "tester@victim.test", "never-stored")
        assert written == []
    finally:
        keyring.set_keyring(previous)
    assert backend_problem() == ""


# -- against the lab: who gets the password ----------------------------------------------------

def _auth_lines(out: Path) -> list[str]:
    """The client's AUTH commands in every transcript of the run (their data is masked)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str) and node.startswith("C: AUTH"):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(out.read_text("utf-8")))
    return found


@pytest.mark.lab
def test_the_certificate_must_match_the_name_that_allowed_the_login(bind_lab, mail_lab, tmp_path: Path) -> None:
    """SRV to other.example and to smtp.hijack.test, one address: the cert names only other.example."""
    _need_keyring()
    from auditapp.credentials import delete_password, set_password

    set_password("hijack.test", mail_lab.account, mail_lab.password)
    try:
        out = tmp_path / "r.json"
        rc = main(["audit", "hijack.test", "--account", mail_lab.account, *lab_args(bind_lab, mail_lab, out)])
        assert rc == 0
        spoof = results(out)[("SUBMISSION-SENDER-SPOOFING", "127.0.0.6:2587")]
        assert spoof["status"] == "not_tested", spoof
        assert "does not match smtp.hijack.test" in json.dumps(spoof), spoof
        assert not _auth_lines(out)
        assert mail_lab.password not in out.read_text("utf-8")
    finally:
        delete_password("hijack.test", mail_lab.account)


@pytest.mark.lab
def test_a_host_the_project_names_is_not_trusted_but_one_the_user_confirms_is(
        bind_lab, mail_lab, tmp_path: Path) -> None:
    """borrowed.test submits via other.example: named by DNS and by the project, confirmed only by --trust-host."""
    _need_keyring()
    from auditapp.credentials import delete_password, set_password

    path = tmp_path / "borrowed.auditproj"
    ports = {**mail_lab.ports, "https": mail_lab.mtasts_port}
    save_project(Project(name="Borrowed", domain="borrowed.test", nameservers=[bind_lab.address],
                         client_hosts=["other.example"], test_account=mail_lab.account, probe_services=True,
                         ports=ports), path)
    set_password("borrowed.test", mail_lab.account, mail_lab.password)
    try:
        common = ["--project", str(path), "--ca-file", str(mail_lab.ca_file), "--timeout", "3"]
        out = tmp_path / "withheld.json"
        assert main(["audit", *common, "--json", str(out)]) == 0
        spoof = results(out)[("SUBMISSION-SENDER-SPOOFING", "127.0.0.6:2587")]
        assert spoof["status"] == "not_tested" and "outside the audited domain" in json.dumps(spoof), spoof
        assert not _auth_lines(out)

        out = tmp_path / "trusted.json"
        assert main(["audit", *common, "--trust-host", "other.example", "--json", str(out)]) == 0
        data = json.loads(out.read_text("utf-8"))
        assert data["target"]["trusted_hosts"] == ["other.example"]
        spoof = results(out)[("SUBMISSION-SENDER-SPOOFING", "127.0.0.6:2587")]
        assert "outside the audited domain" not in json.dumps(spoof), spoof
        assert _auth_lines(out), "the confirmed host was not asked to log in"
        assert mail_lab.password not in out.read_text("utf-8")
        assert mail_lab.password not in path.read_text("utf-8")
        assert "trusted_hosts" not in json.loads(path.read_text("utf-8"))["project"]
    finally:
        delete_password("borrowed.test", mail_lab.account)
