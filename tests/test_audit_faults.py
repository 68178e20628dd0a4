"""Faults real servers will not produce on request, through the whole audit.

The promise under test: a timeout, SERVFAIL, REFUSED or garbage is ``not_tested`` with its
reason, never a "missing record" and never a crash; odd but valid answers (split TXT, 3 kB
SPF over TCP, CNAME chains, several PTRs) are read correctly.
"""

from __future__ import annotations

import asyncio

import pytest

from auditapp.audit.engine import EngineConfig, audit
from auditapp.catalog.wording import render_finding
from auditapp.core.model import Run, Status
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.lab.dnsserver import Fault, LabDnsServer, RecordSet

DOMAIN = "faults.test"
IP = "192.0.2.10"


def records() -> RecordSet:
    rs = RecordSet()
    big = "v=spf1 " + " ".join(f"ip4:198.51.100.{i}" for i in range(1, 200)) + f" ip4:{IP} -all"
    assert len(big) > 3000
    rs.add(DOMAIN, "TXT", big)
    rs.add("_dmarc." + DOMAIN, "TXT", ["v=DMARC1; p=quarantine; ", "rua=mailto:d@faults.test"])
    rs.add("10.2.0.192.in-addr.arpa", "PTR", "alias.faults.test.")
    rs.add("10.2.0.192.in-addr.arpa", "PTR", "other.faults.test.")
    rs.add("alias.faults.test", "CNAME", "alias2.faults.test.")
    rs.add("alias2.faults.test", "CNAME", "mail.faults.test.")
    rs.add("mail.faults.test", "A", IP)
    rs.add("other.faults.test", "A", "192.0.2.99")
    rs.add("s1._domainkey." + DOMAIN, "TXT", "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
    for tld in ("test",):
        rs.add(tld, "SOA", "ns. h. 1 2 3 4 5")
    return rs


def run(faults: dict, domain: str = DOMAIN) -> Run:
    with LabDnsServer(records(), faults=faults) as lab:
        client = DnsClient([Nameserver(lab.host, lab.port)], timeout=0.5)
        target = AuditTarget(domain=domain, server_ips=(IP,), helo="mail.faults.test", dkim_selectors=("s1",),
                             dnsbl_zones=("dnsbl.test",), services=False)
        return asyncio.run(audit(target, client, EngineConfig(timeout=0.5, smtp_probe=False)))


def status(run_: Run, rule: str) -> Status:
    return next(f.status for f in run_.findings if f.rule == rule)


def test_healthy_odd_answers_are_read_correctly() -> None:
    r = run({})
    assert status(r, "SPF-MISSING") is Status.PASS  # 3 kB record, needs TCP
    assert status(r, "SPF-SENDER-NOT-AUTHORIZED") is Status.PASS
    assert status(r, "DMARC-NO-REPORTING") is Status.PASS  # split TXT strings joined
    assert status(r, "PTR-FCRDNS") is Status.PASS  # CNAME chain, one of two PTRs confirms
    assert status(r, "DKIM-NO-KEY") is Status.PASS
    assert not [f for f in r.findings if f.status is Status.ERROR]


@pytest.mark.parametrize("fault", [Fault.TIMEOUT, Fault.SERVFAIL, Fault.REFUSED, Fault.GARBAGE, Fault.SHORT,
                                   Fault.CUT])
def test_failed_spf_lookup_is_not_tested_never_missing(fault: Fault) -> None:
    r = run({DOMAIN: fault})
    for rule in ("SPF-MISSING", "SPF-LOOKUP-LIMIT", "SPF-PASS-ALL"):
        found = next(f for f in r.findings if f.rule == rule)
        assert found.status is Status.NOT_TESTED, (rule, found)
        assert found.reason is not None
        text = render_finding(found, "en")["reason"]
        assert "not a missing record" in text
    assert status(r, "SPF-SENDER-NOT-AUTHORIZED") is Status.NOT_TESTED  # temperror


@pytest.mark.parametrize("fault", [Fault.TIMEOUT, Fault.SERVFAIL])
def test_failed_ptr_and_dmarc_lookups_are_not_tested(fault: Fault) -> None:
    r = run({"10.2.0.192.in-addr.arpa": fault, "_dmarc." + DOMAIN: fault, "_dmarc.test": fault})
    for rule in ("PTR-MISSING", "PTR-FCRDNS", "PTR-GENERIC", "DMARC-MISSING", "DMARC-POLICY-NONE"):
        assert status(r, rule) is Status.NOT_TESTED, rule


def test_failed_forward_lookup_of_ptr_name_is_not_a_fcrdns_failure() -> None:
    r = run({"mail.faults.test": Fault.TIMEOUT, "alias.faults.test": Fault.TIMEOUT})
    assert status(r, "PTR-MISSING") is Status.PASS
    assert status(r, "PTR-FCRDNS") is Status.NOT_TESTED


def test_dkim_selector_timeout_is_not_no_key() -> None:
    r = run({"s1._domainkey." + DOMAIN: Fault.TIMEOUT})
    assert status(r, "DKIM-NO-KEY") is Status.NOT_TESTED


def test_dnsbl_timeout_is_not_a_listing() -> None:
    r = run({"10.2.0.192.dnsbl.test": Fault.SERVFAIL})
    assert status(r, "DNSBL-LISTED") is Status.NOT_TESTED


def test_a_crashing_collector_gives_error_results_not_a_dead_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    from auditapp.collectors import dns_facts

    async def broken(*_args: object) -> None:
        raise RuntimeError("simulated collector bug")

    monkeypatch.setattr(dns_facts, "collect_dkim", broken)
    r = run({})
    assert status(r, "DKIM-NO-KEY") is Status.ERROR
    assert "simulated collector bug" in render_finding(
        next(f for f in r.findings if f.rule == "DKIM-NO-KEY"), "en")["reason"]
    assert status(r, "SPF-MISSING") is Status.PASS  # the rest of the audit went on


def test_cancelled_audit_reports_unevaluated_checks_as_not_tested() -> None:
    import threading

    from auditapp.audit.engine import Event, Finished, run_audit

    cancel = threading.Event()
    events: list[Event] = []

    def emit(event: Event) -> None:  # the first event cancels: the rest is cut short
        events.append(event)
        cancel.set()

    with LabDnsServer(records(), faults={DOMAIN: Fault.TIMEOUT}) as lab:
        target = AuditTarget(domain=DOMAIN, server_ips=(IP,), helo="mail.faults.test", dnsbl_zones=(),
                             services=False)
        run = run_audit(target, lambda: DnsClient([Nameserver(lab.host, lab.port)], timeout=30.0),
                        EngineConfig(timeout=30.0, smtp_probe=False), cancel, emit)
    assert run is not None and run.cancelled
    assert isinstance(events[-1], Finished) and events[-1].run is run
    spf = next(f for f in run.findings if f.rule == "SPF-MISSING")
    assert spf.status is Status.NOT_TESTED
    assert spf.reason is not None and spf.reason.key == "reason.cancelled"


def test_a_cancel_before_the_start_still_ends_with_a_cancelled_run() -> None:
    import threading

    from auditapp.audit.engine import Event, Finished, Started, run_audit

    cancel = threading.Event()
    cancel.set()
    events: list[Event] = []
    with LabDnsServer(records(), faults={DOMAIN: Fault.TIMEOUT}) as lab:
        target = AuditTarget(domain=DOMAIN, dnsbl_zones=(), services=False)
        run = run_audit(target, lambda: DnsClient([Nameserver(lab.host, lab.port)], timeout=30.0),
                        EngineConfig(timeout=30.0), cancel, events.append)
    assert isinstance(events[0], Started)
    assert isinstance(events[-1], Finished) and events[-1].run is run and run.cancelled


def test_every_rule_yields_a_result_even_with_a_dead_resolver() -> None:
    """A rule that silently produces nothing would look like "all fine" in a report."""
    from auditapp.catalog import catalog

    with LabDnsServer(records()) as lab:
        dead = [*lab.records.records, "_dmarc.faults.test", "_dmarc.test", "_mta-sts.faults.test",
                "_smtp._tls.faults.test"]
        lab.faults = {name: Fault.TIMEOUT for name in dead}
        client = DnsClient([Nameserver(lab.host, lab.port)], timeout=0.3)
        target = AuditTarget(domain=DOMAIN, server_ips=(IP,), helo="mail.faults.test", dnsbl_zones=("dnsbl.test",))
        r = asyncio.run(audit(target, client, EngineConfig(timeout=0.3, smtp_probe=False)))
    seen = {f.rule for f in r.findings}
    assert seen == set(catalog().rules), set(catalog().rules) - seen
    assert not [f for f in r.findings if f.status is Status.FAIL and f.rule not in ("HELO-INVALID",)], \
        [(f.rule, f.outcome) for f in r.findings if f.status is Status.FAIL]


def test_a_failing_aaaa_lookup_does_not_hide_an_ipv4_mismatch() -> None:
    """An IPv4 sender is confirmed (or not) by A alone; a broken AAAA answer changes nothing."""
    rs = records()
    rs.records["10.2.0.192.in-addr.arpa"] = []
    rs.add("10.2.0.192.in-addr.arpa", "PTR", "other.faults.test.")
    with LabDnsServer(rs, faults={("other.faults.test", "AAAA"): Fault.TIMEOUT}) as lab:
        client = DnsClient([Nameserver(lab.host, lab.port)], timeout=0.5)
        target = AuditTarget(domain=DOMAIN, server_ips=(IP,), helo="other.faults.test", dnsbl_zones=(),
                             services=False)
        r = asyncio.run(audit(target, client, EngineConfig(timeout=0.5, smtp_probe=False)))
    fcrdns = next(f for f in r.findings if f.rule == "PTR-FCRDNS")
    assert (fcrdns.status, fcrdns.outcome) == (Status.FAIL, "other_addresses")
    helo = next(f for f in r.findings if f.rule == "HELO-IP-MISMATCH")
    assert (helo.status, helo.outcome) == (Status.FAIL, "mismatch")
