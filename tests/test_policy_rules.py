"""The policy rules over questionnaire answers: verdicts, not-tested reasons, legal texts, the details table."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest

import auditapp.checks.policy  # noqa: F401  (registers the policy rules until auditapp.checks imports it)
from auditapp.catalog import catalog
from auditapp.catalog.wording import render_finding
from auditapp.checks import registered
from auditapp.checks.policy import ACCESS_PROCESS, RESTORE_RULES
from auditapp.checks.registry import run_check
from auditapp.collectors.facts import Facts
from auditapp.core.model import Finding, Status
from auditapp.core.target import AuditTarget
from auditapp.questionnaire import load_answers_file, questionnaire
from auditapp.questionnaire.schema import Question

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
WORKS_COUNCIL = {"private_use.works_council": True, "private_use.monitoring_systems": ["server_logs", "archive"]}
YEAR_END_HOLD = {"archive.deletion": "year_end", "archive.legal_hold": True}
ACCESS_OK = {"absence.deputies": ["auto_reply"], "absence.access_process": list(ACCESS_PROCESS),
             "absence.departure": "procedure"}
BACKUP_OK = {"backup.mailboxes": True, "backup.retention_defined": True, "backup.restore_rules": list(RESTORE_RULES)}

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

    ("POL-WORKS-AGREEMENT-MISSING", {**WORKS_COUNCIL, **TOLERATED, "private_use.policy": "works_agreement"},
     P, "pass"),
    ("POL-WORKS-AGREEMENT-MISSING", {"private_use.works_council": False}, NA, "not_applicable"),
    ("POL-WORKS-AGREEMENT-MISSING", {"private_use.works_council": True, "private_use.monitoring_systems": []},
     NA, "no_systems"),
    ("POL-WORKS-AGREEMENT-MISSING", {**WORKS_COUNCIL, "private_use.monitoring": True, **TOLERATED,
                                     "private_use.policy": "guideline"}, F, "missing"),
    ("POL-WORKS-AGREEMENT-MISSING", {**WORKS_COUNCIL, "private_use.monitoring": True,
                                     "private_use.status": "unregulated"}, F, "missing"),
    # Issue 11: "we do not evaluate" no longer passes while logs or an archive exist (was not_applicable).
    ("POL-WORKS-AGREEMENT-MISSING", {**WORKS_COUNCIL, "private_use.monitoring": False, **TOLERATED,
                                     "private_use.policy": "guideline"}, F, "not_evaluated"),
    ("POL-WORKS-AGREEMENT-MISSING", {"private_use.works_council": True}, NT, "not_tested"),
    ("POL-WORKS-AGREEMENT-MISSING", {**WORKS_COUNCIL, **TOLERATED, "private_use.policy": "none"}, NT, "not_tested"),

    ("POL-MAILBOX-ACCESS-UNREGULATED", ACCESS_OK, P, "pass"),
    ("POL-MAILBOX-ACCESS-UNREGULATED", {**ACCESS_OK, "absence.deputies": []}, F, "gaps"),
    ("POL-MAILBOX-ACCESS-UNREGULATED", {**ACCESS_OK, "absence.access_process": ["logged"]}, F, "gaps"),
    ("POL-MAILBOX-ACCESS-UNREGULATED", {**ACCESS_OK, "absence.departure": "kept_open"}, F, "gaps"),
    ("POL-MAILBOX-ACCESS-UNREGULATED", {**ACCESS_OK, "absence.departure": "none"}, F, "gaps"),
    ("POL-MAILBOX-ACCESS-UNREGULATED", {"absence.deputies": ["delegation"]}, NT, "not_tested"),

    ("POL-SIGNATURE-MANDATORY-DETAILS", {"signature.legal_form": "ek", "signature.details": [
        "firm_name", "legal_form", "seat", "register_court", "register_number"]}, P, "pass"),
    ("POL-SIGNATURE-MANDATORY-DETAILS", {"signature.legal_form": "other"}, NA, "other_form"),
    ("POL-SIGNATURE-MANDATORY-DETAILS", {"signature.legal_form": "ek", "signature.details": []}, F, "missing"),
    ("POL-SIGNATURE-MANDATORY-DETAILS", {"signature.legal_form": "gmbh", "signature.details": []}, NT, "not_tested"),
    ("POL-SIGNATURE-MANDATORY-DETAILS", {"signature.legal_form": "gmbh", "signature.supervisory_board": False,
                                         "signature.capital_stated": True, "signature.details": []}, NT, "not_tested"),
    ("POL-SIGNATURE-MANDATORY-DETAILS", {"signature.legal_form": "eg", "signature.supervisory_board": False,
                                         "signature.details": [
                                             "firm_name", "legal_form", "seat", "register_court", "register_number",
                                             "board_members"]}, P, "pass"),
    ("POL-SIGNATURE-MANDATORY-DETAILS", {"signature.legal_form": "partg", "signature.partg_mbb": True,
                                         "signature.details": [
                                             "firm_name", "legal_form", "seat", "register_court", "register_number"]},
     F, "missing"),

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

    ("POL-SENSITIVE-MAIL-UNENCRYPTED", {"encryption.sensitive_content": "special_categories",
                                        "encryption.method": "end_to_end"}, P, "pass"),
    ("POL-SENSITIVE-MAIL-UNENCRYPTED", {"encryption.sensitive_content": "special_categories",
                                        "encryption.method": "content_encryption"}, P, "content_encryption"),
    ("POL-SENSITIVE-MAIL-UNENCRYPTED", {"encryption.sensitive_content": "business_confidential",
                                        "encryption.method": "enforced_tls"}, P, "enforced_tls"),
    ("POL-SENSITIVE-MAIL-UNENCRYPTED", {"encryption.sensitive_content": "none"}, NA, "not_applicable"),
    ("POL-SENSITIVE-MAIL-UNENCRYPTED", {"encryption.sensitive_content": "special_categories",
                                        "encryption.method": "enforced_tls"}, F, "transport_only"),
    ("POL-SENSITIVE-MAIL-UNENCRYPTED", {"encryption.sensitive_content": "special_categories",
                                        "encryption.method": "opportunistic_tls"}, F, "opportunistic_special"),
    ("POL-SENSITIVE-MAIL-UNENCRYPTED", {"encryption.sensitive_content": "business_confidential",
                                        "encryption.method": "opportunistic_tls"}, F, "opportunistic_confidential"),
    ("POL-SENSITIVE-MAIL-UNENCRYPTED", {"encryption.sensitive_content": "business_confidential",
                                        "encryption.method": "unknown"}, F, "unknown"),
    ("POL-SENSITIVE-MAIL-UNENCRYPTED", {"encryption.sensitive_content": "special_categories"}, NT, "not_tested"),

    ("POL-OWN-DOMAIN-SENDER-REJECTED", {"inbound.reject_own_domain": "no"}, P, "pass"),
    ("POL-OWN-DOMAIN-SENDER-REJECTED", {"inbound.reject_own_domain": "yes"}, F, "rejects"),
    ("POL-OWN-DOMAIN-SENDER-REJECTED", {"inbound.reject_own_domain": "unknown"}, F, "unknown"),
    ("POL-OWN-DOMAIN-SENDER-REJECTED", {"outbound.filter": "yes"}, NT, "not_tested"),

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

    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 10,
                               **YEAR_END_HOLD}, P, "pass"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 8, **YEAR_END_HOLD}, P, "pass"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 9, "archive.deletion": "rolling",
                               "archive.legal_hold": True}, P, "pass"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 100,
                               "archive.deletion": "none"}, P, "pass"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "other", "archive.retention_years": 6, **YEAR_END_HOLD,
                               "archive.invoices_elsewhere": True}, P, "invoices_elsewhere"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "none"}, NA, "not_applicable"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 5}, F, "below_six"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 7, **YEAR_END_HOLD,
                               "archive.invoices_elsewhere": False}, F, "below_eight"),
    # Issue 11: periods start at the end of the calendar year (§ 147 Abs. 4 AO), so deleting to the day
    # after receipt needs a year more, and automatic deletion must be suspendable (§ 147 Abs. 3 S. 5 AO).
    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 6, "archive.deletion": "rolling",
                               "archive.legal_hold": True, "archive.invoices_elsewhere": True}, F, "rolling_start"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 8, "archive.deletion": "rolling",
                               "archive.legal_hold": True, "archive.invoices_elsewhere": False}, F, "rolling_start"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 10, "archive.deletion": "rolling",
                               "archive.legal_hold": False}, F, "no_hold"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 7}, NT, "not_tested"),
    ("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 10,
                               "archive.deletion": "year_end"}, NT, "not_tested"),

    ("POL-ARCHIVE-PRIVATE-MAIL", {**TOLERATED, "archive.system": "gobd", "archive.private_mail": "no"}, P, "pass"),
    ("POL-ARCHIVE-PRIVATE-MAIL", FORBIDDEN_OK, NA, "not_applicable"),
    ("POL-ARCHIVE-PRIVATE-MAIL", {**TOLERATED, "archive.system": "none"}, NA, "no_archive"),
    ("POL-ARCHIVE-PRIVATE-MAIL", {**TOLERATED, "archive.system": "gobd", "archive.private_mail": "yes"},
     F, "archived"),
    ("POL-ARCHIVE-PRIVATE-MAIL", {**FORBIDDEN_LAX, "archive.system": "other", "archive.private_mail": "unknown"},
     F, "unknown"),
    ("POL-ARCHIVE-PRIVATE-MAIL", {**TOLERATED, "archive.system": "gobd"}, NT, "not_tested"),

    ("POL-BACKUP-PRIVATE-MAIL", {**TOLERATED, **BACKUP_OK}, P, "pass"),
    ("POL-BACKUP-PRIVATE-MAIL", {**FORBIDDEN_OK, **BACKUP_OK}, NA, "not_applicable"),
    ("POL-BACKUP-PRIVATE-MAIL", {**TOLERATED, "backup.mailboxes": False}, NA, "no_backup"),
    ("POL-BACKUP-PRIVATE-MAIL", {**TOLERATED, **BACKUP_OK, "backup.retention_defined": False}, F, "gaps"),
    ("POL-BACKUP-PRIVATE-MAIL", {**FORBIDDEN_LAX, **BACKUP_OK, "backup.restore_rules": ["logged"]}, F, "gaps"),
    ("POL-BACKUP-PRIVATE-MAIL", {**TOLERATED, "backup.mailboxes": True}, NT, "not_tested"),
    ("POL-BACKUP-PRIVATE-MAIL", {"backup.mailboxes": True}, NT, "not_tested"),

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
        # The seed topics of issue 11.
        "POL-BACKUP-PRIVATE-MAIL", "POL-MAILBOX-ACCESS-UNREGULATED", "POL-OWN-DOMAIN-SENDER-REJECTED",
        "POL-SENSITIVE-MAIL-UNENCRYPTED",
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

#: The statutes, written out independently of the catalog so that a change to the data table fails here:
#: (substrings of `statute`, `enforcement`, required details, conditional details). Statute texts as read on
#: gesetze-im-internet.de (mirror github.com/kmein/gesetze, 19.08.2026): since the MoPeG the OHG rule is
#: § 125 HGB and PartGG § 7 Abs. 3 refers to it; capital per § 35a Abs. 1 S. 2 GmbHG, § 80 Abs. 1 S. 3 AktG.
BASE = ["firm_name", "legal_form", "seat", "register_court", "register_number"]
CAPITAL = {"signature.capital_stated": ["share_capital"],
           "signature.capital_outstanding": ["outstanding_contributions"]}
EXPECTED_TABLE: dict[str, tuple[tuple[str, ...], str, list[str], dict[str, list[str]]]] = {
    "gmbh": (("§ 35a GmbHG",), "§ 79 Abs. 1 GmbHG", [*BASE, "managing_directors"],
             {"signature.supervisory_board": ["supervisory_chair"], **CAPITAL}),
    "ug": (("§ 35a GmbHG",), "§ 79 Abs. 1 GmbHG", [*BASE, "managing_directors"],
           {"signature.supervisory_board": ["supervisory_chair"], **CAPITAL}),
    "ag": (("§ 80 AktG",), "§ 407 Abs. 1 AktG", [*BASE, "board_members", "supervisory_chair"],
           {"signature.board_chair": ["board_chair"], **CAPITAL}),
    "kg": (("§ 177a", "§ 125 HGB"), "§ 37a Abs. 4 HGB", BASE, {}),
    "ohg": (("§ 125 HGB",), "§ 37a Abs. 4 HGB", BASE, {}),
    "ek": (("§ 37a HGB",), "§ 37a Abs. 4 HGB", BASE, {}),
    "gmbh_co_kg": (("§ 177a", "§ 125 HGB", "§ 35a GmbHG"), "§ 37a Abs. 4 HGB",
                   [*BASE, "partner_firm", "partner_register", "partner_managing_directors"],
                   {"signature.supervisory_board": ["partner_supervisory_chair"]}),
    "eg": (("§ 25a GenG",), "§ 160 Abs. 1 GenG", [*BASE, "board_members"],
           {"signature.supervisory_board": ["supervisory_chair"]}),
    "partg": (("§ 7 Abs. 3 PartGG", "§ 125 HGB"), "§ 37a Abs. 4 HGB", BASE,
              {"signature.partg_mbb": ["liability_suffix"]}),
}
TABLE = catalog()["POL-SIGNATURE-MANDATORY-DETAILS"].extra["legal_forms"]


def test_table_matches_the_statutes_and_the_questionnaire() -> None:
    q = questionnaire()
    assert set(TABLE) == set(q["signature.legal_form"].choice_keys) - {"other"} == set(EXPECTED_TABLE)
    for form, (statutes, enforcement, required, conditional) in EXPECTED_TABLE.items():
        row = TABLE[form]
        assert all(statute in row["statute"] for statute in statutes), form
        assert enforcement in row["enforcement"], form
        assert sorted(row["required"]) == sorted(required), form
        assert {c["question"]: c["details"] for c in row["conditional"]} == conditional, form
        answers: dict[str, Any] = {"signature.legal_form": form}
        for cond in row["conditional"]:
            question = q[cond["question"]]
            assert question.type == "yesno"
            # Visible once the earlier conditions hold (outstanding contributions follow stated capital).
            assert q.visible(question.id, answers), (form, question.id)
            answers[question.id] = True
        details = set(row["required"]) | {d for c in row["conditional"] for d in c["details"]}
        assert details <= set(q["signature.details"].choice_keys)
        assert q.visible("signature.details", {"signature.legal_form": form})


def test_no_placeholder_is_printed_as_a_statute() -> None:
    """Issue 11: "§ 125a HGB a.F. / OHG-Regelung nach MoPeG" was printed as if it were a statute."""
    rule = catalog()["POL-SIGNATURE-MANDATORY-DETAILS"]
    texts = [rule.rationale.de, rule.rationale.en, *(r.de for r in rule.references), *(r.en for r in rule.references),
             *(t for o in rule.outcomes.values() for t in (o.text.de, o.text.en)),
             *(row[k] for row in TABLE.values() for k in ("statute", "enforcement"))]
    for text in texts:
        assert "OHG-Regelung nach MoPeG" not in text, text
    for row in TABLE.values():
        assert "125a" not in row["statute"] + row["enforcement"]
    # § 125a HGB appears only as the former provision.
    for text in (rule.rationale.de, rule.rationale.en):
        for m in re.finditer(r"§ 125a HGB", text):
            assert re.search(r"bis dahin|until then", text[m.start() - 120:m.end() + 20]), text[m.start() - 120:]
    assert any("gesetze-im-internet.de/hgb/__125.html" in r.de for r in rule.references)
    assert any("§ 7 Abs. 3" in r.de and "PartGG" in r.de for r in rule.references)


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
    # The finding names the basis of the Zwangsgeld (§ 79 GmbHG, § 407 AktG, § 160 GenG, § 37a Abs. 4 HGB).
    assert TABLE[form]["enforcement"] in de and TABLE[form]["enforcement"] in en
    # Each language shows its own labels only (the English label may quote the German term).
    assert label.en not in de or label.en in label.de
    assert label.de not in en or label.de in label.en


def test_conditional_detail_is_not_required_when_the_condition_is_no() -> None:
    finding = run("POL-SIGNATURE-MANDATORY-DETAILS", form_answers("gmbh", [*BASE, "managing_directors"], False))
    assert finding.status is P
    finding = run("POL-SIGNATURE-MANDATORY-DETAILS", {**form_answers("gmbh", [*BASE, "managing_directors"], True),
                                                      "signature.capital_stated": False})
    assert finding.params["missing_keys"] == ["supervisory_chair"]


def test_several_missing_details_are_listed_in_catalog_order() -> None:
    answers = {**form_answers("ag", ["firm_name", "seat"], True), "signature.capital_stated": False}
    finding = run("POL-SIGNATURE-MANDATORY-DETAILS", answers)
    assert finding.params["missing_keys"] == [
        "legal_form", "register_court", "register_number", "board_members", "board_chair", "supervisory_chair",
    ]
    assert render_finding(finding, "en")["detail"] == (
        "For the AG, the e-mails lack under § 80 AktG: legal form, register court, register number, all management "
        "board members, chair of the management board marked as such, chair of the supervisory board. The register "
        "court can enforce the details with a coercive fine (§ 407 Abs. 1 AktG)."
    )
    assert render_finding(finding, "de")["detail"] == (
        "Für die AG fehlen nach § 80 AktG: Rechtsform, Registergericht, Registernummer, alle Vorstandsmitglieder, "
        "Vorstandsvorsitz als solcher bezeichnet, Aufsichtsratsvorsitz. Das Registergericht kann die Angaben mit "
        "Zwangsgeld durchsetzen (§ 407 Abs. 1 AktG)."
    )


@pytest.mark.parametrize("form", ["gmbh", "ug", "ag"])
def test_stated_capital_requires_the_share_capital_and_outstanding_contributions(form: str) -> None:
    """§ 35a Abs. 1 S. 2 GmbHG, § 80 Abs. 1 S. 3 AktG: capital is optional, but if stated, then completely."""
    base = all_required(form, False)

    def missing(stated: bool, outstanding: bool, details: list[str]) -> list[str]:
        answers = {**form_answers(form, details, False), "signature.capital_stated": stated,
                   "signature.capital_outstanding": outstanding}
        finding = run("POL-SIGNATURE-MANDATORY-DETAILS", answers)
        return finding.params.get("missing_keys", [])

    # No capital stated: nothing to add, and the (hidden) answer on outstanding contributions is ignored.
    assert missing(False, True, base) == []
    assert missing(True, False, base) == ["share_capital"]
    assert missing(True, False, [*base, "share_capital"]) == []
    assert missing(True, True, [*base, "share_capital"]) == ["outstanding_contributions"]
    assert missing(True, True, [*base, "share_capital", "outstanding_contributions"]) == []


def test_eg_and_partg_are_evaluated_not_left_for_manual_review() -> None:
    """Issue 11: eG (§ 25a GenG) and PartG (§ 7 Abs. 3 PartGG) are proper legal forms now, not "check by hand"."""
    eg = run("POL-SIGNATURE-MANDATORY-DETAILS", form_answers("eg", BASE, True))
    assert (eg.status, eg.params["missing_keys"]) == (F, ["board_members", "supervisory_chair"])
    assert "§ 160 Abs. 1 GenG" in render_finding(eg, "de")["detail"]
    partg = run("POL-SIGNATURE-MANDATORY-DETAILS", form_answers("partg", BASE, True))
    assert (partg.status, partg.params["missing_keys"]) == (F, ["liability_suffix"])
    assert run("POL-SIGNATURE-MANDATORY-DETAILS", form_answers("partg", BASE, False)).status is P
    other = catalog()["POL-SIGNATURE-MANDATORY-DETAILS"].outcomes["other_form"].text
    assert "GenG" not in other.de + other.en and "PartGG" not in other.de + other.en


def test_full_first_name_is_asked_for_every_person() -> None:
    """§ 35a GmbHG, § 80 AktG, § 25a GenG: persons with surname and at least one first name written out."""
    q = questionnaire()["signature.details"]
    for key in ("managing_directors", "board_members", "supervisory_chair", "partner_managing_directors",
                "partner_supervisory_chair"):
        description = q.choice(key).description
        assert description is not None and "ausgeschriebenen Vornamen" in description.de, key
        assert "first name written out" in description.en, key


# -- texts -----------------------------------------------------------------------------------------

#: Rules without legal background (technical or organisational advice): no "not legal advice" note (issue 11).
NOT_LEGAL = {
    "POL-NO-OUTBOUND-FILTER", "POL-NO-RATE-LIMIT", "POL-PORT25-OPEN", "POL-CLIENTS-USE-IP",
    "POL-SUBMISSION-SHARED-HOST", "POL-OWN-DOMAIN-SENDER-REJECTED",
}


@pytest.mark.parametrize("rule_id", POLICY_RULES)
def test_legal_texts(rule_id: str) -> None:
    rule = catalog()[rule_id]
    assert rule.category == "policy_legal"
    assert rule.references
    for text in (rule.rationale.de, rule.rationale.en):
        # The 2009 statutes must not appear as current law.
        assert "§ 88 TKG" not in text or "früher § 88 TKG" in text or "formerly § 88 TKG" in text


@pytest.mark.parametrize("rule_id", POLICY_RULES)
def test_exactly_the_rules_with_legal_background_carry_the_note(rule_id: str) -> None:
    """The note belongs under legal background only: rules with ``extra.legal = true`` end with it, the
    technical and organisational ones (rate limits, port 25, host names, filters) do not mention it."""
    rule = catalog()[rule_id]
    legal = rule.extra.get("legal", False)
    assert isinstance(legal, bool)
    assert legal is (rule_id not in NOT_LEGAL)
    if legal:
        assert rule.rationale.de.endswith(NOTE_DE)
        assert rule.rationale.en.endswith(NOTE_EN)
    else:
        assert "Rechtsberatung" not in rule.rationale.de + rule.remediation.de
        assert "legal advice" not in rule.rationale.en + rule.remediation.en


def test_unverified_items_are_hedged() -> None:
    """Knowledge base §4: items marked U appear only with a hedge, never as plain fact."""
    texts = {r.id: (r.rationale.de, r.rationale.en, [ref.de for ref in r.references]) for r in catalog().rules.values()
             if r.family == "policy"}
    de, en, refs = texts["POL-SIGNATURE-ON-PRIVATE-MAIL"]
    assert "Nach unserem Kenntnisstand" in de and "To our knowledge" in en
    assert any("Aktenzeichen nicht verifiziert" in r for r in refs)
    _de, _en, refs = texts["POL-SIGNATURE-MANDATORY-DETAILS"]
    assert any("6 U 12/07 (Datum nicht verifiziert)" in r for r in refs)
    other = catalog()["POL-SIGNATURE-MANDATORY-DETAILS"].outcomes["other_form"].text
    assert "eingetragene GbR" in other.de and "nicht geprüft" in other.de and "not researched" in other.en
    _de, _en, refs = texts["POL-WORKS-AGREEMENT-MISSING"]
    assert any("1 ABR 20/74" in r and "Datum nicht verifiziert" in r for r in refs)
    for rule_id in ("POL-SENSITIVE-MAIL-UNENCRYPTED", "POL-DISCLAIMER-RELIANCE"):
        de, en, _refs = texts[rule_id]
        assert "nach unserem Kenntnisstand" in de and "to our knowledge" in en, rule_id
    for rule_id, (de, en, _refs) in texts.items():
        assert "ArbG Wesel" not in de + en, rule_id
        assert "Beschäftigtendatengesetz" not in de, rule_id


def german_texts() -> list[tuple[str, str]]:
    """Every German text of the policy rules and the questionnaire, with where it comes from."""
    out: list[tuple[str, str]] = []
    for rule_id in POLICY_RULES:
        rule = catalog()[rule_id]
        out += [(rule_id, rule.title.de), (rule_id, rule.rationale.de), (rule_id, rule.remediation.de)]
        out += [(f"{rule_id}.{k}", o.text.de) for k, o in rule.outcomes.items()]
        out += [(f"{rule_id}.gaps.{k}", v["de"]) for k, v in rule.extra.get("gaps", {}).items()]
    q = questionnaire()
    out += [(f"topic {t.id}", t.title.de + (t.intro.de if t.intro else "")) for t in q.topics.values()]
    for question in q.questions.values():
        out += [(question.id, question.title.de), (question.id, question.help.de)]
        out += [(f"{question.id}.{c.key}", c.label.de + (c.description.de if c.description else ""))
                for c in question.choices]
    return out


@pytest.mark.parametrize(("wrong", "right"), [
    ("Verteilerliste", "Mailinglisten"),
    ("Sammelbericht", "Aggregate Reports (rua)"),
    ("Hygienepunkt", "Härtungsmaßnahme"),
    ("Angriffe erleichtert", "ermöglicht Man-in-the-Middle-Angriffe"),
    ("Nach dem Europäischen Gerichtshof", "Nach der Rechtsprechung des EGMR"),
    ("weiterleiten lässt", "Relaying"),
    ("hat keine rechtliche Wirkung", "a disclaimer has limited, not no, legal effect"),
])
def test_german_wording(wrong: str, right: str) -> None:
    """Issue 11's wording corrections, read as a German admin and a labour-law practitioner would."""
    for where, text in german_texts():
        assert wrong not in text, f"{where}: '{wrong}' (use: {right})"


