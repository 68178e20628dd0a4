"""What a report is built from besides the run: accepted risks, review notes, the cover's facts.

The accepted risks and review notes are the core's frozen types (the review layer,
:mod:`auditapp.core.review_layer`): the builder in :mod:`auditapp.report.model` asks the layer
what they make of each result and only reads them; finding blocks quote the notes.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditapp.core.review_layer import AcceptedRisk, Review

#: The report's names for the review layer's entries (:mod:`auditapp.core.review_layer`), kept so
#: callers of :func:`auditapp.report.build_report` need not know where they are defined.
ReviewNote = Review

__all__ = ["AcceptedRisk", "ReportMeta", "ReviewNote"]


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
