"""The "not tested" list of the scope section, merged by reason.

A DNS-only run leaves some twenty service rules "not probed in this run": one fact, which a
table of twenty identical rows hid instead of telling (issue 14). Kept apart from
:mod:`auditapp.report.model` so the rule for what counts as "the same reason" is in one short,
testable place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from auditapp.core.model import Status
from auditapp.report.document import NotTestedGroup, NotTestedItem


def group_not_tested(items: Sequence[NotTestedItem], count_label: Callable[[int], str]) -> tuple[NotTestedGroup, ...]:
    """Untested results with the same status and the same words of reason as one group, largest first.

    The reason is compared as rendered (what a reader sees), so two rules skipped for the same
    cause merge while "DNS query TXT a failed" and "... TXT b failed" stay apart. Within a group
    rules keep the order of ``items`` (report order); between groups the largest comes first,
    then report order. ``count_label(n)`` words the size ("22 checks").
    """
    groups: dict[tuple[Status, str], list[NotTestedItem]] = {}
    for item in items:
        groups.setdefault((item.status, str(item.reason)), []).append(item)
    out = []
    for members in sorted(groups.values(), key=lambda g: -len(g)):  # stable: report order on a tie
        rules = tuple(dict.fromkeys(i.rule for i in members))
        titles = tuple(next(i.title for i in members if i.rule == r) for r in rules)
        out.append(NotTestedGroup(
            rules=rules, titles=titles, subjects=tuple(dict.fromkeys(i.subject for i in members)),
            status=members[0].status, status_label=members[0].status_label, reason=members[0].reason,
            count_label=count_label(len(members)),
        ))
    return tuple(out)
