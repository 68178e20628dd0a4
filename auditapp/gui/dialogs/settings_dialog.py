"""The preferences: languages, reviewer, audit defaults and the consultant's branding profiles.

Nothing is written until OK, so Cancel really cancels; OK stays disabled while a field is
invalid, with the reason beside the field, because a setting refused later (a resolver
that is no IP address, a colour the report renderer rejects) would surface far from here.

Branding profiles are validated with the report's own :func:`theme_from_branding` on top of
the default theme, so a profile this dialog accepts is one the PDF renderer accepts too.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from auditapp.core.target import DEFAULT_DNSBL_ZONES
from auditapp.core.validation import InputError, normalize_domain, validate_nameserver
from auditapp.gui import i18n
from auditapp.gui.context import AppContext
from auditapp.gui.i18n import tr
from auditapp.gui.widgets.branding_editor import ERROR_STYLE, BrandingEditor, validate_profile
from auditapp.gui.widgets.fields import ValidatedListEdit
from auditapp.report.theme import (
    available_themes,
    load_theme,
)

log = logging.getLogger(__name__)

GUI_LANGUAGES = (("de", "Deutsch"), ("en", "English"))  # each in its own language, as language menus do
REPORT_LANGS = ("de", "en")



def check_resolver(text: str) -> str:
    """A resolver by the rule of every front end (core/validation); a malformed one gets this dialog's hint."""
    try:
        address, port = validate_nameserver(text)
    except InputError as exc:
        if exc.code != "invalid":  # not an IP address, blanks: the field's own message says it
            raise
        raise InputError(tr("settings.audit.resolver_format"), "invalid") from None
    return f"{address}:{port}"  # the duplicate check compares "192.0.2.1" and "192.0.2.1:53" as equal


