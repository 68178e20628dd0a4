"""The questionnaire page: generated from the catalog, answers written through the session.

Widgets are driven as a user would (clicking radio buttons, choosing combo entries, ticking
boxes); assertions are on ``project.answers``, which is what the audit and the report read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from auditapp.gui.questionnaire_form import ChoiceInput, MultiChoiceInput, NumberInput, TextInput, YesNoInput
from auditapp.lab.demo import DEMO_DATA
from auditapp.questionnaire import load_answers_file, questionnaire

pytestmark = pytest.mark.gui

DEMO_ANSWERS = DEMO_DATA / "answers.json"


@pytest.fixture
def page(standalone_page):
    from auditapp.gui.pages.questionnaire_page import QuestionnairePage

    return standalone_page(QuestionnairePage)


def answers(page) -> dict:
    return page.ctx.session.project.answers


def test_one_input_per_catalog_question_of_the_right_kind(page) -> None:
    q = questionnaire()
    assert list(page.form.inputs) == list(q.questions)
    kinds = {"yesno": YesNoInput, "choice": ChoiceInput, "multichoice": MultiChoiceInput, "text": TextInput,
             "number": NumberInput}
    for qid, field in page.form.inputs.items():
        assert isinstance(field, kinds[q[qid].type]), qid
        assert field.value() is None, qid  # a new project: everything unanswered
    assert set(page.form.boxes) == set(q.topics)


def test_help_texts_are_shown_in_the_gui_language(page) -> None:
    q = questionnaire()
    for qid, row in page.form.rows.items():
        assert row.help.text() == q[qid].help.de
        assert row.title.text() == q[qid].title.de


def test_yesno_writes_bool_and_not_answered_removes_the_key(page, qtbot) -> None:
    field = page.form.inputs["private_use.works_council"]
    assert isinstance(field, YesNoInput)
    qtbot.mouseClick(field.no, Qt.MouseButton.LeftButton)
    assert answers(page)["private_use.works_council"] is False
    assert page.ctx.session.modified
    qtbot.mouseClick(field.yes, Qt.MouseButton.LeftButton)
    assert answers(page)["private_use.works_council"] is True
    qtbot.mouseClick(field.unanswered, Qt.MouseButton.LeftButton)
    assert "private_use.works_council" not in answers(page)


def test_choice_writes_key_and_not_answered_removes_it(page) -> None:
    field = page.form.inputs["private_use.status"]
    assert isinstance(field, ChoiceInput)
    assert field.combo.itemText(0) == "— nicht beantwortet —"
    field.combo.setCurrentIndex(field.combo.findData("tolerated"))
    assert answers(page)["private_use.status"] == "tolerated"
    assert field.description.text() == questionnaire()["private_use.status"].choice("tolerated").description.de
    field.combo.setCurrentIndex(0)
    assert "private_use.status" not in answers(page)


def test_multichoice_distinguishes_unanswered_from_none(page, qtbot) -> None:
    page.form.inputs["private_use.status"].combo.setCurrentIndex(
        page.form.inputs["private_use.status"].combo.findData("allowed"))
    page.form.inputs["private_use.policy"].combo.setCurrentIndex(
        page.form.inputs["private_use.policy"].combo.findData("guideline"))
    field = page.form.inputs["private_use.policy_topics"]
    assert isinstance(field, MultiChoiceInput)
    assert "private_use.policy_topics" not in answers(page)
    keys = list(field.boxes)
    field.boxes[keys[1]].click()
    field.boxes[keys[0]].click()
    assert answers(page)["private_use.policy_topics"] == [keys[0], keys[1]]  # catalog order
    field.boxes[keys[0]].click()
    field.boxes[keys[1]].click()
    assert answers(page)["private_use.policy_topics"] == []  # answered: none of these
    QApplication.processEvents()  # lay out the row that just appeared, so the click lands on the button
    qtbot.mouseClick(field.reset_button, Qt.MouseButton.LeftButton)
    assert "private_use.policy_topics" not in answers(page)
    qtbot.mouseClick(field.none_button, Qt.MouseButton.LeftButton)
    assert answers(page)["private_use.policy_topics"] == []


def test_number_within_range_and_reset(page, qtbot) -> None:
    page.form.inputs["archive.system"].combo.setCurrentIndex(page.form.inputs["archive.system"].combo.findData("gobd"))
    field = page.form.inputs["archive.retention_years"]
    assert isinstance(field, NumberInput)
    q = questionnaire()["archive.retention_years"]
    assert field.spin.maximum() == q.maximum
    field.spin.setValue(8)
    assert answers(page)["archive.retention_years"] == 8
    assert type(answers(page)["archive.retention_years"]) is int
    field.spin.setValue(10_000)  # clamped to the catalog's range by the spin box
    assert answers(page)["archive.retention_years"] == q.maximum
    qtbot.mouseClick(field.reset_button, Qt.MouseButton.LeftButton)
    assert "archive.retention_years" not in answers(page)
    field.spin.setValue(0)  # 0 is an answer, distinct from "not answered"
    assert answers(page)["archive.retention_years"] == 0


def test_text_empty_means_unanswered(page) -> None:
    page.form.inputs["archive.system"].combo.setCurrentIndex(page.form.inputs["archive.system"].combo.findData("gobd"))
    field = page.form.inputs["archive.product"]
    assert isinstance(field, TextInput)
    field.edit.setText("MailStore Server")
    assert answers(page)["archive.product"] == "MailStore Server"
    field.edit.setText("   ")
    assert "archive.product" not in answers(page)


def test_conditional_questions_follow_their_condition(page) -> None:
    q = questionnaire()
    dependent = [qid for qid, question in q.questions.items() if question.show_if is not None]
    assert dependent, "the catalog has show_if conditions"
    form = page.form
    for qid in dependent:
        assert not form.is_shown(qid), qid  # nothing answered: every conditional question is hidden
    status = form.inputs["private_use.status"].combo
    status.setCurrentIndex(status.findData("forbidden"))
    assert form.is_shown("private_use.ban_enforced")
    assert form.rows["private_use.ban_enforced"].isVisible()
    status.setCurrentIndex(status.findData("allowed"))
    assert not form.is_shown("private_use.ban_enforced")
    assert not form.rows["private_use.ban_enforced"].isVisible()
    # Chained condition: policy_topics depends on policy, which depends on status.
    policy = form.inputs["private_use.policy"].combo
    policy.setCurrentIndex(policy.findData("guideline"))
    assert form.is_shown("private_use.policy_topics")
    status.setCurrentIndex(0)
    assert not form.is_shown("private_use.policy")
    assert not form.is_shown("private_use.policy_topics")


def test_progress_counts_visible_questions(page) -> None:
    q = questionnaire()
    visible = [qid for qid in q.questions if q.visible(qid, {})]
    assert page.progress_label.text() == f"0 von {len(visible)} beantwortet"
    page.form.inputs["compliance.nis2"].combo.setCurrentIndex(
        page.form.inputs["compliance.nis2"].combo.findData("in_scope"))
    # The answer counts, and the now-visible follow-up question joins the total.
    assert page.progress_label.text() == f"1 von {len(visible) + 1} beantwortet"


def test_import_demo_answers_fills_the_form(page) -> None:
    expected = load_answers_file(DEMO_ANSWERS)
    assert page.import_file(DEMO_ANSWERS)
    assert answers(page) == expected
    for qid, value in expected.items():
        assert page.form.inputs[qid].value() == value, qid
    assert page.banner.kind == "ok"
    total = sum(1 for qid in questionnaire().questions if questionnaire().visible(qid, expected))
    assert page.progress_label.text() == f"{len(expected)} von {total} beantwortet"


@pytest.mark.parametrize("content", [
    "{not json",
    json.dumps({"format": "something.else", "version": 1, "answers": {}}),
    json.dumps({"format": "auditapp.answers", "version": 1, "answers": {"private_use.status": "sometimes"}}),
    json.dumps({"format": "auditapp.answers", "version": 1, "answers": {"no_such.question": True}}),
])
def test_damaged_answers_file_shows_error_and_changes_nothing(page, tmp_path: Path, content: str) -> None:
    page.import_file(DEMO_ANSWERS)
    before = dict(answers(page))
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    assert not page.import_file(bad)
    assert answers(page) == before
    assert page.banner.kind == "error"
    assert page.banner.isVisible()
    assert "nicht übernommen" in page.banner.text()
    assert str(bad) in page.banner.text()


def test_export_round_trips(page, tmp_path: Path) -> None:
    page.import_file(DEMO_ANSWERS)
    page.form.inputs["archive.retention_years"].spin.setValue(6)
    out = tmp_path / "export.json"
    assert page.export_file(out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "auditapp.answers" and doc["version"] == 1
    assert load_answers_file(out) == answers(page)
    assert doc["answers"]["archive.retention_years"] == 6
    page.clear_all()
    assert answers(page) == {}
    assert page.import_file(out)
    assert answers(page)["archive.retention_years"] == 6


def test_clear_all_asks_first(page, monkeypatch) -> None:
    page.import_file(DEMO_ANSWERS)
    monkeypatch.setattr(page, "confirm", lambda title, text: False)
    page.clear_button.click()
    assert answers(page)
    monkeypatch.setattr(page, "confirm", lambda title, text: True)
    page.clear_button.click()
    assert answers(page) == {}
    assert all(field.value() is None for field in page.form.inputs.values())


def test_import_via_dialog_uses_the_chosen_file(page, monkeypatch) -> None:
    monkeypatch.setattr(page, "ask_open_path", lambda: str(DEMO_ANSWERS))
    page.import_button.click()
    assert answers(page) == load_answers_file(DEMO_ANSWERS)


def test_edits_elsewhere_and_project_switch_reload_the_form(page, ctx, demo_run_project) -> None:
    ctx.session.edit(lambda p: p.answers.__setitem__("compliance.nis2", "unknown"), None)
    assert page.form.inputs["compliance.nis2"].value() == "unknown"
    ctx.session.new(demo_run_project)
    assert page.form.inputs["signature.legal_form"].value() == demo_run_project.answers["signature.legal_form"]
    ctx.session.close()
    assert not page.form.isEnabled()


def test_inputs_have_accessible_names(page) -> None:
    for field in page.form.inputs.values():
        named = [w for w in field.findChildren(object) if hasattr(w, "accessibleName") and w.accessibleName()]
        assert named, field.question.id


@pytest.mark.parametrize("gui_lang", ["en"], indirect=True)
def test_english_texts(page) -> None:
    q = questionnaire()
    field = page.form.inputs["private_use.status"]
    assert field.combo.itemText(0) == "— not answered —"
    assert page.form.rows["private_use.status"].title.text() == q["private_use.status"].title.en
    assert "answered" in page.progress_label.text()
