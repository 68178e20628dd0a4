"""The transport-security section shows the TLS scan as one compact row per endpoint (issue 16)."""

from __future__ import annotations

from auditapp.catalog import catalog
from auditapp.core.model import Finding, Run, Severity, Status
from auditapp.report.model import build_report

ROW = {"endpoint": "192.0.2.25:25", "service": "smtp", "scan_versions": "1.0, 1.2, 1.3", "scan_best": "good",
       "scan_worst": "phase_out", "scan_fs": "partly", "scan_key": "RSA 2048, sha256", "scan_ocsp": "no",
       "scan_complete": "yes", "suites": "TLS_RSA_WITH_AES_128_CBC_SHA (TLSv1)", "count": 1}


def _run() -> Run:
    findings = [Finding("TLS-WEAK-CIPHER", Status.FAIL, Severity.INFO, "192.0.2.25:25", "phase_out_mx", ROW),
                Finding("TLS-WEAK-KEY", Status.PASS, Severity.HIGH, "192.0.2.25:25", "pass",
                        {"endpoint": "192.0.2.25:25", "service": "smtp", "key": "RSA 2048", "signature": "x"})]
    return Run(id="r1", started="2026-12-06T10:00:00+00:00", finished="2026-12-06T10:00:05+00:00",
               tool_version="0.1.0", catalog_version=catalog().version, resolver="127.0.0.1:53",
               target={"domain": "example.org"}, findings=findings)


def _transport(lang: str):
    doc = build_report(_run(), lang=lang)
    findings = next(s for s in doc.sections if s.key == "findings").body
    return next(c for c in findings.categories if c.category == "transport_security")


def test_one_row_per_endpoint_in_the_report_language() -> None:
    de, en = _transport("de"), _transport("en")
    assert len(de.tls_scan) == 1
    row = de.tls_scan[0]
    assert (row.endpoint, row.versions, row.best, row.worst, row.forward_secrecy, row.ocsp) == (
        "192.0.2.25:25", "1.0, 1.2, 1.3", "gut", "auslaufend", "teilweise", "nein")
    assert en.tls_scan[0].worst == "phase out" and en.tls_scan[0].forward_secrecy == "partly"
    # Port 25: the note says weak-but-present TLS beats none.
    assert "besser als keines" in de.tls_scan_note and "better than none" in en.tls_scan_note


def test_no_scan_no_table() -> None:
    run = _run()
    run.findings = [f for f in run.findings if f.rule != "TLS-WEAK-CIPHER"]
    doc = build_report(run, lang="en")
    findings = next(s for s in doc.sections if s.key == "findings").body
    assert all(not c.tls_scan for c in findings.categories)


def test_the_section_explains_dnssec_and_dane_to_a_manager_in_both_languages() -> None:
    de, en = _transport("de"), _transport("en")
    assert de.explainer.startswith("DNSSEC signiert") and "TR-03108" in de.explainer
    assert en.explainer.startswith("DNSSEC signs") and "DANE" in en.explainer
    assert en.explainer.count(". ") + 1 == 2  # two sentences
    doc = build_report(_run(), lang="en")
    others = [c for c in next(s for s in doc.sections if s.key == "findings").body.categories
              if c.category != "transport_security"]
    assert all(c.explainer == "" for c in others)
