"""IPv6 parity (issue 16): the MX over IPv6, against a real Postfix on ::1 and BIND.

The per-IP rules (PTR, FCrDNS, generic names, HELO, SPF, DNSBL) with IPv6 senders are cases of
the rule table in tests/test_rules_lab.py; this file has the MX reachability rules, which need
a server listening on IPv6 (tests/lab/ipv6_lab.py), the pure verdicts a loopback lab cannot
produce (a timeout over IPv6), and the discovery of IPv6 senders.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace

import pytest
from lab.bind import make_lab_root
from lab.ipv6_lab import (
    NETNS_HOSTS,
    Ipv6Lab,
    create_netns,
    delete_netns,
    ipv6_loopback_usable,
    netns_usable,
    run_in_netns,
    start_ipv6_lab,
)
from lab.mailservers import mail_servers_available

from auditapp.audit.engine import EngineConfig, audit
from auditapp.audit.prepare import PreparedAudit, prepare
from auditapp.audit.request import AuditRequest
from auditapp.catalog import catalog
from auditapp.checks import registered
from auditapp.checks.registry import run_check
from auditapp.collectors.facts import Facts
from auditapp.collectors.sender_discovery import postfix_senders, spf_candidates
from auditapp.collectors.service_facts import DiscoveredHost, Discovery, EndpointProbe, PortState, Role
from auditapp.core.model import Finding, Run, Status
from auditapp.core.target import AuditTarget, LearnedValue
from auditapp.dnsclient import DnsAnswer, DnsClient, Nameserver, Outcome
from auditapp.postfix import config_from_texts
from auditapp.report.messages import learned_values

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


# -- IPv6 senders discovered, not only given ----------------------------------------------------

MAIN_CF_V6 = "myhostname = mail.v6.test\ninet_protocols = all\nsmtp_bind_address6 = 2001:db8:6::40\n"


def _prepared(main_cf: str, *, bind_port: int = 53, server_ips: tuple[str, ...] = ()) -> PreparedAudit:
    return prepare(AuditRequest(domain="v6.test", server_ips=server_ips, services=False, dkim_selectors=("x",),
                                dnsbl_zones=(), nameservers=(f"127.0.0.1:{bind_port}",),
                                postfix_texts={"origin": "test main.cf", "files": {"main.cf": main_cf}}))


def test_postfix_bind_address6_becomes_a_sending_ip_marked_postfix() -> None:
    prepared = _prepared(MAIN_CF_V6)
    assert prepared.target.server_ips == ("2001:db8:6::40",)
    learned = prepared.target.learned_from("server_ips", "2001:db8:6::40")
    assert learned is not None and learned.source == "postfix"
    assert learned.message.startswith("smtp_bind_address6 = 2001:db8:6::40")
    assert learned.to_json()["source"] == "postfix"
    assert not prepared.warnings


def test_bind_address6_of_a_master_cf_smtp_service_counts_too() -> None:
    """A multi-address sender: a transport in master.cf with its own -o smtp_bind_address6."""
    config = config_from_texts({"main.cf": "smtp_bind_address6 = 2001:db8:6::40\n",
                                "master.cf": "smtp unix - - n - - smtp\nout6 unix - - n - - smtp\n"
                                             "  -o smtp_bind_address6=2001:db8:6::41\n"}, "test")
    found, warnings = postfix_senders(config)
    assert [(x.value, x.source) for x in found] == [("2001:db8:6::40", "postfix"), ("2001:db8:6::41", "postfix")]
    assert "master.cf:3" in found[1].message and not warnings


def test_given_sending_ips_win_over_the_postfix_configuration() -> None:
    prepared = _prepared(MAIN_CF_V6, server_ips=("192.0.2.10",))
    assert prepared.target.server_ips == ("192.0.2.10",)
    assert not prepared.target.learned and not prepared.warnings


def test_postfix_without_ipv6_or_without_bind_address() -> None:
    ipv4_only = _prepared("inet_protocols = ipv4\nsmtp_bind_address6 = 2001:db8:6::40\n")
    assert ipv4_only.target.server_ips == () and not ipv4_only.warnings  # the address is never used
    # IPv6 on (the default "all"), but the kernel picks the address: say so instead of guessing.
    unknown = _prepared("myhostname = mail.v6.test\n")
    assert unknown.target.server_ips == ()
    assert any("smtp_bind_address6" in w and "--server-ip" in w for w in unknown.warnings)


def test_message_learned_values_keep_their_json_shape() -> None:
    """LearnedValue.source is additive: a message's value serialises exactly as before issue 16."""
    value = LearnedValue("server_ips", "192.0.2.10", "<id@x>", 2)
    assert value.source == "message"
    assert value.to_json() == {"field": "server_ips", "value": "192.0.2.10", "message": "<id@x>", "hop": 2}


def test_scope_table_says_where_a_postfix_address_came_from() -> None:
    target = _prepared(MAIN_CF_V6).target.to_json()
    text = learned_values(lambda key, **kw: f"{key}:{kw}", target, "server_ips", ["2001:db8:6::40"])
    assert "messages.learned_postfix" in text and "smtp_bind_address6" in text


