"""The question after a crash: restore the unsaved work, discard it, or decide at the next start.

A standard Yes/Discard/Cancel box made the user translate "Ja" into "wiederherstellen" and
"Abbrechen" into "keep it for later" (issue 14); the buttons here say what they do, and the
time of the copy is written the way the rest of the window writes times.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from auditapp.gui.i18n import language, tr
from auditapp.gui.qmodels import format_time
from auditapp.gui.session import Recovery


class RecoveryChoice(Enum):
    RESTORE = "restore"
    DISCARD = "discard"
    LATER = "later"


def recovery_box(rec: Recovery, parent: QWidget | None = None) -> tuple[QMessageBox, dict[RecoveryChoice, QPushButton]]:
    """The question for ``rec`` and its buttons by choice (not shown yet, so tests can read it)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(tr("window.msg.recover_title"))
    box.setText(tr("window.msg.recover_text"))
    box.setInformativeText(tr(
        "window.msg.recover_details", name=rec.name or tr("window.msg.recover_unnamed"),
        when=format_time(rec.saved_at, language(), seconds=True),
        file=rec.original or tr("window.msg.recover_no_file")))
    buttons = {
        RecoveryChoice.RESTORE: box.addButton(tr("window.msg.recover_restore"), QMessageBox.ButtonRole.AcceptRole),
        RecoveryChoice.DISCARD: box.addButton(tr("window.msg.recover_discard"), QMessageBox.ButtonRole.DestructiveRole),
        RecoveryChoice.LATER: box.addButton(tr("window.msg.recover_later"), QMessageBox.ButtonRole.RejectRole),
    }
    for choice, key in ((RecoveryChoice.RESTORE, "restore_tip"), (RecoveryChoice.DISCARD, "discard_tip"),
                        (RecoveryChoice.LATER, "later_tip")):
        buttons[choice].setToolTip(tr(f"window.msg.recover_{key}"))
    box.setDefaultButton(buttons[RecoveryChoice.RESTORE])
    box.setEscapeButton(buttons[RecoveryChoice.LATER])
    return box, buttons


def ask_recovery(rec: Recovery, parent: QWidget | None = None) -> RecoveryChoice:
    """Ask about ``rec``; closing the box is "later", so only an explicit "discard" deletes the copy."""
    box, buttons = recovery_box(rec, parent)
    try:
        box.exec()
        clicked = box.clickedButton()
        return next((choice for choice, button in buttons.items() if button is clicked), RecoveryChoice.LATER)
    finally:
        box.deleteLater()
