"""Validated fields: every input error speaks the GUI's language, and a message never moves a field."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from auditapp.core import validation
from auditapp.core.validation import InputError, normalize_domain
from auditapp.gui import i18n
from auditapp.gui.i18n import texts
from auditapp.gui.pages.target_page import _nameserver, _port
from auditapp.gui.widgets.fields import ValidatedLineEdit, ValidatedListEdit, message_for

#: idna's and the CLI's English that must never reach a German form.
_ENGLISH = re.compile(r"\b(label|empty|codepoint|hyphen|invalid|nameserver|port override|allowed|octets)\b", re.I)


def _raised_codes() -> dict[str, set[str]]:
    """Every code core/validation.py raises with the keyword parameters of that raise."""
    tree = ast.parse(Path(validation.__file__).read_text(encoding="utf-8"))
    codes: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "InputError" \
                and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
            codes.setdefault(node.args[1].value, set()).update(k.arg for k in node.keywords if k.arg)
    # codes that come from a mapping table (idna's errors)
    for code in set(validation._IDNA_CODES.values()) | {"idna", "bidi"}:
        codes.setdefault(code, set())
    codes["bad_char"] = {"char", "codepoint", "position"}
    return codes


def test_every_code_the_rules_raise_has_a_text_with_its_parameters() -> None:
    entries = texts()
    for code, params in _raised_codes().items():
        entry = entries.get(f"widgets.validation.{code}")
        assert entry is not None, f"no GUI text for input error code {code!r}"
        for lang in ("de", "en"):
            fields = {name for _, name, _, _ in string.Formatter().parse(entry[lang]) if name}
            assert fields <= params, (code, lang, fields - params)


@pytest.mark.parametrize("bad", ["a..b.de", "-a.de", "ab--c.de", "a_b.de", "xn--zz.de", "ü" * 58 + ".de",
                                 "a.\u0661\u0662.de", ".".join(["a" * 63] * 4) + ".de"])
def test_domain_errors_are_german_under_de(ctx, bad: str) -> None:
    with pytest.raises(InputError) as caught:
        normalize_domain(bad)
    text = message_for(caught.value)
    assert text and "{" not in text and not _ENGLISH.search(text), text


@pytest.mark.parametrize(("check", "bad"), [
    (_nameserver, "[::1"), (_nameserver, "192.0.2.1:99999"), (_nameserver, "[::1]x"), (_nameserver, "x.example"),
    (_port, "smtp"), (_port, "ftp=21"), (_port, "smtp=0"),
])
def test_resolver_and_port_errors_are_german_under_de(ctx, check, bad: str) -> None:
    with pytest.raises(InputError) as caught:
        check(bad)
    text = message_for(caught.value)
    assert text and not _ENGLISH.search(text), text


def test_the_label_length_message_in_both_languages(ctx) -> None:
    with pytest.raises(InputError) as caught:
        normalize_domain("a" * 64 + ".de")
    assert message_for(caught.value) == "Ein Namensteil ist 64 Zeichen lang; erlaubt sind 63."
    i18n.set_language("en")
    assert message_for(caught.value) == "One label is 64 characters long; 63 are allowed."


def _form(qtbot, field: QWidget) -> tuple[QWidget, QLineEdit]:
    holder = QWidget()
    layout = QVBoxLayout(holder)
    layout.addWidget(field)
    below = QLineEdit()
    layout.addWidget(below)
    layout.addStretch(1)
    qtbot.addWidget(holder)
    holder.resize(700, 300)
    holder.show()
    qtbot.waitExposed(holder)
    return holder, below


@pytest.mark.parametrize("kind", ["line", "list"])
def test_a_message_appearing_moves_no_field(ctx, qtbot, kind: str) -> None:
    field = ValidatedLineEdit(normalize_domain) if kind == "line" else ValidatedListEdit(normalize_domain)
    _holder, below = _form(qtbot, field)
    before = (field.edit.geometry(), below.geometry(), field.error.geometry())
    if kind == "line":
        field.edit.setText("bad..example")
    else:
        field.edit.setPlainText("ok.example\nbad..example")
    qtbot.wait(20)
    assert not field.valid and field.error.text()
    assert field.edit.accessibleDescription() == field.error.text()
    assert (field.edit.geometry(), below.geometry(), field.error.geometry()) == before
    field.edit.setPlainText("") if kind == "list" else field.edit.setText("")
    qtbot.wait(20)
    assert field.valid and not field.error.text()
    assert (field.edit.geometry(), below.geometry()) == before[:2]
