"""CAA record parsing and the honest verdict on a failed lookup (the BIND cases are in test_rules_lab.py)."""

from __future__ import annotations

import asyncio

import pytest

from auditapp.audit.engine import EngineConfig, audit
from auditapp.checks.caa import parse
from auditapp.core.model import Status
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.lab.dnsserver import Fault, LabDnsServer, RecordSet


@pytest.mark.parametrize(("record", "tag", "problem"), [
    ('0 issue "letsencrypt.org"', "issue", ""),
    ('0 issue ";"', "issue", ""),
    ('0 issue "letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1"', "issue", ""),
    ('0 issue "lets encrypt"', "issue", "'lets encrypt' is not a domain name"),
    ('0 issue "letsencrypt.org; nonsense"', "issue", "parameter 'nonsense' is not tag=value"),
    ('0 iodef "mailto:security@example.com"', "iodef", ""),
    ('0 iodef "ftp://example.com"', "iodef", "iodef must be a mailto:, https: or http: URL"),
    ('300 issue "x.example"', "issue", "flags above 255"),
    ("garbage", "", "not a CAA record in presentation form"),
])
def test_parse(record: str, tag: str, problem: str) -> None:
    got = parse(record)
    assert (got.tag, got.problem) == (tag, problem)


def test_a_timeout_on_the_climb_is_not_tested_never_missing() -> None:
    rs = RecordSet()
    rs.add("test", "SOA", "ns. h. 1 2 3 4 5")
    rs.add("slow.test", "MX", "10 mx.slow.test.")
    rs.add("mx.slow.test", "A", "192.0.2.10")
    with LabDnsServer(rs, faults={"slow.test": Fault.TIMEOUT}) as server:
        # The MX answer is cached before the CAA climb asks slow.test again and times out.
        client = DnsClient([Nameserver(server.host, server.port)], timeout=0.5)
        target = AuditTarget(domain="slow.test", mx_hosts=("mx.slow.test",), services=False, dnsbl_zones=())
        run = asyncio.run(audit(target, client, EngineConfig(timeout=0.5, smtp_probe=False)))
    [caa] = [f for f in run.findings if f.rule == "CAA-MISSING"]
    assert caa.status is Status.NOT_TESTED and caa.subject == "mx.slow.test"
    assert caa.reason is not None and caa.reason.key == "reason.dns_failure"
