"""Escaping for reportlab Paragraphs: every string becomes literal, visible, wrappable markup.

reportlab's Paragraph parses a small XML dialect, so ``<font color=red>``, ``&amp;`` or ``<br/>`` in a TXT
record or banner would change the layout or break the build. :func:`para_text` NFKC-normalises, shows
control characters visibly (``\\x07`` → ``␇``-style ``<0x07>``), escapes ``& < >`` and turns newlines into
``<br/>``. Long tokens without spaces are wrapped by reportlab's ``splitLongWords`` (on in every style of
this package), which cuts a word that is wider than the line at a character boundary without inserting
any visible character, so a 4 kB DKIM key stays copyable. Zero-width spaces are *not* inserted: reportlab
treats U+200B as a word separator and would print a space there.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

#: Characters kept as they are; every other control character is shown as ``<0xNN>``.
_KEEP = {"\n", "\t"}


def normalize(value: object) -> str:
    """NFKC-normalised text with control and format characters made visible (still unescaped)."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    out = []
    for ch in text:
        if ch in _KEEP:
            out.append("    " if ch == "\t" else ch)
        elif unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") or ch in ("\u2028", "\u2029"):
            out.append(f"<0x{ord(ch):02X}>")
        elif unicodedata.category(ch) == "Cf" and ch not in ("\u00ad",):
            out.append(f"<U+{ord(ch):04X}>")
        else:
            out.append(ch)
    return "".join(out)


def para_text(value: object, *, keep_newlines: bool = True) -> str:
    """``value`` as Paragraph markup that renders literally."""
    text = escape(normalize(value))
    if keep_newlines:
        return text.replace("\r\n", "\n").replace("\n", "<br/>")
    return " ".join(text.split())


def mono_text(value: object) -> str:
    """Like :func:`para_text`, but keeps runs of spaces (indentation of transcripts and configs)."""
    lines = escape(normalize(value)).replace("\r\n", "\n").split("\n")
    return "<br/>".join(_keep_spaces(line) for line in lines)


def _keep_spaces(line: str) -> str:
    stripped = line.lstrip(" ")
    indent = len(line) - len(stripped)
    body = stripped.replace("  ", "\u00a0 ")
    return "\u00a0" * indent + body


#: pyphen's dictionaries per report language (LibreOffice's hyphenation patterns).
_HYPHENATION_LANG = {"de": "de_DE", "en": "en_US"}
_SOFT_HYPHEN = "\u00ad"
#: Letters of a word pyphen may hyphenate (a rule ID, a host name or a number is never hyphenated).
_WORD = re.compile(r"[^\W\d_]{6,}")


@cache
def _hyphenator(lang: str) -> Any:
    """pyphen's hyphenator for ``lang``, or None where pyphen is missing (reportlab then splits characters)."""
    try:
        import pyphen
    except ImportError:  # pragma: no cover - a dependency; an old bundle without it still renders
        return None
    return pyphen.Pyphen(lang=_HYPHENATION_LANG.get(lang, "en_US"))


def hyphenate(text: str, lang: str, fits: Callable[[str], bool]) -> str:
    """``text`` with soft hyphens inside the words that do not fit a line of their own (``fits`` is False).

    Narrow table columns (the action plan's titles) otherwise get reportlab's
    ``splitLongWords``, which cuts "Betriebsvereinbarung" wherever the line ends and adds no
    hyphen. Only the words that cannot fit are touched, with the hyphenation points of the
    report's language (pyphen, LibreOffice's patterns); reportlab breaks at a soft hyphen and
    prints a hyphen there, and nowhere else. Words shorter than six letters and tokens with
    digits or punctuation inside (rule IDs, names) are left alone.
    """
    hyphenator = _hyphenator(lang)
    if hyphenator is None:
        return text

    def word(match: re.Match[str]) -> str:
        w = match.group(0)
        return w if fits(w) else hyphenator.inserted(w, hyphen=_SOFT_HYPHEN)

    return " ".join(token if fits(token) else _WORD.sub(word, token) for token in text.split(" "))
