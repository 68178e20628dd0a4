"""The dialog for an unexpected error: what happened, the details to copy, where the log is."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from auditapp.gui.i18n import tr


class ErrorDialog(QDialog):
    def __init__(self, details: str, log_file: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("dialogs.error.title"))
        self.resize(720, 420)
        layout = QVBoxLayout(self)
        intro = QLabel(tr("dialogs.error.intro"))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.details = QPlainTextEdit(details)
        self.details.setReadOnly(True)
        self.details.setAccessibleName(tr("dialogs.error.details"))
        layout.addWidget(self.details, 1)
        if log_file is not None:
            where = QLabel(tr("dialogs.error.log", path=str(log_file)))
            where.setWordWrap(True)
            where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(where)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton(tr("dialogs.error.copy"))
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(details))
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
