"""A received message's hop chain drawn left to right: one box per host, one arrow per hand-over.

Why a painted widget and not a table: the question a reader has is "which way did the message
go, where was it unencrypted, where did it leave the sender"; a row of boxes answers that at a
glance, and the MSG-* findings (TLS on the hand-over, internal names) point at one arrow of it.

Everything drawn comes from the message's ``Received:`` headers, i.e. from whoever wrote them:
it is painted with ``drawText`` (never interpreted as markup) and shortened with an ellipsis;
the full text is in the tooltip, which is rich text built from escaped values only.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from auditapp.gui.i18n import tr
from auditapp.message.hops import Hop

BOX_WIDTH = 150  # the narrowest box; a box grows with its longest name up to MAX_BOX_WIDTH
MAX_BOX_WIDTH = 270
BOX_HEIGHT = 58
GAP = 150  # room for an arrow and its two label lines
MARGIN = 14
TOP = 30  # above the boxes: the side (sender / receiver) over the first box of each
LEGEND = 26

#: Fills that keep dark text readable on light and dark desktops alike (the box text is
#: painted in a fixed dark colour, not the palette's).
_SENDER = (QColor("#dbe8f8"), QColor("#2f65ca"))
_RECEIVER = (QColor("#e1f0dc"), QColor("#3d8b37"))
_UNKNOWN = (QColor("#ececec"), QColor("#8a8a8a"))
_BOX_TEXT = QColor("#1b1b1b")
_HANDOVER = QColor("#d97a00")


@dataclass(frozen=True)
class HostBox:
    """One host of the chain: the name and address shown, and every name the headers gave it."""

    name: str
    ip: str
    names: tuple[str, ...]
    side: str  # "sender", "receiver" or "" (no hand-over known)


def _hosts(hops: Sequence[Hop], sending: int | None) -> list[HostBox]:
    """``len(hops) + 1`` hosts: hop ``k`` goes from host ``k`` to host ``k + 1``.

    A host between two hops is named by both: the earlier hop's ``by`` (its own name) and the
    later hop's ``from`` (what the next server saw); the first is shown, both are in the tooltip.
    """
    out: list[HostBox] = []
    for k in range(len(hops) + 1):
        before = hops[k - 1] if k > 0 else None
        after = hops[k] if k < len(hops) else None
        names = [n for n in (before.by if before else None,
                             after.from_name if after else None,
                             after.helo if after else None) if n]
        ip = (after.from_ip if after else None) or (before.by_ip if before else None) or ""
        side = "" if sending is None else ("sender" if k <= sending else "receiver")
        unique = tuple(dict.fromkeys(names))
        out.append(HostBox(unique[0] if unique else "?", ip, unique, side))
    return out


def plain_tooltip(text: str) -> str:
    """``text`` as a tooltip that shows it literally: Qt guesses rich text in tooltips, so it is escaped."""
    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>" if text else ""


def warning_colour(widget: QWidget) -> QColor:
    """A red that stays readable on the widget's background, light or dark."""
    dark = widget.palette().color(QPalette.ColorRole.Window).lightness() < 128
    return QColor("#ff8a80") if dark else QColor("#b3261e")


def delay_text(seconds: float | None) -> str:
    """``+3 s``, ``+2 min``, ``+1.5 h``; a negative delay (clocks apart) is shown as it is."""
    if seconds is None:
        return ""
    sign = "+" if seconds >= 0 else "−"
    s = abs(seconds)
    if s < 120:
        return f"{sign}{s:.0f} s"
    if s < 7200:
        return f"{sign}{s / 60:.0f} min"
    return f"{sign}{s / 3600:.1f} h"


