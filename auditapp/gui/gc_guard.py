"""Python's garbage collector runs on the GUI thread only.

CPython's cyclic collector runs in whichever thread happens to allocate when a threshold is
crossed. In this program that is often an audit or report worker. If it then frees a Python
wrapper that owns a Qt object (a dialog, a session with its autosave timer, a page left over
from a language switch), Qt destroys that object from the wrong thread: its timers stay
registered with the GUI thread and the next tick crashes the program. So automatic collection
is switched off and the GUI thread collects on a timer, with CPython's own thresholds.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()

    @staticmethod
    def collect() -> int:
        """Collect the oldest generation whose count passed its threshold, as CPython would."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                return gc.collect(generation)
        return 0
