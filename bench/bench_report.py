"""Report benchmark: a 500-result report with evidence must render in under 3 s; print memory too.

Run: ``python -m bench.bench_report``. Prints figures; never part of the test suite.
"""

from __future__ import annotations

import io
import resource
import sys
import time
from datetime import UTC, datetime

from auditapp.catalog import catalog
from auditapp.core.model import Finding, Run, Status

GOAL_SECONDS = 3.0


def big_run(n: int = 500) -> Run:
    """n results over every rule, a third failed, each with a few lines of evidence."""
    rules = list(catalog().rules.values())
    findings = []
    for i in range(n):
        rule = rules[i % len(rules)]
        status = (Status.FAIL, Status.PASS, Status.NOT_APPLICABLE)[i % 3]
        outcome = next((k for k in rule.outcomes if k != "pass"), "pass") if status is Status.FAIL else "pass"
        if status is Status.NOT_APPLICABLE:
            outcome = "not_applicable" if "not_applicable" in rule.outcomes else "pass"
            status = Status.PASS if outcome == "pass" else status
        findings.append(Finding(rule=rule.id, status=status, severity=rule.severity_for(outcome),
                                subject=f"host{i}.example.com", outcome=outcome, params={"domain": "example.com"},
                                evidence=tuple(f"C: line {j} of the transcript of host{i} " + "x" * 60
                                               for j in range(6))))
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return Run(id="bench", started=now, finished=now, tool_version="bench", catalog_version=catalog().version,
               resolver="127.0.0.1", target={"domain": "example.com"}, findings=findings)


def run() -> dict[str, float]:
    from auditapp.report import build_report
    from auditapp.report.pdf import render_pdf
    from auditapp.report.theme import load_theme

    theme = load_theme("default")
    r = big_run(500)
    times = []
    size = 0
    for _ in range(3):
        t0 = time.perf_counter()
        doc = build_report(r, lang="de")
        buf = io.BytesIO()
        render_pdf(doc, theme, buf)
        times.append(time.perf_counter() - t0)
        size = len(buf.getvalue())
    best = min(times)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    status = "met" if best < GOAL_SECONDS else "MISSED"
    print(f"500-result report: best of 3 {best:.2f} s (all: {', '.join(f'{t:.2f}' for t in times)}), "
          f"{size / 1024:.0f} KB PDF")
    print(f"    report_seconds_500 = {best:.2f}   [goal < {GOAL_SECONDS:g} s: {status}]")
    print(f"    report_peak_rss_mb = {peak_mb:.0f}")
    return {"report_seconds_500": best, "report_peak_rss_mb": peak_mb}


if __name__ == "__main__":
    run()
    sys.exit(0)
