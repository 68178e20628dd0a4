"""The route of a received message as a reportlab Drawing: servers as boxes, hops as arrows.

Why a drawing and not a table alone: who handed the message to whom, and which hand-over went
without TLS, is seen at a glance in a picture and read slowly in a table (the table follows the
diagram with the full names). Boxes run left to right; a route longer than a row continues in
the next row from right to left (a "snake"), joined by a downward arrow at the row's end, so every
hop stays an arrow between neighbours and nothing leaves the frame. Names longer than a box are
cut with an ellipsis; the hop table keeps them whole.

Colours come from the theme: the sender's servers in the primary colour, the receiver's in grey,
the hand-over hop thick in the accent colour, a hop without TLS in the theme's warning colour
(the severity colour "medium"). Every string is drawn as plain text (``String`` is not markup),
after :func:`~auditapp.report.pdf.text.normalize` made control characters visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from auditapp.report.document import HopLink, HostNode
from auditapp.report.pdf.flowables import Styles
from auditapp.report.pdf.text import normalize
from auditapp.report.theme import rl_color

#: Box and arrow sizes in points. The narrowest box still shows some 18 characters per line;
#: a box is as high as its longest text needs (:data:`NAME_LINES` name lines, IP, HELO).
BOX_MIN, BOX_MAX = 80.0, 132.0
NAME_LINES = 3
LINE_STEP = 2.5  # leading added to the font size
GAP = 52.0  # room for a horizontal arrow and its labels
ROW_GAP = 34.0  # room for the downward arrow between rows and its labels
LEGEND_H = 16.0
NAME_SIZE, TEXT_SIZE, LABEL_SIZE = 7.0, 6.5, 6.0
PAD = 4.0


@dataclass(frozen=True)
class Layout:
    """Where each node sits: ``cols`` boxes per row, each ``box_w`` wide; ``places[i]`` is (row, column)."""

    cols: int
    rows: int
    box_w: float
    places: tuple[tuple[int, int], ...]


def layout(count: int, width: float) -> Layout:
    """As many boxes per row as fit ``width`` at :data:`BOX_MIN` (at least one), rows snaking."""
    cols = max(1, min(count, int((width + GAP) // (BOX_MIN + GAP))))
    box_w = min(BOX_MAX, (width - (cols - 1) * GAP) / cols) if cols > 1 else min(BOX_MAX * 1.4, width)
    places = []
    for i in range(count):
        row, col = divmod(i, cols)
        places.append((row, col if row % 2 == 0 else cols - 1 - col))
    rows = max(1, -(-count // cols))
    return Layout(cols, rows, box_w, tuple(places))


def fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis so it is at most ``width`` wide."""
    text = " ".join(normalize(text).split())
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _name_lines(name: str, font: str, width: float) -> list[str]:
    """A host name in up to :data:`NAME_LINES` lines, broken only after a dot; what still does not fit is cut.

    A host name is copied and searched for, so it never breaks inside a label the way a
    hyphenated word would ("mail." / "beispiel-gmbh." / "example").
    """
    name = " ".join(normalize(name).split())
    pieces = [label + "." for label in name.split(".")[:-1]] + [name.split(".")[-1]]
    lines: list[str] = []
    for piece in (x for x in pieces if x):
        if lines and stringWidth(lines[-1] + piece, font, NAME_SIZE) <= width:
            lines[-1] += piece
        else:
            lines.append(piece)
    if len(lines) > NAME_LINES:
        lines = [*lines[: NAME_LINES - 1], "".join(lines[NAME_LINES - 1:])]
    return [fit(line, font, NAME_SIZE, width) for line in lines] or [""]


