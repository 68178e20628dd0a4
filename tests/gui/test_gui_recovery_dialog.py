"""The crash-recovery question names its actions and writes the time as the window does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from auditapp.gui import i18n
from auditapp.gui.dialogs.recovery import RecoveryChoice, ask_recovery, recovery_box
from auditapp.gui.session import Recovery


def _rec(tmp_path: Path) -> Recovery:
    return Recovery(tmp_path / "recovery-1.auditproj", None, "2026-11-28T13:02:07+00:00", "Beispiel GmbH")


@pytest.mark.parametrize(("lang", "labels", "when"), [
    ("de", ["Wiederherstellen", "Verwerfen", "Später entscheiden"], r"Gesichert: \d\d\.\d\d\.2026 \d\d:\d\d:07"),
    ("en", ["Restore", "Discard", "Decide later"], r"Saved: 2026-11-\d\d \d\d:\d\d:07"),
])
def test_buttons_say_what_they_do(ctx, tmp_path: Path, lang: str, labels: list[str], when: str) -> None:
    i18n.set_language(lang)
    box, buttons = recovery_box(_rec(tmp_path))
    assert [buttons[c].text() for c in RecoveryChoice] == labels
    assert box.defaultButton() is buttons[RecoveryChoice.RESTORE]
    assert box.escapeButton() is buttons[RecoveryChoice.LATER]
    assert all(buttons[c].toolTip() for c in RecoveryChoice)
    assert "Beispiel GmbH" in box.informativeText()
    assert re.search(when, box.informativeText()), box.informativeText()
    assert ("Ja" if lang == "de" else "Yes") not in box.text() + box.informativeText()
    box.deleteLater()


@pytest.mark.parametrize(("press", "choice"), [
    ("discard", RecoveryChoice.DISCARD), ("restore", RecoveryChoice.RESTORE), ("escape", RecoveryChoice.LATER),
])
def test_the_answer_is_the_button_pressed_and_closing_means_later(ctx, qtbot, tmp_path: Path, press: str,
                                                                    choice: RecoveryChoice) -> None:
    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, answer)
            return
        if press == "escape":
            box.reject()
            return
        wanted = {"discard": "Verwerfen", "restore": "Wiederherstellen"}[press]
        next(b for b in box.buttons() if b.text() == wanted).click()

    QTimer.singleShot(0, answer)
    assert ask_recovery(_rec(tmp_path)) is choice
