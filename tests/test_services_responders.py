"""Service rules against our own misbehaving responders: what real servers will not do on request.

A hostile or slow server must never produce a "fail" (it may just be protecting itself from
the auditor); it gives ``not_tested`` with the reason, and the audit always finishes.
"""

from __future__ import annotations

import asyncio

import pytest

from auditapp.core.model import Run, Status
from auditapp.core.target import DEFAULT_PORTS, AuditTarget
from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.engine import EngineConfig, audit
from auditapp.lab.dnsserver import LabDnsServer, RecordSet
from auditapp.lab.mailresponder import Behaviour, MailResponder

DOMAIN = "resp.test"


def audit_responder(responder: MailResponder, timeout: float) -> Run:
    rs = RecordSet()
    rs.add(DOMAIN, "MX", "10 mx.resp.test.")
    rs.add("mx.resp.test", "A", responder.host)
    with LabDnsServer(rs) as dns:
        # Every other mail port points at a port nothing listens on (refused, fast).
        ports = {**DEFAULT_PORTS, **{s: 1 for s in DEFAULT_PORTS}, "smtp": responder.port}
        target = AuditTarget(domain=DOMAIN, dkim_selectors=(), dnsbl_zones=(), ports=ports,
                             ca_file=responder.ca_file or None)
        client = DnsClient([Nameserver(dns.host, dns.port)], timeout=timeout)
        return asyncio.run(asyncio.wait_for(audit(target, client, EngineConfig(timeout=timeout)), 10 * timeout + 5))


def finding(run: Run, rule: str):
    return next(f for f in run.findings if f.rule == rule)


def test_greeting_without_fqdn_fails_smtp_banner() -> None:
    with MailResponder(Behaviour.SMTP, hostname="localhost") as responder:
        run = audit_responder(responder, timeout=2.0)
    f = finding(run, "SMTP-BANNER")
    assert f.status is Status.FAIL and f.outcome == "not_fqdn"
    assert any("220 localhost" in line for line in f.evidence)


def test_slow_greeting_within_the_timeout_is_a_measurement_not_a_failure() -> None:
    with MailResponder(Behaviour.SLOW_GREETING, delay=0.4) as responder:
        run = audit_responder(responder, timeout=3.0)
    f = finding(run, "SMTP-BANNER")
    assert f.status is Status.PASS
    assert f.params["ms"] >= 400


def test_tarpit_beyond_the_timeout_is_not_tested() -> None:
    with MailResponder(Behaviour.SLOW_GREETING, delay=3.0) as responder:
        run = audit_responder(responder, timeout=0.5)
    f = finding(run, "SMTP-BANNER")
    assert f.status is Status.NOT_TESTED
    assert f.reason is not None and f.reason.key == "reason.dialogue"


@pytest.mark.parametrize("behaviour", [Behaviour.SILENT, Behaviour.GARBAGE, Behaviour.HUGE_BANNER,
                                       Behaviour.NO_CRLF, Behaviour.RESET, Behaviour.TLS_STALL])
def test_hostile_server_never_yields_a_fail_or_a_crash(behaviour: Behaviour) -> None:
    with MailResponder(behaviour) as responder:
        run = audit_responder(responder, timeout=0.8)
    mx_rules = ("SMTP-BANNER", "STARTTLS-MISSING", "AUTH-WITHOUT-TLS", "TLS-CERT-NAME", "TLS-CERT-UNTRUSTED")
    for f in run.findings:
        assert f.status is not Status.ERROR, f
        if f.rule in mx_rules and f.subject.endswith(f":{responder.port}"):
            assert f.status is not Status.FAIL, (behaviour, f.rule, f.outcome, f.evidence[-3:])
    assert finding(run, "SMTP-UNREACHABLE").status is Status.PASS  # it did accept the connection
