"""DNS failures that RFC 7208 §5.5 reads as "no match" are recorded, and never become a fail.

The evaluator stays RFC-conformant (``v=spf1 ptr -all`` with a SERVFAIL reverse zone is
``fail``), but the failed lookups land in ``SpfEvaluation.ignored_failures`` and the audit's
SPF-SENDER-NOT-AUTHORIZED check reports ``not_tested`` instead of a HIGH "not authorized".
"""

from __future__ import annotations

import asyncio

from auditapp.audit.engine import EngineConfig, audit
from auditapp.catalog.wording import render_finding
from auditapp.core.model import Finding, Status
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsClient, Nameserver, Outcome
from auditapp.lab.dnsserver import Fault, LabDnsServer, RecordSet
from auditapp.spf import SpfEvaluation, SpfResult
from auditapp.spf.evaluate import check_host

DOMAIN = "ptr.test"
IP = "192.0.2.10"
REVERSE = "10.2.0.192.in-addr.arpa"
HELO = "mail.ptr.test"


def records(ptr_target: str | None = None, spf: str = "v=spf1 ptr -all") -> RecordSet:
    rs = RecordSet()
    rs.add("test", "SOA", "ns. h. 1 2 3 4 5")
    rs.add(DOMAIN, "TXT", spf)
    rs.add("mail.ptr.test", "A", IP)
    rs.add("other.elsewhere.test", "A", IP)
    rs.add("stale.ptr.test", "A", "192.0.2.99")
    rs.add("why.ptr.test", "TXT", "not allowed: %{p}")
    if ptr_target is not None:
        rs.add(REVERSE, "PTR", ptr_target + ".")
    return rs


def evaluate(rs: RecordSet, faults: dict | None = None) -> SpfEvaluation:
    with LabDnsServer(rs, faults=faults or {}) as lab:
        client = DnsClient([Nameserver(lab.host, lab.port)], timeout=0.5)
        return asyncio.run(check_host(client, IP, DOMAIN, f"user@{DOMAIN}", HELO))


def sender_finding(rs: RecordSet, faults: dict | None = None) -> Finding:
    with LabDnsServer(rs, faults=faults or {}) as lab:
        client = DnsClient([Nameserver(lab.host, lab.port)], timeout=0.5)
        target = AuditTarget(domain=DOMAIN, server_ips=(IP,), helo=HELO, services=False, dnsbl_zones=())
        run = asyncio.run(audit(target, client, EngineConfig(timeout=0.5, smtp_probe=False)))
    return next(f for f in run.findings if f.rule == "SPF-SENDER-NOT-AUTHORIZED")


# -- (a) the reverse zone fails -------------------------------------------------------------


def test_servfail_on_reverse_zone_stays_fail_per_rfc_but_is_recorded() -> None:
    ev = evaluate(records("mail.ptr.test"), {REVERSE: Fault.SERVFAIL})
    assert ev.result is SpfResult.FAIL  # §5.5: a DNS error in ptr is "no match", not temperror
    assert ev.mechanism == "-all"
    assert [(a.name, a.rdtype, a.outcome) for a in ev.ignored_failures] == [(REVERSE, "PTR", Outcome.SERVFAIL)]
    assert any("ignored" in line and REVERSE in line for line in ev.trace)


def test_servfail_on_reverse_zone_is_not_tested_in_the_audit() -> None:
    finding = sender_finding(records("mail.ptr.test"), {REVERSE: Fault.SERVFAIL})
    assert finding.status is Status.NOT_TESTED, finding
    text = render_finding(finding, "en")["reason"]
    assert REVERSE in text and "SERVFAIL" in text
    assert "not answered" in text


def test_timeout_on_ptr_name_validation_is_recorded_and_not_tested() -> None:
    rs = records("mail.ptr.test")
    faults = {("mail.ptr.test", "A"): Fault.TIMEOUT}
    ev = evaluate(rs, faults)
    assert ev.result is SpfResult.FAIL
    assert [(a.name, a.rdtype, a.outcome) for a in ev.ignored_failures] == [
        ("mail.ptr.test", "A", Outcome.TIMEOUT)
    ]
    assert sender_finding(rs, faults).status is Status.NOT_TESTED


def test_failed_p_macro_lookup_is_recorded() -> None:
    # %{p} falls back to "unknown" when the PTR lookup fails (§7.3); exists: then misses.
    rs = records("mail.ptr.test", spf="v=spf1 exists:%{p} -all")
    ev = evaluate(rs, {REVERSE: Fault.SERVFAIL})
    assert ev.result is SpfResult.FAIL
    assert [a.name for a in ev.ignored_failures] == [REVERSE]
    assert sender_finding(rs, {REVERSE: Fault.SERVFAIL}).status is Status.NOT_TESTED


def test_failures_while_expanding_exp_do_not_count() -> None:
    # The result is decided before exp= is read (§6.2); its lookups cannot turn a pass into a fail.
    rs = records("mail.ptr.test", spf="v=spf1 -all exp=why.ptr.test")
    ev = evaluate(rs, {REVERSE: Fault.SERVFAIL})
    assert ev.result is SpfResult.FAIL
    assert ev.explanation == "not allowed: unknown"
    assert ev.ignored_failures == ()
    assert sender_finding(rs, {REVERSE: Fault.SERVFAIL}).status is Status.FAIL


# -- (b) a healthy reverse zone that does not match ----------------------------------------------


def test_healthy_reverse_zone_without_match_is_fail() -> None:
    rs = records("other.elsewhere.test")  # validates, but is not under ptr.test
    ev = evaluate(rs)
    assert ev.result is SpfResult.FAIL
    assert ev.ignored_failures == ()
    assert sender_finding(rs).status is Status.FAIL


def test_unvalidated_ptr_name_is_fail() -> None:
    rs = records("stale.ptr.test")  # under ptr.test, but its A record is another address
    ev = evaluate(rs)
    assert ev.result is SpfResult.FAIL
    assert ev.ignored_failures == ()
    assert sender_finding(rs).status is Status.FAIL


def test_missing_reverse_zone_is_fail() -> None:
    rs = records(None)  # NXDOMAIN is an answer, not a failure
    ev = evaluate(rs)
    assert ev.result is SpfResult.FAIL
    assert ev.ignored_failures == ()
    assert sender_finding(rs).status is Status.FAIL


# -- (c) a matching ptr ----------------------------------------------------------------------------


def test_matching_ptr_is_pass() -> None:
    rs = records("mail.ptr.test")
    ev = evaluate(rs)
    assert ev.result is SpfResult.PASS
    assert ev.mechanism == "ptr"
    assert ev.ignored_failures == ()
    assert sender_finding(rs).status is Status.PASS
