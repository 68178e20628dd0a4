"""What the real Postfix does with a configuration PF-OPEN-RELAY-CONFIG judges (issue 11).

A configuration without any relay denial is not an open relay: smtpd refuses to start, and
no mail is received at all. Here a real Postfix instance (tests/lab/mailservers.py) runs such
a configuration on a loopback address of its own; the client sees the connection close
without a greeting and the maillog has smtpd's fatal message. The audit, reading the same
files, must say "refuses to start", and after the fix both the server and the audit agree.
"""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import pytest
from lab.bind import make_lab_root
from lab.mail_fixtures import require_mail_servers
from lab.mailservers import PORTS, PostfixInstance, PostfixSpec

from auditapp.catalog import catalog
from auditapp.checks import registered
from auditapp.checks.registry import run_check
from auditapp.collectors.facts import Facts
from auditapp.core.model import Status
from auditapp.core.target import AuditTarget
from auditapp.postfix import load_for_audit

IP = "127.0.0.30"  # outside the mail lab's 127.0.0.2-.11, so both can run at once
FATAL = "specify at least one working instance of"


class _BareInstance(PostfixInstance):
    """The lab's instance plumbing with a main.cf of our own: port 25 only, no TLS, no SASL."""

    recipient_restrictions = "permit_mynetworks"

    def main_cf(self) -> str:
        d = self.dir
        return "\n".join([
            "compatibility_level = 0",  # empty smtpd_relay_restrictions by default
            f"queue_directory = {d}/spool", f"data_directory = {d}/data",
            f"maillog_file_prefixes = {self.root}", f"maillog_file = {self.maillog}",
            "syslog_name = postfix-nostart", "myhostname = mx.nostart.test", "mydomain = nostart.test",
            "inet_interfaces = loopback-only", "inet_protocols = ipv4", "mydestination =", f"mynetworks = {IP}/32",
            "alias_maps =", "alias_database =", "smtputf8_enable = no", "smtpd_peername_lookup = no",
            "default_transport = error:outbound mail disabled in the lab",
            "smtpd_relay_restrictions =",
            f"smtpd_recipient_restrictions = {self.recipient_restrictions}",
        ]) + "\n"


def _greeting(port: int, timeout: float = 10.0) -> bytes:
    """The first bytes the server sends, or b"" if it closes without a word."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((IP, port), timeout=3) as conn:
                conn.settimeout(5)
                return conn.recv(512)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        except (ConnectionResetError, TimeoutError):
            return b""


def _verdict(etc: Path, scratch: Path) -> tuple[Status, str]:
    """The audit's verdict on the instance's files, with the lab's loopback listener written as port 25.

    The lab can only listen on loopback, and a loopback-only smtpd is rightly no public
    service for the audit; everything else is the file the server just ran with.
    """
    scratch.mkdir()
    shutil.copy(etc / "main.cf", scratch / "main.cf")
    master = (etc / "master.cf").read_text("utf-8").replace(f"{IP}:{PORTS['smtp']} inet", "smtp inet")
    (scratch / "master.cf").write_text(master, "utf-8")
    cfg = load_for_audit(scratch)
    (f,) = [f for f in run_check(registered()["PF-OPEN-RELAY-CONFIG"], catalog(), Facts(postfix=cfg, done={"postfix"}),
                                 AuditTarget(domain="nostart.test")) if f.subject == "postfix:smtp/inet"]
    return f.status, f.outcome


@pytest.mark.lab
@pytest.mark.parametrize(("restrictions", "starts", "outcome"), [
    ("permit_mynetworks", False, "refuses_start"),
    ("permit_mynetworks, reject_unauth_destination", True, "pass"),
])
def test_smtpd_without_relay_denial_refuses_to_start(restrictions: str, starts: bool, outcome: str) -> None:
    require_mail_servers()
    root = make_lab_root()
    spec = PostfixSpec(name="nostart", ip=IP, hostname="mx.nostart.test", domain="nostart.test", cert=None,
                       services=("smtp",))
    instance = _BareInstance(spec, root, root / "vmail", None)
    instance.recipient_restrictions = restrictions
    try:
        (root / "vmail").mkdir()
        instance.prepare()
        instance.launch()
        greeting = _greeting(PORTS["smtp"])
        if starts:
            assert greeting.startswith(b"220"), greeting
        else:
            assert greeting == b"", greeting
            deadline = time.monotonic() + 10
            while FATAL not in instance.maillog.read_text("utf-8", "replace") if instance.maillog.exists() else True:
                assert time.monotonic() < deadline, "smtpd's fatal message did not reach the maillog"
                time.sleep(0.1)
        assert _verdict(instance.etc, root / "audited") == (Status.FAIL if not starts else Status.PASS, outcome)
    finally:
        instance.stop()
        shutil.rmtree(root, ignore_errors=True)
