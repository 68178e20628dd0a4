"""The questionnaire catalog and the answers file: strict loading, clear one-line errors, round trip."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

import auditapp.checks.policy  # noqa: F401  (registers the policy rules until auditapp.checks imports it)
from auditapp.catalog import catalog
from auditapp.questionnaire import (
    ANSWERS_FORMAT,
    AnswersError,
    QuestionnaireError,
    dump_answers,
    load_answers_file,
    parse_answers,
    questionnaire,
    save_answers_file,
    validate_answers,
)
from auditapp.questionnaire.schema import QUESTION_TYPES, parse_questionnaire

FIXTURES = Path(__file__).parent / "fixtures" / "answers"
RULES = {"POL-A", "POL-B"}


# -- the shipped catalog ---------------------------------------------------------------------------

def test_shipped_catalog_loads_and_is_cached() -> None:
    q = questionnaire()
    assert q is questionnaire()
    assert len(q.questions) >= 20
    assert len(q.version) == 12


def test_every_text_exists_in_german_and_english() -> None:
    q = questionnaire()
    for topic in q.topics.values():
        assert topic.title.de.strip() and topic.title.en.strip()
    for question in q.questions.values():
        for text in (question.title, question.help):
            assert text.de.strip() and text.en.strip(), question.id
            assert text.de != text.en or question.id.startswith("signature."), question.id
        for choice in question.choices:
            assert choice.label.de.strip() and choice.label.en.strip(), (question.id, choice.key)
            if choice.description:
                assert choice.description.de.strip() and choice.description.en.strip()


def test_required_topics_and_question_types_are_covered() -> None:
    q = questionnaire()
    assert {"private_use", "signature", "disclaimer", "outbound", "clients", "archive", "queue"} <= set(q.topics)
    # The seed topics of issue 11: absence and departure, backups, inbound filter rules, encryption.
    assert {"absence", "backup", "inbound", "encryption"} <= set(q.topics)
    assert {question.type for question in q.questions.values()} == set(QUESTION_TYPES)
    assert q["private_use.status"].choice_keys == ("allowed", "tolerated", "forbidden", "unregulated")
    assert set(q["signature.legal_form"].choice_keys) == {
        "gmbh", "ug", "ag", "kg", "ohg", "ek", "gmbh_co_kg", "eg", "partg", "other",
    }


def test_every_rule_named_in_feeds_exists_and_every_policy_rule_is_fed() -> None:
    q = questionnaire()
    rules = catalog().rules
    for question in q.questions.values():
        for rule_id in question.feeds:
            assert rule_id in rules, (question.id, rule_id)
    for rule in rules.values():
        if rule.family == "policy":
            assert q.feeding(rule.id), f"{rule.id} has no question feeding it"


def test_related_rules_exist() -> None:
    """``related`` points to rules of other sources (the Postfix import) that cover the same fact."""
    rules = catalog().rules
    for question in questionnaire().questions.values():
        for rule_id in question.related:
            assert rule_id in rules, (question.id, rule_id)


def test_a_rule_depends_on_the_condition_of_every_question_it_reads() -> None:
    """If Q feeds R and is shown only under a condition on P, R's verdict depends on P too."""
    q = questionnaire()
    for question in q.questions.values():
        if question.show_if:
            parent = q[question.show_if.question]
            for rule_id in question.feeds:
                assert rule_id in parent.feeds, f"{question.id} feeds {rule_id}, its condition {parent.id} does not"


