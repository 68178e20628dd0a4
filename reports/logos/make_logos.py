"""Draws the bundled logos as SVG (the editable source) and PNG (what the PDF embeds).

reportlab cannot read SVG without the extra ``svglib`` dependency, so every SVG logo ships with a PNG
rendition of the same name; the theme loader uses that PNG. Both files come from the same shapes here,
so they cannot drift apart. The PNG is drawn with Pillow (a reportlab dependency) using the bundled
DejaVu fonts, 4x supersampled for smooth edges. Run it after changing a design::

    .venv/bin/python reports/logos/make_logos.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
FONTS = HERE.parent / "fonts"
#: Output pixels per SVG user unit, and the supersampling factor on top of it.
PNG_SCALE = 2
SUPERSAMPLE = 4


def _font(name: str, size: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / name), round(size * PNG_SCALE * SUPERSAMPLE))


def _text_width(name: str, size: float, text: str) -> float:
    """Advance width in SVG user units, so the SVG viewBox fits the text as the PNG does."""
    return _font(name, size).getlength(text) / (PNG_SCALE * SUPERSAMPLE)


def _canvas(width: float, height: float) -> tuple[Image.Image, ImageDraw.ImageDraw, float]:
    k = PNG_SCALE * SUPERSAMPLE
    image = Image.new("RGBA", (round(width * k), round(height * k)), (255, 255, 255, 0))
    return image, ImageDraw.Draw(image), k


def _save(image: Image.Image, path: Path) -> None:
    size = (image.width // SUPERSAMPLE, image.height // SUPERSAMPLE)
    image.resize(size, Image.Resampling.LANCZOS).save(path, optimize=True)


def auditapp_logo() -> None:
    """The default wordmark: a navy tile with an envelope and a teal check, then "auditapp"."""
    navy, teal = "#1F3A5F", "#2A9D8F"
    size = 72
    w_audit = _text_width("DejaVuSans-Bold.ttf", size, "audit")
    w_app = _text_width("DejaVuSans.ttf", size, "app")
    width, height = 150 + w_audit + w_app + 10, 140
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" \
viewBox="0 0 {width:.0f} {height}">
  <title>auditapp</title>
  <rect x="10" y="10" width="120" height="120" rx="24" fill="{navy}"/>
  <rect x="30" y="40" width="76" height="54" rx="6" fill="none" stroke="#FFFFFF" stroke-width="7"/>
  <polyline points="32,44 68,72 104,44" fill="none" stroke="#FFFFFF" stroke-width="7" stroke-linejoin="round"/>
  <circle cx="104" cy="98" r="21" fill="{teal}" stroke="{navy}" stroke-width="5"/>
  <polyline points="94,98 101,106 115,90" fill="none" stroke="#FFFFFF" stroke-width="6"
            stroke-linecap="round" stroke-linejoin="round"/>
  <text x="150" y="96" font-family="DejaVu Sans, Verdana, sans-serif" font-size="{size}" fill="{navy}"
    ><tspan font-weight="bold">audit</tspan><tspan fill="{teal}">app</tspan></text>
</svg>
"""
    (HERE / "auditapp.svg").write_text(svg, "utf-8")

    image, draw, k = _canvas(width, height)
    draw.rounded_rectangle([10 * k, 10 * k, 130 * k, 130 * k], radius=24 * k, fill=navy)
    draw.rounded_rectangle([30 * k, 40 * k, 106 * k, 94 * k], radius=6 * k, outline="#FFFFFF", width=round(7 * k))
    draw.line([(32 * k, 44 * k), (68 * k, 72 * k), (104 * k, 44 * k)], fill="#FFFFFF", width=round(7 * k),
              joint="curve")
    r = 21 + 2.5
    draw.ellipse([(104 - r) * k, (98 - r) * k, (104 + r) * k, (98 + r) * k], fill=navy)
    r = 21 - 2.5
    draw.ellipse([(104 - r) * k, (98 - r) * k, (104 + r) * k, (98 + r) * k], fill=teal)
    draw.line([(94 * k, 98 * k), (101 * k, 106 * k), (115 * k, 90 * k)], fill="#FFFFFF", width=round(6 * k),
              joint="curve")
    draw.text((150 * k, 96 * k), "audit", font=_font("DejaVuSans-Bold.ttf", size), fill=navy, anchor="ls")
    draw.text(((150 + w_audit) * k, 96 * k), "app", font=_font("DejaVuSans.ttf", size), fill=teal, anchor="ls")
    _save(image, HERE / "auditapp.png")


def muster_partner_logo() -> None:
    """The example consultancy: a teal disc with "M&P" in mono, the firm's name and a gold tagline."""
    teal, gold, ink = "#0F5257", "#C9A227", "#1B1B1B"
    name, tagline = "Muster & Partner", "SICHERHEITSBERATUNG"
    w_name = _text_width("DejaVuSans-Bold.ttf", 46, name)
    w_tag = _text_width("DejaVuSansMono.ttf", 22, tagline)
    width, height = 150 + max(w_name, w_tag) + 10, 140
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" \
viewBox="0 0 {width:.0f} {height}">
  <title>Muster &amp; Partner Sicherheitsberatung</title>
  <circle cx="70" cy="70" r="60" fill="{teal}"/>
  <circle cx="70" cy="70" r="50" fill="none" stroke="{gold}" stroke-width="3"/>
  <text x="70" y="84" text-anchor="middle" font-family="DejaVu Sans Mono, monospace" font-weight="bold"
        font-size="38" fill="#FFFFFF">M&amp;P</text>
  <text x="150" y="72" font-family="DejaVu Sans, Verdana, sans-serif" font-weight="bold" font-size="46"
        fill="{ink}">Muster &amp; Partner</text>
  <text x="152" y="106" font-family="DejaVu Sans Mono, monospace" font-size="22" fill="{gold}">{tagline}</text>
</svg>
"""
    (HERE / "muster-partner.svg").write_text(svg, "utf-8")

    image, draw, k = _canvas(width, height)
    draw.ellipse([10 * k, 10 * k, 130 * k, 130 * k], fill=teal)
    draw.ellipse([20 * k, 20 * k, 120 * k, 120 * k], outline=gold, width=round(3 * k))
    draw.text((70 * k, 84 * k), "M&P", font=_font("DejaVuSansMono-Bold.ttf", 38), fill="#FFFFFF", anchor="ms")
    draw.text((150 * k, 72 * k), name, font=_font("DejaVuSans-Bold.ttf", 46), fill=ink, anchor="ls")
    draw.text((152 * k, 106 * k), tagline, font=_font("DejaVuSansMono.ttf", 22), fill=gold, anchor="ls")
    _save(image, HERE / "muster-partner.png")


if __name__ == "__main__":
    auditapp_logo()
    muster_partner_logo()
