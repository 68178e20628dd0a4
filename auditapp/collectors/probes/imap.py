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
from auditapp.collectors.probes.parsing import imap_greeting_caps, imap_tagged_status, parse_imap_capability
from auditapp.collectors.probes.session import Conn, ProbeState, run_probe
from auditapp.collectors.service_facts import EndpointProbe
from auditapp.core.problem import Problem, labelled


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
        reply, problem = await self.read_greeting(conn, single_line, record=record)
        if problem:
            return None, problem
        words = reply.first.split(maxsplit=2)
        status = words[1].upper() if len(words) >= 2 and words[0] == "*" else ""
        if status not in ("OK", "PREAUTH", "BYE"):
            return None, Problem("problem.not_imap_greeting", "greeting is not an IMAP greeting: '{line}'",
                                 line=reply.first[:80])
        if record:
            self.st.learn(greeting_ms=reply.elapsed_ms)
        if status == "BYE":
            return None, self.refuses_service(reply.first)
        if status == "PREAUTH":
            conn.transcript.note("PREAUTH: the server considers the connection logged in already")
        return imap_greeting_caps(reply.first), ""

    async def _capabilities(self, conn: Conn, known: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if known is not None:
            return known
        self.st.step = "CAPABILITY"
        reply, status = await self._tagged(conn, "CAPABILITY")
        if status != "OK":
            self.st.fail(labelled("CAPABILITY", reply.problem or reply.last))
            return None
        return parse_imap_capability(reply.lines)

    async def hello(self, conn: Conn) -> tuple[str, ...] | None:
        known, problem = await self._greeting(conn, record=True)
        if problem:
            self.st.fail(problem)
            return None
        return await self._capabilities(conn, known)

    async def before_tls(self, conn: Conn) -> str:
        _, problem = await self._greeting(conn, record=False)
        return problem

    async def ask_for_tls(self, conn: Conn) -> tuple[Reply, str | None]:
        reply, status = await self._tagged(conn, "STARTTLS")
        return reply, None if status == "OK" else reply.last

    async def capabilities_after_tls(self, conn: Conn) -> tuple[str, ...] | None:
        # RFC 3501 §6.2.1: capabilities learned before TLS must be discarded and asked again.
        return await self._capabilities(conn, None)
