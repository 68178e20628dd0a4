"""Postfix configuration syntax: main.cf, master.cf and the text output of ``postconf -n/-M/-P``.

The rules follow Postfix itself (postconf(5), master(5), and what ``postconf`` 3.7 actually
does with odd input, tried out while writing this module):

* A logical line starts with non-whitespace text; a line starting with whitespace continues
  it. Blank lines and lines whose first non-blank character is ``#`` are skipped and do
  *not* end a logical line. ``#`` elsewhere is ordinary text.
* main.cf: ``name = value``; the last assignment wins.
* master.cf: eight fields, then the command's arguments. ``{ ... }`` groups an argument that
  contains whitespace (Postfix >= 3.0); ``-o name=value`` overrides are read the way the
  daemon's getopt reads them, so option parsing stops at the first non-option argument.
* What Postfix rejects as fatal raises :class:`PostfixConfigError` naming origin and line;
  what Postfix only warns about is accepted the same way and kept as a warning, so that the
  audit sees the configuration the running server sees.

The parser is fuzzed: it must raise nothing but :class:`PostfixConfigError`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

from auditapp.core.problem import Problem

#: Service types master(5) knows.
SERVICE_TYPES = ("inet", "unix", "unix-dgram", "fifo", "pass")
#: Daemon options (Postfix mail_server getopt string "cdDi:lm:n:o:s:St:uvVz") that take an argument.
_OPTS_WITH_ARG = frozenset("imnost")
#: Parameter names: postconf accepts any text without whitespace or "=" on the left side.
_NAME = r"[^\s=]+"
_MAIN_LINE = re.compile(rf"^({_NAME})\s*=\s*(.*)$", re.S | re.A)
_P_LINE = re.compile(rf"^(\S+)/({'|'.join(SERVICE_TYPES)})/({_NAME})\s*=\s*(.*)$", re.S | re.A)
#: A pasted shell prompt running postconf ("# postconf -n", "$ postconf -M") or postconf's own
#: diagnostics: not configuration, skipped with a warning instead of failing the import.
_PROMPT = re.compile(r"^\S*[$#%>]\s*(?:sudo\s+)?postconf(?:\s|$)|^postconf(?::\s|\s+-)", re.A)
#: Postfix's ISSPACE is ASCII only; Python's str.isspace() would also split on e.g. U+00A0.
WS = " \t\n\r\f\v"
_WAKEUP = re.compile(r"^(?:-|\d+\??)$", re.ASCII)
_MAXPROC = re.compile(r"^(?:-|\d+)$", re.ASCII)
#: The origin of text that did not come from a file.
PASTED = "pasted text"
#: Upper bound for one configuration text; real main.cf/master.cf files are a few KB.
MAX_TEXT = 8 * 1024 * 1024


def at_line(origin: str, line: int) -> Problem:
    """``master.cf, line 12`` for a warning, in the reader's language (``master.cf, Zeile 12``)."""
    return Problem("problem.postfix.at_line", "{origin}, line {line}", origin=origin, line=str(line))


class PostfixConfigError(ValueError):
    """Input Postfix would refuse; the message names the origin, the line and the reason."""

    def __init__(self, origin: str, line: int | None, reason: str) -> None:
        self.origin = origin
        self.line = line
        self.reason = reason
        where = f"{origin}, line {line}" if line is not None else origin
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Source:
    """Where a value came from: a file line, a line of postconf output, or a default."""

    kind: str  # "main.cf", "master.cf", "postconf -n", "postconf -M", "postconf -P", "default", "unset"
    line: int | None = None
    origin: str = ""  # file name or "pasted text"
    override: bool = False  # a master.cf "-o" override
    note: str = ""  # for defaults: which Postfix version / compatibility level

    def __str__(self) -> str:
        if self.kind == "default":
            return f"default ({self.note})" if self.note else "default"
        if self.kind == "unset":
            return "not set"
        pasted = self.origin in ("", PASTED)
        # "-o" marks a master.cf override; postconf -P lines are overrides by definition.
        notes = ["-o"] if self.override and self.kind != "postconf -P" else []
        if self.kind in ("main.cf", "master.cf"):
            if not pasted:
                # A file keeps its own name (main.cf, or e.g. main.cf.orig given as a single file).
                return f"{self.origin}:{self.line}" + (f" ({', '.join(notes)})" if notes else "")
            notes.append("pasted")
        where = "" if pasted else f" in {self.origin}"
        return f"{self.kind} line {self.line}" + (f" ({', '.join(notes)})" if notes else "") + where

    @property
    def is_default(self) -> bool:
        return self.kind in ("default", "unset")


