"""internet.nl's two name-server IPv6 subtests (issue 16): NS-IPV6-MISSING and NS-IPV6-UNREACHABLE.

The lab is one record set served by :class:`LabDnsServer` on ``127.0.0.1`` and, on the same port,
on ``[::1]``: it is the resolver of the audit and every name server of the zones at once (all NS
hosts have A 127.0.0.1 and AAAA ::1), and ``target.ports["dns"]`` points the direct SOA questions
at its port. "Does not answer over IPv6" is the same record set served on ``127.0.0.1`` only: the
SOA question to ``[::1]`` on that port is refused (ICMP port unreachable). A timeout over IPv6,
which a loopback lab cannot produce, is judged from built facts, as in tests/test_ipv6_lab.py.
Nothing leaves loopback.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

from auditapp.audit.engine import EngineConfig, audit
from auditapp.catalog import catalog
from auditapp.checks import registered
from auditapp.checks.registry import run_check
from auditapp.collectors.facts import Facts
from auditapp.collectors.nameservers import (
    ANSWERED,
    REFUSED,
    TIMEOUT,
    UNREACHABLE,
    NameserverFact,
    NsHost,
    NsProbe,
    collect_nameservers,
)
from auditapp.core.model import Finding, Run, Status
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsAnswer, DnsClient, Nameserver, Outcome, tally_questions
from auditapp.lab.dnsserver import LabDnsServer, RecordSet

P, F, NA, NT = Status.PASS, Status.FAIL, Status.NOT_APPLICABLE, Status.NOT_TESTED


def _records() -> RecordSet:
    rs = RecordSet(soa_owner="test")
    for zone in ("two.test", "one.test", "none.test"):
        rs.add(zone, "SOA", f"ns.{zone}. hostmaster.{zone}. 1 3600 600 86400 60")
    for ns in ("ns1.two.test", "ns2.two.test"):
        rs.add(ns, "A", "127.0.0.1")
        rs.add(ns, "AAAA", "::1")
    rs.add("ns3.none.test", "A", "127.0.0.1")
    for zone, ns in (("two.test", "ns1.two.test."), ("two.test", "ns2.two.test."),
                     ("one.test", "ns1.two.test."), ("one.test", "ns3.none.test.")):
        rs.add(zone, "NS", ns)
    rs.add("none.test", "NS", "ns3.none.test.")
    rs.add("mail.two.test", "A", "127.0.0.1")  # not a zone cut: the NS come from two.test
    return rs


def _dual_stack(records: RecordSet) -> tuple[LabDnsServer, LabDnsServer]:
    """The record set on 127.0.0.1 and on [::1] with one port number."""
    for _ in range(20):
        v4 = LabDnsServer(records).start()
        try:
            v6 = LabDnsServer(records, host="::1", port=v4.port).start()
        except (RuntimeError, OSError) as exc:
            v4.stop()
            if "Cannot assign requested address" in str(exc) or "not available" in str(exc):
                pytest.skip(f"IPv6 loopback (::1) is not usable here: {exc}")
            continue
        return v4, v6
    raise RuntimeError("no port free on both 127.0.0.1 and ::1")


@pytest.fixture(scope="module")
def dual() -> Iterator[int]:
    v4, v6 = _dual_stack(_records())
    try:
        yield v4.port
    finally:
        v6.stop()
        v4.stop()


@pytest.fixture(scope="module")
def v4_only() -> Iterator[int]:
    with LabDnsServer(_records()) as v4:
        yield v4.port


_RUNS: dict[tuple[str, int], Run] = {}


def run_ns(port: int, domain: str) -> Run:
    if (domain, port) not in _RUNS:
        target = AuditTarget(domain=domain, dkim_selectors=(), dnsbl_zones=(), ports={"dns": port})
        client = DnsClient([Nameserver("127.0.0.1", port)], timeout=3.0)
        _RUNS[(domain, port)] = asyncio.run(audit(target, client, EngineConfig(timeout=3.0, smtp_probe=False)))
    return _RUNS[(domain, port)]


def findings(run: Run, rule: str) -> list[Finding]:
    found = [f for f in run.findings if f.rule == rule]
    assert found, f"no {rule}"
    assert not [f for f in run.findings if f.status is Status.ERROR and f.rule.startswith("NS-")], "a check crashed"
    return found


# -- NS-IPV6-MISSING --------------------------------------------------------------------------

@pytest.mark.parametrize(("domain", "status", "outcome"), [
    ("two.test", P, "pass"),
    ("mail.two.test", P, "pass"),
    ("one.test", F, "only_one"),
    ("none.test", F, "none"),
])
def test_ns_ipv6_missing(dual: int, domain: str, status: Status, outcome: str) -> None:
    [f] = findings(run_ns(dual, domain), "NS-IPV6-MISSING")
    assert (f.status, f.outcome) == (status, outcome), f
    assert any("AAAA" in line for line in f.evidence)


# -- NS-IPV6-UNREACHABLE ----------------------------------------------------------------------

def test_ns_answering_over_ipv6_passes(dual: int) -> None:
    found = findings(run_ns(dual, "two.test"), "NS-IPV6-UNREACHABLE")
    assert {f.subject for f in found} == {f"ns1.two.test [::1]:{dual}", f"ns2.two.test [::1]:{dual}"}
    assert all(f.status is P for f in found), found
    assert any("answered (NOERROR aa)" in line for line in found[0].evidence), found[0].evidence


def test_ns_silent_over_ipv6_while_ipv4_answers_fails(v4_only: int) -> None:
    found = findings(run_ns(v4_only, "two.test"), "NS-IPV6-UNREACHABLE")
    assert [(f.status, f.outcome) for f in found] == [(F, "refused"), (F, "refused")], found
    assert found[0].params["ipv4"] == f"127.0.0.1:{v4_only}"
    # The same audit's NS-IPV6-MISSING passes: the AAAA records are there.
    assert findings(run_ns(v4_only, "two.test"), "NS-IPV6-MISSING")[0].status is P


def test_no_ns_with_ipv6_is_not_applicable(dual: int) -> None:
    [f] = findings(run_ns(dual, "none.test"), "NS-IPV6-UNREACHABLE")
    assert (f.status, f.outcome) == (NA, "no_ipv6")


def test_direct_questions_stay_out_of_the_resolver_tally(v4_only: int) -> None:
    target = AuditTarget(domain="two.test", ports={"dns": v4_only})
    client = DnsClient([Nameserver("127.0.0.1", v4_only)], timeout=3.0)

    async def go() -> tuple[NameserverFact, set[tuple[str, str]]]:
        with tally_questions() as tally:
            fact = await collect_nameservers(client, target, 3.0)
        return fact, set(tally.outcomes)

    fact, asked = asyncio.run(go())
    assert asked == {("two.test", "NS"), ("ns1.two.test", "A"), ("ns1.two.test", "AAAA"),
                     ("ns2.two.test", "A"), ("ns2.two.test", "AAAA")}
    assert {p.state for h in fact.hosts for p in h.probes} == {ANSWERED, REFUSED}


def test_internal_name_server_address_is_not_probed(v4_only: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITAPP_LOOPBACK_ONLY", raising=False)
    target = AuditTarget(domain="two.test", ports={"dns": v4_only})
    client = DnsClient([Nameserver("127.0.0.1", v4_only)], timeout=3.0)
    fact = asyncio.run(collect_nameservers(client, target, 3.0))
    assert {p.state for h in fact.hosts for p in h.probes} == {"blocked"}
    facts = Facts()
    facts.nameservers = fact
    assert {f.status for f in _run("NS-IPV6-UNREACHABLE", facts)} == {NT}


# -- verdicts a loopback lab cannot produce: built facts -------------------------------------

def _ok(name: str, rdtype: str, *records: str) -> DnsAnswer:
    return DnsAnswer(name, rdtype, Outcome.OK if records else Outcome.NODATA, records=records)


def _host(name: str, v6_state: str, v4_state: str = ANSWERED) -> NsHost:
    return NsHost(name, _ok(name, "A", "192.0.2.53"), _ok(name, "AAAA", "2001:db8::53"),
                  (NsProbe("2001:db8::53", 53, v6_state, "x"), NsProbe("192.0.2.53", 53, v4_state, "NOERROR aa")))


def _run(rule: str, facts: Facts) -> list[Finding]:
    return list(run_check(registered()[rule], catalog(), facts, AuditTarget(domain="example.test")))


def _judge(rule: str, *hosts: NsHost) -> list[Finding]:
    facts = Facts()
    facts.nameservers = NameserverFact("example.test", (_ok("example.test", "NS", "ns1.example.test."),), hosts)
    return _run(rule, facts)


def test_ipv6_timeout_fails_only_when_ipv6_works_from_here() -> None:
    # Another name server answered over IPv6: the silent one is filtered.
    found = _judge("NS-IPV6-UNREACHABLE", _host("ns1.example.test", TIMEOUT), _host("ns2.example.test", ANSWERED))
    assert [(f.status, f.outcome) for f in found] == [(F, "filtered"), (P, "pass")]
    # No IPv6 endpoint answered at all: the auditor's network may lack IPv6.
    [f] = _judge("NS-IPV6-UNREACHABLE", _host("ns1.example.test", UNREACHABLE))
    assert f.status is NT
    assert any("may not route IPv6" in line for line in f.evidence)


def test_ipv6_silent_and_ipv4_silent_is_not_an_ipv6_fault() -> None:
    [f] = _judge("NS-IPV6-UNREACHABLE", _host("ns1.example.test", REFUSED, v4_state=TIMEOUT))
    assert (f.status, f.outcome) == (NA, "ipv4_down")


def test_failed_aaaa_lookup_is_not_tested() -> None:
    lost = NsHost("ns2.example.test", _ok("ns2.example.test", "A", "192.0.2.54"),
                  DnsAnswer("ns2.example.test", "AAAA", Outcome.TIMEOUT))
    [f] = _judge("NS-IPV6-MISSING", _host("ns1.example.test", ANSWERED), lost)
    assert f.status is NT


# -- several IPv6 name servers: the network namespace of tests/lab/ipv6_lab.py ---------------
#
# Inside a lo-only namespace: one name server answers on a ULA address (IPv6 works from here), one
# ULA address has nothing listening (closed), one has an "unreachable" route; all three answer over
# IPv4 on 127.0.0.1. Nothing can leave the namespace.

_NETNS_NS = {"ns1": "up", "ns2": "closed", "ns3": "unroutable"}


@pytest.fixture
def netns() -> Iterator[str]:
    from lab.ipv6_lab import create_netns, delete_netns, netns_usable

    why = netns_usable()
    if why:
        pytest.skip(why)
    name = f"auditapp-ns6-{os.getpid()}"
    create_netns(name)
    try:
        yield name
    finally:
        delete_netns(name)


def test_name_servers_over_ipv6_in_a_network_namespace(netns: str) -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    from lab.ipv6_lab import _ip

    env = {k: v for k, v in os.environ.items() if k != "AUDITAPP_LOOPBACK_ONLY"}
    repo = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = os.pathsep.join([str(repo), str(repo / "tests")])
    done = subprocess.run([_ip(), "netns", "exec", netns, sys.executable, __file__, "netns-ns"],
                          capture_output=True, text=True, env=env, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    found = {(f["rule"], f["subject"].split()[0]): (f["status"], f["outcome"])
             for f in json.loads(done.stdout.strip().splitlines()[-1])}
    assert found[("NS-IPV6-MISSING", "ns6.test")] == ("pass", "pass")
    assert found[("NS-IPV6-UNREACHABLE", "ns1.ns6.test")] == ("pass", "pass")
    assert found[("NS-IPV6-UNREACHABLE", "ns2.ns6.test")] == ("fail", "refused")
    assert found[("NS-IPV6-UNREACHABLE", "ns3.ns6.test")] == ("fail", "unreachable")


def _netns_ns_audit() -> None:
    """Inside the namespace: the zone's DNS on 127.0.0.1 and on the "up" ULA address, one audit, JSON out."""
    import json
    import socket

    from lab.ipv6_lab import NETNS_HOSTS

    names = [n for _, n in socket.if_nameindex()]
    if names != ["lo"]:
        raise SystemExit(f"not inside a lo-only network namespace (interfaces: {names})")
    rs = RecordSet(soa_owner="test")
    rs.add("ns6.test", "SOA", "ns1.ns6.test. hostmaster.ns6.test. 1 3600 600 86400 60")
    for ns, kind in _NETNS_NS.items():
        rs.add("ns6.test", "NS", f"{ns}.ns6.test.")
        rs.add(f"{ns}.ns6.test", "A", "127.0.0.1")
        rs.add(f"{ns}.ns6.test", "AAAA", NETNS_HOSTS[kind])
    with LabDnsServer(rs) as v4, LabDnsServer(rs, host=NETNS_HOSTS["up"], port=v4.port):
        target = AuditTarget(domain="ns6.test", dkim_selectors=(), dnsbl_zones=(), ports={"dns": v4.port},
                             allow_internal=True)
        client = DnsClient([Nameserver("127.0.0.1", v4.port)], timeout=3.0)
        run = asyncio.run(audit(target, client, EngineConfig(timeout=3.0, smtp_probe=False)))
    print(json.dumps([{"rule": f.rule, "subject": f.subject, "status": f.status.value, "outcome": f.outcome}
                      for f in run.findings if f.rule.startswith("NS-IPV6")]))


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["netns-ns"]:
        _netns_ns_audit()
