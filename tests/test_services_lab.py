"""Every service rule, made to pass and made to fail, against real Postfix and Dovecot.

The lab (tests/lab/mailservers.py) runs a good and a bad Postfix, instances with expired,
wrong-name, self-signed and soon-expiring certificates, a good and a bad Dovecot and an HTTPS
MTA-STS server, all on their own loopback addresses; BIND serves the zones that point at them.
Rules a real server cannot be made to break are covered with our own responders in
tests/test_services_responders.py; the meta-test counts both tables.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace

import pytest

from auditapp.audit.engine import EngineConfig, audit
from auditapp.catalog import catalog
from auditapp.core.model import Run, Status
from auditapp.core.target import DEFAULT_PORTS, AuditTarget
from auditapp.dnsclient import DnsClient, Nameserver

P, F, NA, NT = Status.PASS, Status.FAIL, Status.NOT_APPLICABLE, Status.NOT_TESTED


@dataclass(frozen=True)
class Svc:
    domain: str
    subject: str
    outcome: str | None = None
    submission_hosts: tuple[str, ...] = ()
    relay_test: bool = False
    account: bool = False
    trust_lab_ca: bool = True
    ports: tuple[tuple[str, int], ...] = field(default_factory=tuple)


SVC = "svc.test"
G25, G587, G465 = "127.0.0.2:2525", "127.0.0.2:2587", "127.0.0.2:2465"

CASES: dict[str, list[tuple[Status, Svc]]] = {
    "SMTP-UNREACHABLE": [(P, Svc(SVC, G25)), (F, Svc("deadmx.test", "127.0.0.11:2525", "refused"))],
    "SMTP-BANNER": [(P, Svc(SVC, G25))],
    "STARTTLS-MISSING": [
        (P, Svc(SVC, G25)), (P, Svc(SVC, G587)),
        (F, Svc("badsvc.test", "127.0.0.4:2525", "missing")),
        (F, Svc("badsvc.test", "127.0.0.4:2587", "missing_submission", submission_hosts=("mx.badsvc.test",))),
    ],
    "AUTH-WITHOUT-TLS": [(P, Svc(SVC, G25)), (P, Svc(SVC, G587)),
                         (F, Svc("badsvc.test", "127.0.0.4:2525", "auth_in_clear"))],
    "SUBMISSION-MISSING": [
        (P, Svc(SVC, "smtp.svc.test")),
        (F, Svc(SVC, "imap.svc.test", "missing", submission_hosts=("imap.svc.test",))),
        (NA, Svc("onlymx.test", "onlymx.test")),
    ],
    "SUBMISSION-IMPLICIT-TLS-MISSING": [
        (P, Svc(SVC, "smtp.svc.test")),
        (F, Svc("badsvc.test", "mx.badsvc.test", "missing", submission_hosts=("mx.badsvc.test",))),
    ],
    "SUBMISSION-AUTH-MISSING": [
        (P, Svc(SVC, G587)), (P, Svc(SVC, G465)),
        # Port 2525 of the good Postfix probed as submission: TLS, but no AUTH after it.
        (F, Svc(SVC, G25, "missing", ports=(("submission", 2525),))),
    ],
    "SUBMISSION-NO-AUTH-RELAY": [
        (P, Svc(SVC, G587)), (P, Svc(SVC, G465)),
        (F, Svc("badsvc.test", "127.0.0.4:2587", "accepted", submission_hosts=("mx.badsvc.test",))),
    ],
    "OPEN-RELAY": [
        (P, Svc(SVC, G25, relay_test=True)),
        (F, Svc("badsvc.test", "127.0.0.4:2525", "accepted", relay_test=True)),
        (NT, Svc("badsvc.test", "127.0.0.4:2525")),  # never without the explicit switch
    ],
    "MAILBOX-PLAINTEXT-LOGIN": [
        (P, Svc(SVC, "127.0.0.3:1143")), (P, Svc(SVC, "127.0.0.3:1110")),
        (F, Svc("badsvc.test", "127.0.0.7:1143", "plaintext")), (F, Svc("badsvc.test", "127.0.0.7:1110", "plaintext")),
    ],
    "MAILBOX-TLS-MISSING": [(P, Svc(SVC, "imap.svc.test")), (F, Svc("badsvc.test", "pop.badsvc.test", "missing"))],
    "SUBMISSION-SENDER-SPOOFING": [
        (P, Svc(SVC, G587, account=True)),
        (F, Svc("soon.test", "127.0.0.10:2587", "accepted", account=True)),
        (NA, Svc(SVC, SVC)),
    ],
    "TLS-LEGACY-PROTOCOL": [
        (P, Svc(SVC, G587)), (P, Svc(SVC, "127.0.0.3:1993")),
        (F, Svc("expired.test", "127.0.0.5:2587", "legacy_client")),
        (F, Svc("expired.test", "127.0.0.5:2525", "legacy_mx")),
    ],
    "TLS-CERT-NAME": [
        (P, Svc(SVC, G587)), (P, Svc(SVC, G25)), (P, Svc(SVC, "127.0.0.3:1993")),
        (F, Svc("wrongname.test", "127.0.0.6:2587", "mismatch_client")),
        (F, Svc("wrongname.test", "127.0.0.6:2525", "mismatch_mx")),
        (F, Svc("stsbad.test", "127.0.0.6:2525", "mismatch_mx_sts")),  # MTA-STS enforce: high
    ],
    "TLS-CERT-EXPIRED": [
        (P, Svc(SVC, G587)),
        (F, Svc("expired.test", "127.0.0.5:2587", "expired_client")),
        (F, Svc("expired.test", "127.0.0.5:2525", "expired_mx")),
    ],
    "TLS-CERT-EXPIRING": [(P, Svc(SVC, G587)), (F, Svc("soon.test", "127.0.0.10:2587", "expiring"))],
    "TLS-CERT-UNTRUSTED": [
        (P, Svc(SVC, G587)),
        (F, Svc("selfsigned.test", "127.0.0.9:2587", "untrusted_client")),
        (F, Svc("selfsigned.test", "127.0.0.9:2525", "untrusted_mx")),
        (F, Svc(SVC, G587, "untrusted_client", trust_lab_ca=False)),  # the lab CA is not in the system store
    ],
    "MTA-STS-POLICY": [
        (P, Svc(SVC, SVC)),
        (F, Svc("wrongmx.test", "wrongmx.test", "uncovered_all")),  # no MX covered: mail is lost (critical)
        (F, Svc("halfmx.test", "halfmx.test", "uncovered_enforce")),  # one covered: senders skip the other (high)
        (F, Svc("badsvc.test", "badsvc.test", "unreachable")),
    ],
    "SERVICE-NAMES": [(P, Svc(SVC, SVC)), (F, Svc("onlymx.test", "onlymx.test", "missing"))],
    "SERVICE-SHARED-MX": [
        (F, Svc(SVC, "smtp.svc.test", "shared")),
        (P, Svc(SVC, "imap.svc.test", submission_hosts=("imap.svc.test",))),
    ],
    "SERVICE-UNEXPECTED-PORT": [
        (P, Svc(SVC, "127.0.0.3")),
        (F, Svc("badsvc.test", "127.0.0.4:2587", "unexpected")),
    ],
}

#: Rules whose other side is tested against our own responders (test_services_responders.py).
RESPONDER_CASES = {"SMTP-BANNER": {F, NT}}
#: Issue 16: the TLS scan rules have their own lab (weak and BSI Postfix, responders): tests/test_tls_scan_lab.py.
RESPONDER_CASES |= {r: {P, F} for r in ("TLS-WEAK-CIPHER", "TLS-NO-FORWARD-SECRECY", "TLS-WEAK-KEY")}
RESPONDER_CASES |= {r: {P, F} for r in (
    "TLS-COMPRESSION", "TLS-NO-SECURE-RENEGOTIATION", "TLS-NO-EXTENDED-MASTER-SECRET")}  # the extra hello
RESPONDER_CASES |= {r: {P, F} for r in ("TLS-CIPHER-ORDER", "TLS-KEX-HASH")}  # order, kex-hash hellos
#: A finished handshake (weak/BSI Postfix, openssl s_server -early_data): tests/test_tls_session_lab.py.
RESPONDER_CASES |= {r: {P, F} for r in ("TLS-CLIENT-RENEGOTIATION", "TLS-ZERO-RTT")}
#: Issue 16: the IPv6 reachability rules need an MX on ::1; their lab is tests/test_ipv6_lab.py.
RESPONDER_CASES |= {"MX-IPV6-MISSING": {P, F}, "MX-IPV6-UNREACHABLE": {P, F}}
RESPONDER_CASES |= {"NS-IPV6-MISSING": {P, F}, "NS-IPV6-UNREACHABLE": {P, F}}  # tests/test_ns_ipv6_lab.py

_RUNS: dict[Svc, Run] = {}


def run_svc(bind_port: int, lab: object, case: Svc) -> Run:
    key = replace(case, subject="", outcome=None)
    if key in _RUNS:
        return _RUNS[key]
    ports = {**DEFAULT_PORTS, **lab.ports, "https": lab.mtasts_port, **dict(case.ports)}  # type: ignore[attr-defined]
    target = AuditTarget(
        domain=case.domain, dkim_selectors=(), dnsbl_zones=(), ports=ports, submission_hosts=case.submission_hosts,
        relay_test=case.relay_test, account=lab.account if case.account else None,  # type: ignore[attr-defined]
        ca_file=str(lab.ca_file) if case.trust_lab_ca else None,  # type: ignore[attr-defined]
    )
    client = DnsClient([Nameserver("127.0.0.1", bind_port)], timeout=3.0)
    config = EngineConfig(timeout=3.0, account_password=lab.password if case.account else None)  # type: ignore
    _RUNS[key] = asyncio.run(audit(target, client, config))
    return _RUNS[key]


SERVICE_RULES = [r for r in catalog().rules.values() if r.family in ("services", "tls", "layout")]


def test_every_service_rule_has_a_pass_and_a_fail_case() -> None:
    for rule in SERVICE_RULES:
        statuses = {s for s, _ in CASES.get(rule.id, [])} | RESPONDER_CASES.get(rule.id, set())
        assert {P, F} <= statuses, f"{rule.id} needs a PASS and a FAIL case"


PARAMS = [pytest.param(rule, status, case, id=f"{rule}-{status.value}-{i}")
          for rule, cases in CASES.items() for i, (status, case) in enumerate(cases)]


@pytest.mark.lab
@pytest.mark.parametrize(("rule", "status", "case"), PARAMS)
def test_service_rule_against_real_servers(bind_lab, mail_lab, rule: str, status: Status, case: Svc) -> None:
    run = run_svc(bind_lab.port, mail_lab, case)
    found = [f for f in run.findings if f.rule == rule and f.subject == case.subject]
    others = [(f.subject, f.status.value) for f in run.findings if f.rule == rule]
    assert found, f"no {rule} for {case.subject}: {others}"
    got = found[0]
    assert got.status is status, f"{rule} {case.subject}: {got.status} {got.outcome} {got.reason} {got.evidence[-6:]}"
    if case.outcome:
        assert got.outcome == case.outcome
    assert not [f for f in run.findings if f.status is Status.ERROR], "a check crashed"


@pytest.mark.lab
def test_no_password_reaches_the_results(bind_lab, mail_lab) -> None:
    """The test account's password must never appear in findings, evidence or transcripts."""
    import base64
    import json

    from auditapp.catalog.wording import run_to_json

    run = run_svc(bind_lab.port, mail_lab, Svc(SVC, G587, account=True))
    texts = [json.dumps(run.to_json()), json.dumps(run_to_json(run, "de")), json.dumps(run_to_json(run, "en"))]
    user, pw = mail_lab.account, mail_lab.password
    forms = [pw, base64.b64encode(pw.encode()).decode(), base64.b64encode(f"\0{user}\0{pw}".encode()).decode()]
    for text in texts:
        for form in forms:
            assert form not in text
    assert "AUTH PLAIN ****" in texts[0]  # the login did happen, masked


