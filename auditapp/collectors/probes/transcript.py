"""The dialogue as evidence: what we sent, what the server said, what TLS showed.

A transcript ends up in a PDF handed to a client, so two rules hold for every line: bytes
from the network become plain text (non-printables escaped as ``\\xNN``, at most
:data:`MAX_SHOWN` characters), and nothing secret is ever stored: credentials are masked when
they are sent, and :func:`mask_client_line` is a second net for lines that slip through.
"""

from __future__ import annotations

import re

from auditapp.core.text import printable

#: Characters of network text kept per transcript line; a 1 MB banner must not become a 1 MB report.
MAX_SHOWN = 300

_MASK = "****"

__all__ = ["printable"]  # kept here for the probes that import it from their transcript module

#: Client lines that carry secrets, and how much of them may be shown.
_SECRET_PATTERNS = (
    re.compile(r"^(AUTH\s+\S+)\s+\S.*$", re.IGNORECASE),  # SMTP AUTH PLAIN <initial response>
    re.compile(r"^(\S+\s+LOGIN)\s+.*$", re.IGNORECASE),  # IMAP a1 LOGIN user pass
    re.compile(r"^(\S+\s+AUTHENTICATE\s+\S+)\s+\S.*$", re.IGNORECASE),  # IMAP SASL-IR
    re.compile(r"^(PASS)\s+.*$", re.IGNORECASE),  # POP3
    re.compile(r"^(APOP\s+\S+)\s+.*$", re.IGNORECASE),
)


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mask_client_line(line: str) -> str:
    """Hide the secret part of a client command (AUTH data, LOGIN, PASS)."""
    for pattern in _SECRET_PATTERNS:
        m = pattern.match(line)
        if m:
            return f"{m.group(1)} {_MASK}"
    return line


class Transcript:
    """An append-only list of ``C:`` / ``S:`` / ``TLS:`` / ``--`` lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def client(self, line: str, *, secret: bool = False) -> None:
        """A line we sent; ``secret`` lines (SASL continuation data) are never shown."""
        shown = _MASK if secret else mask_client_line(line)
        self.lines.append("C: " + shorten(printable(shown)))

    def server(self, text: str) -> None:
        """A line the server sent, already passed through :func:`printable`."""
        self.lines.append("S: " + shorten(text))

    def tls(self, summary: str) -> None:
        self.lines.append("TLS: " + shorten(printable(summary), 2 * MAX_SHOWN))

    def note(self, text: str) -> None:
        """Our own remarks: connects, reconnects, problems."""
        self.lines.append("-- " + shorten(printable(text)))

    def freeze(self) -> tuple[str, ...]:
        return tuple(self.lines)
