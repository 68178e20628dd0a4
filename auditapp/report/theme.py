"""Report themes: the consultant's brand (colours, fonts, logo, address, texts, page setup) as data.

A theme is a TOML file under ``reports/themes/`` (or anywhere, given by path); ``default.toml`` documents
every key. A project's stored ``branding`` dict has the same shape and overrides single fields of a theme
(:func:`theme_from_branding`), so a consultant can keep one theme and vary the logo per client.

Why strict validation: a theme is edited by hand, and a typo (``primry``, ``#1f3a5``, a font file that is
not there) would otherwise surface as a half-styled PDF or a reportlab traceback in the middle of a
render. Every problem is a :class:`ThemeError` with one line naming the file and the dotted field.

Why embedded TrueType fonts: reportlab's 14 standard fonts are not embedded and only cover Latin-1, so
IDN names and ``€`` would render differently per viewer or not at all. :func:`register_fonts` registers
the theme's TTFs under names unique to that theme and maps bold/italic so ``<b>``/``<i>`` work in
Paragraphs.

This module must not import Qt: the CLI renders reports without a GUI.
"""

from __future__ import annotations

import hashlib
import re
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NoReturn

from reportlab.lib import colors, fonts
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image

from auditapp.paths import asset_dir

#: Report languages; a localised theme text is given for each (or once, for all).
LANGUAGES = ("de", "en")
#: Page sizes a theme may name, in points.
PAGE_SIZES: dict[str, tuple[float, float]] = {"A4": A4, "Letter": LETTER}
#: Font roles a theme provides; ``fonts.heading`` names one of them.
FONT_ROLES = ("regular", "bold", "italic", "bold_italic", "mono", "mono_bold")
#: Logo formats reportlab can embed directly.
RASTER_SUFFIXES = (".png", ".jpg", ".jpeg")

_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
#: First four bytes of font files reportlab's TTFont can embed (TrueType outlines).
_TRUETYPE_MAGIC = (b"\x00\x01\x00\x00", b"true")


