"""The policy rules over questionnaire answers: verdicts, not-tested reasons, legal texts, the details table."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

import auditapp.checks.policy  # noqa: F401  (registers the policy rules until auditapp.checks imports it)
from auditapp.checks.catalog import catalog
from auditapp.checks.registry import registered, run_check
from auditapp.collectors.facts import Facts
from auditapp.core.model import Finding, Status
from auditapp.core.target import AuditTarget
from auditapp.questionnaire import load_answers_file, questionnaire
from auditapp.questionnaire.schema import Question
from auditapp.render import render_finding

FIXTURES = Path(__file__).parent / "fixtures" / "answers"
NOTE_DE = "Hinweis: keine Rechtsberatung; die rechtliche Bewertung sollte anwaltlich geprüft werden."
NOTE_EN = "Note: not legal advice; the legal assessment should be reviewed by counsel."

POLICY_RULES = sorted(r.id for r in catalog().rules.values() if r.family == "policy")


def run(rule_id: str, answers: dict[str, Any] | None) -> Finding:
    reg = registered()[rule_id]
    findings = list(run_check(reg, catalog(), Facts(answers=answers), AuditTarget(domain="example.test")))
    assert len(findings) == 1, findings
    return findings[0]


# -- one table of cases: (rule, answers, status, outcome) ------------------------------------------

P, F, NA, NT = Status.PASS, Status.FAIL, Status.NOT_APPLICABLE, Status.NOT_TESTED
ALL_TOPICS = ["access", "deputies", "logging", "archiving", "separation"]
TOLERATED = {"private_use.status": "tolerated"}
FORBIDDEN_OK = {"private_use.status": "forbidden", "private_use.ban_enforced": True}
FORBIDDEN_LAX = {"private_use.status": "forbidden", "private_use.ban_enforced": False}

CASES: list[tuple[str, dict[str, Any], Status, str]] = [
    ("POL-PRIVATE-USE-UNREGULATED", {**TOLERATED, "private_use.policy": "works_agreement",
                                     "private_use.policy_topics": ALL_TOPICS}, P, "pass"),
    ("POL-PRIVATE-USE-UNREGULATED", FORBIDDEN_OK, P, "forbidden"),
    ("POL-PRIVATE-USE-UNREGULATED", {**TOLERATED, "private_use.policy": "none"}, F, "no_rule"),
    ("POL-PRIVATE-USE-UNREGULATED", {"private_use.status": "unregulated"}, F, "no_decision"),
    ("POL-PRIVATE-USE-UNREGULATED", {"private_use.status": "allowed", "private_use.policy": "guideline",
                                     "private_use.policy_topics": ["access", "logging"]}, F, "incomplete"),
    ("POL-PRIVATE-USE-UNREGULATED", FORBIDDEN_LAX, F, "ban_not_enforced"),
    ("POL-PRIVATE-USE-UNREGULATED", {**TOLERATED, "private_use.policy": "guideline"}, NT, "not_tested"),

    ("POL-PRIVATE-USE-SHARED-INFRA", {**TOLERATED, "private_use.separate_infra": "external_webmail"}, P, "pass"),
    ("POL-PRIVATE-USE-SHARED-INFRA", {**TOLERATED, "private_use.separate_infra": "separate_mailbox"}, P, "own_infra"),
    ("POL-PRIVATE-USE-SHARED-INFRA", {**TOLERATED, "private_use.separate_infra": "business_mailbox",
                                      "private_use.policy": "guideline",
                                      "private_use.policy_topics": ["separation"]}, P, "separated_by_rule"),
    ("POL-PRIVATE-USE-SHARED-INFRA", FORBIDDEN_OK, NA, "not_applicable"),
    ("POL-PRIVATE-USE-SHARED-INFRA", {**TOLERATED, "private_use.separate_infra": "business_mailbox",
                                      "private_use.policy": "none"}, F, "shared"),
    ("POL-PRIVATE-USE-SHARED-INFRA", {"private_use.status": "unregulated",
                                      "private_use.separate_infra": "business_mailbox"}, F, "shared"),
    ("POL-PRIVATE-USE-SHARED-INFRA", FORBIDDEN_LAX, F, "ban_not_enforced"),
    ("POL-PRIVATE-USE-SHARED-INFRA", {"private_use.status": "forbidden"}, NT, "not_tested"),

    ("POL-WORKS-AGREEMENT-MISSING", {"private_use.works_council": True, "private_use.monitoring": True,
                                     **TOLERATED, "private_use.policy": "works_agreement"}, P, "pass"),
    ("POL-WORKS-AGREEMENT-MISSING", {"private_use.works_council": False}, NA, "not_applicable"),
    ("POL-WORKS-AGREEMENT-MISSING", {"private_use.works_council": True, "private_use.monitoring": False},
     NA, "no_monitoring"),
    ("POL-WORKS-AGREEMENT-MISSING", {"private_use.works_council": True, "private_use.monitoring": True,
                                     **TOLERATED, "private_use.policy": "guideline"}, F, "missing"),
    ("POL-WORKS-AGREEMENT-MISSING", {"private_use.works_council": True, "private_use.monitoring": True,
                                     "private_use.status": "unregulated"}, F, "missing"),
    ("POL-WORKS-AGREEMENT-MISSING", {"private_use.works_council": True}, NT, "not_tested"),

    ("POL-SIGNATURE-MANDATORY-DETAILS", {"signature.legal_form": "ek", "signature.details": [
        "firm_name", "legal_form", "seat", "register_court", "register_number"]}, P, "pass"),
    ("POL-SIGNATURE-MANDATORY-DETAILS", {"signature.legal_form": "other"}, NA, "other_form"),
    ("POL-SIGNATURE-MANDATORY-DETAILS", {"signature.legal_form": "ek", "signature.details": []}, F, "missing"),
    ("POL-SIGNATURE-MANDATORY-DETAILS", {"signature.legal_form": "gmbh", "signature.details": []}, NT, "not_tested"),

    ("POL-SIGNATURE-ON-PRIVATE-MAIL", {**TOLERATED, "signature.attachment": "server_business_only"}, P, "pass"),
    ("POL-SIGNATURE-ON-PRIVATE-MAIL", {**TOLERATED, "signature.attachment": "client"}, P, "pass"),
    ("POL-SIGNATURE-ON-PRIVATE-MAIL", FORBIDDEN_OK, NA, "not_applicable"),
    ("POL-SIGNATURE-ON-PRIVATE-MAIL", {**TOLERATED, "signature.attachment": "server_all"}, F, "forced"),
    ("POL-SIGNATURE-ON-PRIVATE-MAIL", {**FORBIDDEN_LAX, "signature.attachment": "server_all"}, F, "forced"),
    ("POL-SIGNATURE-ON-PRIVATE-MAIL", {"signature.attachment": "server_all"}, NT, "not_tested"),

    ("POL-DISCLAIMER-RELIANCE", {"disclaimer.used": True, "disclaimer.relied_upon": False}, P, "pass"),
    ("POL-DISCLAIMER-RELIANCE", {"disclaimer.used": False}, NA, "not_applicable"),
    ("POL-DISCLAIMER-RELIANCE", {"disclaimer.used": True, "disclaimer.relied_upon": True}, F, "relied_upon"),
    ("POL-DISCLAIMER-RELIANCE", {"disclaimer.used": True}, NT, "not_tested"),

    ("POL-NO-OUTBOUND-FILTER", {"outbound.filter": "yes"}, P, "pass"),
    ("POL-NO-OUTBOUND-FILTER", {"outbound.filter": "no"}, F, "missing"),
    ("POL-NO-OUTBOUND-FILTER", {"outbound.filter": "unknown"}, F, "unknown"),
    ("POL-NO-OUTBOUND-FILTER", {"outbound.rate_limit": "yes"}, NT, "not_tested"),

    ("POL-NO-RATE-LIMIT", {"outbound.rate_limit": "yes"}, P, "pass"),
    ("POL-NO-RATE-LIMIT", {"outbound.rate_limit": "no"}, F, "missing"),
    ("POL-NO-RATE-LIMIT", {"outbound.rate_limit": "unknown"}, F, "unknown"),
    ("POL-NO-RATE-LIMIT", {}, NT, "not_tested"),

    ("POL-PORT25-OPEN", {"outbound.port25_blocked": "yes"}, P, "pass"),
    ("POL-PORT25-OPEN", {"outbound.port25_blocked": "no"}, F, "open"),
    ("POL-PORT25-OPEN", {"outbound.port25_blocked": "unknown"}, F, "unknown"),
    ("POL-PORT25-OPEN", {}, NT, "not_tested"),

    ("POL-CLIENTS-USE-IP", {"clients.server_address": "hostnames"}, P, "pass"),
    ("POL-CLIENTS-USE-IP", {"clients.server_address": "ip_addresses"}, F, "ip_addresses"),
    ("POL-CLIENTS-USE-IP", {"clients.server_address": "mixed"}, F, "mixed"),
    ("POL-CLIENTS-USE-IP", {}, NT, "not_tested"),

    ("POL-SUBMISSION-SHARED-HOST", {"clients.separate_submission_host": True}, P, "pass"),
    ("POL-SUBMISSION-SHARED-HOST", {"clients.separate_submission_host": False}, F, "shared"),
    ("POL-SUBMISSION-SHARED-HOST", {}, NT, "not_tested"),

    ("POL-ARCHIVE-MISSING", {"archive.system": "gobd"}, P, "pass"),
    ("POL-ARCHIVE-MISSING", {"archive.system": "other"}, F, "not_gobd"),
    ("POL-ARCHIVE-MISSING", {"archive.system": "none"}, F, "none"),
    ("POL-ARCHIVE-MISSING", {}, NT, "not_tested"),

    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 10}, P, "pass"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 8}, P, "pass"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "other", "archive.retention_years": 6,
                               "archive.invoices_elsewhere": True}, P, "invoices_elsewhere"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "none"}, NA, "not_applicable"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 5}, F, "below_six"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 7,
                               "archive.invoices_elsewhere": False}, F, "below_eight"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 7}, NT, "not_tested"),

    ("POL-ARCHIVE-PRIVATE-MAIL", {**TOLERATED, "archive.system": "gobd", "archive.private_mail": "no"}, P, "pass"),
    ("POL-ARCHIVE-PRIVATE-MAIL", FORBIDDEN_OK, NA, "not_applicable"),
    ("POL-ARCHIVE-PRIVATE-MAIL", {**TOLERATED, "archive.system": "none"}, NA, "no_archive"),
    ("POL-ARCHIVE-PRIVATE-MAIL", {**TOLERATED, "archive.system": "gobd", "archive.private_mail": "yes"},
     F, "archived"),
    ("POL-ARCHIVE-PRIVATE-MAIL", {**FORBIDDEN_LAX, "archive.system": "other", "archive.private_mail": "unknown"},
     F, "unknown"),
    ("POL-ARCHIVE-PRIVATE-MAIL", {**TOLERATED, "archive.system": "gobd"}, NT, "not_tested"),

    ("POL-NIS2-UNDOCUMENTED", {"compliance.nis2": "in_scope", "compliance.nis2_documented": True}, P, "pass"),
    ("POL-NIS2-UNDOCUMENTED", {"compliance.nis2": "not_in_scope"}, NA, "not_applicable"),
    ("POL-NIS2-UNDOCUMENTED", {"compliance.nis2": "in_scope", "compliance.nis2_documented": False},
     F, "undocumented"),
    ("POL-NIS2-UNDOCUMENTED", {"compliance.nis2": "unknown"}, F, "scope_unknown"),
    ("POL-NIS2-UNDOCUMENTED", {"compliance.nis2": "in_scope"}, NT, "not_tested"),
]


@pytest.mark.parametrize(("rule_id", "answers", "status", "outcome"), CASES,
                         ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(CASES)])
def test_case(rule_id: str, answers: dict[str, Any], status: Status, outcome: str) -> None:
    finding = run(rule_id, answers)
    assert (finding.status, finding.outcome) == (status, outcome), finding
    assert finding.subject == "example.test"
    assert finding.severity == catalog()[rule_id].severity_for(outcome)
    if status is not NT:
        # The verdict shows the answers it rests on.
        assert finding.evidence and all(" = " in line for line in finding.evidence)
        for line in finding.evidence:
            qid, value = line.split(" = ", 1)
            assert json.loads(value) == answers[qid]


def test_every_policy_rule_has_pass_fail_and_not_tested_cases() -> None:
    assert len(POLICY_RULES) >= 9
    for rule_id in POLICY_RULES:
        statuses = {status for rid, _, status, _ in CASES if rid == rule_id}
        assert {P, F, NT} <= statuses, f"{rule_id} lacks cases: {({P, F, NT} - statuses)}"


def test_every_outcome_in_the_catalog_has_a_case() -> None:
    for rule_id in POLICY_RULES:
        used = {outcome for rid, _, _, outcome in CASES if rid == rule_id}
        defined = set(catalog()[rule_id].outcomes)
        assert defined <= used, f"{rule_id}: outcomes without a case: {sorted(defined - used)}"


def test_exactly_the_required_rule_ids_exist() -> None:
    required = {
        "POL-PRIVATE-USE-UNREGULATED", "POL-PRIVATE-USE-SHARED-INFRA", "POL-SIGNATURE-MANDATORY-DETAILS",
        "POL-SIGNATURE-ON-PRIVATE-MAIL", "POL-DISCLAIMER-RELIANCE", "POL-NO-OUTBOUND-FILTER", "POL-PORT25-OPEN",
        "POL-CLIENTS-USE-IP", "POL-ARCHIVE-PRIVATE-MAIL",
    }
    assert required <= set(POLICY_RULES)
    assert all(r.startswith("POL-") for r in POLICY_RULES)
    assert set(POLICY_RULES) <= set(registered())


# -- unanswered ------------------------------------------------------------------------------------

@pytest.mark.parametrize("rule_id", POLICY_RULES)
def test_without_questionnaire_the_first_feeding_question_is_named(rule_id: str) -> None:
    finding = run(rule_id, None)
    first = questionnaire().feeding(rule_id)[0]
    assert finding.status is NT
    assert finding.reason is not None and finding.reason.key == "reason.unanswered"
    assert finding.reason.params == {"question": first.title.en, "id": first.id}
    assert finding.severity == catalog()[rule_id].severity


@pytest.mark.parametrize("rule_id", POLICY_RULES)
def test_empty_answers_are_not_tested_never_pass(rule_id: str) -> None:
    finding = run(rule_id, {})
    assert finding.status is NT
    assert finding.reason is not None and finding.reason.key == "reason.unanswered"
    assert rule_id in questionnaire()[finding.reason.params["id"]].feeds
    for lang in ("de", "en"):
        text = render_finding(finding, lang)["detail"]
        assert finding.reason.params["id"] in text and "{" not in text


def test_a_wrong_answer_that_slipped_past_validation_is_an_error_not_a_verdict() -> None:
    finding = run("POL-NO-OUTBOUND-FILTER", {"outbound.filter": "perhaps"})
    assert finding.status is Status.ERROR
    assert "outbound.filter" in finding.reason.params["error"]  # type: ignore[union-attr]


# -- every combination of answers ------------------------------------------------------------------

class Recording(dict[str, Any]):
    """Answers that remember which question ids were read."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)


