"""Every DANE rule made to pass and to fail: real TLSA records (BIND) against the real lab Postfix certificate.

The records are computed from the lab's certificates (tests/lab/dane_lab.py), the facts are
collected by the real collectors (discovery, the STARTTLS probe, the TLSA collector, the MTA-STS
fetch), and only the DNSSEC status is given by hand: the validator is another collector, and its
facts are plain data. PF-OUTBOUND-DANE runs on the lab Postfix's own configuration, changed with
the real ``postconf -e`` commands the rule prints.
"""

from __future__ import annotations

import asyncio
import copy
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from lab.bind import BindServer, make_lab_root
from lab.dane_lab import (
    BAD,
    DOMAIN,
    GOOD,
    cases,
    certs_of,
    collect,
    der,
    dnssec_facts,
    load_cert,
    mx,
    target_for,
    tls_scan,
    write_zones,
)
from lab.fixtures import require_named

from auditapp.audit.engine import EngineConfig, audit
from auditapp.audit.prepare import prepare
from auditapp.audit.request import previous_spki, request_from_project
from auditapp.catalog import catalog
from auditapp.catalog.wording import render_finding
from auditapp.checks import registered
from auditapp.checks.registry import run_check
from auditapp.collectors.facts import Facts
from auditapp.core.model import Finding, Run, Status
from auditapp.core.project import Project
from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.postfix import parse_postfix_text

P, F, NA, NT = Status.PASS, Status.FAIL, Status.NOT_APPLICABLE, Status.NOT_TESTED
pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def dane_bind(mail_lab: Any) -> Iterator[BindServer]:
    require_named()
    root = make_lab_root()
    server = BindServer(root / "dns")
    try:
        server.start(write_zones(root / "zones", certs_of(mail_lab)))
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def dane_facts(dane_bind: BindServer, mail_lab: Any) -> Facts:
    """One collection for every dane.test case: all MX names point at the GOOD (or BAD) Postfix."""
    names = tuple(mx(label) for label in cases(certs_of(mail_lab)))
    facts = collect(dane_bind.port, target_for(mail_lab, DOMAIN, names))
    facts.dnssec = dnssec_facts(list(names))  # type: ignore[attr-defined]
    return facts


@pytest.fixture(scope="module")
def sts_facts(dane_bind: BindServer, mail_lab: Any) -> Facts:
    facts = collect(dane_bind.port, target_for(mail_lab, "svc.test"))
    facts.dnssec = dnssec_facts(["mx.svc.test"])  # type: ignore[attr-defined]
    return facts


def results(rule: str, facts: Facts, target: Any) -> list[Finding]:
    return list(run_check(registered()[rule], catalog(), facts, target))


def one(rule: str, facts: Facts, target: Any, subject: str) -> Finding:
    found = [f for f in results(rule, facts, target) if f.subject == subject]
    assert len(found) == 1, [(f.subject, f.status.value, f.outcome) for f in results(rule, facts, target)]
    got = found[0]
    for lang in ("de", "en"):
        rendered = render_finding(got, lang)
        leftover = re.findall(r"\{[a-z_]+\}", rendered["detail"] + rendered["remediation"])
        assert not leftover, (lang, leftover, rendered)
    return got


def tlsa(label: str) -> str:
    return f"_25._tcp.{mx(label)}"


def at(label: str, address: str = GOOD, port: int = 2525) -> str:
    return f"{mx(label)} {address}:{port}"


