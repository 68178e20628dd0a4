"""A pause between connections to one server, for mail servers that limit how often a client connects.

An audit opens 30 to 40 connections to each mail server within a second or two: the probe's
dialogues, the TLS scan's hellos and the two session questions. A server with a connection rate
limit (Postfix's ``smtpd_client_connection_rate_limit`` through anvil, postscreen, fail2ban on
the log) answers the rest with ``421 ... too many connections``, and what those connections were
to find out can only be "not tested". With ``--connect-interval`` the starts of connections to
one address are spaced at least that far apart, whatever port or collector opens them.

Why a context variable and not a parameter: a dozen places open connections (the probes, the
scan's hellos, the session questions, the HELO greeting), three call levels below the engine; all
of them pass through :func:`turn`, and the run sets the pacer once (:func:`paced`). Tasks started
inside the run inherit it, as they inherit the event loop.

Waiting for a turn is not the server's slowness, so it must not eat a probe's budget (which
exists to stop a server that stalls): :func:`budget` is ``asyncio.timeout`` whose deadline moves
on by the time its tasks spent waiting for a turn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from contextvars import ContextVar


class Pacer:
    """Hands out connection slots per address, ``interval`` seconds apart."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}

    def reserve(self, address: str) -> float:
        """Take the next slot for ``address``; the seconds until it (0: go now).

        No await between reading and writing the slot, so concurrent tasks on one event loop
        never get the same one; a task cancelled while it waits leaves a gap, never a burst.
        """
        now = time.monotonic()
        slot = max(now, self._next.get(address, now))
        self._next[address] = slot + self.interval
        return slot - now


_PACER: ContextVar[Pacer | None] = ContextVar("auditapp_pacer", default=None)
_BUDGET: ContextVar[asyncio.Timeout | None] = ContextVar("auditapp_budget", default=None)


@contextmanager
def paced(interval: float) -> Iterator[Pacer | None]:
    """Space connections to each address by ``interval`` seconds in this context (0: no pause)."""
    pacer = Pacer(interval) if interval > 0 else None
    token = _PACER.set(pacer)
    try:
        yield pacer
    finally:
        _PACER.reset(token)


async def turn(address: str) -> float:
    """Wait for this address's next connection slot; the seconds waited.

    The budget around the caller moves on by the wait, but only as far as the deadline it had
    when the slot was taken plus the wait: two tasks of one probe waiting side by side extend
    it once, not twice.
    """
    pacer = _PACER.get()
    if pacer is None:
        return 0.0
    wait = pacer.reserve(address)
    if wait <= 0:
        return 0.0
    budget_cm = _BUDGET.get()
    deadline = budget_cm.when() if budget_cm is not None else None
    await asyncio.sleep(wait)
    if budget_cm is not None and deadline is not None and not budget_cm.expired():
        current = budget_cm.when()
        with suppress(RuntimeError):  # a task that outlived its budget's block: nothing left to move
            budget_cm.reschedule(max(current if current is not None else 0.0, deadline + wait))
    return wait


@asynccontextmanager
async def budget(seconds: float) -> AsyncIterator[asyncio.Timeout]:
    """``asyncio.timeout(seconds)`` that does not count the time spent waiting in :func:`turn`."""
    async with asyncio.timeout(seconds) as cm:
        token = _BUDGET.set(cm)
        try:
            yield cm
        finally:
            _BUDGET.reset(token)
