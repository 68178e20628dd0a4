"""``make run``'s check: a missing system library is named with its package, not Qt's riddle."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

from auditapp.gui import preflight

X11 = {"DISPLAY": ":0"}


def _loader(missing: dict[str, str]):
    def load(soname: str) -> object:
        if soname in missing:
            raise OSError(f"{missing[soname]}: cannot open shared object file: No such file or directory")
        return object()
    return load


def test_a_missing_library_is_named_with_its_package() -> None:
    found = preflight.problems(X11, _loader({"libxcb-cursor.so.0": "libxcb-cursor.so.0"}), fonts=lambda: True,
                               platform="linux")
    assert found == ["missing: libxcb-cursor.so.0 (apt install libxcb-cursor0)"]


def test_a_library_missing_underneath_another_is_the_one_named() -> None:
    # libxcb-icccm.so.4 is there, but it needs libxcb.so.1, which is not: install libxcb1.
    found = preflight.problems(X11, _loader({"libxcb-icccm.so.4": "libxcb.so.1", "libxcb.so.1": "libxcb.so.1"}),
                               fonts=lambda: True, platform="linux")
    assert found == ["missing: libxcb.so.1 (apt install libxcb1)"]


def test_main_prints_one_apt_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(preflight, "problems", lambda: ["missing: libxcb-cursor.so.0 (apt install libxcb-cursor0)",
                                                        "missing: libxcb-icccm.so.4 (apt install libxcb-icccm4)"])
    assert preflight.main() == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == "The window needs them; on Debian or Ubuntu: sudo apt install libxcb-cursor0 libxcb-icccm4"


def test_no_display_and_no_fonts_are_said_too() -> None:
    found = preflight.problems({}, _loader({}), fonts=lambda: False, platform="linux")
    assert found[0].startswith("no display: DISPLAY is not set")
    assert found[1] == "missing: fonts, Qt would draw no text (apt install fonts-dejavu-core)"


@pytest.mark.parametrize(("env", "platform"), [
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux"), ({"QT_QPA_PLATFORM": "wayland"}, "linux"),
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "linux"), (X11, "win32"), (X11, "darwin"),
])
def test_only_linux_with_xcb_is_checked(env: dict[str, str], platform: str) -> None:
    assert preflight.problems(env, _loader({"libxcb.so.1": "libxcb.so.1"}), fonts=lambda: False,
                              platform=platform) == []


def test_this_machine_passes() -> None:
    assert preflight.problems(X11) == [], "the test machine has the window's libraries (make test installs them)"


def test_the_plugins_libraries_are_read_from_the_plugin_and_all_have_a_package() -> None:
    qt = preflight.qt_dir()
    assert qt is not None
    needed = preflight.system_libraries(qt)
    assert "libxcb-cursor.so.0" in needed and "libxcb-icccm.so.4" in needed
    assert not [soname for soname in needed if soname not in preflight.DEBIAN_PACKAGES]


@pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump (binutils) not installed")
def test_the_elf_reader_agrees_with_objdump() -> None:
    qt = preflight.qt_dir()
    assert qt is not None
    plugin = qt / "plugins" / "platforms" / "libqxcb.so"
    dump = subprocess.run(["objdump", "-p", str(plugin)], capture_output=True, text=True, check=True).stdout
    expected = [line.split()[1] for line in dump.splitlines() if line.strip().startswith("NEEDED")]
    assert preflight.elf_needed(plugin) == expected


def test_the_module_imports_no_qt() -> None:
    """Importing PySide6 would itself fail on the first missing library, with Qt's message."""
    tree = ast.parse(Path(preflight.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not [name for name in imported if name.startswith(("PySide6", "auditapp"))]


def test_a_broken_library_is_reinstalled_not_installed(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    def load(soname: str) -> object:
        if soname == "libxcb-cursor.so.0":
            raise OSError("/lib/x86_64-linux-gnu/libxcb-cursor.so.0: file too short")
        return object()

    found = preflight.problems(X11, load, fonts=lambda: True, platform="linux")
    assert found == ["unusable: libxcb-cursor.so.0: /lib/x86_64-linux-gnu/libxcb-cursor.so.0: file too short "
                     "(apt install --reinstall libxcb-cursor0)"]
    monkeypatch.setattr(preflight, "problems", lambda: found)
    assert preflight.main() == 1
    assert capsys.readouterr().err.splitlines()[-1].endswith("sudo apt install --reinstall libxcb-cursor0")
