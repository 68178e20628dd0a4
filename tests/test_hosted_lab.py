"""Hosted mail (issue 11, verdicts 1 and 2) against real BIND zones that mirror the providers' names.

The provider zones in tests/lab/zones/ (protection.outlook.com, google.com, ionos.de, ...) carry
the names the providers really publish, with loopback addresses where nothing listens; the
customer zones (m365.test, gws.test, ...) point their MX, SPF and DKIM at them the way real
customers do. Every mail port is mapped to port 1, so the service probes are refused at once
and never leave the machine.
"""

from __future__ import annotations

import asyncio

import pytest

from auditapp.audit.engine import EngineConfig, audit
from auditapp.catalog.wording import render_finding
from auditapp.core.model import Finding, Run, Status
from auditapp.core.target import DEFAULT_PORTS, AuditTarget
from auditapp.data.providers import providers
from auditapp.dnsclient import DnsClient, Nameserver

pytestmark = pytest.mark.lab

CLOSED_PORTS = {s: 1 for s in DEFAULT_PORTS}
LAYOUT_RULES = ("SERVICE-NAMES", "SERVICE-SHARED-MX", "SUBMISSION-MISSING")


def run_hosted(port: int, domain: str, selectors: tuple[str, ...] = (), services: bool = True) -> Run:
    target = AuditTarget(domain=domain, dkim_selectors=selectors, dnsbl_zones=(), ports=dict(CLOSED_PORTS),
                         services=services)
    client = DnsClient([Nameserver("127.0.0.1", port)], timeout=2.0)
    return asyncio.run(audit(target, client, EngineConfig(timeout=2.0, smtp_probe=False)))


def one(run: Run, rule: str, subject: str | None = None) -> Finding:
    found = [f for f in run.findings if f.rule == rule and (subject is None or f.subject == subject)]
    assert len(found) == 1, (rule, [(f.subject, f.status) for f in run.findings if f.rule == rule])
    return found[0]


# domain -> (provider id, documented client endpoint the discovery must use)
HOSTED = {
    "m365.test": ("microsoft365", "smtp.office365.com"),
    "m365nodkim.test": ("microsoft365", "outlook.office365.com"),
    "gws.test": ("google_workspace", "smtp.gmail.com"),
    "ionoskunde.test": ("ionos", "smtp.ionos.de"),
    "strato.test": ("strato", "smtp.strato.de"),
    "mbo.test": ("mailbox_org", "smtp.mailbox.org"),
    "hetzner.test": ("hetzner", "mail.your-server.de"),
    "allinkl.test": ("allinkl", "w0123456.kasserver.com"),  # "{mx}": the customer's own server name
}


@pytest.mark.parametrize("domain", sorted(HOSTED))
def test_hosted_domain_is_recognised_and_not_blamed_for_the_providers_layout(bind_lab, domain: str) -> None:
    provider_id, endpoint = HOSTED[domain]
    run = run_hosted(bind_lab.port, domain)
    hosting = run.inventory["hosting"]
    assert hosting["hosted"] and hosting["provider"] == provider_id
    hosts = {h["name"]: h for h in run.inventory["hosts"]}
    assert endpoint in hosts, sorted(hosts)
    assert any("documented client endpoint" in s for s in hosts[endpoint]["sources"])
    # mail.<domain> exists in every customer zone (the web host) but is not guessed for a hosted domain.
    assert f"mail.{domain}" not in hosts
    for rule in LAYOUT_RULES:
        f = one(run, rule, domain)
        assert f.status is Status.NOT_APPLICABLE and f.outcome == "hosted", (rule, f.status, f.outcome)
        text = render_finding(f, "de")["detail"]
        assert "Sache des Anbieters" in text and endpoint.split(".")[-2] in text
    assert not [f for f in run.findings if f.status is Status.ERROR]


def test_self_hosted_counterpart_keeps_every_layout_check(bind_lab) -> None:
    run = run_hosted(bind_lab.port, "eigen.test")
    assert run.inventory["hosting"]["hosted"] is False and run.inventory["hosting"]["provider"] is None
    assert one(run, "SERVICE-NAMES", "eigen.test").status is Status.PASS
    shared = one(run, "SERVICE-SHARED-MX", "smtp.eigen.test")
    assert shared.status is Status.FAIL and shared.outcome == "shared"
    assert one(run, "SUBMISSION-MISSING", "smtp.eigen.test").status is not Status.NOT_APPLICABLE


