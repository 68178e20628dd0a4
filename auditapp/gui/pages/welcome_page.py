"""The start page: what auditapp does, and the three ways to begin (new, open, demo)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from auditapp.gui.context import AppContext
from auditapp.gui.i18n import tr
from auditapp.gui.icons import app_icon
from auditapp.gui.pages.base import Page


class WelcomePage(Page):
    key = "welcome"
    nav_text_key = "window.nav.welcome"
    needs_project = False

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 40, 48, 32)
        head = QHBoxLayout()
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(72, 72))
        head.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        titles = QVBoxLayout()
        heading = QLabel(tr("welcome.heading"))
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        heading.setFont(font)
        titles.addWidget(heading)
        intro = QLabel(tr("welcome.intro"))
        intro.setWordWrap(True)
        titles.addWidget(intro)
        head.addLayout(titles, 1)
        outer.addLayout(head)
        steps = QLabel(tr("welcome.steps"))
        steps.setWordWrap(True)
        steps.setTextFormat(Qt.TextFormat.RichText)
        outer.addSpacing(12)
        outer.addWidget(steps)
        outer.addSpacing(18)

        buttons = QHBoxLayout()
        self.new_button = QPushButton(tr("welcome.new"))
        self.open_button = QPushButton(tr("welcome.open"))
        self.demo_button = QPushButton(tr("welcome.demo"))
        self.demo_button.setToolTip(tr("welcome.demo_tip"))
        self.back_button = QPushButton()
        for button in (self.new_button, self.open_button, self.demo_button, self.back_button):
            button.setMinimumHeight(36)
            buttons.addWidget(button)
        buttons.addStretch(1)
        outer.addLayout(buttons)
        outer.addSpacing(18)

        recent_title = QLabel(f"<b>{tr('welcome.recent')}</b>")
        outer.addWidget(recent_title)
        self.recent = QListWidget()
        self.recent.setAccessibleName(tr("welcome.recent"))
        self.recent.setMaximumHeight(220)
        outer.addWidget(self.recent)
        outer.addStretch(1)

        self.new_button.clicked.connect(lambda: self._window_call("new_project"))
        self.open_button.clicked.connect(lambda: self._window_call("open_dialog"))
        self.demo_button.clicked.connect(lambda: self._window_call("open_demo"))
        self.back_button.clicked.connect(lambda: ctx.navigate.emit("target"))
        self.recent.itemActivated.connect(self._open_recent)
        self.on_replaced()

    def _window_call(self, name: str) -> None:
        method = getattr(self.ctx.window, name, None)
        if method is not None:
            method()

    def _open_recent(self, item: QListWidgetItem) -> None:
        path = item.data(Qt.ItemDataRole.UserRole)
        if path:
            opener = getattr(self.ctx.window, "open_path", None)
            if opener is not None:
                opener(path)

    def on_replaced(self) -> None:
        project = self.ctx.session.project
        self.back_button.setVisible(project is not None)
        if project is not None:
            self.back_button.setText(tr("welcome.open_project", name=self.ctx.session.display_name))
        self.shown()

    def on_changed(self, source: object) -> None:
        pass

    def shown(self) -> None:
        self.recent.clear()
        recent = [p for p in self.ctx.settings.recent_files if Path(p).exists()]
        for path in recent:
            item = QListWidgetItem(f"{Path(path).name}    —    {Path(path).parent}")
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(path)
            self.recent.addItem(item)
        if not recent:
            item = QListWidgetItem(tr("welcome.recent_none"))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.recent.addItem(item)


