"""Grades A–F per category and overall, and their traffic lights: facts about a run, not layout.

They moved here from ``report/grading.py`` (issue 14) because the window's Audit and History
pages show the same letters and lights as the report, and a second copy of the rule is how the
numbers of two screens drift apart. :func:`auditapp.core.review_layer.run_summary` grades a run
with them after the review layer; the report only prints what it gets.

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


class Light(StrEnum):
    """The traffic light shown per category (report summary, the window's Audit page)."""

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
    return grade_counts(*_tally(findings))


def _tally(findings: Iterable[Finding]) -> tuple[bool, dict[Severity, int]]:
    assessed = False
    failed: dict[Severity, int] = dict.fromkeys(Severity, 0)
    for f in findings:
        if f.status is Status.PASS:
            assessed = True
        elif f.status is Status.FAIL:
            assessed = True
            failed[f.severity] += 1
    return assessed, failed


def grade_counts(assessed: bool, open_by_severity: Mapping[Severity, int]) -> Grade:
    """The grade from what a category's results add up to: was anything assessed, what is open.

    ``open_by_severity`` counts open failures per (effective) severity; accepted ones are not in it.
    """
    if not assessed:
        return Grade.NOT_ASSESSED
    if open_by_severity.get(Severity.CRITICAL, 0):
        return Grade.F
    if open_by_severity.get(Severity.HIGH, 0) >= 2:
        return Grade.E
    if open_by_severity.get(Severity.HIGH, 0) == 1:
        return Grade.D
    if open_by_severity.get(Severity.MEDIUM, 0):
        return Grade.C
    if open_by_severity.get(Severity.LOW, 0):
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
    """The traffic light of a grade (A/B green, C yellow, D–F red, not assessed grey)."""
    return _LIGHTS[grade]
