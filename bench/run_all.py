"""Run every benchmark and print one compact table of the ratios against their goals.

Run as root (the batch benchmark binds 127.0.0.1:53): ``python -m bench.run_all``.
Loopback only; about three and a half minutes; each part has its own time limits and stops by itself.
Extra arguments are passed to :mod:`bench.bench_batch` (e.g. ``--checkdmarc-domains 100``).
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (
    bench_audit,
    bench_batch,
    bench_gui,
    bench_gui_project,
    bench_message,
    bench_services,
    bench_transport,
)

ROWS = [
    ("ratio_to_critical_path", bench_audit.GOALS),
    ("speedup_vs_sequential", bench_audit.GOALS),
    ("ratio_to_timeout", bench_audit.GOALS),
    ("batch_vs_checkdmarc", bench_batch.GOALS),
    ("peak_memory_mb", bench_batch.GOALS),
    ("svc_ratio_to_timeout", bench_services.GOALS),
    ("svc_speedup_vs_seq", bench_services.GOALS),
    ("gui_max_gap_ms", bench_gui.GOALS),
    ("cancel_ms", bench_gui.GOALS),
    ("project_max_gap_ms", bench_gui_project.GOALS),
    ("message_seconds_100", bench_message.GOALS),
    ("message_speedup_vs_seq", bench_message.GOALS),
    ("dnssec_ratio", bench_transport.GOALS),
    ("tls_scan_ratio", bench_transport.GOALS),
]


def main(argv: list[str]) -> int:
    results: dict[str, float] = {}
    errors: dict[str, str] = {}
    t0 = time.perf_counter()
    parts = (("bench_audit", lambda: bench_audit.run()), ("bench_batch", lambda: bench_batch.run(argv)),
             ("bench_services", lambda: bench_services.run()), ("bench_gui", lambda: bench_gui.run()),
             ("bench_gui_project", lambda: bench_gui_project.run()),
             ("bench_message", lambda: bench_message.run()), ("bench_transport", lambda: bench_transport.run()))
    for name, fn in parts:
        try:
            results.update(fn())
        except (Exception, SystemExit) as exc:  # one failed part must not hide the other's numbers
            errors[name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        print()
    print(f"{'metric':<24} {'value':>8}  {'goal':<8} status")
    missed = 0
    for metric, goals in ROWS:
        op, goal = goals[metric]
        if metric not in results:
            print(f"{metric:<24} {'-':>8}  {f'{op} {goal:g}':<8} not measured")
            missed += 1
            continue
        value = results[metric]
        ok = {"<=": value <= goal, "<": value < goal, ">=": value >= goal}[op]
        missed += not ok
        print(f"{metric:<24} {value:>8.2f}  {f'{op} {goal:g}':<8} {'met' if ok else 'MISSED'}")
    for name, err in errors.items():
        print(f"{name} failed: {err}")
    print(f"(total {time.perf_counter() - t0:.0f} s)")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
