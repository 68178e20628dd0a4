"""The two scan questions that need a finished handshake: client renegotiation and 0-RTT (issue 16).

internet.nl's mail test asks both; the first-flight scan (collectors/tls_scan.py) cannot, because
the answers come only after the keys are agreed.

*Client-initiated renegotiation* (TLS up to 1.2): the client finishes a TLS 1.2 handshake
(collectors/tls12_client.py) and sends a new ClientHello inside the session, with the RFC 5746
renegotiation_info. A ServerHello back means the server lets any client make it redo the
expensive part of the handshake at will (a cheap denial of service, RFC 9325 §3.5); an alert
(``no_renegotiation``) or a hang-up means it refuses. Silence is not a verdict.

*0-RTT* (TLS 1.3): a server that accepts early data says so in its session tickets: a
NewSessionTicket with the ``early_data`` extension and its ``max_early_data_size`` (RFC 8446
§4.6.1). The ticket arrives encrypted after the handshake; Python's ssl module shows it, decrypted,
to the context's message callback (``SSLContext._msg_callback``, CPython's TLS debugging hook,
present since 3.8 and used here because nothing public shows the ticket). The test reads the
ticket, it does not send early data: the ticket's promise is the finding, and the only data a
replay could repeat would be ours. Without the hook the result is not determined, never a pass.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
from dataclasses import dataclass

from auditapp.collectors.probes import tcp
from auditapp.collectors.smtp_greeting import CLIENT_NAME
from auditapp.collectors.tls12_client import ALERT, HANDSHAKE, SUITES, HandshakeFailed, Session, client_hello
from auditapp.collectors.tls_connection import Endpoint, opened
from auditapp.collectors.tls_wire import is_ip
from auditapp.core.problem import Problem

#: TLS alert no_renegotiation (RFC 5246 §7.2.2).
NO_RENEGOTIATION = 100
#: What makes each STARTTLS service answer after the handshake (implicit TLS services greet first).
_NUDGE = {"smtp": f"EHLO {CLIENT_NAME}\r\n".encode(), "submission": f"EHLO {CLIENT_NAME}\r\n".encode(),
          "imap": b"a1 NOOP\r\n", "pop3": b"NOOP\r\n"}


@dataclass(frozen=True)
class Renegotiation:
    """True: the server answered a ClientHello inside the session; None: not determined (``detail``)."""

    allowed: bool | None
    detail: str


@dataclass(frozen=True)
class EarlyData:
    """True: a session ticket allowed early data (``max_early_data`` bytes); None: not determined."""

    accepted: bool | None
    max_early_data: int
    tickets: int
    detail: str


def _failed(what: str, reason: str) -> str:
    return Problem("problem.tls_failed", "TLS handshake failed: {reason}", reason=f"{what}: {reason}")


async def client_renegotiation(ep: Endpoint) -> Renegotiation:
    """Finish a TLS 1.2 handshake, send a renegotiating ClientHello, and read how the server answers."""
    async with ep.gate:
        reader, writer, rtt = await opened(ep)
        try:
            session = Session(reader, writer, ep.timeout)
            try:
                await session.handshake(ep.sni)
            except HandshakeFailed as exc:
                return Renegotiation(None, _failed("TLSv1.2 handshake for the renegotiation test", str(exc)))
            except TimeoutError:
                return Renegotiation(None, _failed("TLSv1.2 handshake for the renegotiation test", "no answer"))
            session.send(HANDSHAKE, client_hello(list(SUITES), sni=ep.sni, renegotiation=session.client_verify))
            await writer.drain()
            # A server may send application data first (an implicit-TLS greeting): skip it. Ten round
            # trips (at least 1 s) are plenty for an answer to a hello the server reads at once.
            session.timeout = min(ep.timeout, max(1.0, 10 * rtt))
            try:
                for _ in range(16):
                    kind, body = await session.record()
                    if kind == ALERT:
                        code = body[1] if len(body) > 1 else -1
                        name = "no_renegotiation" if code == NO_RENEGOTIATION else f"alert {code}"
                        return Renegotiation(False, f"refused ({name})")
                    if kind == HANDSHAKE and body[:1] == b"\x02":
                        return Renegotiation(True, "the server answered with a ServerHello")
                return Renegotiation(None, _failed("renegotiation", "no ServerHello or alert in 16 records"))
            except HandshakeFailed as exc:
                return Renegotiation(False, f"refused ({exc})")
            except TimeoutError:
                return Renegotiation(None, _failed("renegotiation", f"no answer within {session.timeout:g} s"))
        finally:
            await tcp.close(writer, 0.2)


def early_data_size(ticket: bytes) -> int | None:
    """max_early_data_size of a NewSessionTicket message (with its 4-byte header), or None if it has none."""
    body = ticket[4:]
    pos = 8  # ticket_lifetime, ticket_age_add
    pos += 1 + body[pos]  # ticket_nonce<0..255>
    pos += 2 + struct.unpack("!H", body[pos:pos + 2])[0]  # ticket<1..2^16-1>
    end = pos + 2 + struct.unpack("!H", body[pos:pos + 2])[0]
    pos += 2
    while pos + 4 <= min(end, len(body)):
        kind, size = struct.unpack("!HH", body[pos:pos + 4])
        if kind == 0x002A and size == 4:  # early_data
            return struct.unpack("!I", body[pos + 4:pos + 8])[0]
        pos += 4 + size
    return None


async def zero_rtt(ep: Endpoint) -> EarlyData:
    """A TLS 1.3 handshake; the session tickets the server sends say whether it would accept early data."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    tickets: list[bytes] = []

    def seen(_conn: object, direction: str, _version: object, content_type: object, msg_type: object,
             data: bytes) -> None:
        if direction == "read" and content_type == 22 and msg_type == 4:  # handshake, NewSessionTicket
            tickets.append(bytes(data))

    if not hasattr(ctx, "_msg_callback"):
        return EarlyData(None, 0, 0, _failed("0-RTT test", "this Python does not show session tickets"))
    ctx._msg_callback = seen  # type: ignore[attr-defined]
    async with ep.gate:
        reader, writer, _rtt = await opened(ep)
        try:
            try:
                async with asyncio.timeout(ep.timeout):
                    await writer.start_tls(ctx, server_hostname=ep.sni if ep.sni and not is_ip(ep.sni) else None)
            except (ssl.SSLError, OSError) as exc:
                return EarlyData(None, 0, 0, _failed("TLSv1.3 handshake for the 0-RTT test", type(exc).__name__))
            except TimeoutError:
                return EarlyData(None, 0, 0, _failed("TLSv1.3 handshake for the 0-RTT test", "no answer"))
            # Tickets come right after the handshake, ahead of any application data: one line back
            # (the greeting of an implicit-TLS service, or the answer to a no-op) means they are in.
            nudge = _NUDGE.get(ep.service)
            if nudge:
                writer.write(nudge)
            try:
                async with asyncio.timeout(ep.timeout):
                    await reader.readline()
            except (TimeoutError, ssl.SSLError, OSError):
                if not tickets:
                    return EarlyData(None, 0, 0, _failed("0-RTT test", "no answer after the handshake"))
        finally:
            await tcp.close(writer, 0.2)
    sizes = []
    for t in tickets:
        try:
            sizes.append(early_data_size(t))
        except (IndexError, struct.error):
            return EarlyData(None, 0, len(tickets), _failed("0-RTT test", "malformed NewSessionTicket"))
    allowed = max((s for s in sizes if s is not None), default=0)
    if allowed:
        return EarlyData(True, allowed, len(tickets), f"session ticket allows {allowed} bytes of early data")
    how = "no session ticket" if not tickets else f"{len(tickets)} session ticket(s) without early_data"
    return EarlyData(False, 0, len(tickets), how)
