"""IMAP (143, STARTTLS) and IMAPS (993) probes: greeting, capabilities before and after TLS.

R12 asks whether a password can cross the wire in clear: that shows in the capabilities
before TLS (``LOGINDISABLED`` present or not, ``AUTH=PLAIN`` offered in clear) and in
whether STARTTLS is offered at all. No login is attempted here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from auditapp.collectors.probes.dialogue import Dialogue, single_line
from auditapp.collectors.probes.lines import Reply
from auditapp.collectors.probes.parsing import (
    has_capability,
    imap_greeting_caps,
    imap_tagged_status,
    parse_imap_capability,
)
from auditapp.collectors.probes.session import Conn, ProbeState, run_probe
from auditapp.collectors.service_facts import EndpointProbe, TlsInfo


async def probe_imap(address: str, port: int, service: str, *, sni: str, timeout: float,
                     ca_file: str | None = None) -> EndpointProbe:
    """Probe one IMAP endpoint (``service`` is ``imap`` or ``imaps``). Never raises."""
    st = ProbeState(address, port, service, timeout)
    return await run_probe(st, _ImapDialogue(st, sni=sni, ca_file=ca_file).run)


class _ImapDialogue(Dialogue):
    def __init__(self, st: ProbeState, *, sni: str, ca_file: str | None) -> None:
        super().__init__(st, sni=sni, ca_file=ca_file)
        self._tags = (f"a{n}" for n in itertools.count(1))

    def goodbye(self) -> tuple[str, Callable[[str], bool]]:
        tag = next(self._tags)
        return f"{tag} LOGOUT", lambda line: imap_tagged_status(line, tag) is not None

    async def _tagged(self, conn: Conn, command: str) -> tuple[Reply, str | None]:
        """Send a tagged command; the reply and its status (OK/NO/BAD), or None after a problem."""
        tag = next(self._tags)
        reply = await conn.command(f"{tag} {command}", lambda line: imap_tagged_status(line, tag) is not None)
        return reply, (imap_tagged_status(reply.last, tag) if reply.ok else None)

    async def _greeting(self, conn: Conn, *, record: bool) -> tuple[tuple[str, ...] | None, str]:
        """The greeting's capabilities (None if it lists none), or a problem."""
        self.st.step = "reading the greeting"
        reply = await conn.reply(single_line)
        if record and reply.lines:
            self.st.greeting = reply.first
        if not reply.ok:
            if reply.problem.startswith("no reply within"):
                return None, f"no greeting within {conn.timeout:g} s (tarpit?)"
            return None, f"greeting: {reply.problem}"
        words = reply.first.split(maxsplit=2)
        status = words[1].upper() if len(words) >= 2 and words[0] == "*" else ""
        if status not in ("OK", "PREAUTH", "BYE"):
            return None, f"greeting is not an IMAP greeting: '{reply.first[:80]}'"
        if record:
            self.st.greeting_ms = reply.elapsed_ms
        if status == "BYE":
            return None, f"the server refuses service in its greeting: {reply.first}"
        if status == "PREAUTH":
            conn.transcript.note("PREAUTH: the server considers the connection logged in already")
        return imap_greeting_caps(reply.first), ""

    async def _capabilities(self, conn: Conn, known: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if known is not None:
            return known
        self.st.step = "CAPABILITY"
        reply, status = await self._tagged(conn, "CAPABILITY")
        if status != "OK":
            self.st.fail(f"CAPABILITY: {reply.problem or reply.last}")
            return None
        return parse_imap_capability(reply.lines)

    async def talk(self, first: Conn) -> Conn | None:
        st = self.st
        conn: Conn | None = first
        if self.implicit:
            conn = await self.upgrade(first)
            if conn is None:
                return None
        known, problem = await self._greeting(conn, record=True)
        if problem:
            st.fail(problem)
            return conn
        caps = await self._capabilities(conn, known)
        if caps is None:
            return conn
        if self.implicit:
            st.caps_tls = caps
            return conn
        st.caps_plain = caps
        st.starttls_offered = has_capability(caps, "STARTTLS")
        if not st.starttls_offered:
            return conn
        st.step = "STARTTLS"
        reply, status = await self._tagged(conn, "STARTTLS")
        if status is None:
            st.fail(f"STARTTLS: {reply.problem}")
            return conn
        if status != "OK":
            st.tls = TlsInfo(ok=False, error=f"STARTTLS refused: {reply.last}", sni=self.sni)
            return conn
        conn = await self.upgrade(conn)
        if conn is None:
            return None
        # RFC 3501 §6.2.1: capabilities learned before TLS must be discarded and asked again.
        st.caps_tls = await self._capabilities(conn, None) or ()
        return conn

    async def to_starttls(self, conn: Conn) -> str:
        _, problem = await self._greeting(conn, record=False)
        if problem:
            return problem
        reply, status = await self._tagged(conn, "STARTTLS")
        return "" if status == "OK" else f"STARTTLS: {reply.problem or reply.last}"
