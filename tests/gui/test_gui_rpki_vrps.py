"""The target page's RPKI VRP file: the project's file, checked as the CLI's --rpki-vrps checks it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from auditapp.core.project import Project

GOOD_JSON = '{"roas": [{"asn": "AS64500", "prefix": "192.0.2.0/24", "maxLength": 24, "ta": "lab"}]}\n'


@pytest.fixture
def target_page(window, ctx):
    ctx.session.new(Project(name="Bäckerei", domain="example.com"))
    window.go("target")
    return window.pages["target"]


@pytest.fixture
def good_vrps(tmp_path: Path) -> Path:
    path = tmp_path / "vrps.json"
    path.write_text(GOOD_JSON, "utf-8")
    return path


def test_an_unparsable_file_shows_the_error_beside_the_field_and_is_not_stored(target_page, ctx, tmp_path: Path,
                                                                                good_vrps: Path) -> None:
    page = target_page
    bad = tmp_path / "bad.json"
    bad.write_text('{"roas": [', "utf-8")
    page.rpki_vrps.edit.setText(str(bad))
    assert not page.rpki_vrps.valid
    assert page.rpki_vrps.error.isVisibleTo(page) and "RPKI-Daten" in page.rpki_vrps.error.text()
    assert "RPKI-Daten (VRPs)" in ctx.input_problems["target"]  # blocks the run
    assert ctx.session.project.rpki_vrps is None

    page.rpki_vrps.edit.setText(str(tmp_path / "missing.json"))
    assert not page.rpki_vrps.valid and "missing.json" in page.rpki_vrps.error.text()

    page.rpki_vrps.edit.setText(str(good_vrps))
    assert page.rpki_vrps.valid and page.rpki_vrps.error.text() == ""
    assert ctx.session.project.rpki_vrps == str(good_vrps)
    assert ctx.input_ok

    page.rpki_vrps.edit.setText("")  # empty: the RPKI rules are not tested
    assert page.rpki_vrps.valid and ctx.session.project.rpki_vrps is None


def test_choose_button_fills_the_field_and_stores_the_file(target_page, ctx, good_vrps: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, str]] = []

    def pick(_parent, title, _directory, file_filter):
        asked.append((title, file_filter))
        return str(good_vrps), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(pick))
    target_page.rpki_vrps_button.click()
    assert asked == [("RPKI-Daten (VRPs) wählen", "VRP-Dateien (*.json *.csv);;Alle Dateien (*)")]
    assert target_page.rpki_vrps.text() == str(good_vrps)
    assert ctx.session.project.rpki_vrps == str(good_vrps)

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *_a: ("", "")))
    target_page.rpki_vrps_button.click()  # cancelled: nothing changes
    assert ctx.session.project.rpki_vrps == str(good_vrps)


def test_the_projects_vrp_file_is_shown_when_a_project_is_opened(window, ctx, good_vrps: Path) -> None:
    ctx.session.new(Project(name="Bäckerei", domain="example.com", rpki_vrps=str(good_vrps)))
    window.go("target")
    page = window.pages["target"]
    assert page.rpki_vrps.text() == str(good_vrps) and page.rpki_vrps.valid
    ctx.session.new(Project(name="Andere", domain="example.org"))
    assert page.rpki_vrps.text() == ""