def test_visibility_follows_show_if_and_chains() -> None:
    q = questionnaire()
    assert not q.visible("private_use.ban_enforced", {})
    assert q.visible("private_use.ban_enforced", {"private_use.status": "forbidden"})
    assert not q.visible("private_use.ban_enforced", {"private_use.status": "tolerated"})
    answers = {"private_use.status": "tolerated", "private_use.policy": "guideline"}
    assert q.visible("private_use.policy_topics", answers)
    # The policy question is hidden for "unregulated", so its follow-up is hidden as well.
    assert not q.visible("private_use.policy_topics", {**answers, "private_use.status": "unregulated"})
    assert q.visible("private_use.monitoring_systems", {"private_use.works_council": True})
    assert not q.visible("private_use.monitoring_systems", {"private_use.works_council": False})
    # True must not match 1 and vice versa.
    assert not q.visible("private_use.monitoring_systems", {"private_use.works_council": 1})
    # What exists is asked first; whether it is evaluated only matters when something exists.
    council = {"private_use.works_council": True}
    assert not q.visible("private_use.monitoring", council)
    assert not q.visible("private_use.monitoring", {**council, "private_use.monitoring_systems": []})
    assert q.visible("private_use.monitoring", {**council, "private_use.monitoring_systems": ["server_logs"]})
    assert not q.visible("private_use.monitoring", {"private_use.works_council": False,
                                                    "private_use.monitoring_systems": ["server_logs"]})
    # Outstanding contributions are asked only when capital is stated at all.
    gmbh = {"signature.legal_form": "gmbh"}
    assert q.visible("signature.capital_stated", gmbh)
    assert not q.visible("signature.capital_stated", {"signature.legal_form": "kg"})
    assert not q.visible("signature.capital_outstanding", {**gmbh, "signature.capital_stated": False})
    assert q.visible("signature.capital_outstanding", {**gmbh, "signature.capital_stated": True})
    assert q.visible("signature.partg_mbb", {"signature.legal_form": "partg"})
    assert q.visible("signature.supervisory_board", {"signature.legal_form": "eg"})
    # Legal hold is asked only when the archive deletes automatically.
    archive = {"archive.system": "gobd"}
    assert q.visible("archive.legal_hold", {**archive, "archive.deletion": "rolling"})
    assert not q.visible("archive.legal_hold", {**archive, "archive.deletion": "none"})
    assert not q.visible("archive.legal_hold", {"archive.system": "none", "archive.deletion": "rolling"})
    assert q.visible("backup.restore_rules", {"backup.mailboxes": True})
    assert not q.visible("backup.retention_defined", {"backup.mailboxes": False})
    assert q.visible("encryption.method", {"encryption.sensitive_content": "business_confidential"})
    assert not q.visible("encryption.method", {"encryption.sensitive_content": "none"})


#: The questions added for issue 11, with their type and the rule they feed. New ids only: the catalog
#: header forbids reusing an id, so an existing question whose meaning changed would need a new id.
NEW_QUESTIONS = {
    "private_use.monitoring_systems": ("multichoice", "POL-WORKS-AGREEMENT-MISSING"),
    "absence.deputies": ("multichoice", "POL-MAILBOX-ACCESS-UNREGULATED"),
    "absence.access_process": ("multichoice", "POL-MAILBOX-ACCESS-UNREGULATED"),
    "absence.departure": ("choice", "POL-MAILBOX-ACCESS-UNREGULATED"),
    "signature.partg_mbb": ("yesno", "POL-SIGNATURE-MANDATORY-DETAILS"),
    "signature.capital_stated": ("yesno", "POL-SIGNATURE-MANDATORY-DETAILS"),
    "signature.capital_outstanding": ("yesno", "POL-SIGNATURE-MANDATORY-DETAILS"),
    "encryption.sensitive_content": ("choice", "POL-SENSITIVE-MAIL-UNENCRYPTED"),
    "encryption.method": ("choice", "POL-SENSITIVE-MAIL-UNENCRYPTED"),
    "inbound.reject_own_domain": ("choice", "POL-OWN-DOMAIN-SENDER-REJECTED"),
    "archive.deletion": ("choice", "POL-ARCHIVE-RETENTION"),
    "archive.legal_hold": ("yesno", "POL-ARCHIVE-RETENTION"),
    "backup.mailboxes": ("yesno", "POL-BACKUP-PRIVATE-MAIL"),
    "backup.retention_defined": ("yesno", "POL-BACKUP-PRIVATE-MAIL"),
    "backup.restore_rules": ("multichoice", "POL-BACKUP-PRIVATE-MAIL"),
}