@pytest.mark.lab
def test_client_hosts_from_the_autoconfig_document(bind_lab, mail_lab) -> None:
    run = run_svc(bind_lab.port, mail_lab, Svc("autocfg.test", "autocfg.test"))
    hosts = {h["name"]: h for h in run.inventory["hosts"]}
    assert "autoconfig outgoing" not in " ".join(hosts["mx.svc.test"]["sources"])
    assert any("autoconfig smtp" in s for s in hosts["smtp.svc.test"]["sources"])
    assert any("autoconfig imap" in s for s in hosts["imap.svc.test"]["sources"])
    names = next(f for f in run.findings if f.rule == "SERVICE-NAMES")
    assert names.status is Status.PASS


@pytest.mark.lab
def test_no_login_to_submission_hosts_outside_the_domain(bind_lab, mail_lab) -> None:
    """autocfg.test's autoconfig names smtp.svc.test: a foreign host gets no password."""
    run = run_svc(bind_lab.port, mail_lab, Svc("autocfg.test", G587, account=True))
    spoof = next(f for f in run.findings if f.rule == "SUBMISSION-SENDER-SPOOFING" and f.subject == G587)
    assert spoof.status is Status.NOT_TESTED
    assert "outside the audited domain" in spoof.reason.params["problem"]
    assert not any(line.startswith("C: AUTH") for f in run.findings for line in f.evidence)