class _Painter:
    """Draws one route into a Drawing of the given width (see :func:`hop_diagram`)."""

    def __init__(self, st: Styles, width: float, legend: Sequence[str]) -> None:
        self.st, self.width, self.legend = st, width, legend
        c = st.theme.colours
        self.sender = rl_color(c.primary)
        self.receiver = rl_color(c.traffic.grey)
        self.unknown = rl_color(c.muted)
        self.handover = rl_color(c.accent)
        self.warning = rl_color(c.severity.medium)
        self.text = rl_color(c.text)
        self.muted = rl_color(c.muted)
        self.regular, self.bold, self.mono = st.names.regular, st.names.bold, st.names.mono

    def node_colour(self, node: HostNode) -> colors.Color:
        return {"sender": self.sender, "receiver": self.receiver}.get(node.side, self.unknown)

    def link_colour(self, link: HopLink) -> colors.Color:
        if link.no_tls:
            return self.warning
        if link.handover:
            return self.handover
        return self.sender if link.sender else self.receiver

    def lines(self, node: HostNode, w: float) -> list[tuple[str, str, float, colors.Color]]:
        """The text lines of a node's box: name (bold, up to three lines), IP, HELO."""
        inner = w - 2 * PAD
        colour = self.node_colour(node) if node.side == "sender" else self.text
        out = [(line, self.bold, NAME_SIZE, colour) for line in _name_lines(node.name, self.bold, inner)]
        if node.ip:
            out.append((fit(node.ip, self.mono, TEXT_SIZE, inner), self.mono, TEXT_SIZE, self.text))
        if node.helo:
            out.append((fit(f"HELO {node.helo}", self.regular, TEXT_SIZE, inner), self.regular, TEXT_SIZE,
                        self.muted))
        return out

    def box(self, d: Drawing, x: float, y: float, w: float, h: float, node: HostNode) -> None:
        colour = self.node_colour(node)
        fill = colors.white if node.side == "sender" else rl_color(self.st.theme.colours.surface)
        d.add(Rect(x, y, w, h, rx=3, ry=3, fillColor=fill, strokeColor=colour, strokeWidth=1.2))
        d.add(Rect(x, y + h - 3, w, 3, fillColor=colour, strokeColor=None))
        top = y + h - 5
        for text, font, size, fill_colour in self.lines(node, w):
            top -= size + LINE_STEP
            d.add(String(x + PAD, top, text, fontName=font, fontSize=size, fillColor=fill_colour))

    def number(self, d: Drawing, x: float, y: float, link: HopLink, colour: colors.Color) -> None:
        d.add(Circle(x, y, 5.5, fillColor=colour, strokeColor=colors.white, strokeWidth=0.8))
        d.add(String(x, y - 2.1, str(link.number), fontName=self.bold, fontSize=6, fillColor=colors.white,
                     textAnchor="middle"))

    def labels(self, link: HopLink) -> tuple[str, str, str]:
        return str(link.protocol), str(link.tls), link.delay

    def horizontal(self, d: Drawing, x1: float, x2: float, y: float, link: HopLink | None) -> None:
        """An arrow from ``x1`` to ``x2`` at height ``y`` (either direction), labels above and below."""
        if link is None:
            d.add(Line(x1, y, x2, y, strokeColor=self.muted, strokeWidth=0.8, strokeDashArray=[2, 2]))
            return
        colour = self.link_colour(link)
        width = 2.6 if link.handover else 1.1
        step = 1 if x2 > x1 else -1
        d.add(Line(x1, y, x2 - step * 5, y, strokeColor=colour, strokeWidth=width))
        d.add(Polygon([x2, y, x2 - step * 6, y + 3.2, x2 - step * 6, y - 3.2], fillColor=colour, strokeColor=None))
        room = abs(x2 - x1) - 2
        middle = (x1 + x2) / 2
        protocol, tls, delay = self.labels(link)
        tls_colour = self.warning if link.no_tls else self.text
        for text, dy, font, fill in ((protocol, 15.5, self.regular, self.muted), (tls, 8, self.bold, tls_colour),
                                     (delay, -13, self.regular, self.muted)):
            if text:
                d.add(String(middle, y + dy, fit(text, font, LABEL_SIZE, room), fontName=font, fontSize=LABEL_SIZE,
                             fillColor=fill, textAnchor="middle"))
        self.number(d, middle, y, link, colour)

    def vertical(self, d: Drawing, x: float, y1: float, y2: float, link: HopLink | None, right_edge: bool) -> None:
        """A downward arrow from ``y1`` to ``y2``; labels beside it, towards the inside of the page."""
        if link is None:
            d.add(Line(x, y1, x, y2, strokeColor=self.muted, strokeWidth=0.8, strokeDashArray=[2, 2]))
            return
        colour = self.link_colour(link)
        d.add(Line(x, y1, x, y2 + 5, strokeColor=colour, strokeWidth=2.6 if link.handover else 1.1))
        d.add(Polygon([x, y2, x - 3.2, y2 + 6, x + 3.2, y2 + 6], fillColor=colour, strokeColor=None))
        middle = (y1 + y2) / 2
        self.number(d, x, middle, link, colour)
        anchor, tx = ("end", x - 9) if right_edge else ("start", x + 9)
        protocol, tls, delay = self.labels(link)
        text = " · ".join(t for t in (protocol, tls, delay) if t)
        room = self.width / 2
        d.add(String(tx, middle - 2.2, fit(text, self.regular, LABEL_SIZE, room), fontName=self.regular,
                     fontSize=LABEL_SIZE, fillColor=self.warning if link.no_tls else self.muted, textAnchor=anchor))

    def draw_legend(self, d: Drawing) -> None:
        items = [(self.sender, "box"), (self.receiver, "box"), (self.handover, "thick"), (self.warning, "line")]
        x, y = 0.0, 3.0
        natural = sum(27 + stringWidth(normalize(text), self.regular, 6.5) for text in self.legend)
        room = self.width if natural <= self.width else self.width / 4 - 27  # four items never overflow
        for (colour, kind), text in zip(items, self.legend, strict=True):
            if kind == "box":
                d.add(Rect(x, y, 9, 7, fillColor=colors.white, strokeColor=colour, strokeWidth=1.2))
                d.add(Rect(x, y + 5.5, 9, 1.5, fillColor=colour, strokeColor=None))
            else:
                d.add(Line(x, y + 3.5, x + 12, y + 3.5, strokeColor=colour,
                           strokeWidth=2.6 if kind == "thick" else 1.2))
            label = fit(text, self.regular, 6.5, room)
            d.add(String(x + 15, y + 1, label, fontName=self.regular, fontSize=6.5, fillColor=self.muted))
            x += 15 + stringWidth(label, self.regular, 6.5) + 12


