"""The application icon and the window's own icons, drawn for the palette they appear on.

The toolbar and the sidebar used Qt's style pixmaps, which gave Save, Export PDF and the
Report page one and the same floppy disk and stayed dark on a dark desktop (issue 14). Each
action now has its own icon: the desktop's icon theme where it has the standard name
(``document-save``, ``media-playback-start``, ... on KDE and GNOME) and otherwise a bundled
line drawing from ``resources/icons/ui-<name>.svg``. The bundled drawings are monochrome with
``currentColor`` and are rendered in the palette's text colour, its disabled text colour and
its highlighted-text colour, so they read on light and dark palettes alike. Report, export and
the page-specific icons are always the bundled ones: a theme maps unknown names to a generic
document, which would make them look alike again.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

#: The window's icons: name -> the freedesktop theme name to prefer (None: always bundled).
UI_ICONS: dict[str, str | None] = {
    "new": "document-new",
    "open": "document-open",
    "save": "document-save",
    "run": "media-playback-start",
    "stop": "process-stop",
    "copy": "edit-copy",
    "delete": "edit-delete",
    "up": "go-up",
    "down": "go-down",
    "show": "go-next",
    "export": None,
    "home": None,
    "target": None,
    "questionnaire": None,
    "postfix": None,
    "findings": None,
    "history": None,
    "report": None,
}
#: The sidebar's icon for each page.
NAV_ICONS = {"welcome": "home", "target": "target", "questionnaire": "questionnaire", "postfix": "postfix",
             "run": "run", "findings": "findings", "history": "history", "report": "report"}
_SIZES = (16, 20, 22, 24, 32, 48)


def _folder() -> Path:
    from auditapp.paths import asset_dir

    return asset_dir("resources") / "icons"


def app_icon() -> QIcon:
    icon = QIcon()
    folder = _folder()
    for size in (16, 32, 48, 64, 128, 256):
        png = folder / f"auditapp-{size}.png"
        if png.exists():
            icon.addFile(str(png))
    svg = folder / "auditapp.svg"
    if svg.exists():
        icon.addFile(str(svg))
    return icon


def _render(svg: str, colour: QColor, size: int, ratio: float) -> QPixmap:
    renderer = QSvgRenderer(QByteArray(svg.replace("currentColor", colour.name()).encode("utf-8")))
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixmap


@cache
def _bundled(name: str, normal: str, disabled: str, selected: str) -> QIcon:
    svg = (_folder() / f"ui-{name}.svg").read_text(encoding="utf-8")
    icon = QIcon()
    for mode, colour in ((QIcon.Mode.Normal, normal), (QIcon.Mode.Active, normal),
                         (QIcon.Mode.Disabled, disabled), (QIcon.Mode.Selected, selected)):
        for size in _SIZES:
            for ratio in (1.0, 2.0):
                icon.addPixmap(_render(svg, QColor(colour), size, ratio), mode)
    return icon


def ui_icon(name: str, palette: QPalette | None = None) -> QIcon:
    """The icon ``name`` (a key of :data:`UI_ICONS`) for ``palette`` (default: the application's)."""
    theme = UI_ICONS[name]
    if theme is not None and QIcon.hasThemeIcon(theme):
        return QIcon.fromTheme(theme)
    palette = palette or QGuiApplication.palette()
    group, role = QPalette.ColorGroup, QPalette.ColorRole
    text, window = palette.color(group.Active, role.WindowText), palette.color(group.Active, role.Window)
    # Disabled: halfway to the background, whatever the palette says its disabled text is (a
    # hand-made dark palette often leaves it as bright as the normal text).
    disabled = QColor.fromRgbF(*(0.45 * a + 0.55 * b for a, b in zip(text.getRgbF()[:3], window.getRgbF()[:3],
                                                                      strict=True)))
    return _bundled(name, text.name(), disabled.name(), palette.color(group.Active, role.HighlightedText).name())


def nav_icon(page: str, palette: QPalette | None = None) -> QIcon:
    """The sidebar icon of ``page`` (a page key)."""
    return ui_icon(NAV_ICONS[page], palette)