def domain(question: Question) -> list[Any]:
    """Representative answers for exhaustive runs; ``None`` stands for "unanswered"."""
    if question.type == "yesno":
        values: list[Any] = [True, False]
    elif question.type == "choice":
        values = list(question.choice_keys)
    elif question.type == "multichoice":
        keys = list(question.choice_keys)
        values = [[], keys] + [[k for k in keys if k != drop] for drop in keys]
    elif question.type == "number":
        values = [0, 5, 6, 7, 8, 10, 100]
    else:
        values = ["text"]
    return [None, *values]


@pytest.mark.parametrize("rule_id", POLICY_RULES)
def test_all_answer_combinations(rule_id: str) -> None:
    """No combination crashes; not_tested always names a visible, unanswered feeding question; the
    rule reads exactly the questions that list it in ``feeds``; every catalog outcome is reachable."""
    q = questionnaire()
    feeding = q.feeding(rule_id)
    read: set[str] = set()
    outcomes: set[str] = set()
    for combo in itertools.product(*(domain(question) for question in feeding)):
        answers = Recording({qu.id: v for qu, v in zip(feeding, combo, strict=True) if v is not None})
        finding = next(iter(run_check(registered()[rule_id], catalog(), Facts(answers=answers),
                                      AuditTarget(domain="example.test"))))
        assert finding.status is not Status.ERROR, (answers, finding.reason)
        outcomes.add(finding.outcome)
        read |= answers.read
        if finding.status is NT:
            qid = finding.reason.params["id"]  # type: ignore[union-attr]
            assert qid not in answers and q.visible(qid, answers), (answers, qid)
    assert read == {question.id for question in feeding}
    assert set(catalog()[rule_id].outcomes) | {"not_tested"} == outcomes


