"""POP3 (110, STLS) and POP3S (995) probes: greeting and CAPA before and after TLS.

``USER`` or ``SASL PLAIN`` offered before STLS means the password may travel in clear
(R12). CAPA (RFC 2449) is optional for old servers; a ``-ERR`` answer leaves the
capabilities empty rather than failing the probe. No login is attempted here.
"""

from __future__ import annotations

from collections.abc import Callable

from auditapp.collectors.probes.dialogue import Dialogue, single_line
from auditapp.collectors.probes.lines import Reply
from auditapp.collectors.probes.parsing import parse_pop3_capa, pop3_ok
from auditapp.collectors.probes.session import Conn, ProbeState, run_probe
from auditapp.collectors.service_facts import EndpointProbe
from auditapp.core.problem import Problem, labelled


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
    starttls_command = "STLS"  # RFC 2595 §4

    async def _greeting(self, conn: Conn, *, record: bool) -> str:
        reply, problem = await self.read_greeting(conn, single_line, record=record)
        if problem:
            return problem
        if record:
            self.st.learn(greeting_ms=reply.elapsed_ms)
        if reply.first.startswith("-ERR"):
            return self.refuses_service(reply.first)
        if not pop3_ok(reply.first):
            return Problem("problem.not_pop3_greeting", "greeting is not a POP3 greeting: '{line}'",
                           line=reply.first[:80])
        return ""

    async def _capa(self, conn: Conn) -> tuple[str, ...] | None:
        self.st.step = "CAPA"
        reply = await conn.command("CAPA", multiline_end())
        if not reply.ok:
            self.st.fail(labelled("CAPA", reply.problem))
            return None
        if not pop3_ok(reply.first):
            conn.transcript.note("the server does not support CAPA (RFC 2449)")
            return ()
        return parse_pop3_capa(reply.lines)

    async def hello(self, conn: Conn) -> tuple[str, ...] | None:
        problem = await self._greeting(conn, record=True)
        if problem:
            self.st.fail(problem)
            return None
        return await self._capa(conn)

    async def before_tls(self, conn: Conn) -> str:
        return await self._greeting(conn, record=False)

    async def ask_for_tls(self, conn: Conn) -> tuple[Reply, str | None]:
        reply = await conn.command("STLS", single_line)
        return reply, None if pop3_ok(reply.first) else reply.first

    async def capabilities_after_tls(self, conn: Conn) -> tuple[str, ...] | None:
        return await self._capa(conn)
