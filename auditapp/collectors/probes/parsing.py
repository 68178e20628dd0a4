"""Pure parsing of SMTP, IMAP and POP3 replies: no I/O, so every rule is unit-tested.

Capabilities are kept as the server sent them, upper-cased and with whitespace collapsed
(``"AUTH PLAIN LOGIN"``, ``"AUTH=PLAIN"``, ``"SASL PLAIN LOGIN"``), because a finding quotes
them; :func:`auth_mechanisms` then reads the SASL mechanisms out of any of the three forms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from auditapp.core.problem import Problem

_SMTP_LINE = re.compile(r"^(\d{3})(?:[ -]|$)", re.ASCII)
_IMAP_CAPS_CODE = re.compile(r"\[CAPABILITY\s+([^\]]*)\]", re.IGNORECASE)
#: How servers word a refusal for connecting too often or too many at once: Postfix's anvil and
#: postscreen ("421 4.7.0 mx Error: too many connections from 192.0.2.1"), Exim ("421 Too many
#: concurrent SMTP connections from this IP address"), Sendmail ("421 4.3.2 Connection rate limit
#: exceeded."), Exchange ("421 4.3.2 The maximum number of concurrent connections has exceeded a
#: limit"). Not "try again later": a server shedding load says that too, and a pause would not help.
_CONNECTION_LIMIT = re.compile(
    r"too many (?:\S+ ){0,2}(?:connections|sessions)|rate limit|connection rate"
    r"|maximum number of (?:\S+ ){0,2}connections",
    re.IGNORECASE)


def _norm(text: str) -> str:
    return " ".join(text.split()).upper()


# -- SMTP (RFC 5321 §4.2) -------------------------------------------------------------------


def limits_connections(line: str) -> bool:
    """Does this refusal say the audit's address connected too often or too many times at once?"""
    return bool(_CONNECTION_LIMIT.search(line))


def greeting_refusal(line: str) -> Problem:
    """Why a greeting (SMTP 421/554, IMAP BYE, POP3 -ERR) refuses service.

    A connection limit gets its own words and its remedy: unlike a blocked network, it is caused
    by the audit's own pace, and a pause between connections (collectors/pacing.py) avoids it.
    """
    if limits_connections(line):
        return Problem("problem.connection_limit", "the server limits connections from the audit's address "
                       "({line}); a pause between connections (project: “Pause between connections”, command "
                       "line: --connect-interval) avoids this", line=line)
    return Problem("problem.greeting_refuses", "the server refuses service in its greeting: {line}", line=line)


def smtp_is_last(line: str) -> bool:
    """The last line of a reply has a space (or nothing) after the code, not a hyphen."""
    return len(line) < 4 or line[3] != "-"


def smtp_code(lines: Sequence[str]) -> int | None:
    """The reply code, or None if this is not an SMTP reply (garbage, another protocol)."""
    if not lines:
        return None
    codes = {m.group(1) if (m := _SMTP_LINE.match(line)) else None for line in lines}
    if len(codes) != 1 or None in codes:
        return None
    code = int(next(iter(codes)))  # type: ignore[arg-type]
    return code if 200 <= code < 600 else None


def parse_ehlo(lines: Sequence[str]) -> tuple[str, ...]:
    """EHLO keywords with their parameters: every line after the first (which names the server)."""
    return tuple(kw for line in lines[1:] if (kw := _norm(line[4:])))


# -- IMAP (RFC 3501 / RFC 9051) -------------------------------------------------------------


def imap_greeting_caps(line: str) -> tuple[str, ...] | None:
    """Capabilities from a greeting's ``[CAPABILITY ...]`` response code, None if it has none."""
    m = _IMAP_CAPS_CODE.search(line)
    return tuple(_norm(m.group(1)).split()) if m else None


def parse_imap_capability(lines: Iterable[str]) -> tuple[str, ...]:
    """Tokens of the untagged ``* CAPABILITY`` lines (a server may send more than one)."""
    caps: list[str] = []
    for line in lines:
        words = line.split()
        if len(words) >= 2 and words[0] == "*" and words[1].upper() == "CAPABILITY":
            caps.extend(w.upper() for w in words[2:])
    return tuple(dict.fromkeys(caps))


def imap_tagged_status(line: str, tag: str) -> str | None:
    """``OK``/``NO``/``BAD`` if ``line`` is the tagged completion for ``tag``."""
    words = line.split(maxsplit=2)
    if len(words) >= 2 and words[0] == tag and words[1].upper() in ("OK", "NO", "BAD"):
        return words[1].upper()
    return None


# -- POP3 (RFC 1939 / RFC 2449) -------------------------------------------------------------


def pop3_ok(line: str) -> bool:
    return line.startswith("+OK")


def pop3_multiline_end(line: str) -> bool:
    return line == "."


def parse_pop3_capa(lines: Sequence[str]) -> tuple[str, ...]:
    """CAPA lines between ``+OK`` and the final ``.`` (dot-stuffing undone)."""
    body = lines[1:]
    if body and body[-1] == ".":
        body = body[:-1]
    return tuple(cap for line in body if (cap := _norm(line[1:] if line.startswith("..") else line)))


# -- across protocols ------------------------------------------------------------------------


def has_capability(caps: Iterable[str], name: str) -> bool:
    """True if a capability's keyword is ``name`` (``"STARTTLS"``, ``"STLS"``, ``"LOGINDISABLED"``)."""
    name = name.upper()
    return any(cap.split(" ", 1)[0] == name for cap in caps)


def auth_mechanisms(caps: Iterable[str]) -> tuple[str, ...]:
    """SASL mechanisms from SMTP ``AUTH X Y`` (or the old ``AUTH=X Y``), IMAP ``AUTH=X``, POP3 ``SASL X Y``."""
    mechs: list[str] = []
    for cap in caps:
        upper = cap.upper()
        if upper.startswith(("AUTH ", "AUTH=")) or upper.startswith("SASL "):
            mechs.extend(upper[5:].split())
    return tuple(dict.fromkeys(mechs))