# -- the legal-form table --------------------------------------------------------------------------

#: The statutes, written out independently of the catalog so that a change to the data table fails here.
BASE = ["firm_name", "legal_form", "seat", "register_court", "register_number"]
EXPECTED_TABLE: dict[str, tuple[str, list[str], dict[str, list[str]]]] = {
    "gmbh": ("§ 35a GmbHG", [*BASE, "managing_directors"], {"signature.supervisory_board": ["supervisory_chair"]}),
    "ug": ("§ 35a GmbHG", [*BASE, "managing_directors"], {"signature.supervisory_board": ["supervisory_chair"]}),
    "ag": ("§ 80 AktG", [*BASE, "board_members", "supervisory_chair"], {"signature.board_chair": ["board_chair"]}),
    "kg": ("§ 177a HGB", BASE, {}),
    "ohg": ("§ 125a HGB a.F. / OHG-Regelung nach MoPeG", BASE, {}),
    "ek": ("§ 37a HGB", BASE, {}),
    "gmbh_co_kg": ("§ 177a HGB", [*BASE, "partner_firm", "partner_register", "partner_managing_directors"],
                   {"signature.supervisory_board": ["partner_supervisory_chair"]}),
}
TABLE = catalog()["POL-SIGNATURE-MANDATORY-DETAILS"].extra["legal_forms"]


