"""The window's own icons: one per action, readable on light and dark palettes."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QIcon, QImage, QPalette
from PySide6.QtSvg import QSvgRenderer

from auditapp.gui.icons import NAV_ICONS, UI_ICONS, ui_icon
from auditapp.paths import asset_dir


def _palette(window: str, text: str) -> QPalette:
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor(window))
    palette.setColor(QPalette.ColorRole.WindowText, QColor(text))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    return palette


DARK = _palette("#2b2b2b", "#e6e6e6")
LIGHT = _palette("#f0f0f0", "#1a1a1a")


def _image(icon: QIcon, mode: QIcon.Mode = QIcon.Mode.Normal) -> QImage:
    return icon.pixmap(24, 24, mode).toImage().convertToFormat(QImage.Format.Format_ARGB32)


def _ink(image: QImage) -> list[float]:
    """The lightness of every clearly drawn pixel."""
    return [QColor(image.pixel(x, y)).lightnessF() for x in range(image.width()) for y in range(image.height())
            if QColor.fromRgba(image.pixel(x, y)).alphaF() > 0.6]


def test_every_icon_has_a_valid_bundled_drawing() -> None:
    folder = asset_dir("resources") / "icons"
    for name in UI_ICONS:
        renderer = QSvgRenderer(str(folder / f"ui-{name}.svg"))
        assert renderer.isValid(), name
    assert set(NAV_ICONS.values()) <= set(UI_ICONS)


@pytest.mark.parametrize(("palette", "light_ink"), [(DARK, True), (LIGHT, False)])
def test_bundled_icons_follow_the_palette(qapp, palette: QPalette, light_ink: bool) -> None:
    for name in UI_ICONS:
        ink = _ink(_image(ui_icon(name, palette) if UI_ICONS[name] is None or not QIcon.hasThemeIcon(
            UI_ICONS[name]) else QIcon()))
        if not ink:
            continue  # a theme icon: the theme draws it for its own palette
        mean = sum(ink) / len(ink)
        assert (mean > 0.7) if light_ink else (mean < 0.3), (name, mean)
        disabled = _ink(_image(ui_icon(name, palette), QIcon.Mode.Disabled))
        assert abs(sum(disabled) / len(disabled) - 0.5) < abs(mean - 0.5), name  # nearer the background


def test_save_export_and_report_look_different(qapp) -> None:
    images = {name: _image(ui_icon(name, LIGHT)) for name in ("save", "export", "report", "new")}
    assert len({bytes(image.constBits()) for image in images.values()}) == len(images)



def test_the_window_uses_them(window) -> None:
    def key(icon: QIcon) -> bytes:
        return bytes(_image(icon).constBits())

    assert key(window.act_save.icon()) != key(window.act_export.icon())
    items = {window.nav.item(r).data(0x0100): window.nav.item(r) for r in range(window.nav.count())}
    assert key(items["report"].icon()) not in (key(window.act_save.icon()), key(window.act_export.icon()))
    assert all(not window.nav.item(r).icon().isNull() for r in range(window.nav.count()))


def test_a_palette_change_redraws_the_icons(window, qapp) -> None:
    before = window.act_export.icon().pixmap(24, 24).toImage()
    old = qapp.palette()
    try:
        qapp.setPalette(DARK)
        qapp.processEvents()
        after = window.act_export.icon().pixmap(24, 24).toImage()
        nav = window.nav.item(0).icon().pixmap(24, 24).toImage()
    finally:
        qapp.setPalette(old)
    assert after != before
    assert sum(_ink(after)) / len(_ink(after)) > 0.7 and sum(_ink(nav)) / len(_ink(nav)) > 0.7
