"""TCP connect with an honest outcome: refused, filtered, unreachable and open are different findings.

A port that answers the SYN with RST is closed (nothing listens); one that never answers is
filtered or the host is down; "no route" is a network problem on our side or theirs. The
report must not call a firewalled port "closed", so the state is kept exactly.
"""

from __future__ import annotations

import asyncio
import errno
import time

from auditapp.collectors import pacing
from auditapp.collectors.service_facts import PortState
from auditapp.core.problem import Problem

#: Bytes the StreamReader may buffer; our own reader never asks for more than a few KiB at a time.
STREAM_LIMIT = 64 * 1024

# ENETUNREACH/ENETDOWN say the auditor's machine has no route (e.g. no IPv6): a local
# problem, reported as ERROR so no check blames the server for it.
_UNREACHABLE = frozenset({errno.EHOSTUNREACH, errno.EHOSTDOWN})

Connected = tuple[PortState, str, asyncio.StreamReader | None, asyncio.StreamWriter | None, float | None]


async def connect(address: str, port: int, timeout: float) -> Connected:
    """Open a TCP connection to an IP address.

    Returns ``(state, detail, reader, writer, connect_ms)``; reader and writer are set only
    when the state is OPEN, ``connect_ms`` only when the handshake finished. Never raises.
    A run with a connection interval waits for the address's turn first (collectors/pacing.py);
    the timeout and ``connect_ms`` start after that wait.
    """
    await pacing.turn(address)
    start = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(address, port, limit=STREAM_LIMIT), timeout
        )
    except TimeoutError:
        return _failed(PortState.TIMEOUT, Problem(
            "problem.connect_timeout", "no answer to the connection attempt within {seconds} s",
            seconds=f"{timeout:g}"))
    except ConnectionRefusedError:
        return _failed(PortState.REFUSED, Problem(
            "problem.connect_refused", "connection refused (nothing listens on the port)"))
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        if exc.errno in _UNREACHABLE:
            return _failed(PortState.UNREACHABLE, Problem(
                "problem.unreachable", "unreachable: {reason}", reason=reason))
        if exc.errno == errno.ETIMEDOUT:  # the kernel gave up before we did
            return _failed(PortState.TIMEOUT, Problem(
                "problem.connect_timed_out", "connection timed out: {reason}", reason=reason))
        if exc.errno in (errno.ECONNRESET, errno.ECONNABORTED):
            # Something answered and then tore the connection down (a reset after the SYN-ACK,
            # a middlebox, a rate limit): the port is not closed, the service just was not seen.
            return _failed(PortState.ERROR, Problem(
                "problem.connect_reset", "connection reset during connect (the port is not closed)"))
        return _failed(PortState.ERROR, Problem("problem.connect_failed", "connection failed: {reason}", reason=reason))
    return PortState.OPEN, "", reader, writer, (time.monotonic() - start) * 1000


def _failed(state: PortState, detail: str) -> Connected:
    return state, detail, None, None, None


async def close(writer: asyncio.StreamWriter | None, grace: float = 1.0) -> None:
    """Close without waiting long: a peer that never acknowledges the close must not hold the probe."""
    if writer is None:
        return
    try:
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), grace)
    except Exception:  # a timeout, a reset, an SSL shutdown error: closing must never fail a probe
        writer.transport.abort()
