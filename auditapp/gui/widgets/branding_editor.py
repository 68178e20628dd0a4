"""The branding-profile editor of the settings dialog: colours, logo, company block.

A profile is the project's ``branding`` shape (see :mod:`auditapp.report.theme`); it is checked
with the renderer's own :func:`theme_from_branding`, so what this editor accepts is what the PDF
renders.
"""


from __future__ import annotations

import copy
from itertools import pairwise
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from auditapp.gui.i18n import CONTENT_LANGUAGE, tr
from auditapp.report.theme import (
    Theme,
    ThemeError,
    branding_value,
    set_branding_value,
    theme_from_branding,
)

LOGO_FILTER_EXTS = "*.png *.jpg *.jpeg *.svg"
ERROR_STYLE = "color: #D03636;"


def validate_profile(profile: dict[str, Any], base: Theme) -> str:
    """The renderer's complaint about ``profile`` ("" when it renders)."""
    try:
        theme_from_branding(profile, base, where=tr("settings.branding.where"))
    except ThemeError as exc:
        return str(exc)
    return ""


class ColourField(QWidget):
    """``#RRGGBB`` as text plus a swatch that opens QColorDialog; empty means the theme's colour."""

    edited = Signal()

    def __init__(self, label: str, theme_value: str) -> None:
        super().__init__()
        self.label = label
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(tr("settings.branding.colour_placeholder", value=theme_value))
        self.edit.setAccessibleName(label)
        self.edit.setToolTip(tr("settings.branding.colour_tip"))
        self.edit.setMaxLength(16)
        self.theme_value = theme_value
        self.swatch = QToolButton()
        self.swatch.setFixedSize(34, 24)
        self.swatch.setAccessibleName(tr("settings.branding.pick_colour", field=label))
        self.swatch.setToolTip(tr("settings.branding.pick_colour", field=label))
        self.swatch.clicked.connect(self.pick)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.swatch)
        layout.addWidget(self.edit, 1)
        self.edit.textChanged.connect(self._changed)
        self._paint()

    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, value: str) -> None:
        self.edit.blockSignals(True)
        self.edit.setText(value)
        self.edit.blockSignals(False)
        self._paint()

    def _changed(self) -> None:
        self._paint()
        self.edited.emit()

    def _paint(self) -> None:
        colour = QColor(self.text() or self.theme_value)
        if not colour.isValid() or (self.text() and not self.text().startswith("#")):
            self.swatch.setStyleSheet("background: transparent; border: 1px dashed #D03636;")
            return
        self.swatch.setStyleSheet(f"background: {colour.name()}; border: 1px solid #606060; border-radius: 3px;")

    def pick(self) -> None:
        from PySide6.QtWidgets import QColorDialog

        start = QColor(self.text() or self.theme_value)
        chosen = QColorDialog.getColor(start if start.isValid() else QColor(self.theme_value), self,
                                       tr("settings.branding.pick_colour", field=self.label))
        if chosen.isValid():
            self.edit.setText(chosen.name().upper())