#: rule -> [(status, subject, outcome)] on dane.test.
CASES: dict[str, list[tuple[Status, str, str]]] = {
    "DANE-MISSING": [
        (P, tlsa("match"), "pass"),
        (F, tlsa("notlsa"), "missing_signed"),
        (F, tlsa("unsigned"), "missing"),
    ],
    "DANE-INSECURE-TLSA": [
        (P, tlsa("match"), "pass"),
        (F, tlsa("insecure"), "insecure"),
        (F, tlsa("bogus"), "bogus"),
        (NT, tlsa("unvalidated"), "not_tested"),
        (NA, tlsa("notlsa"), "not_applicable"),
    ],
    "DANE-PARAMETERS": [
        (P, tlsa("match"), "pass"),
        (P, tlsa("issuer3"), "pass"),
        (F, tlsa("pkix"), "no_usable"),
        (F, tlsa("pkixmix"), "pkix_usage"),
        (F, tlsa("full"), "full_data"),
        (F, tlsa("oddparams"), "unknown_values"),
        (F, tlsa("malformed"), "malformed"),
        (NA, tlsa("notlsa"), "not_applicable"),
    ],
    "DANE-MISMATCH": [
        (P, at("match"), "pass"),
        (P, at("sha512"), "pass"),
        (P, at("certpin"), "pass"),
        (P, at("full"), "pass"),
        (P, at("rollover"), "pass"),
        (P, at("issuer3"), "pass"),
        (F, at("mismatch"), "mismatch"),
        (F, at("notls", BAD), "no_starttls"),
        # Only a DANE-TA record and no chain (Python's ssl gives the leaf only): not tested.
        (NT, at("issuer"), "not_tested"),
        (NT, tlsa("unvalidated"), "not_tested"),
        (NA, tlsa("insecure"), "not_secure"),
        (NA, tlsa("pkix"), "no_usable"),
    ],
    "DANE-NO-ROLLOVER": [
        (P, at("rollover"), "next_key"),
        (P, at("issuer3"), "issuer"),
        (F, at("match"), "lone_record"),
        (F, at("certpin"), "cert_pinned"),
        (NA, at("mismatch"), "no_match"),
    ],
}

PARAMS = [pytest.param(rule, status, subject, outcome, id=f"{rule}-{subject}-{outcome}")
          for rule, rows in CASES.items() for status, subject, outcome in rows]


@pytest.mark.parametrize(("rule", "status", "subject", "outcome"), PARAMS)
def test_dane_rule(dane_facts: Facts, mail_lab: Any, rule: str, status: Status, subject: str, outcome: str) -> None:
    target = target_for(mail_lab, DOMAIN)
    got = one(rule, dane_facts, target, subject)
    assert (got.status, got.outcome) == (status, outcome), (got, got.reason)
    assert got.evidence


def test_every_dane_rule_has_a_pass_and_a_fail_case() -> None:
    for rule in (r for r in catalog().rules.values() if r.family == "dane"):
        statuses = {s for s, _, _ in CASES.get(rule.id, [])}
        assert {P, F} <= statuses, rule.id


def test_mismatch_names_the_record_computed_from_the_presented_certificate(dane_facts: Facts, mail_lab: Any) -> None:
    c = certs_of(mail_lab)
    got = one("DANE-MISMATCH", dane_facts, target_for(mail_lab, DOMAIN), at("mismatch"))
    assert got.params["record"] == c.record_311
    assert got.severity.value == "high"
    text = render_finding(got, "en")["remediation"]
    assert f"_25._tcp.mismatch.dane.test. IN TLSA {c.record_311}" in text


def test_usage_2_matches_with_the_scanned_chain(dane_bind: BindServer, mail_lab: Any) -> None:
    """With the sslyze scan's chain (leaf, lab CA) the CA record matches: DANE-TA, signatures verified."""
    c = certs_of(mail_lab)
    target = target_for(mail_lab, "shared.test")
    facts = collect(dane_bind.port, target)
    facts.dnssec = dnssec_facts(["mx.shared.test"])  # type: ignore[attr-defined]
    subject = f"mx.shared.test {GOOD}:2525"
    got = one("DANE-MISMATCH", facts, target, subject)
    assert (got.status, got.outcome) == (NT, "not_tested"), got  # no chain: Python's ssl gives the leaf only
    assert "chain was not available" in str(got.reason.params["what"])  # type: ignore[union-attr]
    facts.tls_scan = tls_scan(GOOD, 2525, (der(c.good), der(c.ca)))  # type: ignore[attr-defined]
    got = one("DANE-MISMATCH", facts, target, subject)
    assert (got.status, got.outcome) == (P, "pass_ta"), got
    assert one("DANE-NO-ROLLOVER", facts, target, subject).outcome == "issuer"
    # A leaf the CA signed, but for other names (other.example): RFC 7672 §3.2.2 wants the MX name on it.
    facts.tls_scan = tls_scan(GOOD, 2525, (der(c.other), der(c.ca)))  # type: ignore[attr-defined]
    assert one("DANE-MISMATCH", facts, target, subject).outcome == "mismatch"
    # A leaf the CA did not sign: the CA digest alone proves nothing.
    selfsigned = der(load_cert(mail_lab.certs.selfsigned.cert))
    facts.tls_scan = tls_scan(GOOD, 2525, (selfsigned, der(c.ca)))  # type: ignore[attr-defined]
    assert one("DANE-MISMATCH", facts, target, subject).outcome == "mismatch"