class HopDiagram(QWidget):
    """The chain of :class:`~auditapp.message.hops.Hop` (oldest first); put it in a horizontal scroll area."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hops: tuple[Hop, ...] = ()
        self._sending: int | None = None
        self._boxes: list[HostBox] = []
        self._box_width = BOX_WIDTH
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.setAccessibleName(tr("widgets.hops.accessible"))

    def set_hops(self, hops: Sequence[Hop], sending_index: int | None) -> None:
        self._hops = tuple(hops)
        self._sending = sending_index if sending_index is not None and sending_index < len(hops) else None
        self._boxes = _hosts(self._hops, self._sending) if self._hops else []
        # One width for every box (the chain reads as a row of equals), enough for the longest
        # name in bold; longer names are shortened with an ellipsis, whole in the tooltip.
        bold = QFont(self.font())
        bold.setBold(True)
        widest = max((QFontMetrics(bold).horizontalAdvance(b.name) for b in self._boxes), default=0)
        self._box_width = max(BOX_WIDTH, min(MAX_BOX_WIDTH, widest + 20))
        self.setAccessibleDescription(" → ".join(f"{b.name} {b.ip}".strip() for b in self._boxes))
        self.updateGeometry()
        self.resize(self.sizeHint())
        self.update()

    @property
    def hosts(self) -> list[HostBox]:
        return list(self._boxes)

    # -- geometry -------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        count = max(len(self._boxes), 1)
        chain = 2 * MARGIN + count * self._box_width + (count - 1) * GAP
        metrics = QFontMetrics(self.font())
        legend = 2 * MARGIN + sum(46 + metrics.horizontalAdvance(text) for text, _ in self._legend_items())
        return QSize(max(chain, legend), TOP + BOX_HEIGHT + 2 * MARGIN + LEGEND)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return self.sizeHint()

    def box_rect(self, k: int) -> QRect:
        return QRect(MARGIN + k * (self._box_width + GAP), TOP, self._box_width, BOX_HEIGHT)

    def arrow_rect(self, k: int) -> QRect:
        """The area of hop ``k``'s arrow and its labels, between host ``k`` and host ``k + 1``."""
        left = self.box_rect(k).right() + 1
        return QRect(left, TOP - 8, GAP, BOX_HEIGHT + 16)

    # -- texts ------------------------------------------------------------------------------------

    def arrow_texts(self, k: int) -> tuple[str, str, bool]:
        """``(protocol and TLS, delay, encrypted)`` of hop ``k``, as drawn above and below its arrow."""
        hop = self._hops[k]
        tls = ("TLS" if hop.tls == "tls" else hop.tls) if hop.tls else tr("widgets.hops.no_tls")
        top = " · ".join(x for x in (hop.protocol, tls) if x)
        return top, delay_text(hop.delay), bool(hop.tls)

    def tooltip_at(self, pos: QPoint) -> str:
        """Rich text (every value escaped) for what is under ``pos``; empty over nothing."""
        for k, box in enumerate(self._boxes):
            if self.box_rect(k).contains(pos):
                lines = [*box.names] or ["?"]
                if box.ip:
                    lines.append(box.ip)
                side = {"sender": tr("widgets.hops.sender"), "receiver": tr("widgets.hops.receiver")}.get(box.side)
                if side:
                    lines.append(side)
                return plain_tooltip("\n".join(lines))
        for k, hop in enumerate(self._hops):
            if self.arrow_rect(k).contains(pos):
                lines = [tr("widgets.hops.hop", number=k + 1)]
                if k == self._sending:
                    lines.append(tr("widgets.hops.handover_tip"))
                lines.append(" · ".join(x for x in (hop.protocol, hop.tls, hop.cipher) if x)
                             or tr("widgets.hops.no_tls"))
                if hop.time:
                    lines.append(hop.time)
                # The header itself, shortened: it is the evidence, and can be long.
                raw = " ".join(hop.raw.split())
                lines.append(raw if len(raw) <= 400 else raw[:400] + "…")
                return plain_tooltip("\n".join(lines))
        return ""

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.tooltip_at(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    # -- painting -------------------------------------------------------------------------------

    def _warning(self) -> QColor:
        return warning_colour(self)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            text_colour = self.palette().color(QPalette.ColorRole.WindowText)
            if not self._boxes:
                painter.setPen(text_colour)
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, tr("widgets.hops.none"))
                return
            self._paint_sides(painter, text_colour)
            for k in range(len(self._hops)):
                self._paint_arrow(painter, k, text_colour)
            for k, box in enumerate(self._boxes):
                self._paint_box(painter, k, box)
            self._paint_legend(painter, text_colour)
        finally:
            painter.end()

    def _paint_sides(self, painter: QPainter, colour: QColor) -> None:
        """"Sender" over the first box, "Receiver" over the first box after the hand-over."""
        if self._sending is None:
            return
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(colour)
        for k, key in ((0, "widgets.hops.sender"), (self._sending + 1, "widgets.hops.receiver")):
            r = self.box_rect(k)
            painter.drawText(QRect(r.left(), 4, self._box_width + GAP // 2, TOP - 8),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, tr(key))
        painter.setFont(self.font())

    def _paint_box(self, painter: QPainter, k: int, box: HostBox) -> None:
        fill, border = {"sender": _SENDER, "receiver": _RECEIVER}.get(box.side, _UNKNOWN)
        r = self.box_rect(k)
        painter.setPen(QPen(border, 1.5))
        painter.setBrush(fill)
        painter.drawRoundedRect(QRectF(r).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        inner = r.adjusted(8, 6, -8, -6)
        metrics = QFontMetrics(self.font())
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setPen(_BOX_TEXT)
        painter.setFont(bold)
        name = QFontMetrics(bold).elidedText(box.name, Qt.TextElideMode.ElideMiddle, inner.width())
        half = inner.height() // 2
        painter.drawText(QRect(inner.left(), inner.top(), inner.width(), half),
                         Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, name)
        painter.setFont(self.font())
        ip = metrics.elidedText(box.ip or "–", Qt.TextElideMode.ElideMiddle, inner.width())
        painter.drawText(QRect(inner.left(), inner.top() + half, inner.width(), inner.height() - half),
                         Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, ip)

    def _paint_arrow(self, painter: QPainter, k: int, colour: QColor) -> None:
        top, delay, encrypted = self.arrow_texts(k)
        handover = k == self._sending
        line_colour = _HANDOVER if handover else (colour if encrypted else self._warning())
        start = QPointF(self.box_rect(k).right() + 4, TOP + BOX_HEIGHT / 2)
        end = QPointF(self.box_rect(k + 1).left() - 4, TOP + BOX_HEIGHT / 2)
        pen = QPen(line_colour, 3.5 if handover else 1.6)
        if not encrypted:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(start, end - QPointF(6, 0))
        head = QPainterPath(end)
        head.lineTo(end + QPointF(-11, -6))
        head.lineTo(end + QPointF(-11, 6))
        head.closeSubpath()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(line_colour)
        painter.drawPath(head)
        area = QRect(int(start.x()) + 4, TOP, int(end.x() - start.x()) - 8, BOX_HEIGHT)
        metrics = QFontMetrics(self.font())
        upper = QRect(area.left(), area.top(), area.width(), area.height() // 2 - 3)
        lower = QRect(area.left(), area.top() + area.height() // 2 + 3, area.width(), area.height() // 2 - 3)
        painter.setPen(colour if encrypted else self._warning())
        painter.drawText(upper, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                         metrics.elidedText(top, Qt.TextElideMode.ElideRight, area.width()))
        below = " · ".join(x for x in (tr("widgets.hops.handover") if handover else "", delay) if x)
        if below:
            painter.setPen(colour)
            painter.drawText(lower, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                             metrics.elidedText(below, Qt.TextElideMode.ElideRight, area.width()))

    def _legend_items(self) -> list[tuple[str, tuple[QColor, QColor] | QColor]]:
        items: list[tuple[str, tuple[QColor, QColor] | QColor]] = []
        if self._sending is not None:
            items += [(tr("widgets.hops.sender_servers"), _SENDER), (tr("widgets.hops.receiver_servers"), _RECEIVER),
                      (tr("widgets.hops.handover"), _HANDOVER)]
        else:
            items.append((tr("widgets.hops.no_handover"), _UNKNOWN))
        items.append((tr("widgets.hops.no_tls"), self._warning()))
        return items

    def _paint_legend(self, painter: QPainter, colour: QColor) -> None:
        y = TOP + BOX_HEIGHT + MARGIN + 4
        x = MARGIN
        metrics = QFontMetrics(self.font())
        for text, swatch in self._legend_items():
            if isinstance(swatch, tuple):
                painter.setPen(QPen(swatch[1], 1))
                painter.setBrush(swatch[0])
                painter.drawRoundedRect(QRectF(x, y + 3, 18, 12), 3, 3)
            else:
                pen = QPen(swatch, 3.5 if swatch == _HANDOVER else 1.6)
                if swatch != _HANDOVER:
                    pen.setStyle(Qt.PenStyle.DashLine)
                painter.setPen(pen)
                painter.drawLine(QPointF(x, y + 9), QPointF(x + 18, y + 9))
            painter.setPen(colour)
            width = metrics.horizontalAdvance(text)
            painter.drawText(QRect(x + 24, y, width + 4, 18), Qt.AlignmentFlag.AlignVCenter, text)
            x += 24 + width + 22
