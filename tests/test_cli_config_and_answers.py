"""``--postfix-config`` and ``--answers`` on the command line, projects keeping both, and the demo's seed findings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from auditapp.cli.main import main
from auditapp.core.project import Project
from auditapp.core.project_io import load_project, save_project
from auditapp.lab.demo import DEMO_DATA, DEMO_DOMAIN, DEMO_ZONES
from auditapp.lab.dnsserver import LabDnsServer, RecordSet


@pytest.fixture
def demo_dns():
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES)) as server:
        yield server


def run_json(argv: list[str], out: Path) -> dict[str, dict]:
    assert main([*argv, "--json", str(out)]) == 0
    return {(r["rule"], r["subject"]): r for r in json.loads(out.read_text("utf-8"))["results"]}


def test_postfix_config_and_answers_feed_the_audit(demo_dns, tmp_path: Path) -> None:
    res = run_json(["audit", DEMO_DOMAIN, "--nameserver", demo_dns.address, "--no-services", "--server-ip",
                    "192.0.2.10", "--dnsbl", "dnsbl.demo.example",
                    "--postfix-config", str(DEMO_DATA / "postfix"), "--answers", str(DEMO_DATA / "answers.json")],
                   tmp_path / "r.json")
    assert res[("PF-QUEUE-LIFETIME", "postfix")]["severity"] == "info"
    assert res[("PF-NO-OUTBOUND-FILTER", "postfix:submission/inet")]["status"] == "fail"
    # The HELO name comes from the Postfix configuration when --helo is not given.
    helo = res[("HELO-INVALID", "192.0.2.10")]
    assert helo["status"] == "fail" and "Postfix" in helo["detail"]
    policy = res[("POL-PRIVATE-USE-UNREGULATED", DEMO_DOMAIN)]
    assert policy["status"] == "fail"
    assert "TDDDG" in policy["explanation"] and "not legal advice" in policy["explanation"]


def test_without_answers_the_policy_rules_are_not_tested(demo_dns, tmp_path: Path) -> None:
    res = run_json(["audit", DEMO_DOMAIN, "--nameserver", demo_dns.address, "--no-services"], tmp_path / "r.json")
    for key, r in res.items():
        if key[0].startswith(("POL-", "PF-")):
            assert r["status"] == "not_tested", key
            assert r["reason"], key


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "answers"),
    ('{"format": "auditapp.answers", "version": 1, "answers": {"private_use.stauts": "allowed"}}', "stauts"),
    ('{"format": "auditapp.answers", "version": 1, "answers": {"private_use.status": "sometimes"}}', "sometimes"),
    ('{"name": "package.json"}', "format"),
])
def test_bad_answers_file_exits_2(tmp_path: Path, content: str, message: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "answers.json"
    bad.write_text(content, "utf-8")
    before = bad.read_bytes()
    assert main(["audit", "example.com", "--answers", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert bad.read_bytes() == before


def test_bad_postfix_config_exits_2_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main_cf = tmp_path / "main.cf"
    main_cf.write_text("myhostname = mail.example.com\n= no name here\n", "utf-8")
    assert main(["audit", "example.com", "--postfix-config", str(main_cf)]) == 2
    err = capsys.readouterr().err.strip()
    assert "main.cf" in err and "2" in err


def test_project_keeps_the_imported_configuration_and_answers(demo_dns, tmp_path: Path) -> None:
    path = tmp_path / "client.auditproj"
    save_project(Project(name="Beispiel GmbH", domain=DEMO_DOMAIN), path)
    rc = main(["audit", "--project", str(path), "--nameserver", demo_dns.address, "--no-services",
               "--postfix-config", str(DEMO_DATA / "postfix"), "--answers", str(DEMO_DATA / "answers.json")])
    assert rc == 0
    project = load_project(path)
    assert set(project.postfix_config["files"]) == {"main.cf", "master.cf"}
    assert project.answers["private_use.status"] == "tolerated"
    # A re-run without the options audits the same stored configuration.
    assert main(["audit", "--project", str(path), "--nameserver", demo_dns.address, "--no-services"]) == 0
    last = load_project(path).runs[-1]
    rules = {f.rule: f for f in last.findings}
    assert rules["PF-NO-OUTBOUND-FILTER"].status.value == "fail"
    assert rules["POL-DISCLAIMER-RELIANCE"].status.value == "fail"


def test_demo_shows_the_seed_findings_with_legal_background(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "auditapp", "demo", "--out", str(tmp_path), "--lang", "de"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "demo-audit.json").read_text("utf-8"))["results"]
    failed = {r["rule"] for r in results if r["status"] == "fail"}
    # The seed: 5d queue lifetime (a note), no outbound filter, signature forced onto private
    # mail, disclaimer relied upon, private use tolerated without rules.
    assert {"PF-QUEUE-LIFETIME", "PF-NO-OUTBOUND-FILTER", "POL-SIGNATURE-ON-PRIVATE-MAIL",
            "POL-DISCLAIMER-RELIANCE", "POL-PRIVATE-USE-UNREGULATED"} <= failed
    assert "Rechtlicher Hintergrund" in proc.stdout
    assert "keine Rechtsberatung" in proc.stdout
