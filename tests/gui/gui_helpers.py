"""Helpers shared by the GUI tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog


def run_modal(qtbot, trigger: Callable[[], None], fill: Callable[[QDialog], None]) -> QDialog:
    """Open a modal dialog with ``trigger`` and drive it with ``fill`` from inside its event loop."""
    seen: list[QDialog] = []
    errors: list[BaseException] = []

    def handle() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, handle)
            return
        seen.append(dialog)
        try:
            fill(dialog)
        except BaseException as exc:  # re-raised below, outside Qt's event loop
            errors.append(exc)
        finally:
            if dialog.isVisible():  # a failed assertion must not leave the test hanging in exec()
                dialog.reject()

    QTimer.singleShot(0, handle)
    trigger()
    if errors:
        raise errors[0]
    assert seen, "no dialog was opened"
    return seen[0]