def test_table_matches_the_statutes_and_the_questionnaire() -> None:
    q = questionnaire()
    assert set(TABLE) == set(q["signature.legal_form"].choice_keys) - {"other"} == set(EXPECTED_TABLE)
    for form, (statute, required, conditional) in EXPECTED_TABLE.items():
        row = TABLE[form]
        assert statute in row["statute"], form
        assert sorted(row["required"]) == sorted(required), form
        assert {c["question"]: c["details"] for c in row["conditional"]} == conditional, form
        for cond in row["conditional"]:
            question = q[cond["question"]]
            assert question.type == "yesno"
            assert q.visible(question.id, {"signature.legal_form": form})
        details = set(row["required"]) | {d for c in row["conditional"] for d in c["details"]}
        assert details <= set(q["signature.details"].choice_keys)
    assert "§ 125a HGB a.F. / OHG-Regelung nach MoPeG" in TABLE["kg"]["statute"]


def form_answers(form: str, details: list[str], conditions: bool) -> dict[str, Any]:
    answers: dict[str, Any] = {"signature.legal_form": form, "signature.details": details}
    for cond in TABLE[form]["conditional"]:
        answers[cond["question"]] = conditions
    return answers


def all_required(form: str, conditions: bool) -> list[str]:
    row = TABLE[form]
    extra = [d for c in row["conditional"] for d in c["details"]] if conditions else []
    return [*row["required"], *extra]


