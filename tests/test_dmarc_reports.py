"""DMARC-REPORT-UNAUTHORISED (RFC 9990 External Report Destination Verification; knowledge base B1, R4).

The pass and fail cases against BIND are in tests/test_rules_lab.py (zones ruaext.test, dmarcsink.test);
here the in-process lab server gives the faults no real server produces, and the parser's edge cases.
"""

from __future__ import annotations

import asyncio

from auditapp.audit.engine import EngineConfig, audit
from auditapp.collectors.dmarc_reports import mailto_domains
from auditapp.core.model import Finding, Status
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.lab.dnsserver import Fault, LabDnsServer, RecordSet

AUTH = "ext.test._report._dmarc.sink.example"


def _records(dmarc: str) -> RecordSet:
    rs = RecordSet()
    rs.add("test", "SOA", "ns. h. 1 2 3 4 5")
    rs.add("example", "SOA", "ns. h. 1 2 3 4 5")
    rs.add("_dmarc.ext.test", "TXT", dmarc)
    rs.add("sink.example", "MX", "10 mx.sink.example.")
    return rs


def _findings(rs: RecordSet, faults: dict | None = None) -> list[Finding]:
    with LabDnsServer(rs, faults=faults or {}) as server:
        client = DnsClient([Nameserver(server.host, server.port)], timeout=0.5)
        target = AuditTarget(domain="ext.test", mx_hosts=("mx.ext.test",), services=False, dnsbl_zones=())
        run = asyncio.run(audit(target, client, EngineConfig(timeout=0.5, smtp_probe=False)))
    return [f for f in run.findings if f.rule == "DMARC-REPORT-UNAUTHORISED"]


def test_a_timeout_on_the_authorisation_record_is_not_tested_never_a_fail() -> None:
    rs = _records("v=DMARC1; p=reject; rua=mailto:a@sink.example")
    [finding] = _findings(rs, {AUTH: Fault.TIMEOUT})
    assert finding.status is Status.NOT_TESTED and finding.subject == AUTH
    assert finding.reason is not None and finding.reason.key == "reason.dns_failure"


def test_servfail_is_not_tested_and_an_authorised_destination_passes() -> None:
    rs = _records("v=DMARC1; p=none; rua=mailto:a@sink.example")
    [finding] = _findings(rs, {AUTH: Fault.SERVFAIL})
    assert finding.status is Status.NOT_TESTED
    rs.add(AUTH, "TXT", "v=DMARC1")
    [finding] = _findings(rs)
    assert finding.status is Status.PASS


def test_a_record_without_v_dmarc1_fails() -> None:
    rs = _records("v=DMARC1; p=none; ruf=mailto:f@sink.example")
    rs.add(AUTH, "TXT", "hello")
    [finding] = _findings(rs)
    assert (finding.status, finding.outcome) == (Status.FAIL, "unauthorised")


def test_addresses_in_the_own_domain_are_not_applicable() -> None:
    rs = _records("v=DMARC1; p=reject; rua=mailto:d@ext.test,mailto:e@reports.ext.test")
    [finding] = _findings(rs)
    assert finding.status is Status.NOT_APPLICABLE and finding.subject == "ext.test"


def test_no_dmarc_record_is_not_applicable() -> None:
    rs = _records("v=spf1 -all")
    [finding] = _findings(rs)
    assert finding.status is Status.NOT_APPLICABLE


def test_mailto_domains_reads_rua_and_ruf_with_size_limits() -> None:
    got = mailto_domains("v=DMARC1; p=none; rua=mailto:a@X.example!10m, https://r.example/x; "
                         "ruf=mailto:f@x.example,mailto:g@y.example")
    assert got == {"x.example": (["rua", "ruf"], ["a@X.example", "f@x.example"]),
                   "y.example": (["ruf"], ["g@y.example"])}