class BrandingEditor(QWidget):
    """The fields of one branding profile; other keys a hand-edited profile has are kept as they are."""

    edited = Signal()

    def __init__(self, base: Theme) -> None:
        super().__init__()
        self.base = base
        self._profile: dict[str, Any] = {}
        self._loading = False

        self.logo = QLineEdit()
        self.logo.setPlaceholderText(tr("settings.branding.logo_placeholder"))
        self.logo.setAccessibleName(tr("settings.branding.logo"))
        self.logo.setToolTip(tr("settings.branding.logo_tip"))
        self.logo_button = QPushButton(tr("settings.branding.logo_browse"))
        self.logo_button.setToolTip(tr("settings.branding.logo_browse_tip"))
        self.logo_button.clicked.connect(self.browse_logo)
        self.logo_preview = QLabel()
        self.logo_preview.setFixedSize(160, 48)
        self.logo_preview.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.logo_preview.setAccessibleName(tr("settings.branding.logo_preview"))
        logo_row = QHBoxLayout()
        logo_row.addWidget(self.logo, 1)
        logo_row.addWidget(self.logo_button)

        self.primary = ColourField(tr("settings.branding.primary"), base.colours.primary)
        self.accent = ColourField(tr("settings.branding.accent"), base.colours.accent)
        self.company = self._line("settings.branding.company", "settings.branding.company_tip")
        self.address = QPlainTextEdit()
        self.address.setAccessibleName(tr("settings.branding.address"))
        self.address.setToolTip(tr("settings.branding.address_tip"))
        self.address.setPlaceholderText(tr("settings.branding.address_placeholder"))
        self.address.setTabChangesFocus(True)
        self.address.setFixedHeight(self.address.fontMetrics().lineSpacing() * 4 + 14)
        self.web = self._line("settings.branding.web", "settings.branding.web_tip")
        self.email = self._line("settings.branding.email", "settings.branding.email_tip")
        self.footer_de = self._line("settings.branding.footer_de", "settings.branding.footer_tip")
        self.footer_en = self._line("settings.branding.footer_en", "settings.branding.footer_tip")
        # The theme's values as what an empty field means, marked as such: a bare "auditapp" in
        # the company field read as if it had been typed (issue 14).
        self.footer_de.setPlaceholderText(tr("settings.branding.theme_placeholder", value=base.footer.de))
        self.footer_en.setPlaceholderText(tr("settings.branding.theme_placeholder", value=base.footer.en))
        self.footer_en.setProperty(CONTENT_LANGUAGE, "en")  # the English footer is English in every GUI language
        self.company.setPlaceholderText(tr("settings.branding.theme_placeholder", value=base.company.name))

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setAccessibleName(tr("settings.branding.error"))

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        outer.addLayout(form)
        outer.addStretch(1)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(tr("settings.branding.logo"), logo_row)
        form.addRow("", self.logo_preview)
        form.addRow(tr("settings.branding.primary"), self.primary)
        form.addRow(tr("settings.branding.accent"), self.accent)
        form.addRow(tr("settings.branding.company"), self.company)
        form.addRow(tr("settings.branding.address"), self.address)
        form.addRow(tr("settings.branding.web"), self.web)
        form.addRow(tr("settings.branding.email"), self.email)
        form.addRow(tr("settings.branding.footer_de"), self.footer_de)
        form.addRow(tr("settings.branding.footer_en"), self.footer_en)
        form.addRow(self.error)

        for line in (self.logo, self.company, self.web, self.email, self.footer_de, self.footer_en):
            line.textChanged.connect(self._changed)
        self.address.textChanged.connect(self._changed)
        self.primary.edited.connect(self._changed)
        self.accent.edited.connect(self._changed)
        order = [self.logo, self.logo_button, self.primary.swatch, self.primary.edit, self.accent.swatch,
                 self.accent.edit, self.company, self.address, self.web, self.email, self.footer_de, self.footer_en]
        for first, second in pairwise(order):
            self.setTabOrder(first, second)

    def _line(self, text_key: str, tip_key: str) -> QLineEdit:
        line = QLineEdit()
        line.setAccessibleName(tr(text_key))
        line.setToolTip(tr(tip_key))
        return line

    def set_profile(self, profile: dict[str, Any]) -> None:
        self._loading = True
        try:
            self._profile = copy.deepcopy(profile)
            text = lambda value: value if isinstance(value, str) else ""  # noqa: E731 - hand-edited values
            self.logo.setText(text(branding_value(profile, "logo", "path")))
            self.primary.set_text(text(branding_value(profile, "colours", "primary")))
            self.accent.set_text(text(branding_value(profile, "colours", "accent")))
            self.company.setText(text(branding_value(profile, "company", "name")))
            address = branding_value(profile, "company", "address")
            self.address.setPlainText("\n".join(a for a in address if isinstance(a, str))
                                      if isinstance(address, list) else "")
            self.web.setText(text(branding_value(profile, "company", "web")))
            self.email.setText(text(branding_value(profile, "company", "email")))
            footer = profile.get("footer")
            if isinstance(footer, str):
                footer = {"de": footer, "en": footer}
            self.footer_de.setText(text(footer.get("de")) if isinstance(footer, dict) else "")
            self.footer_en.setText(text(footer.get("en")) if isinstance(footer, dict) else "")
        finally:
            self._loading = False
        self._show_logo()

    def profile(self) -> dict[str, Any]:
        data = copy.deepcopy(self._profile)
        set_branding_value(data, "logo", "path", self.logo.text().strip())
        set_branding_value(data, "colours", "primary", self.primary.text())
        set_branding_value(data, "colours", "accent", self.accent.text())
        set_branding_value(data, "company", "name", self.company.text().strip())
        lines = [line.strip() for line in self.address.toPlainText().splitlines() if line.strip()]
        set_branding_value(data, "company", "address", lines)
        set_branding_value(data, "company", "web", self.web.text().strip())
        set_branding_value(data, "company", "email", self.email.text().strip())
        if isinstance(data.get("footer"), str):
            data["footer"] = {"de": data["footer"], "en": data["footer"]}
        set_branding_value(data, "footer", "de", self.footer_de.text().strip())
        set_branding_value(data, "footer", "en", self.footer_en.text().strip())
        return data

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def _changed(self) -> None:
        if self._loading:
            return
        self._show_logo()
        self.edited.emit()

    def _show_logo(self) -> None:
        text = self.logo.text().strip()
        pixmap = QPixmap()
        if text:
            path = Path(text).expanduser()
            if not pixmap.load(str(path)) and path.suffix.lower() == ".svg":
                pixmap.load(str(path.with_suffix(".png")))
        if pixmap.isNull():
            self.logo_preview.clear()
            self.logo_preview.setText(tr("settings.branding.logo_theme") if not text else "")
            return
        self.logo_preview.setPixmap(pixmap.scaled(self.logo_preview.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                  Qt.TransformationMode.SmoothTransformation))

    def browse_logo(self) -> None:
        start = self.logo.text().strip() or str(Path.home())
        chosen, _ = QFileDialog.getOpenFileName(self, tr("settings.branding.logo_dialog"), start,
                                                tr("settings.branding.logo_filter", exts=LOGO_FILTER_EXTS))
        if chosen:
            self.logo.setText(str(Path(chosen).resolve()))
