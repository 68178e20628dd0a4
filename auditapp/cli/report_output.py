"""Writing the PDF report from the CLI (``audit --pdf``, ``report``, ``demo``): one code path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from auditapp.cli.errors import CannotRun, UsageError
from auditapp.core.model import Run
from auditapp.core.project import Project
from auditapp.core.stored_message import StoredMessage
from auditapp.report.document import ReportDocument
from auditapp.report.theme import Theme


def write_pdf(run: Run, path: str, *, lang: str, project_name: str = "", theme: str | None = None,
              messages: Sequence[StoredMessage] = ()) -> None:
    """The report of a run that belongs to no project (``audit --pdf``, ``demo``); ``messages`` as the run used them."""
    from auditapp.report import build_report
    from auditapp.report.theme import ThemeError, load_theme

    try:
        chosen = load_theme(theme or "default")
    except ThemeError as exc:
        raise UsageError(str(exc)) from None
    _render(build_report(run, lang=lang, project_name=project_name, messages=messages), chosen, path, None, False)


def write_project_pdf(project: Project, project_path: Path, path: str, *, lang: str, run_number: int | None = None,
                      theme: str | None = None, password: str | None = None, draft: bool = False) -> None:
    """The report of one of a project's runs, with its comparison, review and branding (as the GUI does)."""
    from auditapp.report.from_project import project_document, project_theme
    from auditapp.report.theme import ThemeError

    try:
        chosen = project_theme(project, theme, base_dir=project_path.resolve().parent)
        document = project_document(project, run_number, lang=lang)
    except (ThemeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    _render(document, chosen, path, password, draft)


def _render(document: ReportDocument, theme: Theme, path: str, password: str | None, draft: bool) -> None:
    from auditapp.report.pdf import render_pdf

    try:
        render_pdf(document, theme, Path(path), password=password, draft=draft)
    except OSError as exc:
        raise CannotRun(f"cannot write {path}: {exc.strerror or exc}") from None
