"""What half-dead mail hosts cost an audit: the service probes against one probe timeout.

Run: ``python -m bench.bench_services`` (loopback only, about 30 s, stops by itself).

The goal (issue): "an audit of the lab with all seven ports on three hosts finishes in about
one probe timeout when half of the addresses are dead". The lab:

* a domain whose MX host, submission host (SRV ``_submission(s)._tcp``) and mailbox host
  (SRV ``_imap(s)._tcp``, ``_pop3(s)._tcp``) each have TWO loopback addresses
  (127.0.1.1 .. 127.0.1.6), served by a :class:`~auditapp.lab.dnsserver.LabDnsServer`;
* on the live address of each host a well-behaved :class:`~auditapp.lab.mailresponder.MailResponder`
  on all seven ports (SMTP, submission, SMTPS, IMAP, IMAPS, POP3, POP3S; STARTTLS/implicit TLS,
  certificates from the responders' CAs, which are given as ``ca_file``);
* on the dead address SILENT responders on the same seven ports: they accept the TCP connection
  and never say a word, which is what a black-holed host looks like to a connect-then-wait
  client once the connection is up (loopback cannot drop SYNs without iptables, and there is
  none here). This is the harder case for the probe: a dropped SYN ends at the connect
  timeout, an accepted-but-silent connection goes on to wait for a greeting or a handshake.

So 6 addresses x 7 ports = 42 endpoints, 21 of them dead. Numbers:

(a) ``ratio_to_timeout``: median wall time of a full audit (``EngineConfig(timeout=T)`` and a
    DNS client with the same T, which is what ``auditapp audit --timeout T`` does) over
    :data:`RUNS` runs, divided by T = 2 s. Goal <= 1.5 (chosen: "about one probe timeout" plus
    half a timeout for DNS, discovery, the live dialogues and the polite closes).
(b) ``speedup_vs_sequential``: the sum of the per-endpoint probe wall times (each probe timed
    around ``probe_endpoint`` during run (a)) divided by the audit's wall time. The sum is what
    a tool pays that probes one endpoint after the other (a lower bound: it leaves out DNS).
    There is no switch to force the probes sequential: ``EngineConfig.concurrency`` exists but
    ``collect_services`` gathers every endpoint at once and does not read it. Goal >= 10
    (chosen: with 21 dead endpoints a sequential tool pays >= 21 T; a concurrent one ~1 T).

Also printed: the number of endpoints probed, the slowest probe, and, per dead-address
service, the probe's timeline (connects, greeting waits, TLS handshakes, legacy-TLS
handshakes, closes), taken by timing wrappers around those steps, so a missed goal says which
step waits how long.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import socket
import ssl
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auditapp.audit.engine import EngineConfig, audit
from auditapp.collectors import services as services_mod
from auditapp.collectors.netguard import ENV as LOOPBACK_ENV
from auditapp.collectors.probes import session as session_mod
from auditapp.collectors.probes import tcp as tcp_mod
from auditapp.collectors.service_facts import EndpointProbe, PortState
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.lab.dnsserver import LabDnsServer, RecordSet
from auditapp.lab.mailresponder import Behaviour, MailResponder

TIMEOUT = 2.0
RUNS = 3
#: Hard ceiling for any single audit in this script, so a regression cannot hang it.
CEILING = 60.0
DOMAIN = "svcbench.lab.test"

#: Service -> port; the same numbers on every address, passed to the audit as port overrides.
#: If one of them is taken on one of the addresses, all are shifted by PORT_SHIFT (a few tries).
PORTS = {"smtp": 3025, "submission": 3587, "submissions": 3465, "imap": 3143, "imaps": 3993,
         "pop3": 3110, "pop3s": 3995}
PORT_SHIFT = 100

#: Host -> (live address, dead address).
HOSTS = {
    f"mx.{DOMAIN}": ("127.0.1.1", "127.0.1.2"),
    f"smtp.{DOMAIN}": ("127.0.1.3", "127.0.1.4"),
    f"imap.{DOMAIN}": ("127.0.1.5", "127.0.1.6"),
}

#: Well-behaved responder per service: (behaviour, implicit TLS).
WELL_BEHAVED = {
    "smtp": (Behaviour.SMTP, False), "submission": (Behaviour.SMTP, False), "submissions": (Behaviour.SMTP, True),
    "imap": (Behaviour.IMAP, False), "imaps": (Behaviour.IMAP, True),
    "pop3": (Behaviour.POP3, False), "pop3s": (Behaviour.POP3, True),
}

GOALS = {"svc_ratio_to_timeout": ("<=", 1.5), "svc_speedup_vs_seq": (">=", 10.0)}


# -- the lab --------------------------------------------------------------------------------

def lab_records(ports: dict[str, int]) -> RecordSet:
    rs = RecordSet(soa_owner=DOMAIN)
    rs.add(DOMAIN, "MX", f"10 mx.{DOMAIN}.")
    rs.add(DOMAIN, "TXT", "v=spf1 mx -all")
    rs.add(f"_dmarc.{DOMAIN}", "TXT", "v=DMARC1; p=reject")
    for host, addresses in HOSTS.items():
        for address in addresses:
            rs.add(host, "A", address)
    for service in ("submission", "submissions"):
        rs.add(f"_{service}._tcp.{DOMAIN}", "SRV", f"0 1 {ports[service]} smtp.{DOMAIN}.")
    for service in ("imap", "imaps", "pop3", "pop3s"):
        rs.add(f"_{service}._tcp.{DOMAIN}", "SRV", f"0 1 {ports[service]} imap.{DOMAIN}.")
    return rs


def _ports_free(ports: dict[str, int]) -> bool:
    for live, dead in HOSTS.values():
        for address in (live, dead):
            for port in ports.values():
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio.start_server does
                    try:
                        s.bind((address, port))
                    except OSError:
                        return False
    return True


def pick_ports() -> dict[str, int]:
    for attempt in range(5):
        ports = {s: p + attempt * PORT_SHIFT for s, p in PORTS.items()}
        if _ports_free(ports):
            return ports
    raise RuntimeError(f"no free port set near {sorted(PORTS.values())} on 127.0.1.1-6")


@contextlib.contextmanager
def mail_lab(ports: dict[str, int], tmp: Path) -> Iterator[str]:
    """Start 42 responders; yields a CA bundle trusting the live ones. Stops them all on exit."""
    with contextlib.ExitStack() as stack:
        cas = []
        for host, (live, dead) in HOSTS.items():
            for service, port in ports.items():
                behaviour, implicit = WELL_BEHAVED[service]
                ok = stack.enter_context(MailResponder(behaviour, host=live, port=port, hostname=host,
                                                       implicit_tls=implicit))
                cas.append(Path(ok.ca_file).read_text(encoding="ascii"))
                stack.enter_context(MailResponder(Behaviour.SILENT, host=dead, port=port, hostname=host))
        bundle = tmp / "lab-cas.pem"
        bundle.write_text("".join(cas), encoding="ascii")
        yield str(bundle)


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """The app's own guard: any connection outside 127/8 would be refused with a reason."""
    old = os.environ.get(LOOPBACK_ENV)
    os.environ[LOOPBACK_ENV] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(LOOPBACK_ENV, None)
        else:
            os.environ[LOOPBACK_ENV] = old


