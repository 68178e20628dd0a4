"""A run whose resolver did not answer is *degraded*, never a clean result (issue 14, item 1).

Against real servers on loopback: our responder with every name timing out, a UDP port that
never answers, and the session's BIND for the healthy side. The promises: the run says so
(with the resolver and how many questions failed) in the project file and the JSON, the CLI
warns and exits 3 when nothing at all could be tested, the report carries the watermark and
the sentence, and a comparison never shows a degraded run as an improvement.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from pypdf import PdfReader

from auditapp.audit.engine import EngineConfig, audit
from auditapp.catalog.wording import render_reason
from auditapp.cli.batch import BatchEntry, ProgressBar, audit_all
from auditapp.cli.main import main
from auditapp.core.compare import compare_runs
from auditapp.core.model import Run, Status
from auditapp.core.project import Project, ProjectError
from auditapp.core.project_io import load_project, save_project
from auditapp.core.review_layer import run_summary
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DEGRADED_MIN_QUESTIONS, DnsClient, DnsTally, Nameserver, Outcome
from auditapp.lab.demo import DEMO_DOMAIN, DEMO_ZONES
from auditapp.lab.dnsserver import Fault, LabDnsServer, RecordSet
from auditapp.report import build_report
from auditapp.report.from_project import project_document

REPO = Path(__file__).resolve().parent.parent
POSTFIX = REPO / "tests" / "fixtures" / "postfix" / "seed-demo"


class Everywhere(Mapping[object, Fault]):
    """A fault map of our responder that answers ``fault`` for every name under ``suffix``."""

    def __init__(self, fault: Fault, suffix: str = "") -> None:
        self.fault, self.suffix = fault, suffix

    def __getitem__(self, key: object) -> Fault:
        name = key[0] if isinstance(key, tuple) else key
        if isinstance(name, str) and name.endswith(self.suffix):
            return self.fault
        raise KeyError(key)

    def __iter__(self) -> Iterator[object]:
        return iter(())

    def __len__(self) -> int:
        return 0


@pytest.fixture()
def silent_port() -> Iterator[int]:
    """A loopback UDP port that is open but never answers (a firewalled or hung resolver)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def dns_only(domain: str, ips: tuple[str, ...] = ()) -> AuditTarget:
    return AuditTarget(domain=domain, server_ips=ips, dnsbl_zones=("dnsbl.test",), services=False)


def run_against(port: int, target: AuditTarget, timeout: float = 0.5) -> Run:
    client = DnsClient([Nameserver("127.0.0.1", port)], timeout=timeout, per_try=timeout)
    return asyncio.run(audit(target, client, EngineConfig(timeout=timeout, smtp_probe=False)))


# -- the rule ---------------------------------------------------------------------------------


def tally(ok: int, failed: int) -> DnsTally:
    t = DnsTally()
    for i in range(ok):
        t.record((f"ok{i}.test", "A"), Outcome.OK)
    for i in range(failed):
        t.record((f"bad{i}.test", "A"), Outcome.TIMEOUT if i % 3 else Outcome.REFUSED)
    return t


def test_threshold_is_four_of_five_of_at_least_five_questions() -> None:
    assert tally(1, 4).resolver_failed()  # 80 %
    assert not tally(2, 7).resolver_failed()  # 78 %
    assert not tally(0, DEGRADED_MIN_QUESTIONS - 1).resolver_failed()  # too few to say anything
    assert tally(0, DEGRADED_MIN_QUESTIONS).resolver_failed()
    assert tally(1, 8).main_failure() is Outcome.TIMEOUT


def test_a_question_answered_on_a_later_try_counts_as_answered() -> None:
    t = DnsTally()
    t.record(("a.test", "TXT"), Outcome.TIMEOUT)
    t.record(("a.test", "TXT"), Outcome.NXDOMAIN)
    t.record(("a.test", "TXT"), Outcome.TIMEOUT)
    assert (t.asked, t.failed) == (1, 0)


# -- the engine against real servers --------------------------------------------------------------