class ThemeError(ValueError):
    """A theme or branding problem, as one line: ``<file>: <field>: <problem>``."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class SeverityColours:
    """Badge colours per finding severity (the catalog's severities)."""

    critical: str
    high: str
    medium: str
    low: str
    info: str


@dataclass(frozen=True)
class TrafficColours:
    """Traffic-light colours of the management summary; ``grey`` means not tested."""

    red: str
    amber: str
    green: str
    grey: str


@dataclass(frozen=True)
class Colours:
    """Brand colours as ``#RRGGBB`` strings (serialisable; see :func:`rl_color` for reportlab)."""

    primary: str
    accent: str
    text: str
    muted: str
    surface: str
    severity: SeverityColours
    traffic: TrafficColours


@dataclass(frozen=True)
class FontFiles:
    """Absolute paths of the theme's TrueType files, and which of them headings use."""

    regular: Path
    bold: Path
    italic: Path
    bold_italic: Path
    mono: Path
    mono_bold: Path
    heading: str


@dataclass(frozen=True)
class Logo:
    """The brand logo; ``path`` as configured, ``raster`` what reportlab embeds."""

    path: Path
    width_mm: float

    @property
    def raster(self) -> Path:
        """The PNG/JPEG to embed: the file itself, or for an SVG the PNG of the same name next to it.

        reportlab reads SVG only through the extra ``svglib`` dependency, which auditapp does not use.
        """
        return self.path.with_suffix(".png") if self.path.suffix.lower() == ".svg" else self.path


@dataclass(frozen=True)
class Company:
    """The consultant's address block (cover and imprint)."""

    name: str
    address: tuple[str, ...]
    web: str
    email: str


@dataclass(frozen=True)
class Localized:
    """A theme text per report language (the report language is independent of the GUI's)."""

    de: str
    en: str

    def get(self, lang: str) -> str:
        """The text for ``lang``; English for languages the theme does not know."""
        return self.de if lang.split("_")[0].lower() == "de" else self.en


@dataclass(frozen=True)
class Margins:
    """Page margins in millimetres."""

    top: float
    bottom: float
    left: float
    right: float


@dataclass(frozen=True)
class Page:
    """Page size name and margins."""

    size: str
    margins_mm: Margins

    @property
    def size_pt(self) -> tuple[float, float]:
        """Width and height in points, for reportlab's ``pagesize``."""
        return PAGE_SIZES[self.size]


@dataclass(frozen=True)
class Theme:
    """A validated report theme. ``source`` is the file it came from (``None`` if built in code)."""

    name: str
    colours: Colours
    fonts: FontFiles
    logo: Logo
    company: Company
    footer: Localized
    classification: Localized
    page: Page
    source: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """The theme in file shape with absolute paths: the base that branding overrides are merged into."""
        return {
            "name": self.name,
            "colours": {
                **{f.name: getattr(self.colours, f.name) for f in fields(Colours) if f.name not in
                   ("severity", "traffic")},
                "severity": _fields_dict(self.colours.severity),
                "traffic": _fields_dict(self.colours.traffic),
            },
            "fonts": {**{role: str(getattr(self.fonts, role)) for role in FONT_ROLES}, "heading": self.fonts.heading},
            "logo": {"path": str(self.logo.path), "width_mm": self.logo.width_mm},
            "company": {
                "name": self.company.name,
                "address": list(self.company.address),
                "web": self.company.web,
                "email": self.company.email,
            },
            "footer": _fields_dict(self.footer),
            "classification": _fields_dict(self.classification),
            "page": {"size": self.page.size, "margins_mm": _fields_dict(self.page.margins_mm)},
        }


@dataclass(frozen=True)
class FontNames:
    """reportlab font names of a registered theme, for ``ParagraphStyle.fontName`` and ``setFont``.

    ``family``/``mono_family`` are the family names whose bold/italic mapping makes ``<b>`` and ``<i>``
    work; ``heading`` is the face the theme chose for headings.
    """

    regular: str
    bold: str
    italic: str
    bold_italic: str
    mono: str
    mono_bold: str
    family: str
    mono_family: str
    heading: str


def _fields_dict(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def rl_color(value: str) -> colors.Color:
    """A theme colour (``#RRGGBB``) as a reportlab colour."""
    return colors.HexColor(value)


# --------------------------------------------------------------------------- validation


class _Table:
    """Reads one TOML table, naming the dotted field in every error and rejecting leftover keys."""

    def __init__(self, data: Any, where: str, prefix: str = "") -> None:
        self.where = where
        self.prefix = prefix
        if not isinstance(data, Mapping):
            self.fail("", "must be a table")
        self.data = dict(data)
        self.seen: set[str] = set()

    def fail(self, key: str, problem: str) -> NoReturn:
        field_name = f"{self.prefix}{key}".rstrip(".") or "(top level)"
        raise ThemeError(f"{self.where}: {field_name}: {problem}")

    def raw(self, key: str) -> Any:
        self.seen.add(key)
        if key not in self.data:
            self.fail(key, "missing")
        return self.data[key]

    def table(self, key: str) -> _Table:
        value = self.raw(key)
        if not isinstance(value, Mapping):
            self.fail(key, "must be a table")
        return _Table(value, self.where, f"{self.prefix}{key}.")

    def string(self, key: str, *, required: bool = False) -> str:
        value = self.raw(key)
        if not isinstance(value, str):
            self.fail(key, "must be a string")
        if required and not value.strip():
            self.fail(key, "must not be empty")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.raw(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, "must be a list of strings")
        return tuple(value)

    def number(self, key: str, low: float, high: float) -> float:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            self.fail(key, f"must be a number from {low:g} to {high:g}")
        return float(value)

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        value = self.raw(key)
        if value not in options:
            self.fail(key, f"must be one of {', '.join(options)}, not {value!r}")
        return str(value)

    def colour(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or not _COLOUR.fullmatch(value):
            self.fail(key, f'must be a colour "#rrggbb", not {value!r}')
        return value.upper()

    def localized(self, key: str) -> Localized:
        value = self.raw(key)
        if isinstance(value, str):
            return Localized(value, value)
        texts = _Table(value, self.where, f"{self.prefix}{key}.")
        result = Localized(**{lang: texts.string(lang) for lang in LANGUAGES})
        texts.done()
        return result

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            self.fail(unknown[0], "unknown key")


def _font_file(table: _Table, role: str, fonts_dir: Path) -> Path:
    value = table.string(role, required=True)
    path = Path(value).expanduser()
    path = path if path.is_absolute() else fonts_dir / path
    if not path.is_file():
        table.fail(role, f"font file not found: {path}")
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        table.fail(role, f"font file unreadable: {path}: {exc.strerror}")
    if magic == b"OTTO":
        table.fail(role, f"{path.name} is a CFF-based OpenType font; reportlab embeds only TrueType outlines")
    if magic not in _TRUETYPE_MAGIC:
        table.fail(role, f"{path.name} is not a TrueType font file")
    return path.resolve()


def _logo(table: _Table, base_dir: Path | None) -> Logo:
    value = table.string("path", required=True)
    path = Path(value).expanduser()
    if not path.is_absolute():
        if base_dir is None:
            table.fail("path", f"relative logo path {value!r} needs an absolute path here")
        path = base_dir / path
    suffix = path.suffix.lower()
    if suffix not in (*RASTER_SUFFIXES, ".svg"):
        table.fail("path", f"logo must be PNG, JPEG or SVG, not {path.name}")
    if not path.is_file():
        table.fail("path", f"logo file not found: {path}")
    logo = Logo(path.resolve(), table.number("width_mm", 5, 200))
    if not logo.raster.is_file():
        table.fail("path", f"SVG logo needs a PNG rendition next to it (reportlab reads no SVG): {logo.raster}")
    try:
        ImageReader(str(logo.raster)).getSize()
    except Exception as exc:  # reportlab/PIL raise many types for a bad image
        table.fail("path", f"logo image unreadable: {logo.raster.name}: {exc}")
    return logo


def _parse(data: Mapping[str, Any], where: str, *, logo_dir: Path | None, source: Path | None) -> Theme:
    """Build a :class:`Theme` from file-shaped data; relative fonts resolve under ``reports/fonts``."""
    top = _Table(data, where)
    name = top.string("name", required=True)

    col = top.table("colours")
    sev, traffic = col.table("severity"), col.table("traffic")
    colours = Colours(
        **{key: col.colour(key) for key in ("primary", "accent", "text", "muted", "surface")},
        severity=SeverityColours(**{f.name: sev.colour(f.name) for f in fields(SeverityColours)}),
        traffic=TrafficColours(**{f.name: traffic.colour(f.name) for f in fields(TrafficColours)}),
    )
    sev.done()
    traffic.done()
    col.done()

    fnt = top.table("fonts")
    fonts_dir = asset_dir("reports") / "fonts"
    font_files = FontFiles(
        **{role: _font_file(fnt, role, fonts_dir) for role in FONT_ROLES},
        heading=fnt.choice("heading", FONT_ROLES),
    )
    fnt.done()

    logo_table = top.table("logo")
    logo = _logo(logo_table, logo_dir)
    logo_table.done()

    comp = top.table("company")
    company = Company(comp.string("name", required=True), comp.strings("address"), comp.string("web"),
                      comp.string("email"))
    comp.done()

    footer = top.localized("footer")
    classification = top.localized("classification")

    pg = top.table("page")
    size = pg.choice("size", tuple(PAGE_SIZES))
    marg = pg.table("margins_mm")
    margins = Margins(**{f.name: marg.number(f.name, 5, 60) for f in fields(Margins)})
    marg.done()
    pg.done()
    top.done()
    return Theme(name, colours, font_files, logo, company, footer, classification, Page(size, margins), source)


def themes_dir() -> Path:
    """The folder of the bundled themes (``reports/themes``)."""
    return asset_dir("reports") / "themes"


def available_themes() -> list[str]:
    """Names of the bundled themes, for the GUI's choice and the CLI's help."""
    return sorted(p.stem for p in themes_dir().glob("*.toml"))


def load_theme(path_or_name: str | Path = "default") -> Theme:
    """Load and validate a theme: a bare name (``"default"``) from ``reports/themes``, or a file path.

    Relative font names resolve under ``reports/fonts``; a relative logo path resolves against the
    theme file's folder, so a theme and its logo can be copied together.

    Raises:
        ThemeError: unknown theme name, unreadable or invalid TOML, or any invalid field (one line).
    """
    text = str(path_or_name)
    is_name = not isinstance(path_or_name, Path) and "/" not in text and "\\" not in text and \
        not text.endswith(".toml")
    path = themes_dir() / f"{text}.toml" if is_name else Path(text).expanduser()
    if is_name and not path.is_file():
        raise ThemeError(f"{text}: unknown theme; available: {', '.join(available_themes())}")
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ThemeError(f"{path}: cannot read theme: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ThemeError(f"{path}: theme is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{path}: invalid TOML: {exc}") from exc
    resolved = path.resolve()
    return _parse(data, str(path), logo_dir=resolved.parent, source=resolved)


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merge key by key, anything else in ``override`` replaces the base value."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def theme_from_branding(branding: Mapping[str, Any], base: Theme, *, base_dir: Path | None = None,
                        where: str = "project branding") -> Theme:
    """``base`` with the fields a project's stored branding sets, validated as strictly as a theme file.

    ``branding`` has the theme file's shape but any subset of it, e.g.
    ``{"logo": {"path": "client.png"}, "colours": {"accent": "#AA0000"}, "footer": {"de": "..."}}``.
    A relative logo path resolves against ``base_dir`` (the project file's folder); without one it must be
    absolute. An empty branding returns ``base`` unchanged.

    Raises:
        ThemeError: an unknown key or invalid value, named as ``<where>: <field>: <problem>``.
    """
    if not branding:
        return base
    if not isinstance(branding, Mapping):
        raise ThemeError(f"{where}: (top level): must be a table")
    merged = _merge(base.to_dict(), branding)
    return _parse(merged, where, logo_dir=base_dir, source=base.source)


# --------------------------------------------------------------------------- reportlab glue

_REGISTER_LOCK = threading.Lock()
_REGISTERED: dict[FontFiles, FontNames] = {}


def _family_name(prefix: str, paths: list[Path]) -> str:
    """A family name unique to this set of files, so two themes never share (and remap) a face name."""
    digest = hashlib.sha1("\0".join(map(str, paths)).encode("utf-8")).hexdigest()[:10]
    return f"{prefix}-{digest}"


def _register_family(family: str, faces: dict[str, Path]) -> dict[str, str]:
    """Register the faces as ``<family>-<role>`` and map bold/italic of ``family`` onto them.

    The mapping is added regular face last: reportlab keys its reverse map (face → family, bold, italic)
    by face name, and a face used for two slots (mono regular doubles as mono italic) must resolve back
    to the non-bold, non-italic slot.
    """
    names = {role: f"{family}-{role}" for role in faces}
    registered = set(pdfmetrics.getRegisteredFontNames())
    for role, path in faces.items():
        if names[role] not in registered:
            pdfmetrics.registerFont(TTFont(names[role], str(path)))
    slots = {(1, 1): "bold_italic", (0, 1): "italic", (1, 0): "bold", (0, 0): "regular"}
    for (bold, italic), role in slots.items():
        fonts.addMapping(family, bold, italic, names[role])
    return names


def register_fonts(theme: Theme) -> FontNames:
    """Register the theme's fonts with reportlab (idempotent, thread-safe) and return their names.

    Fonts are embedded as subsets, so a PDF carries only the glyphs it uses.
    """
    files = theme.fonts
    with _REGISTER_LOCK:
        cached = _REGISTERED.get(files)
        if cached is not None:
            return cached
        sans = [files.regular, files.bold, files.italic, files.bold_italic]
        family = _family_name("AuditSans", sans)
        sans_names = _register_family(family, dict(zip(("regular", "bold", "italic", "bold_italic"), sans,
                                                       strict=True)))
        mono_family = _family_name("AuditMono", [files.mono, files.mono_bold])
        mono_names = _register_family(mono_family, {"regular": files.mono, "bold": files.mono_bold,
                                                    "italic": files.mono, "bold_italic": files.mono_bold})
        by_role = {**sans_names, "mono": mono_names["regular"], "mono_bold": mono_names["bold"]}
        names = FontNames(**{role: by_role[role] for role in FONT_ROLES}, family=family,
                          mono_family=mono_family, heading=by_role[files.heading])
        _REGISTERED[files] = names
        return names


def logo_size(theme: Theme, width_mm: float, max_height_mm: float | None = None) -> tuple[float, float]:
    """Logo width and height in points at ``width_mm``, shrunk to ``max_height_mm`` if given.

    Page decorations draw the logo on the canvas (``canvas.drawImage(str(theme.logo.raster), x, y, w, h,
    mask="auto")``) and need the box; flowables use :func:`logo_flowable`.
    """
    px_w, px_h = ImageReader(str(theme.logo.raster)).getSize()
    width = width_mm * mm
    height = width * px_h / px_w
    if max_height_mm is not None and height > max_height_mm * mm:
        height = max_height_mm * mm
        width = height * px_w / px_h
    return width, height


def logo_flowable(theme: Theme, width_mm: float | None = None, max_height_mm: float | None = None) -> Image:
    """The logo as a platypus ``Image`` keeping its aspect ratio (default width: the theme's ``width_mm``).

    PNG transparency is kept (``mask="auto"``). SVG logos are embedded from their PNG rendition.
    """
    width, height = logo_size(theme, theme.logo.width_mm if width_mm is None else width_mm, max_height_mm)
    return Image(str(theme.logo.raster), width=width, height=height, mask="auto")


# -- editing a branding profile (the settings dialog's model) ----------------------------------

def set_branding_value(data: dict[str, Any], table: str, key: str, value: Any) -> None:
    """Set ``data[table][key]``, or remove it (and an emptied table) when ``value`` is empty.

    Empty fields mean "as in the theme": writing "" would override the theme with nothing.
    """
    section = data.get(table)
    if not isinstance(section, dict):
        section = {}
    if value:
        section[key] = value
    else:
        section.pop(key, None)
    if section:
        data[table] = section
    else:
        data.pop(table, None)


def branding_value(data: dict[str, Any], table: str, key: str) -> Any:
    section = data.get(table)
    return section.get(key) if isinstance(section, dict) else None
