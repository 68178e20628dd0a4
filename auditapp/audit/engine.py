"""The audit engine: run collectors concurrently, evaluate checks as soon as their facts exist.

The engine is asyncio inside and Qt-free outside. asyncio rather than a thread pool because
an audit is hundreds of small network waits with true dependencies between some of them
(PTR, then the forward lookup of its names); coroutines express those chains directly,
cancel cleanly, and a batch of a thousand domains needs no thousand threads. Callers that
are not async (the GUI's task threads) use :func:`run_audit`, which runs the loop in their
own thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from auditapp import __version__
from auditapp.catalog import Catalog, catalog
from auditapp.checks import registered, verify_registry
from auditapp.checks.registry import RegisteredCheck, run_check
from auditapp.collectors import dns_facts, pacing
from auditapp.collectors.caa import collect_caa
from auditapp.collectors.dane_collect import collect_tlsa
from auditapp.collectors.discovery import discover_hosts
from auditapp.collectors.dmarc_reports import collect_dmarc_reports
from auditapp.collectors.dnssec_collect import collect_dnssec
from auditapp.collectors.facts import Facts
from auditapp.collectors.hosting import collect_hosting
from auditapp.collectors.inventory import build_inventory
from auditapp.collectors.mta_sts import fetch_policy
from auditapp.collectors.nameservers import collect_nameservers
from auditapp.collectors.rpki_collect import collect_rpki
from auditapp.collectors.sender_discovery import candidate_evidence, postfix_note, with_spf_candidates
from auditapp.collectors.services import collect_services
from auditapp.collectors.tls_scan import scan_endpoints
from auditapp.core.model import Finding, Reason, Run, Status
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsClient, DnsTally, tally_questions
from auditapp.postfix import PostfixConfig
from auditapp.spf import check_host, walk_spf

#: Facts that exist once per sending IP; without IPs their checks are not testable.
PER_IP_FACTS = {"ptr", "helo", "spf_eval", "dnsbl"}
#: Facts of the mail-service probes; a DNS-only run (batch) reports their checks not tested.
SERVICE_FACTS = {"discovery", "services", "mta_sts_policy", "tls_scan", "nameservers"}
#: Facts whose collector a run may not have (no DNSSEC validation, no sslyze scan): without a job
#: they count as collected and stay None, so their readers say not_tested instead of waiting forever.
OPTIONAL_FACTS = ("dnssec", "tls_scan")


@dataclass(frozen=True)
class EngineConfig:
    timeout: float = 5.0
    concurrency: int = 64
    #: Password of the test account, read from the keyring by the caller; never stored.
    account_password: str | None = field(default=None, repr=False)
    #: The imported Postfix configuration (PostfixConfig), a PostfixLoadFailure, or None.
    postfix: Any = None
    #: Learn the HELO name from port 25 when none is given (off in tests and batch runs,
    #: which must not open connections to the audited servers).
    smtp_probe: bool = True
    #: Received messages examined on import (auditapp.message.evidence.MessageEvidence); the
    #: MSG-* rules judge them, and prepare() has already added what they taught to the target.
    messages: tuple[Any, ...] = ()
    #: SPKI SHA-256 (hex) per MX endpoint ("127.0.0.1:25") as the project's previous run saw it, and
    #: when that run started: DANE-NO-ROLLOVER tells a key kept across renewals from one that
    #: changed. prepare_project_audit() fills both from the run inventory; empty without a project.
    previous_spki: dict[str, str] = field(default_factory=dict)
    previous_run: str = ""
    #: The expiry date of the certificate each endpoint presented then: a renewal happened in between
    #: only if it differs (the same key in the same certificate says nothing about renewals).
    previous_not_after: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Started:
    total: int
    target: AuditTarget


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    label: str


@dataclass(frozen=True)
class ResultEvent:
    finding: Finding


@dataclass(frozen=True)
class Finished:
    run: Run


Event = Started | Progress | ResultEvent | Finished


@dataclass
class _Job:
    fact: str
    key: Any
    label: str
    make: Callable[[], Awaitable[Any]]


class _Steps:
    """The run's progress in steps: one per collector job, plus one per endpoint once they are known.

    The number of service endpoints is only known after discovery, so the total grows then
    (and the bar steps back a little) rather than the service probes counting as one step
    that holds the bar still for the length of the slowest probe.
    """

    def __init__(self) -> None:
        self.done = 0
        self.total = 0
        self._emit: Callable[[Event], None] = lambda _e: None

    def reset(self, total: int, emit: Callable[[Event], None]) -> None:
        self.done, self.total, self._emit = 0, total, emit

    def plan(self, more: int) -> None:
        self.total += more

    def step(self, label: str) -> None:
        self.done += 1
        self._emit(Progress(self.done, self.total, label))


@dataclass
class Audit:
    """One audit of one target; ``run`` may be awaited once."""

    target: AuditTarget
    dns: DnsClient
    config: EngineConfig = field(default_factory=EngineConfig)
    cat: Catalog = field(default_factory=catalog)
    _steps: _Steps = field(default_factory=_Steps, repr=False)

    def _jobs(self) -> list[_Job]:
        t, dns, timeout, probe = self.target, self.dns, self.config.timeout, self.config.smtp_probe
        jobs = [
            _Job("spf_tree", None, f"SPF {t.domain}", lambda: walk_spf(dns, t.domain)),
            _Job("dkim", None, f"DKIM {t.domain}", lambda: dns_facts.collect_dkim(dns, t)),
            _Job("hosting", None, f"MX {t.domain}", lambda: collect_hosting(dns, t)),
            _Job("adsp", None, f"ADSP {t.domain}", lambda: dns.query(f"_adsp._domainkey.{t.domain}", "TXT")),
            _Job("dmarc", None, f"DMARC {t.domain}", lambda: dns_facts.collect_dmarc(dns, t.domain)),
            _Job("dmarc_reports", None, f"DMARC report destinations of {t.domain}",
                 lambda: collect_dmarc_reports(dns, t.domain)),
            _Job("mta_sts", None, f"MTA-STS {t.domain}", lambda: dns.query(f"_mta-sts.{t.domain}", "TXT")),
            _Job("tlsrpt", None, f"TLS-RPT {t.domain}", lambda: dns.query(f"_smtp._tls.{t.domain}", "TXT")),
            _Job("dnssec", None, f"DNSSEC {t.domain}", lambda: collect_dnssec(dns, t, self._now)),
            _Job("caa", None, f"CAA of the MX hosts of {t.domain}", lambda: collect_caa(dns, t)),
            _Job("rpki", None, f"RPKI of the mail and name servers of {t.domain}", lambda: collect_rpki(dns, t)),
            _Job("tlsa", None, f"TLSA of the MX hosts of {t.domain}",
                 lambda: collect_tlsa(dns, t, self.config.previous_spki, self.config.previous_run,
                                      self.config.previous_not_after)),
        ]
        if t.services:
            discovery: dict[str, asyncio.Task[Any]] = {}

            def discover() -> asyncio.Task[Any]:
                if "task" not in discovery:
                    discovery["task"] = asyncio.ensure_future(discover_hosts(dns, t, timeout))
                return discovery["task"]

            async def services() -> Any:
                # One step per endpoint, so the bar moves while the probes run instead of
                # standing at 95 % for the length of the slowest one.
                return await collect_services(await discover(), t, timeout, self.config.account_password,
                                              planned=self._steps.plan, probed=self._steps.step)

            async def tls_scan() -> Any:
                # Beside the probes, not after them: the scan bounds itself by the same budget.
                return await scan_endpoints(await discover(), t, timeout)

            async def policy() -> Any:
                txt = await dns.query(f"_mta-sts.{t.domain}", "TXT")
                if not any(x.strip().startswith("v=STSv1") for x in txt.texts):
                    return None
                return await fetch_policy(dns, t.domain, t.ports.get("https", 443), timeout, t.ca_file,
                                          t.allow_internal)

            jobs += [
                _Job("discovery", None, f"hosts of {t.domain}", discover),
                _Job("services", None, f"mail services of {t.domain}", services),
                _Job("mta_sts_policy", None, f"MTA-STS policy of {t.domain}", policy),
                _Job("tls_scan", None, f"TLS scan of {t.domain}", tls_scan),
                _Job("nameservers", None, f"name servers of {t.domain}",
                     lambda: collect_nameservers(dns, t, timeout)),
            ]
        sender = f"postmaster@{t.domain}"
        for ip in t.server_ips:
            jobs.append(_Job("ptr", ip, f"PTR {ip}", lambda ip=ip: dns_facts.collect_ptr(dns, ip)))
            jobs.append(_Job("helo", ip, f"HELO {ip}",
                             lambda ip=ip: dns_facts.collect_helo(dns, t, ip, timeout, probe)))
            jobs.append(_Job("spf_eval", ip, f"SPF check_host {ip}",
                             lambda ip=ip: check_host(dns, ip, t.domain, sender, t.helo or t.domain)))
            for zone in t.dnsbl_zones:
                jobs.append(_Job("dnsbl", (ip, zone), f"DNSBL {ip} {zone}",
                                 lambda ip=ip, zone=zone: dns_facts.collect_dnsbl(dns, ip, zone)))
        return jobs

    async def run(self, emit: Callable[[Event], None]) -> Run:
        # Every DNS question of this audit (also those of tasks it starts) is counted here, so the
        # run can say whether its resolver answered at all (:meth:`DnsTally.resolver_failed`). The pacer
        # spaces this run's connections to each server (collectors/pacing.py), its tasks' as well.
        with tally_questions() as tally, pacing.paced(self.target.connect_interval):
            return await self._run(emit, tally)

    async def _run(self, emit: Callable[[Event], None], tally: DnsTally) -> Run:
        verify_registry(self.cat)
        started_wall = datetime.now(UTC)
        self._now = started_wall
        t0 = time.perf_counter()
        facts = Facts()
        # Local inputs, known before the first packet: the questionnaire answers (None means
        # "not part of this run", which the policy checks report as not tested).
        facts.answers = self.target.answers
        facts.postfix = self.config.postfix
        facts.messages = tuple(self.config.messages)
        facts.done.update(("answers", "postfix", "messages"))
        helo = self.config.postfix.helo_name() if isinstance(self.config.postfix, PostfixConfig) else None
        if self.target.helo is None and helo:
            # The Postfix configuration is the second HELO source, after --helo (issue #2).
            self.target = replace(self.target, helo=helo, helo_source="postfix")
        jobs = self._jobs()
        remaining: dict[str, int] = {}
        for job in jobs:
            remaining[job.fact] = remaining.get(job.fact, 0) + 1
        for name in PER_IP_FACTS | SERVICE_FACTS:
            if name not in remaining:
                # No job for this fact: per-IP facts are empty maps, service facts stay None.
                setattr(facts, name, {} if name in PER_IP_FACTS else None)
                facts.done.add(name)
        facts.done.update(name for name in OPTIONAL_FACTS if name not in remaining)
        pending_checks = list(registered().values())
        findings: list[Finding] = []

        def run_ready() -> None:
            for reg in list(pending_checks):
                if facts.has(*reg.needs):
                    pending_checks.remove(reg)
                    for finding in self._evaluate(reg, facts):
                        findings.append(finding)
                        emit(ResultEvent(finding))

        steps = self._steps
        steps.reset(len(jobs), emit)
        emit(Started(len(jobs), self.target))
        run_ready()  # checks whose facts are all per-IP and there are no IPs
        cancelled = False

        async def one(job: _Job) -> tuple[_Job, Any]:
            try:
                return job, await job.make()
            except Exception as exc:
                facts.errors[job.fact] = f"{job.label}: {type(exc).__name__}: {exc}"
                return job, None

        # Issue 16: the SPF record's single IPv6 addresses, as candidates that are never audited
        # (collectors/sender_discovery.py); its TXT question is the SPF walk's, shared through the cache.
        candidates = None if self.target.server_ips else asyncio.ensure_future(
            with_spf_candidates(self.dns, self.target))
        tasks = [asyncio.create_task(one(j)) for j in jobs]
        try:
            for next_done in asyncio.as_completed(tasks):
                job, value = await next_done
                if job.fact in facts.errors:
                    pass
                elif job.key is None:
                    setattr(facts, job.fact, value)
                else:
                    store = getattr(facts, job.fact)
                    if store is None:
                        store = {}
                        setattr(facts, job.fact, store)
                    store[job.key] = value
                remaining[job.fact] -= 1
                if remaining[job.fact] == 0:
                    facts.done.add(job.fact)
                steps.step(job.label)
                run_ready()
        except asyncio.CancelledError:
            cancelled = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for reg in pending_checks:
                findings.append(Finding(reg.rule_id, Status.NOT_TESTED, self.cat[reg.rule_id].severity,
                                        self.target.domain, "not_tested", params={"domain": self.target.domain},
                                        reason=Reason("reason.cancelled")))
        if candidates is not None and cancelled:
            candidates.cancel()
        elif candidates is not None:
            try:
                self.target = await candidates
            except Exception:  # a note for the reader; never a reason for the audit to fail
                pass
            extra = candidate_evidence(self.target) + postfix_note(self.config.postfix, self.target)
            findings = [replace(f, evidence=f.evidence + extra) if extra and f.reason is not None
                        and f.reason.key == "reason.no_sending_ips" else f for f in findings]
        order = {rule_id: i for i, rule_id in enumerate(self.cat.rules)}
        findings.sort(key=lambda f: (order.get(f.rule, 999), f.subject))
        run = Run(
            id=uuid.uuid4().hex[:12],
            started=started_wall.isoformat(timespec="seconds"),
            finished=datetime.now(UTC).isoformat(timespec="seconds"),
            tool_version=__version__,
            catalog_version=self.cat.version,
            resolver=self.dns.describe(),
            target=self.target.to_json(),
            findings=findings,
            cancelled=cancelled,
            duration_s=round(time.perf_counter() - t0, 3),
            inventory=build_inventory(facts),
        )
        if tally.resolver_failed():
            run.degraded = True
            run.degraded_reason = degraded_reason(tally, run.resolver)
        emit(Finished(run))
        return run

    def _evaluate(self, reg: RegisteredCheck, facts: Facts) -> list[Finding]:
        crashed = [facts.errors[n] for n in reg.needs if n in facts.errors]
        if crashed:
            return [Finding(reg.rule_id, Status.ERROR, self.cat[reg.rule_id].severity, self.target.domain,
                            "error", params={"domain": self.target.domain},
                            reason=Reason("reason.check_crashed", {"error": crashed[0]}))]
        if not self.target.services and SERVICE_FACTS & set(reg.needs):
            return [Finding(reg.rule_id, Status.NOT_TESTED, self.cat[reg.rule_id].severity, self.target.domain,
                            "not_tested", params={"domain": self.target.domain}, reason=Reason("reason.services_off"))]
        if not self.target.server_ips and PER_IP_FACTS & set(reg.needs):
            return [Finding(reg.rule_id, Status.NOT_TESTED, self.cat[reg.rule_id].severity, self.target.domain,
                            "not_tested", params={"domain": self.target.domain},
                            reason=Reason("reason.no_sending_ips"))]
        findings = list(run_check(reg, self.cat, facts, self.target, self._now))
        if not findings:
            # Every rule shows up in every run: a rule with nothing to look at says so.
            disc = facts.discovery
            if disc is not None and disc.failures and SERVICE_FACTS & set(reg.needs):
                reason = Reason("reason.discovery_failed", {"what": disc.failures[0].reason})
                return [Finding(reg.rule_id, Status.NOT_TESTED, self.cat[reg.rule_id].severity, self.target.domain,
                                "not_tested", params={"domain": self.target.domain}, reason=reason)]
            return [Finding(reg.rule_id, Status.NOT_APPLICABLE, self.cat[reg.rule_id].severity, self.target.domain,
                            "not_applicable", params={"domain": self.target.domain},
                            reason=Reason("reason.nothing_to_check"))]
        return findings


def degraded_reason(tally: DnsTally, resolver: str) -> Reason:
    """Why a run is degraded, as the message ``run.degraded``: which resolver, how many of how many failed."""
    main = tally.main_failure()
    return Reason("run.degraded", {"resolver": resolver, "failed": tally.failed, "asked": tally.asked,
                                   "outcome": main.value if main is not None else "error"})


async def audit(target: AuditTarget, dns: DnsClient, config: EngineConfig | None = None,
                emit: Callable[[Event], None] | None = None) -> Run:
    """Run one audit and return its :class:`Run`; ``emit`` receives live events."""
    return await Audit(target, dns, config or EngineConfig()).run(emit or (lambda _e: None))


def run_audit(target: AuditTarget, make_dns: Callable[[], DnsClient], config: EngineConfig | None = None,
              cancel: threading.Event | None = None, emit: Callable[[Event], None] | None = None) -> Run | None:
    """Run one audit in the calling thread (a worker thread of the GUI) and return its :class:`Run`.

    The event loop runs right here, so a caller without one needs no second thread: ``emit``
    receives the live events in this thread. ``cancel`` may be set from any thread; the audit
    then stops within one scheduling step (50 ms) and finishes with a cancelled :class:`Run`
    whose unevaluated checks are ``not_tested``. None only when the cancel came before the audit
    had started its checks (there is nothing to record then).
    """

    async def main() -> Run | None:
        task = asyncio.create_task(audit(target, make_dns(), config, emit))
        # Let the audit start before honouring a cancel, so even an immediate cancel ends with
        # Started ... Finished(cancelled run) rather than with no events at all.
        await asyncio.sleep(0)
        while not task.done():
            if cancel is not None and cancel.is_set():
                task.cancel()
                break
            await asyncio.wait({task}, timeout=0.05)
        try:
            return await task
        except asyncio.CancelledError:
            return None

    return asyncio.run(main())
