"""Offline import of a Postfix configuration (no Qt, no network, read-only).

Inputs: a directory with ``main.cf`` and ``master.cf``; a single ``main.cf`` or ``master.cf``;
or a text file or pasted text holding any mix of ``postconf -n``, ``postconf -M`` and
``postconf -P`` output. :func:`load_postfix_config` and :func:`parse_postfix_text` return a
:class:`PostfixConfig`; malformed input raises :class:`PostfixConfigError` naming the file and
line. When loading fails, the engine stores a :class:`PostfixLoadFailure` in
``Facts.postfix`` so that the checks can report *why* they could not run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auditapp.core.problem import Problem
from auditapp.core.safe_read import UnsafeFileError, read_regular_file
from auditapp.postfix.config import MasterService, Param, PostfixConfig
from auditapp.postfix.defaults import parse_time
from auditapp.postfix.parser import (
    MAX_TEXT,
    PASTED,
    ParsedText,
    PostfixConfigError,
    Source,
    parse_auto,
    parse_main_cf,
    parse_master_cf,
)

__all__ = [
    "MasterService",
    "Param",
    "PostfixConfig",
    "PostfixConfigError",
    "PostfixLoadFailure",
    "Source",
    "config_from_texts",
    "load_for_audit",
    "load_postfix_config",
    "parse_postfix_text",
    "parse_time",
    "read_texts",
]


@dataclass(frozen=True)
class PostfixLoadFailure:
    """Stands in ``Facts.postfix`` when a configuration was given but could not be read."""

    error: str


def _read(path: Path) -> str:
    """A configuration file's text: a regular file, and no link out of the folder it was chosen in.

    The folder is the imported directory, or the chosen file's own directory: a ``main.cf`` in
    a shared folder that links to ``~/.ssh/id_ed25519`` would otherwise be stored in the
    project and sent to a client (issue 12).
    """
    try:
        data = read_regular_file(path, MAX_TEXT, within=path.parent)
    except UnsafeFileError as exc:
        raise PostfixConfigError(str(path), None, str(exc).removeprefix(f"{path} ").removeprefix(f"{path}: ")) \
            from None
    except OSError as exc:
        raise PostfixConfigError(str(path), None, f"cannot read: {exc.strerror or exc}") from exc
    # Postfix reads bytes; a stray Latin-1 comment must not stop the import.
    return data.decode("utf-8", errors="replace")


def _merge(*parts: ParsedText) -> ParsedText:
    out = ParsedText()
    for part in parts:
        out.main += part.main
        out.services += part.services
        out.p_overrides += part.p_overrides
        out.warnings += part.warnings
    return out


def load_postfix_config(path: str | Path) -> PostfixConfig:
    """Read a configuration directory (main.cf + master.cf) or a single file of any supported kind."""
    if "\0" in str(path):
        raise PostfixConfigError(repr(str(path)), None, "the path contains a NUL byte")
    p = Path(path)
    if p.is_dir():
        main_path, master_path = p / "main.cf", p / "master.cf"
        if not main_path.is_file():
            raise PostfixConfigError(str(p), None, "the directory holds no main.cf")
        main = parse_main_cf(_read(main_path), "main.cf")
        if master_path.is_file():
            return PostfixConfig(_merge(main, parse_master_cf(_read(master_path), "master.cf")), str(p),
                                 has_master=True)
        main.warnings.append(Problem("problem.postfix.no_master", "{where}: no master.cf; checks of the individual "
                                     "services are not possible", where=str(p)))
        return PostfixConfig(main, str(p), has_master=False)
    if not p.exists():
        raise PostfixConfigError(str(p), None, "no such file or directory")
    text = _read(p)
    if p.name == "main.cf":
        return PostfixConfig(parse_main_cf(text, p.name), str(p), has_master=False)
    if p.name == "master.cf":
        return PostfixConfig(parse_master_cf(text, p.name), str(p), has_master=True)
    return PostfixConfig(parse_auto(text, p.name), str(p), has_master=False)


def load_for_audit(path: str | Path) -> PostfixConfig | PostfixLoadFailure:
    """What the engine stores in ``Facts.postfix``: the configuration, or why it could not be read."""
    try:
        return load_postfix_config(path)
    except PostfixConfigError as exc:
        return PostfixLoadFailure(str(exc))


def config_from_texts(files: dict[str, str], origin: str) -> PostfixConfig:
    """A configuration kept as texts in a project file: ``main.cf``/``master.cf``, or ``text`` (postconf output).

    Projects store the imported texts rather than a path, so a re-run on another machine
    audits the same configuration.
    """
    if "main.cf" in files:
        main = parse_main_cf(files["main.cf"], "main.cf")
        if "master.cf" in files:
            return PostfixConfig(_merge(main, parse_master_cf(files["master.cf"], "master.cf")), origin,
                                 has_master=True)
        return PostfixConfig(main, origin, has_master=False)
    if "text" in files:
        return PostfixConfig(parse_auto(files["text"], origin), origin, has_master=False)
    raise PostfixConfigError(origin, None, "no main.cf and no postconf text")


def read_texts(path: str | Path) -> dict[str, str]:
    """The texts :func:`config_from_texts` needs, read from a directory or file (for saving in a project)."""
    p = Path(path)
    if p.is_dir():
        return {name: _read(p / name) for name in ("main.cf", "master.cf") if (p / name).is_file()}
    key = p.name if p.name in ("main.cf", "master.cf") else "text"
    return {key: _read(p)}


def parse_postfix_text(text: str, origin: str = PASTED) -> PostfixConfig:
    """Pasted text: ``postconf -n`` / ``-M`` / ``-P`` output (any mix), or the text of main.cf or master.cf."""
    return PostfixConfig(parse_auto(text, origin), origin, has_master=False)
