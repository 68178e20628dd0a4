"""The target page's DNSSEC trust anchor: the project's file, checked as the CLI's --trust-anchor checks it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from auditapp.core.project import Project
from auditapp.dnssec.anchors import IANA_ROOT_DS


@pytest.fixture
def target_page(window, ctx):
    ctx.session.new(Project(name="Bäckerei", domain="example.com"))
    window.go("target")
    return window.pages["target"]


@pytest.fixture
def good_anchor(tmp_path: Path) -> Path:
    path = tmp_path / "root.key"
    path.write_text("\n".join(IANA_ROOT_DS) + "\n", "utf-8")
    return path


def test_an_unparsable_file_shows_the_error_beside_the_field_and_is_not_stored(target_page, ctx, tmp_path: Path,
                                                                                good_anchor: Path) -> None:
    page = target_page
    bad = tmp_path / "bad.key"
    bad.write_text("kein DS-Eintrag\n", "utf-8")
    page.trust_anchor.edit.setText(str(bad))
    assert not page.trust_anchor.valid
    assert page.trust_anchor.error.isVisibleTo(page) and "Vertrauensanker" in page.trust_anchor.error.text()
    assert "DNSSEC-Vertrauensanker" in ctx.input_problems["target"]  # blocks the run
    assert ctx.session.project.trust_anchor is None

    page.trust_anchor.edit.setText(str(tmp_path / "missing.key"))
    assert not page.trust_anchor.valid and "missing.key" in page.trust_anchor.error.text()

    page.trust_anchor.edit.setText(str(good_anchor))
    assert page.trust_anchor.valid and page.trust_anchor.error.text() == ""
    assert ctx.session.project.trust_anchor == str(good_anchor)
    assert ctx.input_ok

    page.trust_anchor.edit.setText("")  # empty: the IANA root keys
    assert page.trust_anchor.valid and ctx.session.project.trust_anchor is None


def test_choose_button_fills_the_field_and_stores_the_file(target_page, ctx, good_anchor: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def pick(_parent, title, _directory, _filter):
        asked.append(title)
        return str(good_anchor), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(pick))
    target_page.trust_anchor_button.click()
    assert asked == ["DNSSEC-Vertrauensanker wählen"]
    assert target_page.trust_anchor.text() == str(good_anchor)
    assert ctx.session.project.trust_anchor == str(good_anchor)

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *_a: ("", "")))
    target_page.trust_anchor_button.click()  # cancelled: nothing changes
    assert ctx.session.project.trust_anchor == str(good_anchor)


def test_the_projects_anchor_is_shown_when_a_project_is_opened(window, ctx, good_anchor: Path) -> None:
    ctx.session.new(Project(name="Bäckerei", domain="example.com", trust_anchor=str(good_anchor)))
    window.go("target")
    page = window.pages["target"]
    assert page.trust_anchor.text() == str(good_anchor) and page.trust_anchor.valid
    ctx.session.new(Project(name="Andere", domain="example.org"))
    assert page.trust_anchor.text() == ""
