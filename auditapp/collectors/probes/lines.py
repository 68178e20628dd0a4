"""A bounded line reader: whatever the peer sends, reading ends with text or a reason.

``StreamReader.readline`` trusts the peer: it buffers up to its limit, raises on long lines
and waits forever for a newline. A mail server on the Internet may be a tarpit, a honeypot
that streams a megabyte banner, or something that is not a mail server at all, so here
every read has a deadline, a line has at most :data:`MAX_LINE` bytes and a reply at most
:data:`MAX_LINES` lines. Failures come back as a ``problem`` string (a
:class:`~auditapp.core.problem.Problem`, so reports can word it in German), never as an
exception, so the caller can record what happened and still close the connection politely.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from auditapp.collectors.probes.transcript import Transcript, printable, shorten
from auditapp.core.problem import Problem

MAX_LINE = 8 * 1024
MAX_LINES = 100
_CHUNK = 4096

#: The peer reset the connection (while reading here, or during a TLS handshake).
RESET = Problem("problem.reset", "connection reset by the server")


@dataclass
class Reply:
    """One reply (one or more lines) or the reason there is none."""

    lines: list[str] = field(default_factory=list)
    problem: str = ""
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def first(self) -> str:
        return self.lines[0] if self.lines else ""

    @property
    def last(self) -> str:
        return self.lines[-1] if self.lines else ""

    @property
    def text(self) -> str:
        """The reply on one line, as it goes into a result's evidence."""
        return shorten(" / ".join(self.lines))


def looks_binary(raw: bytes) -> bool:
    """NUL bytes or mostly non-text: this is not a line-based mail protocol talking."""
    if b"\x00" in raw:
        return True
    if not raw:
        return False
    try:
        raw.decode("utf-8")
        return False
    except UnicodeDecodeError:
        pass
    odd = sum(1 for b in raw if b < 0x09 or 0x0D < b < 0x20 or b >= 0x80)
    return odd * 4 > len(raw)


class LineReader:
    """Reads CRLF-terminated lines from a stream into a transcript, within deadlines.

    Bare LF is accepted as a line end too (and CR stripped): being strict here would only
    turn a sloppy server into "no answer", which is not what the audit is about.
    """

    def __init__(self, reader: asyncio.StreamReader, transcript: Transcript) -> None:
        self.reader = reader
        self.transcript = transcript
        self._buffer = bytearray()
        #: True once the peer closed or reset the connection, or reading failed: nothing more will come.
        self.broken = False

    def take_buffer(self) -> bytes:
        """Remove and return bytes read but not yet consumed (before a TLS handshake they must go)."""
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    async def read_line(self, deadline: float, timeout: float) -> tuple[str | None, str]:
        """Return ``(line, "")`` or ``(None, problem)`` by the monotonic ``deadline``.

        ``timeout`` is only used in the wording of the problem ("no reply within 5 s").
        """
        while True:
            nl = self._buffer.find(b"\n")
            if nl >= 0:
                raw = bytes(self._buffer[:nl]).rstrip(b"\r")
                del self._buffer[: nl + 1]
                if len(raw) > MAX_LINE:
                    return None, self._too_long(raw)
                if looks_binary(raw):
                    self.transcript.server(printable(raw))
                    return None, Problem("problem.binary_reply", "binary data instead of a text reply: '{shown}'",
                                         shown=shorten(printable(raw), 60))
                text = printable(raw)
                self.transcript.server(text)
                return text, ""
            if len(self._buffer) > MAX_LINE:
                return None, self._too_long(bytes(self._buffer))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, self._timed_out(timeout)
            try:
                chunk = await asyncio.wait_for(self.reader.read(_CHUNK), remaining)
            except TimeoutError:
                return None, self._timed_out(timeout)
            except ConnectionResetError:
                self.broken = True
                return None, self._with_partial(RESET)
            except (OSError, EOFError) as exc:  # ssl.SSLError is an OSError
                self.broken = True
                return None, self._with_partial(Problem("problem.read_failed", "read failed: {error}", error=str(exc)))
            if not chunk:
                self.broken = True
                return None, self._with_partial(Problem("problem.closed", "connection closed by the server"))
            self._buffer.extend(chunk)

    async def read_reply(self, is_last: Callable[[str], bool], timeout: float) -> Reply:
        """Read lines until ``is_last(line)``, at most :data:`MAX_LINES`, within ``timeout`` seconds."""
        start = time.monotonic()
        deadline = start + timeout
        reply = Reply()
        while True:
            line, problem = await self.read_line(deadline, timeout)
            if line is None:
                if reply.lines and problem.startswith("no reply within"):
                    problem = Problem("problem.no_final_line", "incomplete reply: no final line within {seconds} s",
                                      seconds=f"{timeout:g}")
                reply.problem = problem
                break
            reply.lines.append(line)
            if is_last(line):
                break
            if len(reply.lines) >= MAX_LINES:
                reply.problem = Problem("problem.too_many_lines", "reply longer than {lines} lines",
                                        lines=str(MAX_LINES))
                break
        reply.elapsed_ms = (time.monotonic() - start) * 1000
        return reply

    def _timed_out(self, timeout: float) -> str:
        if self._buffer:
            return Problem("problem.no_line_end", "incomplete line without CRLF after {seconds} s: '{partial}'",
                           seconds=f"{timeout:g}", partial=self._partial())
        return Problem("problem.no_reply", "no reply within {seconds} s", seconds=f"{timeout:g}")

    def _with_partial(self, what: str) -> str:
        if self._buffer:
            return Problem("problem.mid_line", "{problem} mid-line: '{partial}'", problem=what, partial=self._partial())
        return what

    def _partial(self) -> str:
        """Show (once) and forget a line that never ended."""
        shown = shorten(printable(bytes(self._buffer[:MAX_LINE])), 80)
        self.transcript.server(printable(bytes(self._buffer[:MAX_LINE])) + " [no line end]")
        self._buffer.clear()
        return shown

    def _too_long(self, raw: bytes) -> str:
        self.transcript.server(printable(raw[:MAX_LINE]) + " [too long]")
        self._buffer.clear()
        return Problem("problem.line_too_long", "line longer than {limit} bytes without CRLF (starts '{start}')",
                       limit=str(MAX_LINE), start=shorten(printable(raw[:200]), 60))
