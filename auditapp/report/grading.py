"""The report's own grading vocabulary: the method table's rows and the action plan's effort classes.

The grades and traffic lights themselves are facts about a run and live in
:mod:`auditapp.core.grading` (the window shows them too); they are re-exported here so report
code and older imports keep one name for them.
"""

from __future__ import annotations

from enum import StrEnum

from auditapp.core.grading import Grade, Light, grade_counts, grade_findings, light_for, overall_grade

__all__ = ["FAMILY_EFFORT", "GRADE_TABLE", "Effort", "Grade", "Light", "effort_for", "grade_counts",
           "grade_findings", "light_for", "overall_grade"]

#: The grading rule as data, worst first: (grade, text key explaining it). The method section
#: prints these rows in this order.
GRADE_TABLE: tuple[tuple[Grade, str], ...] = tuple(
    (g, f"grade.rule.{g.value}")
    for g in (Grade.F, Grade.E, Grade.D, Grade.C, Grade.B, Grade.A, Grade.NOT_ASSESSED)
)


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
    "caa": Effort.LOW,
    "dmarc": Effort.LOW,
    "postfix": Effort.LOW,
    "dkim": Effort.MEDIUM,
    "identity": Effort.MEDIUM,
    "reputation": Effort.MEDIUM,
    "tls": Effort.MEDIUM,
    # DANE: a TLSA record set, DNSSEC and the certificate renewal process must agree.
    "dane": Effort.MEDIUM,
    # DNSSEC: signing at the DNS provider and a DS at the registrar, in the right order.
    "dnssec": Effort.MEDIUM,
    # RPKI: the address block's holder (hoster, provider) publishes the ROA; a ticket, not a record.
    "rpki": Effort.MEDIUM,
    "services": Effort.MEDIUM,
    "transport": Effort.MEDIUM,
    "layout": Effort.MEDIUM,
    # A message's problem is fixed where the mail flows: the signer, a content filter, the HELO.
    "message": Effort.MEDIUM,
    "policy": Effort.HIGH,
}


def effort_for(family: str) -> Effort:
    return FAMILY_EFFORT.get(family, Effort.MEDIUM)