def test_works_council_texts_follow_the_objective_suitability_test() -> None:
    rule = catalog()["POL-WORKS-AGREEMENT-MISSING"]
    assert "objektiv geeignet" in rule.rationale.de and "objectively suitable" in rule.rationale.en
    assert "1 ABR 7/15" in rule.rationale.de and any("1 ABR 7/15" in r.de for r in rule.references)
    assert "Nach der Rechtsprechung des EGMR" in rule.rationale.de
    q = questionnaire()["private_use.monitoring_systems"]
    assert q.type == "multichoice" and "server_logs" in q.choice_keys and "archive" in q.choice_keys


def test_not_evaluating_does_not_pass_while_logs_exist() -> None:
    """Issue 11: § 87 Abs. 1 Nr. 6 BetrVG applies to systems suitable for monitoring (BAG 1 ABR 7/15)."""
    answers = {**WORKS_COUNCIL, "private_use.monitoring": False, **TOLERATED, "private_use.policy": "guideline"}
    finding = run("POL-WORKS-AGREEMENT-MISSING", answers)
    assert (finding.status, finding.outcome) == (F, "not_evaluated")
    assert finding.params["systems_keys"] == ["server_logs", "archive"]
    de = render_finding(finding, "de")["detail"]
    assert "Mailarchiv oder Journaling" in de and "ändert an der Mitbestimmung nichts" in de
    assert "mail archive or journaling" in render_finding(finding, "en")["detail"]