@pytest.mark.parametrize("question_id", sorted(NEW_QUESTIONS))
def test_new_questions_exist_and_feed_their_rule(question_id: str) -> None:
    q = questionnaire()
    qtype, rule_id = NEW_QUESTIONS[question_id]
    question = q[question_id]
    assert question.type == qtype
    assert rule_id in question.feeds
    assert question_id not in q.renamed and question_id not in q.deleted
    # Written for managers: a help text that says why the question matters, in both languages.
    assert len(question.help.de) > 40 and len(question.help.en) > 40


def test_existing_question_ids_are_kept() -> None:
    """Old answers files keep loading: no id of the previous catalog disappeared or changed its type."""
    q = questionnaire()
    for qid, qtype in {
        "private_use.works_council": "yesno", "private_use.monitoring": "yesno", "signature.legal_form": "choice",
        "signature.details": "multichoice", "disclaimer.relied_upon": "yesno", "archive.retention_years": "number",
        "archive.invoices_elsewhere": "yesno", "archive.private_mail": "choice",
    }.items():
        assert q[qid].type == qtype, qid
    assert load_answers_file(FIXTURES / "demo.json")["private_use.monitoring"] is True


# -- catalog validation ----------------------------------------------------------------------------

GOOD = """
format = "auditapp.questionnaire"
version = 1

[topics.t]
title = { de = "Thema", en = "Topic" }

[[questions]]
id = "t.first"
type = "choice"
topic = "t"
feeds = ["POL-A"]
title = { de = "Erste", en = "First" }
help = { de = "Hilfe", en = "Help" }
[[questions.choices]]
key = "a"
label = { de = "A", en = "A" }
[[questions.choices]]
key = "b"
label = { de = "B", en = "B" }

[[questions]]
id = "t.second"
type = "number"
topic = "t"
feeds = ["POL-B"]
show_if = { question = "t.first", in = ["a"] }
min = 0
max = 10
integer = true
title = { de = "Zweite", en = "Second" }
help = { de = "Hilfe", en = "Help" }
"""


def test_minimal_catalog_parses() -> None:
    q = parse_questionnaire(GOOD, RULES)
    assert list(q.questions) == ["t.first", "t.second"]
    assert q.feeding("POL-B")[0].id == "t.second"


@pytest.mark.parametrize(("old", "new", "message"), [
    ('feeds = ["POL-A"]', 'feeds = ["POL-A"]\ncolour = "red"', "unknown keys ['colour']"),
    ('title = { de = "Erste", en = "First" }', 'title = { de = "Erste" }', "missing or empty 'en'"),
    ('title = { de = "Erste", en = "First" }', 'title = { de = "Erste", en = " " }', "missing or empty 'en'"),
    ('title = { de = "Erste", en = "First" }', 'title = { de = "Erste", en = "First", fr = "x" }', "unknown keys"),
    ('show_if = { question = "t.first", in = ["a"] }', 'show_if = { question = "t.nothing", in = ["a"] }',
     "show_if refers to 't.nothing'"),
    ('show_if = { question = "t.first", in = ["a"] }', 'show_if = { question = "t.first", in = ["z"] }',
     "not choices of t.first"),
    ('show_if = { question = "t.first", in = ["a"] }', 'show_if = { question = "t.first" }',
     "exactly 'question' and 'in'"),
    ('feeds = ["POL-B"]', 'feeds = ["POL-NOPE"]', "feeds unknown rule 'POL-NOPE'"),
    ('id = "t.second"', 'id = "t.first"', "defined twice"),
    ('id = "t.second"', 'id = "Second"', "must look like"),
    ('type = "number"', 'type = "slider"', "type 'slider'"),
    ('topic = "t"\nfeeds = ["POL-B"]', 'topic = "x"\nfeeds = ["POL-B"]', "unknown topic 'x'"),
    ('min = 0\nmax = 10', 'min = 10\nmax = 0', "min is greater than max"),
    ('key = "b"', 'key = "a"', "duplicate choice keys"),
    ('key = "b"', 'key = "B b"', "choice key"),
    ('help = { de = "Hilfe", en = "Help" }\n[[questions.choices]]', '[[questions.choices]]', "missing 'help'"),
])
def test_catalog_errors_name_the_question(old: str, new: str, message: str) -> None:
    assert old in GOOD
    with pytest.raises(QuestionnaireError, match=None) as info:
        parse_questionnaire(GOOD.replace(old, new, 1), RULES, "q.toml")
    text = str(info.value)
    assert message in text
    assert text.startswith("q.toml")
    assert "\n" not in text