def test_every_name_timing_out_makes_a_degraded_run_with_its_reason() -> None:
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES), faults=Everywhere(Fault.TIMEOUT)) as lab:
        run = run_against(lab.port, dns_only(DEMO_DOMAIN, ("192.0.2.10",)))
    assert run.degraded
    assert run.degraded_reason is not None and run.degraded_reason.key == "run.degraded"
    params = run.degraded_reason.params
    assert params["resolver"] == lab.address and params["outcome"] == "timeout"
    assert params["failed"] == params["asked"] >= DEGRADED_MIN_QUESTIONS
    assert run_summary(run).nothing_tested
    de = render_reason(run.degraded_reason, "de")
    assert lab.address in de and "keine Antwort in der vorgegebenen Zeit" in de
    assert f"{params['failed']} of {params['asked']}" in render_reason(run.degraded_reason, "en")


@pytest.mark.parametrize("fault", [Fault.REFUSED, Fault.SERVFAIL])
def test_a_refusing_resolver_is_degraded_too(fault: Fault) -> None:
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES), faults=Everywhere(fault)) as lab:
        run = run_against(lab.port, dns_only(DEMO_DOMAIN))
    assert run.degraded and run.degraded_reason is not None
    assert run.degraded_reason.params["outcome"] == fault.value


def test_a_port_nothing_answers_on_is_degraded(silent_port: int) -> None:
    run = run_against(silent_port, dns_only("example.test", ("192.0.2.10",)))
    assert run.degraded
    assert all(f.status in (Status.NOT_TESTED, Status.ERROR, Status.NOT_APPLICABLE) for f in run.findings)


def test_a_healthy_bind_run_is_not_degraded(bind_lab) -> None:
    run = run_against(bind_lab.port, AuditTarget(domain="good.test", server_ips=("192.0.2.10",),
                                                 dkim_selectors=("sel2048",), dnsbl_zones=("dnsbl.test",),
                                                 helo="mail.good.test", services=False), timeout=2.0)
    assert not run.degraded and run.degraded_reason is None
    assert "degraded" not in run.to_json()  # healthy runs keep the shape older versions read
    assert not run_summary(run).nothing_tested


def test_one_dead_zone_in_a_batch_does_not_degrade_the_others() -> None:
    """Audits sharing one client (a batch) count their own questions, cached answers included."""
    records = RecordSet.from_zone_text(DEMO_ZONES)
    with LabDnsServer(records, faults=Everywhere(Fault.TIMEOUT, suffix="dead.test")) as lab:
        client = DnsClient([Nameserver(lab.host, lab.port)], timeout=0.5, per_try=0.5)
        entries = [BatchEntry(1, DEMO_DOMAIN), BatchEntry(2, "dead.test")]
        rows, errors = asyncio.run(audit_all(entries, client, _tmp_out(), "en", 2, 0.5, (), ProgressBar(2)))
    assert not errors
    by_domain = {row["domain"]: row for row in rows}
    assert by_domain[DEMO_DOMAIN]["degraded"] == "no"
    assert by_domain["dead.test"]["degraded"] == "yes" and by_domain["dead.test"]["nothing_tested"] == "yes"


def _tmp_out() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="auditapp-batch-"))


# -- stored, loaded, compared, reported --------------------------------------------------------------


@pytest.fixture(scope="module")
def degraded_run() -> Run:
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES), faults=Everywhere(Fault.TIMEOUT)) as lab:
        return run_against(lab.port, dns_only(DEMO_DOMAIN, ("192.0.2.10",)))


@pytest.fixture(scope="module")
def healthy_run() -> Run:
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES)) as lab:
        return run_against(lab.port, dns_only(DEMO_DOMAIN, ("192.0.2.10",)), timeout=2.0)


def test_degraded_runs_survive_the_project_file(tmp_path: Path, degraded_run: Run, healthy_run: Run) -> None:
    path = tmp_path / "p.auditproj"
    save_project(Project(name="x", domain=DEMO_DOMAIN, runs=[healthy_run, degraded_run]), path)
    loaded = load_project(path)
    assert [r.degraded for r in loaded.runs] == [False, True]
    assert loaded.runs[1].degraded_reason == degraded_run.degraded_reason


def test_the_loader_checks_the_reason(degraded_run: Run) -> None:
    data = {"domain": DEMO_DOMAIN, "runs": [degraded_run.to_json()]}
    data["runs"][0]["degraded_reason"]["key"] = "run.no_such_key"
    with pytest.raises(ProjectError, match=r"degraded_reason\.key"):
        Project.from_json(data)
    data["runs"][0] = {**degraded_run.to_json(), "degraded": False}
    with pytest.raises(ProjectError, match="only a degraded run"):
        Project.from_json(data)


