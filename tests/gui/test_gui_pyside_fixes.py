"""The window survives any number of signal emissions (PySide6 6.12.0 loses a reference on ``True`` per emit)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal
import auditapp.gui  # installs the workaround when this PySide6 needs it

app = QCoreApplication([])
class Emitter(QObject):
    changed = Signal(bool)
e = Emitter()
e.changed.connect(lambda value: None)
for _ in range(200_000):  # far more than True's own reference count
    e.changed.emit(True)
print("survived", flush=True)
"""


def test_two_hundred_thousand_emits_do_not_crash_the_interpreter() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "survived"
