"""``auditapp audit --project FILE`` against the offline demo lab: runs are recorded, bad input changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditapp.cli import project_audit
from auditapp.cli.main import main
from auditapp.core.model import Run
from auditapp.core.project import Project
from auditapp.core.project_io import load_project, save_project
from auditapp.lab.demo import DEMO_DNSBL, DEMO_DOMAIN, DEMO_HELO, DEMO_IPS, DEMO_SELECTOR, DEMO_ZONES
from auditapp.lab.dnsserver import LabDnsServer, RecordSet

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def lab() -> Iterator[LabDnsServer]:
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES)) as server:
        yield server


def demo_project(nameservers: list[str]) -> Project:
    return Project(name="Beispiel GmbH", domain=DEMO_DOMAIN, server_ips=list(DEMO_IPS), helo=DEMO_HELO,
                   dkim_selectors=[DEMO_SELECTOR], dnsbl_zones=[DEMO_DNSBL], nameservers=nameservers,
                   answers={"q.backup_mx": False}, test_account="audit@beispiel-gmbh.example")


@pytest.fixture()
def project_file(tmp_path: Path, lab: LabDnsServer) -> Path:
    path = tmp_path / "beispiel.auditproj"
    save_project(demo_project([lab.address]), path)
    return path


def listing(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def audit(*args: str) -> int:
    return main(["audit", "--lang", "en", "--timeout", "2", *args])


def test_audit_appends_a_run_and_keeps_the_backup(project_file: Path, lab: LabDnsServer,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    original = project_file.read_bytes()
    assert audit("--project", str(project_file)) == 0
    out = capsys.readouterr().out
    assert "beispiel-gmbh.example" in out and "recorded in" in out

    project = load_project(project_file)
    assert len(project.runs) == 1
    run = project.runs[0]
    assert run.target["domain"] == DEMO_DOMAIN
    assert run.target["helo_source"] == "project"
    assert run.resolver == lab.address
    assert any(f.rule == "DNSBL-LISTED" and f.status.value == "fail" for f in run.findings)
    assert project.answers == {"q.backup_mx": False}  # the rest of the project is untouched
    assert (project_file.parent / "beispiel.auditproj.bak").read_bytes() == original

    after_first = project_file.read_bytes()
    assert audit("--project", str(project_file)) == 0
    project = load_project(project_file)
    assert project.runs[0].id == run.id and len(project.runs) == 2
    assert (project_file.parent / "beispiel.auditproj.bak").read_bytes() == after_first
    assert sorted(p.name for p in project_file.parent.iterdir()) == ["beispiel.auditproj", "beispiel.auditproj.bak"]


def test_json_output_and_fail_on(project_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    assert audit("--project", str(project_file), "--json", str(out), "--fail-on", "high") == 1
    result = json.loads(out.read_text("utf-8"))
    assert result["schema"] == "auditapp.result/1"
    project = load_project(project_file)
    assert len(project.runs) == 1  # findings above the threshold still get recorded
    assert result["started"] == project.runs[0].started


def test_cli_nameserver_overrides_the_projects(tmp_path: Path, lab: LabDnsServer) -> None:
    path = tmp_path / "p.auditproj"
    save_project(demo_project(["192.0.2.1"]), path)  # TEST-NET: would only time out
    assert audit("--project", str(path), "--nameserver", lab.address) == 0
    project = load_project(path)
    assert project.runs[0].resolver == lab.address
    assert project.nameservers == ["192.0.2.1"]  # an override for this run, not an edit


def test_cli_trust_anchor_overrides_the_projects(tmp_path: Path, lab: LabDnsServer,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from auditapp.dnssec.anchors import IANA_ROOT_DS

    path = tmp_path / "p.auditproj"
    project = demo_project([lab.address])
    project.trust_anchor = str(tmp_path / "gone.key")  # the project's file no longer exists
    save_project(project, path)
    good = tmp_path / "root.key"
    good.write_text("\n".join(IANA_ROOT_DS) + "\n", "utf-8")
    assert audit("--project", str(path), "--trust-anchor", str(good)) == 0
    project = load_project(path)
    assert project.runs[0].target["trust_anchor"] == str(good)
    assert project.trust_anchor == str(tmp_path / "gone.key")  # an override for this run, not an edit

    bad = tmp_path / "bad.key"
    bad.write_text("not a DS record\n", "utf-8")
    before = listing(tmp_path)
    capsys.readouterr()
    assert audit("--project", str(path), "--trust-anchor", str(bad)) == 2
    assert "--trust-anchor" in capsys.readouterr().err
    assert listing(tmp_path) == before


@pytest.mark.parametrize("extra", [
    ["beispiel.example"], ["--server-ip", "192.0.2.1"], ["--helo", "mail.example"], ["--mx", "mx.example"],
    ["--dkim-selector", "s1"], ["--dnsbl", "bl.example"], ["--port", "smtp=2525"],
])
def test_target_options_with_project_are_refused(project_file: Path, extra: list[str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    before = listing(project_file.parent)
    assert audit("--project", str(project_file), *extra) == 2
    err = capsys.readouterr().err
    assert "--project defines the target" in err and (extra[0] if extra[0].startswith("-") else "DOMAIN") in err
    assert listing(project_file.parent) == before


@pytest.mark.parametrize("content", [
    b"",
    b'{"format": "auditapp.project", "schema_version": 1, "project": {"domain": "beisp',
    bytes(range(256)),
    json.dumps({"name": "left-pad", "version": "1.3.0"}).encode(),
    json.dumps({"format": "auditapp.project", "schema_version": 99, "project": {}}).encode(),
    json.dumps({"format": "auditapp.project", "schema_version": 1, "project": {"domain": "x y"}}).encode(),
], ids=["empty", "truncated", "garbage", "package.json", "newer", "invalid-domain"])
def test_damaged_project_exits_2_and_changes_nothing(tmp_path: Path, content: bytes,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.auditproj"
    path.write_bytes(content)
    before = listing(tmp_path)
    assert audit("--project", str(path), "--json", str(tmp_path / "out.json")) == 2
    err = capsys.readouterr().err
    assert err.startswith("auditapp: error: ") and err.count("\n") == 1
    assert listing(tmp_path) == before  # no run, no .bak, no JSON, no temp file


def test_missing_project_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert audit("--project", str(tmp_path / "nope.auditproj")) == 2
    assert "no such file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_interrupted_audit_leaves_the_project_unchanged(project_file: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    before = listing(project_file.parent)

    async def interrupted(*_args: object, **_kwargs: object) -> Run:
        raise KeyboardInterrupt

    monkeypatch.setattr(project_audit, "audit", interrupted)
    assert audit("--project", str(project_file)) == 130
    assert listing(project_file.parent) == before


def test_cancelled_run_is_not_recorded(project_file: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """asyncio.run turns Ctrl+C into a cancelled Run rather than an exception; it must not be saved either."""
    before = listing(project_file.parent)
    real = project_audit.audit

    async def cancelled(*args: object, **kwargs: object) -> Run:
        run = await real(*args, **kwargs)  # type: ignore[arg-type]
        run.cancelled = True
        return run

    monkeypatch.setattr(project_audit, "audit", cancelled)
    assert audit("--project", str(project_file)) == 130
    assert "was not changed" in capsys.readouterr().err
    assert listing(project_file.parent) == before


def test_a_save_during_the_audit_is_not_overwritten(project_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The GUI may save the project while the CLI audits it: the run is added to that newer version."""
    real = project_audit.audit

    async def gui_saves_meanwhile(*args: object, **kwargs: object) -> Run:
        edited = load_project(project_file)
        edited.answers["q.edited_in_gui"] = True
        save_project(edited, project_file)
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(project_audit, "audit", gui_saves_meanwhile)
    assert audit("--project", str(project_file)) == 0
    project = load_project(project_file)
    assert project.answers == {"q.backup_mx": False, "q.edited_in_gui": True}
    assert len(project.runs) == 1


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_directory_is_found_before_the_audit(project_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the audit ran although its run could not be recorded")

    monkeypatch.setattr(project_audit, "audit", must_not_run)
    project_file.parent.chmod(0o500)
    try:
        assert audit("--project", str(project_file)) == 3
    finally:
        project_file.parent.chmod(0o700)


def test_subprocess_entry_point(project_file: Path, tmp_path: Path) -> None:
    env = {**os.environ, "LANG": "C"}
    ok = subprocess.run([sys.executable, "-m", "auditapp", "audit", "--project", str(project_file)],
                        cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert len(load_project(project_file).runs) == 1

    damaged = tmp_path / "damaged.auditproj"
    damaged.write_bytes(project_file.read_bytes()[:-40])
    before = listing(tmp_path)
    bad = subprocess.run([sys.executable, "-m", "auditapp", "audit", "--project", str(damaged)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.startswith("auditapp: error: ") and bad.stderr.count("\n") == 1
    assert "damaged" in bad.stderr
    assert listing(tmp_path) == before
