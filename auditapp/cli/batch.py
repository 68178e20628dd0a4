"""``auditapp batch FILE --out DIR``: the DNS audit of many domains in one process.

Why one event loop and one :class:`~auditapp.dnsclient.DnsClient` for all domains: the
domains of one customer list share most of their expensive names (the SPF include of the
same mail provider, the same DNSBL zones), and the client's single-flight cache asks each of
those once for the whole batch instead of once per domain. ``--concurrency`` bounds how many
domains are in flight, so a list of 100 000 lines costs memory for N audits, not for all.

Memory stays flat because nothing of a finished audit is kept but one CSV row: each
:class:`~auditapp.core.model.Run` is written as JSON the moment its audit ends and then
dropped. The DNS cache is the only thing that grows with the list (it is what makes the
batch cheap; a few kB per domain).

Batch mode knows no sending IPs, so the per-IP rules (PTR, HELO, check_host, DNSBL) come
out ``not_tested`` with the reason "no sending IPs"; that is the honest answer for a list
of domain names.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from auditapp.audit.engine import EngineConfig, audit
from auditapp.cli.errors import EXIT_CANNOT_RUN, EXIT_OK, CannotRun, UsageError
from auditapp.core.atomic import write_atomic
from auditapp.core.model import Finding, Run, Severity, Status
from auditapp.core.review_layer import run_summary
from auditapp.core.target import DEFAULT_DNSBL_ZONES, AuditTarget
from auditapp.core.validation import InputError, display_domain, normalize_domain
from auditapp.dnsclient import DnsClient

#: Columns are only ever added at the end (``degraded``, ``nothing_tested``: issue 14), so a
#: spreadsheet that reads them by position keeps working.
CSV_COLUMNS = (
    "domain", "domain_unicode", "failed_critical", "failed_high", "failed_medium", "failed_low",
    "failed_info", "not_tested", "passed", "worst_failed_rule", "duration_s", "degraded", "nothing_tested",
)

#: Upper bound for the questions one batch keeps in flight against the resolver. The engine
#: asks ~15 independent questions per domain at once (DKIM selectors, DMARC walk, SPF...), so
#: the client's default of 64 would make ``--concurrency 20`` wait on the client, not on the
#: network. Each in-flight question holds one UDP socket, hence the cap (file descriptors,
#: and a resolver's per-client rate limits).
MAX_INFLIGHT_CAP = 512
QUESTIONS_PER_DOMAIN = 16

_TEXT = {
    "de": {"json": "JSON-Dateien", "csv": "Übersicht", "domains": "Domains", "failed": "nicht auditierbar",
           "queries": "DNS-Anfragen"},
    "en": {"json": "JSON files", "csv": "Summary", "domains": "domains", "failed": "could not be audited",
           "queries": "DNS queries"},
}


@dataclass(frozen=True)
class BatchEntry:
    """One domain of the input file; ``line`` is kept for messages about it."""

    line: int
    domain: str  # A-label


def read_domains(path: str) -> list[BatchEntry]:
    """Parse FILE: one domain per line, ``#`` starts a comment, duplicates audited once.

    Every line is validated before the first query is sent, so a typo in line 4711 costs
    nothing but an error message (exit 2) rather than half a batch.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")  # Excel and Notepad like to add a BOM
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    entries: list[BatchEntry] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        item = line.split("#", 1)[0].strip()
        if not item:
            continue
        try:
            domain = normalize_domain(item)
        except InputError as exc:
            raise UsageError(f"{path}, line {number}: {exc}") from None
        if domain in seen:
            continue
        seen.add(domain)
        entries.append(BatchEntry(number, domain))
    if not entries:
        raise UsageError(f"{path} lists no domains (one per line, '#' starts a comment)")
    return entries


def csv_row(run: Run) -> dict[str, object]:
    """The summary line of one run; the worst failure is the most severe, then catalog order.

    The counts are :func:`~auditapp.core.review_layer.run_summary`'s, the numbers every other
    reader shows; a batch has no project, so no review layer applies (every failure is open at
    the catalogue's severity). ``not_tested`` counts ``not_tested`` and ``error`` results, as
    the terminal summary groups them.
    """
    numbers = run_summary(run)
    worst: Finding | None = None
    for f in run.findings:  # the engine sorted them in catalog order
        if f.status is Status.FAIL and (worst is None or f.severity.rank > worst.severity.rank):
            worst = f
    domain = str(run.target.get("domain", ""))
    return {
        "domain": domain,
        "domain_unicode": display_domain(domain),
        **{f"failed_{s.value}": numbers.open_by_severity[s] for s in Severity},
        "not_tested": numbers.untested,
        "passed": numbers.passed,
        "worst_failed_rule": worst.rule if worst else "",
        "duration_s": f"{run.duration_s:.3f}",
        "degraded": "yes" if run.degraded else "no",
        "nothing_tested": "yes" if numbers.nothing_tested else "no",
    }