def test_mailbox_access_gaps_are_listed_in_each_language() -> None:
    answers = {"absence.deputies": [], "absence.access_process": ["written_procedure", "logged"],
               "absence.departure": "kept_open"}
    finding = run("POL-MAILBOX-ACCESS-UNREGULATED", answers)
    assert finding.params["gaps_keys"] == [
        "deputies", "person_involved", "four_eyes", "private_excluded", "departure_kept_open",
    ]
    assert render_finding(finding, "de")["detail"] == (
        "Bei Abwesenheit und Ausscheiden fehlen: Vertretungsregel, bei der niemand ein fremdes Postfach öffnen muss, "
        "Beteiligung der betroffenen Person, Vier-Augen-Prinzip, Schutz erkennbar privater Mails, Abschluss des "
        "Postfachs beim Ausscheiden (es wird weiter gelesen)."
    )
    assert render_finding(finding, "en")["detail"].startswith(
        "For absence and departure, these are missing: a deputy rule that needs nobody to open")


@pytest.mark.parametrize(("rule_id", "question"), [
    ("POL-MAILBOX-ACCESS-UNREGULATED", "absence.access_process"),
    ("POL-BACKUP-PRIVATE-MAIL", "backup.restore_rules"),
])
def test_every_gap_has_a_label_in_both_languages(rule_id: str, question: str) -> None:
    gaps = catalog()[rule_id].extra["gaps"]
    assert set(questionnaire()[question].choice_keys) <= set(gaps)
    for key, text in gaps.items():
        assert set(text) == {"de", "en"} and text["de"].strip() and text["en"].strip(), key