def hop_diagram(st: Styles, nodes: Sequence[HostNode], links: Sequence[HopLink | None], width: float,
                legend: Sequence[str]) -> Drawing:
    """The route in a Drawing exactly ``width`` wide (never wider); ``legend`` names the four colours.

    ``links[i]`` joins ``nodes[i]`` and ``nodes[i + 1]`` (None: a gap in the recorded chain).
    """
    lay = layout(len(nodes), width)
    painter = _Painter(st, width, legend)
    box_h = max([34.0, *(7 + sum(size + LINE_STEP for _, _, size, _ in painter.lines(n, lay.box_w)) for n in nodes)])
    height = lay.rows * box_h + (lay.rows - 1) * ROW_GAP + LEGEND_H + 6
    d = Drawing(width, height)
    d.initialFontName = st.names.regular
    step = lay.box_w + (GAP if lay.cols > 1 else 0)

    def origin(i: int) -> tuple[float, float]:
        row, col = lay.places[i]
        return col * step, height - box_h - row * (box_h + ROW_GAP)

    for i, node in enumerate(nodes):
        x, y = origin(i)
        painter.box(d, x, y, lay.box_w, box_h, node)
    for i, link in enumerate(links[: max(0, len(nodes) - 1)]):
        (x1, y1), (x2, y2) = origin(i), origin(i + 1)
        if y1 == y2:  # same row
            if x2 > x1:
                painter.horizontal(d, x1 + lay.box_w, x2, y1 + box_h / 2, link)
            else:
                painter.horizontal(d, x1, x2 + lay.box_w, y1 + box_h / 2, link)
        else:  # down to the next row, at the row's end
            right_edge = lay.places[i][1] == lay.cols - 1 and lay.cols > 1
            painter.vertical(d, x1 + lay.box_w / 2, y1, y2 + box_h, link, right_edge)
    painter.draw_legend(d)
    return d
