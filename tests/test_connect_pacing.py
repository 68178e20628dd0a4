"""A pause between connections (collectors/pacing.py) for servers that limit how often a client connects.

The lab part runs the whole engine twice against a real Postfix behind anvil's connection rate
limit (10 per second and client, tests/lab/tls_lab.py): once with a pause, where every rule must
reach the verdict it reaches on the same Postfix without a limit, and once without, where what the
limit cut off must be "not tested" with the limit named, never a verdict. The pacer's arithmetic
and the inputs around it are tested without a network.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator

import pytest
from lab.bind import make_lab_root
from lab.mail_fixtures import require_mail_servers
from lab.mailservers import PORTS
from lab.tls_lab import RATE_LIMIT_PER_SECOND, TLS_LAB_ADDRESSES, start_rate_limited_postfix

from auditapp.audit.engine import EngineConfig, audit
from auditapp.cli.inputs import warn_about_run
from auditapp.cli.main import main as cli_main
from auditapp.collectors import pacing
from auditapp.collectors.probes.parsing import greeting_refusal, limits_connections
from auditapp.core.limits import connection_limited
from auditapp.core.model import Finding, Run, Status
from auditapp.core.project import Project, ProjectError
from auditapp.core.target import DEFAULT_PORTS, AuditTarget
from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.lab.dnsserver import LabDnsServer, RecordSet

LIMITED, UNLIMITED = "ratelimit.test", "tlsbsi.test"
#: Well below the limit (about 6.7 connections a second against 10), so a late accept on a busy
#: machine cannot push a second over it.
INTERVAL = 0.15


# -- the pacer itself (no network) ------------------------------------------------------------------


def test_slots_for_one_address_are_an_interval_apart_and_addresses_are_independent() -> None:
    pacer = pacing.Pacer(0.5)
    waits = [pacer.reserve("192.0.2.1") for _ in range(3)]
    assert waits[0] == 0.0
    assert waits[1] == pytest.approx(0.5, abs=0.05) and waits[2] == pytest.approx(1.0, abs=0.05)
    assert pacer.reserve("192.0.2.2") == 0.0  # another server does not wait for this one


def test_without_an_interval_nothing_waits() -> None:
    async def scenario() -> list[float]:
        with pacing.paced(0.0) as pacer:
            assert pacer is None
            return [await pacing.turn("192.0.2.1") for _ in range(5)]

    assert asyncio.run(scenario()) == [0.0] * 5


def test_waiting_for_a_turn_does_not_use_up_the_budget() -> None:
    """Five turns in a row, 0.1 s apart, wait 0.4 s inside a 0.25 s budget, and the budget does not expire."""
    async def scenario() -> tuple[list[float], bool]:
        with pacing.paced(0.1):
            async with pacing.budget(0.25) as cm:
                waits = [await pacing.turn("192.0.2.1") for _ in range(5)]
            return waits, cm.expired()

    waits, expired = asyncio.run(scenario())
    assert expired is False
    assert waits[0] == 0.0 and sum(waits) == pytest.approx(0.4, abs=0.05)


def test_two_tasks_waiting_side_by_side_move_the_deadline_once() -> None:
    """The deadline moves by the longer wait, not by the sum: the pause is spent in parallel."""
    async def scenario() -> tuple[float, list[float]]:
        with pacing.paced(0.2):
            async with pacing.budget(30.0) as cm:
                before = cm.when()
                assert before is not None
                waits = await asyncio.gather(*(pacing.turn("192.0.2.1") for _ in range(3)))
                after = cm.when()
                assert after is not None
                return after - before, list(waits)

    moved, waits = asyncio.run(scenario())
    assert moved == pytest.approx(max(waits), abs=1e-6)


def test_a_stalled_server_still_runs_out_of_budget_while_paced() -> None:
    """The budget exists for a server that stalls; pacing moves it only by the waits."""
    async def scenario() -> bool:
        with pacing.paced(0.05):
            try:
                async with pacing.budget(0.2):
                    await pacing.turn("192.0.2.1")
                    await pacing.turn("192.0.2.1")
                    await asyncio.sleep(5)  # the server that never answers
            except TimeoutError:
                return True
        return False

    assert asyncio.run(scenario()) is True


def test_a_task_that_outlives_its_budget_block_still_gets_its_turn() -> None:
    """A task started inside a budget inherits it; after the block has ended there is nothing to move."""
    async def scenario() -> float:
        with pacing.paced(0.05):
            async with pacing.budget(5.0):
                await pacing.turn("192.0.2.1")
                task = asyncio.create_task(pacing.turn("192.0.2.1"))
            return await task

    assert asyncio.run(scenario()) > 0


# -- how servers word a connection limit ---------------------------------------------------------------


@pytest.mark.parametrize("line", [
    "421 4.7.0 mx.example Error: too many connections from 192.0.2.1",  # Postfix anvil, postscreen
    "421 Too many concurrent SMTP connections from this IP address; please try again later.",  # Exim
    "421 4.3.2 Connection rate limit exceeded.",  # Sendmail
    "421 4.3.2 The maximum number of concurrent connections has exceeded a limit, closing transmission channel",
])
def test_connection_limits_are_recognised(line: str) -> None:
    assert limits_connections(line)
    problem = greeting_refusal(line)
    assert problem.key == "problem.connection_limit" and "--connect-interval" in str(problem)


@pytest.mark.parametrize("line", [
    "421 4.3.2 Service not available, closing transmission channel",  # shedding load: a pause does not help
    "554 5.7.1 Service unavailable; client host [192.0.2.1] blocked using zen.spamhaus.org",
    "* BYE Server shutting down",
])
def test_other_refusals_are_not_called_a_connection_limit(line: str) -> None:
    assert not limits_connections(line)
    assert greeting_refusal(line).key == "problem.greeting_refuses"


# -- the setting: project file, command line --------------------------------------------------------


def test_the_project_keeps_the_interval_and_refuses_nonsense() -> None:
    project = Project(name="x", domain="example.com", connect_interval=2.5)
    data = project.to_json()
    assert data["connect_interval"] == 2.5
    assert Project.from_json(data).to_target().connect_interval == 2.5
    assert "connect_interval" not in Project(name="x", domain="example.com").to_json()  # the default stays out
    for bad in (-1, 61, True, "2", float("nan")):
        with pytest.raises(ProjectError) as err:
            Project.from_json({**data, "connect_interval": bad})
        assert err.value.args[0].startswith("field connect_interval must be a number of seconds from 0 to 60")


def test_the_command_line_refuses_an_interval_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(["audit", "example.com", "--no-services", "--nameserver", "127.0.0.1:9",
                     "--connect-interval", "90"])
    assert code == 2
    assert "--connect-interval must be a number of seconds from 0 to 60" in capsys.readouterr().err


# -- against a real Postfix with a connection rate limit ----------------------------------------------


@pytest.fixture(scope="module")
def limited_postfix() -> Iterator[object]:
    require_mail_servers()
    root = make_lab_root()
    postfix = None
    try:
        postfix = start_rate_limited_postfix(root)
        yield postfix
    finally:
        if postfix is not None:
            postfix.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def dns() -> Iterator[LabDnsServer]:
    records = RecordSet()
    for domain, address in ((LIMITED, TLS_LAB_ADDRESSES["rate_limited"]), (UNLIMITED, TLS_LAB_ADDRESSES["bsi"])):
        records.add(domain, "MX", f"10 mx.{domain}.")
        records.add(f"mx.{domain}", "A", address)
    with LabDnsServer(records) as server:
        yield server


def _audit(dns: LabDnsServer, domain: str, interval: float) -> Run:
    # The lab's ports for the two services its Postfixes offer; the others are closed there.
    ports = {**DEFAULT_PORTS, "smtp": PORTS["smtp"], "submissions": PORTS["submissions"]}
    target = AuditTarget(domain=domain, dkim_selectors=(), dnsbl_zones=(), ports=ports, allow_internal=True,
                         connect_interval=interval)
    client = DnsClient([Nameserver("127.0.0.1", dns.port)], timeout=2.0)
    return asyncio.run(audit(target, client, EngineConfig(timeout=3.0, smtp_probe=False)))


@pytest.fixture(scope="module")
def runs(limited_postfix: object, tls_lab: object, dns: LabDnsServer) -> dict[str, Run]:
    """The paced run first: the unpaced one's burst would keep the limit hot for a second."""
    return {
        "paced": _audit(dns, LIMITED, INTERVAL),
        "unlimited": _audit(dns, UNLIMITED, 0.0),
        "unpaced": _audit(dns, LIMITED, 0.0),
    }