def test_catalog_structure_errors() -> None:
    with pytest.raises(QuestionnaireError, match="unknown top-level keys"):
        parse_questionnaire('extra = 1\n' + GOOD, RULES)
    with pytest.raises(QuestionnaireError, match="format"):
        parse_questionnaire(GOOD.replace('version = 1', 'version = 2', 1), RULES)
    with pytest.raises(QuestionnaireError, match="topics without questions: u"):
        parse_questionnaire(GOOD.replace("[topics.t]", '[topics.u]\ntitle = { de = "U", en = "U" }\n[topics.t]'),
                            RULES)
    with pytest.raises(QuestionnaireError, match=r"renamed 't\.old' points to unknown question"):
        parse_questionnaire(GOOD.replace("[topics.t]", 'renamed = { "t.old" = "t.gone" }\n[topics.t]'), RULES)
    with pytest.raises(QuestionnaireError, match="only choice and multichoice"):
        parse_questionnaire(GOOD.replace("integer = true", "integer = true\nchoices = []"), RULES)
    with pytest.raises(QuestionnaireError, match="at least two choices"):
        parse_questionnaire(GOOD.split("[[questions.choices]]\nkey = \"b\"")[0]
                            + GOOD.split('label = { de = "B", en = "B" }')[1], RULES)
    with pytest.raises(QuestionnaireError, match=r"q\.toml"):
        parse_questionnaire("not toml = = ", RULES, "q.toml")


def test_show_if_must_refer_to_an_earlier_question() -> None:
    swapped = GOOD.replace('show_if = { question = "t.first", in = ["a"] }\n', "")
    swapped = swapped.replace('feeds = ["POL-A"]', 'feeds = ["POL-A"]\nshow_if = { question = "t.second", in = [1] }')
    with pytest.raises(QuestionnaireError, match="not a question defined before this one"):
        parse_questionnaire(swapped, RULES)


# -- validate_answers ------------------------------------------------------------------------------

def test_valid_answers_are_normalised() -> None:
    out = validate_answers({
        "signature.details": ["seat", "firm_name"],
        "private_use.status": "tolerated",
        "archive.retention_years": 10.0,
        "signature.other_legal_form": "  eG  ",
        "archive.product": "   ",
        "disclaimer.used": None,
        "queue.max_lifetime_days": 2.5,
    })
    assert out == {
        "private_use.status": "tolerated",
        "signature.other_legal_form": "eG",
        "signature.details": ["firm_name", "seat"],
        "archive.retention_years": 10,
        "queue.max_lifetime_days": 2.5,
    }
    assert list(out) == ["private_use.status", "signature.other_legal_form", "signature.details",
                         "archive.retention_years", "queue.max_lifetime_days"]
    assert isinstance(out["archive.retention_years"], int)
    assert validate_answers({}) == {}
    assert validate_answers({"signature.details": []}) == {"signature.details": []}


