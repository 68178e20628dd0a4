"""Issue 12, item 9: a project file that loads can also be reported; one that cannot gives one line.

A real run of the demo lab (DNS only) is recorded, a services-shaped inventory added (the part
the demo run has not got), and then every field of the run is replaced, in turn, by values of
the wrong kind. Each mutant must either be refused by the loader with a :class:`ProjectError`
or produce its report document; ``auditapp report`` on a refused one exits 2 with one line.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditapp.cli.main import main
from auditapp.core.project import Project, ProjectError
from auditapp.core.project_io import save_project
from auditapp.lab.demo import DEMO_DOMAIN, DEMO_ZONES
from auditapp.lab.dnsserver import LabDnsServer, RecordSet
from auditapp.report.from_project import project_document

WRONG = (5, None, "x", [], {}, True, -1.5, [5], {"a": 5})

INVENTORY = {
    "hosting": {"hosted": False, "provider": None, "name": None, "kind": None, "documentation": None,
                "mx_hosts": [f"mail.{DEMO_DOMAIN}"], "matched": [], "unmatched": [f"mail.{DEMO_DOMAIN}"]},
    "hosts": [{"name": f"mail.{DEMO_DOMAIN}", "roles": ["mx", "submission"], "sources": ["mx: MX 10"],
               "addresses": ["192.0.2.10"]}],
    "endpoints": [{"address": "192.0.2.10", "port": 25, "service": "smtp", "state": "open",
                   "greeting": "220 mail ESMTP", "greeting_ms": 12, "tls": "TLSv1.3",
                   "cert_not_after": "2027-01-01T00:00:00Z", "problem": ""}],
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("hostile") / "base.auditproj"
    save_project(Project(name="Kunde", domain=DEMO_DOMAIN, probe_services=False), path)
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES)) as server:
        assert main(["audit", "--project", str(path), "--nameserver", server.address, "--no-services"]) == 0
    data = json.loads(path.read_text("utf-8"))
    run = data["project"]["runs"][0]
    run["inventory"] = copy.deepcopy(INVENTORY)
    with_reason = next(f for f in run["findings"] if f.get("reason"))
    run["findings"].insert(0, with_reason)  # the first finding is the one every mutation reaches
    Project.from_json(data["project"])  # the base itself is valid
    return data


def _paths(node: object, prefix: tuple = ()) -> Iterator[tuple]:
    """Every place in ``node``; of a list only the first element (the others have its shape)."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list) and node:
        yield from _paths(node[0], (*prefix, 0))


def _set(data: Any, path: tuple, value: object) -> None:
    for step in path[:-1]:
        data = data[step]
    data[path[-1]] = value


def test_every_wrongly_typed_run_field_is_refused_or_reported(recorded: dict[str, Any]) -> None:
    run = recorded["project"]["runs"][0]
    paths = [("runs", 0, *p) for p in _paths(run) if p]
    assert len(paths) > 60
    refused = reported = 0
    for path in paths:
        for value in WRONG:
            data = copy.deepcopy(recorded["project"])
            _set(data, path, value)
            try:
                project = Project.from_json(data)
            except ProjectError:
                refused += 1
                continue
            project_document(project, lang="de")  # must not raise
            reported += 1
    # Both outcomes happen: free-form values (params, evidence text) stay reportable.
    assert refused > 300 and reported > 100, (refused, reported)


@pytest.mark.parametrize(("path", "value", "message"), [
    (("target", "server_ips"), 5, "target.server_ips must be a list, not a number"),
    (("target", "ports", "smtp"), "25", "target.ports.smtp must be a whole number, not text"),
    (("inventory", "hosts", 0, "addresses"), "192.0.2.10", "addresses must be a list, not text"),
    (("inventory", "endpoints", 0, "port"), True, "port must be a whole number, not true/false"),
    (("findings", 0, "rule"), "NO-SUCH-RULE", "unknown rule 'NO-SUCH-RULE'"),
    (("findings", 0, "reason", "key"), "reason.bogus", "unknown reason 'reason.bogus'"),
])
def test_report_on_a_damaged_run_exits_2_with_one_line(recorded: dict[str, Any], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str], path: tuple,
                                                     value: object, message: str) -> None:
    data = copy.deepcopy(recorded)
    _set(data["project"]["runs"][0], path, value)
    project = tmp_path / "damaged.auditproj"
    project.write_text(json.dumps(data), "utf-8")
    before = project.read_bytes()
    assert main(["report", "--project", str(project), "--pdf", str(tmp_path / "r.pdf")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert project.read_bytes() == before and not (tmp_path / "r.pdf").exists()


@pytest.mark.parametrize(("where", "length", "limit"), [
    ("justification", 100_000, 4000), ("review", 100_000, 4000), ("subject", 1_000_000, 8192),
    ("evidence", 20_000, 8192),
])
def test_texts_longer_than_typing_allows_are_refused_on_load(recorded: dict[str, Any], where: str, length: int,
                                                            limit: int) -> None:
    """Before: a 100k justification made ``report`` take 36 s, a 1 MB subject froze the window."""
    data = copy.deepcopy(recorded["project"])
    finding = data["runs"][0]["findings"][0]
    if where == "justification":
        data["accepted_risks"] = [{"rule": finding["rule"], "subject": "*", "justification": "j" * length,
                                   "accepted_by": "A", "accepted_at": "2026-01-01T00:00:00+00:00"}]
    elif where == "review":
        data["reviews"] = [{"rule": finding["rule"], "subject": "*", "kind": "comment", "text": "c" * length,
                            "author": "A", "at": "2026-01-01T00:00:00+00:00"}]
    elif where == "subject":
        finding["subject"] = "s" * length
    else:
        finding["evidence"] = ["e" * length]
    with pytest.raises(ProjectError, match=f"{length} characters long \\({limit} allowed\\)"):
        Project.from_json(data)


def test_a_long_subject_is_cut_in_the_report_and_kept_whole_in_the_run(recorded: dict[str, Any],
                                                                     tmp_path: Path) -> None:
    from pypdf import PdfReader

    data = copy.deepcopy(recorded)
    finding = next(f for f in data["project"]["runs"][0]["findings"] if f["status"] == "fail")
    finding["subject"] = ("langer-hostname " * 500)[:8000]
    data["project"]["accepted_risks"] = [{
        "rule": finding["rule"], "subject": finding["subject"], "justification": "weil " * 800,
        "accepted_by": "A", "accepted_at": "2026-01-01T00:00:00+00:00"}]
    path = tmp_path / "long.auditproj"
    path.write_text(json.dumps(data), "utf-8")
    out = tmp_path / "long.pdf"
    assert main(["report", "--project", str(path), "--pdf", str(out)]) == 0
    text = "\n".join(page.extract_text() for page in PdfReader(str(out)).pages)
    assert "langer-hostname" in text and text.count("langer-hostname") < 100
    assert json.loads(path.read_text("utf-8")) == data  # the file keeps the full text
