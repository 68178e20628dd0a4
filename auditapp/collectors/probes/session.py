"""One connection of a dialogue, and the record a probe fills while it runs.

:class:`Conn` sends lines and reads replies within deadlines and knows whether TLS is on;
:class:`ProbeState` is mutable on purpose: when the probe's overall time budget runs out
in the middle of a step, what was learned up to then is kept and becomes the
:class:`~auditapp.collectors.service_facts.EndpointProbe`, with the step that ran out as the
``problem``. Problems are :class:`~auditapp.core.problem.Problem` texts: English evidence
that a report can still write in German.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from auditapp.collectors import pacing
from auditapp.collectors.probes import tcp
from auditapp.collectors.probes.lines import RESET, LineReader, Reply
from auditapp.collectors.probes.transcript import Transcript, printable, shorten
from auditapp.collectors.service_facts import EndpointProbe, PortState, TlsInfo
from auditapp.core.problem import Problem

#: The whole probe of one endpoint may take this many step timeouts (several connections:
#: the dialogue, a reconnect to read an untrusted certificate, the legacy-TLS handshakes).
PROBE_BUDGET_FACTOR = 6

#: Longest wait for the reply to QUIT/LOGOUT: politeness must not cost a full timeout.
QUIT_WAIT = 2.0

# The steps every dialogue goes through, named in the problem when the budget runs out there.
CONNECTING = Problem("problem.step.connecting", "connecting")
READING_GREETING = Problem("problem.step.greeting", "reading the greeting")
TLS_HANDSHAKE = Problem("problem.step.tls_handshake", "TLS handshake")
SAYING_GOODBYE = Problem("problem.step.goodbye", "saying goodbye")
LEGACY_HANDSHAKES = Problem("problem.step.legacy_tls", "legacy TLS handshakes")


@dataclass
class TlsAttempt:
    """How one handshake on a :class:`Conn` ended."""

    ok: bool
    error: str = ""
    verify_error: ssl.SSLCertVerificationError | None = None
    timed_out: bool = False


class Conn:
    """A line-based connection that can be upgraded to TLS in place (STARTTLS)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, transcript: Transcript,
                 timeout: float, started: float | None = None) -> None:
        self.writer = writer
        #: time.monotonic() before the connect began: the greeting is timed from here (see read_greeting).
        self.started = started
        self.transcript = transcript
        self.timeout = timeout
        self.lines = LineReader(reader, transcript)
        self.ssl_object: ssl.SSLObject | None = None
        #: False once the peer reset or closed the connection: no QUIT is sent then.
        self.alive = True
        self.closed = False

    @property
    def tls_active(self) -> bool:
        return self.ssl_object is not None

    async def send(self, line: str, *, secret: bool = False) -> str:
        """Send one command line; returns a problem or ``""``. The transcript masks credentials."""
        self.transcript.client(line, secret=secret)
        try:
            self.writer.write(line.encode("utf-8") + b"\r\n")
            await asyncio.wait_for(self.writer.drain(), self.timeout)
        except TimeoutError:
            return Problem("problem.send_timeout", "the server did not take our data within {seconds} s",
                           seconds=f"{self.timeout:g}")
        except (OSError, RuntimeError) as exc:  # RuntimeError: write on a closed transport
            self.alive = False
            return Problem("problem.send_failed", "connection lost while sending: {error}", error=str(exc))
        return ""

    async def reply(self, is_last: Callable[[str], bool], timeout: float | None = None) -> Reply:
        reply = await self.lines.read_reply(is_last, self.timeout if timeout is None else timeout)
        if self.lines.broken:
            self.alive = False
        return reply

    async def command(self, line: str, is_last: Callable[[str], bool], *, secret: bool = False,
                      timeout: float | None = None) -> Reply:
        problem = await self.send(line, secret=secret)
        if problem:
            return Reply(problem=problem)
        return await self.reply(is_last, timeout)

    async def start_tls(self, context: ssl.SSLContext, sni: str) -> TlsAttempt:
        """Upgrade this connection; after a failure the connection is closed (asyncio closes it).

        Plain-text bytes that arrived before the handshake are never passed on as if they had
        come over TLS (RFC 3207 §6, the STARTTLS injection family of bugs); when a handshake
        fails and such bytes are there, they explain the failure: the server speaks plain text.
        """
        # Taken right before the handshake with no await in between: start_tls pauses reading
        # synchronously, so afterwards the StreamReader holds only data that came over TLS.
        unread = self.lines.take_buffer() + _take_unread(self.lines.reader)
        attempt = await self._handshake(context, sni)
        if attempt.ok:
            self.ssl_object = self.writer.get_extra_info("ssl_object")
            if unread:
                self.transcript.note(f"discarded {len(unread)} bytes the server sent in plain text before the "
                                     "TLS handshake")
            return attempt
        self.alive = False
        if unread and attempt.verify_error is None:
            shown = shorten(printable(unread.split(b"\n", 1)[0].rstrip(b"\r")), 60)
            return TlsAttempt(False, _tls_failed(Problem(
                "problem.ssl.plain_text", "the server did not answer in TLS (it sent plain text: '{shown}')",
                shown=shown)))
        return attempt

    async def _handshake(self, context: ssl.SSLContext, sni: str) -> TlsAttempt:
        timed_out = Problem("problem.tls_timeout", "TLS handshake did not complete within {seconds} s",
                            seconds=f"{self.timeout:g}")
        try:
            # asyncio.timeout, not wait_for: wait_for would run start_tls in a new task, one loop
            # iteration later, and plain-text bytes could slip into the reader in between.
            async with asyncio.timeout(self.timeout):
                await self.writer.start_tls(context, server_hostname=sni or None,
                                            ssl_handshake_timeout=self.timeout * 2)
        except TimeoutError:
            return TlsAttempt(False, timed_out, timed_out=True)
        except ssl.SSLCertVerificationError as exc:
            failed = Problem("problem.cert_verify_failed", "certificate verification failed: {reason}",
                             reason=verify_text(exc))
            return TlsAttempt(False, failed, verify_error=exc)
        except ssl.SSLError as exc:
            return TlsAttempt(False, _tls_failed(_ssl_reason(exc)))
        except ConnectionAbortedError as exc:  # asyncio's own handshake timeout
            if "taking longer" in str(exc):
                return TlsAttempt(False, timed_out, timed_out=True)
            return TlsAttempt(False, _tls_failed(str(exc)))
        except (OSError, EOFError, RuntimeError) as exc:
            reason = RESET if isinstance(exc, ConnectionResetError) else str(exc)
            return TlsAttempt(False, _tls_failed(reason or type(exc).__name__))
        return TlsAttempt(True)

    async def quit(self, goodbye: tuple[str, Callable[[str], bool]], *, wait: bool = True) -> None:
        """Say goodbye, then close; the reply is awaited (briefly) only if the dialogue was sane."""
        line, is_last = goodbye
        if self.alive and not self.closed:
            if wait:
                await self.command(line, is_last, timeout=min(self.timeout, QUIT_WAIT))
            else:
                await self.send(line)
        await self.close()

    async def close(self) -> None:
        if not self.alive:
            # After a failed or cancelled handshake a graceful close never completes; waiting
            # for it would only spend the grace period.
            self.abort()
            return
        if not self.closed:
            self.closed = True
            await tcp.close(self.writer)

    def abort(self) -> None:
        if not self.closed:
            self.closed = True
            self.writer.transport.abort()


