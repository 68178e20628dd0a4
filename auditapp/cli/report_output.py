"""Writing the PDF report from the CLI (``audit --pdf``, ``report``, ``demo``): one code path."""

from __future__ import annotations

from pathlib import Path

from auditapp.cli.main import CannotRun, UsageError
from auditapp.core.model import Run


def write_pdf(run: Run, path: str, *, lang: str, project_name: str = "", previous: Run | None = None,
              theme: str | None = None, branding: dict | None = None, base_dir: Path | None = None,
              password: str | None = None, draft: bool = False, accepted: list[dict] | None = None) -> None:
    """Build the document model, apply the theme (and a project's branding), render atomically."""
    from auditapp.report import AcceptedRisk, build_report
    from auditapp.report.pdf import render_pdf
    from auditapp.report.theme import ThemeError, load_theme, theme_from_branding

    try:
        chosen = load_theme(theme or "default")
        if branding:
            chosen = theme_from_branding(branding, chosen, base_dir=base_dir)
    except ThemeError as exc:
        raise UsageError(str(exc)) from None
    risks = [AcceptedRisk(**entry) for entry in (accepted or [])]
    document = build_report(run, lang=lang, project_name=project_name, previous=previous, accepted=risks)
    try:
        render_pdf(document, chosen, Path(path), password=password, draft=draft)
    except OSError as exc:
        raise CannotRun(f"cannot write {path}: {exc.strerror or exc}") from None
