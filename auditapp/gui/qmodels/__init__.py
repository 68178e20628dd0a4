"""Qt item models over the project's runs and findings, and the small pieces they share.

Tables of results can hold hundreds of rows and are re-filtered on every key press, so they
are models with rows computed once per reload (:class:`QAbstractTableModel`), never item
widgets. Badges are painted icons with their own background, so they read the same on light
and dark palettes instead of relying on a text colour the palette might swallow.
"""

from __future__ import annotations

import html
from datetime import datetime
from functools import cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap

from auditapp.core.model import Severity
from auditapp.core.times import parse_time

#: Badge colours: saturated enough to tell apart, each with a text colour of enough contrast.
SEVERITY_COLOURS = {
    Severity.CRITICAL: ("#8E1B1B", "#FFFFFF"),
    Severity.HIGH: ("#D84315", "#FFFFFF"),
    Severity.MEDIUM: ("#F2B01E", "#1A1A1A"),
    Severity.LOW: ("#1F6FB8", "#FFFFFF"),
    Severity.INFO: ("#6B7B86", "#FFFFFF"),
}
#: Status marks: a filled dot for verdicts, a ring for "we could not tell".
STATUS_COLOURS = {
    "pass": ("#2E7D32", True),
    "fail": ("#C62828", True),
    "accepted": ("#1565C0", True),
    "not_applicable": ("#8A8A8A", True),
    "not_tested": ("#E0A100", False),
    "error": ("#7B1FA2", False),
}
_SEVERITY_LETTERS = {Severity.CRITICAL: "!", Severity.HIGH: "H", Severity.MEDIUM: "M", Severity.LOW: "L",
                     Severity.INFO: "i"}


def _pixmap(size: int) -> QPixmap:
    pixmap = QPixmap(size * 2, size * 2)  # drawn at twice the size: sharp on high-DPI screens
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    return pixmap


@cache
def severity_icon(severity: Severity, size: int = 16) -> QIcon:
    """A rounded square in the severity's colour with its letter, readable on any palette."""
    background, foreground = SEVERITY_COLOURS[severity]
    pixmap = _pixmap(size)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor("#00000055"), 0.8))
    painter.setBrush(QColor(background))
    painter.drawRoundedRect(QRectF(1, 1, size - 2, size - 2), 3.5, 3.5)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(size * 0.62))
    painter.setFont(font)
    painter.setPen(QColor(foreground))
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, _SEVERITY_LETTERS[severity])
    painter.end()
    return QIcon(pixmap)


@cache
def status_icon(status: str, size: int = 14) -> QIcon:
    """A dot (a verdict) or a ring (not tested, error) in the status colour."""
    colour, filled = STATUS_COLOURS.get(status, ("#8A8A8A", True))
    pixmap = _pixmap(size)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    rect = QRectF(2, 2, size - 4, size - 4)
    if filled:
        painter.setPen(QPen(QColor("#00000055"), 0.8))
        painter.setBrush(QColor(colour))
    else:
        painter.setPen(QPen(QColor(colour), 2.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawEllipse(rect)
    painter.end()
    return QIcon(pixmap)


def local_time(value: str) -> datetime | None:
    """A run's ISO time (stored in UTC) in the computer's time zone, as people read clocks."""
    parsed = parse_time(value)
    if parsed is None:
        return None
    return parsed.astimezone()


def format_time(value: str, lang: str, *, seconds: bool = False) -> str:
    """``28.11.2026 14:02`` (de) or ``2026-11-28 14:02`` (en); unreadable input as given."""
    parsed = local_time(value)
    if parsed is None:
        return value or "–"
    clock = "%H:%M:%S" if seconds else "%H:%M"
    return parsed.strftime(f"%d.%m.%Y {clock}" if lang == "de" else f"%Y-%m-%d {clock}")


def format_duration(seconds: float, lang: str) -> str:
    """``40 ms``, ``0,8 s``, ``42 s`` or ``3 min 5 s``: offline audits take milliseconds, real ones minutes."""
    if seconds < 0.1:
        return f"{max(round(seconds * 1000), 1)} ms"
    if seconds < 10:
        text = f"{seconds:.1f} s"
        return text.replace(".", ",") if lang == "de" else text
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    return f"{total // 60} min {total % 60} s"



def cap(text: str) -> str:
    """Capitalise a catalog label for a table cell or menu item (the catalog writes them for running text)."""
    return text[:1].upper() + text[1:]


def rich_tip(text: str) -> str:
    """A tooltip that shows ``text`` literally.

    Qt guesses whether a tooltip is rich text; a subject or justification that starts with a tag
    would be rendered as markup. Escaping and wrapping it in ``<p>`` makes the guess always
    "rich" and the content always literal.
    """
    return "<p>" + html.escape(text).replace("\n", "<br>") + "</p>"
