"""The report's document model: section order, grading, not-tested list, accepted risks, deltas, both languages."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from auditapp.catalog import CATEGORIES, catalog
from auditapp.core.model import Finding, Reason, Run, Severity, Status
from auditapp.report import AcceptedRisk, Grade, Light, ReportMeta, Untrusted, build_report
from auditapp.report.document import SECTION_KEYS, ReportDocument
from auditapp.report.grading import FAMILY_EFFORT, GRADE_TABLE, grade_findings, overall_grade
from auditapp.report.model import (
    ACCEPTED,
    SUBJECT_SHOWN,
    TECHNICAL_CATEGORIES,
)
from auditapp.report.texts import (
    ReportTextError,
    format_date,
    format_datetime,
    format_number,
    load_texts,
    placeholders,
    texts,
)

HOSTILE = "<font color=red>&amp;</font><br/>" + "A" * 4096
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


# --- helpers ---------------------------------------------------------------------------------


def rule_in(category: str, index: int = 0) -> str:
    return [r.id for r in catalog().rules.values() if r.category == category][index]


def finding(rule: str, status: Status, severity: Severity = Severity.MEDIUM, subject: str = "example.org",
            evidence: tuple[str, ...] = ()) -> Finding:
    reason = Reason("reason.services_off") if status in (Status.NOT_TESTED, Status.ERROR) else None
    return Finding(rule, status, severity, subject, "pass" if status is Status.PASS else "x", {}, evidence, reason)


def make_run(findings: list[Finding], run_id: str = "r1", started: str = "2026-11-28T22:54:00+00:00",
             inventory: dict[str, Any] | None = None) -> Run:
    return Run(
        id=run_id, started=started, finished=started, tool_version="0.1.0", catalog_version=catalog().version,
        resolver="127.0.0.1:53", target={"domain": "xn--bcher-kva.example", "domain_unicode": "bücher.example",
                                         "server_ips": ["192.0.2.10"], "helo": "mail.bücher.example"},
        findings=findings, duration_s=1.25, inventory=inventory or {},
    )


def walk(value: Any) -> Iterator[Any]:
    """Every leaf value of the document (dataclass fields, tuples, mapping values)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from walk(getattr(value, f.name))
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, tuple | list):
        for v in value:
            yield from walk(v)
    else:
        yield value


def summary(doc: ReportDocument) -> Any:
    return doc.section("summary").body


@pytest.fixture(scope="module")
def demo_run() -> Run:
    """The demo audit, run through the engine against the lab DNS server, as ``auditapp demo`` does."""
    from auditapp.audit.engine import EngineConfig, audit
    from auditapp.core.target import AuditTarget
    from auditapp.dnsclient import DnsClient, Nameserver
    from auditapp.lab.demo import DEMO_DATA, DEMO_DNSBL, DEMO_DOMAIN, DEMO_IPS, DEMO_SELECTOR, DEMO_ZONES
    from auditapp.lab.dnsserver import LabDnsServer, RecordSet
    from auditapp.postfix import load_postfix_config
    from auditapp.questionnaire import load_answers_file

    target = AuditTarget(domain=DEMO_DOMAIN, server_ips=DEMO_IPS, dkim_selectors=(DEMO_SELECTOR,),
                         dnsbl_zones=(DEMO_DNSBL,), services=False,
                         answers=load_answers_file(DEMO_DATA / "answers.json"), postfix_origin="demo")
    postfix = load_postfix_config(DEMO_DATA / "postfix")
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES)) as server:
        client = DnsClient([Nameserver(server.host, server.port)], timeout=2.0)
        return asyncio.run(audit(target, client, EngineConfig(timeout=2.0, postfix=postfix)))


# --- the demo report -------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["de", "en"])
def test_demo_report_has_the_sections_in_order(demo_run: Run, lang: str) -> None:
    doc = build_report(demo_run, lang=lang, project_name="Beispiel GmbH")
    assert tuple(s.key for s in doc.sections) == SECTION_KEYS
    assert all(s.title for s in doc.sections)
    assert doc.cover.client == "Beispiel GmbH"
    assert doc.lang == lang
    findings = doc.section("findings").body
    assert tuple(c.category for c in findings.categories) == TECHNICAL_CATEGORIES
    assert doc.section("policy").body.category.category == "policy_legal"
    assert [light.category for light in summary(doc).lights] == list(CATEGORIES)