def test_backup_gaps_name_retention_and_restore() -> None:
    answers = {**TOLERATED, **BACKUP_OK, "backup.retention_defined": False, "backup.restore_rules": ["logged"]}
    finding = run("POL-BACKUP-PRIVATE-MAIL", answers)
    assert finding.params["gaps_keys"] == ["retention", "documented_request", "four_eyes", "owner_informed"]
    assert render_finding(finding, "de")["detail"] == (
        "Für die Sicherungen der Postfächer fehlen: festgelegte Aufbewahrungsdauer, Wiederherstellung nur auf "
        "dokumentierten Auftrag, Vier-Augen-Prinzip, Information der betroffenen Person."
    )
    rationale = catalog()["POL-BACKUP-PRIVATE-MAIL"].rationale.de
    for cited in ("Art. 5 Abs. 1 lit. e", "Art. 17 DSGVO", "§ 3 TDDDG", "7 U 521/21", "LDI NRW"):
        assert cited in rationale, cited


def test_retention_texts_name_calendar_year_ablaufhemmung_and_legal_hold() -> None:
    rule = catalog()["POL-ARCHIVE-RETENTION"]
    for text in (rule.rationale.de, rule.remediation.de):
        assert "Schluss des Kalenderjahres" in text and "Legal Hold" in text
    assert "§ 147 Abs. 3 S. 5 AO" in rule.rationale.de and "§ 147 Abs. 4 AO" in rule.rationale.de
    assert "§ 257 Abs. 5 HGB" in rule.rationale.de
    assert "Nach Ablauf löschen." not in rule.remediation.de  # the old, unconditional advice
    finding = run("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 6,
                                            "archive.deletion": "rolling", "archive.invoices_elsewhere": True,
                                            "archive.legal_hold": True})
    assert (finding.outcome, finding.params["years"], finding.params["required"]) == ("rolling_start", 6, 6)
    assert "bis zu ein Jahr zu früh" in render_finding(finding, "de")["detail"]
    assert finding.severity.value == "high"
    hold = run("POL-ARCHIVE-RETENTION", {"archive.system": "gobd", "archive.retention_years": 10,
                                         "archive.deletion": "year_end", "archive.legal_hold": False})
    assert (hold.outcome, hold.severity.value) == ("no_hold", "medium")


