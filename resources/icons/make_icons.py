"""Render the PNG sizes desktops need from auditapp.svg (run: python resources/icons/make_icons.py).

The PNGs are committed so that neither the program nor the packaging needs an SVG renderer.
"""

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main() -> None:
    here = Path(__file__).resolve().parent
    app = QGuiApplication([])  # noqa: F841 (needed for QImage text/antialiasing)
    renderer = QSvgRenderer(str(here / "auditapp.svg"))
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(here / f"auditapp-{size}.png"))


if __name__ == "__main__":
    main()
