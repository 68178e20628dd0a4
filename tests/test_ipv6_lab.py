"""IPv6 parity (issue 16): the MX over IPv6, against a real Postfix on ::1 and BIND.

The per-IP rules (PTR, FCrDNS, generic names, HELO, SPF, DNSBL) with IPv6 senders are cases of
the rule table in tests/test_rules_lab.py; this file has the MX reachability rules, which need
a server listening on IPv6 (tests/lab/ipv6_lab.py), the pure verdicts a loopback lab cannot
produce (a timeout over IPv6), and the discovery of IPv6 senders.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator

import pytest
from lab.bind import make_lab_root
from lab.ipv6_lab import Ipv6Lab, ipv6_loopback_usable, start_ipv6_lab
from lab.mailservers import mail_servers_available

from auditapp.audit.engine import EngineConfig, audit
from auditapp.catalog import catalog
from auditapp.checks import registered
from auditapp.checks.registry import run_check
from auditapp.collectors.facts import Facts
from auditapp.collectors.service_facts import DiscoveredHost, Discovery, EndpointProbe, PortState, Role
from auditapp.core.model import Finding, Run, Status
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsAnswer, DnsClient, Nameserver, Outcome

P, F, NA, NT = Status.PASS, Status.FAIL, Status.NOT_APPLICABLE, Status.NOT_TESTED


@pytest.fixture(scope="module")
def ipv6_lab() -> Iterator[Ipv6Lab]:
    why = ipv6_loopback_usable() or mail_servers_available()
    if why:
        pytest.skip(why)
    root = make_lab_root()
    lab = start_ipv6_lab(root)
    try:
        yield lab
    finally:
        lab.stop()
        shutil.rmtree(root, ignore_errors=True)


_RUNS: dict[tuple[str, int], Run] = {}


def run_mx(bind_port: int, domain: str, smtp_port: int) -> Run:
    key = (domain, smtp_port)
    if key not in _RUNS:
        target = AuditTarget(domain=domain, dkim_selectors=(), dnsbl_zones=(), ports={"smtp": smtp_port})
        client = DnsClient([Nameserver("127.0.0.1", bind_port)], timeout=3.0)
        _RUNS[key] = asyncio.run(audit(target, client, EngineConfig(timeout=3.0, smtp_probe=False)))
    return _RUNS[key]


def one(run: Run, rule: str, subject: str) -> Finding:
    found = [f for f in run.findings if f.rule == rule and f.subject == subject]
    assert found, f"no {rule} for {subject}: {[(f.subject, f.status.value) for f in run.findings if f.rule == rule]}"
    assert not [f for f in run.findings if f.status is Status.ERROR], "a check crashed"
    return found[0]


# -- the MX over IPv6, against real servers -----------------------------------------------------


@pytest.mark.lab
def test_mx_with_aaaa_where_postfix_listens_passes(bind_lab, ipv6_lab: Ipv6Lab) -> None:
    run = run_mx(bind_lab.port, "ipv6mx.test", ipv6_lab.both_port)
    missing = one(run, "MX-IPV6-MISSING", "mx.ipv6mx.test")
    assert missing.status is P and "::1" in str(missing.params["addresses"])
    reach = one(run, "MX-IPV6-UNREACHABLE", f"[::1]:{ipv6_lab.both_port}")
    assert reach.status is P, (reach.outcome, reach.reason, reach.evidence)
    assert any("220 mx.ipv6mx.test" in line for line in reach.evidence)
    # The same port answers over IPv4 too, and SMTP-UNREACHABLE judges both addresses.
    assert one(run, "SMTP-UNREACHABLE", f"127.0.0.21:{ipv6_lab.both_port}").status is P
    assert one(run, "SMTP-UNREACHABLE", f"[::1]:{ipv6_lab.both_port}").status is P


@pytest.mark.lab
def test_aaaa_whose_port_25_does_not_answer_fails_medium(bind_lab, ipv6_lab: Ipv6Lab) -> None:
    """::1 on a port where only the IPv4 address listens: the AAAA exists, port 25 refuses over IPv6."""
    run = run_mx(bind_lab.port, "ipv6mx.test", ipv6_lab.v4_port)
    got = one(run, "MX-IPV6-UNREACHABLE", f"[::1]:{ipv6_lab.v4_port}")
    assert (got.status, got.outcome, got.severity.value) == (F, "refused", "medium")
    assert got.params["ipv4"] == f"127.0.0.21:{ipv6_lab.v4_port}"
    assert got.evidence
    assert one(run, "MX-IPV6-MISSING", "mx.ipv6mx.test").status is P
    assert one(run, "SMTP-UNREACHABLE", f"127.0.0.21:{ipv6_lab.v4_port}").status is P


@pytest.mark.lab
def test_mx_without_aaaa_is_missing_ipv6(bind_lab, ipv6_lab: Ipv6Lab) -> None:
    run = run_mx(bind_lab.port, "ipv4mx.test", ipv6_lab.both_port)
    got = one(run, "MX-IPV6-MISSING", "mx.ipv4mx.test")
    assert (got.status, got.outcome, got.severity.value) == (F, "missing", "info")
    assert any("AAAA" in line for line in got.evidence)
    assert one(run, "MX-IPV6-UNREACHABLE", "ipv4mx.test").status is NA


# -- verdicts a loopback lab cannot produce -----------------------------------------------------


def _answer(name: str, rdtype: str, *records: str) -> DnsAnswer:
    return DnsAnswer(name, rdtype, Outcome.OK if records else Outcome.NODATA, records=records)


def _judge(rule: str, hosts: list[DiscoveredHost], probes: list[EndpointProbe]) -> list[Finding]:
    facts = Facts()
    facts.discovery = Discovery(domain="example.test", hosts=tuple(hosts))
    facts.services = {(p.address, p.port, p.service): p for p in probes}
    target = AuditTarget(domain="example.test")
    return list(run_check(registered()[rule], catalog(), facts, target))


MX = DiscoveredHost("mx.example.test", (Role.MX,), ("MX",), a=_answer("mx.example.test", "A", "192.0.2.25"),
                    aaaa=_answer("mx.example.test", "AAAA", "2001:db8::25"))
V4_OPEN = EndpointProbe("192.0.2.25", 25, "smtp", PortState.OPEN, greeting="220 mx.example.test ESMTP")


def test_ipv6_timeout_without_any_working_ipv6_is_not_tested() -> None:
    """The auditor's own network may have no IPv6: a timeout proves nothing then (honest verdicts)."""
    v6 = EndpointProbe("2001:db8::25", 25, "smtp", PortState.TIMEOUT, problem="no reply within 5 s")
    got = _judge("MX-IPV6-UNREACHABLE", [MX], [V4_OPEN, v6])
    assert [(f.status, f.subject) for f in got] == [(NT, "[2001:db8::25]:25")]
    assert any("may not route IPv6" in line for line in got[0].evidence)
    unreachable = EndpointProbe("2001:db8::25", 25, "smtp", PortState.UNREACHABLE,
                                state_detail="Network is unreachable")
    assert [f.status for f in _judge("MX-IPV6-UNREACHABLE", [MX], [V4_OPEN, unreachable])] == [NT]