@pytest.mark.parametrize("form", sorted(EXPECTED_TABLE))
@pytest.mark.parametrize("conditions", [True, False])
def test_complete_details_pass(form: str, conditions: bool) -> None:
    finding = run("POL-SIGNATURE-MANDATORY-DETAILS", form_answers(form, all_required(form, conditions), conditions))
    assert finding.status is P, finding
    assert finding.params["legal_form"] == TABLE[form]["label"]
    assert finding.params["statute"] == TABLE[form]["statute"]


ROWS = [(form, detail) for form in sorted(EXPECTED_TABLE) for detail in all_required(form, True)]


@pytest.mark.parametrize(("form", "detail"), ROWS, ids=[f"{f}-{d}" for f, d in ROWS])
def test_one_missing_detail_fails_and_is_named(form: str, detail: str) -> None:
    present = [d for d in all_required(form, True) if d != detail]
    finding = run("POL-SIGNATURE-MANDATORY-DETAILS", form_answers(form, present, True))
    assert (finding.status, finding.outcome) == (F, "missing")
    assert finding.params["missing_keys"] == [detail]
    label = questionnaire()["signature.details"].choice(detail).label
    de, en = render_finding(finding, "de")["detail"], render_finding(finding, "en")["detail"]
    assert label.de in de and TABLE[form]["label"] in de
    assert label.en in en and TABLE[form]["label"] in en
    # Each language shows its own labels only (the English label may quote the German term).
    assert label.en not in de or label.en in label.de
    assert label.de not in en or label.de in label.en


def test_conditional_detail_is_not_required_when_the_condition_is_no() -> None:
    finding = run("POL-SIGNATURE-MANDATORY-DETAILS", form_answers("gmbh", [*BASE, "managing_directors"], False))
    assert finding.status is P
    finding = run("POL-SIGNATURE-MANDATORY-DETAILS", form_answers("gmbh", [*BASE, "managing_directors"], True))
    assert finding.params["missing_keys"] == ["supervisory_chair"]


