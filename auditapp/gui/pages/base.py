"""The interface every page of the main window implements, and the scaffolding pages share.

A page states its content; the frame around it is built here, so every page has the same
heading, intro text, margins and scroll area: :meth:`Page.page_column` lays a page out as a
column under its heading and intro, :func:`heading_column` does the same for a panel inside a
page, :func:`frameless_scroll` and :func:`tab_chain` cover the rest that every page repeated.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QMessageBox, QScrollArea, QVBoxLayout, QWidget

from auditapp.core.project import Project
from auditapp.gui import questionnaire_form
from auditapp.gui.context import AppContext
from auditapp.gui.i18n import tr

#: Contents margins: left, top, right, bottom.
Margins = tuple[int, int, int, int]
#: Contents margins of a page that reads top to bottom (forms, progress).
FORM_MARGINS: Margins = (24, 18, 24, 18)
#: Contents margins of a page split into panes side by side: the panes get the width.
PANES_MARGINS: Margins = (16, 12, 16, 12)


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


def page_intro(text: str, *, muted: bool = False) -> QLabel:
    """The paragraph under a heading that says what the page is for; ``muted`` greys it like help text."""
    intro = questionnaire_form.muted(QLabel(text)) if muted else QLabel(text)
    intro.setWordWrap(True)
    return intro


def heading_column(widget: QWidget, heading: str, intro: str = "", *, margins: Margins | None = None,
                   spacing: int | None = None, muted: bool = False) -> QVBoxLayout:
    """Lay ``widget`` out as a column that starts with ``heading`` and ``intro``; the caller adds the rest.

    ``margins`` and ``spacing`` stay Qt's defaults unless given.
    """
    layout = QVBoxLayout(widget)
    if margins is not None:
        layout.setContentsMargins(*margins)
    if spacing is not None:
        layout.setSpacing(spacing)
    layout.addWidget(page_heading(heading))
    if intro:
        layout.addWidget(page_intro(intro, muted=muted))
    return layout


def frameless_scroll(content: QWidget, *, horizontal: bool = True) -> QScrollArea:
    """A scroll area around ``content`` that blends into the page: no frame, content as wide as the view.

    ``horizontal=False`` for text that wraps: it never needs a horizontal scroll bar.
    """
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(content)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    if not horizontal:
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return scroll


def tab_chain(*widgets: QWidget) -> None:
    """Tab moves the keyboard focus through ``widgets`` in this order (the reading order, not the build order)."""
    for first, second in pairwise(widgets):
        QWidget.setTabOrder(first, second)


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

    @property
    def project(self) -> Project | None:
        """The open project, or ``None`` when no project is open."""
        return self.ctx.session.project

    def page_column(self, heading_key: str, intro_key: str = "", *, scroll: bool = False,
                    margins: Margins | None = None, spacing: int | None = None, muted: bool = False) -> QVBoxLayout:
        """Lay the page out as a column under its heading and intro (GUI text keys); returns the column.

        With ``scroll`` the column is the content of a :func:`frameless_scroll` that fills the
        page edge to edge, for pages taller than the window.
        """
        heading, intro = tr(heading_key), tr(intro_key) if intro_key else ""
        if not scroll:
            return heading_column(self, heading, intro, margins=margins, spacing=spacing, muted=muted)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        body = QWidget()
        outer.addWidget(frameless_scroll(body))
        return heading_column(body, heading, intro, margins=margins, spacing=spacing, muted=muted)

    # -- questions (methods, so tests can answer them) -----------------------------------------

    def confirm(self, title: str, text: str) -> bool:
        """A yes/no question; No is the default, so Enter changes nothing."""
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def start_dir(self) -> str:
        """Where a file dialog opens: the folder used last, else the project's folder, else the home folder."""
        return self.ctx.settings.last_dir or str(self.ctx.base_dir or Path.home())

    def on_replaced(self) -> None:
        """Another project was opened (or none is): reload everything shown."""

    def on_changed(self, source: object) -> None:
        """The project was edited elsewhere; the default reloads the whole page."""
        self.on_replaced()

    def shown(self) -> None:
        """The page became visible (refresh things that are expensive to keep current)."""

    def focus_first_invalid(self) -> bool:
        """Put the keyboard focus on the first field holding invalid input; False when there is none."""
        return False