# -- timing of probes and of their steps ----------------------------------------------------

_ENDPOINT: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("bench_endpoint", default=None)


@dataclass
class Trace:
    t0: float = field(default_factory=time.perf_counter)
    #: (address, service) -> (start, wall) of the whole probe.
    probes: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    results: dict[tuple[str, str], EndpointProbe] = field(default_factory=dict)
    #: (address, service) -> [(start, wall, step, outcome)].
    steps: dict[tuple[str, str], list[tuple[float, float, str, str]]] = field(default_factory=dict)

    def step(self, start: float, label: str, outcome: str) -> None:
        key = _ENDPOINT.get()
        if key is not None:
            self.steps.setdefault(key, []).append((start - self.t0, time.perf_counter() - start, label, outcome))


@contextlib.contextmanager
def traced() -> Iterator[Trace]:
    """Timing wrappers around probe_endpoint, connect, reply waits, TLS handshakes and closes.

    Only this process's module attributes are swapped, and put back on exit; the code under
    test is unchanged. The wrappers add a perf_counter() call per step.
    """
    trace = Trace()
    real_probe = services_mod.probe_endpoint
    real_connect, real_close = tcp_mod.connect, tcp_mod.close
    real_reply, real_send, real_handshake = session_mod.Conn.reply, session_mod.Conn.send, session_mod.Conn._handshake

    async def probe_endpoint(address: str, port: int, service: str, **kw: Any) -> EndpointProbe:
        key = (address, service)
        token = _ENDPOINT.set(key)
        start = time.perf_counter()
        try:
            result = await real_probe(address, port, service, **kw)
        finally:
            trace.probes[key] = (start - trace.t0, time.perf_counter() - start)
            _ENDPOINT.reset(token)
        trace.results[key] = result
        return result

    async def connect(address: str, port: int, timeout: float) -> Any:
        start = time.perf_counter()
        result = await real_connect(address, port, timeout)
        trace.step(start, "TCP connect", result[0].value)
        return result

    async def close(writer: Any, grace: float = 1.0) -> None:
        start = time.perf_counter()
        await real_close(writer, grace)
        trace.step(start, "close", "")

    async def send(self: Any, line: str, *, secret: bool = False) -> str:
        self._bench_sent = True
        return await real_send(self, line, secret=secret)

    async def reply(self: Any, is_last: Any, timeout: float | None = None) -> Any:
        start = time.perf_counter()
        result = await real_reply(self, is_last, timeout)
        label = "reply wait" if getattr(self, "_bench_sent", False) else "greeting wait"
        trace.step(start, label, "ok" if result.ok else result.problem)
        return result

    async def handshake(self: Any, context: ssl.SSLContext, sni: str) -> Any:
        start = time.perf_counter()
        result = await real_handshake(self, context, sni)
        top = context.maximum_version
        label = (f"legacy {top.name.replace('_', '.')} handshake (own connection)"
                 if top in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1) else "TLS handshake")
        trace.step(start, label, "ok" if result.ok else ("timed out" if result.timed_out else result.error))
        return result

    services_mod.probe_endpoint = probe_endpoint  # type: ignore[assignment]
    tcp_mod.connect, tcp_mod.close = connect, close  # type: ignore[assignment]
    session_mod.Conn.reply, session_mod.Conn.send = reply, send  # type: ignore[method-assign]
    session_mod.Conn._handshake = handshake  # type: ignore[method-assign]
    try:
        yield trace
    finally:
        services_mod.probe_endpoint = real_probe  # type: ignore[assignment]
        tcp_mod.connect, tcp_mod.close = real_connect, real_close  # type: ignore[assignment]
        session_mod.Conn.reply, session_mod.Conn.send = real_reply, real_send  # type: ignore[method-assign]
        session_mod.Conn._handshake = real_handshake  # type: ignore[method-assign]


