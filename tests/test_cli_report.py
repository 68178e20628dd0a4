"""The PDF from the command line: ``audit --pdf``, ``report --project``, and the demo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pypdf import PdfReader

from auditapp.cli.main import main
from auditapp.core.project import Project
from auditapp.core.project_io import save_project
from auditapp.lab.demo import DEMO_DATA, DEMO_DOMAIN, DEMO_ZONES
from auditapp.lab.dnsserver import LabDnsServer, RecordSet


@pytest.fixture
def demo_dns():
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES)) as server:
        yield server


def text_of(path: Path, password: str | None = None) -> str:
    reader = PdfReader(str(path))
    if password is not None:
        assert reader.is_encrypted
        reader.decrypt(password)
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def test_audit_writes_a_pdf_in_the_chosen_language(demo_dns, tmp_path: Path) -> None:
    out = tmp_path / "r.pdf"
    assert main(["audit", DEMO_DOMAIN, "--nameserver", demo_dns.address, "--no-services", "--lang", "en",
                 "--answers", str(DEMO_DATA / "answers.json"), "--pdf", str(out)]) == 0
    text = text_of(out)
    assert "Management summary" in text and "Page 1 of" in text


def test_report_renders_a_recorded_run_with_the_previous_one(demo_dns, tmp_path: Path) -> None:
    project_path = tmp_path / "p.auditproj"
    save_project(Project(name="Beispiel GmbH", domain=DEMO_DOMAIN), project_path)
    for _ in range(2):
        assert main(["audit", "--project", str(project_path), "--nameserver", demo_dns.address,
                     "--no-services", "--json", str(tmp_path / "r.json")]) == 0
    out = tmp_path / "report.pdf"
    assert main(["report", "--project", str(project_path), "--pdf", str(out), "--lang", "de", "--draft"]) == 0
    text = text_of(out)
    assert "Management-Zusammenfassung" in text and "ENTWURF" in text
    assert main(["report", "--project", str(project_path), "--pdf", str(out), "--run", "3"]) == 2


def test_report_needs_a_recorded_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project_path = tmp_path / "p.auditproj"
    save_project(Project(name="X", domain="example.com"), project_path)
    assert main(["report", "--project", str(project_path), "--pdf", str(tmp_path / "x.pdf")]) == 2
    assert "no recorded run" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_report_password_from_the_real_keyring(demo_dns, tmp_path: Path) -> None:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        if os.environ.get("CI"):
            pytest.fail("CI runs the tests through tests/lab/with-keyring.sh; no D-Bus session here")
        pytest.skip("no D-Bus session (run through tests/lab/with-keyring.sh)")
    from auditapp.credentials import delete_report_password, set_report_password

    project_path = tmp_path / "p.auditproj"
    save_project(Project(name="Kunde AG", domain=DEMO_DOMAIN), project_path)
    assert main(["audit", "--project", str(project_path), "--nameserver", demo_dns.address, "--no-services",
                 "--json", str(tmp_path / "r.json")]) == 0
    set_report_password("Kunde AG", "pdf-secret-1")
    try:
        out = tmp_path / "enc.pdf"
        assert main(["report", "--project", str(project_path), "--pdf", str(out), "--password-from-keyring",
                     "--lang", "en"]) == 0
        assert "Management summary" in text_of(out, "pdf-secret-1")
    finally:
        delete_report_password("Kunde AG")


def test_demo_writes_the_pdf(tmp_path: Path) -> None:
    assert main(["demo", "--out", str(tmp_path), "--lang", "de"]) == 0
    assert "Beispiel GmbH" in text_of(tmp_path / "demo-report-de.pdf")


def test_accepted_risk_is_recorded_and_shown_in_the_report(demo_dns, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from auditapp.core.project_io import load_project

    project_path = tmp_path / "p.auditproj"
    save_project(Project(name="Beispiel GmbH", domain=DEMO_DOMAIN, dkim_selectors=["mail"]), project_path)
    assert main(["audit", "--project", str(project_path), "--nameserver", demo_dns.address, "--no-services",
                 "--json", str(tmp_path / "r.json")]) == 0
    subject = "mail._domainkey.beispiel-gmbh.example"
    assert main(["accept", "DKIM-WEAK-KEY", subject, "--project", str(project_path),
                 "--reason", "Schlüsseltausch für Q1/2027 geplant", "--by", "E. Musterfrau",
                 "--expires", "2027-03-31"]) == 0
    risks = load_project(project_path).accepted_risks
    assert risks[0].rule == "DKIM-WEAK-KEY" and risks[0].expires == "2027-03-31"
    out = tmp_path / "report.pdf"
    assert main(["report", "--project", str(project_path), "--pdf", str(out), "--lang", "de"]) == 0
    text = text_of(out)
    assert "Schlüsseltausch für Q1/2027 geplant" in text and "E. Musterfrau" in text
    # Bad input changes nothing.
    before = project_path.read_bytes()
    assert main(["accept", "NO-SUCH-RULE", "x", "--project", str(project_path), "--reason", "r", "--by", "b"]) == 2
    assert main(["accept", "DKIM-WEAK-KEY", "x", "--project", str(project_path), "--reason", " ", "--by", "b"]) == 2
    assert main(["accept", "DKIM-WEAK-KEY", "x", "--project", str(project_path), "--reason", "r", "--by", "b",
                 "--expires", "soon"]) == 2
    assert project_path.read_bytes() == before


def test_review_comments_and_severity_overrides_reach_the_report(demo_dns, tmp_path: Path) -> None:
    from auditapp.core.project_io import load_project

    project_path = tmp_path / "p.auditproj"
    save_project(Project(name="Beispiel GmbH", domain=DEMO_DOMAIN, dkim_selectors=["mail"]), project_path)
    assert main(["audit", "--project", str(project_path), "--nameserver", demo_dns.address, "--no-services",
                 "--json", str(tmp_path / "r.json")]) == 0
    subject = "mail._domainkey.beispiel-gmbh.example"
    assert main(["review", "DKIM-WEAK-KEY", subject, "--project", str(project_path), "--by", "K. Prüfer",
                 "--comment", "Schlüssel <font size=40>liegt beim Provider & wird getauscht"]) == 0
    assert main(["review", "DKIM-WEAK-KEY", subject, "--project", str(project_path), "--by", "K. Prüfer",
                 "--severity", "high", "--reason", "Der Schlüssel signiert auch Rechnungen"]) == 0
    assert [r.kind for r in load_project(project_path).reviews] == ["comment", "severity"]
    out = tmp_path / "report.pdf"
    assert main(["report", "--project", str(project_path), "--pdf", str(out), "--lang", "de"]) == 0
    text = " ".join(text_of(out).split())
    assert "Schweregrad angepasst: niedrig → hoch: Der Schlüssel signiert auch Rechnungen" in text
    assert "Schlüssel <font size=40>liegt beim Provider & wird getauscht" in text
    assert "Anmerkungen des Prüfers" in text
    # Refused actions change nothing on disk.
    before = project_path.read_bytes()
    assert main(["review", "DKIM-WEAK-KEY", subject, "--project", str(project_path), "--by", "x",
                 "--severity", "low"]) == 2  # no reason
    assert main(["review", "DKIM-WEAK-KEY", subject, "--project", str(project_path), "--by", "x"]) == 2
    assert main(["review", "NO-SUCH", subject, "--project", str(project_path), "--by", "x", "--comment", "c"]) == 2
    assert project_path.read_bytes() == before
    assert main(["review", "DKIM-WEAK-KEY", subject, "--project", str(project_path), "--by", "x",
                 "--severity", "catalog"]) == 0
    assert [r.kind for r in load_project(project_path).reviews] == ["comment"]
