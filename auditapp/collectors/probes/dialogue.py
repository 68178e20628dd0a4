"""The shape every protocol probe shares: connect, talk, maybe TLS, goodbye, legacy handshakes.

Subclasses supply the protocol: :meth:`Dialogue.talk` for the main dialogue and
:meth:`Dialogue.to_starttls` for bringing a fresh connection to its STARTTLS point (needed
to reconnect after an untrusted certificate and for the legacy-version handshakes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from auditapp.collectors.probes.session import Conn, ProbeState
from auditapp.collectors.probes.tls import probe_legacy, secure
from auditapp.collectors.probes.transcript import Transcript
from auditapp.collectors.service_facts import IMPLICIT_TLS, TlsInfo


class Dialogue:
    """One probe of one endpoint; fills :class:`ProbeState` as it goes, never raises on purpose."""

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
            st.step = "saying goodbye"
            await conn.quit(self.goodbye(), wait=not st.problem)
        if self.tls_agreed and st.tls is not None and st.tls.timed_out:
            # A server that stalled the main handshake would stall these too: one timeout
            # per dead endpoint, not three.
            st.tls = replace(st.tls, legacy_problem="not tried: the TLS handshake timed out")
        elif self.tls_agreed:
            # After the main dialogue, not inside it: separate connections, one per version.
            st.step = "legacy TLS handshakes"
            base = replace(st.tls or TlsInfo(ok=False, sni=self.sni),
                           legacy_problem="the legacy handshakes did not finish within the probe's time budget")
            st.tls = base  # kept if the budget runs out below
            st.tls = await probe_legacy(base, self.legacy_opener, sni=self.sni, transcript=st.transcript)

    async def talk(self, first: Conn) -> Conn | None:
        """The main dialogue; returns the connection to say goodbye on (None if it is gone)."""
        raise NotImplementedError

    async def to_starttls(self, conn: Conn) -> str:
        """Bring a fresh connection to the point where the server expects a ClientHello; a problem or ``""``."""
        raise NotImplementedError

    async def upgrade(self, conn: Conn) -> Conn | None:
        """TLS on ``conn`` (implicit or after STARTTLS was accepted); records ``st.tls``."""
        self.tls_agreed = True
        self.st.step = "TLS handshake"
        reopen = self.reopen_implicit if self.implicit else self.reopen_starttls
        self.st.tls, tls_conn = await secure(conn, sni=self.sni, ca_file=self.ca_file, reopen=reopen)
        if tls_conn is None:
            self.st.fail(self.st.tls.error)
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

