"""The interface every page of the main window implements."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QWidget

from auditapp.gui.context import AppContext


def page_heading(text: str) -> QLabel:
    """The title at the top of a page: one look for every page."""
    heading = QLabel(text)
    heading.setObjectName("pageHeading")
    heading.setTextFormat(Qt.TextFormat.PlainText)
    font = heading.font()
    font.setPointSizeF(font.pointSizeF() * 1.4)
    font.setBold(True)
    heading.setFont(font)
    return heading


class Page(QWidget):
    """A page in the window's navigation.

    ``key`` is stable (used by ``ctx.navigate`` and tests); ``nav_text_key`` is the GUI text
    shown in the navigation list. Pages build their widgets in ``__init__`` in the current
    GUI language; a language switch rebuilds them, so there is no retranslate step to forget.
    """

    key = ""
    nav_text_key = ""
    #: Shown only when a project is open.
    needs_project = True

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self._stale = False
        ctx.session.replaced.connect(self.on_replaced)
        ctx.session.changed.connect(self._changed)

    def _changed(self, source: object) -> None:
        if source is self:
            return
        if self.parent() is not None and not self.isVisible():
            # A page hidden in the window catches up when it is shown: the end of a run
            # would otherwise rebuild every page at once and freeze the window for a moment.
            self._stale = True
            return
        self.on_changed(source)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        if self._stale:
            self._stale = False
            self.on_changed(None)
        super().showEvent(event)

    def on_replaced(self) -> None:
        """Another project was opened (or none is): reload everything shown."""

    def on_changed(self, source: object) -> None:
        """The project was edited elsewhere; the default reloads the whole page."""
        self.on_replaced()

    def shown(self) -> None:
        """The page became visible (refresh things that are expensive to keep current)."""
