"""Build the Windows .ico and the macOS .icns from resources/icons/auditapp-*.png (Pillow).

Run after changing the icon: ``python packaging/make_platform_icons.py``. The results are
committed, so neither platform build needs Pillow or an SVG renderer.
"""

from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"


def main() -> None:
    biggest = Image.open(ICONS / "auditapp-512.png").convert("RGBA")
    biggest.save(ROOT / "packaging" / "windows" / "auditapp.ico",
                 sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    biggest.save(ROOT / "packaging" / "macos" / "auditapp.icns")


if __name__ == "__main__":
    main()
