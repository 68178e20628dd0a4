"""Texts in both languages: the one ``Text`` type of the rule catalog, the questionnaire and the data files.

Every text a user reads exists in German and English. A text from a data file is checked
when it is loaded (both languages present and non-empty, the same ``{placeholders}`` in
each), so a broken file fails at start-up with its file and entry named, not in a client's
report with a placeholder left open.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

LANGUAGES = ("de", "en")


@dataclass(frozen=True)
class Text:
    """One text in every supported language."""

    de: str
    en: str

    def get(self, lang: str) -> str:
        return self.de if lang == "de" else self.en

    def placeholders(self) -> set[str]:
        return placeholders(self.de) | placeholders(self.en)


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a format string fills in (``{a.b}`` and ``{a[0]}`` count as ``a``)."""
    names = set()
    for _, name, _, _ in string.Formatter().parse(text):
        if name:
            names.add(name.split(".")[0].split("[")[0])
    return names


def load_text(value: Any, where: str, error: Callable[[str], Exception], *, extra_keys: Iterable[str] = (),
              strict_keys: bool = True, format_string: bool = True) -> Text:
    """A ``{de = "...", en = "..."}`` table as :class:`Text`; ``error(message)`` is raised otherwise.

    ``extra_keys`` are other keys the caller reads from the same table (an outcome's severity);
    with ``strict_keys`` any other key is refused, so a typo such as ``eng`` does not silently
    drop a language. ``format_string`` texts (the rule catalog's) must use the same placeholders
    in both languages; plain texts (questions, a provider's convention) are not parsed for them.
    """
    if not isinstance(value, dict):
        raise error(f"{where}: needs a table with 'de' and 'en' texts")
    unknown = set(value) - set(LANGUAGES) - set(extra_keys)
    if unknown and strict_keys:
        raise error(f"{where}: unknown keys {sorted(unknown)} (only 'de' and 'en')")
    for lang in LANGUAGES:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise error(f"{where}: missing or empty '{lang}' text")
    result = Text(de=value["de"].strip(), en=value["en"].strip())
    if format_string and placeholders(result.de) != placeholders(result.en):
        raise error(f"{where}: placeholders differ between de {sorted(placeholders(result.de))} "
                    f"and en {sorted(placeholders(result.en))}")
    return result
