"""Styles and small building blocks: headings that feed outline and TOC, tables, badges, charts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Circle, Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from auditapp.report.grading import Grade, Light
from auditapp.report.pdf.text import para_text
from auditapp.report.theme import FontNames, Theme, rl_color

#: Left and right margin of the cover frame (the left one leaves room for the colour band).
COVER_LEFT, COVER_RIGHT = 30 * mm, 20 * mm


@dataclass(frozen=True)
class Styles:
    """Paragraph styles and colours of one theme."""

    names: FontNames
    theme: Theme
    body: ParagraphStyle
    small: ParagraphStyle
    muted: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    cell: ParagraphStyle
    cell_head: ParagraphStyle
    mono: ParagraphStyle
    mono_box: ParagraphStyle
    note_box: ParagraphStyle
    badge: ParagraphStyle
    title: ParagraphStyle
    subtitle: ParagraphStyle
    toc0: ParagraphStyle
    toc1: ParagraphStyle

    def colour(self, value: str) -> colors.Color:
        return rl_color(value)

    @property
    def primary(self) -> colors.Color:
        return rl_color(self.theme.colours.primary)

    @property
    def accent(self) -> colors.Color:
        return rl_color(self.theme.colours.accent)

    @property
    def surface(self) -> colors.Color:
        return rl_color(self.theme.colours.surface)

    @property
    def muted_colour(self) -> colors.Color:
        return rl_color(self.theme.colours.muted)

    def severity_colour(self, severity: str) -> colors.Color:
        return rl_color(getattr(self.theme.colours.severity, str(severity), self.theme.colours.severity.info))

    def light_colour(self, light: Light) -> colors.Color:
        traffic = self.theme.colours.traffic
        return rl_color({Light.GREEN: traffic.green, Light.YELLOW: traffic.amber, Light.RED: traffic.red}.get(
            light, traffic.grey))


def make_styles(theme: Theme, names: FontNames) -> Styles:
    text = rl_color(theme.colours.text)
    primary = rl_color(theme.colours.primary)
    muted = rl_color(theme.colours.muted)

    def style(name: str, **kw: object) -> ParagraphStyle:
        base: dict[str, object] = {"fontName": names.regular, "fontSize": 9.5, "leading": 13, "textColor": text,
                                   "splitLongWords": 1, "bulletFontName": names.regular}
        base.update(kw)
        return ParagraphStyle(name, **base)  # type: ignore[arg-type]

    return Styles(
        names=names, theme=theme,
        body=style("body", spaceAfter=4),
        small=style("small", fontSize=8, leading=10.5),
        muted=style("muted", fontSize=8, leading=10.5, textColor=muted),
        h1=style("h1", fontName=names.heading, fontSize=18, leading=22, textColor=primary, spaceAfter=10),
        h2=style("h2", fontName=names.heading, fontSize=13, leading=16, textColor=primary, spaceBefore=10,
                 spaceAfter=6),
        h3=style("h3", fontName=names.bold, fontSize=10.5, leading=13, textColor=primary, spaceBefore=6,
                 spaceAfter=3),
        cell=style("cell", fontSize=8, leading=10),
        cell_head=style("cell_head", fontName=names.bold, fontSize=7.5, leading=10, textColor=colors.white),
        mono=style("mono", fontName=names.mono, fontSize=7, leading=8.8),
        mono_box=style("mono_box", fontName=names.mono, fontSize=7.5, leading=9.5,
                       backColor=rl_color(theme.colours.surface), borderPadding=(4, 4, 4, 4), spaceBefore=4,
                       spaceAfter=8, leftIndent=4, rightIndent=4),
        note_box=style("note_box", fontSize=9, leading=12.5, backColor=rl_color(theme.colours.surface),
                       borderColor=rl_color(theme.colours.accent), borderWidth=0.8, borderPadding=(6, 6, 6, 6),
                       spaceBefore=6, spaceAfter=12, leftIndent=6, rightIndent=6),
        badge=style("badge", fontName=names.bold, fontSize=7.5, leading=9, textColor=colors.white,
                    alignment=TA_CENTER),
        title=style("title", fontName=names.heading, fontSize=26, leading=32, textColor=primary, spaceAfter=8),
        subtitle=style("subtitle", fontSize=14, leading=18, textColor=text, spaceAfter=4),
        toc0=style("toc0", fontName=names.bold, fontSize=11, leading=15, spaceBefore=6, textColor=primary),
        toc1=style("toc1", fontSize=9.5, leading=13, leftIndent=14),
    )


class Heading(Paragraph):
    """A Paragraph that the doc template turns into a bookmark, an outline entry and (optionally) a TOC line."""

    def __init__(self, text: str, style: ParagraphStyle, level: int, key: str, *, toc: bool = True,
                 section: str = "") -> None:
        super().__init__(para_text(text), style)
        self.plain = str(text)
        self.outline_level = level
        self.outline_key = key
        self.in_toc = toc
        self.section_title = section


def p(text: object, style: ParagraphStyle) -> Paragraph:
    """An escaped Paragraph."""
    return Paragraph(para_text(text), style)


def table(st: Styles, rows: Sequence[Sequence[object]], widths: Sequence[float], *, header: bool = True,
          zebra: bool = True, extra: Sequence[tuple[object, ...]] = (), split_rows: bool = True) -> Table:
    """A table whose cells are Paragraphs (strings are escaped), header repeated on every page.

    ``split_rows`` lets a row break across pages, which a row holding kilobytes of evidence
    needs. Tables of short rows turn it off: reportlab then repeats the header in the middle of
    a page above the half row it moved.
    """
    data = []
    for r, row in enumerate(rows):
        cells = []
        for cell in row:
            if isinstance(cell, Flowable | list):
                cells.append(cell)
            else:
                cells.append(p(cell, st.cell_head if header and r == 0 else st.cell))
        data.append(cells)
    t = Table(data, colWidths=list(widths), repeatRows=1 if header else 0, splitInRow=1 if split_rows else 0,
              hAlign="LEFT")
    cmds: list[tuple[object, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), st.names.regular),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#D5DAE1")),
    ]
    if header:
        cmds.append(("BACKGROUND", (0, 0), (-1, 0), st.primary))
    if zebra and len(data) > 2:
        cmds.append(("ROWBACKGROUNDS", (0, 1 if header else 0), (-1, -1), [colors.white, st.surface]))
    cmds.extend(extra)
    t.setStyle(TableStyle(cmds))
    return t


def badge(st: Styles, label: str, colour: colors.Color, width: float = 22 * mm) -> Table:
    """A coloured label (severity, status) as a one-cell table."""
    t = Table([[p(label, st.badge)]], colWidths=[width], hAlign="LEFT")
    t.setStyle(plain_style(st, [
        ("BACKGROUND", (0, 0), (-1, -1), colour),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]))
    return t


def _drawing(st: Styles, width: float, height: float) -> Drawing:
    """A Drawing whose initial font is the theme's (reportlab's default would pull in unembedded Helvetica)."""
    d = Drawing(width, height)
    d.initialFontName = st.names.regular
    return d


def plain_style(st: Styles, cmds: Sequence[tuple[object, ...]]) -> TableStyle:
    """A TableStyle that sets the theme font first (a Table's default cell font is unembedded Helvetica)."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), st.names.regular), *cmds])


def grade_badge(st: Styles, grade: Grade, label: str, light: Light, size: float = 30 * mm) -> Drawing:
    """The big overall grade: the letter on a rounded square in the traffic-light colour of the grade."""
    d = _drawing(st, size, size)
    d.add(Rect(0, 0, size, size, rx=size / 8, ry=size / 8, fillColor=st.light_colour(light), strokeColor=None))
    if grade is Grade.NOT_ASSESSED:
        d.add(String(size / 2, size / 2 - 4, "–", fontName=st.names.bold, fontSize=size * 0.5,
                     fillColor=colors.white, textAnchor="middle"))
    else:
        d.add(String(size / 2, size * 0.22, label, fontName=st.names.bold, fontSize=size * 0.62,
                     fillColor=colors.white, textAnchor="middle"))
    return d


def light_dot(st: Styles, light: Light, size: float = 9) -> Drawing:
    d = _drawing(st, size + 2, size + 2)
    d.add(Circle(size / 2 + 1, size / 2 + 1, size / 2, fillColor=st.light_colour(light),
                 strokeColor=colors.white, strokeWidth=0.5))
    return d


def severity_chart(st: Styles, labels: Sequence[str], values: Sequence[int], sev_keys: Sequence[str],
                   width: float, height: float) -> Drawing:
    """Open findings per severity as vertical bars in the severity colours, with the count on each bar."""
    d = _drawing(st, width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 24, 22, width - 34, height - 32
    chart.data = [list(values)]
    chart.categoryAxis.categoryNames = list(labels)
    top = max([*values, 1])
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top + max(1, top // 5)
    chart.valueAxis.valueStep = max(1, (top + 4) // 5)
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName = st.names.regular
        axis.labels.fontSize = 7
        axis.labels.fillColor = st.muted_colour
        axis.strokeColor = st.muted_colour
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#E3E7EC")
    chart.bars.strokeColor = None
    for i, key in enumerate(sev_keys):
        chart.bars[(0, i)].fillColor = st.severity_colour(key)
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = st.names.bold
    chart.barLabels.fontSize = 7.5
    chart.barLabels.nudge = 6
    d.add(chart)
    return d


def category_chart(st: Styles, labels: Sequence[str], failed: Sequence[int], passed: Sequence[int],
                   untested: Sequence[int], legend: Sequence[str], width: float, height: float) -> Drawing:
    """Per category: open / passed / not tested results as stacked horizontal bars, with a legend."""
    d = _drawing(st, width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 92, 22, width - 100, height - 28
    chart.data = [list(failed), list(passed), list(untested)]
    chart.categoryAxis.categoryNames = list(labels)
    chart.categoryAxis.reverseDirection = True
    chart.categoryAxis.style = "stacked"
    chart.valueAxis.valueMin = 0
    totals = [a + b + c for a, b, c in zip(failed, passed, untested, strict=True)]
    top = max([*totals, 1])
    chart.valueAxis.valueMax = top
    chart.valueAxis.valueStep = max(1, (top + 3) // 4)
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName = st.names.regular
        axis.labels.fontSize = 7
        axis.labels.fillColor = st.muted_colour
        axis.strokeColor = st.muted_colour
    chart.bars.strokeColor = None
    traffic = st.theme.colours.traffic
    fills = [rl_color(st.theme.colours.severity.high), rl_color(traffic.green), rl_color(traffic.grey)]
    for i, fill in enumerate(fills):
        chart.bars[i].fillColor = fill
    d.add(chart)
    from reportlab.pdfbase.pdfmetrics import stringWidth

    x = 4.0
    for fill, text in zip(fills, legend, strict=True):
        d.add(Rect(x, 3, 7, 7, fillColor=fill, strokeColor=None))
        d.add(String(x + 10, 3.5, text, fontName=st.names.regular, fontSize=7, fillColor=st.muted_colour))
        x += 18 + stringWidth(text, st.names.regular, 7)
    return d