def test_mta_sts_enforce_over_a_mismatching_host(sts_facts: Facts, mail_lab: Any) -> None:
    target = target_for(mail_lab, "svc.test")
    assert sts_facts.mta_sts_policy is not None and sts_facts.mta_sts_policy.mode == "enforce"
    got = one("DANE-MISMATCH", sts_facts, target, f"mx.svc.test {GOOD}:2525")
    assert (got.status, got.outcome) == (F, "mismatch_sts"), got
    assert "MTA-STS" in render_finding(got, "en")["detail"]


def test_without_dnssec_facts_the_verdicts_are_not_tested(dane_facts: Facts, mail_lab: Any) -> None:
    facts = copy.copy(dane_facts)
    facts.dnssec = None  # type: ignore[attr-defined]
    target = target_for(mail_lab, DOMAIN)
    for rule in ("DANE-INSECURE-TLSA", "DANE-MISMATCH"):
        got = one(rule, facts, target, tlsa("mismatch"))
        assert got.status is NT, got
        assert "DNSSEC status unknown" in str(got.reason.params["what"])  # type: ignore[union-attr]
    # Whether a record exists and how it is built does not depend on DNSSEC.
    assert one("DANE-PARAMETERS", facts, target, tlsa("pkix")).outcome == "no_usable"
    assert one("DANE-MISSING", facts, target, tlsa("notlsa")).outcome == "missing"


def test_rollover_compares_with_the_previous_run(dane_facts: Facts, mail_lab: Any) -> None:
    """Same key after a renewal (another not-after): kept; another key: changes at renewals; the same
    certificate as last time: no renewal seen, so still a lone record."""
    c = certs_of(mail_lab)
    target = target_for(mail_lab, DOMAIN)
    from lab.dane_lab import sha256, spki

    now = next(p for p in dane_facts.services.values() if p.port == 2525 and p.address == GOOD)  # type: ignore
    current = now.tls.cert.not_after  # type: ignore[union-attr]
    for before, not_after, outcome, status in (
            (sha256(spki(c.good)), "2026-06-01T00:00:00Z", "same_key", P),
            (sha256(spki(c.other)), "2026-06-01T00:00:00Z", "key_changed", F),
            (sha256(spki(c.good)), current, "lone_record", F)):
        facts = copy.copy(dane_facts)
        facts.tlsa = replace(dane_facts.tlsa, previous_spki={f"{GOOD}:2525": before},  # type: ignore[type-var]
                             previous_not_after={f"{GOOD}:2525": not_after},
                             previous_run="2026-09-01T10:00:00+00:00")
        got = one("DANE-NO-ROLLOVER", facts, target, at("match"))
        assert (got.status, got.outcome) == (status, outcome), got


def _run(bind: BindServer, mail_lab: Any, config: EngineConfig) -> Run:
    names = (mx("match"),)
    target = target_for(mail_lab, DOMAIN, names)
    return asyncio.run(audit(target, DnsClient([Nameserver("127.0.0.1", bind.port)], timeout=3.0), config))


