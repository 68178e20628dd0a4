"""A workaround for a reference-counting bug in PySide6 6.12.0 on Python 3.11.

``SignalInstance.emit()`` returns ``True`` to Python without taking a reference to it. Every
``signal.emit(...)`` written in Python therefore removes one reference from ``True``; in a long
audit session (a signal per result, per progress step, per edit) the count reaches zero and the
interpreter aborts with "bool_dealloc: deallocating True or False". Python 3.12 made ``True``
and ``False`` immortal, which is why the bug does not show there, and PySide6-Pdf pins
Essentials to 6.12.0, so upgrading is not an option today.

:func:`install` measures whether ``emit`` still loses a reference and, only then, gives ``True``
and ``False`` a reference count so large that no session can use it up, which is what Python
3.12 does for them anyway. Remove this module once the pinned PySide6 fixes ``emit``.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

#: Added to the reference counts; a session would need 2**40 emits to use it up.
PADDING = 1 << 40
_PROBES = 200


class _Probe(QObject):
    ping = Signal(int)


def emit_loses_references() -> bool:
    """True when emitting from Python takes references away from ``True`` (the PySide6 6.12.0 bug)."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.ping.emit(1)
    return before - sys.getrefcount(True) >= _PROBES


def install() -> bool:
    """Apply the workaround where it is needed; returns whether it was applied."""
    if sys.version_info >= (3, 12) or not emit_loses_references():
        return False
    for value in (True, False):
        ctypes.c_ssize_t.from_address(id(value)).value += PADDING
    return True
