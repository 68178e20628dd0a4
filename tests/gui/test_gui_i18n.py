"""Every GUI text exists in German and English with the same placeholders."""

from __future__ import annotations

import re
import string

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from screen_texts import ENGLISH_WORDS, ScreenText, english_words, screen_texts

from auditapp.core.project import Project
from auditapp.gui.i18n import LANGS, install_translators, texts, tr


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_text_has_both_languages_and_matching_placeholders() -> None:
    entries = texts()
    assert len(entries) > 100
    for key, entry in entries.items():
        assert set(entry) == set(LANGS), key
        assert _fields(entry["de"]) == _fields(entry["en"]), key


def test_missing_keys_are_visible_not_fatal() -> None:
    assert tr("no.such.key") == "[no.such.key]"


# -- German screens carry no English ------------------------------------------------------------




#: Texts that are the same in both languages on purpose and read as English words.
_SAME_ON_PURPOSE = {"window.menu.audit", "window.nav.run", "window.nav.postfix"}


def test_no_german_text_is_an_untranslated_copy_of_the_english() -> None:
    copies = [key for key, entry in texts().items()
              if entry["de"] == entry["en"] and key not in _SAME_ON_PURPOSE and english_words(entry["de"])]
    assert not copies, copies


def _project_values(project: Project) -> set[str]:
    """Strings from the project and its runs' subjects: values, not words of the interface."""
    doc = project.to_json()
    doc.pop("runs", None)
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, str):
            found.add(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                found.add(str(key))
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    for text in (project.postfix_config or {}).get("files", {}).values():
        found.update(text.split())  # the configuration's own words ("yes", "discard")
    for run in project.runs:
        found.update(f.subject for f in run.findings)
    return found


def _dialogs(ctx, window: QWidget, project: Project) -> list[QDialog]:
    from auditapp.gui.dialogs.error_dialog import ErrorDialog
    from auditapp.gui.dialogs.new_project import NewProjectDialog
    from auditapp.gui.dialogs.recovery import recovery_box
    from auditapp.gui.dialogs.review_dialogs import AcceptRiskDialog, CommentDialog, SeverityDialog
    from auditapp.gui.dialogs.settings_dialog import SettingsDialog
    from auditapp.gui.session import Recovery

    finding = next(f for f in project.runs[-1].findings if f.status.value == "fail")
    box, _ = recovery_box(Recovery(ctx.home / "r.auditproj", None, "2026-11-28T13:02:07+00:00", "Kunde"), window)
    return [SettingsDialog(ctx, window), NewProjectDialog(ctx, window), AcceptRiskDialog(ctx, finding, window),
            CommentDialog(ctx, finding, window), SeverityDialog(ctx, finding, window),
            ErrorDialog("Traceback ...", ctx.home / "logs" / "auditapp.log", window), box]


def _german_screens(ctx, window, qtbot, project: Project) -> list[ScreenText]:
    """Every page with the demo project and its run, then the dialogs, then the start page alone."""
    ctx.session.new(project)
    shown: list[ScreenText] = []
    for key, page in window.pages.items():
        window.go(key)
        qtbot.wait(30)
        if key == "findings" and page.proxy.rowCount():
            page.table.selectRow(0)
        if key == "postfix":
            page.show_defaults.setChecked(True)  # the defaults' provenance is words too
        qtbot.wait(10)
    shown += screen_texts(window)
    for dialog in _dialogs(ctx, window, project):
        dialog.show()
        qtbot.wait(10)
        shown += screen_texts(dialog)
        dialog.close()
        dialog.deleteLater()
    ctx.session.close()
    window.go("welcome")
    qtbot.wait(10)
    shown += screen_texts(window.pages["welcome"])
    return shown


@pytest.fixture
def qt_in_german(qapp):
    install_translators(qapp, "de")  # Qt's own buttons (Abbrechen, Schließen) as the application has them
    yield
    install_translators(qapp, "en")


def test_german_screens_show_no_english(ctx, window, qtbot, qt_in_german, demo_run_project: Project) -> None:
    values = _project_values(demo_run_project)
    shown = _german_screens(ctx, window, qtbot, demo_run_project)
    found = [f"{text} -> {words}" for text in shown if (words := english_words(text.text, values))]
    found += [f"{text} -> a German keyboard says Strg" for text in shown if "Ctrl+" in text.text]
    assert not found, "English on German screens:\n" + "\n".join(sorted(set(found)))


def test_the_english_check_finds_english() -> None:
    assert english_words("Empty Label") == ["Empty", "Label"]
    assert english_words("Datei wählen") == []
    assert english_words("Quelle: „auditapp report --password-from-keyring“ mail.example.com") == []
    assert "the" in ENGLISH_WORDS and "was" not in ENGLISH_WORDS  # "was" is German too


@pytest.mark.parametrize("lang", ["de", "en"])
def test_placeholders_are_one_line_and_marked_as_examples(ctx, window, qtbot, lang: str,
                                                          demo_run_project: Project) -> None:
    """A placeholder never reads as a value: one line, an example starts with "z. B." / "e.g."."""
    i18n_lang = {"de": ("z. B. ", "(Design)"), "en": ("e.g. ", "(theme)")}[lang]
    window.set_language(lang)
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the pages of the other language
    ctx.session.new(demo_run_project)
    looks_like_value = re.compile(r"\w\.\w|\d")
    bad = []
    roots = [window, *_dialogs(ctx, window, demo_run_project)]
    for root in roots:
        for text in screen_texts(root, cells=False):
            if text.kind != "placeholder":
                continue
            if "\n" in text.text:
                bad.append(f"two lines: {text}")
            elif looks_like_value.search(text.text) and not (text.text.startswith(i18n_lang[0])
                                                             or text.text.endswith(i18n_lang[1])
                                                             or "(Strg+F)" in text.text or "(Ctrl+F)" in text.text):
                bad.append(f"reads as a value: {text}")
    for root in roots[1:]:
        root.deleteLater()
    assert not bad, "\n".join(bad)
    target = window.pages["target"]
    assert target.mx_hosts.edit.placeholderText() == (
        "z. B. mx1.beispiel.de (leer: aus dem DNS)" if lang == "de" else "e.g. mx1.example.com (empty: from DNS)")
    assert target.server_ips.edit.placeholderText().startswith(i18n_lang[0] + "192.0.2.10")


def test_every_postfix_default_note_has_german_words(ctx) -> None:
    """The Postfix page shows where a default comes from; the module writes that note in English."""
    from pathlib import Path

    from auditapp.gui.pages.postfix_page import note_text
    from auditapp.postfix import config as postfix_config
    from auditapp.postfix.defaults import default_for, known_names

    notes = set(re.findall(r'note="([^"]+)"', Path(postfix_config.__file__).read_text(encoding="utf-8")))
    for name in known_names():
        for compat in ((0,), (2,), (3, 6), (3, 11)):
            for version in (None, (3, 7), (3, 9), (3, 11)):
                value = default_for(name, compat, version)
                if value is not None:
                    notes.add(value.note)
    untranslated = [note for note in notes if english_words(note_text(note))]
    assert not untranslated, untranslated
    assert note_text("the system's host name (FQDN), unknown offline").startswith("der Hostname des Systems")
