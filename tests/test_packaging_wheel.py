"""``pip install .`` gives a working program: the wheel carries the catalogs, fonts, themes and icons.

The wheel is built offline from this checkout and unpacked; the unpacked copy (not the source
tree) then runs the CLI demo, which needs the rule catalog, the report fonts and theme, and
finds them through :func:`auditapp.paths.asset_dir`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "TMPDIR": str(build)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [whl] = out.glob("auditapp-*.whl")
    return whl


def test_wheel_contains_the_data_folders_and_no_screenshots(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("auditapp/assets/reports/themes/default.toml", "auditapp/assets/reports/fonts/DejaVuSans.ttf",
                   "auditapp/assets/resources/icons/auditapp-256.png", "auditapp/assets/resources/icons/auditapp.svg",
                   "auditapp/catalog/data/_messages.toml", "auditapp/questionnaire/catalog/questions.toml",
                   "auditapp/gui/texts/window.toml", "auditapp/lab/demo_data/postfix/main.cf"):
        assert needed in names, needed
    assert not any("screenshots" in n or n.endswith("make_icons.py") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "auditapp = auditapp.__main__:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_installed_copy_runs_the_demo_from_its_own_assets(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site), "QT_QPA_PLATFORM": "offscreen"}
    probe = subprocess.run(
        [sys.executable, "-c", "import auditapp, auditapp.paths as p; "
         "print(auditapp.__file__); print(p.asset_dir('reports')); print(p.asset_dir('resources')); "
         "print(auditapp.__version__)"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
    ).stdout.splitlines()
    assert all(line.startswith(str(site)) for line in probe[:3]), probe
    assert probe[3] != "0+unknown"
    demo = subprocess.run([sys.executable, "-m", "auditapp", "demo", "--out", str(tmp_path / "out"), "--lang", "de"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert (tmp_path / "out" / "demo-audit.json").stat().st_size > 1000
    assert (tmp_path / "out" / "demo-report-de.pdf").read_bytes().startswith(b"%PDF")
    gui = subprocess.run([sys.executable, "-m", "auditapp", "--self-test"], capture_output=True, text=True,
                         env={**env, "AUDITAPP_HOME": str(tmp_path / "home")}, cwd=tmp_path, timeout=300)
    assert gui.returncode == 0 and "icon OK" in gui.stdout, gui.stderr[-2000:]