# -- measurements ---------------------------------------------------------------------------

def target_for(ports: dict[str, int], ca_file: str) -> AuditTarget:
    return AuditTarget(domain=DOMAIN, dnsbl_zones=(), ports=dict(ports), ca_file=ca_file, services=True)


def timed_audit(server: LabDnsServer, target: AuditTarget, timeout: float) -> tuple[float, Trace]:
    client = DnsClient([Nameserver(server.host, server.port)], timeout=timeout)

    async def go() -> None:
        await asyncio.wait_for(audit(target, client, EngineConfig(timeout=timeout, smtp_probe=False)), CEILING)

    with traced() as trace:
        t0 = time.perf_counter()
        trace.t0 = t0
        asyncio.run(go())
        wall = time.perf_counter() - t0
    return wall, trace


def verdict(name: str, value: float) -> str:
    op, goal = GOALS[name]
    ok = value <= goal if op == "<=" else value >= goal
    return f"goal {op} {goal:g}: {'met' if ok else 'MISSED'}"


def _timeline(trace: Trace, key: tuple[str, str]) -> str:
    start, _ = trace.probes[key]
    parts = []
    for at, wall, label, outcome in sorted(trace.steps.get(key, [])):
        if wall < 0.05 and label in ("TCP connect", "close", "reply wait"):
            continue  # loopback-fast steps would only hide the waits
        parts.append(f"@{at - start:.2f} {label} {wall:.2f} s ({outcome})" if outcome else
                     f"@{at - start:.2f} {label} {wall:.2f} s")
    return "; ".join(parts) or "(no step over 50 ms)"


