"""The built-in demo lab (issue 14): DNS and mail services on loopback, aimed at by every demo project.

A demo project names the resolver and ports of the lab that ran when it was saved; those die
with the program. The prepare step therefore aims a project marked ``demo`` at the lab of
this process, and the lab also runs the demo client's mail services, so the demo shows
service and TLS findings (passes and failures) instead of "not probed" rows.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from auditapp.audit import prepare as prepare_module
from auditapp.audit.engine import audit
from auditapp.audit.prepare import PrepareError, prepare_project_audit, use_demo_lab
from auditapp.collectors.netguard import refusal
from auditapp.collectors.probes.tls import legacy_context
from auditapp.core.model import Run, Status
from auditapp.core.project import Project
from auditapp.core.project_io import load_project, save_project
from auditapp.lab.demo import DEMO_DOMAIN, DEMO_SERVICE_ADDRESS, DEMO_ZONES, demo_project
from auditapp.lab.democerts import DEMO_ORG, EXPIRING_DAYS, INTERNAL_NAME
from auditapp.lab.demolab import PREFERRED_PORTS, DemoLab, demo_lab_endpoints, running_demo_lab, stop_demo_lab
from auditapp.lab.dnsserver import RecordSet

#: The rules that judge the mail services; the demo must give each a verdict or a real reason.
SERVICE_RULES = ("SMTP-UNREACHABLE", "SMTP-BANNER", "STARTTLS-MISSING", "AUTH-WITHOUT-TLS", "SUBMISSION-MISSING",
                 "SUBMISSION-IMPLICIT-TLS-MISSING", "SUBMISSION-AUTH-MISSING", "SUBMISSION-NO-AUTH-RELAY",
                 "OPEN-RELAY", "MAILBOX-PLAINTEXT-LOGIN", "MAILBOX-TLS-MISSING", "TLS-LEGACY-PROTOCOL",
                 "TLS-CERT-NAME", "TLS-CERT-EXPIRED", "TLS-CERT-EXPIRING", "TLS-CERT-UNTRUSTED", "SERVICE-NAMES",
                 "SERVICE-SHARED-MX", "SERVICE-UNEXPECTED-PORT")


@pytest.fixture
def demo_lab() -> Iterator[None]:
    """The process's demo lab registered for the prepare step, as the window and ``auditapp demo`` do."""
    previous = list(prepare_module._demo_lab)
    use_demo_lab(demo_lab_endpoints)
    yield
    prepare_module._demo_lab[:] = previous


def run_demo(project: Project) -> Run:
    prepared = prepare_project_audit(project, timeout=3.0, password_lookup=lambda _d, _a: None, trust_lookup=None)
    return asyncio.run(audit(prepared.target, prepared.make_dns(), prepared.config))


def verdict(run: Run, rule: str, port: int) -> Status:
    return next(f.status for f in run.findings if f.rule == rule and f.subject == f"{DEMO_SERVICE_ADDRESS}:{port}")


def test_the_demo_shows_service_and_tls_findings_with_passes_and_failures(demo_lab: None) -> None:
    run = run_demo(demo_project())
    ports = running_demo_lab().ports
    assert not getattr(run, "degraded", False) and not run.cancelled
    service = [f for f in run.findings if f.rule in SERVICE_RULES]
    assert {f.rule for f in service} == set(SERVICE_RULES)
    assert {Status.PASS, Status.FAIL} <= {f.status for f in service}
    # No "not probed" rows: every service rule gave a verdict (nothing the lab does is ambiguous).
    assert [f for f in service if f.status is Status.NOT_TESTED] == []
    assert not any(f.reason and f.reason.key in ("reason.services_off", "reason.not_probed") for f in run.findings)
    # The one defect per port the lab really has, and the passes around it.
    assert verdict(run, "AUTH-WITHOUT-TLS", ports["submission"]) is Status.FAIL
    assert verdict(run, "AUTH-WITHOUT-TLS", ports["smtp"]) is Status.PASS
    assert verdict(run, "TLS-CERT-NAME", ports["imaps"]) is Status.FAIL
    assert verdict(run, "TLS-CERT-NAME", ports["submissions"]) is Status.PASS
    assert verdict(run, "TLS-CERT-EXPIRING", ports["pop3s"]) is Status.FAIL
    assert verdict(run, "TLS-CERT-UNTRUSTED", ports["imaps"]) is Status.PASS  # the demo CA is trusted for the demo
    assert verdict(run, "OPEN-RELAY", ports["smtp"]) is Status.PASS
    assert verdict(run, "MAILBOX-PLAINTEXT-LOGIN", ports["imap"]) is Status.PASS
    if legacy_context(ssl.TLSVersion.TLSv1)[0] is not None:  # a local OpenSSL built without TLS 1.0 cannot tell
        assert verdict(run, "TLS-LEGACY-PROTOCOL", ports["smtp"]) is Status.FAIL
        assert verdict(run, "TLS-LEGACY-PROTOCOL", ports["imaps"]) is Status.PASS
    closed = [e for e in run.inventory["endpoints"] if e["port"] == ports["pop3"]]
    assert closed and closed[0]["state"] == "refused"
    # The DNS half of the demo is still there.
    assert any(f.rule == "PTR-FCRDNS" and f.status is Status.FAIL for f in run.findings)
    assert run.duration_s < 10


