"""DNSBL-LISTED with IPv6 senders: no verdict without evidence (dnsbl_zones.toml ``ipv6``).

Many blocklists hold IPv4 only and answer NXDOMAIN to every IPv6 query. Reading that as "not
listed" is a verdict without evidence, so a zone recorded with ``ipv6 = "no"`` is not asked
about an IPv6 sender at all (no DNS traffic) and the result is not applicable; a zone whose
IPv6 coverage is "unknown" is asked, and a "not listed" carries an evidence line saying so.
IPv4 senders are judged exactly as before.

Only loopback is ever contacted: the "no traffic" tests point the resolver at a port on
127.0.0.1 that nothing listens on and count the questions sent.
"""

from __future__ import annotations

import asyncio
import socket
import tomllib

import pytest

from auditapp.audit.engine import EngineConfig, audit
from auditapp.catalog import catalog
from auditapp.catalog.wording import render_finding
from auditapp.checks import registered
from auditapp.checks.registry import run_check
from auditapp.checks.transport import IPV6_UNDOCUMENTED
from auditapp.collectors.dns_facts import collect_dnsbl
from auditapp.collectors.facts import DnsblFact, Facts
from auditapp.core.model import Finding, Status
from auditapp.core.target import AuditTarget
from auditapp.data._toml import DATA_DIR
from auditapp.data.blocklists import IPV6_COVERAGE, VERIFIED_LEVELS, _data, blocklist_for, ipv6_coverage
from auditapp.dnsclient import DnsAnswer, DnsClient, Nameserver, Outcome, tally_questions

V6 = "2001:db8:6::10"
V4 = "192.0.2.10"
NO_V6_ZONE = "dbl.spamhaus.org"  # a domain list: it holds no IP addresses, IPv6 included (ipv6 = "no")
UNKNOWN_ZONE = "dnsbl6.test"  # not in the data file: [default], ipv6 = "unknown"


def _raw_zones() -> dict[str, dict[str, object]]:
    return tomllib.loads((DATA_DIR / "dnsbl_zones.toml").read_text("utf-8"))["zone"]


def _dead_port() -> int:
    """A UDP port on 127.0.0.1 that nothing listens on (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dead_client() -> DnsClient:
    return DnsClient([Nameserver("127.0.0.1", _dead_port())], timeout=0.3, per_try=0.3)


def _judge(*facts: DnsblFact) -> list[Finding]:
    f = Facts()
    f.dnsbl = {(x.ip, x.zone): x for x in facts}
    return list(run_check(registered()["DNSBL-LISTED"], catalog(), f, AuditTarget(domain="example.test")))


def _nxdomain(ip: str, zone: str) -> DnsblFact:
    name = f"reversed-{ip}.{zone}"
    return DnsblFact(ip=ip, zone=zone, answer=DnsAnswer(name, "A", Outcome.NXDOMAIN),
                     txt=DnsAnswer(name, "TXT", Outcome.NXDOMAIN))


# --- the data file --------------------------------------------------------------------------


def test_every_zone_states_its_ipv6_coverage_and_every_yes_or_no_has_a_source() -> None:
    raw = _raw_zones()
    lists, _ = _data()
    assert {bl.id for bl in lists} == set(raw)
    for bl in lists:
        body = raw[bl.id]
        assert {"ipv6", "ipv6_source", "ipv6_verified"} <= set(body), bl.id
        assert bl.ipv6 in IPV6_COVERAGE, bl.id
        assert bl.ipv6_verified in VERIFIED_LEVELS, bl.id
        if bl.ipv6 != "unknown":
            assert bl.ipv6_source.startswith(("https://", "http://")), f"{bl.id}: ipv6 = {bl.ipv6!r} without a source"
            assert bl.ipv6_verified in ("V", "S"), f"{bl.id}: ipv6 = {bl.ipv6!r} must not rest on an unverified claim"


def test_unknown_zones_fall_back_to_unknown() -> None:
    assert blocklist_for(UNKNOWN_ZONE) is None
    assert ipv6_coverage(UNKNOWN_ZONE) == "unknown"
    assert tomllib.loads((DATA_DIR / "dnsbl_zones.toml").read_text("utf-8"))["default"]["ipv6"] == "unknown"


def test_spamhaus_dqs_names_resolve_to_the_same_coverage() -> None:
    assert ipv6_coverage("zen.spamhaus.org") == ipv6_coverage("KEY.zen.dq.spamhaus.net") == "yes"
    assert ipv6_coverage("dbl.spamhaus.org") == ipv6_coverage("KEY.dbl.dq.spamhaus.net") == "no"


def test_the_loader_rejects_a_bad_ipv6_value() -> None:
    from auditapp.data._toml import DataError
    from auditapp.data.blocklists import _ipv6

    with pytest.raises(DataError, match="ipv6"):
        _ipv6({"ipv6": "maybe", "ipv6_source": "", "ipv6_verified": "U"}, "t", zone=True)
    with pytest.raises(DataError, match="needs an ipv6_source"):
        _ipv6({"ipv6": "no", "ipv6_source": "", "ipv6_verified": "U"}, "t", zone=True)
    with pytest.raises(DataError, match="needs ipv6_source and ipv6_verified"):
        _ipv6({"ipv6": "unknown"}, "t", zone=True)
    assert _ipv6({"ipv6": "yes", "ipv6_source": "https://example.org/", "ipv6_verified": "S"}, "t",
                 zone=True) == ("yes", "https://example.org/", "S")


# --- the collector: no question for an IPv6 sender on a zone without IPv6 -------------------


def test_ipv6_on_a_zone_without_ipv6_sends_no_question() -> None:
    client = _dead_client()

    async def go() -> tuple[DnsblFact, int]:
        with tally_questions() as tally:
            fact = await collect_dnsbl(client, V6, NO_V6_ZONE)
        return fact, tally.asked

    fact, asked = asyncio.run(go())
    assert fact.answer is None and fact.txt is None
    assert asked == 0 and client.counter.sent == 0
    [got] = _judge(fact)
    assert (got.status, got.outcome, got.subject) == (Status.NOT_APPLICABLE, "no_ipv6", f"{V6} @ {NO_V6_ZONE}")
    assert any("no query sent" in line for line in got.evidence)
    for lang in ("de", "en"):
        shown = render_finding(got, lang)
        assert "{" not in shown["detail"] and NO_V6_ZONE in shown["detail"] and V6 in shown["detail"], shown


def test_the_engine_asks_nothing_of_a_zone_without_ipv6() -> None:
    """End to end: the engine's DNSBL job for (IPv6, "no" zone) sends nothing; only other rules time out."""
    client = _dead_client()
    target = AuditTarget(domain="example.test", server_ips=(V6,), dkim_selectors=(), dnsbl_zones=(NO_V6_ZONE,),
                         services=False)
    run = asyncio.run(audit(target, client, EngineConfig(timeout=0.3, smtp_probe=False)))
    found = [f for f in run.findings if f.rule == "DNSBL-LISTED" and f.subject == f"{V6} @ {NO_V6_ZONE}"]
    assert [(f.status, f.outcome) for f in found] == [(Status.NOT_APPLICABLE, "no_ipv6")]