@dataclass(frozen=True)
class Setting:
    """One ``name = value`` as written, with its provenance."""

    name: str
    value: str
    source: Source


@dataclass(frozen=True)
class RawService:
    """One master.cf entry as written."""

    name: str
    type: str
    private: str
    unpriv: str
    chroot: str
    wakeup: str
    maxproc: str
    command: str
    args: tuple[str, ...]
    overrides: tuple[Setting, ...]
    source: Source

    @property
    def key(self) -> str:
        return f"{self.name}/{self.type}"


@dataclass(frozen=True)
class POverride:
    """One line of ``postconf -P`` output: ``service/type/name = value``."""

    service: str
    type: str
    setting: Setting


@dataclass
class ParsedText:
    """Everything one text held, in order of appearance."""

    main: list[Setting] = field(default_factory=list)
    services: list[RawService] = field(default_factory=list)
    p_overrides: list[POverride] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# -- logical lines -----------------------------------------------------------------------

@dataclass(frozen=True)
class LogicalLine:
    """A logical line, the physical line it starts on, and the start offset of every joined piece."""

    line: int
    text: str
    pieces: tuple[tuple[int, int], ...]  # (offset in text, physical line number)

    def line_at(self, offset: int) -> int:
        """The physical line that holds character ``offset`` of :attr:`text`.

        A binary search: a master.cf entry with thousands of ``-o`` lines asks this once per
        option, and a linear scan made that quadratic (3 s for 60 kB; issue 12, item 6).
        """
        i = bisect_right(self.pieces, (offset, float("inf")))
        return self.pieces[i - 1][1] if i else self.line


def _is_comment_or_blank(raw: str) -> bool:
    stripped = raw.strip(WS)
    return not stripped or stripped.startswith("#")


def check_text(text: str, origin: str) -> None:
    """Refuse input no configuration file can hold (NUL bytes, absurd size)."""
    if len(text) > MAX_TEXT:
        raise PostfixConfigError(origin, None, f"more than {MAX_TEXT // (1024 * 1024)} MB: not a Postfix configuration")
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise PostfixConfigError(origin, line, "contains a NUL byte (binary data, not a configuration text)")


def logical_lines(text: str, origin: str, warnings: list[str]) -> Iterator[LogicalLine]:
    """Join continuation lines the way Postfix's readlline() does."""
    check_text(text, origin)
    current: list[str] = []
    pieces: list[tuple[int, int]] = []
    start = 0
    length = 0
    # Only "\n" ends a line in Postfix; a trailing "\r" (a file from Windows) is dropped.
    for number, raw in enumerate(text.split("\n"), start=1):
        raw = raw.removesuffix("\r")
        if _is_comment_or_blank(raw):
            continue
        if raw[0] in WS:
            if not current:
                warnings.append(Problem("problem.postfix.leading_whitespace", "{where}: a logical line must not start "
                                        "with whitespace; ignored (as Postfix does)", where=at_line(origin, number)))
                continue
            piece = raw.strip(WS)
            pieces.append((length + 1, number))
            current.append(piece)
            length += 1 + len(piece)
            continue
        if current:
            yield LogicalLine(start, " ".join(current), tuple(pieces))
        piece = raw.rstrip(WS)
        current, pieces, start, length = [piece], [(0, number)], number, len(piece)
    if current:
        yield LogicalLine(start, " ".join(current), tuple(pieces))


# -- main.cf -------------------------------------------------------------------------------

