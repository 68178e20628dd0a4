"""The DKIM selectors worth probing, and why probing can never prove that a domain does not sign."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from auditapp.data._toml import DataError, read, strings, text

if TYPE_CHECKING:
    from auditapp.catalog import Text


@dataclass(frozen=True)
class CommonSelectors:
    names: tuple[str, ...]
    used_by: dict[str, str]
    dated_note: Text


@cache
def common_selectors() -> CommonSelectors:
    data = read("dkim_selectors.toml")
    entries = data.get("selectors")
    if not isinstance(entries, list) or not entries:
        raise DataError("dkim_selectors.toml: [[selectors]] entries are missing")
    names: list[str] = []
    used_by: dict[str, str] = {}
    for i, entry in enumerate(entries):
        (name,) = strings([entry.get("name", "")], f"dkim_selectors.toml: selectors[{i}].name", allow_empty=False)
        if name in names:
            raise DataError(f"dkim_selectors.toml: selector {name!r} is listed twice")
        names.append(name.lower())
        used_by[name.lower()] = str(entry.get("used_by", ""))
    return CommonSelectors(tuple(names), used_by, text(data.get("dated_note"), "dkim_selectors.toml: dated_note"))
