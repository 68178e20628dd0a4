"""Every GUI text exists in German and English with the same placeholders."""

from __future__ import annotations

import string

from auditapp.gui.i18n import LANGS, texts, tr


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
