"""GUI texts in German and English, switchable while the program runs.

The GUI's strings live in ``auditapp/gui/texts/*.toml`` (one file per page or dialog, each
with its own top-level table, so two pages never edit the same file), in the same
``{ de = "...", en = "..." }`` shape as the rule catalog and the report boilerplate. One
format for every translated text means one review path for translators and no compile step;
Qt Linguist would add a second toolchain just for the window. Qt's own dialogs (file
dialogs, message-box buttons) are translated by Qt's shipped ``qtbase_*.qm`` catalogs,
installed here with a :class:`QTranslator`.

:func:`tr` never raises: a missing key shows as ``[key]`` so a gap is visible in a
screenshot and caught by the test that walks every key, instead of crashing a dialog.
"""

from __future__ import annotations

import string
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

LANGS = ("de", "en")
#: Widget property: the language a widget's content is in whatever the GUI language (the English
#: footer of a branding profile). The test that looks for English on German screens skips them.
CONTENT_LANGUAGE = "auditapp_content_language"
_TEXTS_DIR = Path(__file__).with_name("texts")
_state = {"lang": "de"}


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _flatten(data: dict[str, Any], prefix: str, out: dict[str, dict[str, str]], source: str) -> None:
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and set(value) == set(LANGS) and all(isinstance(v, str) for v in value.values()):
            if full in out:
                raise ValueError(f"{source}: GUI text {full} is defined twice")
            out[full] = value
        elif isinstance(value, dict):
            _flatten(value, full + ".", out, source)
        else:
            raise ValueError(f"{source}: {full} must be a table with exactly 'de' and 'en'")


@cache
def texts() -> dict[str, dict[str, str]]:
    """Every GUI text by dotted key; the top-level table of each file must be its file name."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(_TEXTS_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if set(data) != {path.stem}:
            raise ValueError(f"{path.name}: the only top-level table must be [{path.stem}]")
        _flatten(data, "", out, path.name)
    return out


def language() -> str:
    return _state["lang"]


def set_language(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unsupported GUI language {lang!r}")
    _state["lang"] = lang


def tr(key: str, **params: Any) -> str:
    """The text for ``key`` in the current GUI language, with ``{name}`` placeholders filled."""
    return tr_in(_state["lang"], key, **params)


def tr_in(lang: str, key: str, **params: Any) -> str:
    """The text for ``key`` in ``lang`` (for a table that renders a run in a chosen language)."""
    entry = texts().get(key)
    if entry is None:
        return f"[{key}]"
    template = entry[lang if lang in LANGS else _state["lang"]]
    if not params:
        return template
    return string.Formatter().vformat(template, (), _Params(params))


def shortcut_text(keys: str) -> str:
    """A key sequence as the user's keyboard labels it ("Strg+R" under German Qt translations)."""
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)


def system_language() -> str:
    """German when the desktop is German, else English (what a first start should pick)."""
    import locale
    import os

    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var, "")
        if value:
            return "de" if value.lower().startswith("de") else "en"
    try:
        code = locale.getlocale()[0] or ""
    except ValueError:
        code = ""
    return "de" if code.lower().startswith("de") else "en"


_translators: list[QTranslator] = []


def install_translators(app: QApplication, lang: str) -> None:
    """Qt's own dialogs (file dialogs, message-box buttons) in ``lang``; English needs none."""
    for old in _translators:
        app.removeTranslator(old)
    _translators.clear()
    QLocale.setDefault(QLocale(QLocale.Language.German if lang == "de" else QLocale.Language.English))
    if lang == "en":
        return
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for name in ("qtbase", "qt"):
        translator = QTranslator(app)
        if translator.load(f"{name}_{lang}", folder):
            app.installTranslator(translator)
            _translators.append(translator)