#: OpenSSL reasons that deserve a word of explanation in a report.
_SSL_REASONS = {
    "WRONG_VERSION_NUMBER": Problem(
        "problem.ssl.wrong_version", "the server did not answer in TLS (WRONG_VERSION_NUMBER: plain text?)"),
    "UNSUPPORTED_PROTOCOL": Problem(
        "problem.ssl.unsupported_protocol", "no TLS version in common (UNSUPPORTED_PROTOCOL)"),
    "TLSV1_ALERT_PROTOCOL_VERSION": Problem(
        "problem.ssl.protocol_version", "the server refused the TLS version (alert protocol_version)"),
    "SSLV3_ALERT_HANDSHAKE_FAILURE": Problem(
        "problem.ssl.handshake_failure", "the server ended the handshake (alert handshake_failure)"),
    "NO_PROTOCOLS_AVAILABLE": Problem(
        "problem.ssl.no_protocols",
        "the local TLS library has no protocol version enabled (NO_PROTOCOLS_AVAILABLE)"),
}


def _tls_failed(reason: str) -> Problem:
    return Problem("problem.tls_failed", "TLS handshake failed: {reason}", reason=reason)


def _ssl_reason(exc: ssl.SSLError) -> str:
    reason = exc.reason or ""
    return _SSL_REASONS.get(reason, reason or str(exc) or type(exc).__name__)


