"""A one-line message area for what an action did, or why it did nothing.

Plain text only: the message often quotes a file or server text, which must never be read as
markup. The colours stay readable on light and dark palettes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel

ERROR = QColor(0xD0, 0x36, 0x36)
OK = QColor(0x2E, 0x7D, 0x32)
WARN = QColor(0xB2, 0x6A, 0x00)


class Banner(QLabel):
    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setVisible(False)
        self.kind = ""

    def show_message(self, text: str, kind: str) -> None:
        """``kind`` is "error", "warn" or anything else for a success."""
        self.kind = kind
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.WindowText, {"error": ERROR, "warn": WARN}.get(kind, OK))
        self.setPalette(palette)
        self.setText(text)
        self.setVisible(bool(text))

    def clear_message(self) -> None:
        self.show_message("", "")
