"""The application icon, from the PNG sizes and the SVG in ``resources/icons``."""

from __future__ import annotations

from PySide6.QtGui import QIcon


def app_icon() -> QIcon:
    from auditapp.paths import asset_dir

    icon = QIcon()
    folder = asset_dir("resources") / "icons"
    for size in (16, 32, 48, 64, 128, 256):
        png = folder / f"auditapp-{size}.png"
        if png.exists():
            icon.addFile(str(png))
    svg = folder / "auditapp.svg"
    if svg.exists():
        icon.addFile(str(svg))
    return icon