def render_csv(rows: list[dict[str, object]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


class ProgressBar:
    """``\\r[####----] 37/500 example.com`` on a terminal; silent when stderr is a file or pipe,
    so logs of cron jobs and CI runs are not filled with carriage returns."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.done = 0
        try:
            self.enabled = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            self.enabled = False
        self._last = 0.0
        self._shown = 0

    def step(self, label: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        now = time.monotonic()
        if self.done < self.total and now - self._last < 0.05:  # a terminal does not need 1000 redraws/s
            return
        self._last = now
        filled = self.width * self.done // self.total
        text = f"\r[{'#' * filled}{'-' * (self.width - filled)}] {self.done}/{self.total} {label}"
        pad = max(0, self._shown - len(text))
        self._shown = len(text)
        self.stream.write(text + " " * pad)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\n")
            self.stream.flush()


def _dnsbl_zones(args: argparse.Namespace) -> tuple[str, ...]:
    try:
        zones = tuple(normalize_domain(z, "--dnsbl zone") for z in args.dnsbl)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    return zones or DEFAULT_DNSBL_ZONES


def _json_path(out: Path, domain: str) -> Path:
    return out / f"{domain}.json"


async def audit_all(entries: list[BatchEntry], client: DnsClient, out: Path, lang: str, concurrency: int,
                    timeout: float, dnsbl: tuple[str, ...],
                    progress: ProgressBar) -> tuple[list[dict[str, object]], list[str]]:
    """Audit every entry, at most ``concurrency`` at a time; returns CSV rows (input order) and errors.

    Tasks are created only when the semaphore lets them start, so a huge list never exists as
    a huge list of coroutines; a finished audit is written and reduced to its CSV row at once.
    """
    from auditapp.cli.inputs import write_json

    config = EngineConfig(timeout=timeout)
    rows: list[dict[str, object] | None] = [None] * len(entries)
    errors: list[str] = []
    sem = asyncio.Semaphore(concurrency)
    tasks: set[asyncio.Task[None]] = set()

    async def one(index: int, entry: BatchEntry) -> None:
        try:
            target = AuditTarget(domain=entry.domain, dnsbl_zones=dnsbl, services=False)
            run = await audit(target, client, config)
            rows[index] = csv_row(run)
            # Rendering and fsync run in a thread: the loop keeps the other audits' packets moving.
            await asyncio.to_thread(write_json, str(_json_path(out, entry.domain)), run, lang)
        except OSError as exc:
            errors.append(f"{entry.domain}: cannot write {_json_path(out, entry.domain)}: {exc.strerror or exc}")
            rows[index] = None
        except Exception as exc:  # one broken domain must not lose the other 499
            errors.append(f"{entry.domain}: {type(exc).__name__}: {exc}")
            rows[index] = None
        finally:
            sem.release()
            progress.step(display_domain(entry.domain))

    try:
        for index, entry in enumerate(entries):
            await sem.acquire()
            task = asyncio.create_task(one(index, entry))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        while tasks:
            await asyncio.gather(*list(tasks))
    finally:
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
    return [r for r in rows if r is not None], errors


def run_batch(args: argparse.Namespace) -> int:
    """Validate everything, then audit; exit 0, 2 (input) or 3 (output dir, domains that failed, nothing tested)."""
    from auditapp.cli.inputs import make_client

    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    entries = read_domains(args.file)
    dnsbl = _dnsbl_zones(args)
    client = make_client(args.nameserver, args.timeout)
    client.max_inflight = max(client.max_inflight,
                              min(MAX_INFLIGHT_CAP, args.concurrency * QUESTIONS_PER_DOMAIN))
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CannotRun(f"cannot create {out}: {exc.strerror or exc}") from None
    if not out.is_dir():
        raise CannotRun(f"cannot create {out}: not a directory")

    progress = ProgressBar(len(entries))
    t0 = time.perf_counter()
    try:
        rows, errors = asyncio.run(audit_all(entries, client, out, args.lang, args.concurrency, args.timeout,
                                             dnsbl, progress))
    finally:
        progress.close()
    elapsed = time.perf_counter() - t0
    csv_path = out / "summary.csv"
    try:
        write_atomic(csv_path, render_csv(rows))
    except OSError as exc:
        raise CannotRun(f"cannot write {csv_path}: {exc.strerror or exc}") from None
    t = _TEXT.get(args.lang, _TEXT["en"])
    for line in errors:
        print(f"auditapp: {line}", file=sys.stderr)
    degraded = sum(row["degraded"] == "yes" for row in rows)
    if degraded:
        print(f"auditapp: warning: {degraded} of {len(rows)} domains are degraded runs: the resolver left most DNS "
              "questions unanswered; their results say nothing about the domains (column 'degraded')", file=sys.stderr)
    print(f"{t['json']}: {out}{'/' if not str(out).endswith('/') else ''}<domain>.json "
          f"({len(rows)} {t['domains']}, {elapsed:.1f} s, {client.counter.sent} {t['queries']})")
    print(f"{t['csv']}: {csv_path}")
    if errors:
        print(f"auditapp: {len(errors)} {t['domains']} {t['failed']}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    if rows and all(row["nothing_tested"] == "yes" for row in rows):
        print("auditapp: nothing could be tested for any domain (no check passed or failed); exit code 3",
              file=sys.stderr)
        return EXIT_CANNOT_RUN
    return EXIT_OK
