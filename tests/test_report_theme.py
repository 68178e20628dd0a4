"""Report themes: loading, strict validation, branding overrides, embedded fonts and logos."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate

from auditapp.paths import asset_dir
from auditapp.report.theme import (
    Theme,
    ThemeError,
    available_themes,
    load_theme,
    logo_flowable,
    logo_size,
    register_fonts,
    theme_from_branding,
)

REPORTS = asset_dir("reports")
DEFAULT_TOML = REPORTS / "themes" / "default.toml"
SAMPLE = "Prüfung ß € bücher.example"


def _theme_file(tmp_path: Path, old: str = "", new: str = "") -> Path:
    """A copy of the default theme outside reports/, its logo made absolute, with one edit applied."""
    text = DEFAULT_TOML.read_text("utf-8").replace(
        '"../logos/auditapp.png"', f'"{(REPORTS / "logos" / "auditapp.png").as_posix()}"'
    )
    if old:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "theme.toml"
    path.write_text(text, "utf-8")
    return path


def _fonts_of(pdf: bytes) -> dict[str, dict]:
    """BaseFont name -> font dictionary of every font the PDF's pages use."""
    found: dict[str, dict] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            found[str(font["/BaseFont"]).lstrip("/")] = font
    return found


def _render(theme: Theme, markup: list[str], style: str = "regular") -> bytes:
    names = register_fonts(theme)
    out = io.BytesIO()
    # initialFontName: otherwise every page's canvas starts in (non-embedded) Helvetica and lists it.
    doc = SimpleDocTemplate(out, pagesize=theme.page.size_pt, initialFontName=names.regular)
    para = ParagraphStyle("t", fontName=getattr(names, style), fontSize=11, leading=14)
    doc.build([Paragraph(text, para) for text in markup])
    return out.getvalue()


# --------------------------------------------------------------------------- loading


def test_both_bundled_themes_load_and_differ() -> None:
    assert {"default", "example-consultancy"} <= set(available_themes())
    default, other = load_theme("default"), load_theme("example-consultancy")
    assert default.name == "default" and other.name == "example-consultancy"
    assert default.colours.primary != other.colours.primary
    assert default.colours.accent != other.colours.accent
    assert default.logo.raster != other.logo.raster
    assert (default.fonts.heading, other.fonts.heading) == ("bold", "mono_bold")
    assert other.company.address[0] == "Beispielstraße 12"
    assert default.classification.get("de") == "Vertraulich"
    assert default.classification.get("en") == "Confidential"
    assert default.page.size == "A4" and default.page.margins_mm.left == 20


def test_load_by_path_equals_load_by_name() -> None:
    assert load_theme(DEFAULT_TOML) == load_theme("default")
    assert load_theme(str(DEFAULT_TOML)) == load_theme("default")


def test_svg_logo_is_embedded_from_its_png_rendition() -> None:
    theme = load_theme("example-consultancy")
    assert theme.logo.path.suffix == ".svg"
    assert theme.logo.raster == theme.logo.path.with_suffix(".png")


def test_theme_round_trips_through_its_dict_form() -> None:
    for name in available_themes():
        theme = load_theme(name)
        assert theme_from_branding({"name": theme.name}, theme) == theme


