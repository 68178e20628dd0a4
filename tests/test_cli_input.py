"""The CLI contract: bad input is one clear line and exit code 2, with nothing sent or written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from auditapp.cli.main import main
from auditapp.lab.dnsserver import LabDnsServer, RecordSet

BAD_INPUTS = [
    (["audit", "exa mple.com"], "whitespace"),
    (["audit", " example.com"], "whitespace"),
    (["audit", "a" * 64 + ".example"], "63"),
    (["audit", "ex\u2024ample.com"], "not a valid domain"),  # disallowed code point (ONE DOT LEADER)
    (["audit", "xn--zz.example"], "not a valid domain"),
    (["audit", "example.com", "--server-ip", "192.0.2.1:25"], "port glued on"),
    (["audit", "example.com", "--server-ip", "[2001:db8::1]:25"], "port glued on"),
    (["audit", "example.com", "--server-ip", "mail.example.com"], "not an IPv4 or IPv6"),
    (["audit", "example.com", "--helo", ""], "HELO name is empty"),
    (["audit", "example.com", "--helo", " mail.example.com"], "whitespace"),
    (["audit", "example.com", "--nameserver", "dns.example"], "not an IP address"),
    (["audit", "example.com", "--port", "smtp=99999"], "not a port"),
    (["audit", "example.com", "--dkim-selector", "bad selector"], "whitespace"),
    (["audit", "localhost"], "two labels"),
    (["audit"], "DOMAIN"),
    (["audit", "example.com", "--timeout", "0"], "timeout"),
    (["audit", "example.com", "--timeout", "nan"], "timeout"),
    (["audit", "example.com", "--timeout", "-1"], "timeout"),
    (["audit", "example.com", "--timeout", "inf"], "timeout"),
    (["audit", "example.com", "--port", "submissions=587"], "share port"),
    (["frobnicate"], "invalid choice"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_INPUTS, ids=[" ".join(a)[:40] for a, _ in BAD_INPUTS])
def test_bad_input_exits_2_with_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    rc = main([*argv, "--json", str(out)] if argv and argv[0] == "audit" and len(argv) > 1 else argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1, err
    assert message.lower() in err[0].lower()
    assert not out.exists()


def _lab() -> LabDnsServer:
    rs = RecordSet()
    rs.add("xn--bcher-kva.example", "TXT", "v=spf1 -all")
    rs.add("_dmarc.xn--bcher-kva.example", "TXT", "v=DMARC1; p=reject; rua=mailto:d@xn--bcher-kva.example")
    return LabDnsServer(rs).start()


def test_u_label_domain_is_accepted_and_stored_as_a_label(tmp_path: Path) -> None:
    with _lab() as lab:
        out = tmp_path / "r.json"
        rc = main(["audit", "bücher.example", "--nameserver", lab.address, "--json", str(out), "--lang", "de"])
    assert rc == 0
    data = json.loads(out.read_text("utf-8"))
    assert data["schema"] == "auditapp.result/1"
    assert data["target"]["domain"] == "xn--bcher-kva.example"
    assert data["target"]["domain_unicode"] == "bücher.example"
    rules = {r["rule"]: r for r in data["results"]}
    assert rules["SPF-MISSING"]["status"] == "pass"
    assert rules["DMARC-MISSING"]["status"] == "pass"
    # Without sending IPs the per-IP rules are honestly not tested, with the reason.
    assert rules["PTR-MISSING"]["status"] == "not_tested"
    assert "--server-ip" in rules["PTR-MISSING"]["reason"]
    for r in data["results"]:
        assert set(r) >= {"rule", "status", "severity", "subject", "title", "detail", "remediation",
                          "references", "evidence", "reason"}
        assert "{" not in r["detail"] + r["remediation"] + r["explanation"], f"unfilled placeholder in {r['rule']}"


def test_misconfigured_helo_values_are_audited_not_refused(tmp_path: Path) -> None:
    with _lab() as lab:
        for helo in ("localhost", "mailserver", "192.0.2.1", "mail.firma.local"):
            out = tmp_path / "r.json"
            rc = main(["audit", "bücher.example", "--server-ip", "192.0.2.1", "--helo", helo, "--dnsbl",
                       "dnsbl.example", "--nameserver", lab.address, "--json", str(out)])
            assert rc == 0
            results = json.loads(out.read_text("utf-8"))["results"]
            helo_invalid = [r for r in results if r["rule"] == "HELO-INVALID"]
            assert helo_invalid and helo_invalid[0]["status"] == "fail", helo


def test_fail_on_sets_exit_code_1(tmp_path: Path) -> None:
    with _lab() as lab:
        base = ["audit", "bücher.example", "--nameserver", lab.address, "--json", str(tmp_path / "r.json"),
                "--dkim-selector", "default"]
        assert main(base) == 0
        # no DKIM key at the given selector: DKIM-NO-KEY (high) fails
        assert main([*base, "--fail-on", "high"]) == 1
        assert main([*base, "--fail-on", "critical"]) == 0


def test_rules_lists_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    ids = {r["id"] for r in data["rules"]}
    assert {"PTR-MISSING", "SPF-LOOKUP-LIMIT", "DMARC-REJECT-RISK", "DNSBL-LISTED"} <= ids
    assert main(["rules", "--lang", "de"]) == 0
    assert "Reverse-DNS" in capsys.readouterr().out


def test_spf_eval_prints_result_first(capsys: pytest.CaptureFixture[str]) -> None:
    rs = RecordSet()
    rs.add("example.test", "TXT", "v=spf1 ip4:192.0.2.0/24 -all")
    rs.add("mail.example.test", "TXT", "v=spf1 a -all")
    rs.add("mail.example.test", "A", "192.0.2.7")
    with LabDnsServer(rs) as lab:
        assert main(["spf-eval", "192.0.2.7", "user@example.test", "--nameserver", lab.address]) == 0
        assert capsys.readouterr().out.splitlines()[0] == "pass"
        assert main(["spf-eval", "198.51.100.1", "user@example.test", "--nameserver", lab.address]) == 0
        assert capsys.readouterr().out.splitlines()[0] == "fail"
        # empty SENDER: the HELO identity is checked
        assert main(["spf-eval", "192.0.2.7", "", "--helo", "mail.example.test", "--nameserver", lab.address]) == 0
        assert capsys.readouterr().out.splitlines()[0] == "pass"


def test_demo_runs_offline_as_a_subprocess(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "auditapp", "demo", "--out", str(tmp_path), "--lang", "en"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "demo-audit.json").read_text("utf-8"))
    failed = {(r["rule"], r["subject"]) for r in data["results"] if r["status"] == "fail"}
    # The seed's examples, each visible in the demo.
    assert ("PTR-FCRDNS", "192.0.2.20") in failed
    assert ("HELO-INVALID", "192.0.2.10") in failed
    assert ("PTR-GENERIC", "198.51.100.7") in failed
    assert ("SPF-HARDFAIL-ALL", "beispiel-gmbh.example") in failed
    assert ("ADSP-RECORD", "beispiel-gmbh.example") in failed
    assert ("DNSBL-LISTED", "198.51.100.7 @ dnsbl.demo.example") in failed
    assert "demo-audit.json" in proc.stdout
    assert (tmp_path / "demo-report-en.pdf").stat().st_size > 10_000
    # The demo lab's mail services are probed too (issue 14): service and TLS results, passes
    # and failures, and no row saying the services were not probed.
    service = [r for r in data["results"] if r["rule"].startswith(("SMTP-", "STARTTLS-", "AUTH-", "SUBMISSION-",
                                                                     "MAILBOX-", "TLS-CERT-", "TLS-LEGACY-"))]
    assert {"pass", "fail"} <= {r["status"] for r in service}
    assert {r["rule"] for r in service if r["status"] == "fail"} >= {"AUTH-WITHOUT-TLS", "TLS-CERT-NAME",
                                                                      "TLS-CERT-EXPIRING"}
    assert not any(r["status"] == "not_tested" for r in service)
    assert "not probed" not in proc.stdout and "Mail services:" in proc.stdout


def test_one_timeout_rule_for_the_command_line_and_projects(capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI allowed 600 s and the project path 300 s; now both use core/validation.validate_timeout."""
    from auditapp.audit.prepare import PrepareError, prepare_project_audit
    from auditapp.core.project import Project
    from auditapp.core.validation import MAX_TIMEOUT_S, validate_timeout

    assert validate_timeout(MAX_TIMEOUT_S) == MAX_TIMEOUT_S == 600
    project = Project(name="t", domain="example.com", nameservers=["127.0.0.1:53"], probe_services=False)
    assert prepare_project_audit(project, timeout=500).timeout == 500
    for bad in (0, -1, 601, float("nan"), float("inf")):
        with pytest.raises(PrepareError, match="at most 600"):
            prepare_project_audit(project, timeout=bad)
    assert main(["audit", "example.com", "--timeout", "601", "--no-services"]) == 2
    assert "--timeout must be a number of seconds above 0 and at most 600" in capsys.readouterr().err