def test_engine_run_records_the_key_and_the_next_run_reads_it(dane_bind: BindServer, mail_lab: Any) -> None:
    """Through the engine: the TLSA fact is collected, the key goes into the run inventory, a project's next
    run hands it back (request_from_project -> prepare -> EngineConfig), and without a DNSSEC collector the
    DNSSEC-dependent rules say not_tested instead of waiting or guessing."""
    c = certs_of(mail_lab)
    first = _run(dane_bind, mail_lab, EngineConfig(timeout=3.0, smtp_probe=False))
    by_rule = {f.rule: f for f in first.findings if f.subject.startswith(("_25._tcp.match", "match."))}
    assert by_rule["DANE-MISSING"].status is P
    assert by_rule["DANE-PARAMETERS"].status is P
    assert by_rule["DANE-INSECURE-TLSA"].status is NT
    assert by_rule["DANE-MISMATCH"].status is NT
    assert not [f for f in first.findings if f.status is Status.ERROR]
    rows = {(r["address"], r["port"]): r for r in first.inventory["endpoints"]}
    assert rows[(GOOD, 2525)]["spki_sha256"] == c.record_311.split()[-1]

    project = Project(name="dane", domain=DOMAIN, mx_hosts=[mx("match")], runs=[first])
    expiry = {f"{GOOD}:2525": rows[(GOOD, 2525)]["cert_not_after"]}
    assert previous_spki(project) == {"previous_spki": {f"{GOOD}:2525": c.record_311.split()[-1]},
                                      "previous_run": first.started, "previous_not_after": expiry}
    request = request_from_project(project, nameservers=(dane_bind.address,), password_lookup=None,
                                   trust_lookup=None)
    config = prepare(request).config
    assert config.previous_spki == {f"{GOOD}:2525": c.record_311.split()[-1]}
    assert config.previous_run == first.started
    assert config.previous_not_after == expiry


# -- PF-OUTBOUND-DANE on the lab Postfix's own configuration -------------------------------------

def _postconf(etc: Any, *args: str) -> str:
    return subprocess.run(["postconf", "-c", str(etc), *args], check=True, capture_output=True, text=True).stdout


def _outbound(etc: Any) -> Finding:
    cfg = parse_postfix_text(_postconf(etc, "-n"), "postconf -n")
    found = list(run_check(registered()["PF-OUTBOUND-DANE"], catalog(), Facts(postfix=cfg),
                           target_for_domain("svc.test")))
    assert len(found) == 1
    return found[0]


def target_for_domain(domain: str) -> Any:
    from auditapp.core.target import AuditTarget

    return AuditTarget(domain=domain)


def test_outbound_dane_on_the_lab_postfix(mail_lab: Any, tmp_path: Any) -> None:
    """The lab Postfix's main.cf, then each step the rule asks for, applied with the real postconf."""
    etc = tmp_path / "etc"
    shutil.copytree(mail_lab.postfix["good"].etc, etc)
    assert _outbound(etc).outcome == "no_tls"  # compatibility_level 3.6: no outbound TLS at all
    _postconf(etc, "-e", "smtp_tls_security_level = may")
    got = _outbound(etc)
    assert (got.status, got.outcome, got.severity.value) == (F, "off", "info")
    fix = got.params["fix"]["en"]  # type: ignore[index]
    assert "validating resolver" in fix  # the resolver comes first, never a bare 'dnssec'
    command = fix[fix.index("postconf -e"):]
    _postconf(etc, "-e", *re.findall(r"'([^']+)'", command))
    got = _outbound(etc)
    assert (got.status, got.outcome) == (P, "pass"), got
    _postconf(etc, "-e", "smtp_dns_support_level =")
    got = _outbound(etc)
    assert (got.status, got.outcome, got.severity.value) == (F, "no_dnssec", "low")
    _postconf(etc, "-e", "smtp_dns_support_level = dnssec", "smtp_tls_security_level = may")
    got = _outbound(etc)
    assert (got.status, got.outcome) == (F, "dnssec_no_dane")
    _postconf(etc, "-e", str(got.params["fix"]).removeprefix("postconf -e ").strip("'"))
    assert _outbound(etc).outcome == "pass"


# -- end to end: a signed tree, the engine with its own DNSSEC validation --------------------------

