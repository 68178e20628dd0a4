"""The consultant's review of a run: accepted risks, comments and severity overrides.

Reviewing is what turns raw results into the consultant's professional opinion, so every
action is recorded with who did it and when, and the results themselves are never edited:
runs stay the evidence of what the servers answered, and the review is a separate layer
that the report applies on top (a reader can always see the original severity beside an
override). The CLI (``auditapp accept`` / ``auditapp review``) and the GUI both call these
functions, so both write identical entries.

Entries address a result by ``(rule, subject)``, the same key the run comparison uses, so
a comment or an acceptance carries over to the next run of the same project. The entries are
the frozen types of :mod:`auditapp.core.review_layer`, which also answers what the review
makes of a result (coverage, expiry, effective severity, open counts); the names readers need
are re-exported here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from auditapp.core.model import Severity
from auditapp.core.project import MAX_PERSON, MAX_REVIEW_TEXT, MAX_SUBJECT, Project, ProjectError
from auditapp.core.review_layer import (
    COMMENT,
    REVIEW_KINDS,
    SEVERITY,
    AcceptedRisk,
    Review,
    ReviewLayer,
    open_counts,
    run_day,
)

__all__ = ["COMMENT", "MAX_REVIEW_TEXT", "REVIEW_KINDS", "SEVERITY", "AcceptedRisk", "Review", "ReviewLayer",
           "accept_risk", "add_comment", "clear_override", "open_counts", "override_severity", "reviews_for",
           "run_day", "withdraw_acceptance"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _check(rule: str, text: str, by: str, what: str, subject: str = "*") -> tuple[str, str]:
    from auditapp.catalog import catalog

    if rule not in catalog():
        raise ProjectError(f"unknown rule {rule!r} (see auditapp rules)", "rule")
    text, by = text.strip(), by.strip()
    if not text:
        raise ProjectError(f"the {what} must not be empty: the report says why", "text")
    if not by:
        raise ProjectError("the author must not be empty: the report says who", "author")
    if len(text) > MAX_REVIEW_TEXT:
        raise ProjectError(f"the {what} is {len(text)} characters long ({MAX_REVIEW_TEXT} allowed)", "text")
    if len(subject) > MAX_SUBJECT:
        raise ProjectError(f"the subject is {len(subject)} characters long ({MAX_SUBJECT} allowed)", "subject")
    if len(by) > MAX_PERSON:
        raise ProjectError(f"the author's name is {len(by)} characters long ({MAX_PERSON} allowed)", "author")
    return text, by


def accept_risk(project: Project, rule: str, subject: str, justification: str, by: str,
                expires: str | None = None) -> AcceptedRisk:
    """Record (or replace) the acceptance of ``rule`` on ``subject`` (``"*"``: every subject)."""
    justification, by = _check(rule, justification, by, "justification", subject)
    if expires:
        try:
            date.fromisoformat(expires)
        except ValueError:
            raise ProjectError(f"expiry {expires!r} is not a date like 2027-06-30", "expires") from None
    entry = AcceptedRisk(rule, subject, justification, by, _now(), expires or None)
    project.accepted_risks = [r for r in project.accepted_risks if r.key != (rule, subject)]
    project.accepted_risks.append(entry)
    return entry


def withdraw_acceptance(project: Project, rule: str, subject: str) -> bool:
    """Remove the acceptance of ``rule`` on ``subject``; False when there was none."""
    before = len(project.accepted_risks)
    project.accepted_risks = [r for r in project.accepted_risks if r.key != (rule, subject)]
    return len(project.accepted_risks) != before


def add_comment(project: Project, rule: str, subject: str, text: str, by: str) -> Review:
    """Append a reviewer comment; comments accumulate (a discussion), they never replace each other."""
    text, by = _check(rule, text, by, "comment", subject)
    entry = Review(rule, subject, COMMENT, text, by, _now())
    project.reviews.append(entry)
    return entry


def override_severity(project: Project, rule: str, subject: str, severity: Severity | str, reason: str,
                      by: str) -> Review:
    """Set the severity the report uses for this result, with the reason; replaces an earlier override."""
    level = Severity(severity)
    reason, by = _check(rule, reason, by, "reason", subject)
    entry = Review(rule, subject, SEVERITY, reason, by, _now(), level)
    clear_override(project, rule, subject)
    project.reviews.append(entry)
    return entry


def clear_override(project: Project, rule: str, subject: str) -> bool:
    """Go back to the catalog's severity for this result; False when there was no override."""
    before = len(project.reviews)
    project.reviews = [r for r in project.reviews if not (r.is_override and r.key == (rule, subject))]
    return len(project.reviews) != before


def reviews_for(project: Project, rule: str, subject: str) -> list[Review]:
    """Entries that apply to one result: exact subject or ``"*"``, oldest first."""
    return [r for r in project.reviews if r.applies_to(rule, subject)]
