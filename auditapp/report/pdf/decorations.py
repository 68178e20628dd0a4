"""Named page functions that the page templates combine: header, footer, cover band, draft watermark."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from auditapp.report.pdf.text import normalize
from auditapp.report.theme import FontNames, Theme, logo_size, rl_color

DRAFT = {"de": "ENTWURF", "en": "DRAFT"}


def _fit(canvas: Canvas, text: str, font: str, size: float, width: float) -> str:
    """``text`` shortened with an ellipsis so it fits ``width`` (header lines must stay on one line)."""
    text = " ".join(normalize(text).split())
    if canvas.stringWidth(text, font, size) <= width:
        return text
    while text and canvas.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def header(canvas: Canvas, theme: Theme, names: FontNames, title: str, classification: str, section: str) -> None:
    """Logo left, report title (and current section) in the middle, classification right, a rule below."""
    width, height = theme.page.size_pt
    m = theme.page.margins_mm
    left, right = m.left * mm, width - m.right * mm
    top = height - m.top * mm + 6 * mm
    canvas.saveState()
    logo_w, logo_h = logo_size(theme, theme.logo.width_mm, 8)
    canvas.drawImage(str(theme.logo.raster), left, top, logo_w, logo_h, mask="auto")
    muted = rl_color(theme.colours.muted)
    canvas.setFillColor(muted)
    canvas.setFont(names.bold, 8)
    cls = _fit(canvas, classification, names.bold, 8, 45 * mm)
    canvas.setFillColor(rl_color(theme.colours.accent))
    canvas.drawRightString(right, top + 4.5, cls.upper())
    text_left = left + logo_w + 6 * mm
    room = right - text_left - canvas.stringWidth(cls.upper(), names.bold, 8) - 6 * mm
    canvas.setFillColor(muted)
    canvas.setFont(names.regular, 8)
    canvas.drawString(text_left, top + 7, _fit(canvas, title, names.regular, 8, room))
    if section:
        canvas.setFont(names.bold, 8)
        canvas.setFillColor(rl_color(theme.colours.primary))
        canvas.drawString(text_left, top - 2, _fit(canvas, section, names.bold, 8, room))
    canvas.setStrokeColor(rl_color(theme.colours.accent))
    canvas.setLineWidth(0.8)
    canvas.line(left, top - 5, right, top - 5)
    canvas.restoreState()


def footer(canvas: Canvas, theme: Theme, names: FontNames, text: str, page_label: str) -> None:
    """Footer text of the theme left, "Page X of Y" right, a thin rule above."""
    width, _ = theme.page.size_pt
    m = theme.page.margins_mm
    left, right = m.left * mm, width - m.right * mm
    y = m.bottom * mm - 10 * mm
    canvas.saveState()
    canvas.setStrokeColor(colors.HexColor("#D5DAE1"))
    canvas.setLineWidth(0.5)
    canvas.line(left, y + 10, right, y + 10)
    canvas.setFont(names.regular, 7.5)
    canvas.setFillColor(rl_color(theme.colours.muted))
    canvas.drawRightString(right, y, page_label)
    room = right - left - canvas.stringWidth(page_label, names.regular, 7.5) - 8 * mm
    canvas.drawString(left, y, _fit(canvas, text, names.regular, 7.5, room))
    canvas.restoreState()


def cover_band(canvas: Canvas, theme: Theme) -> None:
    """The cover's colour band along the left edge and a thin accent line at the bottom."""
    height = theme.page.size_pt[1]
    canvas.saveState()
    canvas.setFillColor(rl_color(theme.colours.primary))
    canvas.rect(0, 0, 8 * mm, height, stroke=0, fill=1)
    canvas.setFillColor(rl_color(theme.colours.accent))
    canvas.rect(8 * mm, 0, 2 * mm, height, stroke=0, fill=1)
    canvas.restoreState()


def watermark(canvas: Canvas, theme: Theme, names: FontNames, lines: str | Sequence[str]) -> None:
    """Large, light, diagonal text behind the page content: "DRAFT", or a degraded run's two lines.

    All lines share one size, the largest at which the longest fits the diagonal band; lines
    beside the diagonal have less room before the page corners, hence the smaller band for two.
    """
    rows = [lines] if isinstance(lines, str) else list(lines)
    width, height = theme.page.size_pt
    canvas.saveState()
    canvas.setFillColor(colors.Color(0.8, 0.1, 0.1, alpha=0.12))
    canvas.translate(width / 2, height / 2)
    canvas.rotate(45)
    size = 110.0
    longest = max(rows, key=lambda row: canvas.stringWidth(row, names.bold, 10))
    band = height * (0.9 if len(rows) == 1 else 0.72)
    while size > 20 and canvas.stringWidth(longest, names.bold, size) > band:
        size -= 5
    canvas.setFont(names.bold, size)
    step = size * 1.15
    top = (len(rows) - 1) * step / 2
    for i, row in enumerate(rows):
        canvas.drawCentredString(0, top - i * step - size / 3, row)
    canvas.restoreState()