@pytest.mark.parametrize(("answers", "message"), [
    ({"private_use.stauts": "allowed"},
     "unknown question id 'private_use.stauts' (did you mean 'private_use.status'?)"),
    ({"nothing.like.it": 1}, "unknown question id 'nothing.like.it'"),
    ({"private_use.status": "sometimes"}, "answer to private_use.status: unknown choice 'sometimes'; expected one of "
                                          "allowed, tolerated, forbidden, unregulated"),
    ({"private_use.status": 2}, "answer to private_use.status: expected one of allowed"),
    ({"private_use.works_council": "yes"}, 'answer to private_use.works_council: expected true or false, got "yes"'),
    ({"private_use.works_council": 1}, "answer to private_use.works_council: expected true or false, got 1"),
    ({"signature.details": "seat"}, "answer to signature.details: expected a list of choice keys"),
    ({"signature.details": ["seat", "seat"]}, "answer to signature.details: choice 'seat' is listed twice"),
    ({"signature.details": ["seat", "colour"]}, 'answer to signature.details: unknown choice "colour"'),
    ({"archive.retention_years": 101}, "answer to archive.retention_years: 101 is out of range; allowed 0 to 100"),
    ({"archive.retention_years": -1}, "answer to archive.retention_years: -1 is out of range"),
    ({"archive.retention_years": 6.5}, "answer to archive.retention_years: expected a whole number, got 6.5"),
    ({"archive.retention_years": True}, "answer to archive.retention_years: expected a number, got true"),
    ({"archive.retention_years": "10"}, 'answer to archive.retention_years: expected a number, got "10"'),
    ({"queue.max_lifetime_days": float("inf")}, "answer to queue.max_lifetime_days: expected a finite number"),
    ({"signature.other_legal_form": 5}, "answer to signature.other_legal_form: expected text, got 5"),
    ({"signature.other_legal_form": "x" * 201}, "text is 201 characters long; at most 200 allowed"),
])
def test_wrong_answers_give_one_clear_line(answers: dict[str, Any], message: str) -> None:
    with pytest.raises(AnswersError) as info:
        validate_answers(answers)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_answers_must_be_a_mapping() -> None:
    with pytest.raises(AnswersError, match="answers must be an object"):
        validate_answers(["private_use.status"])  # type: ignore[arg-type]


def test_renamed_and_deleted_ids_keep_old_answers_loading() -> None:
    text = GOOD.replace("[topics.t]", 'renamed = { "t.one" = "t.first" }\ndeleted = ["t.gone"]\n[topics.t]')
    q = parse_questionnaire(text, RULES)
    assert validate_answers({"t.one": "a", "t.gone": "whatever"}, q) == {"t.first": "a"}
    with pytest.raises(AnswersError, match="answered twice"):
        validate_answers({"t.one": "a", "t.first": "b"}, q)
    with pytest.raises(QuestionnaireError, match="still in use"):
        parse_questionnaire(GOOD.replace("[topics.t]", 'deleted = ["t.first"]\n[topics.t]'), RULES)


# -- the answers file ------------------------------------------------------------------------------

def test_answers_file_round_trip(tmp_path: Path) -> None:
    answers = {
        "signature.details": ["seat", "firm_name"],
        "private_use.status": "forbidden",
        "private_use.ban_enforced": True,
        "archive.retention_years": 8,
        "signature.other_legal_form": "eingetragene Genossenschaft (eG) – „Süd“",
    }
    path = tmp_path / "answers.json"
    save_answers_file(path, answers, meta={"answered_by": "Jörg"})
    doc = json.loads(path.read_text("utf-8"))
    assert doc["format"] == ANSWERS_FORMAT and doc["version"] == 1
    assert doc["meta"] == {"answered_by": "Jörg"}
    assert "„Süd“" in path.read_text("utf-8")  # readable, not \u-escaped
    loaded = load_answers_file(path)
    assert loaded == validate_answers(answers)
    save_answers_file(path, loaded)
    assert load_answers_file(path) == loaded
    assert dump_answers(loaded) == path.read_text("utf-8")