def test_demo_grade_is_the_worst_category(demo_run: Run) -> None:
    s = summary(build_report(demo_run, lang="en"))
    worst = max(s.lights, key=lambda light: light.grade.rank)
    assert s.grade is worst.grade and s.worst_category == worst.category
    assert s.grade is not Grade.NOT_ASSESSED
    assert worst.label in s.grade_text
    assert 1 <= len(s.top_actions) <= 5


def test_demo_not_tested_list_is_complete_with_reasons(demo_run: Run) -> None:
    doc = build_report(demo_run, lang="de")
    listed = doc.section("scope").body.not_tested
    expected = [f for f in demo_run.findings if f.status in (Status.NOT_TESTED, Status.ERROR)]
    assert expected, "the demo runs without service probes, so some checks are not tested"
    assert sorted((i.rule, i.subject) for i in listed) == sorted(f.key for f in expected)
    assert all(i.reason.strip() for i in listed)


def test_demo_compared_with_itself_has_only_unchanged_findings(demo_run: Run) -> None:
    delta = summary(build_report(demo_run, lang="en", previous=demo_run)).delta
    assert delta is not None
    assert not delta.new and not delta.fixed and not delta.changed and not delta.unverified
    assert len(delta.unchanged) == sum(f.status is Status.FAIL for f in demo_run.findings)
    assert delta.previous_grade is summary(build_report(demo_run, lang="en")).grade


def test_policy_section_carries_the_legal_background_and_the_disclaimer(demo_run: Run) -> None:
    for lang, words in (("de", "keine Rechtsberatung"), ("en", "not legal advice")):
        policy = build_report(demo_run, lang=lang).section("policy").body
        assert words in policy.disclaimer
        assert policy.category.findings
        assert all(b.category == "policy_legal" and b.business_meaning for b in policy.category.findings)


def test_action_plan_is_ordered_by_severity_then_effort_with_blank_owner(demo_run: Run) -> None:
    rows = build_report(demo_run, lang="en").section("actions").body.rows
    assert rows
    keys = [(-r.severity.rank, r.effort.rank) for r in rows]
    assert keys == sorted(keys)
    assert [r.number for r in rows] == list(range(1, len(rows) + 1))
    assert all(r.owner == "" and r.due == "" for r in rows)
    open_rules = {f.rule for f in demo_run.findings if f.status is Status.FAIL}
    assert {r.rule for r in rows} == open_rules


def test_every_family_has_an_effort_class() -> None:
    assert {r.family for r in catalog().rules.values()} <= set(FAMILY_EFFORT)


# --- grading ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failed", "grade"),
    [
        ([Severity.CRITICAL, Severity.LOW], Grade.F),
        ([Severity.HIGH, Severity.HIGH], Grade.E),
        ([Severity.HIGH, Severity.MEDIUM], Grade.D),
        ([Severity.MEDIUM, Severity.LOW], Grade.C),
        ([Severity.LOW, Severity.INFO], Grade.B),
        ([Severity.INFO], Grade.A),
        ([], Grade.A),
    ],
)
def test_every_row_of_the_grade_table(failed: list[Severity], grade: Grade) -> None:
    rule = rule_in("dns_identity")
    findings = [finding(rule, Status.PASS)] + [
        finding(rule, Status.FAIL, sev, subject=f"192.0.2.{n}") for n, sev in enumerate(failed)
    ]
    assert grade_findings(findings) is grade
    s = summary(build_report(make_run(findings), lang="en"))
    assert s.grade is grade
    assert s.worst_category == "dns_identity"


@pytest.mark.parametrize(
    "statuses", [[Status.NOT_TESTED], [Status.ERROR, Status.NOT_TESTED], [Status.NOT_APPLICABLE], []]
)
def test_a_category_where_nothing_was_tested_is_not_assessed_not_a(statuses: list[Status]) -> None:
    rule = rule_in("services")
    assert grade_findings([finding(rule, s) for s in statuses]) is Grade.NOT_ASSESSED
    doc = build_report(make_run([finding(rule, s) for s in statuses]), lang="de")
    s = summary(doc)
    assert s.grade is Grade.NOT_ASSESSED and s.worst_category is None
    assert s.grade_label == "nicht bewertet"
    light = next(li for li in s.lights if li.category == "services")
    assert light.light is Light.GREY


