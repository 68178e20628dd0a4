"""The window survives any number of signal emissions.

PySide6 6.12.0 loses a reference on ``True`` per ``emit()``; on Python 3.11 that aborted the
interpreter within about a thousand emits and needed a refcount hack. auditapp requires Python
3.12, where ``True`` is immortal: this test keeps proving that without any workaround.
"""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal
import auditapp.gui  # the package the window runs with; no workaround any more

app = QCoreApplication([])
class Emitter(QObject):
    changed = Signal(bool)
e = Emitter()
e.changed.connect(lambda value: None)
for _ in range(200_000):  # far more than True's own reference count
    e.changed.emit(True)
print("survived", flush=True)
"""


def test_python_is_at_least_3_12() -> None:
    assert sys.version_info >= (3, 12), "auditapp requires Python 3.12 (immortal True/False, PEP 683)"


def test_two_hundred_thousand_emits_do_not_crash_the_interpreter() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "survived"