def _verdicts(run: Run) -> dict[tuple[str, str], tuple[str, str]]:
    """``{(rule, port): (status, outcome)}`` of the service and TLS rules (the address differs per server)."""
    return {(f.rule, f.subject.rsplit(":", 1)[-1] if ":" in f.subject else ""): (f.status.value, f.outcome)
            for f in run.findings if f.rule.startswith(("TLS-", "SMTP-", "STARTTLS-", "SUBMISSION-", "SERVICE-"))}


def test_paced_the_limited_server_gets_every_verdict_of_the_unlimited_one(runs: dict[str, Run]) -> None:
    paced, unlimited = _verdicts(runs["paced"]), _verdicts(runs["unlimited"])
    assert paced.keys() == unlimited.keys()
    differ = {key: (paced[key], unlimited[key]) for key in paced if paced[key] != unlimited[key]}
    assert differ == {}
    scanned = [f for f in runs["paced"].findings if f.rule == "TLS-WEAK-CIPHER"]
    assert [f.subject for f in scanned if f.status is Status.PASS] == [f"{TLS_LAB_ADDRESSES['rate_limited']}:"
                                                                        f"{PORTS['smtp']}"]  # the scan completed
    assert runs["paced"].target["connect_interval"] == INTERVAL  # recorded with the run


