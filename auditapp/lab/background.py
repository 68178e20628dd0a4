"""The lifecycle shared by the lab servers: an asyncio server in a daemon thread.

``start()`` returns once the server listens (or raises what stopped it from starting);
``stop()`` ends it from any thread. Subclasses implement ``_serve()``, which must call
``self._ready.set()`` once listening and then ``await self._stop.wait()``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Self


class BackgroundServer:
    host: str
    port: int
    thread_name = "lab"

    def _init_background(self) -> None:
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    def _before_start(self) -> None:
        """Hook: prepare what the server needs (certificates, ...) before the thread starts."""

    def _after_stop(self) -> None:
        """Hook: clean up after the thread has ended."""

    async def _serve(self) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        if self._thread is not None:  # already running (e.g. start() then ``with``)
            return self
        self._before_start()
        if self.port == 0:
            self.port = free_port(self.host)
        self._thread = threading.Thread(target=self._run, name=f"{self.thread_name}:{self.port}", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error:
            raise RuntimeError(f"{self.thread_name} could not start: {self._error}") from self._error
        return self

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread:
            self._thread.join(5)
        self._after_stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()


def free_port(host: str) -> int:
    """A port free for both UDP and TCP on ``host`` (the DNS server needs both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((host, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")
