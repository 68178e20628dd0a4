"""``auditapp batch`` against checkdmarc over the same 500 lab domains and the same resolver.

Run as root: ``python -m bench.bench_batch`` (loopback only, ~2 minutes, stops by itself).

Set-up and why:

* The lab DNS server (:mod:`bench.lab_zones`, 1000 generated domains) runs in its **own
  process** on ``127.0.0.1:53`` and delays every answer by 20 ms. Own process, so its CPU
  does not share a GIL with the client being measured; port 53 because checkdmarc can only
  talk to port 53 (hence root).
* Both tools run as subprocesses with the same resolver and DNS timeout (2 s), each with its
  start-up included in its wall time.
* checkdmarc runs through its Python API (``check_domains``, what its CLI calls), DNS only:
  see :mod:`bench._checkdmarc_driver` for what is switched off and how. It checks one domain
  after the other, ~1.2 s per domain here, so by default it runs over an evenly spread
  subset (every 10th of the 500 domains) and its per-domain time is extrapolated.
* Peak memory is ``ru_maxrss`` of a subprocess running ``auditapp batch`` over 1000 domains,
  read with ``os.wait4`` so no other child is mixed in.

The two tools do not ask the same questions (checkdmarc: SOA, NS, DNSSEC over TCP, MX PTRs,
BIMI, TLSA; auditapp: nine DKIM selectors, ADSP, the DMARC tree walk): the queries per domain
of each are printed next to the throughput, so the ratio can be read with that in mind.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lab_zones import domains

REPO = Path(__file__).resolve().parent.parent
LATENCY = 0.020
N_BATCH = 500
N_MEMORY = 1000
DNS_TIMEOUT = 2.0
GOALS = {"batch_vs_checkdmarc": (">=", 10.0), "peak_memory_mb": ("<", 300.0)}


@dataclass
class ChildResult:
    wall: float
    maxrss_mb: float
    returncode: int
    stdout: str
    stderr: str


class LabServer:
    """The lab DNS server subprocess; talks over stdin/stdout (see :func:`bench.lab_zones.serve`)."""

    def __init__(self, n: int, latency: float, port: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.lab_zones", "serve", "--domains", str(n), "--latency", str(latency),
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        line = self._readline(60.0)
        if not line.startswith("ready "):
            err = self.proc.stderr.read() if self.proc.poll() is not None and self.proc.stderr else ""
            self.close()
            raise RuntimeError(f"lab DNS server did not start on 127.0.0.1:{port} "
                               f"(port 53 needs root and must be free): {line or err.strip()[-300:]}")
        self.address = line.split()[1]

    def _readline(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            if not sel.select(timeout):
                return ""
            return self.proc.stdout.readline().strip()
        finally:
            sel.close()

    def queries(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        line = self._readline(10.0)
        return int(line.split()[1]) if line.startswith("queries ") else -1

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)


def run_child(argv: list[str], timeout: float) -> ChildResult:
    """Run ``argv`` and return its wall time and *its own* peak RSS (``os.wait4``)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, tell Popen
        out.seek(0)
        err.seek(0)
        return ChildResult(wall, usage.ru_maxrss / 1024, proc.returncode, out.read(), err.read())


def write_list(path: Path, names: list[str]) -> None:
    path.write_text("# bench domains\n" + "".join(n + "\n" for n in names), encoding="utf-8")


def ours(server: LabServer, listing: Path, out: Path, concurrency: int, timeout: float) -> tuple[ChildResult, int]:
    before = server.queries()
    res = run_child([sys.executable, "-m", "auditapp", "batch", str(listing), "--out", str(out),
                     "--nameserver", server.address, "--timeout", f"{DNS_TIMEOUT:g}",
                     "--concurrency", str(concurrency), "--lang", "en"], timeout)
    if res.returncode != 0:
        raise RuntimeError(f"auditapp batch exited {res.returncode}: {res.stderr.strip()[-500:]}")
    return res, server.queries() - before


def theirs(server: LabServer, listing: Path, timeout: float) -> tuple[ChildResult, int, dict[str, object]]:
    import json

    before = server.queries()
    res = run_child([sys.executable, "-m", "bench._checkdmarc_driver", str(listing),
                     "--nameserver", server.address.split(":")[0], "--timeout", f"{DNS_TIMEOUT:g}"], timeout)
    if res.returncode != 0:
        raise RuntimeError(f"checkdmarc driver exited {res.returncode}: {res.stderr.strip()[-800:]}")
    return res, server.queries() - before, json.loads(res.stdout.strip().splitlines()[-1])


