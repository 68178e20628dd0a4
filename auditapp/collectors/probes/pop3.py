"""POP3 (110, STLS) and POP3S (995) probes: greeting and CAPA before and after TLS.

``USER`` or ``SASL PLAIN`` offered before STLS means the password may travel in clear
(R12). CAPA (RFC 2449) is optional for old servers; a ``-ERR`` answer leaves the
capabilities empty rather than failing the probe. No login is attempted here.
"""

from __future__ import annotations

from collections.abc import Callable

from auditapp.collectors.probes.dialogue import Dialogue, single_line
from auditapp.collectors.probes.parsing import has_capability, parse_pop3_capa, pop3_ok
from auditapp.collectors.probes.session import Conn, ProbeState, run_probe
from auditapp.collectors.service_facts import EndpointProbe, TlsInfo


async def probe_pop3(address: str, port: int, service: str, *, sni: str, timeout: float,
                     ca_file: str | None = None) -> EndpointProbe:
    """Probe one POP3 endpoint (``service`` is ``pop3`` or ``pop3s``). Never raises."""
    st = ProbeState(address, port, service, timeout)
    return await run_probe(st, _Pop3Dialogue(st, sni=sni, ca_file=ca_file).run)


def multiline_end() -> Callable[[str], bool]:
    """A multi-line POP3 response ends with ``.``; a ``-ERR`` status line is the whole response."""
    first = True

    def is_last(line: str) -> bool:
        nonlocal first
        if first:
            first = False
            return not pop3_ok(line)
        return line == "."

    return is_last


class _Pop3Dialogue(Dialogue):
    async def _greeting(self, conn: Conn, *, record: bool) -> str:
        self.st.step = "reading the greeting"
        reply = await conn.reply(single_line)
        if record and reply.lines:
            self.st.greeting = reply.first
        if not reply.ok:
            if reply.problem.startswith("no reply within"):
                return f"no greeting within {conn.timeout:g} s (tarpit?)"
            return f"greeting: {reply.problem}"
        if record:
            self.st.greeting_ms = reply.elapsed_ms
        if reply.first.startswith("-ERR"):
            return f"the server refuses service in its greeting: {reply.first}"
        if not pop3_ok(reply.first):
            return f"greeting is not a POP3 greeting: '{reply.first[:80]}'"
        return ""

    async def _capa(self, conn: Conn) -> tuple[str, ...] | None:
        self.st.step = "CAPA"
        reply = await conn.command("CAPA", multiline_end())
        if not reply.ok:
            self.st.fail(f"CAPA: {reply.problem}")
            return None
        if not pop3_ok(reply.first):
            conn.transcript.note("the server does not support CAPA (RFC 2449)")
            return ()
        return parse_pop3_capa(reply.lines)

    async def talk(self, first: Conn) -> Conn | None:
        st = self.st
        conn: Conn | None = first
        if self.implicit:
            conn = await self.upgrade(first)
            if conn is None:
                return None
        problem = await self._greeting(conn, record=True)
        if problem:
            st.fail(problem)
            return conn
        caps = await self._capa(conn)
        if caps is None:
            return conn
        if self.implicit:
            st.caps_tls = caps
            return conn
        st.caps_plain = caps
        st.starttls_offered = has_capability(caps, "STLS")
        if not st.starttls_offered:
            return conn
        st.step = "STLS"
        reply = await conn.command("STLS", single_line)
        if not reply.ok:
            st.fail(f"STLS: {reply.problem}")
            return conn
        if not pop3_ok(reply.first):
            st.tls = TlsInfo(ok=False, error=f"STLS refused: {reply.first}", sni=self.sni)
            return conn
        conn = await self.upgrade(conn)
        if conn is None:
            return None
        st.caps_tls = await self._capa(conn) or ()
        return conn

    async def to_starttls(self, conn: Conn) -> str:
        problem = await self._greeting(conn, record=False)
        if problem:
            return problem
        reply = await conn.command("STLS", single_line)
        return "" if reply.ok and pop3_ok(reply.first) else f"STLS: {reply.problem or reply.first}"
