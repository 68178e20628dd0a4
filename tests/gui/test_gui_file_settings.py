"""The target page's file settings (DNSSEC trust anchor, RPKI VRPs): each checked as its CLI option checks it.

One table, one set of tests: both fields are a ValidatedLineEdit with a Choose button, stored in
the project only when the file parses, and shown again when a project is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from auditapp.core.project import Project
from auditapp.dnssec.anchors import IANA_ROOT_DS


@dataclass(frozen=True)
class FileSetting:
    field: str  # the page's widget and the project's attribute
    suffix: str
    good: str
    bad: str
    error_word: str  # in the error beside the field
    problem_label: str  # in the page's input problems (blocks the run)
    dialog_title: str
    dialog_filter: str | None  # None: not asserted


SETTINGS = [
    FileSetting("trust_anchor", ".key", "\n".join(IANA_ROOT_DS) + "\n", "kein DS-Eintrag\n", "Vertrauensanker",
                "DNSSEC-Vertrauensanker", "DNSSEC-Vertrauensanker wählen", None),
    FileSetting("rpki_vrps", ".json",
                '{"roas": [{"asn": "AS64500", "prefix": "192.0.2.0/24", "maxLength": 24, "ta": "lab"}]}\n',
                '{"roas": [', "RPKI-Daten", "RPKI-Daten (VRPs)", "RPKI-Daten (VRPs) wählen",
                "VRP-Dateien (*.json *.csv);;Alle Dateien (*)"),
]
IDS = [s.field for s in SETTINGS]


@pytest.fixture
def target_page(window, ctx):
    ctx.session.new(Project(name="Bäckerei", domain="example.com"))
    window.go("target")
    return window.pages["target"]


def _good(tmp_path: Path, s: FileSetting) -> Path:
    path = tmp_path / f"good{s.suffix}"
    path.write_text(s.good, "utf-8")
    return path


@pytest.mark.parametrize("s", SETTINGS, ids=IDS)
def test_an_unparsable_file_shows_the_error_beside_the_field_and_is_not_stored(target_page, ctx, tmp_path: Path,
                                                                                s: FileSetting) -> None:
    field = getattr(target_page, s.field)
    bad = tmp_path / f"bad{s.suffix}"
    bad.write_text(s.bad, "utf-8")
    field.edit.setText(str(bad))
    assert not field.valid
    assert field.error.isVisibleTo(target_page) and s.error_word in field.error.text()
    assert s.problem_label in ctx.input_problems["target"]  # blocks the run
    assert getattr(ctx.session.project, s.field) is None

    field.edit.setText(str(tmp_path / f"missing{s.suffix}"))
    assert not field.valid and f"missing{s.suffix}" in field.error.text()

    good = _good(tmp_path, s)
    field.edit.setText(str(good))
    assert field.valid and field.error.text() == ""
    assert getattr(ctx.session.project, s.field) == str(good)
    assert ctx.input_ok

    field.edit.setText("")  # empty: the IANA root keys / the RPKI rules not tested
    assert field.valid and getattr(ctx.session.project, s.field) is None


@pytest.mark.parametrize("s", SETTINGS, ids=IDS)
def test_choose_button_fills_the_field_and_stores_the_file(target_page, ctx, tmp_path: Path, s: FileSetting,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    good = _good(tmp_path, s)
    asked: list[tuple[str, str]] = []

    def pick(_parent, title, _directory, file_filter):
        asked.append((title, file_filter))
        return str(good), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(pick))
    getattr(target_page, f"{s.field}_button").click()
    assert [t for t, _f in asked] == [s.dialog_title]
    if s.dialog_filter is not None:
        assert asked[0][1] == s.dialog_filter
    assert getattr(target_page, s.field).text() == str(good)
    assert getattr(ctx.session.project, s.field) == str(good)

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *_a: ("", "")))
    getattr(target_page, f"{s.field}_button").click()  # cancelled: nothing changes
    assert getattr(ctx.session.project, s.field) == str(good)


@pytest.mark.parametrize("s", SETTINGS, ids=IDS)
def test_the_projects_file_is_shown_when_a_project_is_opened(window, ctx, tmp_path: Path, s: FileSetting) -> None:
    good = _good(tmp_path, s)
    ctx.session.new(Project(name="Bäckerei", domain="example.com", **{s.field: str(good)}))
    window.go("target")
    page = window.pages["target"]
    assert getattr(page, s.field).text() == str(good) and getattr(page, s.field).valid
    ctx.session.new(Project(name="Andere", domain="example.org"))
    assert getattr(page, s.field).text() == ""
