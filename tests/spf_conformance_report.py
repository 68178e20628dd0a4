"""Prints the RFC 7208 conformance score at the end of a pytest run.

Wired from tests/conftest.py with::

    from spf_conformance_report import spf_conformance_summary
    def pytest_terminal_summary(terminalreporter):
        spf_conformance_summary(terminalreporter)

The score is read from the reports pytest already keeps (``terminalreporter.stats``), so the
tests need no shared counter and the number cannot drift from what pytest itself reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Node ids of the suite's items: one per test of the YAML suite.
NODE_PREFIX = "test_spf_conformance.py::test_rfc7208["
SUITE = Path(__file__).parent / "conformance" / "spf" / "rfc7208-tests.yml"


def suite_size(path: Path = SUITE) -> int:
    """How many tests the YAML suite holds (so a partial run says it is partial)."""
    import yaml

    with path.open("rb") as fh:
        return sum(len(doc.get("tests") or {}) for doc in yaml.safe_load_all(fh) if doc)


def conformance_counts(stats: dict[str, list[Any]], node_prefix: str = NODE_PREFIX) -> dict[str, int]:
    """Suite items per outcome ("passed", "failed", "xfailed", ...), each item counted once.

    Shared by every conformance suite's summary (``node_prefix`` picks the suite's tests).
    """
    seen: dict[str, str] = {}
    for outcome in ("error", "failed", "xpassed", "xfailed", "skipped", "passed"):
        for report in stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if node_prefix in nodeid:
                seen.setdefault(nodeid, outcome)  # a setup error outranks a later pass
    counts: dict[str, int] = {}
    for outcome in seen.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def spf_conformance_summary(terminalreporter: Any) -> None:
    """Write "SPF conformance: N/M passed" when the suite ran in this session."""
    counts = conformance_counts(terminalreporter.stats)
    ran = sum(counts.values())
    if not ran:
        return
    passed = counts.get("passed", 0)
    total = suite_size()
    others = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()) if k != "passed")
    line = f"SPF conformance (RFC 7208 test suite): {passed}/{total} passed"
    if ran != total:
        line += f" ({ran} run)"
    if others:
        line += f"; {others}"
    terminalreporter.write_sep("-", "SPF conformance")
    terminalreporter.write_line(line)