@pytest.fixture(scope="module")
def signed_dane(mail_lab: Any) -> Iterator[tuple[BindServer, Any]]:
    from lab.dane_lab import start_signed_lab
    from lab.dnssec_lab import tools_available

    require_named()
    if tools_available():
        pytest.skip(tools_available())
    root = make_lab_root()
    server = None
    try:
        server, anchor = start_signed_lab(root, certs_of(mail_lab))
        yield server, anchor
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


_SIGNED_RUNS: dict[str, Run] = {}


def signed_run(signed_dane: tuple[BindServer, Any], mail_lab: Any, label: str) -> Run:
    from lab.dane_lab import SIGNED_TLD

    if label not in _SIGNED_RUNS:
        server, anchor = signed_dane
        target = replace(target_for(mail_lab, f"{label}.{SIGNED_TLD}"), trust_anchor=str(anchor))
        client = DnsClient([Nameserver("127.0.0.1", server.port)], timeout=3.0)
        _SIGNED_RUNS[label] = asyncio.run(audit(target, client, EngineConfig(timeout=3.0, smtp_probe=False)))
    return _SIGNED_RUNS[label]


SIGNED_CASES = [
    ("good", "DANE-MISSING", P, "pass"), ("good", "DANE-INSECURE-TLSA", P, "pass"),
    ("good", "DANE-PARAMETERS", P, "pass"), ("good", "DANE-MISMATCH", P, "pass"),
    ("good", "DANE-NO-ROLLOVER", F, "lone_record"),
    ("bad", "DANE-MISMATCH", F, "mismatch"), ("bad", "DANE-INSECURE-TLSA", P, "pass"),
    ("none", "DANE-MISSING", F, "missing_signed"),
    ("plain", "DANE-INSECURE-TLSA", F, "insecure"), ("plain", "DANE-MISMATCH", NA, "not_secure"),
]


@pytest.mark.parametrize(("label", "rule", "status", "outcome"), SIGNED_CASES,
                         ids=[f"{label}-{rule}-{outcome}" for label, rule, _, outcome in SIGNED_CASES])
def test_signed_tree_through_the_engine(signed_dane: tuple[BindServer, Any], mail_lab: Any, label: str, rule: str,
                                        status: Status, outcome: str) -> None:
    """Real DNSSEC (auditapp's validator from the lab root's key) and real TLSA against the real certificate."""
    run = signed_run(signed_dane, mail_lab, label)
    found = [f for f in run.findings if f.rule == rule and f.subject.startswith(("_25._tcp.mx.", "mx."))]
    assert len(found) == 1, [(f.subject, f.status.value, f.outcome) for f in run.findings if f.rule == rule]
    got = found[0]
    assert (got.status, got.outcome) == (status, outcome), (got, got.reason)
    assert not [f for f in run.findings if f.rule.startswith("DANE-") and f.status is Status.ERROR]


def test_a_providers_mx_is_the_providers_business(bind_lab: BindServer) -> None:
    """Microsoft 365 runs m365.test's MX: whether its MX name has TLSA is not the customer's finding."""
    from auditapp.core.target import AuditTarget

    target = AuditTarget(domain="m365.test", dkim_selectors=(), dnsbl_zones=(), services=False)
    client = DnsClient([Nameserver("127.0.0.1", bind_lab.port)], timeout=3.0)
    run = asyncio.run(audit(target, client, EngineConfig(timeout=3.0, smtp_probe=False)))
    got = [f for f in run.findings if f.rule == "DANE-MISSING"]
    assert [(f.subject, f.status, f.outcome) for f in got] == [
        ("_25._tcp.m365-test.mail.protection.outlook.com", NA, "provider")]
    assert "Microsoft" in render_finding(got[0], "en")["detail"]
    # A DNS-only run: the rules that need the certificate say so instead of guessing.
    mismatch = next(f for f in run.findings if f.rule == "DANE-MISMATCH")
    assert mismatch.status is NT and mismatch.reason is not None and mismatch.reason.key == "reason.services_off"
