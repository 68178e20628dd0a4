"""Prints the ARC (RFC 8617) conformance score at the end of a pytest run.

Wired from tests/conftest.py next to the SPF report::

    from arc_conformance_report import arc_conformance_summary
    def pytest_terminal_summary(terminalreporter):
        arc_conformance_summary(terminalreporter)

As for SPF, the score is read from the reports pytest already keeps (``terminalreporter.stats``),
so it cannot drift from what pytest itself reports. Known deviations run as strict xfails and
are counted as such, never as passes.

The suite's reader lives here too (:func:`load_scenarios`), because the suite file repeats four
test names inside one scenario: a plain YAML load keeps only the last of each, so the test
module and this report must read the file the same way to agree on its size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from spf_conformance_report import conformance_counts

#: Node ids of the suite's items: one per validation test of the YAML suite.
NODE_PREFIX = "test_arc_conformance.py::test_arc_validation["
SUITE = Path(__file__).parent / "conformance" / "arc" / "arc-draft-validation-tests.yml"


class _KeepDuplicatesLoader(yaml.SafeLoader):
    """A safe loader that keeps a repeated mapping key as ``name#2`` instead of dropping the first.

    The ValiMail suite has four test names twice in "Arc Seal Fields" with different messages;
    the suite's own driver (plain ``yaml.safe_load_all``) silently runs only the second of each.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            value = self.construct_object(value_node, deep=deep)
            if key in mapping:
                n = 2
                while f"{key}#{n}" in mapping:
                    n += 1
                key = f"{key}#{n}"
            mapping[key] = value
        return mapping


_KeepDuplicatesLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _KeepDuplicatesLoader.construct_mapping
)


def load_scenarios(path: Path = SUITE) -> list[dict[str, Any]]:
    """The suite's scenarios (YAML documents), every test kept even where a name repeats."""
    with path.open("rb") as fh:
        return [doc for doc in yaml.load_all(fh, Loader=_KeepDuplicatesLoader) if doc]  # a SafeLoader subclass


def suite_size(path: Path = SUITE) -> int:
    """How many validation tests the YAML suite holds (so a partial run says it is partial)."""
    return sum(len(doc.get("tests") or {}) for doc in load_scenarios(path))


def arc_conformance_summary(terminalreporter: Any) -> None:
    """Write "ARC conformance: N/M passed" when the suite ran in this session."""
    counts = conformance_counts(terminalreporter.stats, NODE_PREFIX)
    ran = sum(counts.values())
    if not ran:
        return
    passed = counts.get("passed", 0)
    total = suite_size()
    others = ", ".join(
        f"{n} {'known deviations' if k == 'xfailed' else k}" for k, n in sorted(counts.items()) if k != "passed"
    )
    line = f"ARC conformance (ValiMail arc_test_suite, validation): {passed}/{total} passed"
    if ran != total:
        line += f" ({ran} run)"
    if others:
        line += f"; {others}"
    terminalreporter.write_sep("-", "ARC conformance")
    terminalreporter.write_line(line)
