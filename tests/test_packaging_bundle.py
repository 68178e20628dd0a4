"""The PyInstaller spec builds a bundle that passes its smoke test (what `make package` does).

A one-folder build takes about half a minute here, so CI builds it on every run: a spec that
silently stopped bundling a font, a catalog or QtPdf would otherwise only show on a
consultant's machine. The build goes to a temporary folder, not dist/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_spec_builds_a_bundle_that_passes_the_smoke_test(tmp_path: Path) -> None:
    pyinstaller = Path(sys.executable).with_name("pyinstaller")
    if not pyinstaller.exists() and shutil.which("pyinstaller") is None:
        if os.environ.get("CI"):
            pytest.fail("PyInstaller is missing; `make test` installs the [package] extra")
        pytest.skip("PyInstaller not installed (pip install -e '.[package]')")
    dist, work = tmp_path / "dist", tmp_path / "work"
    build = subprocess.run([str(pyinstaller), "--noconfirm", "--log-level", "WARN", "--distpath", str(dist),
                            "--workpath", str(work), str(ROOT / "packaging" / "auditapp.spec")],
                           capture_output=True, text=True, cwd=ROOT, timeout=1200)
    assert build.returncode == 0, build.stderr[-4000:]
    assert not any((dist / "auditapp" / "_internal").rglob("screenshots")), "screenshots do not belong in a bundle"
    smoke = subprocess.run(["bash", str(ROOT / "packaging" / "smoke_test.sh"), str(dist / "auditapp")],
                           capture_output=True, text=True, cwd=ROOT, timeout=600,
                           env={**os.environ, "AUDITAPP_LOOPBACK_ONLY": "1"})
    assert smoke.returncode == 0, smoke.stdout[-2000:] + smoke.stderr[-4000:]
    assert "smoke test: passed" in smoke.stdout
    assert smoke.stdout.count("translations, QtPdf and icon OK") == 2
