"""What DNSSEC validation and the TLS scan add to an audit, with real round trips (issue 16).

Run: ``python -m bench.bench_transport`` (loopback only, needs BIND 9 with bind9-utils and Postfix,
as the lab tests do; about a minute; stops by itself).

Issue 16's speed rule: DNSSEC validation and the TLS scans must not lengthen an audit beyond
1.5x its critical path. Loopback has no latency, so every server here sits behind a small proxy
that holds each packet (DNS over UDP and TCP) or each chunk of a TCP stream for half a round trip
in each direction. Real servers answer behind it: BIND 9 serving the signed lab tree
(tests/lab/dnssec_lab.py) and the weak and BSI-conform lab Postfixes (tests/lab/tls_lab.py).

(a) ``dnssec_ratio``: a DNS-only audit of ``signed.seclab`` with 50 ms per DNS round trip, wall
    time with DNSSEC validation over the same audit without it (the validator's job replaced by
    one that returns at once). The audit without it is its own critical path here: its DNS
    chain (MX -> host -> ...) is what every run waits for. Goal <= 1.5.
(b) ``tls_scan_ratio``: the service probes of four TLS endpoints (two Postfixes, ports 25-style
    STARTTLS and implicit TLS) with 20 ms per TCP round trip, wall time of probes and TLS scan
    side by side (as the engine runs them) over the probes alone. Goal <= 1.5.
Also printed: the scan alone, the scan without the two finished-handshake questions
(client renegotiation, 0-RTT), and the connections each scan opened.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from auditapp.audit import engine as engine_mod
from auditapp.audit.engine import EngineConfig, audit
from auditapp.collectors import tls_scan as tls_scan_mod
from auditapp.collectors.probes import probe_endpoint
from auditapp.collectors.tls_scan import scan_endpoint
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsClient, Nameserver

GOALS = {"dnssec_ratio": ("<=", 1.5), "tls_scan_ratio": ("<=", 1.5)}
RUNS = 5
DNS_RTT = 0.050
TCP_RTT = 0.020


def verdict(metric: str, value: float) -> str:
    op, goal = GOALS[metric]
    ok = value <= goal if op == "<=" else value >= goal
    return f"goal {op} {goal:g}: {'met' if ok else 'MISSED'}"


# -- latency: a proxy that holds every packet / chunk for half a round trip each way ----------------


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, upstream: tuple[str, int], delay: float) -> None:
        self.upstream, self.delay = upstream, delay
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        asyncio.get_running_loop().create_task(self._relay(data, addr))

    async def _relay(self, data: bytes, client: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(self.delay)
        answer: asyncio.Future[bytes] = loop.create_future()

        class One(asyncio.DatagramProtocol):
            def datagram_received(self, reply: bytes, _addr: tuple[str, int]) -> None:
                if not answer.done():
                    answer.set_result(reply)

        transport, _ = await loop.create_datagram_endpoint(One, remote_addr=self.upstream)
        try:
            transport.sendto(data)
            reply = await asyncio.wait_for(answer, 5)
            await asyncio.sleep(self.delay)
            if self.transport is not None:
                self.transport.sendto(reply, client)
        except TimeoutError:
            pass
        finally:
            transport.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy one direction, each chunk ``delay`` later (chunks stay in order: one queue per direction)."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def send() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(send())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((time.monotonic() + delay, data))
    except ConnectionError:
        pass
    queue.put_nowait((time.monotonic() + delay, b""))
    await sender


class LatencyProxy:
    """Proxies on 127.0.0.1 in a thread of their own; ``add_tcp``/``add_udp`` return the local port."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def _call(self, coro: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)  # type: ignore[arg-type]

    def add_tcp(self, host: str, port: int, rtt: float) -> int:
        async def start() -> int:
            async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
                try:
                    ur, uw = await asyncio.open_connection(host, port)
                except OSError:
                    w.close()
                    return
                await asyncio.gather(_pipe(r, uw, rtt / 2), _pipe(ur, w, rtt / 2), return_exceptions=True)

            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            return server.sockets[0].getsockname()[1]

        return self._call(start())

    def add_dns(self, host: str, port: int, rtt: float) -> int:
        """UDP and TCP on the same local port (a DNS client falls back to TCP for large answers)."""
        async def start() -> int:
            for _ in range(20):
                transport, _ = await self.loop.create_datagram_endpoint(
                    lambda: _Udp((host, port), rtt / 2), local_addr=("127.0.0.1", 0))
                local = transport.get_extra_info("sockname")[1]
                try:
                    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
                        ur, uw = await asyncio.open_connection(host, port)
                        await asyncio.gather(_pipe(r, uw, rtt / 2), _pipe(ur, w, rtt / 2), return_exceptions=True)

                    await asyncio.start_server(handle, "127.0.0.1", local)
                    return local
                except OSError:
                    transport.close()
            raise RuntimeError("no free port for UDP and TCP")

        return self._call(start())

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self._call(cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def _median(fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(RUNS))


# -- (a) DNSSEC -------------------------------------------------------------------------------------


def bench_dnssec(proxy: LatencyProxy) -> float:
    from lab.dnssec_lab import DnssecLab

    lab = DnssecLab().start()
    try:
        assert lab.server is not None
        port = proxy.add_dns("127.0.0.1", lab.server.port, DNS_RTT)
        target = AuditTarget(domain="signed.seclab", services=False, dnsbl_zones=(),
                             trust_anchor=str(lab.anchor_file))

        def once() -> float:
            client = DnsClient([Nameserver("127.0.0.1", port)], timeout=3.0)
            t = time.perf_counter()
            run = asyncio.run(audit(target, client, EngineConfig(timeout=3.0, smtp_probe=False)))
            took = time.perf_counter() - t
            assert not run.degraded, run.degraded_reason
            return took

        original = engine_mod.collect_dnssec

        async def skipped(*_a: object, **_k: object) -> None:
            return None

        once()  # warm-up: imports, catalog
        with_dnssec = _median(once)
        engine_mod.collect_dnssec = skipped  # type: ignore[assignment]
        try:
            without = _median(once)
        finally:
            engine_mod.collect_dnssec = original
    finally:
        lab.stop()
    ratio = with_dnssec / without
    print(f"(a) DNS-only audit of signed.seclab, {DNS_RTT * 1000:.0f} ms per DNS round trip, median of {RUNS}: "
          f"with DNSSEC validation {with_dnssec * 1000:.0f} ms ({with_dnssec / DNS_RTT:.1f} round trips), "
          f"without {without * 1000:.0f} ms ({without / DNS_RTT:.1f} round trips)")
    print(f"    dnssec_ratio = {ratio:.2f}   [{verdict('dnssec_ratio', ratio)}]")
    return ratio


# -- (b) the TLS scan -------------------------------------------------------------------------------


def bench_tls(proxy: LatencyProxy) -> float:
    from lab.bind import make_lab_root
    from lab.mailservers import PORTS
    from lab.tls_lab import TLS_LAB_ADDRESSES, start_tls_lab

    root = make_lab_root()
    lab = start_tls_lab(root)
    try:
        endpoints = [(proxy.add_tcp(TLS_LAB_ADDRESSES[name], PORTS[service], TCP_RTT), service)
                     for name in ("weak", "bsi") for service in ("smtp", "submissions")]

        async def probes() -> None:
            await asyncio.gather(*(probe_endpoint("127.0.0.1", p, s, sni="mx.tls.test", timeout=3.0)
                                   for p, s in endpoints))

        async def scans() -> list[Any]:
            return await asyncio.gather(*(scan_endpoint("127.0.0.1", p, s, sni="mx.tls.test", timeout=3.0)
                                          for p, s in endpoints))

        async def both() -> None:
            await asyncio.gather(probes(), scans())

        def timed(fn: Callable[[], Awaitable[Any]]) -> float:
            t = time.perf_counter()
            asyncio.run(fn())  # type: ignore[arg-type]
            return time.perf_counter() - t

        timed(probes)
        alone = _median(lambda: timed(probes))
        together = _median(lambda: timed(both))
        scan_only = _median(lambda: timed(scans))
        connections = sum(s.connections for s in asyncio.run(scans()))
        original = tls_scan_mod._sessions

        async def none(*_a: object) -> None:
            return None

        tls_scan_mod._sessions = none  # type: ignore[assignment]
        try:
            no_sessions = _median(lambda: timed(scans))
        finally:
            tls_scan_mod._sessions = original
    finally:
        lab.stop()
        shutil.rmtree(root, ignore_errors=True)
    ratio = together / alone
    print(f"(b) 4 TLS endpoints of the weak and the BSI Postfix, {TCP_RTT * 1000:.0f} ms per TCP round trip, median of "
          f"{RUNS}: probes alone {alone * 1000:.0f} ms, probes and scan together {together * 1000:.0f} ms")
    print(f"    scan alone {scan_only * 1000:.0f} ms ({connections} connections for 4 endpoints); without the "
          f"renegotiation and 0-RTT questions {no_sessions * 1000:.0f} ms")
    print(f"    tls_scan_ratio = {ratio:.2f}   [{verdict('tls_scan_ratio', ratio)}]")
    return ratio


def run() -> dict[str, float]:
    print("# bench_transport: DNSSEC validation and the TLS scan behind a latency proxy (loopback)")
    proxy = LatencyProxy()
    try:
        return {"dnssec_ratio": bench_dnssec(proxy), "tls_scan_ratio": bench_tls(proxy)}
    finally:
        proxy.close()


if __name__ == "__main__":
    run()