def test_overall_grade_is_the_worst_category_and_untested_categories_do_not_hide_it() -> None:
    findings = [
        finding(rule_in("dns_identity"), Status.PASS),
        finding(rule_in("sender_authentication"), Status.FAIL, Severity.MEDIUM),
        finding(rule_in("configuration"), Status.FAIL, Severity.HIGH),
        finding(rule_in("services"), Status.NOT_TESTED),
    ]
    s = summary(build_report(make_run(findings), lang="en"))
    assert s.grade is Grade.D and s.worst_category == "configuration"
    grades = {li.category: li.grade for li in s.lights}
    assert grades["dns_identity"] is Grade.A and grades["sender_authentication"] is Grade.C
    assert grades["services"] is Grade.NOT_ASSESSED and grades["policy_legal"] is Grade.NOT_ASSESSED
    assert overall_grade({"a": Grade.NOT_ASSESSED, "b": Grade.B}) == (Grade.B, "b")


def test_the_grade_table_is_explained_in_both_languages() -> None:
    for lang in ("de", "en"):
        scope = build_report(make_run([]), lang=lang).section("scope").body
        assert [row.grade for row in scope.grading_table] == [g for g, _ in GRADE_TABLE]
        assert all(row.text for row in scope.grading_table) and len(scope.method) >= 3


# --- accepted risks --------------------------------------------------------------------------


def test_accepted_findings_are_shown_as_accepted_and_do_not_count() -> None:
    rule = rule_in("dns_identity")
    run = make_run([finding(rule, Status.PASS, subject="a"), finding(rule, Status.FAIL, Severity.HIGH, subject="b")])
    risk = AcceptedRisk(rule, "b", "Provider cannot change it", "Dr. Muster", "2026-10-01", expires="2027-06-30")
    doc = build_report(run, lang="en", accepted=[risk])
    s = summary(doc)
    assert s.grade is Grade.A
    assert sum(c.count for c in s.severity_counts) == 0 and not s.top_actions
    block = doc.section("findings").body.categories[0].findings[0]
    assert block.status == ACCEPTED and block.status_label == "accepted" and block.accepted is risk
    assert not doc.section("actions").body.rows
    row = doc.section("accepted").body.rows[0]
    assert (row.rule, row.subject, row.state, row.results) == (rule, "b", "active", 1)
    assert row.expires == "30 Jun 2027" and row.accepted_by == "Dr. Muster"
    assert isinstance(row.justification, Untrusted)
    assert any("accepted" in note for note in s.notes)


def test_an_expired_acceptance_counts_again_and_a_wildcard_covers_every_subject() -> None:
    rule = rule_in("dns_identity")
    run = make_run([finding(rule, Status.FAIL, Severity.HIGH, subject="a"),
                    finding(rule, Status.FAIL, Severity.HIGH, subject="b")])
    expired = AcceptedRisk(rule, "*", "old", "X", "2025-01-01", expires="2026-01-01")
    doc = build_report(run, lang="de", accepted=[expired])
    assert summary(doc).grade is Grade.E
    assert doc.section("accepted").body.rows[0].state == "expired"
    wildcard = AcceptedRisk(rule, "*", "DANE is impossible at the provider", "X", "2026-01-01")
    doc = build_report(run, lang="de", accepted=[wildcard])
    assert summary(doc).grade is Grade.A
    row = doc.section("accepted").body.rows[0]
    assert row.results == 2 and row.expires == "unbefristet" and row.subject == "alle Prüfobjekte"


def test_an_acceptance_without_a_matching_failure_is_listed_as_unmatched() -> None:
    rule = rule_in("dns_identity")
    doc = build_report(make_run([finding(rule, Status.PASS)]), lang="en",
                       accepted=[AcceptedRisk(rule, "example.org", "j", "me", "2026-01-01")])
    assert doc.section("accepted").body.rows[0].state == "unmatched"
    with pytest.raises(ValueError, match="ISO date"):
        AcceptedRisk(rule, "x", "j", "me", "yesterday")