def test_saving_refuses_invalid_answers(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    with pytest.raises(AnswersError, match=r"private_use\.status"):
        save_answers_file(path, {"private_use.status": "maybe"})
    assert not path.exists()


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + dump_answers({"disclaimer.used": False}).encode("utf-8"))
    assert load_answers_file(path) == {"disclaimer.used": False}


@pytest.mark.parametrize(("name", "message"), [
    ("damaged-truncated.json", "not valid JSON (line 6"),
    ("foreign-project.json", 'not an auditapp answers file (expected a JSON object with "format": "auditapp.answers")'),
    ("newer-version.json", "written by a newer auditapp (answers version 2; this one reads version 1)"),
    ("invalid-choice.json", "answer to private_use.status: unknown choice 'sometimes'"),
    ("binary.json", "not UTF-8 text"),
    ("does-not-exist.json", "cannot read the answers file"),
])
def test_damaged_and_foreign_files_are_refused_with_the_file_name(name: str, message: str) -> None:
    path = FIXTURES / name
    with pytest.raises(AnswersError) as info:
        load_answers_file(path)
    text = str(info.value)
    assert text.startswith(str(path) + ": ")
    assert message in text
    assert "\n" not in text


@pytest.mark.parametrize(("text", "message"), [
    ("[]", "not an auditapp answers file"),
    ('"auditapp.answers"', "not an auditapp answers file"),
    ('{"format": "auditapp.project", "version": 1, "answers": {}}', "found format 'auditapp.project'"),
    ('{"format": "auditapp.answers", "answers": {}}', "'version' must be a positive whole number"),
    ('{"format": "auditapp.answers", "version": "1", "answers": {}}', "'version' must be a positive whole number"),
    ('{"format": "auditapp.answers", "version": 1}', "the 'answers' object is missing"),
    ('{"format": "auditapp.answers", "version": 1, "answers": []}', "'answers' must be an object"),
    ('{"format": "auditapp.answers", "version": 1, "answers": {}, "meta": 3}', "'meta' must be an object"),
    ('{"format": "auditapp.answers", "version": 1, "answers": {}, "notes": ""}', "unknown top-level keys ['notes']"),
    ('{"format": "auditapp.answers", "version": 1, "answers": {"disclaimer.used": true, "disclaimer.used": false}}',
     "key 'disclaimer.used' appears twice"),
    ('{"format": "auditapp.answers", "version": 1, "answers": {"queue.max_lifetime_days": NaN}}',
     "NaN is not a valid JSON number"),
    ("", "not valid JSON (line 1, column 1"),
])
def test_malformed_documents(text: str, message: str) -> None:
    with pytest.raises(AnswersError) as info:
        parse_answers(text)
    assert message in str(info.value)


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_bytes(b" " * (3 * 1024 * 1024))
    with pytest.raises(AnswersError, match="far too large"):
        load_answers_file(path)


@pytest.mark.parametrize("name", ["demo.json", "complete-pass.json"])
def test_shipped_example_files_are_valid(name: str) -> None:
    answers = load_answers_file(FIXTURES / name)
    raw = json.loads((FIXTURES / name).read_text("utf-8"))["answers"]
    assert answers.keys() == raw.keys()


def test_module_docstring_documents_the_file_format() -> None:
    import auditapp.questionnaire.schema as schema

    doc = schema.__doc__ or ""
    for word in ('"format": "auditapp.answers"', '"version": 1', "yesno", "multichoice", "unanswered", "meta"):
        assert word in doc
    example = doc.split("::", 1)[1].split("\n- ", 1)[0]
    assert parse_answers(textwrap.dedent(example)) == validate_answers(json.loads(textwrap.dedent(example))["answers"])


def test_a_fifo_is_not_read_as_an_answers_file(tmp_path: Path) -> None:
    """Only regular files, as for project files (issue 12): a pipe blocked the reader forever."""
    import os

    fifo = tmp_path / "answers.json"
    os.mkfifo(fifo)
    with pytest.raises(AnswersError, match="pipe"):
        load_answers_file(fifo)