def report(trace: Trace, wall: float, timeout: float) -> None:
    dead = {d for _, d in HOSTS.values()}
    live_probes = [(k, trace.results[k]) for k in trace.results if k[0] not in dead]
    not_ok = [f"{a} {s}: {p.problem or p.state.value}" for (a, s), p in live_probes
              if p.state is not PortState.OPEN or p.problem or (p.tls is not None and p.tls.chain_valid is not True)]
    print(f"    live endpoints: {len(live_probes) - len(not_ok)}/{len(live_probes)} full dialogues with a valid "
          f"chain" + (f"; not clean: {'; '.join(not_ok)}" if not_ok else ""))
    print(f"    dead-address probes by service (address {HOSTS[f'mx.{DOMAIN}'][1]}; the other dead addresses "
          f"behave the same):")
    by_service: dict[str, list[float]] = {}
    for (address, service), (_, probe_wall) in trace.probes.items():
        if address in dead:
            by_service.setdefault(service, []).append(probe_wall)
    mx_dead = HOSTS[f"mx.{DOMAIN}"][1]
    for service in PORTS:
        walls = by_service.get(service, [])
        key = (mx_dead, service)
        if not walls or key not in trace.probes:
            continue
        result = trace.results.get(key)
        print(f"      {service:<11} {max(walls):.2f} s = {max(walls) / timeout:.2f} T  [{_timeline(trace, key)}]")
        if result is not None and result.problem:
            print(f"      {'':<11} problem: {result.problem}")
    slow = [(k, w) for k, (_, w) in trace.probes.items() if w > 1.25 * timeout]
    if slow:
        services = sorted({s for (_, s), _ in slow})
        print(f"    {len(slow)} probes take more than 1.25 T ({', '.join(services)}); the audit's wall time "
              f"{wall:.2f} s is the slowest probe plus {wall - max(w for _, w in trace.probes.values()):.2f} s "
              f"(DNS, discovery, checks)")
    for cause in causes(trace, timeout):
        print(f"    cause: {cause}")


def causes(trace: Trace, timeout: float) -> list[str]:
    """Patterns in the step timings that stretch a dead endpoint's probe beyond one T."""
    found = []
    legacy_after_timeout = closes = 0
    for steps in trace.steps.values():
        main_timed_out = any(label == "TLS handshake" and outcome == "timed out" for _, _, label, outcome in steps)
        legacy = [w for _, w, label, _ in steps if label.startswith("legacy")]
        if main_timed_out and legacy and max(legacy) > 0.5 * timeout:
            legacy_after_timeout += 1
        closes += any(label == "close" and w > 0.5 for _, w, label, _ in steps)
    if legacy_after_timeout:
        found.append(f"{legacy_after_timeout} probes try the legacy TLS 1.0/1.1 handshakes (own connections, after "
                     "the main dialogue) although the main handshake already timed out: +1 T each")
    if closes:
        found.append(f"{closes} probes spend the close grace (1 s) closing connections whose TLS handshake timed out "
                     "(once start_tls is cancelled, wait_closed() never completes)")
    return found


def run() -> dict[str, float]:
    """The measurements; returns the ratios (for run_all)."""
    timeout = TIMEOUT
    ports = pick_ports()
    print(f"# bench_services: {DOMAIN}, 3 hosts x 2 loopback addresses (one live, one SILENT), 7 ports each "
          f"({', '.join(f'{s} {p}' for s, p in ports.items())}); probe timeout T = {timeout:g} s")
    with loopback_only(), tempfile.TemporaryDirectory() as tmp, mail_lab(ports, Path(tmp)) as ca_file, \
            LabDnsServer(lab_records(ports)) as server:
        target = target_for(ports, ca_file)
        # Warm-up without service probes: imports, catalog, check registry.
        asyncio.run(asyncio.wait_for(audit(AuditTarget(domain=DOMAIN, dnsbl_zones=(), services=False),
                                           DnsClient([Nameserver(server.host, server.port)], timeout=timeout),
                                           EngineConfig(timeout=timeout, smtp_probe=False)), CEILING))
        runs = [timed_audit(server, target, timeout) for _ in range(RUNS)]
    runs.sort(key=lambda r: r[0])
    wall, trace = runs[len(runs) // 2]
    walls = [w for w, _ in runs]
    ratio = wall / timeout
    endpoints = len(trace.probes)
    slowest_key, (_, slowest) = max(trace.probes.items(), key=lambda kv: kv[1][1])
    sequential = sum(w for _, w in trace.probes.values())
    speedup = sequential / wall
    print(f"(a) full audit: median wall {wall:.2f} s over {RUNS} runs (min {min(walls):.2f}, max {max(walls):.2f}); "
          f"{endpoints} endpoints probed; slowest probe {slowest:.2f} s ({slowest_key[0]} {slowest_key[1]})")
    print(f"    ratio_to_timeout = {ratio:.2f}   [{verdict('svc_ratio_to_timeout', ratio)}]")
    report(trace, wall, timeout)
    print(f"(b) sequential (estimated: sum of the {endpoints} per-endpoint probe times of the median run; no "
          f"switch exists to force them sequential): {sequential:.1f} s")
    print(f"    speedup_vs_sequential = {speedup:.1f}   [{verdict('svc_speedup_vs_seq', speedup)}]")
    return {"svc_ratio_to_timeout": ratio, "svc_speedup_vs_seq": speedup}


if __name__ == "__main__":
    run()