@pytest.mark.lab
def test_unknown_ipv6_sender_of_postfix_is_said_in_the_run(bind_lab) -> None:
    """Postfix may send over IPv6 from an address nobody named: the per-IP rules' evidence says so."""
    prepared = _prepared("myhostname = mail.v6.test\n", bind_port=bind_lab.port)
    run = asyncio.run(audit(prepared.target, prepared.make_dns(), replace(prepared.config, smtp_probe=False)))
    ptr = one(run, "PTR-MISSING", "v6.test")
    assert ptr.status is NT
    assert any("smtp_bind_address6" in line for line in ptr.evidence)
    assert any("2001:db8:6::10" in line for line in ptr.evidence)  # and the SPF candidate


@pytest.mark.lab
def test_ipv6_sender_from_postfix_without_ptr_fails_ptr_missing_high(bind_lab) -> None:
    """The most common Gmail rejection (knowledge base B10): found from the Postfix import alone."""
    prepared = _prepared(MAIN_CF_V6, bind_port=bind_lab.port)
    run = asyncio.run(audit(prepared.target, prepared.make_dns(), replace(prepared.config, smtp_probe=False)))
    got = one(run, "PTR-MISSING", "2001:db8:6::40")
    assert (got.status, got.outcome, got.severity.value) == (F, "missing", "high")
    assert one(run, "SPF-SENDER-NOT-AUTHORIZED", "2001:db8:6::40").status is F
    assert {"field": "server_ips", "value": "2001:db8:6::40", "source": "postfix"}.items() <= \
        next(x for x in run.target["learned"] if x["field"] == "server_ips").items()


def _dns_run(bind_port: int, domain: str, server_ips: tuple[str, ...] = ()) -> Run:
    target = AuditTarget(domain=domain, server_ips=server_ips, dkim_selectors=("x",), dnsbl_zones=(), services=False)
    client = DnsClient([Nameserver("127.0.0.1", bind_port)], timeout=3.0)
    return asyncio.run(audit(target, client, EngineConfig(timeout=3.0, smtp_probe=False)))


@pytest.mark.lab
def test_spf_ip6_terms_are_candidates_never_audited(bind_lab) -> None:
    """v6.test authorises ip6:2001:db8:6::10: listed as a candidate (source spf), no per-IP verdict on it."""
    run = _dns_run(bind_lab.port, "v6.test")
    candidates = [x for x in run.target["learned"] if x["field"] == "sender_candidates"]
    assert [(x["value"], x["source"]) for x in candidates] == [("2001:db8:6::10", "spf")]
    assert run.target["server_ips"] == []
    ptr = one(run, "PTR-MISSING", "v6.test")
    assert ptr.status is NT and ptr.reason is not None and ptr.reason.key == "reason.no_sending_ips"
    assert any("2001:db8:6::10" in line and "not audited" in line for line in ptr.evidence)
    # No sender verdict on it; the address is also mail.v6.test's (the MX), which RPKI judges as an MX.
    assert not [f for f in run.findings if f.subject == "2001:db8:6::10" and not f.rule.startswith("RPKI-")]
    rpki = [f for f in run.findings if f.subject == "2001:db8:6::10" and f.rule.startswith("RPKI-")]
    assert rpki and all(f.params["roles"]["en"] == "MX" for f in rpki)


@pytest.mark.lab
def test_given_ips_mean_no_spf_candidates(bind_lab) -> None:
    run = _dns_run(bind_lab.port, "v6.test", ("2001:db8:6::10",))
    assert "learned" not in run.target
    assert one(run, "PTR-MISSING", "2001:db8:6::10").status is P


def test_spf_candidates_only_single_authorised_ipv6_addresses() -> None:
    record = "v=spf1 ip6:2001:db8::1 ip6:2001:db8::2/128 ip6:2001:db8:1::/64 -ip6:2001:db8::3 ip4:192.0.2.1 -all"
    assert [x.value for x in spf_candidates([record], "example.test")] == ["2001:db8::1", "2001:db8::2"]
    assert spf_candidates([record, "v=spf1 -all"], "example.test") == []  # two records: permerror, nothing
    assert spf_candidates(["v=spf1 ip6:zz -all"], "example.test") == []


# -- several IPv6 hosts in a network namespace the test creates ---------------------------------


@pytest.fixture
def netns() -> Iterator[str]:
    why = netns_usable()
    if why:
        pytest.skip(why)
    name = f"auditapp-v6-{os.getpid()}"
    create_netns(name)
    try:
        yield name
    finally:
        delete_netns(name)


@pytest.mark.lab
def test_several_ipv6_mx_hosts_in_a_network_namespace(netns: str) -> None:
    """One AAAA answers, one refuses (no listener), one has no route; IPv4 answers for all three."""
    found = run_in_netns(netns)
    by = {(f["rule"], f["subject"].split("]:")[0].lstrip("[")): f for f in found}
    up, closed, unroutable = NETNS_HOSTS["up"], NETNS_HOSTS["closed"], NETNS_HOSTS["unroutable"]
    assert by[("MX-IPV6-UNREACHABLE", up)]["status"] == "pass"
    assert (by[("MX-IPV6-UNREACHABLE", closed)]["status"], by[("MX-IPV6-UNREACHABLE", closed)]["outcome"]) == \
        ("fail", "refused")
    # No route to it while IPv6 demonstrably works from here (the first host answered): a failure.
    assert (by[("MX-IPV6-UNREACHABLE", unroutable)]["status"],
            by[("MX-IPV6-UNREACHABLE", unroutable)]["outcome"]) == ("fail", "unreachable")
    assert by[("MX-IPV6-UNREACHABLE", closed)]["severity"] == "medium"
    assert all(f["status"] == "pass" for f in found if f["rule"] == "MX-IPV6-MISSING")
    assert not [f for f in found if f["status"] == "error"]
