"""Reading and validating the data files of this package."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from auditapp.catalog.text import Text, load_text

DATA_DIR = Path(__file__).parent


class DataError(ValueError):
    """A data file is inconsistent; the message names the file and the entry."""


def read(name: str) -> dict[str, Any]:
    path = DATA_DIR / name
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"{name}: {exc}") from exc


def text(value: Any, where: str) -> Text:
    """A ``{ de = ..., en = ... }`` table as a :class:`Text`."""
    return load_text(value, where, DataError, strict_keys=False, format_string=False)


def strings(value: Any, where: str, *, allow_empty: bool = True) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DataError(f"{where}: must be a list of non-empty strings")
    if not value and not allow_empty:
        raise DataError(f"{where}: must not be empty")
    return tuple(v.strip() for v in value)


def suffix_match(name: str, suffixes: tuple[str, ...]) -> str | None:
    """The suffix ``name`` equals or ends with (after a dot), or None; case and final dot ignored."""
    n = name.rstrip(".").lower()
    for s in suffixes:
        if n == s or n.endswith("." + s):
            return s
    return None