# --------------------------------------------------------------------------- strict validation


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ('primary = "#1F3A5F"', 'primary = "#1F3A5"', "colours.primary", "#rrggbb"),
        ('primary = "#1F3A5F"', 'primary = "navy"', "colours.primary", "#rrggbb"),
        ('critical = "#8E1B1B"', 'critical = "#8E1B1G"', "colours.severity.critical", "#rrggbb"),
        ('primary = "#1F3A5F"', 'primary = "#1F3A5F"\nprimry = "#000000"', "colours.primry", "unknown key"),
        ('name = "default"', 'name = "default"\nlogo_url = "x"', "logo_url", "unknown key"),
        ('regular = "DejaVuSans.ttf"', 'regular = "NoSuchFont.ttf"', "fonts.regular", "not found"),
        ('mono = "DejaVuSansMono.ttf"', 'mono = "LICENSE-DejaVu.txt"', "fonts.mono", "not a TrueType"),
        ('heading = "bold"', 'heading = "fat"', "fonts.heading", "must be one of"),
        ('width_mm = 60', 'width_mm = "wide"', "logo.width_mm", "number"),
        ('size = "A4"', 'size = "A3"', "page.size", "must be one of"),
        ("left = 20", "left = 500", "page.margins_mm.left", "number"),
        ('en = "Confidential"', "", "classification.en", "missing"),
        ('web = ""', "web = 3", "company.web", "string"),
    ],
)
def test_invalid_field_is_one_line_naming_file_and_field(
    tmp_path: Path, old: str, new: str, field: str, problem: str
) -> None:
    path = _theme_file(tmp_path, old, new)
    with pytest.raises(ThemeError) as info:
        load_theme(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {field}: ")
    assert problem in message


def test_missing_logo_names_the_field(tmp_path: Path) -> None:
    path = _theme_file(tmp_path, "auditapp.png", "no-such-logo.png")
    with pytest.raises(ThemeError, match=r"logo\.path: logo file not found"):
        load_theme(path)


def test_svg_logo_without_png_rendition_is_refused(tmp_path: Path) -> None:
    (tmp_path / "mark.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', "utf-8")
    path = _theme_file(tmp_path, (REPORTS / "logos" / "auditapp.png").as_posix(), (tmp_path / "mark.svg").as_posix())
    with pytest.raises(ThemeError, match=r"logo\.path: SVG logo needs a PNG"):
        load_theme(path)


def test_cff_opentype_font_is_refused_with_a_reason(tmp_path: Path) -> None:
    otf = tmp_path / "Fancy.otf"
    otf.write_bytes(b"OTTO" + bytes(64))
    path = _theme_file(tmp_path, 'bold = "DejaVuSans-Bold.ttf"', f'bold = "{otf.as_posix()}"')
    with pytest.raises(ThemeError, match=r"fonts\.bold: Fancy\.otf is a CFF-based OpenType font"):
        load_theme(path)


def test_unknown_name_and_broken_toml(tmp_path: Path) -> None:
    with pytest.raises(ThemeError, match=r"^nope: unknown theme; available: .*default"):
        load_theme("nope")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = ", "utf-8")
    with pytest.raises(ThemeError, match="invalid TOML"):
        load_theme(broken)
    with pytest.raises(ThemeError, match="cannot read theme"):
        load_theme(tmp_path / "absent.toml")


# --------------------------------------------------------------------------- branding


def test_branding_overrides_single_fields(tmp_path: Path) -> None:
    base = load_theme("default")
    client_logo = tmp_path / "client.png"
    client_logo.write_bytes((REPORTS / "logos" / "muster-partner.png").read_bytes())
    branded = theme_from_branding(
        {
            "colours": {"accent": "#aa0000", "severity": {"high": "#112233"}},
            "logo": {"path": "client.png"},
            "company": {"name": "Beispiel GmbH", "address": ["Am Markt 1", "12345 Musterstadt"]},
            "footer": {"de": "Nur für den internen Gebrauch"},
            "classification": "Intern",
            "fonts": {"heading": "mono_bold"},
        },
        base,
        base_dir=tmp_path,
    )
    assert branded.colours.accent == "#AA0000"
    assert branded.colours.severity.high == "#112233"
    assert branded.colours.primary == base.colours.primary
    assert branded.colours.severity.critical == base.colours.severity.critical
    assert branded.logo.raster == client_logo.resolve()
    assert branded.logo.width_mm == base.logo.width_mm
    assert branded.company.name == "Beispiel GmbH" and branded.company.web == base.company.web
    assert branded.footer.get("de") == "Nur für den internen Gebrauch"
    assert branded.footer.get("en") == base.footer.get("en")
    assert branded.classification.get("en") == "Intern"
    assert branded.fonts.heading == "mono_bold" and branded.fonts.regular == base.fonts.regular
    assert theme_from_branding({}, base) is base


@pytest.mark.parametrize(
    ("branding", "message"),
    [
        ({"colours": {"acent": "#000000"}}, r"^project branding: colours\.acent: unknown key$"),
        ({"colours": {"accent": "red"}}, r"^project branding: colours\.accent: must be a colour"),
        ({"logo": {"path": "client.png"}}, r"^project branding: logo\.path: relative logo path"),
        ({"fonts": {"bold": "/nonexistent/Bold.ttf"}}, r"^project branding: fonts\.bold: font file not found"),
        ({"page": "A4"}, r"^project branding: page: must be a table$"),
    ],
)
def test_invalid_branding_is_one_line(branding: dict, message: str) -> None:
    with pytest.raises(ThemeError, match=message):
        theme_from_branding(branding, load_theme("default"))


# --------------------------------------------------------------------------- fonts


def test_register_fonts_is_idempotent_and_maps_bold_italic() -> None:
    from reportlab.lib.fonts import tt2ps

    theme = load_theme("default")
    names = register_fonts(theme)
    assert register_fonts(load_theme("default")) == names
    assert tt2ps(names.family, 0, 0) == names.regular
    assert tt2ps(names.family, 1, 0) == names.bold
    assert tt2ps(names.family, 0, 1) == names.italic
    assert tt2ps(names.family, 1, 1) == names.bold_italic
    assert tt2ps(names.mono_family, 1, 0) == names.mono_bold
    assert register_fonts(load_theme("example-consultancy")).heading == names.mono_bold


def test_pdf_embeds_subset_fonts_and_text_round_trips() -> None:
    theme = load_theme("default")
    pdf = _render(theme, [SAMPLE, f"<b>{SAMPLE}</b> <i>kursiv</i> <b><i>beides</i></b>"])
    used = _fonts_of(pdf)
    assert {name.split("+", 1)[1] for name in used} == {
        "DejaVuSans",
        "DejaVuSans-Bold",
        "DejaVuSans-Oblique",
        "DejaVuSans-BoldOblique",
    }
    for name, font in used.items():
        assert re.fullmatch(r"[A-Z]{6}\+[\w-]+", name), f"{name} is not a subset"
        assert "/FontFile2" in font["/FontDescriptor"], f"{name} is not embedded"
    lines = PdfReader(io.BytesIO(pdf)).pages[0].extract_text().splitlines()
    assert lines[0] == SAMPLE
    assert lines[1].startswith(SAMPLE)


def test_mono_font_embeds_and_round_trips() -> None:
    pdf = _render(load_theme("example-consultancy"), [SAMPLE], style="heading")
    used = _fonts_of(pdf)
    assert {name.split("+", 1)[1] for name in used} == {"DejaVuSansMono-Bold"}
    assert all("/FontFile2" in font["/FontDescriptor"] for font in used.values())
    assert PdfReader(io.BytesIO(pdf)).pages[0].extract_text().strip() == SAMPLE


# --------------------------------------------------------------------------- logos and paths


@pytest.mark.parametrize("name", ["default", "example-consultancy"])
def test_logos_load_as_flowables(name: str) -> None:
    theme = load_theme(name)
    image = logo_flowable(theme)
    assert image.drawWidth == pytest.approx(theme.logo.width_mm * 72 / 25.4)
    assert 0 < image.drawHeight < image.drawWidth
    width, height = logo_size(theme, 200, max_height_mm=10)
    assert height == pytest.approx(10 * 72 / 25.4) and width < 200 * 72 / 25.4
    pdf = io.BytesIO()
    SimpleDocTemplate(pdf).build([image])
    assert PdfReader(pdf).pages[0]["/Resources"]["/XObject"]


def test_bundled_svg_logos_are_well_formed() -> None:
    for svg in (REPORTS / "logos").glob("*.svg"):
        root = ET.parse(svg).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert svg.with_suffix(".png").is_file()


def test_asset_dir() -> None:
    assert (asset_dir("reports") / "fonts" / "LICENSE-DejaVu.txt").is_file()
    with pytest.raises(ValueError, match="unknown asset folder"):
        asset_dir("secrets")