def test_the_demo_connects_only_to_loopback_and_needs_no_loopback_only_mode() -> None:
    """The addresses the audit connects to are loopback, and the demo project allows probing them
    without the test suite's guard (a learned internal address is refused unless the audit is internal)."""
    records = RecordSet.from_zone_text(DEMO_ZONES).records
    for name in ("mx", "smtp", "imap"):
        addresses = [r.to_text() for r in records[f"{name}.{DEMO_DOMAIN}"]]
        assert addresses == [DEMO_SERVICE_ADDRESS]
    project = demo_project()
    assert project.demo and project.probe_services and project.allow_internal
    assert refusal(DEMO_SERVICE_ADDRESS, learned=True, allow_internal=project.allow_internal) == ""


def test_a_demo_project_with_a_stale_address_runs_against_the_live_lab(demo_lab: None) -> None:
    project = demo_project()
    project.nameservers = ["127.0.0.1:9"]  # the lab of a session long gone
    project.ports = {service: 9 + i for i, service in enumerate(PREFERRED_PORTS)}
    prepared = prepare_project_audit(project, timeout=3.0, password_lookup=lambda _d, _a: None, trust_lookup=None)
    live = demo_lab_endpoints()
    assert prepared.resolver_text == live.nameservers[0]
    assert {s: prepared.target.ports[s] for s in live.ports} == live.ports
    assert prepared.target.ca_file == live.ca_file
    # A project that is not the demo keeps its own resolver.
    plain = demo_project("127.0.0.1:9")
    assert not plain.demo
    assert prepare_project_audit(plain, timeout=3.0).resolver_text == "127.0.0.1:9"


def test_the_demo_survives_a_restart_of_its_lab(demo_lab: None) -> None:
    """What a restart of the program does: the lab's resolver port changes; the demo follows it."""
    before = demo_lab_endpoints()
    stop_demo_lab()
    after = demo_lab_endpoints()
    assert after.nameservers != before.nameservers
    project = demo_project()
    project.nameservers = list(before.nameservers)
    run = run_demo(project)
    assert run.resolver == after.nameservers[0]
    assert any(f.rule == "DNSBL-LISTED" and f.status is Status.FAIL for f in run.findings)


def test_a_demo_project_without_a_lab_is_refused_not_run_against_a_dead_address() -> None:
    previous = list(prepare_module._demo_lab)
    use_demo_lab(None)
    try:
        with pytest.raises(PrepareError, match="demo lab"):
            prepare_project_audit(demo_project(), timeout=3.0)
    finally:
        prepare_module._demo_lab[:] = previous


def test_a_lab_that_cannot_start_is_a_prepare_error() -> None:
    previous = list(prepare_module._demo_lab)

    def broken() -> prepare_module.LabEndpoints:
        raise OSError("no loopback")

    use_demo_lab(broken)
    try:
        with pytest.raises(PrepareError, match="could not start: no loopback"):
            prepare_project_audit(demo_project(), timeout=3.0)
    finally:
        prepare_module._demo_lab[:] = previous


def test_the_demo_flag_is_optional_in_project_files(tmp_path: Path) -> None:
    path = tmp_path / "demo.auditproj"
    save_project(demo_project(), path)
    assert '"demo": true' in path.read_text("utf-8")
    assert load_project(path).demo
    plain = tmp_path / "plain.auditproj"
    save_project(Project(name="Kunde", domain="kunde.example"), plain)
    assert '"demo"' not in plain.read_text("utf-8")  # files of other projects look as before
    assert not load_project(plain).demo


def test_a_second_lab_falls_back_to_free_ports() -> None:
    """A second window running the demo: the preferred ports are taken, the lab still starts."""
    running_demo_lab()
    with DemoLab() as second:
        ports = second.ports
    assert set(ports) == set(PREFERRED_PORTS) and len(set(ports.values())) == len(ports)


def test_the_demo_certificates_say_demo_only_and_expire_as_planned() -> None:
    certs = running_demo_lab().certs
    assert certs is not None
    ca = x509.load_pem_x509_certificate(certs.ca.read_bytes())
    organisation = ca.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value
    assert organisation == DEMO_ORG and "demo only" in ca.subject.rfc4514_string()
    internal = x509.load_pem_x509_certificate(certs.internal.cert.read_bytes())
    san = internal.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [INTERNAL_NAME]
    expiring = x509.load_pem_x509_certificate(certs.expiring.cert.read_bytes())
    left = expiring.not_valid_after_utc - expiring.not_valid_before_utc
    assert left.days == EXPIRING_DAYS + 1  # valid from yesterday


def test_the_command_line_audits_a_saved_demo_project_against_its_own_lab(tmp_path: Path) -> None:
    """``auditapp audit --project`` on a demo file written by an earlier session (stale addresses)."""
    import json

    from auditapp.cli.main import main as cli_main

    project = demo_project()
    project.nameservers = ["127.0.0.1:9"]
    path = tmp_path / "demo.auditproj"
    save_project(project, path)
    previous = list(prepare_module._demo_lab)
    use_demo_lab(None)  # as in a fresh CLI process: nothing registered yet
    try:
        rc = cli_main(["audit", "--project", str(path), "--json", str(tmp_path / "out.json"), "--lang", "en"])
    finally:
        prepare_module._demo_lab[:] = previous
    assert rc in (0, 1)  # 1: findings above the default --fail-on threshold; not 2 (refused) or 3
    results = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert results["degraded"] is False
    statuses = {r["rule"]: r["status"] for r in results["results"]}
    assert statuses["SMTP-UNREACHABLE"] == "pass"
    assert load_project(path).runs[-1].resolver == demo_lab_endpoints().nameservers[0]
