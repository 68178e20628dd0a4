"""Garbage is collected on the GUI thread only (see auditapp/gui/gc_guard.py)."""

from __future__ import annotations

import gc
import threading
import weakref

from auditapp.gui.gc_guard import GuiThreadCollector


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_worker_threads_do_not_collect_and_the_gui_thread_does(qapp) -> None:
    collector = GuiThreadCollector()
    collector.start()
    try:
        assert not gc.isenabled()
        node = _Node()
        alive = weakref.ref(node)
        del node

        def allocate() -> None:  # far past every threshold, in a worker thread
            for _ in range(100_000):
                _Node()

        worker = threading.Thread(target=allocate)
        worker.start()
        worker.join()
        assert alive() is not None  # the worker thread did not collect it
        assert collector.collect() > 0  # one tick on the GUI thread: thresholds are long passed
        assert alive() is None
    finally:
        collector.stop()
    assert gc.isenabled()
