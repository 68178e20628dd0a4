"""Input fields that validate as the user types and say what is wrong beside the field.

The checks are the core's own (:mod:`auditapp.core.validation`), the same the CLI and the
project loader apply, so a value the window accepts is never refused later. Their
:class:`~auditapp.core.validation.InputError` carries a code; the message shown here is the
GUI text for that code in the current language (``widgets.validation.<code>``), never the
CLI's English, which is shown only for the code ``invalid`` a caller fills in its own words.

The line under each field is reserved whether or not it holds a message: a message that
appeared and vanished with every key press made every field below it jump (issue 14).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

from auditapp.core.validation import InputError
from auditapp.gui.i18n import tr

if TYPE_CHECKING:
    from auditapp.audit.prepare import PrepareError

Check = Callable[[str], object]


def message_for(exc: InputError) -> str:
    """The user-facing text for an input error, in the GUI language."""
    text = tr(f"widgets.validation.{exc.code}", **exc.params, message=str(exc))
    return text if not text.startswith("[") else tr("widgets.validation.invalid", message=str(exc))


def prepare_message(exc: PrepareError) -> str:
    """Why an audit cannot start, in the GUI language (the error's text is the command line's English)."""
    if exc.input_error is not None:
        return message_for(exc.input_error)
    if exc.key:
        return tr(f"run.prepare.{exc.key}", detail=exc.detail)
    return str(exc)


def hinted[T](check: Callable[[str], T], hint_key: str) -> Callable[[str], T]:
    """``check``, but an error without a code of its own shows the text ``hint_key`` (in the GUI language).

    A few rules (resolver and port syntax) raise the generic code ``invalid`` with the CLI's
    English only; a field that offers them shows its format hint instead of that English.
    """
    def run(text: str) -> T:
        try:
            return check(text)
        except InputError as exc:
            if exc.code != "invalid":
                raise
            raise InputError(tr(hint_key), "invalid") from None

    return run


def _error_label() -> QLabel:
    """The message line under a field: always there, one line high when empty, so nothing moves."""
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)  # messages quote what was typed
    label.setMinimumHeight(label.fontMetrics().lineSpacing())
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    palette = label.palette()
    # A red that stays readable on light and dark palettes.
    palette.setColor(QPalette.ColorRole.WindowText, QColor(0xD0, 0x36, 0x36))
    label.setPalette(palette)
    return label


class _Validated(QWidget):
    validity_changed = Signal(bool)
    edited = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._valid = True
        self.error = _error_label()

    @property
    def valid(self) -> bool:
        return self._valid

    def _show(self, message: str) -> None:
        self.error.setText(message)
        edit = getattr(self, "edit", None)
        if edit is not None:
            edit.setAccessibleDescription(message)  # a screen reader hears why, not only that
        valid = not message
        if valid != self._valid:
            self._valid = valid
            self.validity_changed.emit(valid)


class ValidatedLineEdit(_Validated):
    """One value; ``check`` raises InputError for a bad value. Empty is fine unless ``required``."""

    def __init__(self, check: Check, *, required: bool = False, placeholder: str = "", accessible: str = "") -> None:
        super().__init__()
        self.check, self.required = check, required
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.edit.setAccessibleName(accessible or placeholder)
        self.error.setBuddy(self.edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)
        self.edit.textChanged.connect(self._changed)
        self.validate()

    def text(self) -> str:
        return self.edit.text()

    def set_text(self, text: str) -> None:
        self.edit.blockSignals(True)
        self.edit.setText(text)
        self.edit.blockSignals(False)
        self.validate()

    def _changed(self) -> None:
        self.validate()
        self.edited.emit()

    def validate(self) -> bool:
        text = self.edit.text()
        message = ""
        if not text:
            if self.required:
                message = tr("widgets.validation.empty")
        else:
            try:
                self.check(text)
            except InputError as exc:
                message = message_for(exc)
        self._show(message)
        return not message


class ValidatedListEdit(_Validated):
    """One value per line (addresses, host names); every line is checked, duplicates are named."""

    def __init__(self, check: Check, *, placeholder: str = "", accessible: str = "", lines: int = 3) -> None:
        super().__init__()
        self.check = check
        self.edit = QPlainTextEdit()
        self.edit.setPlaceholderText(placeholder)
        self.edit.setAccessibleName(accessible or placeholder)
        self.edit.setTabChangesFocus(True)
        height = self.edit.fontMetrics().lineSpacing() * lines + 14
        self.edit.setFixedHeight(height)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)
        self.edit.textChanged.connect(self._changed)
        self.validate()

    def values(self) -> list[str]:
        return [line.strip() for line in self.edit.toPlainText().splitlines() if line.strip()]

    def set_values(self, values: list[str]) -> None:
        self.edit.blockSignals(True)
        self.edit.setPlainText("\n".join(values))
        self.edit.blockSignals(False)
        self.validate()

    def _changed(self) -> None:
        self.validate()
        self.edited.emit()

    def validate(self) -> bool:
        message = ""
        seen: dict[str, int] = {}
        for number, raw in enumerate(self.edit.toPlainText().splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            try:
                key = str(self.check(line) or line)
            except InputError as exc:
                message = tr("widgets.validation.line", line=number, message=message_for(exc))
                break
            if key in seen:
                message = tr("widgets.validation.duplicate", line=number, first=seen[key])
                break
            seen[key] = number
        self._show(message)
        return not message
