"""Moving old runs of a project into an archive file, so the project stays small enough to open.

A project grows by about 60 KB per run; after some hundred runs it gets slow and, at
:data:`~auditapp.core.project_io.MAX_FILE_BYTES`, could not be opened again (issue 12). The
archive is an ordinary project file with the same target, the accepted risks and review notes
(so the report of an archived run still reads as it did) and the runs moved out of the
project. Runs already in the archive are not duplicated, so archiving twice is harmless.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

from auditapp.core.project import Project


def archive_path(project_path: Path) -> Path:
    """``Kunde.auditproj`` → ``Kunde.archive.auditproj`` beside it."""
    return project_path.with_name(f"{project_path.stem}.archive{project_path.suffix or '.auditproj'}")


def split_runs(project: Project, keep: int, archive: Project | None = None) -> tuple[Project, Project, int]:
    """``(project with the last keep runs, archive with the older ones added, how many moved)``.

    Neither input is changed; the caller saves the archive first and the project second, so an
    interruption can leave a run in both files but never in neither.
    """
    if keep < 1:
        raise ValueError("keep at least one run in the project (the latest is what the report shows)")
    moved = project.runs[:-keep] if len(project.runs) > keep else []
    kept = replace(copy.deepcopy(project), runs=list(project.runs[-keep:]))
    if archive is None:
        archive = replace(copy.deepcopy(project), name=_archive_name(project.name), runs=[])
    else:
        archive = copy.deepcopy(archive)
    known = {r.id for r in archive.runs}
    archive.runs.extend(copy.deepcopy(r) for r in moved if r.id not in known)
    archive.runs.sort(key=lambda r: r.started)
    # Entries are frozen, so the archive can share them with the project.
    for risk in project.accepted_risks:
        if risk not in archive.accepted_risks:
            archive.accepted_risks.append(risk)
    for review in project.reviews:
        if review not in archive.reviews:
            archive.reviews.append(review)
    return kept, archive, len(moved)


def _archive_name(name: str) -> str:
    suffix = " (archive)"
    return (name[: 200 - len(suffix)] + suffix) if name else "archive"
