"""Before the window starts on Linux/X11: are the system libraries Qt's xcb plugin needs there?

Without them Qt aborts with "Could not load the Qt platform plugin "xcb" ... even though it
was found", which names neither the missing file nor the package to install; on a fresh
Debian or Ubuntu it is usually ``libxcb-cursor0`` (needed since Qt 6.5), then a handful of
other ``libxcb-*`` packages. ``make run`` runs ``python -m auditapp.gui.preflight`` first, which
says instead::

    missing: libxcb-cursor.so.0 (apt install libxcb-cursor0)

The libraries are read from the plugin itself (the ``DT_NEEDED`` entries of ``libqxcb.so`` and
the Qt libraries it loads, so a new Qt release needs no new list here) and opened with
``dlopen`` through ctypes; :data:`DEBIAN_PACKAGES` only names the package for each. Nothing
here imports Qt: importing PySide6 would itself fail on the first missing library. Only the
standard library is used, and only on Linux when Qt would use xcb.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import struct
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

#: Shared libraries of Qt's xcb platform plugin and the Qt libraries it loads, with the Debian
#: and Ubuntu package that installs each (found with ``dpkg -S`` on Debian 12; Ubuntu 24.04
#: calls the GLib package ``libglib2.0-0t64``, which apt also finds under this name).
DEBIAN_PACKAGES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libz.so.1": "zlib1g",
    "libzstd.so.1": "libzstd1",
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
}
#: What the plugin is checked for: the plugin and the Qt libraries it loads (bundled with PySide6).
_QT_FILES = ("plugins/platforms/libqxcb.so", "lib/libQt6XcbQpa.so.6", "lib/libQt6Gui.so.6",
             "lib/libQt6Widgets.so.6", "lib/libQt6Core.so.6", "lib/libQt6DBus.so.6")
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
_NOT_FOUND = re.compile(r"([\w.+-]+\.so[\w.]*): cannot open shared object file")

Loader = Callable[[str], object]


def elf_needed(path: Path) -> list[str]:
    """The ``DT_NEEDED`` entries of a 64-bit little-endian ELF file (what ``ldd`` would resolve)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    needed: list[str] = []
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if kind != 6:  # SHT_DYNAMIC
            continue
        strtab = sections[link][4]
        for at in range(offset, offset + size, entsize or 16):
            tag, value = struct.unpack_from("<qQ", data, at)
            if tag == 0:
                break
            if tag == 1:  # DT_NEEDED
                end = data.index(b"\0", strtab + value)
                needed.append(data[strtab + value:end].decode("ascii", "replace"))
    return needed


def qt_dir() -> Path | None:
    """PySide6's Qt folder, found without importing PySide6."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "Qt"
    return folder if folder.is_dir() else None


def system_libraries(qt: Path) -> list[str]:
    """The libraries outside PySide6 that the xcb plugin needs, directly or through Qt's own."""
    found: dict[str, None] = {}
    for name in _QT_FILES:
        path = qt / name
        if path.is_file():
            for soname in elf_needed(path):
                if not soname.startswith(("libQt6", "libicu", "libpyside", "libshiboken", "ld-linux", "libc.so",
                                          "libm.so", "libdl.so", "libpthread.so", "librt.so")):
                    found[soname] = None
    return list(found)


def missing_libraries(sonames: Iterable[str], load: Loader = ctypes.CDLL) -> dict[str, str]:
    """Each library that cannot be opened, with why: ``{"libxcb-cursor.so.0": "not installed"}``.

    A library whose own dependency is missing is reported as that dependency, which is the
    package to install.
    """
    missing: dict[str, str] = {}
    for soname in sonames:
        try:
            load(soname)
        except OSError as exc:
            text = str(exc)
            named = _NOT_FOUND.search(text)
            if named:
                missing.setdefault(named.group(1), "not installed")
            else:
                missing.setdefault(soname, text.strip() or "cannot be loaded")
    return missing


def has_fonts(dirs: Iterable[str] = _FONT_DIRS) -> bool:
    """Qt draws no text at all without one font file (a minimal container image has none)."""
    for folder in dirs:
        root = Path(folder).expanduser()
        if root.is_dir() and any(p.suffix.lower() in (".ttf", ".otf", ".ttc", ".pfb", ".pcf", ".gz")
                                 for p in root.rglob("*")):
            return True
    return False


def uses_xcb(env: Mapping[str, str]) -> bool:
    """Qt takes xcb when told to, or on X11 (a Wayland session uses its own plugin first)."""
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(";")[0].split(":")[0] == "xcb"
    return not (env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland")


def problems(env: Mapping[str, str] | None = None, load: Loader = ctypes.CDLL, qt: Path | None = None,
             fonts: Callable[[], bool] = has_fonts, platform: str = sys.platform) -> list[str]:
    """What stands between ``make run`` and a window, one line each; empty when all is there."""
    env = os.environ if env is None else env
    if not platform.startswith("linux") or not uses_xcb(env):
        return []
    qt = qt or qt_dir()
    if qt is None:
        return []  # no PySide6 in this Python: pip's error says that better
    lines = []
    if not env.get("DISPLAY"):
        lines.append("no display: DISPLAY is not set (start auditapp in a desktop session, or ssh -X)")
    for soname, why in missing_libraries(system_libraries(qt), load).items():
        package = DEBIAN_PACKAGES.get(soname)
        if why == "not installed":
            lines.append(f"missing: {soname}" + (f" (apt install {package})" if package else ""))
        else:  # there but broken: a truncated file, a wrong architecture, a too old libstdc++
            lines.append(f"unusable: {soname}: {why}" + (f" (apt install --reinstall {package})" if package else ""))
    if not fonts():
        lines.append("missing: fonts, Qt would draw no text (apt install fonts-dejavu-core)")
    return lines


def main() -> int:
    found = problems()
    if not found:
        return 0
    for line in found:
        print(line, file=sys.stderr)
    for flag in ("", "--reinstall "):
        wanted = re.compile(rf"\(apt install {flag}([\w.+-]+)\)")
        packages = sorted({m.group(1) for line in found if (m := wanted.search(line))})
        if packages:
            print(f"The window needs them; on Debian or Ubuntu: sudo apt install {flag}{' '.join(packages)}",
                  file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
