"""The report of one run of a project: the single place that decides what a project's PDF contains.

The CLI (``audit --project --pdf``, ``report``) and the GUI's preview and export all call
:func:`project_document` and :func:`project_theme`, so the previous run used for the
comparison, the accepted-risk register, the reviewer's notes and the project's branding are
applied identically everywhere; a preview that differed from the exported file would be a
trust problem for a consultant.
"""

from __future__ import annotations

from pathlib import Path

from auditapp.core.project import Project
from auditapp.report.document import ReportDocument
from auditapp.report.inputs import ReportMeta
from auditapp.report.model import build_report
from auditapp.report.theme import Theme, load_theme, theme_from_branding


def project_document(project: Project, run_number: int | None = None, *, lang: str,
                     meta: ReportMeta | None = None) -> ReportDocument:
    """The document for run ``run_number`` (1-based; default the latest), compared with the last complete run before it.

    "Complete" means neither cancelled nor degraded; a degraded ``run_number`` itself is still
    compared (the comparison then carries its caveat and counts nothing as fixed).

    Raises ``ValueError`` when the project has no such run.
    """
    if not project.runs:
        raise ValueError("the project has no recorded run yet")
    index = len(project.runs) if run_number is None else run_number
    if not 1 <= index <= len(project.runs):
        raise ValueError(f"run {index}: the project has runs 1 to {len(project.runs)}")
    run = project.runs[index - 1]
    # A cancelled run tested only part of the checks, a degraded one (its resolver did not
    # answer) next to nothing: compared with either, everything they skipped would look "new".
    # The comparison uses the latest earlier run that completed with a resolver that answered.
    previous = next((r for r in reversed(project.runs[:index - 1]) if not (r.cancelled or r.degraded)), None)
    return build_report(
        run, lang=lang, project_name=project.name, previous=previous,
        accepted=tuple(project.accepted_risks), reviews=tuple(project.reviews),
        meta=meta, messages=tuple(project.messages),
    )


def project_theme(project: Project, theme: str | Path | None = None, *, base_dir: Path | None = None) -> Theme:
    """``theme`` (a name under ``reports/themes`` or a file; default "default") with the project's branding.

    Raises :class:`auditapp.report.theme.ThemeError` naming the file and field at fault.
    """
    chosen = load_theme(theme or "default")
    if project.branding:
        chosen = theme_from_branding(project.branding, chosen, base_dir=base_dir)
    return chosen
