"""The report's own texts (``reports/boilerplate/report.toml``) and per-language formatting.

The report is written in a language chosen independently of the GUI, by a renderer that has no
Qt, so its boilerplate lives in one plain data file, validated like the rule catalog
(:mod:`auditapp.catalog`): every entry has non-empty German and English texts with the
same ``{placeholders}``. A broken file fails when it is loaded, not halfway through a client's
report. Filling a text with a missing parameter raises, so an unfilled ``{name}`` can never
reach a report.

Dates and numbers are formatted here without babel: the report needs two languages and a
handful of formats, which is not worth a dependency.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("de", "en")
def texts_file() -> Path:
    """``reports/boilerplate/report.toml`` wherever the data folders are (source, wheel, bundle)."""
    from auditapp.paths import asset_dir

    return asset_dir("reports") / "boilerplate" / "report.toml"

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class ReportTextError(ValueError):
    """The report texts are inconsistent; the message names the file and the key."""


def placeholders(text: str) -> set[str]:
    """Names used as ``{name}`` in a text (format specs and attribute access ignored)."""
    names = set()
    for _, name, _, _ in string.Formatter().parse(text):
        if name is not None:
            names.add(name.split(".")[0].split("[")[0])
    return names


@dataclass(frozen=True)
class ReportTexts:
    """All report texts, keyed by dotted name (``section.summary``), each as ``{lang: text}``."""

    entries: dict[str, dict[str, str]]

    def get(self, key: str, lang: str, **params: Any) -> str:
        """The text in ``lang`` with its placeholders filled; a missing key or parameter raises."""
        if lang not in LANGUAGES:
            raise ReportTextError(f"unsupported report language {lang!r}")
        try:
            template = self.entries[key][lang]
        except KeyError:
            raise ReportTextError(f"unknown report text {key!r}") from None
        missing = placeholders(template) - set(params)
        if missing:
            raise ReportTextError(f"report text {key!r} needs {sorted(missing)}")
        return template.format(**params) if params or "{" in template else template

    def keys_under(self, prefix: str) -> list[str]:
        """Keys starting with ``prefix.``, in file order (used for the glossary)."""
        return [k for k in self.entries if k.startswith(prefix + ".")]


def _collect(data: dict[str, Any], prefix: str, out: dict[str, dict[str, str]], source: str) -> None:
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and ("de" in value or "en" in value):
            if set(value) != set(LANGUAGES) or not all(
                isinstance(value[lang], str) and value[lang].strip() for lang in LANGUAGES
            ):
                raise ReportTextError(f"{source}: {full} needs exactly non-empty 'de' and 'en' texts")
            if placeholders(value["de"]) != placeholders(value["en"]):
                raise ReportTextError(
                    f"{source}: {full}: placeholders differ between de {sorted(placeholders(value['de']))} "
                    f"and en {sorted(placeholders(value['en']))}"
                )
            out[full] = {lang: value[lang].strip() for lang in LANGUAGES}
        elif isinstance(value, dict):
            _collect(value, full + ".", out, source)
        else:
            raise ReportTextError(f"{source}: {full} must be a table with 'de' and 'en'")


def load_texts(path: Path | None = None) -> ReportTexts:
    """Read and validate the report texts; raise :class:`ReportTextError` on the first problem."""
    path = path or texts_file()
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ReportTextError(f"{path.name}: {exc}") from exc
    entries: dict[str, dict[str, str]] = {}
    _collect(data, "", entries, path.name)
    return ReportTexts(entries)


@cache
def texts() -> ReportTexts:
    """The shipped report texts, loaded once per process."""
    return load_texts()


# --- formatting --------------------------------------------------------------------------------


def parse_time(value: str) -> datetime | None:
    """An ISO 8601 time from a run record as aware UTC time; ``None`` if empty or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:  # runs always store UTC; an old record without offset is read as UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_date(value: str, lang: str) -> str:
    """``28.11.2026`` (de) or ``28 Nov 2026`` (en); unreadable input is shown as given."""
    parsed = parse_time(value)
    if parsed is None:
        return value
    if lang == "de":
        return f"{parsed.day:02d}.{parsed.month:02d}.{parsed.year}"
    return f"{parsed.day} {_MONTHS_EN[parsed.month - 1]} {parsed.year}"


def format_datetime(value: str, lang: str) -> str:
    """``28.11.2026 22:54 UTC`` (de) or ``28 Nov 2026 22:54 UTC`` (en)."""
    parsed = parse_time(value)
    if parsed is None:
        return value
    return f"{format_date(value, lang)} {parsed.hour:02d}:{parsed.minute:02d} UTC"


def format_number(value: float, lang: str, digits: int = 0) -> str:
    """``1.234,5`` (de) or ``1,234.5`` (en)."""
    text = f"{value:,.{digits}f}"
    if lang == "de":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text
