"""Text from the network made safe to show, and digits that are really digits.

Two small rules that every place handling network input must follow (issue 12):

* ``"²".isdigit()`` is true and ``int("²")`` fails, so a ``<port>²</port>`` in an autoconfig
  document turned every service check into an internal error. :func:`ascii_digits` is the test
  to use wherever a number comes from outside.
* A TXT record can carry ESC bytes that clear a terminal and print "AUDIT PASSED". Everything
  the command line prints goes through :func:`printable` (see :class:`SafeStream`).
"""

from __future__ import annotations

import unicodedata
from typing import TextIO

#: Unicode categories never shown as such: controls, format (bidi, zero-width), separators, surrogates, private.
_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def ascii_digits(text: str) -> bool:
    """True only for a non-empty run of 0-9 (not "²", "٣" or other Unicode digits)."""
    return bool(text) and text.isascii() and text.isdigit()


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(raw: bytes | str, keep: str = "") -> str:
    """Network bytes as safe text: UTF-8 where valid, ``\\xNN`` for anything else.

    Control and format characters are escaped too (``\\uXXXX`` above U+00FF), so a hostile
    banner or record cannot rewrite a terminal, inject lines into the report or reorder its
    text with bidi overrides. ``keep`` names control characters to leave alone (a writer keeps
    the newlines it was given).
    """
    text = raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) else raw
    return "".join(_escape(ch) if ch not in keep and unicodedata.category(ch) in _UNSAFE else ch for ch in text)


class SafeStream:
    """A text stream that escapes control characters (except newline and tab) before writing.

    The command line wraps stdout and stderr in it once, so no network string can reach the
    terminal raw, whichever code path prints it.
    """

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(printable(text, keep="\n\t"))
        return len(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)