def parse_main_line(ll: LogicalLine, source: Source, origin: str) -> Setting:
    """``name = value``; Postfix treats anything else as fatal."""
    m = _MAIN_LINE.match(ll.text)
    if not m:
        if ll.text.lstrip().startswith("="):
            raise PostfixConfigError(origin, ll.line, f"missing parameter name before '=': {_clip(ll.text)!r}")
        raise PostfixConfigError(origin, ll.line, f"missing '=' after parameter name: {_clip(ll.text)!r}")
    return Setting(m.group(1), m.group(2).strip(WS), source)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


# -- master.cf -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    text: str
    offset: int


def tokenize(text: str) -> list[Token]:
    """Split on whitespace, keeping ``{ ... }`` groups (nested braces counted) in one token."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in WS:
            i += 1
            continue
        start, depth = i, 0
        while i < n and (depth > 0 or text[i] not in WS):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}" and depth > 0:
                depth -= 1
            i += 1
        tokens.append(Token(text[start:i], start))
    return tokens


def unbrace(token: str, where: str, warnings: list[str]) -> str:  # where: at_line(...) or a plain text
    """Postfix's extpar(): ``{ text }`` -> ``text``; what Postfix only warns about stays a warning."""
    if not token.startswith("{"):
        return token
    depth = 0
    for i, ch in enumerate(token):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                if i != len(token) - 1:
                    warnings.append(Problem("problem.postfix.text_after_brace", "{where}: text after '}}' in {token} "
                                            "ignored (as Postfix does)", where=where, token=repr(_clip(token))))
                return token[1:i].strip(WS)
    warnings.append(Problem("problem.postfix.missing_brace", "{where}: missing '}}' in {token}; read up to the end "
                            "of the line (as Postfix does)", where=where, token=repr(_clip(token))))
    return token[1:].strip(WS)


def split_nameval(text: str) -> tuple[str, str] | None:
    """``name = value`` -> (name, value), whitespace around both trimmed; None if no name or '='."""
    name, eq, value = text.partition("=")
    name = name.strip(WS)
    if not eq or not name or any(c in WS for c in name):
        return None
    return name, value.strip(WS)


def parse_master_line(ll: LogicalLine, origin: str, kind: str, warnings: list[str]) -> RawService:
    """One service entry; field errors are fatal in Postfix and raise here."""
    tokens = tokenize(ll.text)
    if len(tokens) < 8:
        raise PostfixConfigError(origin, ll.line, f"bad field count: a master.cf service needs 8 fields, found "
                                                  f"{len(tokens)} in {_clip(ll.text)!r}")
    name, stype, private, unpriv, chroot, wakeup, maxproc, command = (t.text for t in tokens[:8])
    if stype not in SERVICE_TYPES:
        raise PostfixConfigError(origin, ll.line, f"invalid service type {_clip(stype)!r} (expected one of "
                                                  f"{', '.join(SERVICE_TYPES)})")
    for label, value in (("private", private), ("unpriv", unpriv), ("chroot", chroot)):
        if value not in ("y", "n", "-"):
            raise PostfixConfigError(origin, ll.line, f"invalid {label} field {_clip(value)!r} (expected y, n or -)")
    if not _WAKEUP.match(wakeup):
        raise PostfixConfigError(origin, ll.line, f"invalid wakeup field {_clip(wakeup)!r}")
    if not _MAXPROC.match(maxproc):
        raise PostfixConfigError(origin, ll.line, f"invalid maxproc field {_clip(maxproc)!r}")
    args: list[str] = []
    overrides: list[Setting] = []
    rest = tokens[8:]
    i = 0
    options_done = False
    while i < len(rest):
        tok = rest[i]
        where = at_line(origin, ll.line_at(tok.offset))
        word = unbrace(tok.text, where, warnings)
        args.append(word)
        i += 1
        if options_done or tok.text.startswith("{") or not word.startswith("-") or word == "-":
            options_done = True  # getopt stops at the first non-option argument
            continue
        if word == "--":
            options_done = True
            continue
        # A cluster of one-letter flags; an option that takes an argument ends the cluster.
        for pos in range(1, len(word)):
            letter = word[pos]
            if letter not in _OPTS_WITH_ARG:
                continue
            if pos + 1 < len(word):
                value, value_tok = word[pos + 1:], tok
            elif i < len(rest):
                value_tok = rest[i]
                value = unbrace(value_tok.text, at_line(origin, ll.line_at(value_tok.offset)), warnings)
                args.append(value)
                i += 1
            else:
                warnings.append(Problem("problem.postfix.option_without_value", "{where}: option -{letter} without a "
                                        "value ignored", where=where, letter=letter))
                break
            if letter == "o":
                pair = split_nameval(value)
                vline = ll.line_at(value_tok.offset)
                if pair is None:
                    warnings.append(Problem("problem.postfix.override_not_pair", "{where}: '-o {value}' is not "
                                            "name=value; ignored (as Postfix does)", where=at_line(origin, vline),
                                            value=_clip(value)))
                else:
                    src = Source(kind, vline, origin, override=True)
                    overrides.append(Setting(pair[0], pair[1], src))
            break
    return RawService(name, stype, private, unpriv, chroot, wakeup, maxproc, command, tuple(args),
                      tuple(overrides), Source(kind, ll.line, origin))