def test_a_severity_override_counts_for_the_grade_and_shows_the_catalog_severity() -> None:
    from auditapp.report import ReviewNote

    rule = rule_in("dns_identity")
    run = make_run([finding(rule, Status.FAIL, Severity.HIGH, subject="a"),
                    finding(rule, Status.FAIL, Severity.HIGH, subject="b")])
    assert summary(build_report(run, lang="en")).grade is Grade.E
    notes = [
        ReviewNote(rule, "*", "severity", "internal relay only", "K. Prüfer", "2026-11-28T09:00:00+00:00", "low"),
        ReviewNote(rule, "b", "severity", "exposed to the internet", "K. Prüfer", "2026-11-27T09:00:00+00:00",
                   "critical"),
        ReviewNote(rule, "a", "comment", "<b>ask the provider</b>", "M. Kunde", "2026-11-28T10:00:00+00:00"),
        ReviewNote(rule, "*", "comment", "first remark", "K. Prüfer", "2026-11-20T10:00:00+00:00"),
    ]
    doc = build_report(run, lang="de", reviews=notes)
    blocks = {b.subject: b for b in doc.section("findings").body.categories[0].findings}
    # The exact subject beats the wildcard even though the wildcard is newer.
    assert blocks["b"].severity is Severity.CRITICAL and blocks["b"].override.text == "exposed to the internet"
    assert blocks["a"].severity is Severity.LOW and blocks["a"].catalog_severity_label == "hoch"
    assert blocks["a"].override.at == "28.11.2026"
    assert summary(doc).grade is Grade.F  # the critical override decides the grade
    assert [c.text for c in blocks["a"].comments] == ["first remark", "<b>ask the provider</b>"]
    assert all(isinstance(c.text, Untrusted) for c in blocks["a"].comments)
    assert [c.text for c in blocks["b"].comments] == ["first remark"]
    assert doc.section("actions").body.rows[0].severity is Severity.CRITICAL


def test_an_override_to_the_catalog_severity_is_not_shown_as_a_change() -> None:
    from auditapp.report import ReviewNote

    rule = rule_in("dns_identity")
    run = make_run([finding(rule, Status.FAIL, Severity.HIGH)])
    note = ReviewNote(rule, "*", "severity", "checked", "X", "2026-11-28T09:00:00+00:00", "high")
    block = build_report(run, lang="en", reviews=[note]).section("findings").body.categories[0].findings[0]
    assert block.catalog_severity_label == "" and block.severity is Severity.HIGH


# --- comparison with the previous run --------------------------------------------------------


def test_delta_against_the_previous_run() -> None:
    a, b, c, d, e = (rule_in("dns_identity", i) for i in range(5))
    previous = make_run([
        finding(a, Status.FAIL, Severity.HIGH), finding(b, Status.FAIL, Severity.MEDIUM),
        finding(c, Status.FAIL, Severity.LOW), finding(d, Status.FAIL, Severity.CRITICAL),
        finding(e, Status.PASS),
    ], run_id="r0", started="2026-05-02T08:00:00+00:00")
    current = make_run([
        finding(a, Status.FAIL, Severity.HIGH), finding(b, Status.FAIL, Severity.HIGH),
        finding(c, Status.PASS), finding(d, Status.NOT_TESTED), finding(e, Status.FAIL, Severity.LOW),
    ])
    delta = summary(build_report(current, lang="de", previous=previous)).delta
    assert delta is not None
    assert [i.rule for i in delta.new] == [e]
    assert [i.rule for i in delta.fixed] == [c]
    assert [i.rule for i in delta.unchanged] == [a]
    assert [(i.rule, i.previous_severity, i.severity) for i in delta.changed] == [(b, Severity.MEDIUM, Severity.HIGH)]
    assert [i.rule for i in delta.unverified] == [d]  # not tested now: never reported as fixed
    assert delta.previous_grade is Grade.F and delta.previous_date == "02.05.2026"
    assert "F" in delta.text and "02.05.2026" in delta.text
    assert summary(build_report(current, lang="de")).delta is None


