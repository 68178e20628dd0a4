"""DnsClient against the faults no real server produces on purpose.

The promise under test (see :mod:`auditapp.dnsclient`): every question ends in an
:class:`Outcome`, failures carry a human-readable ``reason``, and nothing raises, hangs or
turns a broken resolver into "record missing". The faults come from
:class:`auditapp.lab.dnsserver.LabDnsServer`, which runs in a thread on a free port.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from auditapp.dnsclient import DnsAnswer, DnsClient, Nameserver, Outcome, parse_nameserver
from auditapp.lab.dnsserver import Fault, LabDnsServer, RecordSet

REPO = Path(__file__).resolve().parent.parent

#: Generous scheduling slack on top of the client's own budget (loaded CI machines).
SLACK_MS = 750.0

#: One SPF record of about 3 kB: more than a 1232-byte EDNS UDP answer holds.
BIG_SPF = "v=spf1 " + " ".join(f"ip4:198.51.100.{i}/32" for i in range(1, 141)) + " -all"

SPLIT_SPF: list[str | bytes] = ["v=spf1 include:_spf.exam", "ple.net ip4:192.0.2.0/24 -all"]


def build_records() -> RecordSet:
    rs = RecordSet()
    rs.add("www.lab.test", "A", "192.0.2.10")
    rs.add("tc.lab.test", "A", "192.0.2.20")
    rs.add("split.lab.test", "TXT", SPLIT_SPF)
    rs.add("bigspf.lab.test", "TXT", BIG_SPF)
    rs.add("sel1._domainkey.lab.test", "TXT", "v=DKIM1; k=rsa; p=MIIB")
    # two CNAME hops to the address
    rs.add("alias.lab.test", "CNAME", "hop1.lab.test.")
    rs.add("hop1.lab.test", "CNAME", "target.lab.test.")
    rs.add("target.lab.test", "A", "192.0.2.30")
    # a CNAME loop
    rs.add("loop-a.lab.test", "CNAME", "loop-b.lab.test.")
    rs.add("loop-b.lab.test", "CNAME", "loop-a.lab.test.")
    # several PTR records for one address (shared hosting does this)
    for host in ("a", "b", "c"):
        rs.add("1.2.0.192.in-addr.arpa", "PTR", f"{host}.lab.test.")
    # names that exist, so the faults below have a real answer to mangle
    for name in ("garbage", "short", "cut", "sf", "slow"):
        rs.add(f"{name}.lab.test", "A", "192.0.2.40")
    return rs


FAULTS: dict[str | tuple[str, str], Fault] = {
    "timeout.lab.test": Fault.TIMEOUT,
    "servfail.lab.test": Fault.SERVFAIL,
    "refused.lab.test": Fault.REFUSED,
    "tc.lab.test": Fault.TRUNCATE,
    "garbage.lab.test": Fault.GARBAGE,
    "short.lab.test": Fault.SHORT,
    "cut.lab.test": Fault.CUT,  # an answer, half of it cut off
    "cut-empty.lab.test": Fault.CUT,  # no answer records, but the header promises three
    "slow.lab.test": Fault.TIMEOUT,
}


@pytest.fixture(scope="module")
def server() -> Iterator[LabDnsServer]:
    with LabDnsServer(build_records(), faults=FAULTS) as srv:
        yield srv


def run[T](coro: Coroutine[Any, Any, T]) -> T:
    """Run one scenario with a hard ceiling, so a hang fails the test instead of the run."""
    return asyncio.run(asyncio.wait_for(coro, timeout=10))


def client_for(*servers: LabDnsServer, timeout: float = 2.0, per_try: float = 1.0) -> DnsClient:
    return DnsClient([Nameserver(s.host, s.port) for s in servers], timeout=timeout, per_try=per_try)


def ask(srv: LabDnsServer, name: str, rdtype: str, **kwargs: float) -> DnsAnswer:
    return run(client_for(srv, **kwargs).query(name, rdtype))


def sent_to(srv: LabDnsServer, name: str) -> int:
    """How many questions for ``name`` reached the server (UDP and TCP)."""
    return sum(1 for qname, _, _ in srv.log if qname == name)


def assert_failure(answer: DnsAnswer, outcome: Outcome) -> None:
    assert answer.outcome is outcome, answer
    assert answer.outcome.is_failure
    assert answer.reason.startswith(f"{answer.rdtype} {answer.name}: "), answer.reason
    assert answer.records == ()


# -- failures ------------------------------------------------------------------------------


def test_timeout_ends_within_the_client_budget(server: LabDnsServer) -> None:
    client = client_for(server, timeout=0.3, per_try=0.1)
    answer = run(client.query("timeout.lab.test", "A"))
    assert_failure(answer, Outcome.TIMEOUT)
    assert "did not answer in time" in answer.reason
    assert answer.detail == "no answer within 0.3 s"
    # The budget covers the retries: the client reports giving up at its deadline, not
    # after per-try timeouts times the number of tries.
    assert answer.elapsed_ms <= 300 + SLACK_MS
    assert client.counter.sent >= 1


@pytest.mark.parametrize(
    ("name", "outcome", "words"),
    [
        ("servfail.lab.test", Outcome.SERVFAIL, "SERVFAIL"),
        ("refused.lab.test", Outcome.REFUSED, "REFUSED"),
    ],
)
def test_error_rcodes_are_failures_not_missing_records(
    server: LabDnsServer, name: str, outcome: Outcome, words: str
) -> None:
    answer = ask(server, name, "TXT")
    assert_failure(answer, outcome)
    assert not answer.outcome.is_void
    assert words in answer.reason


@pytest.mark.parametrize("name", ["garbage.lab.test", "short.lab.test", "cut.lab.test", "cut-empty.lab.test"])
def test_malformed_answers(server: LabDnsServer, name: str) -> None:
    answer = ask(server, name, "A")
    assert_failure(answer, Outcome.MALFORMED)
    assert "malformed" in answer.reason
    assert answer.detail  # the parser's complaint, for the evidence section


def test_cname_loop_is_an_error_not_a_hang(server: LabDnsServer) -> None:
    answer = ask(server, "loop-a.lab.test", "A")
    assert_failure(answer, Outcome.ERROR)
    assert "CNAME" in answer.reason


@pytest.mark.parametrize("fault", [Fault.TRUNCATE, None])
def test_truncated_answer_without_tcp_is_a_failure(fault: Fault | None) -> None:
    """A server without TCP cannot deliver a truncated answer: a failure with a reason."""
    records = build_records()
    name = "tc.lab.test" if fault else "bigspf.lab.test"
    faults: dict[str | tuple[str, str], Fault] = {name: fault} if fault else {}
    with LabDnsServer(records, tcp=False, faults=faults) as srv:
        answer = ask(srv, name, "A" if fault else "TXT", timeout=0.3, per_try=0.2)
    assert_failure(answer, Outcome.ERROR)
    assert "refused" in answer.reason.lower()


# -- answers that need care ----------------------------------------------------------------


def test_truncated_udp_answer_is_retried_over_tcp(server: LabDnsServer) -> None:
    answer = ask(server, "tc.lab.test", "A")
    assert answer.outcome is Outcome.OK, answer.reason
    assert answer.tcp
    assert answer.records == ("192.0.2.20",)
    assert answer.reason == ""


def test_txt_strings_are_concatenated_without_spaces(server: LabDnsServer) -> None:
    """RFC 7208 §3.3: the strings of one TXT record are joined with nothing in between."""
    answer = ask(server, "split.lab.test", "TXT")
    assert answer.outcome is Outcome.OK, answer.reason
    assert answer.records == ('"v=spf1 include:_spf.exam" "ple.net ip4:192.0.2.0/24 -all"',)
    assert answer.texts == ("v=spf1 include:_spf.example.net ip4:192.0.2.0/24 -all",)


def test_big_spf_record_arrives_intact_over_tcp(server: LabDnsServer) -> None:
    assert len(BIG_SPF) > 2900
    answer = ask(server, "bigspf.lab.test", "TXT")
    assert answer.outcome is Outcome.OK, answer.reason
    assert answer.tcp
    assert answer.texts == (BIG_SPF,)


def test_cname_chain_of_two_hops(server: LabDnsServer) -> None:
    answer = ask(server, "alias.lab.test", "A")
    assert answer.outcome is Outcome.OK, answer.reason
    assert answer.records == ("192.0.2.30",)
    assert answer.chain == ("hop1.lab.test", "target.lab.test")
    assert "alias.lab.test A -> hop1.lab.test -> target.lab.test" in answer.evidence()


def test_multiple_ptr_records_are_all_returned(server: LabDnsServer) -> None:
    answer = run(client_for(server).reverse("192.0.2.1"))
    assert answer.outcome is Outcome.OK, answer.reason
    assert sorted(answer.records) == ["a.lab.test.", "b.lab.test.", "c.lab.test."]


@pytest.mark.parametrize(
    ("name", "rdtype", "outcome"),
    [
        ("missing.lab.test", "A", Outcome.NXDOMAIN),
        ("www.lab.test", "AAAA", Outcome.NODATA),  # the name exists, the type does not
        ("_domainkey.lab.test", "TXT", Outcome.NODATA),  # empty non-terminal: exists
        ("nothing.www.lab.test", "TXT", Outcome.NXDOMAIN),
    ],
)
def test_nxdomain_and_nodata_are_distinguished(
    server: LabDnsServer, name: str, rdtype: str, outcome: Outcome
) -> None:
    answer = ask(server, name, rdtype)
    assert answer.outcome is outcome
    assert answer.outcome.is_void and not answer.outcome.is_failure
    assert answer.reason == ""
    assert answer.records == ()


# -- single-flight cache -------------------------------------------------------------------


def test_concurrent_identical_questions_are_sent_once() -> None:
    """Latency makes the two questions overlap for real; the server must see one."""
    with LabDnsServer(build_records(), latency=0.05) as srv:
        client = client_for(srv)

        async def scenario() -> list[DnsAnswer]:
            # Same question, spelled differently: names are case-insensitive, the root dot optional.
            return await client.query_many([("www.lab.test", "A"), ("WWW.Lab.Test.", "A")])

        first, second = run(scenario())
        again = run(client.query("www.lab.test", "a"))
    assert first.outcome is Outcome.OK and first.records == ("192.0.2.10",)
    assert second == first and again == first
    assert srv.log == [("www.lab.test", "A", "")]
    assert srv.queries == 1
    assert (client.counter.sent, client.counter.cached) == (1, 2)


def test_single_flight_waiter_survives_a_cancelled_owner(server: LabDnsServer) -> None:
    """One check giving up (wait_for, a closed window) must not cancel other checks."""
    client = client_for(server, timeout=0.3, per_try=0.3)

    async def scenario() -> DnsAnswer | str:
        owner = asyncio.create_task(client.query("slow.lab.test", "A"))
        await asyncio.sleep(0.02)  # the owner's question is on the wire (and never answered)
        waiter = asyncio.create_task(client.query("slow.lab.test", "A"))
        await asyncio.sleep(0.02)  # the waiter is parked on the shared future
        owner.cancel()
        try:
            return await waiter
        except asyncio.CancelledError:
            return "the waiter was cancelled although nobody cancelled it"

    answer = run(scenario())
    assert isinstance(answer, DnsAnswer), answer
    assert answer.outcome is Outcome.TIMEOUT


def test_malformed_from_every_nameserver_is_not_retried_in_a_loop() -> None:
    faults: dict[str | tuple[str, str], Fault] = {"short.lab.test": Fault.SHORT}
    with (
        LabDnsServer(build_records(), faults=faults) as one,
        LabDnsServer(build_records(), faults=faults) as two,
    ):
        answer = run(client_for(one, two, timeout=0.3, per_try=0.3).query("short.lab.test", "A"))
    assert_failure(answer, Outcome.MALFORMED)  # this part holds already
    sent = one.queries + two.queries
    assert sent <= 2, f"{sent} queries in 0.3 s for one question"


# -- the lab responder itself --------------------------------------------------------------


def _garbage_bytes(hash_seed: str) -> str:
    code = (
        "import dns.message\n"
        "from auditapp.lab.dnsserver import Fault, LabDnsServer, RecordSet\n"
        "srv = LabDnsServer(RecordSet(), faults={'g.lab.test': Fault.GARBAGE})\n"
        "print(srv.answer(dns.message.make_query('g.lab.test', 'A').to_wire(), over_tcp=False).hex())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_garbage_is_the_same_on_every_run() -> None:
    """Reproducible faults: today about half the runs set the TC bit and go through TCP."""
    assert _garbage_bytes("1") == _garbage_bytes("2")


# -- parse_nameserver ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", Nameserver("127.0.0.1", 53)),
        ("127.0.0.1:5300", Nameserver("127.0.0.1", 5300)),
        ("[::1]:5300", Nameserver("::1", 5300)),
        ("::1", Nameserver("::1", 53)),
        ("[::1]", Nameserver("::1", 53)),
        (" 192.0.2.53 ", Nameserver("192.0.2.53", 53)),
    ],
)
def test_parse_nameserver(text: str, expected: Nameserver) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("example.com", "not an IP address"),
        ("1.2.3.4:99999", "bad port '99999'"),
        ("1.2.3.4:0", "bad port"),
        ("1.2.3.4:", "bad port"),
        ("[::1", "missing ']'"),
        ("[::1]5300", "invalid nameserver"),
    ],
)
def test_parse_nameserver_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_nameserver(text)


def test_nameserver_round_trips_through_its_text_form() -> None:
    for ns in (Nameserver("127.0.0.1", 5300), Nameserver("::1", 5300), Nameserver("192.0.2.1")):
        assert parse_nameserver(str(ns)) == ns


def test_a_failed_answer_is_reused_briefly_then_asked_again() -> None:
    """Within an audit a failure is not paid twice; a batch later asks again (one lost packet
    must not spoil every later domain that shares the name)."""
    rs = RecordSet()
    rs.add("flaky.example", "TXT", "v=spf1 -all")
    with LabDnsServer(rs, faults={"flaky.example": Fault.SERVFAIL}) as lab:
        client = DnsClient([Nameserver(lab.host, lab.port)], timeout=0.5, failure_ttl=0.2)

        async def ask_three_times() -> tuple[Outcome, Outcome, Outcome]:
            first = await client.query("flaky.example", "TXT")
            lab.faults = {}
            second = await client.query("flaky.example", "TXT")  # within failure_ttl: reused
            await asyncio.sleep(0.3)
            third = await client.query("flaky.example", "TXT")
            return first.outcome, second.outcome, third.outcome

        assert asyncio.run(ask_three_times()) == (Outcome.SERVFAIL, Outcome.SERVFAIL, Outcome.OK)


def test_the_cache_is_bounded() -> None:
    rs = RecordSet()
    for i in range(30):
        rs.add(f"n{i}.example", "A", f"192.0.2.{i}")
    with LabDnsServer(rs) as lab:
        client = DnsClient([Nameserver(lab.host, lab.port)], timeout=0.5, max_cached=10)

        async def ask_all() -> int:
            for i in range(30):
                assert (await client.query(f"n{i}.example", "A")).ok
            before = lab.queries
            await client.query("n0.example", "A")  # evicted: asked again
            await client.query("n29.example", "A")  # recent: from the cache
            return lab.queries - before

        assert asyncio.run(ask_all()) == 1
