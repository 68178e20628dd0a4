"""SPF macro-strings (RFC 7208 §7): tokenizing, validating and expanding them.

The tokenizer is shared by the parser and by evaluation, so a macro the parser accepted is
exactly the macro evaluation expands; the parser never has to guess how evaluation will read
a string. Expansion is synchronous: the one macro that needs DNS, ``%{p}``, is resolved by the
evaluator beforehand and passed in (see :func:`uses_letter`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from auditapp.spf.errors import SpfSyntaxError

#: Macro letters allowed in a domain-spec (§7.1); upper-case variants are URL-escaped.
DOMAIN_LETTERS = frozenset("slodiphv")
#: ``c``, ``r`` and ``t`` only make sense in an explanation shown to a human (§7.1).
EXPLANATION_LETTERS = DOMAIN_LETTERS | frozenset("crt")
#: What ``%{...}`` may contain after the letter: digits, an optional ``r``, delimiters.
_MACRO_BODY = re.compile(r"([A-Za-z])([0-9]*)([rR]?)([.\-+,/_=]*)")
#: RFC 7208 §7.3: an expanded name longer than this loses labels on its left.
MAX_DOMAIN_LENGTH = 253


@dataclass(frozen=True)
class Literal:
    """Text copied as is; ``expand`` marks ``%%``, ``%_`` and ``%-``, which the ABNF counts
    as macro-expands (so they may end a domain-spec)."""

    text: str
    expand: bool = False


@dataclass(frozen=True)
class Macro:
    """One ``%{...}`` macro with its transformers."""

    letter: str  # lower-case
    upper: bool  # upper-case letter: URL-escape the result (§7.3)
    digits: int | None
    reverse: bool
    delimiters: str  # empty means "."
    source: str


Token = Literal | Macro


def tokenize(
    text: str, *, letters: frozenset[str] = DOMAIN_LETTERS, allow_space: bool = False
) -> tuple[Token, ...]:
    """Split a macro-string into tokens, raising :class:`SpfSyntaxError` on any ABNF error.

    ``allow_space`` is for explanation strings (``explain-string = *( macro-string / SP )``);
    inside a record a space always ends the term, so it can never be part of a macro-string.
    """
    tokens: list[Token] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            tokens.append(Literal("".join(literal)))
            literal.clear()

    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "%":
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt in ("%", "_", "-"):
                flush()
                tokens.append(Literal({"%": "%", "_": " ", "-": "%20"}[nxt], expand=True))
                i += 2
                continue
            if nxt != "{":
                shown = f"%{nxt}" if nxt else "%"
                raise SpfSyntaxError(f"invalid macro {shown!r} in {text!r}: '%' must be followed by "
                                     "'{', '%', '_' or '-'")
            end = text.find("}", i + 2)
            if end < 0:
                raise SpfSyntaxError(f"unterminated macro in {text!r}")
            flush()
            tokens.append(_parse_macro(text[i : end + 1], letters))
            i = end + 1
            continue
        code = ord(ch)
        if (ch == " " and allow_space) or 0x21 <= code <= 0x7E:
            literal.append(ch)
        elif code > 0x7E:
            raise SpfSyntaxError(f"non-ASCII character {ch!r} in {text!r}")
        else:
            raise SpfSyntaxError(f"control character {ch!r} in {text!r}")
        i += 1
    flush()
    return tuple(tokens)


def _parse_macro(source: str, letters: frozenset[str]) -> Macro:
    match = _MACRO_BODY.fullmatch(source[2:-1])
    if not match:
        raise SpfSyntaxError(f"invalid macro {source!r}")
    letter, digits, reverse, delimiters = match.groups()
    if letter.lower() not in letters:
        where = "in a domain-spec" if letters is DOMAIN_LETTERS else "here"
        raise SpfSyntaxError(f"macro letter {letter!r} is not allowed {where} ({source!r})")
    count: int | None = None
    if digits:
        count = int(digits)
        if count == 0:  # §7.1: "If a DIGIT is specified, the value MUST be nonzero."
            raise SpfSyntaxError(f"macro {source!r} keeps zero parts")
    return Macro(letter.lower(), letter.isupper(), count, bool(reverse), delimiters, source)


def has_macros(text: str) -> bool:
    """Whether a domain-spec depends on the connection (any ``%`` at all)."""
    return "%" in text


def uses_letter(text: str, letter: str, *, letters: frozenset[str] = EXPLANATION_LETTERS,
                allow_space: bool = True) -> bool:
    """Whether ``text`` contains the macro ``letter``; used to resolve ``%{p}`` only if needed."""
    if "%" not in text:
        return False
    try:
        tokens = tokenize(text, letters=letters, allow_space=allow_space)
    except SpfSyntaxError:
        return False
    return any(isinstance(t, Macro) and t.letter == letter for t in tokens)


@dataclass(frozen=True)
class MacroValues:
    """The values the macro letters stand for (§7.3), for one check_host() call."""

    sender: str  # s
    local: str  # l
    sender_domain: str  # o
    domain: str  # d
    ip: str  # i: dotted quad, or dotted nibbles for IPv6
    version: str  # v: "in-addr" or "ip6"
    helo: str  # h
    client_ip: str = ""  # c: the address as people write it
    receiver: str = ""  # r
    timestamp: str = ""  # t
    ptr: str | None = None  # p: resolved by the evaluator before expansion

    def get(self, letter: str) -> str:
        if letter == "p":
            if self.ptr is None:
                raise RuntimeError("%{p} must be resolved before expansion")
            return self.ptr
        return {
            "s": self.sender, "l": self.local, "o": self.sender_domain, "d": self.domain,
            "i": self.ip, "v": self.version, "h": self.helo, "c": self.client_ip,
            "r": self.receiver, "t": self.timestamp,
        }[letter]


def expand_tokens(tokens: tuple[Token, ...], values: MacroValues) -> str:
    """Expand already validated tokens."""
    out: list[str] = []
    for token in tokens:
        if isinstance(token, Literal):
            out.append(token.text)
        else:
            out.append(_expand_macro(token, values))
    return "".join(out)


def _expand_macro(macro: Macro, values: MacroValues) -> str:
    value = values.get(macro.letter)
    splitter = "[" + re.escape(macro.delimiters or ".") + "]"
    parts = re.split(splitter, value)
    if macro.reverse:
        parts.reverse()
    if macro.digits is not None:
        parts = parts[-macro.digits :]
    text = ".".join(parts)
    if macro.upper:
        # §7.3: upper-case macros are URL-escaped; everything outside "unreserved" is escaped.
        text = quote(text, safe="")
    return text


def expand(text: str, values: MacroValues, *, explanation: bool = False) -> str:
    """Expand a macro-string; ``explanation`` allows spaces and the ``c``/``r``/``t`` letters."""
    letters = EXPLANATION_LETTERS if explanation else DOMAIN_LETTERS
    return expand_tokens(tokenize(text, letters=letters, allow_space=explanation), values)


def expand_domain(text: str, values: MacroValues) -> str:
    """Expand a domain-spec into a target name: trailing dot dropped, long names cut (§7.3)."""
    name = expand(text, values)
    if name.endswith("."):
        name = name[:-1]
    return truncate_domain(name)


def truncate_domain(name: str) -> str:
    """Remove labels from the left until the name fits in 253 characters (§7.3)."""
    while len(name) > MAX_DOMAIN_LENGTH and "." in name:
        name = name.split(".", 1)[1]
    return name


def ip_nibbles(packed: bytes) -> str:
    """``%{i}`` for IPv6: 32 dot-separated hex nibbles.

    Upper-case, as the reference implementation (pyspf) and the RFC 7208 test suite produce
    them; DNS compares names case-insensitively, so queries are unaffected.
    """
    return ".".join(packed.hex().upper())
