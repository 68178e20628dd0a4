"""House rules a machine can check: the core never imports Qt; the catalog matches the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from auditapp.catalog import CATEGORIES, catalog
from auditapp.checks import registered, verify_registry

ROOT = Path(__file__).resolve().parent.parent


def test_core_modules_do_not_import_pyside6() -> None:
    # pkgutil.walk_packages would import auditapp.gui's subpackages itself to look inside them,
    # so the walk skips the gui package by hand.
    code = (
        "import sys, pkgutil, importlib, auditapp\n"
        "def walk(path, prefix):\n"
        "    for m in pkgutil.iter_modules(path, prefix):\n"
        "        if m.name == 'auditapp.gui':\n"
        "            continue\n"
        "        module = importlib.import_module(m.name)\n"
        "        if m.ispkg:\n"
        "            walk(module.__path__, m.name + '.')\n"
        "walk(auditapp.__path__, 'auditapp.')\n"
        "print(len(sys.modules) > 100, 'PySide6' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True False"


def test_no_source_file_outside_gui_mentions_pyside6_imports() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "auditapp").rglob("*.py")
        if "gui" not in p.relative_to(ROOT / "auditapp").parts
        and any(line.lstrip().startswith(("import PySide6", "from PySide6"))
                for line in p.read_text("utf-8").splitlines())
    ]
    assert offenders == []


def test_catalog_and_registry_match_one_to_one() -> None:
    verify_registry()
    assert set(registered()) == set(catalog().rules)


def test_catalog_entries_are_complete() -> None:
    for rule in catalog().rules.values():
        assert rule.category in CATEGORIES
        assert rule.references
        assert "pass" in rule.outcomes
        for lang in ("de", "en"):
            assert rule.title.get(lang) and rule.rationale.get(lang) and rule.remediation.get(lang)


def test_checks_do_no_io() -> None:
    """Checks are pure: no sockets, no DNS client calls, no file access in auditapp/checks."""
    forbidden = ("import socket", "asyncio", "open(", ".query(", "requests", "urllib")
    for path in (ROOT / "auditapp" / "checks").rglob("*.py"):
        text = path.read_text("utf-8")
        for word in forbidden:
            if path.name == "catalog.py" and word == "open(":
                continue
            assert word not in text, f"{path.name} contains {word!r}"