def looks_like_master_line(text: str) -> bool:
    """A service entry: a name followed by a service type as second field."""
    parts = [t.text for t in tokenize(text)[:2]]
    return len(parts) == 2 and parts[1] in SERVICE_TYPES


# -- whole texts ---------------------------------------------------------------------------

def parse_main_cf(text: str, origin: str = "main.cf") -> ParsedText:
    """A main.cf file (or ``postconf -n`` output saved under that name)."""
    out = ParsedText()
    for ll in logical_lines(text, origin, out.warnings):
        out.main.append(parse_main_line(ll, Source("main.cf", ll.line, origin), origin))
    return out


def parse_master_cf(text: str, origin: str = "master.cf") -> ParsedText:
    """A master.cf file."""
    out = ParsedText()
    for ll in logical_lines(text, origin, out.warnings):
        out.services.append(parse_master_line(ll, origin, "master.cf", out.warnings))
    return out


def _looks_like_output(text: str) -> bool:
    """postconf output has no comments; hand-written files nearly always do."""
    return not any(raw.strip(WS).startswith("#") for raw in text.split("\n"))


def parse_auto(text: str, origin: str = PASTED) -> ParsedText:
    """Text of unknown kind: main.cf, master.cf, or any mix of ``postconf -n``, ``-M`` and ``-P`` output.

    Each logical line says what it is: ``service/type/name = value`` is ``-P`` output, a name
    followed by a service type is a master.cf entry, ``name = value`` is a main.cf setting.
    Commented text is taken for the files themselves, comment-free text for postconf output,
    which decides only how provenance is written.
    """
    out = ParsedText()
    lines = list(logical_lines(text, origin, out.warnings))
    output = _looks_like_output(text)
    main_kind, master_kind = ("postconf -n", "postconf -M") if output else ("main.cf", "master.cf")
    for ll in lines:
        if _PROMPT.match(ll.text):
            out.warnings.append(Problem("problem.postfix.not_configuration", "{where}: not configuration, skipped: "
                                        "{text}", where=at_line(origin, ll.line), text=repr(_clip(ll.text))))
            continue
        p = _P_LINE.match(ll.text)
        if p:
            src = Source("postconf -P", ll.line, origin, override=True)
            out.p_overrides.append(POverride(p.group(1), p.group(2), Setting(p.group(3), p.group(4).strip(WS), src)))
        elif looks_like_master_line(ll.text):
            out.services.append(parse_master_line(ll, origin, master_kind, out.warnings))
        elif _MAIN_LINE.match(ll.text):
            out.main.append(parse_main_line(ll, Source(main_kind, ll.line, origin), origin))
        else:
            raise PostfixConfigError(origin, ll.line, f"not a Postfix setting (expected 'name = value', a master.cf "
                                                      f"service line or 'service/type/name = value'): "
                                                      f"{_clip(ll.text)!r}")
    return out
