"""The openspf RFC 7208 test suite, run through check_host() against a real DNS responder.

Each YAML document is a scenario: zone data plus tests. We serve the zone data with one
LabDnsServer per scenario and evaluate every test over the wire, so the DNS client (CNAMEs,
timeouts, TXT string glueing, odd bytes) is exercised exactly as in production.

The zone data follows the conventions of the suite's reference driver (pyspf's testspf.py):

* ``SPF`` records are copied to ``TXT`` for names that list no ``TXT`` record themselves
  (RFC 7208 dropped type SPF; the suite still writes most records as SPF);
* ``TXT: NONE`` means "this name has no TXT record" (and so stops that copying);
* ``TIMEOUT`` makes the name silent for every record type not listed before it in the
  entry list (so ``TXT: ...`` then ``TIMEOUT`` answers TXT and times out on the rest);
* a TXT/SPF value given as a list is one record with several strings; the empty list (a
  record with no strings, which DNS cannot carry) is served as one empty string, which is
  what the test means: a non-SPF record that must not crash anything;
* ``\\xNN`` escapes in the YAML strings are raw octets (latin-1), so ``"\\xEF\\xBB\\xBF"`` is
  a UTF-8 byte-order mark and ``"\\x80"`` / ``"\\x96"`` are invalid UTF-8, as intended;
* ``explanation: DEFAULT`` means "the implementation's default": we give no explanation
  when no exp= applies, so it is compared with the empty string.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.name
import pytest
import yaml

from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.lab.dnsserver import Fault, LabDnsServer, RecordSet
from auditapp.spf import SpfEvaluation, check_host

SUITE = Path(__file__).parent / "conformance" / "spf" / "rfc7208-tests.yml"
#: Short, so the suite's TIMEOUT cases cost little; the lab answers in well under a millisecond.
DNS_TIMEOUT = 0.3
#: Record types a TIMEOUT entry silences (those the evaluator can ask for, and then some).
_TYPES = ("A", "AAAA", "MX", "TXT", "SPF", "PTR", "CNAME")


@dataclass(frozen=True)
class Case:
    scenario: int
    id: str
    host: str
    mailfrom: str
    helo: str
    results: tuple[str, ...]
    explanation: str | None

    @property
    def domain(self) -> str:
        """The identity check_host() checks: MAIL FROM's domain, or the HELO for ``<>``."""
        return self.mailfrom.rpartition("@")[2] if self.mailfrom else self.helo


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def load_suite(path: Path = SUITE) -> tuple[list[dict[str, Any]], list[Case]]:
    with path.open("rb") as fh:
        scenarios = [doc for doc in yaml.safe_load_all(fh) if doc]
    cases: list[Case] = []
    for index, scenario in enumerate(scenarios):
        for name, test in scenario["tests"].items():
            result = test["result"]
            results = tuple(result) if isinstance(result, list) else (result,)
            explanation = test.get("explanation")
            cases.append(Case(
                scenario=index,
                id=f"{_slug(scenario['description'])}/{name}",
                host=str(test["host"]),
                mailfrom=str(test.get("mailfrom") or ""),
                helo=str(test.get("helo") or ""),
                results=tuple(str(r) for r in results),
                explanation=None if explanation is None else str(explanation),
            ))
    return scenarios, cases


def _owner(name: str) -> str:
    """The key the lab server will look the name up by (escaped like a query's qname)."""
    return dns.name.from_text(str(name)).to_text(omit_final_dot=True).lower()


def _absolute(host: str) -> str:
    host = str(host)
    return "." if not host else (host if host.endswith(".") else host + ".")


def _txt_value(value: Any) -> str | bytes | list[str | bytes]:
    def octets(s: Any) -> str | bytes:
        s = str(s)
        try:
            s.encode("latin-1")
        except UnicodeEncodeError:
            return s.encode("utf-8")
        return s

    if isinstance(value, list):
        return [octets(v) for v in value] or [""]
    return octets(value)


def _add(records: RecordSet, owner: str, rtype: str, value: Any) -> None:
    if rtype in ("TXT", "SPF"):
        records.add(owner, rtype, _txt_value(value))
    elif rtype == "MX":
        preference, host = value
        records.add(owner, "MX", f"{preference} {_absolute(host)}")
    elif rtype in ("PTR", "CNAME"):
        records.add(owner, rtype, _absolute(value))
    else:
        records.add(owner, rtype, str(value))


def build_zone(zonedata: dict[str, list[Any]]) -> tuple[RecordSet, dict[str | tuple[str, str], Fault]]:
    """Records and faults for one scenario, following the reference driver (module doc)."""
    records = RecordSet()
    faults: dict[str | tuple[str, str], Fault] = {}
    for raw_owner, entries in zonedata.items():
        owner = _owner(raw_owner)
        has_txt = any(isinstance(e, dict) and "TXT" in e for e in entries)
        answered: set[str] = set()
        timeout_at: set[str] | None = None
        for entry in entries:
            if entry == "TIMEOUT":
                if timeout_at is None:
                    timeout_at = set(answered)
                continue
            for rtype, value in entry.items():
                if value == "NONE":
                    continue
                _add(records, owner, rtype, value)
                answered.add(rtype)
                if rtype == "SPF" and not has_txt:
                    _add(records, owner, "TXT", value)  # generated: after any TIMEOUT, as in the driver
        if timeout_at is not None:
            if not timeout_at:
                faults[owner] = Fault.TIMEOUT
            for rtype in _TYPES:
                if rtype not in timeout_at:
                    faults[(owner, rtype)] = Fault.TIMEOUT
    return records, faults


SCENARIOS, CASES = load_suite()


@pytest.fixture(scope="module")
def lab_for() -> Iterator[Callable[[int], LabDnsServer]]:
    """One lab DNS server per scenario, started on first use, all stopped at the end."""
    started: dict[int, LabDnsServer] = {}

    def get(index: int) -> LabDnsServer:
        if index not in started:
            records, faults = build_zone(SCENARIOS[index].get("zonedata") or {})
            started[index] = LabDnsServer(records, faults=faults).start()
        return started[index]

    yield get
    for server in started.values():
        server.stop()


async def _evaluate(port: int, case: Case) -> SpfEvaluation:
    client = DnsClient([Nameserver("127.0.0.1", port)], timeout=DNS_TIMEOUT)
    return await check_host(client, case.host, case.domain, case.mailfrom, case.helo)


def test_suite_is_complete() -> None:
    """Guards the copy in tests/conformance/spf: the 2014.04 suite (with 2019.08 additions)."""
    assert len(SCENARIOS) == 16
    assert len(CASES) == 203
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rfc7208(case: Case, lab_for: Callable[[int], LabDnsServer]) -> None:
    server = lab_for(case.scenario)
    evaluation = asyncio.run(_evaluate(server.port, case))
    details = "\n".join([f"problem: {evaluation.problem}", *evaluation.trace])
    assert evaluation.result.value in case.results, details
    if case.explanation is not None:
        expected = "" if case.explanation == "DEFAULT" else case.explanation
        assert evaluation.explanation == expected, details