def _take_unread(reader: asyncio.StreamReader) -> bytes:
    """Bytes the StreamReader buffered but nobody read, removed from it.

    asyncio has no public API for this; ``_buffer`` has been the StreamReader's bytearray
    since Python 3.4. Without the attribute we lose only the diagnosis, not safety of the
    dialogue (we read nothing between the reply to STARTTLS and the handshake).
    """
    buffer = getattr(reader, "_buffer", None)
    if not isinstance(buffer, bytearray) or not buffer:
        return b""
    data = bytes(buffer)
    buffer.clear()
    return data


def verify_text(exc: ssl.SSLCertVerificationError) -> str:
    """OpenSSL's reason ("self-signed certificate in certificate chain"), the way operators know it."""
    return exc.verify_message or exc.reason or str(exc)


class ProbeState:
    """What the probe has learned so far (:attr:`facts`) and where it is; :meth:`result` freezes it.

    The facts are an :class:`EndpointProbe` from the start, replaced as the dialogue learns
    more (:meth:`learn`): a probe cut short by its budget returns what it knew up to then, and
    the fields are declared once, where the checks read them.
    """

    __slots__ = ("conns", "facts", "step", "timeout", "transcript")

    def __init__(self, address: str, port: int, service: str, timeout: float) -> None:
        self.facts = EndpointProbe(address=address, port=port, service=service, state=PortState.ERROR)
        self.timeout = timeout
        self.transcript = Transcript()
        #: What the dialogue is doing now; named in the problem when the budget runs out.
        self.step: str = CONNECTING
        self.conns: list[Conn] = []

    @property
    def service(self) -> str:
        return self.facts.service

    @property
    def problem(self) -> str:
        return self.facts.problem

    @property
    def tls(self) -> TlsInfo | None:
        return self.facts.tls

    def learn(self, **facts: Any) -> None:
        """Record facts (``greeting=``, ``tls=``, ...: fields of :class:`EndpointProbe`)."""
        self.facts = replace(self.facts, **facts)

    def fail(self, problem: str) -> None:
        """Keep the first problem: later ones are usually its consequences."""
        if not self.facts.problem:
            self.learn(problem=problem)
            self.transcript.note(f"problem: {problem}")

    async def connect(self, *, main: bool, transcript: Transcript | None = None) -> tuple[Conn | None, str]:
        """Open a connection; the main one sets the port state, later ones only report a problem."""
        log = transcript or self.transcript
        address, port = self.facts.address, self.facts.port
        host = f"[{address}]" if ":" in address else address
        log.note(f"connect {host}:{port} ({self.service})")
        started = time.monotonic()
        state, detail, reader, writer, ms = await tcp.connect(address, port, self.timeout)
        if main:
            self.learn(state=state, state_detail=detail, connect_ms=ms)
        if state is not PortState.OPEN or reader is None or writer is None:
            log.note(f"{state.value}: {detail}")
            return None, detail
        conn = Conn(reader, writer, log, self.timeout, started)
        self.conns.append(conn)
        return conn, ""

    def result(self) -> EndpointProbe:
        facts = self.facts
        return replace(facts, connect_ms=_round(facts.connect_ms), greeting_ms=_round(facts.greeting_ms),
                       transcript=self.transcript.freeze())


def _round(ms: float | None) -> float | None:
    return None if ms is None else round(ms, 1)


async def run_probe(st: ProbeState, body: Callable[[], Awaitable[None]]) -> EndpointProbe:
    """Run a dialogue within the probe budget; never raises, never leaves a socket open."""
    budget = st.timeout * PROBE_BUDGET_FACTOR
    started = time.monotonic()
    try:
        async with pacing.budget(budget) as cm:
            await body()
    except TimeoutError:
        if cm.expired():
            st.fail(Problem("problem.budget", "probe did not finish within {seconds} s (while {step})",
                            seconds=f"{budget:g}", step=st.step))
        else:  # a step's own timeout escaped: still a timeout, but say where
            st.fail(Problem("problem.step_timeout", "timeout while {step}", step=st.step))
    except Exception as exc:  # the last net: a bug must become a reason, not crash the audit
        st.fail(Problem("problem.internal_error", "internal error while {step}: {error}", step=st.step,
                        error=f"{type(exc).__name__}: {exc}"))
    finally:
        for conn in st.conns:
            conn.abort()
    st.transcript.note(f"probe finished after {(time.monotonic() - started) * 1000:.0f} ms")
    return st.result()
