"""An embedded PDF viewer: the rendered report as the client will see it, with paging and zoom.

QtPdf (pdfium) draws the file reportlab wrote, so the preview is the exported file's twin and
not an approximation drawn by Qt. The widget only shows files; rendering them is the report
page's job (in a worker thread), which tells the widget when it is busy or what went wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMargins, QPointF, Qt
from PySide6.QtGui import QColor, QIcon, QPalette, QResizeEvent
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from auditapp.gui.i18n import tr
from auditapp.gui.icons import ui_icon

ZOOM_STEP = 1.25
ZOOM_MIN, ZOOM_MAX = 0.25, 5.0


class PdfPreview(QWidget):
    """QPdfView with previous/next, "page X / Y", fit width/page, zoom in/out, a busy bar and a message area."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = QPdfDocument(self)
        self.view = QPdfView()
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setPageSpacing(12)
        self.view.setDocumentMargins(QMargins(12, 12, 12, 12))
        self.view.setAccessibleName(tr("report.preview.view"))
        self.view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # The grey desk behind the white pages, as every PDF viewer shows it.
        palette = self.view.viewport().palette()
        palette.setColor(QPalette.ColorRole.Dark, QColor(0x80, 0x86, 0x8E))
        palette.setColor(QPalette.ColorRole.Window, QColor(0x80, 0x86, 0x8E))
        self.view.viewport().setPalette(palette)
        self.view.viewport().setBackgroundRole(QPalette.ColorRole.Dark)

        # Own arrows: the style's were black on a dark palette.
        self.prev_button = self._tool(ui_icon("up"), "report.preview.prev", self.previous_page)
        self.next_button = self._tool(ui_icon("down"), "report.preview.next", self.next_page)
        self.page_label = QLabel()
        self.page_label.setMinimumWidth(60)
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.page_label.setAccessibleName(tr("report.preview.page_of"))
        self.fit_width_button = self._tool(None, "report.preview.fit_width", self.fit_width, text=True)
        self.fit_page_button = self._tool(None, "report.preview.fit_page", self.fit_page, text=True)
        for button in (self.fit_width_button, self.fit_page_button):
            button.setCheckable(True)
        self.fit_width_button.setChecked(True)
        self.zoom_out_button = self._tool(None, "report.preview.zoom_out", lambda: self.zoom_by(1 / ZOOM_STEP),
                                          label="−")
        self.zoom_in_button = self._tool(None, "report.preview.zoom_in", lambda: self.zoom_by(ZOOM_STEP), label="+")
        self.zoom_label = QLabel()
        self.zoom_label.setMinimumWidth(48)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for widget in (self.prev_button, self.page_label, self.next_button):
            bar.addWidget(widget)
        bar.addSpacing(12)
        for widget in (self.fit_width_button, self.fit_page_button, self.zoom_out_button, self.zoom_label,
                       self.zoom_in_button):
            bar.addWidget(widget)
        bar.addStretch(1)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setAccessibleName(tr("report.preview.message"))
        self.message.setMargin(24)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.view)

        # "Rendering" floats over the page's top right corner instead of sitting in the toolbar:
        # there it squeezed the zoom buttons to "Ga…te" in a narrow window (issue 14), and a row
        # of its own would move the pages each time a render starts.
        self.busy_box = QFrame(self.stack)
        self.busy_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.busy_box.setAutoFillBackground(True)
        self.busy_label = QLabel(tr("report.preview.busy"))
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate: reportlab reports no progress
        self.busy.setFixedWidth(90)
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName(tr("report.preview.busy"))
        busy_row = QHBoxLayout(self.busy_box)
        busy_row.setContentsMargins(8, 4, 8, 4)
        busy_row.addWidget(self.busy_label)
        busy_row.addWidget(self.busy)
        self.busy.setVisible(False)
        self.busy_label.setVisible(False)
        self.busy_box.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

        nav = self.view.pageNavigator()
        nav.currentPageChanged.connect(self._update_controls)
        self.document.pageCountChanged.connect(self._update_controls)
        self.view.zoomFactorChanged.connect(self._update_controls)
        self.setTabOrder(self.prev_button, self.next_button)
        self.setTabOrder(self.next_button, self.fit_width_button)
        self.setTabOrder(self.fit_width_button, self.fit_page_button)
        self.setTabOrder(self.fit_page_button, self.zoom_out_button)
        self.setTabOrder(self.zoom_out_button, self.zoom_in_button)
        self.setTabOrder(self.zoom_in_button, self.view)
        self.clear(tr("report.preview.empty"))

    def _tool(self, icon: QIcon | None, text_key: str, slot: Callable[[], object], *, text: bool = False,
              label: str = "") -> QToolButton:
        button = QToolButton()
        if icon is not None:
            button.setIcon(icon)
        if text or label:
            button.setText(label or tr(text_key))
        button.setToolTip(tr(f"{text_key}_tip"))
        button.setAccessibleName(tr(text_key))
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    # -- state ----------------------------------------------------------------------------------

    @property
    def page_count(self) -> int:
        return self.document.pageCount()

    @property
    def current_page(self) -> int:
        """0-based."""
        return self.view.pageNavigator().currentPage()

    def show_file(self, path: str | Path) -> bool:
        """Show ``path``, keeping the page the user was on when the new file has it; False if unreadable."""
        keep = self.current_page if self.page_count else 0
        self.document.close()
        error = self.document.load(str(path))
        if error != QPdfDocument.Error.None_ or self.document.pageCount() == 0:
            self.clear(tr("report.preview.unreadable", path=str(path)), error=True)
            return False
        self.message.clear()
        self.stack.setCurrentWidget(self.view)
        self.go_to(min(keep, self.page_count - 1))
        self._update_controls()
        return True

    def clear(self, message: str, *, error: bool = False) -> None:
        """Show ``message`` instead of a document (no run yet, or why the preview failed)."""
        self.document.close()
        self.show_message(message, error=error)

    def show_message(self, message: str, *, error: bool = False) -> None:
        palette = self.message.palette()
        colour = QColor(0xD0, 0x36, 0x36) if error else self.palette().color(QPalette.ColorRole.WindowText)
        palette.setColor(QPalette.ColorRole.WindowText, colour)
        self.message.setPalette(palette)
        self.message.setText(message)
        self.stack.setCurrentWidget(self.message)
        self._update_controls()

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.busy_label.setVisible(busy)
        self._show_busy_box()

    def _show_busy_box(self) -> None:
        """Over a page only: a message in place of the pages says it itself."""
        shown = not self.busy.isHidden() and self.stack.currentWidget() is self.view
        self.busy_box.setVisible(shown)
        if shown:
            self._place_busy()
            self.busy_box.raise_()

    def _place_busy(self) -> None:
        self.busy_box.adjustSize()
        self.busy_box.move(max(0, self.stack.width() - self.busy_box.width() - 10), 10)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._place_busy()

    @property
    def is_busy(self) -> bool:
        return not self.busy.isHidden()

    # -- navigation and zoom ---------------------------------------------------------------------

    def go_to(self, page: int) -> None:
        if 0 <= page < self.page_count:
            self.view.pageNavigator().jump(page, QPointF(), self.view.pageNavigator().currentZoom())
            self._update_controls()

    def previous_page(self) -> None:
        self.go_to(self.current_page - 1)

    def next_page(self) -> None:
        self.go_to(self.current_page + 1)

    def fit_width(self) -> None:
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self._update_controls()

    def fit_page(self) -> None:
        self.view.setZoomMode(QPdfView.ZoomMode.FitInView)
        self._update_controls()

    def _effective_zoom(self) -> float:
        """The zoom the view shows now; in the fit modes QPdfView keeps its factor to itself."""
        if self.view.zoomMode() == QPdfView.ZoomMode.Custom or not self.page_count:
            return self.view.zoomFactor()
        size = self.document.pagePointSize(max(self.current_page, 0))
        if size.width() <= 0 or size.height() <= 0:
            return 1.0
        # QPdfView lays out at screen resolution: points * dpi / 72.
        scale = self.logicalDpiX() / 72.0
        margins = self.view.documentMargins()
        width = self.view.viewport().width() - margins.left() - margins.right()
        height = self.view.viewport().height() - margins.top() - margins.bottom()
        factor = width / (size.width() * scale)
        if self.view.zoomMode() == QPdfView.ZoomMode.FitInView:
            factor = min(factor, height / (size.height() * scale))
        return max(factor, ZOOM_MIN)

    def zoom_by(self, step: float) -> None:
        factor = min(max(self._effective_zoom() * step, ZOOM_MIN), ZOOM_MAX)
        self.view.setZoomMode(QPdfView.ZoomMode.Custom)
        self.view.setZoomFactor(factor)
        self._update_controls()

    def page_text(self) -> str:
        """The "X / Y" shown beside the arrows (tests read it)."""
        return self.page_label.text()

    def _update_controls(self, *_args: object) -> None:
        self._show_busy_box()
        has = self.stack.currentWidget() is self.view and self.page_count > 0
        page = self.current_page
        self.page_label.setText(tr("report.preview.page", page=page + 1, pages=self.page_count) if has else "–")
        self.prev_button.setEnabled(has and page > 0)
        self.next_button.setEnabled(has and page < self.page_count - 1)
        for button in (self.fit_width_button, self.fit_page_button, self.zoom_in_button, self.zoom_out_button):
            button.setEnabled(has)
        mode = self.view.zoomMode()
        self.fit_width_button.setChecked(mode == QPdfView.ZoomMode.FitToWidth)
        self.fit_page_button.setChecked(mode == QPdfView.ZoomMode.FitInView)
        self.zoom_label.setText(f"{round(self._effective_zoom() * 100)} %" if has else "")
