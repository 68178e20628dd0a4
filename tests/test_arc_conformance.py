"""The ValiMail ARC test suite (validation half), run through verify_arc() against a real DNS responder.

The suite (``tests/conformance/arc/``, copied unchanged, MIT licence, see ``SOURCE``) was
prototyped from the openspf suite: each YAML document is a scenario with ``txt-records`` (the
key records) and tests, each a message and the expected chain validation status ``cv``
(Pass/Fail/None). As for SPF, every scenario's records are served by one LabDnsServer and
each message is verified over the wire by :func:`auditapp.message.verify.verify_arc`, the
function ``auditapp message`` uses: our DnsClient, the prefetch, dkimpy's ``arc_verify`` with
our ``dnsfunc`` and ``minkey``, and our mapping of its answer to pass/fail/none/temperror.

Conventions, following the suite's reference driver (``testarc.py`` with
``runners/validatedkimpy.py``):

* the message is the YAML string as written (LF line ends), encoded as UTF-8, as the driver
  writes it to the file its runner reads;
* a ``txt-records`` value is one TXT record; values over 255 octets are split into several
  character-strings, as the driver's zone does (our RecordSet does the same);
* the comparison ignores case (``Pass`` against our ``pass``).

Where we read the file differently from the driver: four test names occur twice in the "Arc
Seal Fields" scenario with different messages. The driver's plain YAML load runs only the
second of each; we run both, the first under its name and the second as ``name#2`` (see
``arc_conformance_report.load_scenarios``), so 175 tests rather than 171.

Keys: the suite signs with 1024-bit RSA keys (and one 2048-bit), which our RFC 8301 minimum
(``MIN_RSA_BITS``, 1024) accepts; its one 512-bit key is in ``as_fields_b_512``, which expects
Fail, and fails here because of the minimum (it would pass with ``minkey=0``).

Cases whose expectation we deliberately do not meet are listed in :data:`KNOWN_DEVIATIONS`
with the reason, and run as strict xfails: they are counted apart in the score, and one that
starts to pass fails the run, so the list cannot go stale.

Out of scope: the signing suite (``arc-draft-sign-tests.yml``, copied alongside so the suite is
complete). auditapp verifies received messages and never seals or signs one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from arc_conformance_report import SUITE, load_scenarios

from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.lab.dnsserver import LabDnsServer, RecordSet
from auditapp.message.verify import MIN_RSA_BITS, ArcResult, verify_arc

#: The lab answers in well under a millisecond; a short timeout keeps a broken case quick.
DNS_TIMEOUT = 1.0

#: Why the three ``cv: |`` cases differ: the suite (since its draft-05 update, commit ee6cf45)
#: expects an empty status, which is what its dkimpy runner prints when ``arc_verify`` returns
#: ``None`` for a seal with cv=fail. RFC 8617 §5.2 says "fail"; we say "fail".
_CV_FAIL = "suite expects no status (dkimpy's None); RFC 8617 §5.2 {step}: the chain fails, and we say fail"

#: Suite cases we deliberately answer differently, with the reason (ids as in the test ids).
#: Each runs as a strict xfail that only a :class:`SuiteMismatch` satisfies, and our own answer
#: ("fail", :data:`DEVIATION_RESULT`) is asserted first, so a deviation cannot drift into another.
KNOWN_DEVIATIONS: dict[str, str] = {
    "chain-validation/cv_fail_i1_as_cv_fail": _CV_FAIL.format(step="step 2 (the highest seal says cv=fail)"),
    "chain-validation/cv_fail_i2_as2_fail": _CV_FAIL.format(step="step 2 (the highest seal says cv=fail)"),
    "chain-validation/cv_fail_i2_as1_fail": _CV_FAIL.format(step="step 3.3 (no seal may say cv=fail)"),
}
#: What we answer in every known deviation.
DEVIATION_RESULT = "fail"


class SuiteMismatch(AssertionError):
    """Our result differs from the suite's ``cv``: the only failure a known deviation may show."""


@dataclass(frozen=True)
class Case:
    scenario: int
    id: str
    description: str
    message: bytes
    #: The suite's expected chain validation status, lower-case ("" where the suite leaves it empty).
    cv: str


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def load_cases(scenarios: list[dict[str, Any]]) -> list[Case]:
    cases: list[Case] = []
    for index, scenario in enumerate(scenarios):
        for name, test in scenario["tests"].items():
            cases.append(Case(
                scenario=index,
                id=f"{_slug(scenario['description'])}/{name}",
                description=str(test.get("description") or ""),
                message=str(test.get("message") or "").encode("utf-8"),
                cv=str(test.get("cv") or "").strip().lower(),
            ))
    return cases


def build_records(txt_records: dict[str, str]) -> RecordSet:
    """One TXT record per ``txt-records`` entry, as the suite's driver serves them."""
    records = RecordSet()
    for owner, value in txt_records.items():
        records.add(str(owner), "TXT", str(value))
    return records


SCENARIOS = load_scenarios(SUITE)
CASES = load_cases(SCENARIOS)


def _params() -> list[Any]:
    params = []
    for case in CASES:
        reason = KNOWN_DEVIATIONS.get(case.id)
        marks = [pytest.mark.xfail(strict=True, raises=SuiteMismatch, reason=reason)] if reason else []
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


@pytest.fixture(scope="module")
def lab_for() -> Iterator[Callable[[int], LabDnsServer]]:
    """One lab DNS server per scenario, started on first use, all stopped at the end."""
    started: dict[int, LabDnsServer] = {}

    def get(index: int) -> LabDnsServer:
        if index not in started:
            started[index] = LabDnsServer(build_records(SCENARIOS[index].get("txt-records") or {})).start()
        return started[index]

    yield get
    for server in started.values():
        server.stop()


async def _verify(port: int, case: Case) -> ArcResult:
    client = DnsClient([Nameserver("127.0.0.1", port)], timeout=DNS_TIMEOUT)
    return await verify_arc(case.message, client)


def test_suite_is_complete() -> None:
    """Guards the copy in tests/conformance/arc (commit f137dcb of ValiMail/arc_test_suite)."""
    assert len(SCENARIOS) == 10
    assert len(CASES) == 175
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.cv for c in CASES} == {"pass", "fail", "none", ""}
    assert {c.id for c in CASES if not c.cv} == set(KNOWN_DEVIATIONS)
    signing = load_scenarios(SUITE.with_name("arc-draft-sign-tests.yml"))  # out of scope, but must stay whole
    assert (len(signing), sum(len(s["tests"]) for s in signing)) == (2, 17)


def test_deviations_are_suite_cases() -> None:
    """Every listed deviation names a case that exists, so a typo cannot hide a failure."""
    assert set(KNOWN_DEVIATIONS) <= {c.id for c in CASES}


def test_minimum_key_size_is_ours() -> None:
    """The suite is run with the verifier's own RSA minimum, not one lowered for the suite."""
    assert MIN_RSA_BITS == 1024


@pytest.mark.parametrize("case", _params())
def test_arc_validation(case: Case, lab_for: Callable[[int], LabDnsServer]) -> None:
    server = lab_for(case.scenario)
    result = asyncio.run(_verify(server.port, case))
    details = f"{case.description}: got {result.result} ({result.reason}), instances={result.instances}"
    if case.id in KNOWN_DEVIATIONS:
        assert result.result == DEVIATION_RESULT, details  # a plain AssertionError: not excused by the xfail
    if result.result != case.cv:
        raise SuiteMismatch(f"suite expects {case.cv or 'no status'!r}; {details}")
