"""What a report is built from besides the run: accepted risks, review notes, the cover's facts.

These come from the project (the review layer, :mod:`auditapp.core.review`) or the caller; the
builder in :mod:`auditapp.report.model` applies them, and finding blocks quote the notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from auditapp.core.model import Finding
from auditapp.report.document import Untrusted
from auditapp.report.texts import parse_time


@dataclass(frozen=True)
class AcceptedRisk:
    """A deliberately accepted deviation: this rule on this subject is shown as "accepted".

    ``subject`` ``"*"`` (or empty) covers every subject of the rule. ``expires`` is an ISO date
    (``2027-06-30``); from that day on the entry no longer applies and the finding counts again,
    so an acceptance cannot silently outlive its review date. Dates are checked on creation.
    """

    rule: str
    subject: str
    justification: str
    accepted_by: str
    accepted_at: str
    expires: str | None = None

    def __post_init__(self) -> None:
        for name in ("accepted_at", "expires"):
            value = getattr(self, name)
            if value and parse_time(value) is None:
                raise ValueError(f"accepted risk {self.rule}: {name} is not an ISO date: {value!r}")

    def covers(self, finding: Finding) -> bool:
        return finding.rule == self.rule and self.subject in ("", "*", finding.subject)

    def expired_on(self, day: date | None) -> bool:
        if not self.expires or day is None:
            return False
        expires = parse_time(self.expires)
        return expires is not None and expires.date() <= day


@dataclass(frozen=True)
class ReviewNote:
    """A reviewer's comment or severity override on one result (see :mod:`auditapp.core.review`).

    ``severity`` is set for overrides only. Text and author come from a person and are shown
    literally. Dates are kept as written (ISO) and formatted by the renderer's locale.
    """

    rule: str
    subject: str
    kind: str  # "comment" or "severity"
    text: str
    author: str
    at: str
    severity: str | None = None

    def covers(self, finding: Finding) -> bool:
        return finding.rule == self.rule and self.subject in ("", "*", finding.subject)

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> ReviewNote:
        return cls(rule=entry["rule"], subject=entry["subject"], kind=entry["kind"], text=Untrusted(entry["text"]),
                   author=Untrusted(entry["author"]), at=entry["at"], severity=entry.get("severity"))


@dataclass(frozen=True)
class ReportMeta:
    """Cover data chosen by the consultant; empty fields fall back to defaults from report.toml."""

    title: str = ""
    client: str = ""
    consultant: str = ""
    author: str = ""
    date: str = ""  # ISO date or time; default: when the run finished
    version: str = ""
    classification: str = ""
    consultant_logo: str = ""  # file paths, resolved by the renderer
    client_logo: str = ""
