"""The RPKI VRP file (``--rpki-vrps``, ``Project.rpki_vrps``): plumbed and checked as the DNSSEC trust anchor is.

A file the RPKI rules could not read is an input error before the first DNS question (exit 2,
nothing written), named by the option that gave it; a project keeps its file, and a file given on
the command line is used for one run without editing the project.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditapp.audit.request import AuditRequest, InputNames, build_target, request_from_project
from auditapp.cli.main import main
from auditapp.core.project import Project, ProjectError
from auditapp.core.project_io import load_project, save_project
from auditapp.core.validation import InputError
from auditapp.lab.demo import DEMO_DOMAIN, DEMO_ZONES
from auditapp.lab.dnsserver import LabDnsServer, RecordSet

GOOD_JSON = '{"roas": [{"asn": "AS64500", "prefix": "192.0.2.0/24", "maxLength": 24, "ta": "lab"}]}\n'
GOOD_CSV = "ASN,IP Prefix,Max Length,Trust Anchor\nAS64500,192.0.2.0/24,24,lab\n"


@pytest.fixture(scope="module")
def lab() -> Iterator[LabDnsServer]:
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES)) as server:
        yield server


@pytest.fixture()
def good_vrps(tmp_path: Path) -> Path:
    path = tmp_path / "vrps.json"
    path.write_text(GOOD_JSON, "utf-8")
    return path


def dns_only_project(nameserver: str, **fields: object) -> Project:
    """The demo domain, DNS checks only: these tests are about the file, not the mail servers."""
    return Project(name="Beispiel GmbH", domain=DEMO_DOMAIN, nameservers=[nameserver], probe_services=False,
                   **fields)  # type: ignore[arg-type]


def listing(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def audit(*args: str) -> int:
    return main(["audit", "--lang", "en", "--timeout", "2", "--no-services", *args])


# -- project file ---------------------------------------------------------------------------


def test_project_saves_and_loads_the_vrp_file(tmp_path: Path) -> None:
    path = tmp_path / "p.auditproj"
    save_project(Project(name="N", domain="example.com", rpki_vrps="/var/lib/rpki/vrps.json"), path)
    assert json.loads(path.read_text("utf-8"))["project"]["rpki_vrps"] == "/var/lib/rpki/vrps.json"
    loaded = load_project(path)
    assert loaded.rpki_vrps == "/var/lib/rpki/vrps.json"
    assert loaded.to_target().rpki_vrps == "/var/lib/rpki/vrps.json"


def test_project_without_vrp_file_does_not_write_the_field(tmp_path: Path) -> None:
    path = tmp_path / "p.auditproj"
    save_project(Project(name="N", domain="example.com"), path)
    assert "rpki_vrps" not in json.loads(path.read_text("utf-8"))["project"]
    assert load_project(path).rpki_vrps is None


@pytest.mark.parametrize(("value", "expected"), [
    (5, "field rpki_vrps must be a string"),
    ("", "field rpki_vrps is empty"),
    ("vrps\n.json", "field rpki_vrps contains control characters"),
])
def test_project_vrp_field_is_type_checked(tmp_path: Path, value: object, expected: str) -> None:
    doc = {"format": "auditapp.project", "schema_version": 1, "saved_by": "test",
           "project": {"name": "N", "domain": "example.com", "rpki_vrps": value}}
    path = tmp_path / "p.auditproj"
    path.write_text(json.dumps(doc), "utf-8")
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert expected in str(info.value) and info.value.field == "rpki_vrps"


# -- the request ----------------------------------------------------------------------------


@pytest.mark.parametrize("content", [GOOD_JSON, GOOD_CSV], ids=["json", "csv"])
def test_request_passes_a_good_file_to_the_target(tmp_path: Path, content: str) -> None:
    path = tmp_path / "vrps.txt"
    path.write_text(content, "utf-8")
    assert build_target(AuditRequest(domain="example.com", rpki_vrps=str(path))).rpki_vrps == str(path)
    assert build_target(AuditRequest(domain="example.com")).rpki_vrps is None


@pytest.mark.parametrize(("content", "reason"), [
    ('{"roas": [', "not valid JSON"),
    ("", "empty"),
    ('{"roas": []}', "holds no VRP"),
    ("prefix,origin\n192.0.2.0/24,64500\n", "neither JSON nor a CSV"),
    ('{"roas": [{"asn": "AS64500", "prefix": "192.0.2.0/24", "maxLength": 8}]}', "entry 1 is not a VRP"),
])
def test_request_refuses_an_unusable_file_naming_it(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "vrps.json"
    path.write_text(content, "utf-8")
    with pytest.raises(InputError) as info:
        build_target(AuditRequest(domain="example.com", rpki_vrps=str(path), names=InputNames(rpki_vrps="--x")))
    message = str(info.value)
    assert message.startswith("--x: ") and str(path) in message and reason in message
    assert info.value.code == "rpki_vrps"


def test_a_file_that_changed_after_passing_is_checked_again(tmp_path: Path, good_vrps: Path) -> None:
    """The check remembers good files (a full export takes seconds to parse), but not past a change."""
    request = AuditRequest(domain="example.com", rpki_vrps=str(good_vrps))
    build_target(request)
    good_vrps.write_text('{"roas": [ broken', "utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        build_target(request)
    good_vrps.unlink()
    with pytest.raises(InputError, match=r"vrps\.json"):
        build_target(request)


def test_request_from_project_takes_the_projects_file_unless_one_is_given() -> None:
    project = Project(name="N", domain="example.com", rpki_vrps="/srv/project.json")
    assert request_from_project(project).rpki_vrps == "/srv/project.json"
    assert request_from_project(project, rpki_vrps="/srv/run.json").rpki_vrps == "/srv/run.json"
    assert request_from_project(Project(name="N", domain="example.com")).rpki_vrps is None


# -- command line ---------------------------------------------------------------------------


def test_cli_help_names_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["audit", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--rpki-vrps FILE" in help_text
    assert ("validated ROA payloads exported by an RPKI validator (Routinator/rpki-client JSON or CSV); "
            "enables the RPKI-* rules") in help_text


def test_cli_good_file_is_recorded_in_the_runs_target(tmp_path: Path, lab: LabDnsServer, good_vrps: Path) -> None:
    out = tmp_path / "result.json"
    assert audit(DEMO_DOMAIN, "--nameserver", lab.address, "--rpki-vrps", str(good_vrps), "--json", str(out)) == 0
    assert json.loads(out.read_text("utf-8"))["target"]["rpki_vrps"] == str(good_vrps)


@pytest.mark.parametrize("bad", ["malformed", "missing"])
def test_cli_bad_file_exits_2_and_writes_nothing(tmp_path: Path, lab: LabDnsServer, bad: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "vrps.json"
    if bad == "malformed":
        path.write_text('{"roas": [', "utf-8")
    out = tmp_path / "result.json"
    before = listing(tmp_path)
    capsys.readouterr()
    assert audit(DEMO_DOMAIN, "--nameserver", lab.address, "--rpki-vrps", str(path), "--json", str(out)) == 2
    err = capsys.readouterr().err
    assert "--rpki-vrps" in err and str(path) in err and len(err.strip().splitlines()) == 1
    assert listing(tmp_path) == before


def test_cli_project_uses_the_projects_file(tmp_path: Path, lab: LabDnsServer, good_vrps: Path) -> None:
    path = tmp_path / "p.auditproj"
    save_project(dns_only_project(lab.address, rpki_vrps=str(good_vrps)), path)
    assert audit("--project", str(path)) == 0
    project = load_project(path)
    assert project.runs[0].target["rpki_vrps"] == str(good_vrps)
    assert project.rpki_vrps == str(good_vrps)


def test_cli_project_with_an_unusable_file_exits_2_naming_the_field(tmp_path: Path, lab: LabDnsServer,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.auditproj"
    save_project(dns_only_project(lab.address, rpki_vrps=str(tmp_path / "gone.json")), path)
    before = listing(tmp_path)
    capsys.readouterr()
    assert audit("--project", str(path)) == 2
    err = capsys.readouterr().err
    assert "RPKI VRP file" in err and "gone.json" in err and "--rpki-vrps" not in err
    assert listing(tmp_path) == before


def test_cli_rpki_vrps_overrides_the_projects(tmp_path: Path, lab: LabDnsServer, good_vrps: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.auditproj"
    save_project(dns_only_project(lab.address, rpki_vrps=str(tmp_path / "gone.json")), path)  # no longer there
    csv_file = tmp_path / "vrps.csv"
    csv_file.write_text(GOOD_CSV, "utf-8")
    assert audit("--project", str(path), "--rpki-vrps", str(csv_file)) == 0
    project = load_project(path)
    assert project.runs[0].target["rpki_vrps"] == str(csv_file)
    assert project.rpki_vrps == str(tmp_path / "gone.json")  # an override for this run, not an edit

    bad = tmp_path / "bad.json"
    bad.write_text("not a VRP file\n", "utf-8")
    before = listing(tmp_path)
    capsys.readouterr()
    assert audit("--project", str(path), "--rpki-vrps", str(bad)) == 2
    assert "--rpki-vrps" in capsys.readouterr().err
    assert listing(tmp_path) == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions that bind")
def test_cli_unreadable_file_exits_2(tmp_path: Path, lab: LabDnsServer, good_vrps: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    good_vrps.chmod(0)
    try:
        assert audit(DEMO_DOMAIN, "--nameserver", lab.address, "--rpki-vrps", str(good_vrps)) == 2
    finally:
        good_vrps.chmod(0o600)
    assert "--rpki-vrps" in capsys.readouterr().err
