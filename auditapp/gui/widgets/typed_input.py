"""Text the user is typing survives a language switch.

The window switches language by building its pages again (no retranslate methods to forget).
A value that is stored in the project comes back with the project, but an unfinished one did
not: an invalid host name still being corrected, a search, a pasted Postfix configuration not
yet applied, a password not yet stored (issue 14). :func:`capture` takes what the old pages
show before they go, :func:`restore` puts it into the new ones and gives the focus back.

Fields are matched by page and by their order among the page's editable fields; the language
changes texts, never which fields a page has. A page whose fields differ (say, a questionnaire
that grew a question) is left as it loaded, rather than filling text into the wrong field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QPlainTextEdit, QWidget

from auditapp.gui.widgets.fields import ValidatedLineEdit, ValidatedListEdit

Editable = QLineEdit | QPlainTextEdit


@dataclass(frozen=True)
class _Typed:
    kind: str
    text: str
    unsaved: bool  # not what the project holds: invalid input, or a field nothing stores
    cursor: int


@dataclass
class TypedInput:
    """The editable fields of every page, in order, and which one had the keyboard focus."""

    pages: dict[str, list[_Typed]] = field(default_factory=dict)
    focus: tuple[str, int] | None = None


def _editables(page: QWidget) -> list[Editable]:
    """The fields a user types into; the line edits inside spin boxes and combo boxes are not."""
    found: list[Editable] = []
    for widget in page.findChildren(QWidget):
        if not isinstance(widget, QLineEdit | QPlainTextEdit) or widget.isReadOnly():
            continue
        if isinstance(widget.parentWidget(), QAbstractSpinBox | QComboBox):
            continue
        found.append(widget)
    return found


def _text(widget: Editable) -> str:
    return widget.text() if isinstance(widget, QLineEdit) else widget.toPlainText()


def _unsaved(widget: Editable) -> bool:
    """A validated field holding a valid value has stored it; anything else may be unsaved."""
    owner = widget.parentWidget()
    if isinstance(owner, ValidatedLineEdit | ValidatedListEdit):
        return not owner.valid
    return True


def capture(pages: Mapping[str, QWidget]) -> TypedInput:
    typed = TypedInput()
    focused = QApplication.focusWidget()
    for key, page in pages.items():
        fields = _editables(page)
        typed.pages[key] = [
            _Typed(type(w).__name__, _text(w), _unsaved(w),
                   w.cursorPosition() if isinstance(w, QLineEdit) else w.textCursor().position())
            for w in fields]
        for index, widget in enumerate(fields):
            if widget is focused:
                typed.focus = (key, index)
    return typed


def restore(pages: Mapping[str, QWidget], typed: TypedInput) -> None:
    """Put unsaved text back where the new pages show something else, and the focus where it was."""
    for key, page in pages.items():
        before = typed.pages.get(key)
        fields = _editables(page)
        if before is None or [t.kind for t in before] != [type(w).__name__ for w in fields]:
            continue
        for old, widget in zip(before, fields, strict=True):
            if old.unsaved and old.text != _text(widget):
                if isinstance(widget, QLineEdit):
                    widget.setText(old.text)  # textChanged: the field validates and says what is wrong
                    widget.setCursorPosition(old.cursor)
                else:
                    widget.setPlainText(old.text)
                    cursor = widget.textCursor()
                    cursor.setPosition(min(old.cursor, len(old.text)))
                    widget.setTextCursor(cursor)
        if typed.focus is not None and typed.focus[0] == key:
            fields[typed.focus[1]].setFocus()
