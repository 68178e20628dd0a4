"""The Postfix page: imports store exactly what the CLI stores, and nothing when parsing fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditapp.audit.prepare import project_postfix
from auditapp.core.project_io import load_project, save_project
from auditapp.lab.demo import DEMO_DATA
from auditapp.postfix import config_from_texts, read_texts
from auditapp.postfix.parser import PASTED

pytestmark = pytest.mark.gui

DEMO_DIR = DEMO_DATA / "postfix"

POSTCONF_N = """\
compatibility_level = 3.6
myhostname = mx.example.com
maximal_queue_lifetime = 3d
smtpd_tls_security_level = may
"""
POSTCONF_M = "submission inet  n       -       y       -       -       smtpd -o smtpd_tls_security_level=encrypt\n"
POSTCONF_P = "submission/inet/smtpd_sasl_auth_enable = yes\n"


@pytest.fixture
def page(standalone_page):
    from auditapp.gui.pages.postfix_page import PostfixPage

    return standalone_page(PostfixPage)


def table_rows(page) -> dict[str, tuple[str, ...]]:
    """Visible parameter rows: name -> (effective value, written as, source)."""
    out = {}
    for row in range(page.table.rowCount()):
        if page.table.isRowHidden(row):
            continue
        cells = [page.table.item(row, col).text() for col in range(page.table.columnCount())]
        out[cells[0]] = tuple(cells[1:])
    return out


def test_empty_project_shows_no_configuration(page) -> None:
    assert page.ctx.session.project.postfix_config is None
    assert page.table.rowCount() == 0
    assert not page.remove_button.isEnabled()
    assert "Keine Postfix-Konfiguration" in page.origin_label.text()


def test_import_demo_directory_shows_values_with_file_and_line(page) -> None:
    assert page.import_path(DEMO_DIR)
    stored = page.ctx.session.project.postfix_config
    assert stored == {"origin": str(DEMO_DIR.resolve()), "files": read_texts(DEMO_DIR)}  # as the CLI stores it
    assert set(stored["files"]) == {"main.cf", "master.cf"}
    rows = table_rows(page)
    main_cf = (DEMO_DIR / "main.cf").read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(main_cf, start=1) if text.startswith("myhostname"))
    assert rows["myhostname"] == ("mail.firma.local", "", f"main.cf:{line}")
    # A $macro shows its expansion and how it was written.
    assert rows["myorigin"][0] == "beispiel-gmbh.example"
    assert rows["myorigin"][1] == "$mydomain"
    assert str(DEMO_DIR.resolve()) in page.origin_label.text()
    assert page.remove_button.isEnabled()
    assert page.banner.kind == "ok"
    assert page.ctx.session.modified


def test_services_show_master_cf_overrides(page) -> None:
    page.import_path(DEMO_DIR)
    tops = {page.services.topLevelItem(i).text(0): page.services.topLevelItem(i)
            for i in range(page.services.topLevelItemCount())}
    submission = tops["submission/inet"]
    children = {submission.child(i).text(0): submission.child(i) for i in range(submission.childCount())}
    override = children["-o smtpd_tls_security_level"]
    assert override.text(2) == "encrypt"
    assert override.text(3).startswith("master.cf:")


def test_show_defaults_adds_default_rows_marked_as_default(page) -> None:
    page.import_path(DEMO_DIR)
    assert "maximal_queue_lifetime" not in table_rows(page)
    page.show_defaults.setChecked(True)
    value, _written, source = table_rows(page)["maximal_queue_lifetime"]
    assert value == "5d"
    assert source.startswith("Standard")


def test_search_filters_the_table(page, qtbot) -> None:
    page.import_path(DEMO_DIR)
    qtbot.keyClicks(page.search, "tls")
    rows = table_rows(page)
    assert rows and all("tls" in " ".join((name, *cells)).lower() for name, cells in rows.items())
    assert "myhostname" not in rows
    page.search.clear()
    assert "myhostname" in table_rows(page)


def test_pasted_postconf_output_is_parsed_and_stored(page, qtbot) -> None:
    text = POSTCONF_N + POSTCONF_M + POSTCONF_P
    page.paste.setPlainText(text)
    assert page.apply_button.isEnabled()
    page.apply_button.click()
    stored = page.ctx.session.project.postfix_config
    assert stored == {"origin": PASTED, "files": {"text": text}}
    rows = table_rows(page)
    assert rows["myhostname"] == ("mx.example.com", "", "postconf -n Zeile 2")  # the window's language
    assert rows["maximal_queue_lifetime"][0] == "3d"
    config = project_postfix(page.ctx.session.project)
    svc = config.service("submission", "inet")
    assert svc.effective("smtpd_sasl_auth_enable").expanded == "yes"
    assert page.paste.toPlainText() == ""  # applied text leaves the box
    assert "eingefügter Text" in page.origin_label.text()


def test_broken_paste_shows_error_and_stores_nothing(page) -> None:
    page.import_path(DEMO_DIR)
    before = page.ctx.session.project.postfix_config
    broken = "myhostname = mx.example.com\nthis line is no setting at all\n"
    page.paste.setPlainText(broken)
    assert not page.apply_paste()
    assert page.ctx.session.project.postfix_config == before
    assert page.banner.kind == "error"
    assert "line 2" in page.banner.text()
    assert "nichts geändert" in page.banner.text()
    assert page.paste.toPlainText() == broken  # kept for fixing
    assert page.paste.textCursor().blockNumber() == 1  # cursor on the offending line
    assert table_rows(page)["myhostname"][0] == "mail.firma.local"  # still the demo configuration


def test_broken_paste_into_empty_project_stores_nothing(page) -> None:
    page.paste.setPlainText("not a config\n")
    page.apply_button.click()
    assert page.ctx.session.project.postfix_config is None
    assert page.banner.kind == "error"


def test_import_files_main_and_master(page) -> None:
    assert page.import_files([DEMO_DIR / "main.cf", DEMO_DIR / "master.cf"])
    stored = page.ctx.session.project.postfix_config
    assert stored["files"] == read_texts(DEMO_DIR)
    assert len(config_from_texts(stored["files"], stored["origin"]).services) > 0


def test_import_master_cf_alone_is_refused(page) -> None:
    assert not page.import_files([DEMO_DIR / "master.cf"])
    assert page.ctx.session.project.postfix_config is None
    assert page.banner.kind == "error"


def test_import_postconf_output_file(page, tmp_path: Path) -> None:
    out = tmp_path / "postconf.txt"
    out.write_text(POSTCONF_N, encoding="utf-8")
    assert page.import_files([out])
    assert page.ctx.session.project.postfix_config == {"origin": str(out.resolve()), "files": {"text": POSTCONF_N}}


def test_directory_without_main_cf_is_refused(page, tmp_path: Path) -> None:
    assert not page.import_path(tmp_path)
    assert page.ctx.session.project.postfix_config is None
    assert "main.cf" in page.banner.text()


def test_import_via_dialog(page, monkeypatch) -> None:
    monkeypatch.setattr(page, "ask_directory", lambda: str(DEMO_DIR))
    page.dir_button.click()
    assert page.ctx.session.project.postfix_config["files"] == read_texts(DEMO_DIR)


def test_replacing_asks_first(page, monkeypatch) -> None:
    page.import_path(DEMO_DIR)
    monkeypatch.setattr(page, "confirm", lambda title, text: False)
    page.paste.setPlainText(POSTCONF_N)
    assert not page.apply_paste()
    assert page.ctx.session.project.postfix_config["files"] == read_texts(DEMO_DIR)


def test_remove(page, monkeypatch) -> None:
    page.import_path(DEMO_DIR)
    monkeypatch.setattr(page, "confirm", lambda title, text: False)
    page.remove_button.click()
    assert page.ctx.session.project.postfix_config is not None
    monkeypatch.setattr(page, "confirm", lambda title, text: True)
    page.remove_button.click()
    assert page.ctx.session.project.postfix_config is None
    assert page.table.rowCount() == 0
    assert page.services.topLevelItemCount() == 0
    assert not page.remove_button.isEnabled()


def test_saved_project_keeps_the_configuration(page, tmp_path: Path) -> None:
    text = POSTCONF_N + POSTCONF_M
    page.paste.setPlainText(text)
    page.apply_paste()
    path = tmp_path / "client.auditproj"
    save_project(page.ctx.session.project, path)
    reloaded = load_project(path)
    assert reloaded.postfix_config == {"origin": PASTED, "files": {"text": text}}
    assert project_postfix(reloaded).get("myhostname").expanded == "mx.example.com"
    page.ctx.session.open(path)  # the page shows what the reopened project holds
    assert table_rows(page)["myhostname"][0] == "mx.example.com"


def test_demo_project_is_shown_on_open(page, ctx, demo_run_project) -> None:
    ctx.session.new(demo_run_project)
    assert table_rows(page)["myhostname"][0] == "mail.firma.local"
    assert "Beispiel GmbH" in page.origin_label.text()


def test_stored_configuration_that_no_longer_parses_is_reported(page, ctx) -> None:
    ctx.session.edit(lambda p: setattr(p, "postfix_config", {"origin": "old", "files": {"text": "garbage line\n"}}))
    assert page.banner.kind == "error"
    assert page.remove_button.isEnabled()
    assert page.table.rowCount() == 0


@pytest.mark.parametrize("gui_lang", ["en"], indirect=True)
def test_english_texts(page) -> None:
    page.import_path(DEMO_DIR)
    page.show_defaults.setChecked(True)
    assert table_rows(page)["maximal_queue_lifetime"][2].startswith("default")
    assert page.tabs.tabText(0) == "Parameters"


def test_import_warnings_and_expansion_problems_read_german(page) -> None:
    """The parser's warnings keep their English as evidence; the window writes them in its language."""
    text = "  leading = whitespace\nmyhostname = mail.example.com\nmydomain = $mydomain\n"
    page.paste.setPlainText(text)
    assert page.apply_paste()
    shown = [page.warnings.item(i).text() for i in range(page.warnings.count())]
    assert any("Zeile 1" in w and "Leerraum" in w for w in shown), shown
    assert not any("line 1" in w or "whitespace" in w for w in shown)
    rows = table_rows(page)
    assert "mydomain" in rows
    stored = page.config.warnings
    assert any("must not start with whitespace" in w for w in stored)  # the evidence stays English