def verdict(name: str, value: float) -> str:
    op, goal = GOALS[name]
    ok = value >= goal if op == ">=" else value < goal
    return f"goal {op} {goal:g}: {'met' if ok else 'MISSED'}"


def run(argv: list[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(prog="python -m bench.bench_batch")
    p.add_argument("--domains", type=int, default=N_BATCH)
    p.add_argument("--checkdmarc-domains", type=int, default=50,
                   help="subset checkdmarc runs over (evenly spread); 0 = all")
    p.add_argument("--concurrency", type=int, default=20, help="auditapp batch --concurrency (its default)")
    p.add_argument("--memory-domains", type=int, default=N_MEMORY)
    p.add_argument("--port", type=int, default=53)
    args = p.parse_args(argv)

    if importlib.util.find_spec("checkdmarc") is None:
        raise SystemExit("checkdmarc is not installed: pip install checkdmarc (the 'bench' extra)")

    n_total = max(args.domains, args.memory_domains)
    names = [d.domain for d in domains(n_total)]
    batch_names = names[:args.domains]
    k = args.checkdmarc_domains or args.domains
    step = max(1, args.domains // k)
    subset = batch_names[::step][:k]
    tmp = Path(tempfile.mkdtemp(prefix="auditapp-bench-"))
    print(f"# bench_batch: lab DNS in its own process on 127.0.0.1:{args.port}, {LATENCY * 1000:.0f} ms per answer, "
          f"{n_total} generated domains; {os.cpu_count()} CPUs")
    server = LabServer(n_total, LATENCY, args.port)
    try:
        listing = tmp / "batch.txt"
        write_list(listing, batch_names)
        res, q_ours = ours(server, listing, tmp / "out", args.concurrency, timeout=600)
        produced = len(list((tmp / "out").glob("*.json")))
        m = re.search(r"\(\d+ domains, ([0-9.]+) s", res.stdout)
        inner = float(m.group(1)) if m else res.wall
        tput_ours = len(batch_names) / res.wall
        print(f"auditapp batch --concurrency {args.concurrency}: {len(batch_names)} domains in {res.wall:.2f} s "
              f"(audits {inner:.2f} s + start-up/CSV {res.wall - inner:.2f} s) = {tput_ours:.0f} domains/s; "
              f"{produced} JSON files; {q_ours} queries ({q_ours / len(batch_names):.1f}/domain)")

        sub_list = tmp / "checkdmarc.txt"
        write_list(sub_list, subset)
        res_t, q_theirs, info = theirs(server, sub_list, timeout=max(120.0, 6.0 * len(subset)))
        per_domain = res_t.wall / len(subset)
        tput_theirs = 1 / per_domain
        scope = "all" if len(subset) == len(batch_names) else f"every {step}th, extrapolated"
        print(f"checkdmarc {info.get('version')} (Python API, DNS only, sequential): {len(subset)} of the "
              f"{len(batch_names)} domains ({scope}) in {res_t.wall:.2f} s = {per_domain:.2f} s/domain = "
              f"{tput_theirs:.2f} domains/s -> {len(batch_names)} domains ~ {per_domain * len(batch_names):.0f} s; "
              f"{q_theirs} queries ({q_theirs / len(subset):.1f}/domain); "
              f"SPF valid {info.get('spf_valid')}/{len(subset)}, DMARC valid {info.get('dmarc_valid')}/{len(subset)}")
        ratio = tput_ours / tput_theirs
        print(f"    batch_vs_checkdmarc = {ratio:.1f}   [{verdict('batch_vs_checkdmarc', ratio)}]")

        mem_list = tmp / "memory.txt"
        write_list(mem_list, names[:args.memory_domains])
        res_m, q_m = ours(server, mem_list, tmp / "out-mem", args.concurrency, timeout=900)
        print(f"auditapp batch over {args.memory_domains} domains: {res_m.wall:.2f} s "
              f"({args.memory_domains / res_m.wall:.0f} domains/s, {q_m} queries); "
              f"peak RSS (ru_maxrss) {res_m.maxrss_mb:.0f} MB")
        print(f"    peak_memory_mb = {res_m.maxrss_mb:.0f}   [{verdict('peak_memory_mb', res_m.maxrss_mb)}]")
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return {"batch_vs_checkdmarc": ratio, "peak_memory_mb": res_m.maxrss_mb,
            "ours_domains_per_s": tput_ours, "checkdmarc_domains_per_s": tput_theirs}


if __name__ == "__main__":
    run()