def test_disclaimer_is_not_called_legally_void_and_links_to_encryption() -> None:
    """Issue 11: a marking can matter (NDA, § 2 Nr. 1 lit. b GeschGehG); a disclaimer still replaces no encryption."""
    rule = catalog()["POL-DISCLAIMER-RELIANCE"]
    assert "keine rechtliche Wirkung" not in rule.rationale.de and "no legal effect" not in rule.rationale.en
    assert "§ 2 Nr. 1 lit. b GeschGehG" in rule.rationale.de and "NDA" in rule.rationale.de
    assert "ersetzt weder Verschlüsselung" in rule.rationale.de
    assert "POL-SENSITIVE-MAIL-UNENCRYPTED" in rule.rationale.de + rule.remediation.de
    assert "POL-SENSITIVE-MAIL-UNENCRYPTED" in [r.de for r in rule.references]
    assert "legally neutral" not in rule.outcomes["pass"].text.en


def test_outbound_filter_remediation_agrees_with_the_postfix_rule() -> None:
    """Issue 11, verdict 3: a milter (rspamd) on submission is a filter; never suggest removing it."""
    rule = catalog()["POL-NO-OUTBOUND-FILTER"]
    for text in (rule.rationale.de, rule.remediation.de):
        assert "rspamd" in text and "content_filter" in text and "DKIM" in text
    assert "nicht entfernen" in rule.remediation.de and "Do not remove" in rule.remediation.en
    assert "smtpd_proxy_filter" in rule.remediation.de and "PF-PREQUEUE-FOR-AUTH" in rule.remediation.de
    assert "post-queue" not in rule.rationale.de + rule.rationale.en
    assert "PF-PREQUEUE-FOR-AUTH" in [r.de for r in rule.references]