def test_every_source_reads_in_the_window_language_and_matches_the_module_in_english() -> None:
    """Provenance of a value (issue 16 follow-up): German words in German, the module's own text in English."""
    from auditapp.gui import i18n
    from auditapp.gui.pages.postfix_page import source_text
    from auditapp.postfix import Source

    sources = [Source("main.cf", 12, "main.cf"), Source("master.cf", 3, "master.cf", override=True),
               Source("main.cf", 7, PASTED), Source("master.cf", 4, PASTED, override=True),
               Source("postconf -n", 2, PASTED), Source("postconf -P", 9, "postconf.txt", override=True),
               Source("postconf -M", 1, "postconf.txt")]
    previous = i18n.language()
    try:
        i18n.set_language("en")
        assert [source_text(s) for s in sources] == [str(s) for s in sources]
        i18n.set_language("de")
        german = [source_text(s) for s in sources]
    finally:
        i18n.set_language(previous)
    assert german[0] == "main.cf:12" and german[1] == "master.cf:3 (-o)"
    assert german[2] == "main.cf Zeile 7 (eingefügt)" and german[3] == "master.cf Zeile 4 (-o, eingefügt)"
    assert german[4] == "postconf -n Zeile 2"
    assert german[5] == "postconf -P Zeile 9 in postconf.txt"
    assert not any(word in text for text in german for word in (" line ", "pasted"))
