"""One connection of the TLS scan: open it (through STARTTLS where the service needs it) and send a hello.

Split from :mod:`auditapp.collectors.tls_scan` (what to ask, per endpoint) because how a
connection reaches the point of the TLS handshake (SMTP/IMAP/POP3 dialogues, timeouts, the
network guard's budget) changes for other reasons than the scan strategy.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field

from auditapp.collectors.probes import tcp
from auditapp.collectors.probes.parsing import greeting_refusal
from auditapp.collectors.smtp_greeting import CLIENT_NAME
from auditapp.collectors.tls_wire import (
    STARTTLS,
    Answer,
    Closed,
    client_hello,
    is_ip,
    read_flight,
)
from auditapp.core.problem import Problem

#: Connections one endpoint may have open at a time. Per-client limits are higher (Postfix's
#: smtpd_client_connection_count_limit and postscreen's: 50 by default); with the probe's own
#: three this stays well below them. 12 rather than 10: a STARTTLS hello costs 4-5 round trips, and at 10 the queue
#: for the gate, not the server, was the scan's critical path (bench/bench_transport.py).
ENDPOINT_CONNECTIONS = 12



@dataclass
class Endpoint:
    address: str
    port: int
    service: str
    sni: str
    timeout: float
    gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(ENDPOINT_CONNECTIONS))
    connections: int = 0


async def _line(reader: asyncio.StreamReader, timeout: float) -> str:
    raw = await asyncio.wait_for(reader.readline(), timeout)
    if not raw:
        raise Closed("closed")
    return raw.decode("latin-1").rstrip("\r\n")


async def _smtp_reply(reader: asyncio.StreamReader, timeout: float) -> list[str]:
    lines = []
    for _ in range(200):
        line = await _line(reader, timeout)
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return lines
    raise Closed("endless reply")


class NoStarttls(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


async def starttls(ep: Endpoint, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Bring a fresh connection to the point of the handshake (nothing for implicit TLS)."""
    dialect, t = STARTTLS.get(ep.service, ""), ep.timeout
    if dialect == "smtp":
        greeting = await _smtp_reply(reader, t)
        if not greeting[0].startswith("220"):
            raise NoStarttls(greeting_refusal(greeting[0][:80]))
        writer.write(f"EHLO {CLIENT_NAME}\r\n".encode())
        ehlo = await _smtp_reply(reader, t)
        if not any(x[4:].strip().upper() == "STARTTLS" for x in ehlo[1:]):
            raise NoStarttls(Problem("problem.starttls_not_offered", "STARTTLS not offered on the new connection"))
        writer.write(b"STARTTLS\r\n")
        reply = await _smtp_reply(reader, t)
        if not reply[-1].startswith("220"):
            raise NoStarttls(Problem("problem.refused", "{command} refused: {reply}", command="STARTTLS",
                                     reply=reply[-1][:80]))
    elif dialect == "imap":
        greeting = await _line(reader, t)
        if not greeting.upper().startswith("* OK"):
            raise NoStarttls(greeting_refusal(greeting[:80]))
        writer.write(b"a1 STARTTLS\r\n")
        for _ in range(50):
            line = await _line(reader, t)
            if line.upper().startswith("A1 "):
                if not line[3:].upper().startswith("OK"):
                    raise NoStarttls(Problem("problem.refused", "{command} refused: {reply}", command="STARTTLS",
                                             reply=line[:80]))
                break
    elif dialect == "pop3":
        greeting = await _line(reader, t)
        if not greeting.startswith("+OK"):
            raise NoStarttls(greeting_refusal(greeting[:80]))
        writer.write(b"STLS\r\n")
        reply = await _line(reader, t)
        if not reply.startswith("+OK"):
            raise NoStarttls(Problem("problem.refused", "{command} refused: {reply}", command="STLS", reply=reply[:80]))


class ConnectFailed(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


async def opened(ep: Endpoint) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, float]:
    """A fresh connection at the point of the handshake, and its TCP connect time in seconds."""
    state, detail, reader, writer, ms = await tcp.connect(ep.address, ep.port, ep.timeout)
    ep.connections += 1
    if reader is None or writer is None:
        raise ConnectFailed(detail or state.value)
    try:
        await starttls(ep, reader, writer)
    except BaseException:
        await tcp.close(writer, 0.2)
        raise
    return reader, writer, (ms or 0.0) / 1000


async def hello(ep: Endpoint, version: str, suites: list[int], **kw: object) -> Answer:
    """One ClientHello on a fresh connection, and the server's first flight."""
    async with ep.gate:
        reader, writer, rtt = await opened(ep)
        # A hello the server may not understand (SSLv2 bytes, an old version) waits ten round trips
        # (at least 1 s), not a full timeout: some servers keep reading instead of answering.
        wait = ep.timeout if version in ("TLSv1.2", "TLSv1.3") else min(ep.timeout, max(1.0, 10 * rtt))
        try:
            writer.write(client_hello(version, suites, sni=ep.sni, **kw))  # type: ignore[arg-type]
            try:
                return await read_flight(reader, wait, version)
            except (Closed, ConnectionError):
                return Answer()  # closed instead of an alert: not accepted either
            except TimeoutError:
                return Answer(silent=True)
        finally:
            await tcp.close(writer, 0.2)


async def tls13_chain(ep: Endpoint) -> tuple[bytes, ...]:
    """The chain of a TLS 1.3-only server (encrypted in the handshake): a real handshake, not verified."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    async with ep.gate:
        _reader, writer, _rtt = await opened(ep)
        try:
            async with asyncio.timeout(ep.timeout):
                await writer.start_tls(ctx, server_hostname=ep.sni if ep.sni and not is_ip(ep.sni) else None)
            sslobj = writer.get_extra_info("ssl_object")
            inner = getattr(sslobj, "_sslobj", None)
            chain = getattr(inner, "get_unverified_chain", None) or getattr(sslobj, "get_unverified_chain", None)
            if chain is not None:
                return tuple(c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain() or ())  # type: ignore[attr-defined]
            leaf = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
            return (leaf,) if leaf else ()
        except (ssl.SSLError, OSError, TimeoutError):
            return ()
        finally:
            await tcp.close(writer, 0.2)