def test_a_degraded_run_is_never_an_improvement(degraded_run: Run, healthy_run: Run) -> None:
    assert run_summary(healthy_run).open > 0
    diff = compare_runs(healthy_run, degraded_run)
    assert not diff.meaningful and diff.caveat is not None and diff.caveat.key == "compare.after_degraded"
    assert not diff.fixed
    assert len(diff.not_retested) == run_summary(healthy_run).open
    assert compare_runs(degraded_run, healthy_run).caveat.key == "compare.before_degraded"  # type: ignore[union-attr]
    assert compare_runs(healthy_run, healthy_run).meaningful


def test_the_report_of_a_degraded_run_says_it(degraded_run: Run, healthy_run: Run) -> None:
    doc = build_report(degraded_run, lang="de", previous=healthy_run)
    assert doc.watermark == ("Ergebnis ohne Aussagekraft", "Resolver antwortete nicht")
    summary = doc.section("summary").body
    assert "Ergebnis ohne Aussagekraft" in summary.degraded_note and degraded_run.resolver in summary.degraded_note
    assert summary.delta is not None and not summary.delta.fixed and summary.delta.caveat
    assert "nicht, dass keine nötig sind" in summary.no_actions
    assert build_report(healthy_run, lang="en").watermark == ()


def test_a_project_report_never_compares_with_a_degraded_run(degraded_run: Run, healthy_run: Run) -> None:
    project = Project(name="x", domain=DEMO_DOMAIN, runs=[healthy_run, degraded_run, healthy_run])
    delta = project_document(project, lang="en").section("summary").body.delta
    assert delta is not None and not delta.caveat  # run 3 is compared with run 1, not with run 2


# -- the command line -------------------------------------------------------------------------------


def test_cli_dead_resolver_warns_writes_degraded_json_and_exits_3(tmp_path: Path, silent_port: int,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out, pdf = tmp_path / "r.json", tmp_path / "r.pdf"
    code = main(["audit", "example.test", "--nameserver", f"127.0.0.1:{silent_port}", "--timeout", "0.5",
                 "--lang", "en", "--server-ip", "192.0.2.10", "--json", str(out), "--pdf", str(pdf)])
    assert code == 3
    err = capsys.readouterr().err
    assert "degraded run" in err and f"127.0.0.1:{silent_port}" in err and "exit code 3" in err
    result = json.loads(out.read_text("utf-8"))
    assert result["schema"] == "auditapp.result/1"
    assert result["degraded"] is True
    assert result["degraded_reason"]["key"] == "run.degraded"
    assert "say nothing about the domain" in result["degraded_reason"]["text"]
    text = "".join(page.extract_text() for page in PdfReader(str(pdf)).pages[:3])
    assert "resolver did not answer" in text and "No valid result" in text


def test_cli_degraded_but_partly_tested_warns_and_exits_0(tmp_path: Path, silent_port: int,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The Postfix checks need no DNS: something was tested, so no exit 3, but the warning stays."""
    code = main(["audit", "example.test", "--nameserver", f"127.0.0.1:{silent_port}", "--timeout", "0.5",
                 "--lang", "de", "--postfix-config", str(POSTFIX)])
    captured = capsys.readouterr()
    assert code == 0
    assert "degraded run" in captured.err and "exit code 3" not in captured.err
    assert "ERGEBNIS OHNE AUSSAGEKRAFT" in captured.out


def test_cli_project_records_the_degraded_run(tmp_path: Path, silent_port: int) -> None:
    path = tmp_path / "p.auditproj"
    save_project(Project(name="x", domain="example.test", nameservers=[f"127.0.0.1:{silent_port}"],
                         probe_services=False), path)
    assert main(["audit", "--project", str(path), "--timeout", "0.5", "--lang", "en"]) == 3
    run = load_project(path).runs[-1]
    assert run.degraded and run.degraded_reason is not None
    assert run.degraded_reason.params["resolver"] == f"127.0.0.1:{silent_port}"


def test_readme_exit_code_table_names_the_nothing_tested_case() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    assert "nothing could be tested" in readme and "degraded" in readme