def test_ipv6_timeout_fails_when_ipv6_works_from_here() -> None:
    other = DiscoveredHost("mx2.example.test", (Role.MX,), ("MX",), aaaa=_answer("mx2.example.test", "AAAA",
                                                                                   "2001:db8::26"))
    v6 = EndpointProbe("2001:db8::25", 25, "smtp", PortState.TIMEOUT, problem="no reply within 5 s")
    v6_ok = EndpointProbe("2001:db8::26", 25, "smtp", PortState.OPEN, greeting="220 mx2.example.test ESMTP")
    got = {f.subject: f for f in _judge("MX-IPV6-UNREACHABLE", [MX, other], [V4_OPEN, v6, v6_ok])}
    assert (got["[2001:db8::25]:25"].status, got["[2001:db8::25]:25"].outcome) == (F, "filtered")
    assert got["[2001:db8::26]:25"].status is P


def test_ipv6_closed_while_ipv4_is_down_too_belongs_to_smtp_unreachable() -> None:
    v4 = EndpointProbe("192.0.2.25", 25, "smtp", PortState.REFUSED)
    v6 = EndpointProbe("2001:db8::25", 25, "smtp", PortState.REFUSED)
    got = _judge("MX-IPV6-UNREACHABLE", [MX], [v4, v6])
    assert [(f.status, f.outcome) for f in got] == [(NA, "ipv4_down")]


def test_failed_aaaa_lookup_is_not_tested() -> None:
    host = DiscoveredHost("mx.example.test", (Role.MX,), ("MX",), a=_answer("mx.example.test", "A", "192.0.2.25"),
                          aaaa=DnsAnswer("mx.example.test", "AAAA", Outcome.TIMEOUT))
    got = _judge("MX-IPV6-MISSING", [host], [V4_OPEN])
    assert [f.status for f in got] == [NT]
