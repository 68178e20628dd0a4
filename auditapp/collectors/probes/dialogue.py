"""The shape every protocol probe shares: connect, talk, maybe TLS, goodbye, legacy handshakes.

SMTP, IMAP and POP3 differ in their words, not in the shape of the dialogue: TLS first on an
implicit-TLS port; a greeting and the capabilities; on a plain port STARTTLS (POP3: STLS) if
offered, the handshake, and the capabilities again, since those learned in clear must be
forgotten (RFC 3207 §4.2, RFC 3501 §6.2.1, RFC 2595 §4). :meth:`Dialogue.talk` is that
shape, once; a protocol supplies its commands and how to read their replies:

- :meth:`Dialogue.hello`: greeting and capabilities on the main connection,
- :meth:`Dialogue.before_tls`: a fresh connection brought to the point of asking for TLS
  (needed to reconnect after an untrusted certificate and for the legacy-version handshakes),
- :meth:`Dialogue.ask_for_tls`: the STARTTLS command and whether the server agreed,
- :meth:`Dialogue.capabilities_after_tls`, and :meth:`Dialogue.after_hello` for what the
  protocol does once the session is set up (SMTP: the relay and login tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from auditapp.collectors.probes.lines import Reply
from auditapp.collectors.probes.parsing import greeting_refusal, has_capability
from auditapp.collectors.probes.session import (
    LEGACY_HANDSHAKES,
    READING_GREETING,
    SAYING_GOODBYE,
    TLS_HANDSHAKE,
    Conn,
    ProbeState,
)
from auditapp.collectors.probes.tls import probe_legacy, secure
from auditapp.collectors.probes.transcript import Transcript
from auditapp.collectors.service_facts import IMPLICIT_TLS, TlsInfo
from auditapp.core.problem import Problem, labelled


class Dialogue:
    """One probe of one endpoint; fills :class:`ProbeState` as it goes, never raises on purpose."""

    #: The command that asks for TLS on a plain connection; the capability that offers it has the same name.
    starttls_command = "STARTTLS"

    def __init__(self, st: ProbeState, *, sni: str, ca_file: str | None) -> None:
        self.st = st
        self.sni = sni
        self.ca_file = ca_file
        self.implicit = st.service in IMPLICIT_TLS
        #: The server agreed to TLS (implicit port, or STARTTLS accepted): legacy versions are worth trying.
        self.tls_agreed = self.implicit

    def goodbye(self) -> tuple[str, Callable[[str], bool]]:
        """The closing command (QUIT, LOGOUT) and how its reply ends."""
        return "QUIT", single_line

    async def run(self) -> None:
        st = self.st
        first, _ = await st.connect(main=True)
        if first is None:
            return  # refused, filtered, unreachable: the port state is the finding
        # No try/finally: on an error or the budget running out, run_probe aborts every connection;
        # a polite goodbye then would only stretch the budget.
        conn = await self.talk(first)
        if conn is not None:
            st.step = SAYING_GOODBYE
            await conn.quit(self.goodbye(), wait=not st.problem)
        if self.tls_agreed and st.tls is not None and st.tls.timed_out:
            # A server that stalled the main handshake would stall these too: one timeout
            # per dead endpoint, not three.
            st.learn(tls=replace(st.tls, legacy_problem=Problem(
                "problem.legacy_not_tried", "not tried: the TLS handshake timed out")))
        elif self.tls_agreed:
            # After the main dialogue, not inside it: separate connections, one per version.
            st.step = LEGACY_HANDSHAKES
            base = replace(st.tls or TlsInfo(ok=False, sni=self.sni), legacy_problem=Problem(
                "problem.legacy_budget", "the legacy handshakes did not finish within the probe's time budget"))
            st.learn(tls=base)  # kept if the budget runs out below
            st.learn(tls=await probe_legacy(base, self.legacy_opener, sni=self.sni, transcript=st.transcript))

    async def talk(self, first: Conn) -> Conn | None:
        """The main dialogue; returns the connection to say goodbye on (None if it is gone)."""
        st = self.st
        conn: Conn | None = first
        if self.implicit:
            conn = await self.upgrade(first)
            if conn is None:
                return None
        caps = await self.hello(conn)
        if caps is None:
            return conn
        if self.implicit:
            st.learn(caps_tls=caps)
        else:
            offered = has_capability(caps, self.starttls_command)
            st.learn(caps_plain=caps, starttls_offered=offered)
            if offered:
                conn = await self.starttls(conn)
        if conn is None or st.problem:
            return conn
        return await self.after_hello(conn)

    async def starttls(self, conn: Conn) -> Conn | None:
        """STARTTLS, the handshake and the capabilities again; returns the connection to go on with."""
        st = self.st
        st.step = self.starttls_command
        reply, refusal = await self.ask_for_tls(conn)
        if not reply.ok:
            st.fail(labelled(self.starttls_command, reply.problem))
            return conn
        if refusal is not None:
            st.learn(tls=TlsInfo(ok=False, error=refused(self.starttls_command, refusal), sni=self.sni))
            return conn  # the session goes on in plain text, as a client's would
        tls_conn = await self.upgrade(conn)
        if tls_conn is None:
            return None
        st.learn(caps_tls=await self.capabilities_after_tls(tls_conn) or ())
        return tls_conn

    async def to_starttls(self, conn: Conn) -> str:
        """Bring a fresh connection to the point where the server expects a ClientHello; a problem or ``""``."""
        problem = await self.before_tls(conn)
        if problem:
            return problem
        reply, refusal = await self.ask_for_tls(conn)
        if reply.ok and refusal is None:
            return ""
        return labelled(self.starttls_command, reply.problem or refusal or "")

    # -- what each protocol supplies -----------------------------------------------------------

    async def hello(self, conn: Conn) -> tuple[str, ...] | None:
        """Greeting and capabilities on the main connection; None after recording a problem."""
        raise NotImplementedError

    async def before_tls(self, conn: Conn) -> str:
        """On a fresh connection, everything before the STARTTLS command; a problem or ``""``."""
        raise NotImplementedError

    async def ask_for_tls(self, conn: Conn) -> tuple[Reply, str | None]:
        """Send STARTTLS; the reply and, if the server said no, the part of its reply that says so."""
        raise NotImplementedError

    async def capabilities_after_tls(self, conn: Conn) -> tuple[str, ...] | None:
        """The capabilities asked again inside TLS; None after recording a problem."""
        raise NotImplementedError

    async def after_hello(self, conn: Conn) -> Conn | None:
        """What the protocol does once the session is set up; returns the connection to say goodbye on."""
        return conn

    # -- shared steps ----------------------------------------------------------------------------

    async def read_greeting(self, conn: Conn, is_last: Callable[[str], bool], *, record: bool) -> tuple[Reply, str]:
        """The server's first reply, and a problem (silence, a reset, garbage) or ``""``.

        ``record`` stores the greeting (main connection only); its timing is stored by the
        protocol once it knows the greeting is one.
        """
        self.st.step = READING_GREETING
        reply = await conn.reply(is_last)
        if conn.started is not None:
            # From the start of the connect, not from the first read: a busy event loop resumes this
            # coroutine late, and a clock started then would take the lag off the server's delay (a
            # 400 ms greeting was once measured as 164 ms). The TCP handshake is included: an upper
            # bound that is never below what the server really waited.
            reply.elapsed_ms = (time.monotonic() - conn.started) * 1000
        if record and reply.lines:
            self.st.learn(greeting=reply.first)
        if reply.ok:
            return reply, ""
        if reply.problem.startswith("no reply within"):
            return reply, Problem("problem.no_greeting", "no greeting within {seconds} s (tarpit?)",
                                  seconds=f"{conn.timeout:g}")
        return reply, Problem("problem.greeting", "greeting: {problem}", problem=reply.problem)

    def refuses_service(self, line: str) -> Problem:
        return greeting_refusal(line)

    async def upgrade(self, conn: Conn) -> Conn | None:
        """TLS on ``conn`` (implicit or after STARTTLS was accepted); records ``st.tls``."""
        self.tls_agreed = True
        self.st.step = TLS_HANDSHAKE
        reopen = self.reopen_implicit if self.implicit else self.reopen_starttls
        tls, tls_conn = await secure(conn, sni=self.sni, ca_file=self.ca_file, reopen=reopen)
        self.st.learn(tls=tls)
        if tls_conn is None:
            self.st.fail(tls.error)
        return tls_conn

    async def reopen_implicit(self, transcript: Transcript | None = None) -> tuple[Conn | None, str]:
        return await self.st.connect(main=False, transcript=transcript)

    async def reopen_starttls(self, transcript: Transcript | None = None) -> tuple[Conn | None, str]:
        conn, why = await self.st.connect(main=False, transcript=transcript)
        if conn is None:
            return None, why
        problem = await self.to_starttls(conn)
        if problem:
            conn.transcript.note(problem)
            await conn.quit(self.goodbye(), wait=False)
            return None, problem
        return conn, ""

    async def legacy_opener(self) -> tuple[Conn | None, str]:
        """Legacy handshakes get their own connections; their dialogue stays out of the transcript."""
        scratch = Transcript()
        if self.implicit:
            return await self.reopen_implicit(scratch)
        return await self.reopen_starttls(scratch)


def single_line(line: str) -> bool:
    return True


def refused(command: str, reply: str) -> Problem:
    """``"STARTTLS refused: 454 TLS not available"``: the server said no, in its words."""
    return Problem("problem.refused", "{command} refused: {reply}", command=command, reply=reply)
