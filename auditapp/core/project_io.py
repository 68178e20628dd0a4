"""Reading and writing project files: the envelope, schema migrations, and damage handling.

A project file is JSON::

    {"format": "auditapp.project", "schema_version": 1, "saved_by": "auditapp 0.1.0", "project": {...}}

``format`` tells a project file apart from any other JSON a user might pick by mistake;
``schema_version`` says how to read ``project`` and is raised whenever its meaning changes,
with an entry in :data:`MIGRATIONS` that upgrades the previous version, so every old file
stays readable. ``saved_by`` is for people (and bug reports) only.

Promises, all tested:

* Loading never writes. A damaged, foreign or too-new file raises :class:`ProjectError`
  with one line that says what is wrong, and the file stays byte-for-byte as it was.
* Saving is atomic (:func:`~auditapp.core.atomic.write_atomic`): after a crash or a kill,
  the file is the old version or the new one, never a mix. The previous version is kept as
  ``FILE.bak``, so even a save of wrong content (or a migration) can be undone by hand.
* A file from a newer auditapp is refused, not "upgraded down": reading it would drop
  whatever the newer version added, and the next save would destroy it.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from auditapp import __version__
from auditapp.core.atomic import remove_stale_temp_files, write_atomic
from auditapp.core.project import Project, ProjectError, check_no_secrets
from auditapp.core.safe_read import UnsafeFileError, read_regular_file

FORMAT = "auditapp.project"
SCHEMA_VERSION = 1

#: Larger than any real project (thousands of runs); stops a mistakenly chosen video or disk
#: image from being read into memory just to be refused.
MAX_FILE_BYTES = 256 * 1024 * 1024

#: From this size on, saving tells the user to archive old runs (about 500 runs of 60 KB);
#: loading stays quick (about 1.5 s) well below :data:`MAX_FILE_BYTES`.
WARN_FILE_BYTES = 32 * 1024 * 1024

_ENVELOPE_KEYS = ("format", "schema_version", "saved_by", "project")


def _v0_to_v1(doc: dict[str, Any]) -> dict[str, Any]:
    """Schema 0 → 1: the pre-release layout (before the envelope existed).

    Schema 0 was a flat object ``{"schema": 0, "domain": "...", "ips": ["..."]}``, optionally
    with ``"name"``. Version 1 wraps the project in the envelope and calls the sending IPs
    ``server_ips``. Any other key is carried over unchanged, so the field check of version 1
    reports it by name instead of it vanishing.
    """
    project = {k: v for k, v in doc.items() if k not in ("schema", "ips")}
    project.setdefault("name", "")
    if "ips" in doc:
        project["server_ips"] = doc["ips"]
    return {"format": FORMAT, "schema_version": 1, "saved_by": "auditapp pre-release", "project": project}


#: ``MIGRATIONS[n]`` turns a whole version-``n`` document into a version-``n + 1`` document.
#: Migrations are pure functions on parsed JSON; they may raise :class:`ProjectError`.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    0: _v0_to_v1,
}


# -- loading ------------------------------------------------------------------------------


def load_project(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> Project:
    """Read, migrate and check a project file. Never writes; raises :class:`ProjectError`.

    ``max_bytes`` raises the size limit; only ``auditapp archive`` does, to rescue a file that
    grew past :data:`MAX_FILE_BYTES` before saving refused it.
    """
    path = Path(path)
    text = _read_text(path, max_bytes or MAX_FILE_BYTES)
    doc = _parse(text, path)
    return project_from_document(doc, path)


def project_from_document(doc: object, path: str | os.PathLike[str] = "project") -> Project:
    """Turn a parsed file (any known schema version) into a :class:`Project`."""
    version = _schema_version(doc, path)
    assert isinstance(doc, dict)
    if version > SCHEMA_VERSION:
        saved_by = doc.get("saved_by")
        by = f", saved by {saved_by}" if isinstance(saved_by, str) and saved_by else ""
        raise ProjectError(f"{path}: written by a newer auditapp (schema {version}{by}); "
                           f"this version reads up to {SCHEMA_VERSION}")
    while version < SCHEMA_VERSION:
        migrate = MIGRATIONS.get(version)
        if migrate is None:
            raise ProjectError(f"{path}: schema {version} is too old; no migration to {version + 1} exists")
        doc = migrate(doc)
        version += 1
        if not isinstance(doc, dict) or doc.get("schema_version") != version:  # a bug in a migration
            raise ProjectError(f"{path}: migration to schema {version} produced an invalid document")
    for key in doc:
        if key not in _ENVELOPE_KEYS:
            raise ProjectError(f"{path}: unknown top-level field {key!r}")
    saved_by = doc.get("saved_by", "")
    if not isinstance(saved_by, str):
        raise ProjectError(f"{path}: field saved_by must be a string")
    if "project" not in doc:
        raise ProjectError(f"{path}: the \"project\" object is missing")
    try:
        return Project.from_json(doc["project"])
    except ProjectError as exc:
        raise ProjectError(f"{path}: {exc}", exc.field) from None


def _bak_hint(path: Path) -> str:
    bak = path.with_name(path.name + ".bak")
    return f"; the previous version may be in {bak}" if bak.is_file() else ""


def _read_text(path: Path, max_bytes: int) -> str:
    try:
        raw = read_regular_file(path, max_bytes)
    except UnsafeFileError as exc:
        hint = "auditapp archive --project FILE --keep N can split it" if "larger than" in str(exc) else \
            "a project file is a regular file"
        raise ProjectError(f"{exc} ({hint})") from None
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ProjectError(f"{path}: is a directory, not a project file") from None
    except PermissionError:
        raise ProjectError(f"{path}: cannot read the file (permission denied)") from None
    except OSError as exc:
        raise ProjectError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if not raw.strip():
        raise ProjectError(f"{path}: the file is empty (damaged by an interrupted copy?){_bak_hint(path)}")
    if b"\x00" in raw:
        raise ProjectError(f"{path}: not a project file (binary data, not JSON text)")
    try:
        return raw.decode("utf-8-sig")  # a BOM from a Windows editor is harmless
    except UnicodeDecodeError:
        raise ProjectError(f"{path}: not a project file (not UTF-8 text){_bak_hint(path)}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys; a hand-edited file with a key twice would
    # then lose an edit without a word.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _parse_int(digits: str) -> int:
    # Python refuses integers of more than 4,300 digits with a hint about sys.set_int_max_str_digits;
    # no number in a project has more than a few, so a long one is damage, said in our words.
    if len(digits.lstrip("-")) > 30:
        raise ValueError(f"a number with {len(digits)} digits")
    return int(digits)


def _parse(text: str, path: Path) -> object:
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        # Checked before parsing: a 200 MB JSON array would otherwise be parsed (seconds and
        # gigabytes) only to be refused for not being an object.
        if stripped[:1] in ("[", '"') or stripped[:1].isdigit():
            raise ProjectError(f"{path}: not an auditapp project file (JSON, but not an object)")
        raise ProjectError(f"{path}: not a project file (not JSON)")
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates,
                          parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        # A file cut off inside a string is reported at the string's start, not at the end.
        truncated = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        if truncated:
            raise ProjectError(f"{path}: the file ends too early (truncated, damaged){_bak_hint(path)}") from None
        raise ProjectError(f"{path}: damaged, invalid JSON at line {exc.lineno} column {exc.colno} "
                           f"({exc.msg}){_bak_hint(path)}") from None
    except ValueError as exc:
        raise ProjectError(f"{path}: damaged, {exc}{_bak_hint(path)}") from None
    except RecursionError:
        raise ProjectError(f"{path}: not a project file (JSON nested too deeply)") from None


def _schema_version(doc: object, path: str | os.PathLike[str]) -> int:
    """Recognise the file: the current envelope, the pre-release layout, or something foreign."""
    if not isinstance(doc, dict):
        raise ProjectError(f"{path}: not an auditapp project file (JSON {type(doc).__name__}, not an object)")
    if "format" not in doc and doc.get("schema") == 0 and "domain" in doc:
        return 0
    fmt = doc.get("format")
    if fmt != FORMAT:
        what = f"its format is {str(fmt)[:60]!r}" if fmt is not None else "it has no \"format\" field"
        raise ProjectError(f"{path}: not an auditapp project file ({what}; expected {FORMAT!r})")
    version = doc.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ProjectError(f"{path}: damaged, schema_version {str(version)[:30]!r} is not a version number")
    return version


# -- saving -------------------------------------------------------------------------------


def project_to_document(project: Project) -> dict[str, Any]:
    """The complete file content for ``project`` in the current schema (checked first)."""
    checked = Project.from_json(project.to_json())  # never write a file we could not read back
    body = checked.to_json()
    check_no_secrets({k: v for k, v in body.items() if k != "runs"})
    return {"format": FORMAT, "schema_version": SCHEMA_VERSION, "saved_by": f"auditapp {__version__}",
            "project": body}


def save_project(project: Project, path: str | os.PathLike[str]) -> None:
    """Write ``project`` atomically, keeping the previous file as ``FILE.bak``.

    Raises :class:`ProjectError` (nothing written) if the project does not pass the load
    checks, would be too large to load again, or ``path`` is a symbolic link, and
    :class:`OSError` if the file system refuses.

    A symbolic link is not followed: a link planted in a shared folder under a project's name
    would otherwise make the save overwrite whatever file it points at. An existing file keeps
    its permission bits (a 0664 project on a shared folder stays 0664); a new one is private.
    Temp files a killed save left behind are removed.
    """
    path = Path(path)
    doc = project_to_document(project)
    data = json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False).encode("utf-8") + b"\n"
    if len(data) > MAX_FILE_BYTES:
        raise ProjectError(f"{path}: not saved: {len(data) // (1024 * 1024)} MiB is more than a project file may "
                           f"have ({MAX_FILE_BYTES // (1024 * 1024)} MiB) and could not be opened again; move old "
                           "runs into an archive with: auditapp archive --project FILE --keep N")
    if path.is_symlink():
        raise ProjectError(f"{path}: not saved: it is a symbolic link (to {os.readlink(path)}); auditapp does not "
                           "write through links; save to the file itself or under another name")
    mode = None
    try:
        info = path.stat()
        mode = info.st_mode & 0o7777 if stat.S_ISREG(info.st_mode) else None
    except FileNotFoundError:
        pass
    remove_stale_temp_files(path)
    write_atomic(path, data, backup=True, mode=mode)


def size_warning(path: str | os.PathLike[str]) -> str:
    """A line for the user once a project file is large enough to think about archiving, else ``""``."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        return ""
    if size < WARN_FILE_BYTES:
        return ""
    return (f"{path} is {size // (1024 * 1024)} MiB (at most {MAX_FILE_BYTES // (1024 * 1024)} MiB can be opened); "
            "consider moving old runs into an archive: auditapp archive --project FILE --keep N")
