"""How close one audit comes to its critical path, and what a dead resolver costs.

Run: ``python -m bench.bench_audit`` (loopback only, ~10 s, stops by itself).

Why these three numbers. An audit is ~50 small DNS questions; the network round trip, not
the CPU, is its cost. The shortest possible audit is therefore the longest chain of
questions that *depend* on each other (an SPF include must be read before its own includes
can be asked), times the round-trip time. So:

(a) ``ratio_to_critical_path``: wall time of a full audit (3 sending IPs, 2 DNSBL zones)
    over a lab server that delays every answer by 50 ms, divided by that chain length x 50 ms.
    The chain is derived from the zone data itself (:func:`critical_chain`), not hard-coded.
    Goal <= 1.5.
(b) ``speedup_vs_sequential``: the same audit with a client that has one question in flight
    at a time (``max_inflight=1``), i.e. what a straightforward sequential tool pays.
    Goal >= 5.
(c) ``ratio_to_timeout``: ``auditapp audit --timeout T`` against a nameserver that swallows
    every packet. Dependent questions are never asked when their parent timed out, so the
    whole audit must cost about one T, not one T per question or per chain. Goal <= 1.2.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dns.rdatatype

from auditapp.audit.engine import EngineConfig, audit
from auditapp.cli.main import main as cli_main
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.lab.dnsserver import LabDnsServer, RecordSet
from auditapp.spf import SpfSyntaxError, parse_record, select_spf_records
from auditapp.spf.record import Mechanism
from bench.lab_zones import DNSBL_ZONE, DNSBL_ZONE2, LabDomain, domain_info, record_set

LATENCY = 0.050
DEAD_TIMEOUT = 2.0
RUNS = 5
#: Hard ceiling for any single audit in this script, so a regression cannot hang it.
CEILING = 60.0

GOALS = {"ratio_to_critical_path": ("<=", 1.5), "speedup_vs_sequential": (">=", 5.0),
         "ratio_to_timeout": ("<=", 1.2)}


# -- the critical path, from the zone data --------------------------------------------------

def _texts(records: RecordSet, name: str) -> list[str]:
    return [b"".join(r.strings).decode() for r in records.lookup(name, dns.rdatatype.TXT)]


def spf_chain(records: RecordSet, name: str, seen: frozenset[str] = frozenset()) -> tuple[int, list[str]]:
    """Round trips until every name the SPF tree of ``name`` needs is known, and that chain.

    TXT of ``name`` is one round trip; then, in parallel, an include/redirect costs its own
    chain, ``a`` one more (A/AAAA), ``mx`` two more (MX, then the exchanges' addresses),
    ``exists`` one, ``ptr`` two (PTR, then the names' addresses).
    """
    texts = select_spf_records(_texts(records, name))
    if len(texts) != 1 or name in seen:
        return 1, [f"TXT {name}"]
    try:
        record = parse_record(texts[0])
    except SpfSyntaxError:
        return 1, [f"TXT {name}"]
    best: tuple[int, list[str]] = (0, [])
    for term in record.mechanisms:
        target = (term.domain_spec or name).rstrip(".").lower() if isinstance(term, Mechanism) else name
        if term.name == "include":
            cand = spf_chain(records, target, seen | {name})
        elif term.name in ("a", "exists"):
            cand = (1, [f"A {target}"])
        elif term.name == "mx":
            hosts = [r.exchange.to_text().rstrip(".") for r in records.lookup(target, dns.rdatatype.MX)]
            cand = (2, [f"MX {target}", f"A {hosts[0]}"]) if hosts else (1, [f"MX {target}"])
        elif term.name == "ptr":
            cand = (2, ["PTR <ip>", "A <ptr name>"])
        else:
            continue
        best = max(best, cand, key=lambda c: c[0])
    redirect = record.effective_redirect
    if redirect is not None:
        best = max(best, spf_chain(records, redirect.value.rstrip(".").lower(), seen | {name}),
                   key=lambda c: c[0])
    return 1 + best[0], [f"TXT {name}", *best[1]]


def critical_chain(records: RecordSet, d: LabDomain) -> tuple[int, list[str]]:
    """The longest chain of dependent questions in a full audit of ``d``.

    SPF: both the static tree walk and check_host() need the whole tree (with the prefetcher
    the evaluation's sequential term order adds no round trips). PTR: the PTR, then the
    forward lookup of its names. HELO, DKIM, DMARC (every tree-walk level is asked at once),
    MTA-STS, TLS-RPT, ADSP and DNSBL are one round trip each.
    """
    chains = [spf_chain(records, d.domain)]
    for ip in d.ips:
        rev = ".".join(reversed(ip.split("."))) + ".in-addr.arpa"
        names = [r.target.to_text().rstrip(".") for r in records.lookup(rev, dns.rdatatype.PTR)]
        chains.append((2, [f"PTR {ip}", f"A {names[0]}"]) if names else (1, [f"PTR {ip}"]))
    chains.append((1, ["TXT _dmarc.* (all levels at once)"]))
    return max(chains, key=lambda c: c[0])


# -- measurements ---------------------------------------------------------------------------

def target_for(d: LabDomain) -> AuditTarget:
    return AuditTarget(domain=d.domain, server_ips=d.ips, helo=d.helo, dnsbl_zones=(DNSBL_ZONE, DNSBL_ZONE2),
                       services=False)


def timed_audit(server: LabDnsServer, d: LabDomain, **client_kw: float) -> tuple[float, DnsClient]:
    client = DnsClient([Nameserver(server.host, server.port)], timeout=5.0, **client_kw)  # type: ignore[arg-type]

    async def go() -> None:
        await asyncio.wait_for(audit(target_for(d), client, EngineConfig(timeout=5.0)), CEILING)

    t0 = time.perf_counter()
    asyncio.run(go())
    return time.perf_counter() - t0, client


@contextlib.contextmanager
def swallowing_port() -> Iterator[int]:
    """A UDP port on loopback that receives every packet and never answers (no ICMP either)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def dead_resolver_audit(d: LabDomain, timeout: float) -> tuple[float, dict[str, str]]:
    """``auditapp audit`` through the real CLI against a silent nameserver."""
    with swallowing_port() as port, tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dead.json"
        argv = ["audit", d.domain, "--helo", d.helo, "--dnsbl", DNSBL_ZONE, "--dnsbl", DNSBL_ZONE2,
                "--nameserver", f"127.0.0.1:{port}", "--timeout", f"{timeout:g}", "--json", str(out),
                "--lang", "en"]
        for ip in d.ips:
            argv += ["--server-ip", ip]
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the CLI wraps stdout; None cannot be wrapped
            rc = cli_main(argv)
        wall = time.perf_counter() - t0
        if rc != 3:  # nothing could be tested: exit 3 since issue 14
            raise RuntimeError(f"auditapp audit exited {rc}, not 3")
        result = json.loads(out.read_text(encoding="utf-8"))
        if not result.get("degraded"):
            raise RuntimeError("a silent nameserver must make a degraded run")
        results = result["results"]
    return wall, {r["rule"]: r["status"] for r in results}


def verdict(name: str, value: float) -> str:
    op, goal = GOALS[name]
    ok = value <= goal if op == "<=" else value >= goal
    return f"goal {op} {goal:g}: {'met' if ok else 'MISSED'}"


def run(index: int = 0) -> dict[str, float]:
    """All three measurements; returns the ratios (for run_all)."""
    records = record_set(20)
    d = domain_info(index)
    depth, chain = critical_chain(records, d)
    critical = depth * LATENCY
    print(f"# bench_audit: {d.domain}, 3 sending IPs ({', '.join(d.ips)}), HELO {d.helo}, "
          f"2 DNSBL zones; lab DNS adds {LATENCY * 1000:.0f} ms to every answer")
    print(f"critical path: {depth} dependent round trips = {critical * 1000:.0f} ms: {' -> '.join(chain)}")

    with LabDnsServer(records, latency=LATENCY) as server:
        timed_audit(server, domain_info(index + 4))  # warm-up: imports, catalog, registry
        walls, sent = [], 0
        for _ in range(RUNS):
            wall, client = timed_audit(server, d)
            walls.append(wall)
            sent = client.counter.sent
        wall = statistics.median(walls)
        ratio = wall / critical
        print(f"(a) full audit: median wall {wall * 1000:.0f} ms over {RUNS} runs "
              f"(min {min(walls) * 1000:.0f}, max {max(walls) * 1000:.0f}), {sent} DNS questions sent")
        print(f"    ratio_to_critical_path = {ratio:.2f}   [{verdict('ratio_to_critical_path', ratio)}]")

        seq_wall, seq_client = timed_audit(server, d, max_inflight=1)
        estimate = seq_client.counter.sent * LATENCY
        speedup = seq_wall / wall
        print(f"(b) sequential (measured: same audit, DnsClient max_inflight=1): {seq_wall * 1000:.0f} ms for "
              f"{seq_client.counter.sent} questions (questions x latency = {estimate * 1000:.0f} ms)")
        print(f"    speedup_vs_sequential = {speedup:.1f}   [{verdict('speedup_vs_sequential', speedup)}]")

    dead_wall, statuses = dead_resolver_audit(d, DEAD_TIMEOUT)
    ratio_t = dead_wall / DEAD_TIMEOUT
    untested = sum(1 for s in statuses.values() if s == "not_tested")
    print(f"(c) silent nameserver, --timeout {DEAD_TIMEOUT:g}: wall {dead_wall:.2f} s; "
          f"SPF-MISSING is {statuses.get('SPF-MISSING')}, {untested}/{len(statuses)} rules not_tested")
    print(f"    ratio_to_timeout = {ratio_t:.2f}   [{verdict('ratio_to_timeout', ratio_t)}]")
    return {"ratio_to_critical_path": ratio, "speedup_vs_sequential": speedup, "ratio_to_timeout": ratio_t}


if __name__ == "__main__":
    run()
