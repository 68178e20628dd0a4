"""walk_spf() on small trees served by the lab DNS responder, and check_host() on the same
trees to show the static counts and the evaluation agree."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from auditapp.dnsclient import DnsClient, Nameserver, Outcome
from auditapp.lab.dnsserver import Fault, LabDnsServer, RecordSet
from auditapp.spf import SpfEvaluation, SpfResult, SpfTree, check_host, walk_spf

#: 150 ip4 terms: a record of about 3.4 kB, served as 14 strings of up to 255 octets.
BIG = "v=spf1 " + " ".join(f"ip4:198.51.100.{i}/32" for i in range(150)) + " -all"


def _records() -> RecordSet:
    rs = RecordSet()
    # root.test: 6 terms of its own, two includes sharing a grandchild, a void a:, a redirect.
    rs.add("root.test", "TXT", "v=spf1 a mx include:_spf.root.test include:_spf.other.test "
                               "a:gone.root.test redirect=_r.root.test")
    rs.add("root.test", "TXT", "google-site-verification=not-spf")
    rs.add("root.test", "A", "192.0.2.1")
    rs.add("root.test", "MX", "10 mx.root.test.")
    rs.add("mx.root.test", "A", "192.0.2.2")
    rs.add("_spf.root.test", "TXT", "v=spf1 ip4:192.0.2.0/28 include:_spf.other.test -all")
    rs.add("_spf.other.test", "TXT", "v=spf1 exists:%{i}.bl.other.test ptr -all")
    rs.add("_r.root.test", "TXT", "v=spf1 ip6:2001:db8::/32 ~all")
    # An include loop.
    rs.add("loop1.test", "TXT", "v=spf1 include:loop2.test -all")
    rs.add("loop2.test", "TXT", "v=spf1 a include:loop1.test -all")
    # A child that times out.
    rs.add("slow.test", "TXT", "v=spf1 include:dead.test include:_r.root.test -all")
    # Big and split records.
    rs.add("big.test", "TXT", BIG)
    rs.add("split.test", "TXT", ["v=spf1 ip4:192.0.2.1 ", "include:_r.root.test", " -all"])
    # Broken nodes.
    rs.add("broken.test", "TXT", "v=spf1 include:two.test include:bad.test include:none.test "
                                 "mx:nomx.test ~all")
    rs.add("two.test", "TXT", "v=spf1 -all")
    rs.add("two.test", "TXT", "v=spf1 +all")
    rs.add("bad.test", "TXT", "v=spf1 ip4:192.0.2.300 -all")
    rs.add("nomx.test", "A", "192.0.2.9")
    # An ignored redirect.
    rs.add("allredirect.test", "TXT", "v=spf1 redirect=_spf.root.test -all")
    # Breadth for the prefetch timing test: four includes that never match.
    rs.add("wide.test", "TXT", "v=spf1 " + " ".join(f"include:w{i}.test" for i in range(4)) + " -all")
    for i in range(4):
        rs.add(f"w{i}.test", "TXT", f"v=spf1 ip4:203.0.113.{i} a:h{i}.test -all")
        rs.add(f"h{i}.test", "A", f"203.0.113.{100 + i}")
    return rs


@pytest.fixture(scope="module")
def lab() -> Iterator[LabDnsServer]:
    server = LabDnsServer(_records(), faults={"dead.test": Fault.TIMEOUT}).start()
    yield server
    server.stop()


def _client(server: LabDnsServer, timeout: float = 0.5) -> DnsClient:
    return DnsClient([Nameserver("127.0.0.1", server.port)], timeout=timeout)


def test_tree_counts_with_includes_redirect_and_void(lab: LabDnsServer) -> None:
    tree = asyncio.run(walk_spf(_client(lab), "Root.Test."))
    assert tree.domain == "root.test"
    assert tree.root is not None and tree.record is not None
    assert tree.root.records == (tree.root.parsed.text,)
    assert tree.root.children == ("_spf.root.test", "_spf.other.test", "_r.root.test")
    assert {n.domain for n in tree.nodes} == {"root.test", "_spf.root.test", "_spf.other.test", "_r.root.test"}
    # root 6 + _spf.root.test (1 + _spf.other.test 2) + _spf.other.test 2 + _r.root.test 0
    assert tree.lookup_count == 11
    assert tree.over_lookup_limit
    assert tree.void_count == 1
    assert tree.root.void_terms == ("a:gone.root.test",)
    assert tree.uses_ptr and tree.has_macros
    assert tree.complete and not tree.failures and not tree.loops
    mx_node = tree.root.target_answers
    assert any(a.name == "mx.root.test" and a.rdtype == "A" and a.ok for a in mx_node)


def test_loop_is_detected_and_over_the_limit(lab: LabDnsServer) -> None:
    tree = asyncio.run(walk_spf(_client(lab), "loop1.test"))
    assert tree.loops == ("loop1.test",)
    assert {n.domain for n in tree.nodes} == {"loop1.test", "loop2.test"}
    assert tree.lookup_count == 11  # a loop always runs past the limit
    assert tree.complete


def test_timeout_in_a_child_makes_counts_a_lower_bound(lab: LabDnsServer) -> None:
    tree = asyncio.run(walk_spf(_client(lab, timeout=0.3), "slow.test"))
    assert not tree.complete
    assert [(a.name, a.outcome) for a in tree.failures] == [("dead.test", Outcome.TIMEOUT)]
    assert tree.lookup_count == 2
    dead = tree.node("dead.test")
    assert dead is not None and dead.parsed is None and dead.answer.outcome is Outcome.TIMEOUT


def test_three_kilobyte_record(lab: LabDnsServer) -> None:
    tree = asyncio.run(walk_spf(_client(lab), "big.test"))
    assert tree.root is not None and tree.record is not None
    assert tree.root.records == (BIG,)
    assert len(BIG) > 3000
    assert tree.root.answer.tcp  # too big for UDP with EDNS 1232
    assert len(tree.record.mechanisms) == 151
    assert tree.lookup_count == 0 and tree.complete


def test_record_split_into_several_strings(lab: LabDnsServer) -> None:
    tree = asyncio.run(walk_spf(_client(lab), "split.test"))
    assert tree.record is not None
    assert tree.record.text == "v=spf1 ip4:192.0.2.1 include:_r.root.test -all"
    assert tree.root is not None and tree.root.children == ("_r.root.test",)
    assert tree.lookup_count == 1


def test_broken_nodes(lab: LabDnsServer) -> None:
    tree = asyncio.run(walk_spf(_client(lab), "broken.test"))
    assert tree.node("two.test").error == "multiple SPF records"  # type: ignore[union-attr]
    assert len(tree.node("two.test").records) == 2  # type: ignore[union-attr]
    assert tree.node("bad.test").error.startswith("syntax error")  # type: ignore[union-attr]
    none_node = tree.node("none.test")
    assert none_node is not None and none_node.answer.outcome is Outcome.NXDOMAIN
    # include:none.test (NXDOMAIN) and mx:nomx.test (no MX) are void.
    assert tree.root is not None
    assert set(tree.root.void_terms) == {"include:none.test", "mx:nomx.test"}
    assert tree.void_count == 2
    assert tree.lookup_count == 4
    assert tree.complete


def test_redirect_is_ignored_next_to_all(lab: LabDnsServer) -> None:
    tree = asyncio.run(walk_spf(_client(lab), "allredirect.test"))
    assert tree.root is not None and tree.root.children == ()
    assert tree.lookup_count == 0


def test_no_record_and_malformed_domain(lab: LabDnsServer) -> None:
    tree = asyncio.run(walk_spf(_client(lab), "nothing.test"))
    assert tree.root is not None and tree.record is None and tree.root.records == ()
    assert asyncio.run(walk_spf(_client(lab), "nolabel")).root is None


# -- check_host() on the same trees -------------------------------------------------------


def test_evaluation_meets_the_voids_the_walk_cannot_see(lab: LabDnsServer) -> None:
    """exists:%{i}... and ptr depend on the address: for one without PTR or blocklist entry
    they are void, twice over through the shared include, so the third void stops it."""
    evaluation = asyncio.run(check_host(_client(lab), "198.51.100.77", "root.test", "a@root.test"))
    assert evaluation.result is SpfResult.PERMERROR
    assert evaluation.problem.startswith("void lookup limit exceeded")
    # a, mx, include, include, exists, ptr, include (again), exists (again)
    assert evaluation.lookups == 8
    assert evaluation.void_lookups == 3
    assert evaluation.record is not None and evaluation.record.startswith("v=spf1 a mx")


def test_evaluation_through_include_and_trace(lab: LabDnsServer) -> None:
    evaluation = asyncio.run(check_host(_client(lab), "192.0.2.5", "root.test", "a@root.test"))
    assert evaluation.result is SpfResult.PASS
    assert evaluation.mechanism == "include:_spf.root.test"
    assert evaluation.lookups == 3 and evaluation.void_lookups == 0
    assert any("include:_spf.root.test -> pass" in step for step in evaluation.trace)
    assert any(a.name == "_spf.root.test" and a.rdtype == "TXT" for a in evaluation.answers)


def test_evaluation_temperror_names_the_failed_lookup(lab: LabDnsServer) -> None:
    client = _client(lab, timeout=0.3)
    evaluation = asyncio.run(check_host(client, "192.0.2.5", "slow.test", "", "slow.test"))
    assert evaluation.result is SpfResult.TEMPERROR
    assert evaluation.problem.startswith("DNS timeout on TXT dead.test")


def test_prefetch_overlaps_independent_includes() -> None:
    """Four includes that never match cost one round trip after the root's, not four; the
    counts are the same as without any prefetching."""
    latency = 0.1
    server = LabDnsServer(_records(), latency=latency).start()
    try:
        client = _client(server, timeout=2.0)
        started = time.perf_counter()
        evaluation = asyncio.run(check_host(client, "192.0.2.200", "wide.test", "x@wide.test"))
        elapsed = time.perf_counter() - started
    finally:
        server.stop()
    assert evaluation.result is SpfResult.FAIL
    assert evaluation.lookups == 8  # 4 includes + their 4 a: terms
    assert evaluation.void_lookups == 0
    assert evaluation.mechanism == "-all"
    # Sequential would be 1 + 4 * 2 round trips (0.9 s); prefetching gives about 3.
    assert elapsed < 6 * latency, elapsed


def test_walk_and_evaluation_agree_when_nothing_matches(lab: LabDnsServer) -> None:
    async def both() -> tuple[SpfTree, SpfEvaluation]:
        client = _client(lab)  # one client, one loop: the evaluation reuses the walk's answers
        tree = await walk_spf(client, "wide.test")
        return tree, await check_host(client, "192.0.2.200", "wide.test", "x@wide.test")

    tree, evaluation = asyncio.run(both())
    assert tree.lookup_count == evaluation.lookups == 8
    assert tree.void_count == evaluation.void_lookups == 0