class SettingsDialog(QDialog):
    """Preferences in three tabs; ``accept`` writes them to :class:`~auditapp.gui.settings.Settings`."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        settings = ctx.settings
        self.setWindowTitle(tr("settings.title"))
        self.resize(760, 560)
        self.base_theme = load_theme("default")
        self.profiles: dict[str, dict[str, Any]] = {
            str(name): copy.deepcopy(value) for name, value in settings.branding_profiles.items()
            if isinstance(value, dict)}
        self.profile_errors: dict[str, str] = {}

        self.tabs = QTabWidget()
        self.tabs.addTab(self._general_tab(), tr("settings.tab.general"))
        self.tabs.addTab(self._audit_tab(), tr("settings.tab.audit"))
        self.tabs.addTab(self._branding_tab(), tr("settings.tab.branding"))

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(ERROR_STYLE)
        bottom = QHBoxLayout()
        bottom.addWidget(self.problem, 1)
        bottom.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)

        for name in self.profiles:
            self.profile_errors[name] = validate_profile(self.profiles[name], self.base_theme)
        self._fill_profiles()
        self.update_ok()

    # -- tabs ---------------------------------------------------------------------------------------

    @staticmethod
    def _form_page() -> tuple[QWidget, QFormLayout]:
        """A tab whose rows keep their natural height at the top, instead of spreading over the tab."""
        page = QWidget()
        outer = QVBoxLayout(page)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        outer.addLayout(form)
        outer.addStretch(1)
        return page, form

    def _general_tab(self) -> QWidget:
        settings = self.ctx.settings
        page, form = self._form_page()
        self.gui_lang = QComboBox()
        for code, label in GUI_LANGUAGES:
            self.gui_lang.addItem(label, code)
        self.gui_lang.setCurrentIndex(max(self.gui_lang.findData(i18n.language()), 0))
        self._describe(self.gui_lang, "settings.general.gui_language", "settings.general.gui_language_tip")
        self.report_lang = QComboBox()
        self.report_lang.addItem(tr("settings.lang.like_gui"), "")
        for code in REPORT_LANGS:
            self.report_lang.addItem(tr(f"settings.lang.{code}"), code)
        self.report_lang.setCurrentIndex(max(self.report_lang.findData(settings.report_language), 0))
        self._describe(self.report_lang, "settings.general.report_language", "settings.general.report_language_tip")
        self.theme = QComboBox()
        for name in available_themes():
            self.theme.addItem(tr("settings.general.theme_default") if name == "default" else name, name)
        self.theme.setCurrentIndex(max(self.theme.findData(settings.report_theme), 0))
        self._describe(self.theme, "settings.general.theme", "settings.general.theme_tip")
        self.reviewer = QLineEdit(settings.reviewer)
        self.reviewer.setPlaceholderText(tr("settings.general.reviewer_placeholder"))
        self._describe(self.reviewer, "settings.general.reviewer", "settings.general.reviewer_tip")
        form.addRow(tr("settings.general.gui_language"), self.gui_lang)
        form.addRow(tr("settings.general.report_language"), self.report_lang)
        form.addRow(tr("settings.general.theme"), self.theme)
        form.addRow(tr("settings.general.reviewer"), self.reviewer)
        return page

    def _audit_tab(self) -> QWidget:
        settings = self.ctx.settings
        page, form = self._form_page()
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(0.5, 120.0)
        self.timeout.setSingleStep(0.5)
        self.timeout.setDecimals(1)
        self.timeout.setSuffix(" s")
        self.timeout.setValue(float(settings.timeout))
        self.timeout.setMaximumWidth(120)
        self._describe(self.timeout, "settings.audit.timeout", "settings.audit.timeout_tip")
        self.resolvers = ValidatedListEdit(check_resolver, placeholder=tr("settings.audit.resolvers_placeholder"),
                                           accessible=tr("settings.audit.resolvers"), lines=3)
        self.resolvers.edit.setToolTip(tr("settings.audit.resolvers_tip"))
        self.resolvers.set_values([str(v) for v in settings.nameservers])
        self.zones = ValidatedListEdit(normalize_domain, placeholder=tr("settings.audit.zones_placeholder"),
                                       accessible=tr("settings.audit.zones"), lines=5)
        self.zones.edit.setToolTip(tr("settings.audit.zones_tip"))
        self.zones.set_values([str(v) for v in settings.dnsbl_zones])
        self.zones_reset = QPushButton(tr("settings.audit.zones_reset"))
        self.zones_reset.setToolTip(tr("settings.audit.zones_reset_tip"))
        self.zones_reset.clicked.connect(lambda: self.zones.set_values(list(DEFAULT_DNSBL_ZONES)))
        for field in (self.resolvers, self.zones):
            field.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
            field.validity_changed.connect(self.update_ok)
            field.edited.connect(self.update_ok)
        self.ca_file = QLineEdit(settings.ca_file)
        self.ca_file.setPlaceholderText(tr("settings.audit.ca_file_placeholder"))
        self._describe(self.ca_file, "settings.audit.ca_file", "settings.audit.ca_file_tip")
        ca_browse = QPushButton(tr("settings.audit.ca_file_browse"))
        ca_browse.clicked.connect(self._choose_ca_file)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(ca_browse)
        hint = QLabel(tr("settings.audit.hint"))
        hint.setWordWrap(True)
        form.addRow(tr("settings.audit.timeout"), self.timeout)
        form.addRow(tr("settings.audit.ca_file"), ca_row)
        form.addRow(tr("settings.audit.resolvers"), self.resolvers)
        form.addRow(tr("settings.audit.zones"), self.zones)
        form.addRow("", self._left(self.zones_reset))
        form.addRow(hint)
        return page

    def _choose_ca_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("settings.audit.ca_file"), self.ca_file.text(),
                                              tr("settings.audit.ca_file_filter"))
        if path:
            self.ca_file.setText(path)

    def _branding_tab(self) -> QWidget:
        page = QWidget()
        self.profile_list = QListWidget()
        self.profile_list.setAccessibleName(tr("settings.branding.list"))
        self.profile_list.setToolTip(tr("settings.branding.list_tip"))
        self.profile_list.setMaximumWidth(220)
        self.profile_list.setIconSize(QSize(16, 16))
        self.add_button = QPushButton(tr("settings.branding.add"))
        self.add_button.setToolTip(tr("settings.branding.add_tip"))
        self.add_button.clicked.connect(self.ask_new_profile)
        self.remove_button = QPushButton(tr("settings.branding.remove"))
        self.remove_button.setToolTip(tr("settings.branding.remove_tip"))
        self.remove_button.clicked.connect(self.remove_current_profile)
        left = QVBoxLayout()
        left.addWidget(QLabel(tr("settings.branding.list")))
        left.addWidget(self.profile_list, 1)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        left.addLayout(row)

        self.editor = BrandingEditor(self.base_theme)
        self.editor.edited.connect(self._profile_edited)
        self.apply_button = QPushButton(tr("settings.branding.apply"))
        self.apply_button.setToolTip(tr("settings.branding.apply_tip"))
        self.apply_button.clicked.connect(self.apply_to_project)
        self.apply_status = QLabel()
        self.apply_status.setWordWrap(True)
        self.empty_hint = QLabel(tr("settings.branding.empty"))
        self.empty_hint.setWordWrap(True)
        # Scrolls rather than squeezing rows into each other when the dialog is small.
        editor_scroll = QScrollArea()
        editor_scroll.setWidget(self.editor)
        editor_scroll.setWidgetResizable(True)
        editor_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        editor_scroll.viewport().setAutoFillBackground(False)
        self.editor.setAutoFillBackground(False)
        self.editor_scroll = editor_scroll
        right = QVBoxLayout()
        right.addWidget(self.empty_hint)
        right.addWidget(editor_scroll, 1)
        apply_row = QHBoxLayout()
        apply_row.addWidget(self.apply_button)
        apply_row.addWidget(self.apply_status, 1)
        right.addLayout(apply_row)

        layout = QHBoxLayout(page)
        layout.addLayout(left)
        layout.addLayout(right, 1)
        self.profile_list.currentItemChanged.connect(self._profile_selected)
        self.setTabOrder(self.profile_list, self.add_button)
        self.setTabOrder(self.add_button, self.remove_button)
        self.setTabOrder(self.remove_button, self.editor.logo)
        self.setTabOrder(self.editor.footer_en, self.apply_button)
        return page

    @staticmethod
    def _left(widget: QWidget) -> QWidget:
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(widget)
        row.addStretch(1)
        return holder

    def _describe(self, widget: QWidget, text_key: str, tip_key: str) -> None:
        widget.setAccessibleName(tr(text_key))
        widget.setToolTip(tr(tip_key))

    # -- branding profiles -----------------------------------------------------------------------

    def current_profile(self) -> str | None:
        item = self.profile_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _fill_profiles(self, select: str | None = None) -> None:
        self.profile_list.blockSignals(True)
        self.profile_list.clear()
        for name in sorted(self.profiles, key=str.casefold):
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.profile_list.addItem(item)
            if name == select:
                self.profile_list.setCurrentItem(item)
        if self.profile_list.currentItem() is None and self.profile_list.count():
            self.profile_list.setCurrentRow(0)
        self.profile_list.blockSignals(False)
        self._mark_profiles()
        self._profile_selected()

    def _mark_profiles(self) -> None:
        warn = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        blank = QPixmap(16, 16)
        blank.fill(Qt.GlobalColor.transparent)  # keeps names aligned with those carrying a warning
        for row in range(self.profile_list.count()):
            item = self.profile_list.item(row)
            name = item.data(Qt.ItemDataRole.UserRole)
            bad = bool(self.profile_errors.get(name))
            item.setIcon(warn if bad else QIcon(blank))
            item.setToolTip(self.profile_errors.get(name, "") or tr("settings.branding.list_tip"))

    def _profile_selected(self, *_args: object) -> None:
        name = self.current_profile()
        has = name is not None
        self.editor.setVisible(has)
        self.editor_scroll.setVisible(has)
        self.empty_hint.setVisible(not has)
        self.remove_button.setEnabled(has)
        self.apply_status.setText("" if self.ctx.session.project is not None or not has
                                  else tr("settings.branding.no_project"))
        if has:
            self.editor.set_profile(self.profiles[name])
            self.editor.show_error(self.profile_errors.get(name, ""))
        self._update_apply()

    def _profile_edited(self) -> None:
        name = self.current_profile()
        if name is None:
            return
        self.profiles[name] = self.editor.profile()
        self.profile_errors[name] = validate_profile(self.profiles[name], self.base_theme)
        self.editor.show_error(self.profile_errors[name])
        self.apply_status.clear()
        self._mark_profiles()
        self._update_apply()
        self.update_ok()

    def _update_apply(self) -> None:
        name = self.current_profile()
        self.apply_button.setEnabled(name is not None and not self.profile_errors.get(name)
                                     and self.ctx.session.project is not None)

    def ask_new_profile(self) -> None:
        name, ok = QInputDialog.getText(self, tr("settings.branding.add_title"), tr("settings.branding.add_prompt"))
        if ok:
            problem = self.add_profile(name)
            if problem:
                self.apply_status.setText(problem)

    def add_profile(self, name: str, profile: dict[str, Any] | None = None) -> str:
        """Add a profile (empty: the theme unchanged); returns why not, or ""."""
        name = name.strip()
        if not name:
            return tr("settings.branding.name_empty")
        if name in self.profiles:
            return tr("settings.branding.name_taken", name=name)
        self.profiles[name] = copy.deepcopy(profile or {})
        self.profile_errors[name] = validate_profile(self.profiles[name], self.base_theme)
        self._fill_profiles(select=name)
        self.update_ok()
        return ""

    def remove_current_profile(self) -> None:
        name = self.current_profile()
        if name is None:
            return
        self.profiles.pop(name, None)
        self.profile_errors.pop(name, None)
        self._fill_profiles()
        self.update_ok()

    def apply_to_project(self) -> None:
        """Copy the selected profile into the open project's branding (an ordinary, unsaved project edit)."""
        name = self.current_profile()
        if name is None or self.ctx.session.project is None or self.profile_errors.get(name):
            return
        branding = copy.deepcopy(self.profiles[name])

        def change(project: Any) -> None:
            project.branding = branding

        self.ctx.session.edit(change, self)
        message = tr("settings.branding.applied", name=name)
        self.apply_status.setText(message)
        self.ctx.status.emit(message)
        log.info("branding profile %r applied to the project", name)

    # -- validity and saving -----------------------------------------------------------------------

    def problems(self) -> list[str]:
        out = []
        if not self.resolvers.valid or not self.zones.valid:
            out.append(tr("settings.tab.audit"))
        bad = sorted(name for name, error in self.profile_errors.items() if error)
        if bad:
            out.append(tr("settings.problem_profiles", names=", ".join(bad)))
        return out

    def update_ok(self, *_args: object) -> None:
        problems = self.problems()
        self.ok_button.setEnabled(not problems)
        self.problem.setText(tr("settings.problem", where="; ".join(problems)) if problems else "")
        for index, invalid in ((1, not self.resolvers.valid or not self.zones.valid),
                               (2, any(self.profile_errors.values()))):
            icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning) if invalid else QIcon()
            self.tabs.setTabIcon(index, icon)

    def accept(self) -> None:
        if self.problems():
            return
        settings = self.ctx.settings
        old_lang = i18n.language()
        new_lang = self.gui_lang.currentData()
        settings.report_language = self.report_lang.currentData()
        settings.report_theme = self.theme.currentData()
        settings.reviewer = self.reviewer.text().strip()
        settings.timeout = float(self.timeout.value())
        settings.nameservers = self.resolvers.values()
        settings.dnsbl_zones = [normalize_domain(zone) for zone in self.zones.values()]
        settings.ca_file = self.ca_file.text().strip()
        settings.branding_profiles = self.profiles
        settings.gui_language = new_lang
        settings.sync()
        super().accept()
        if new_lang != old_lang:
            switch: Callable[[str], object] | None = getattr(self.ctx.window, "set_language", None)
            if switch is not None:
                switch(new_lang)
            else:
                i18n.set_language(new_lang)