def test_mixed_mx_is_not_treated_as_hosted(bind_lab) -> None:
    """One MX at Microsoft 365, one self-run (a migration): the customer's own server keeps every check."""
    run = run_hosted(bind_lab.port, "mixed.test")
    hosting = run.inventory["hosting"]
    assert hosting["hosted"] is False and hosting["provider"] == "microsoft365"
    assert hosting["unmatched"] == ["mx.mixed.test"]
    assert one(run, "SERVICE-SHARED-MX", "smtp.mixed.test").outcome == "shared"


def test_gateway_keeps_the_customers_own_submission_checks(bind_lab) -> None:
    run = run_hosted(bind_lab.port, "hornet.test")
    hosting = run.inventory["hosting"]
    assert hosting["hosted"] and hosting["kind"] == "gateway"
    assert one(run, "SERVICE-NAMES", "hornet.test").status is Status.PASS
    hosts = {h["name"] for h in run.inventory["hosts"]}
    assert "smtp.hornet.test" in hosts  # conventional names still apply: submission is self-run
    assert one(run, "SERVICE-SHARED-MX", "smtp.hornet.test").status is Status.PASS


def test_dkim_at_microsoft_365(bind_lab) -> None:
    """selector1 is a CNAME into the tenant: found, although nobody gave a selector."""
    run = run_hosted(bind_lab.port, "m365.test", services=False)
    assert one(run, "DKIM-NO-KEY").status is Status.PASS
    assert one(run, "DMARC-REJECT-RISK").status is Status.PASS


def test_dkim_not_enabled_at_microsoft_365_is_a_finding(bind_lab) -> None:
    """Microsoft 365 prescribes selector1/selector2 and the domain sends through it (SPF include):
    no key there proves that DKIM for the domain is off in the tenant (knowledge base B23)."""
    run = run_hosted(bind_lab.port, "m365nodkim.test", services=False)
    f = one(run, "DKIM-NO-KEY")
    assert f.status is Status.FAIL and f.outcome == "provider_not_enabled" and f.severity.value == "high"
    rendered = render_finding(f, "de")
    assert "Microsoft 365" in rendered["detail"] and "selector1" in rendered["detail"]
    assert "email-authentication-dkim-configure" in rendered["remediation"]
    risk = one(run, "DMARC-REJECT-RISK")
    assert risk.status is Status.FAIL and risk.outcome == "spf_only"


def test_unguessable_selector_is_not_tested_not_missing(bind_lab) -> None:
    """Google Workspace lets the admin choose the selector prefix: no key at "google" proves nothing."""
    run = run_hosted(bind_lab.port, "gws.test", services=False)
    f = one(run, "DKIM-NO-KEY")
    assert f.status is Status.NOT_TESTED and f.reason is not None
    assert f.reason.key == "reason.dkim_selector_unknown"
    text = render_finding(f, "de")["reason"]
    assert "--dkim-selector" in text and "20230601" in text and "Google Workspace" in text
    assert one(run, "DMARC-REJECT-RISK").status is Status.NOT_TESTED
    # Given the selector, the key is found.
    run = run_hosted(bind_lab.port, "gws.test", selectors=("custom2026",), services=False)
    assert one(run, "DKIM-NO-KEY").status is Status.PASS
    assert one(run, "DMARC-REJECT-RISK").status is Status.PASS


def test_ionos_fixed_selector_found_through_its_cname(bind_lab) -> None:
    run = run_hosted(bind_lab.port, "ionoskunde.test", services=False)
    f = one(run, "DKIM-NO-KEY")
    assert f.status is Status.PASS and "s1-ionos" in f.params["selectors"]


def test_provider_data_is_consistent() -> None:
    """Every provider has MX patterns, sources, and German and English DKIM notes."""
    seen = set()
    for p in providers():
        assert p.mx_suffixes and p.sources and p.documentation.startswith("https://")
        assert p.dkim_note.de and p.dkim_note.en
        assert not (p.dkim_fixed and not p.dkim_selectors), p.id
        assert p.id not in seen
        seen.add(p.id)
    assert {"microsoft365", "google_workspace", "ionos", "strato", "mailbox_org", "posteo", "hetzner",
            "allinkl"} <= seen