def test_several_missing_details_are_listed_in_catalog_order() -> None:
    finding = run("POL-SIGNATURE-MANDATORY-DETAILS", form_answers("ag", ["firm_name", "seat"], True))
    assert finding.params["missing_keys"] == [
        "legal_form", "register_court", "register_number", "board_members", "board_chair", "supervisory_chair",
    ]
    assert render_finding(finding, "en")["detail"] == (
        "For the AG, the e-mails lack under § 80 AktG: legal form, register court, register number, all management "
        "board members, chair of the management board marked as such, chair of the supervisory board."
    )
    assert render_finding(finding, "de")["detail"] == (
        "Für die AG fehlen nach § 80 AktG: Rechtsform, Registergericht, Registernummer, alle Vorstandsmitglieder, "
        "Vorstandsvorsitz als solcher bezeichnet, Aufsichtsratsvorsitz."
    )


# -- texts -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("rule_id", POLICY_RULES)
def test_legal_texts(rule_id: str) -> None:
    rule = catalog()[rule_id]
    assert rule.category == "policy_legal"
    assert rule.rationale.de.endswith(NOTE_DE)
    assert rule.rationale.en.endswith(NOTE_EN)
    assert rule.references
    for text in (rule.rationale.de, rule.rationale.en):
        # The 2009 statutes must not appear as current law.
        assert "§ 88 TKG" not in text or "früher § 88 TKG" in text or "formerly § 88 TKG" in text
        # The new OHG paragraph number is unverified (knowledge base §4).
        assert "§ 125 HGB" not in text and "§ 125 HGB n.F." not in text


def test_unverified_items_are_hedged() -> None:
    """Knowledge base §4: items marked U appear only with a hedge, never as plain fact."""
    texts = {r.id: (r.rationale.de, r.rationale.en, r.references) for r in catalog().rules.values()
             if r.family == "policy"}
    de, en, refs = texts["POL-SIGNATURE-ON-PRIVATE-MAIL"]
    assert "Nach unserem Kenntnisstand" in de and "To our knowledge" in en
    assert any("Aktenzeichen nicht verifiziert" in r for r in refs)
    de, en, refs = texts["POL-SIGNATURE-MANDATORY-DETAILS"]
    assert "nicht verifiziert" in de and "not verified" in en
    assert any("6 U 12/07 (Datum nicht verifiziert)" in r for r in refs)
    for rule_id, (de, en, _refs) in texts.items():
        assert "ArbG Wesel" not in de + en, rule_id
        assert "Beschäftigtendatengesetz" not in de, rule_id


@pytest.mark.parametrize(("rule_id", "answers", "status", "outcome"), [c for c in CASES if c[2] is not NT])
def test_rendered_results_have_no_open_placeholders(rule_id: str, answers: dict[str, Any], status: Status,
                                                    outcome: str) -> None:
    finding = run(rule_id, answers)
    for lang in ("de", "en"):
        rendered = render_finding(finding, lang)
        assert "{" not in rendered["detail"] + rendered["remediation"], (rule_id, lang, rendered)
        assert rendered["detail"] and rendered["explanation"]


def test_incomplete_policy_lists_the_gaps_in_each_language() -> None:
    finding = run("POL-PRIVATE-USE-UNREGULATED", {"private_use.status": "allowed", "private_use.policy": "guideline",
                                                  "private_use.policy_topics": ["access", "logging"]})
    assert render_finding(finding, "de")["detail"] == \
        "Die schriftliche Regelung lässt offen: Vertretung bei Abwesenheit, Archivierung."
    assert render_finding(finding, "en")["detail"] == \
        "The written rule does not cover: deputies during absence, archiving."


# -- the demo answers ------------------------------------------------------------------------------

def test_demo_answers_trigger_the_seed_findings() -> None:
    answers = load_answers_file(FIXTURES / "demo.json")
    verdicts = {rule_id: run(rule_id, answers) for rule_id in POLICY_RULES}
    expected = {
        "POL-PRIVATE-USE-UNREGULATED": "no_rule",
        "POL-SIGNATURE-ON-PRIVATE-MAIL": "forced",
        "POL-DISCLAIMER-RELIANCE": "relied_upon",
        "POL-NO-OUTBOUND-FILTER": "missing",
        "POL-SIGNATURE-MANDATORY-DETAILS": "missing",
        "POL-ARCHIVE-PRIVATE-MAIL": "archived",
    }
    for rule_id, outcome in expected.items():
        assert (verdicts[rule_id].status, verdicts[rule_id].outcome) == (F, outcome), verdicts[rule_id]
    assert all(f.status is not NT for f in verdicts.values())


def test_complete_answers_give_no_failure() -> None:
    answers = load_answers_file(FIXTURES / "complete-pass.json")
    for rule_id in POLICY_RULES:
        assert run(rule_id, answers).status in (P, NA), rule_id
