"""The services part of ``auditapp audit`` from the command line: options, keyring, evidence."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from auditapp.cli.main import main


def lab_args(bind_lab, mail_lab, out: Path) -> list[str]:
    ports = [f"--port={k}={v}" for k, v in mail_lab.ports.items()] + [f"--port=https={mail_lab.mtasts_port}"]
    return ["--nameserver", bind_lab.address, "--ca-file", str(mail_lab.ca_file), "--timeout", "3",
            "--json", str(out), *ports]


def results(path: Path) -> dict[tuple[str, str], dict]:
    data = json.loads(path.read_text("utf-8"))
    return {(r["rule"], r["subject"]): r for r in data["results"]}


@pytest.mark.lab
def test_account_password_comes_from_the_real_keyring(bind_lab, mail_lab, tmp_path: Path) -> None:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        if os.environ.get("CI"):
            pytest.fail("CI runs the tests through tests/lab/with-keyring.sh; no D-Bus session here")
        pytest.skip("no D-Bus session (run through tests/lab/with-keyring.sh)")
    from auditapp.credentials import delete_password, set_password

    set_password("svc.test", mail_lab.account, mail_lab.password)
    try:
        out = tmp_path / "r.json"
        rc = main(["audit", "svc.test", "--account", mail_lab.account, *lab_args(bind_lab, mail_lab, out)])
        assert rc == 0
        spoof = results(out)[("SUBMISSION-SENDER-SPOOFING", "127.0.0.2:2587")]
        assert spoof["status"] == "pass", spoof
        text = out.read_text("utf-8")
        assert mail_lab.password not in text
        assert "AUTH PLAIN ****" in text
    finally:
        delete_password("svc.test", mail_lab.account)


@pytest.mark.lab
def test_missing_password_skips_only_the_login_checks(bind_lab, mail_lab, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    rc = main(["audit", "svc.test", "--account", "nobody-stored@svc.test", *lab_args(bind_lab, mail_lab, out)])
    assert rc == 0
    assert "warning" in capsys.readouterr().err
    res = results(out)
    spoof = res[("SUBMISSION-SENDER-SPOOFING", "127.0.0.2:2587")]
    assert spoof["status"] == "not_tested"
    assert "keyring" in spoof["reason"]
    assert res[("STARTTLS-MISSING", "127.0.0.2:2525")]["status"] == "pass"


@pytest.mark.lab
def test_transcripts_are_in_the_json_evidence(bind_lab, mail_lab, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert main(["audit", "badsvc.test", "--relay-test", *lab_args(bind_lab, mail_lab, out)]) == 0
    relay = results(out)[("OPEN-RELAY", "127.0.0.4:2525")]
    assert relay["status"] == "fail"
    joined = "\n".join(relay["evidence"])
    assert "C: RCPT TO:<auditapp-relay-test@example.com>" in joined
    assert "C: RSET" in joined and "DATA" not in joined
    data = json.loads(out.read_text("utf-8"))
    assert any(e["address"] == "127.0.0.4" and e["port"] == 2525 for e in data["inventory"]["endpoints"])


@pytest.mark.parametrize(("argv", "message"), [
    (["--ca-file", "/nonexistent/ca.pem"], "no such file"),
    (["--submission-host", "smtp..example.com"], "not a valid"),
    (["--mailbox-host", "imap example.com"], "whitespace"),
    (["--account", " alice@example.com"], "whitespace"),
    (["--port", "ftp=21"], "unknown service"),
])
def test_bad_service_options_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "example.com", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_ca_file_that_is_not_pem_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "ca.pem"
    junk.write_text("this is not a certificate\n", "utf-8")
    assert main(["audit", "example.com", "--ca-file", str(junk)]) == 2
    assert "PEM" in capsys.readouterr().err
