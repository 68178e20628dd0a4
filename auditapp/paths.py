"""Where the application's data folders (``reports/``, ``resources/``) live at run time.

The report themes, fonts and logos live in ``reports/`` and the GUI assets in ``resources/`` at the
repository root, not inside the ``auditapp`` package, because the consultant edits and adds themes there
and the PyInstaller spec ships them as ``datas`` (architecture E10). Code must therefore never build those
paths from ``__file__`` itself: it asks :func:`asset_dir`, so that new layouts (an installed wheel, a
frozen bundle, a system-wide install) are one more case here instead of a hunt through the code base.
The cases today: a PyInstaller bundle (``sys._MEIPASS``), an installed wheel (``auditapp/assets/``,
see setup.py) and the source tree or an editable install (the repository root).
"""

from __future__ import annotations

import sys
from pathlib import Path

#: The data folders that may be asked for; a typo should fail loudly, not return a missing folder.
ASSET_DIRS = ("reports", "resources")


def _candidate_roots() -> list[Path]:
    """Folders that may hold the data folders, most specific first."""
    roots: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)  # a PyInstaller bundle unpacks its datas here
    if bundle:
        roots.append(Path(bundle))
    here = Path(__file__).resolve().parent
    roots.append(here / "assets")  # an installed wheel: setup.py maps the folders into auditapp.assets
    roots.append(here.parent)  # source tree (and editable installs): repo root
    return roots


def asset_dir(name: str) -> Path:
    """The absolute path of the data folder ``name`` (``"reports"`` or ``"resources"``).

    Raises:
        ValueError: ``name`` is not one of :data:`ASSET_DIRS`.
        FileNotFoundError: no candidate location holds the folder (a broken install); the message lists
            where it looked.
    """
    if name not in ASSET_DIRS:
        raise ValueError(f"unknown asset folder {name!r}; expected one of {', '.join(ASSET_DIRS)}")
    tried = [root / name for root in _candidate_roots()]
    for path in tried:
        if path.is_dir():
            return path
    raise FileNotFoundError(f"asset folder {name!r} not found; looked in: {', '.join(map(str, tried))}")