def _limit_named(f: Finding) -> bool:
    return "too many connections" in json.dumps(f.to_json()) and "connection_limit" in json.dumps(f.to_json())


def _cut(runs: dict[str, Run]) -> list[Finding]:
    """The unpaced run's results that differ from the paced run's."""
    paced, unpaced = _verdicts(runs["paced"]), _verdicts(runs["unpaced"])
    assert paced.keys() == unpaced.keys()
    changed = {key: unpaced[key] for key in unpaced if unpaced[key] != paced[key]}
    assert changed, f"the burst stayed under {RATE_LIMIT_PER_SECOND} connections a second"
    # The limit never turns into a verdict: a result either agrees with the paced run or is not tested.
    assert {status for status, _outcome in changed.values()} == {"not_tested"}
    return [f for f in runs["unpaced"].findings if (f.rule, f.subject.rsplit(":", 1)[-1]) in changed]


def test_unpaced_what_the_limit_cut_off_is_not_tested_and_says_why(runs: dict[str, Run]) -> None:
    cut = _cut(runs)
    assert cut and all(_limit_named(f) for f in cut), [f.reason for f in cut if not _limit_named(f)]
    assert "connect_interval" not in runs["unpaced"].target


def test_the_limit_is_said_once_per_server_also_after_a_project_round_trip(
        runs: dict[str, Run], capsys: pytest.CaptureFixture[str]) -> None:
    address, cut = TLS_LAB_ADDRESSES["rate_limited"], len(_cut(runs))
    assert connection_limited(runs["unpaced"]) == {address: cut}
    assert connection_limited(runs["paced"]) == {}
    saved = Run.from_json(json.loads(json.dumps(runs["unpaced"].to_json())))  # as a project file keeps it
    assert connection_limited(saved) == {address: cut}
    warn_about_run(runs["unpaced"], "en")
    err = capsys.readouterr().err
    assert (f"auditapp: warning: {address} refused connections because the audit connected too often; "
            f"{cut} results are not tested. Repeat with a pause between connections, e.g. --connect-interval 2") in err
    warn_about_run(runs["paced"], "en")
    assert "connected too often" not in capsys.readouterr().err


def test_the_report_scope_names_the_pause(runs: dict[str, Run]) -> None:
    from auditapp.report.model import build_report

    for lang, label, value in (("de", "Pause zwischen Verbindungen", "0,15 s je Server"),
                               ("en", "Pause between connections", "0.15 s per server")):
        scope = build_report(runs["paced"], lang=lang).section("scope").body
        facts = {fact.label: fact.value for fact in scope.facts}  # type: ignore[union-attr]
        assert facts[label].startswith(value)
    unpaced = build_report(runs["unpaced"], lang="en").section("scope").body
    assert "Pause between connections" not in {fact.label for fact in unpaced.facts}  # type: ignore[union-attr]