def test_own_domain_rule_names_the_broken_flows_and_the_alternative() -> None:
    rule = catalog()["POL-OWN-DOMAIN-SENDER-REJECTED"]
    assert rule.severity.value == "low"
    for word in ("Weiterleitungen", "Mailinglisten", "SPF", "DMARC", "reject_sender_login_mismatch"):
        assert word in rule.rationale.de, word
    q = questionnaire()["inbound.reject_own_domain"]
    assert q.title.en == "Does the mail server or filter reject inbound mail whose sender address is in our own domain?"


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
        # The seed topics and corrections of issue 11.
        "POL-WORKS-AGREEMENT-MISSING": "missing",
        "POL-MAILBOX-ACCESS-UNREGULATED": "gaps",
        "POL-BACKUP-PRIVATE-MAIL": "gaps",
        "POL-OWN-DOMAIN-SENDER-REJECTED": "rejects",
        "POL-SENSITIVE-MAIL-UNENCRYPTED": "opportunistic_confidential",
        "POL-ARCHIVE-RETENTION": "no_hold",
    }
    for rule_id, outcome in expected.items():
        assert (verdicts[rule_id].status, verdicts[rule_id].outcome) == (F, outcome), verdicts[rule_id]
    assert all(f.status is not NT for f in verdicts.values())


def test_complete_answers_give_no_failure() -> None:
    answers = load_answers_file(FIXTURES / "complete-pass.json")
    for rule_id in POLICY_RULES:
        assert run(rule_id, answers).status in (P, NA), rule_id