# --- sizes, languages, escaping --------------------------------------------------------------


def many_findings(n: int) -> list[Finding]:
    rules = list(catalog().rules.values())
    statuses = (Status.FAIL, Status.PASS, Status.NOT_TESTED, Status.FAIL, Status.NOT_APPLICABLE, Status.ERROR)
    out = []
    for i in range(n):
        rule = rules[i % len(rules)]
        out.append(finding(rule.id, statuses[i % len(statuses)], list(Severity)[i % 5], subject=f"198.51.100.{i % 250}"
                           f"/{i}", evidence=(f"TXT {HOSTILE}", f"line {i}")))
    return out


@pytest.mark.parametrize("n", [0, 1, 500])
@pytest.mark.parametrize("lang", ["de", "en"])
def test_reports_with_0_1_and_500_findings_build_completely(n: int, lang: str) -> None:
    run = make_run(many_findings(n))
    doc = build_report(run, lang=lang, project_name="Kunde & <Partner>", previous=make_run(many_findings(n // 2)),
                       meta=ReportMeta(author="A. Berater", classification="Intern"))
    assert tuple(s.key for s in doc.sections) == SECTION_KEYS
    findings = doc.section("findings").body.categories
    policy = doc.section("policy").body
    blocks = sum(len(c.findings) for c in findings) + len(policy.category.findings)
    assert blocks == sum(f.status is Status.FAIL for f in run.findings)
    listed = sum(len(c.passed) for c in findings) + len(policy.category.passed)
    assert listed == sum(f.status is Status.PASS for f in run.findings)
    evidence = doc.section("appendix").body.evidence
    # failed findings show their (short) evidence in the block; the appendix adds untested ones
    assert len(evidence) == sum(f.status in (Status.NOT_TESTED, Status.ERROR) for f in run.findings)
    if evidence:
        assert evidence[0].lines[0] == f"TXT {HOSTILE}"  # raw: escaping is the renderer's job
    assert doc.cover.client == "Kunde & <Partner>" and doc.cover.classification == "Intern"
    if n == 0:
        assert summary(doc).grade is Grade.NOT_ASSESSED and not summary(doc).top_actions


@pytest.mark.parametrize("lang", ["de", "en"])
def test_no_boilerplate_text_has_an_unfilled_placeholder(demo_run: Run, lang: str) -> None:
    doc = build_report(demo_run, lang=lang, previous=make_run(many_findings(60)),
                       accepted=[AcceptedRisk("PTR-FCRDNS", "*", "ok", "me", "2026-01-01")])
    plain = [v for v in walk(dataclasses.replace(doc, page_template="")) if type(v) is str and v]
    assert plain
    offenders = [v for v in plain if PLACEHOLDER.search(v)]
    assert offenders == []
    assert "{page}" in doc.page_template and doc.page_label(2, 9) in ("Seite 2 von 9", "Page 2 of 9")


def test_network_and_user_strings_are_marked_untrusted() -> None:
    run = make_run([finding(rule_in("dns_identity"), Status.FAIL, Severity.HIGH, subject=HOSTILE, evidence=(HOSTILE,))],
                   inventory={"hosts": [{"name": "mx.bücher.example", "roles": ["mx"], "sources": ["MX 10"],
                                         "addresses": ["192.0.2.25", "2001:db8::25"]}]})
    doc = build_report(run, lang="en", project_name=HOSTILE)
    block = doc.section("findings").body.categories[0].findings[0]
    for value in (block.subject, block.detail, block.remediation, block.evidence[0], doc.cover.client):
        assert isinstance(value, Untrusted)
    # Markup stays literal; a subject longer than a cell can hold is cut with an ellipsis (the run keeps it whole).
    assert block.subject == HOSTILE[:SUBJECT_SHOWN - 1] + "…" and block.evidence[0] == HOSTILE
    assert not isinstance(block.title, Untrusted) and not isinstance(block.business_meaning, Untrusted)
    host = doc.section("scope").body.hosts[0]
    assert (host.name, host.sources) == ("mx.bücher.example", ("MX 10",))
    assert host.addresses == ("192.0.2.25", "2001:db8::25")
    assert isinstance(host.name, Untrusted)
    facts = {f.label: f.value for f in doc.section("scope").body.facts}
    assert facts["Domain (Unicode)"] == "bücher.example" and facts["Duration"] == "1.2 s"
    run.target.pop("domain_unicode")
    assert build_report(run, lang="de").cover.domain == "bücher.example"  # decoded from the A-label


def test_top_actions_are_five_plain_lines_in_severity_then_catalog_order() -> None:
    rules = [r.id for r in catalog().rules.values()]
    findings = [finding(rules[i], Status.FAIL, sev) for i, sev in enumerate(
        [Severity.LOW, Severity.HIGH, Severity.MEDIUM, Severity.CRITICAL, Severity.HIGH, Severity.INFO, Severity.LOW])]
    findings.append(finding(rules[1], Status.FAIL, Severity.HIGH, subject="second"))
    actions = summary(build_report(make_run(findings), lang="en")).top_actions
    assert [a.rule for a in actions] == [rules[3], rules[1], rules[4], rules[2], rules[0]]
    assert actions[1].text.endswith("(2 subjects)") and actions[2].text.endswith("(1 subject)")


# --- texts and formatting --------------------------------------------------------------------


def test_report_texts_are_complete_in_both_languages() -> None:
    entries = texts().entries
    assert entries
    for key, value in entries.items():
        assert value["de"] and value["en"], key
        assert placeholders(value["de"]) == placeholders(value["en"]), key
    for category in CATEGORIES:
        assert f"category.{category}" in entries
    terms = {entries[k]["en"] for k in texts().keys_under("glossary") if k.endswith(".term")}
    for term in ("PTR", "FCrDNS", "SPF", "DKIM", "DMARC", "MTA-STS", "TLS-RPT", "DANE", "DNSBL", "STARTTLS", "SASL",
                 "Submission", "Open relay", "RFC"):
        assert any(term in t for t in terms), term


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[a]\nb = { de = "x {n}", en = "y" }\n', "placeholders differ"),
        ('[a]\nb = { de = "x" }\n', "'de' and 'en'"),
        ('[a]\nb = { de = "x", en = "" }\n', "'de' and 'en'"),
        ('a = "plain"\n', "must be a table"),
    ],
)
def test_broken_report_texts_fail_at_load(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "report.toml"
    path.write_text(content, "utf-8")
    with pytest.raises(ReportTextError, match=message):
        load_texts(path)


def test_missing_text_or_parameter_raises_instead_of_leaking_braces() -> None:
    with pytest.raises(ReportTextError):
        texts().get("no.such.key", "de")
    with pytest.raises(ReportTextError, match="needs"):
        texts().get("page.of", "en", page=1)


def test_dates_and_numbers_per_language() -> None:
    when = "2026-11-28T23:54:10+01:00"
    assert format_datetime(when, "de") == "28.11.2026 22:54 UTC"
    assert format_datetime(when, "en") == "28 Nov 2026 22:54 UTC"
    assert format_date("2027-06-30", "de") == "30.06.2027"
    assert format_number(1234.5, "de", 1) == "1.234,5" and format_number(1234.5, "en", 1) == "1,234.5"
    assert format_datetime("garbage", "de") == "garbage"


def test_a_cancelled_run_is_not_the_previous_run_of_the_comparison() -> None:
    from auditapp.core.project import Project
    from auditapp.report.from_project import project_document

    rule = rule_in("dns_identity")
    complete = make_run([finding(rule, Status.FAIL, Severity.HIGH)], run_id="r1", started="2026-11-01T08:00:00+00:00")
    cancelled = dataclasses.replace(make_run([finding(rule, Status.NOT_TESTED)], run_id="r2",
                                             started="2026-11-02T08:00:00+00:00"), cancelled=True)
    latest = make_run([finding(rule, Status.FAIL, Severity.HIGH)], run_id="r3")
    project = Project(name="K", domain="example.org", runs=[complete, cancelled, latest])
    delta = summary(project_document(project, lang="en")).delta
    assert delta is not None and delta.previous_date == "1 Nov 2026"
    assert [i.rule for i in delta.unchanged] == [rule] and not delta.new
