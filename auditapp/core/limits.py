"""Which servers refused the audit for connecting too often, and how many results that cost.

A connection limit is the one refusal the auditor can avoid alone, with a pause between
connections (collectors/pacing.py). Its results say so one by one; this module counts them per
server so that the CLI and the window can say it once, where a person looks first. The results
carry the refusal as a message key (``problem.connection_limit``, possibly inside another problem,
``reason.connection_limit`` for the banner), also after a project file's round trip.
"""

from __future__ import annotations

from collections.abc import Mapping

from auditapp.core.model import Run, Status
from auditapp.core.problem import Problem

LIMIT_KEYS = frozenset({"problem.connection_limit", "reason.connection_limit"})


def _carries(value: object) -> bool:
    if isinstance(value, Problem):
        return value.key in LIMIT_KEYS or any(_carries(v) for v in value.params.values())
    return False


def connection_limited(run: Run) -> Mapping[str, int]:
    """``{server address: results not tested because it limited connections}``, in subject order."""
    out: dict[str, int] = {}
    for f in run.findings:
        if f.status is not Status.NOT_TESTED or f.reason is None:
            continue
        if f.reason.key in LIMIT_KEYS or any(_carries(v) for v in f.reason.params.values()):
            address = f.subject.rsplit(":", 1)[0].strip("[]") if ":" in f.subject else f.subject
            out[address] = out.get(address, 0) + 1
    return dict(sorted(out.items()))