def test_ipv4_on_the_same_zone_is_still_asked() -> None:
    client = _dead_client()
    fact = asyncio.run(collect_dnsbl(client, V4, NO_V6_ZONE))
    assert fact.answer is not None and client.counter.sent > 0
    [got] = _judge(fact)
    assert got.status is Status.NOT_TESTED  # nothing answered on the dead port: not tested, as before


# --- the check: "unknown" keeps the PASS but says what it rests on ---------------------------


def test_ipv6_not_listed_on_an_unknown_zone_passes_with_the_caveat() -> None:
    [got] = _judge(_nxdomain(V6, UNKNOWN_ZONE))
    assert (got.status, got.outcome) == (Status.PASS, "pass")
    assert IPV6_UNDOCUMENTED.format(zone=UNKNOWN_ZONE) in got.evidence


def test_ipv6_not_listed_on_a_zone_with_ipv6_passes_without_the_caveat() -> None:
    [got] = _judge(_nxdomain(V6, "zen.spamhaus.org"))
    assert (got.status, got.outcome) == (Status.PASS, "pass")
    assert not any("not documented" in line for line in got.evidence)


def test_ipv6_listed_on_an_unknown_zone_is_still_a_listing() -> None:
    name = f"x.{UNKNOWN_ZONE}"
    fact = DnsblFact(V6, UNKNOWN_ZONE, DnsAnswer(name, "A", Outcome.OK, records=("127.0.0.2",)))
    [got] = _judge(fact)
    assert got.status is Status.FAIL
    assert not any("not documented" in line for line in got.evidence)


@pytest.mark.parametrize("zone", [UNKNOWN_ZONE, NO_V6_ZONE, "zen.spamhaus.org"])
def test_ipv4_is_unchanged(zone: str) -> None:
    [got] = _judge(_nxdomain(V4, zone))
    assert (got.status, got.outcome) == (Status.PASS, "pass")
    assert len(got.evidence) == 1 and "not documented" not in got.evidence[0]


def test_a_closed_list_stays_closed_for_ipv6() -> None:
    [got] = _judge(_nxdomain(V6, "dnsbl.sorbs.net"))
    assert (got.status, got.outcome) == (Status.NOT_APPLICABLE, "closed")


@pytest.mark.lab
def test_ipv6_not_listed_on_the_lab_zone_carries_the_caveat(bind_lab) -> None:
    """The lab's dnsbl6.test is an unknown zone: its NXDOMAIN for an IPv6 sender is a PASS with the caveat."""
    target = AuditTarget(domain="v6.test", server_ips=(V6,), dkim_selectors=(), dnsbl_zones=(UNKNOWN_ZONE,),
                         services=False)
    client = DnsClient([Nameserver("127.0.0.1", bind_lab.port)], timeout=2.0)
    run = asyncio.run(audit(target, client, EngineConfig(timeout=2.0, smtp_probe=False)))
    [got] = [f for f in run.findings if f.rule == "DNSBL-LISTED" and f.subject == f"{V6} @ {UNKNOWN_ZONE}"]
    assert got.status is Status.PASS
    assert IPV6_UNDOCUMENTED.format(zone=UNKNOWN_ZONE) in got.evidence
