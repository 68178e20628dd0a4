"""Grades A–F per category and overall, traffic lights, and the effort classes of the action plan.

Management reads one letter. Following PingCastle (the headline is the *maximum* of its risk
sub-scores), the overall grade is the grade of the **worst** category, so a red area cannot be
averaged away by green ones (user-asks.md §1 row 1). A category is graded by its most severe
open finding:

====================================================  =====
Open (failed, not accepted) findings in the category  Grade
====================================================  =====
at least one critical                                 F
two or more high                                      E
exactly one high                                      D
medium (none higher)                                  C
low only                                              B
none, or info only                                    A
nothing could be tested (no pass, no fail)            not assessed
====================================================  =====

Only ``pass`` and ``fail`` results *assess* a category. ``not_tested`` and ``error`` mean the state
is unknown and ``not_applicable`` means there was nothing to check, so a category made only of
those is "not assessed" — never an A (user-asks.md §1 row 6). A failure covered by a valid
accepted-risk entry counts as tested but not open (the caller passes it as a pass), so a
deliberately accepted deviation does not colour every audit red (row 5). The words for the
method section are in ``grade.rule.*`` of report.toml.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from auditapp.core.model import Finding, Severity, Status


class Grade(StrEnum):
    """A (best) to F (worst), plus "not assessed" for a category where nothing could be tested."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"
    NOT_ASSESSED = "not_assessed"

    @property
    def rank(self) -> int:
        """Higher is worse; "not assessed" ranks below A so it never decides the overall grade."""
        return _GRADE_RANK[self]


_GRADE_RANK = {Grade.NOT_ASSESSED: -1, Grade.A: 0, Grade.B: 1, Grade.C: 2, Grade.D: 3, Grade.E: 4, Grade.F: 5}

#: The table above as data, worst first: (grade, text key explaining it). The method section
#: prints these rows in this order.
GRADE_TABLE: tuple[tuple[Grade, str], ...] = tuple(
    (g, f"grade.rule.{g.value}")
    for g in (Grade.F, Grade.E, Grade.D, Grade.C, Grade.B, Grade.A, Grade.NOT_ASSESSED)
)


class Light(StrEnum):
    """The traffic light shown per category in the management summary."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    GREY = "grey"


#: A and B need no urgent work; C is worth planning; D to F need action now.
_LIGHTS = {
    Grade.A: Light.GREEN, Grade.B: Light.GREEN, Grade.C: Light.YELLOW,
    Grade.D: Light.RED, Grade.E: Light.RED, Grade.F: Light.RED, Grade.NOT_ASSESSED: Light.GREY,
}


def grade_findings(findings: Iterable[Finding]) -> Grade:
    """The grade of one category's results (accepted failures already turned into passes by the caller)."""
    assessed = False
    failed: dict[Severity, int] = {s: 0 for s in Severity}
    for f in findings:
        if f.status is Status.PASS:
            assessed = True
        elif f.status is Status.FAIL:
            assessed = True
            failed[f.severity] += 1
    if not assessed:
        return Grade.NOT_ASSESSED
    if failed[Severity.CRITICAL]:
        return Grade.F
    if failed[Severity.HIGH] >= 2:
        return Grade.E
    if failed[Severity.HIGH] == 1:
        return Grade.D
    if failed[Severity.MEDIUM]:
        return Grade.C
    if failed[Severity.LOW]:
        return Grade.B
    return Grade.A


def overall_grade(category_grades: Mapping[str, Grade]) -> tuple[Grade, str | None]:
    """The worst assessed category's grade and that category (first in report order on a tie)."""
    worst: tuple[Grade, str | None] = (Grade.NOT_ASSESSED, None)
    for category, grade in category_grades.items():
        if grade.rank > worst[0].rank:
            worst = (grade, category)
    return worst


def light_for(grade: Grade) -> Light:
    return _LIGHTS[grade]


class Effort(StrEnum):
    """A rough estimate of the work a fix takes, for ordering the action plan."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return {"low": 0, "medium": 1, "high": 2}[self.value]


#: Effort per rule family. low: one DNS record or ``postconf -e`` line the admin can change alone;
#: medium: several places, a provider ticket (PTR, delisting) or certificates/keys to roll out
#: (MTA-STS needs an HTTPS host and a policy file, new service names need DNS and certificates);
#: high: an organisational decision or project (a works agreement, an archiving procedure).
#: Families not listed count as medium.
FAMILY_EFFORT: dict[str, Effort] = {
    "spf": Effort.LOW,
    "dmarc": Effort.LOW,
    "postfix": Effort.LOW,
    "dkim": Effort.MEDIUM,
    "identity": Effort.MEDIUM,
    "reputation": Effort.MEDIUM,
    "tls": Effort.MEDIUM,
    "services": Effort.MEDIUM,
    "transport": Effort.MEDIUM,
    "layout": Effort.MEDIUM,
    "policy": Effort.HIGH,
}


def effort_for(family: str) -> Effort:
    return FAMILY_EFFORT.get(family, Effort.MEDIUM)
