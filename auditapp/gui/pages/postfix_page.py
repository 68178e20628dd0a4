"""The Postfix page: import a configuration into the project and show what the audit will see.

The project keeps the configuration as texts (``{"origin": ..., "files": {...}}``, exactly as
``auditapp audit --project --postfix-config`` stores it) and the audit re-parses them, so a
project re-run on another machine audits the same configuration. This page stores a text only
after :func:`~auditapp.postfix.config_from_texts` accepted it: a parse error is shown with its
file and line and nothing in the project changes.

The tables show effective values (main.cf or ``postconf -n``, else the Postfix default for the
compatibility level) with their provenance, and master.cf services with their ``-o``
overrides: the consultant can check that the import is what they expected before auditing.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontDatabase, QPalette, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from auditapp.catalog.wording import render_problem
from auditapp.gui.context import AppContext
from auditapp.gui.i18n import language, texts, tr
from auditapp.gui.pages.base import PANES_MARGINS, Page, tab_chain
from auditapp.gui.qmodels import rich_tip
from auditapp.gui.questionnaire_form import muted
from auditapp.gui.widgets.banner import WARN, Banner
from auditapp.postfix import Param, PostfixConfig, PostfixConfigError, Source, config_from_texts, read_texts
from auditapp.postfix.defaults import known_names
from auditapp.postfix.parser import MAX_TEXT, PASTED

_FILE_NAMES = ("main.cf", "master.cf")


def source_text(source: Source) -> str:
    """Provenance in the GUI language: ``main.cf:12`` stays as it is, defaults say so in words."""
    if source.kind == "default":
        return tr("postfix.source.default_note", note=note_text(source.note)) if source.note \
            else tr("postfix.source.default")
    if source.kind == "unset":
        return tr("postfix.source.unset")
    pasted = source.origin in ("", PASTED)
    notes = ["-o"] if source.override and source.kind != "postconf -P" else []
    if source.kind in ("main.cf", "master.cf"):
        if not pasted:
            return str(source)  # "main.cf:12": a file and its line, the same in every language
        notes.append(tr("postfix.source.pasted"))
    text = tr("postfix.source.line", kind=source.kind, line=str(source.line))
    return text + (f" ({', '.join(notes)})" if notes else "") + (
        "" if pasted else tr("postfix.source.in_origin", origin=source.origin))


def note_text(note: str) -> str:
    """A default's note in the GUI language: the Postfix module writes it in English (postfix.note.*)."""
    key = next((k for k, entry in texts().items() if k.startswith("postfix.note.") and entry["en"] == note), None)
    return tr(key) if key else note  # "Postfix 3.11, compatibility_level 3.6" needs no words


def _item(text: str, tooltip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)
    item.setToolTip(rich_tip(tooltip or text))  # configuration values are shown literally
    return item


def _shown_value(param: Param) -> str:
    if param.unknown:
        return tr("postfix.value_unknown")
    return param.expanded if param.expanded else tr("postfix.value_empty")


class PostfixPage(Page):
    key = "postfix"
    nav_text_key = "window.nav.postfix"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.config: PostfixConfig | None = None
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        layout = self.page_column("postfix.title", "postfix.intro", margins=PANES_MARGINS, spacing=8, muted=True)

        # -- left: ways in --------------------------------------------------------------------
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 8, 0)
        files_box = QGroupBox(tr("postfix.import_box"))
        files_layout = QVBoxLayout(files_box)
        self.dir_button = QPushButton(tr("postfix.import_dir"))
        self.dir_button.setToolTip(tr("postfix.import_dir_tip"))
        self.files_button = QPushButton(tr("postfix.import_files"))
        self.files_button.setToolTip(tr("postfix.import_files_tip"))
        files_layout.addWidget(self.dir_button)
        files_layout.addWidget(self.files_button)
        left_layout.addWidget(files_box)

        paste_box = QGroupBox(tr("postfix.paste_box"))
        paste_layout = QVBoxLayout(paste_box)
        paste_hint = muted(QLabel(tr("postfix.paste_hint")))
        paste_hint.setWordWrap(True)
        self.paste = QPlainTextEdit()
        self.paste.setFont(mono)
        self.paste.setPlaceholderText(tr("postfix.paste_placeholder"))
        self.paste.setAccessibleName(tr("postfix.paste_name"))
        self.paste.setToolTip(tr("postfix.paste_hint"))
        self.paste.setTabChangesFocus(True)
        self.paste.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.apply_button = QPushButton(tr("postfix.apply"))
        self.apply_button.setToolTip(tr("postfix.apply_tip"))
        self.apply_button.setEnabled(False)
        paste_layout.addWidget(paste_hint)
        paste_layout.addWidget(self.paste, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.apply_button)
        paste_layout.addLayout(row)
        left_layout.addWidget(paste_box, 1)

        # -- right: what is stored ------------------------------------------------------------
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 0, 0, 0)
        self.banner = Banner()
        right_layout.addWidget(self.banner)
        status_row = QHBoxLayout()
        self.origin_label = QLabel()
        self.origin_label.setWordWrap(True)
        self.origin_label.setTextFormat(Qt.TextFormat.PlainText)
        self.origin_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.remove_button = QPushButton(tr("postfix.remove"))
        self.remove_button.setToolTip(tr("postfix.remove_tip"))
        status_row.addWidget(self.origin_label, 1)
        status_row.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)
        right_layout.addLayout(status_row)
        self.summary_label = muted(QLabel())
        self.summary_label.setWordWrap(True)
        right_layout.addWidget(self.summary_label)

        self.tabs = QTabWidget()
        params_tab = QWidget()
        params_layout = QVBoxLayout(params_tab)
        filter_row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText(tr("postfix.search_placeholder"))
        self.search.setAccessibleName(tr("postfix.search_name"))
        self.search.setToolTip(tr("postfix.search_tip"))
        self.search.setClearButtonEnabled(True)
        self.show_defaults = QCheckBox(tr("postfix.show_defaults"))
        self.show_defaults.setToolTip(tr("postfix.show_defaults_tip"))
        filter_row.addWidget(self.search, 1)
        filter_row.addWidget(self.show_defaults)
        params_layout.addLayout(filter_row)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels([tr("postfix.col.parameter"), tr("postfix.col.value"),
                                              tr("postfix.col.written"), tr("postfix.col.source")])
        self.table.setAccessibleName(tr("postfix.table_name"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setColumnWidth(2, 160)
        params_layout.addWidget(self.table, 1)
        self.tabs.addTab(params_tab, tr("postfix.tab_params"))

        self.services = QTreeWidget()
        self.services.setColumnCount(4)
        self.services.setHeaderLabels([tr("postfix.col.service"), tr("postfix.col.command"),
                                       tr("postfix.col.value"), tr("postfix.col.source")])
        self.services.setAccessibleName(tr("postfix.services_name"))
        self.services.setAlternatingRowColors(True)
        self.services.setUniformRowHeights(True)
        self.services.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.services.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.services.header().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.services.header().setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.services.header().setStretchLastSection(False)
        self.tabs.addTab(self.services, tr("postfix.tab_services"))

        self.warnings = QListWidget()
        self.warnings.setAccessibleName(tr("postfix.tab_warnings"))
        self.warnings.setWordWrap(True)
        self.tabs.addTab(self.warnings, tr("postfix.tab_warnings"))
        right_layout.addWidget(self.tabs, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([380, 900])
        layout.addWidget(splitter, 1)

        self.dir_button.clicked.connect(self.import_dir_clicked)
        self.files_button.clicked.connect(self.import_files_clicked)
        self.apply_button.clicked.connect(self.apply_paste)
        self.paste.textChanged.connect(self._paste_changed)
        self.remove_button.clicked.connect(self.remove_clicked)
        self.search.textChanged.connect(self._filter)
        self.show_defaults.toggled.connect(self._fill_params)
        tab_chain(self.dir_button, self.files_button, self.paste, self.apply_button, self.remove_button, self.tabs,
                  self.search, self.show_defaults, self.table)
        self.on_replaced()

    # -- project -> view -----------------------------------------------------------------------

    def on_replaced(self) -> None:
        self.banner.clear_message()
        self._show_stored()

    def on_changed(self, source: object) -> None:
        self._show_stored()

    def _show_stored(self) -> None:
        self.banner.clear_message()
        has_project = self.project is not None
        for widget in (self.dir_button, self.files_button, self.paste):
            widget.setEnabled(has_project)
        self._paste_changed()
        stored = self.project.postfix_config if self.project is not None else None
        self.config = None
        if stored is None:
            self.origin_label.setText(tr("postfix.none"))
            self.summary_label.setText(tr("postfix.none_hint") if has_project else "")
            self.remove_button.setEnabled(False)
        else:
            origin = str(stored.get("origin", ""))
            files = ", ".join(sorted(stored.get("files", {})))
            self.origin_label.setText(tr("postfix.origin", origin=self._origin_text(origin), files=files))
            self.remove_button.setEnabled(True)
            try:
                self.config = config_from_texts(stored["files"], origin or "project")
            except PostfixConfigError as exc:
                # Kept in the project (the audit reports it as a load failure); say so here.
                self.summary_label.setText("")
                self.banner.show_message(tr("postfix.stored_broken", reason=str(exc)), "error")
            else:
                self.summary_label.setText(self._summary(self.config))
        self._fill_params()
        self._fill_services()
        self._fill_warnings()

    @staticmethod
    def _origin_text(origin: str) -> str:
        return tr("postfix.origin_pasted") if origin == PASTED else origin

    def _summary(self, config: PostfixConfig) -> str:
        text = tr("postfix.summary", settings=len(config.settings), services=len(config.services),
                  level=config.compatibility_level_text)
        if not config.has_master:
            text += " " + tr("postfix.no_master")
        if config.warnings:
            text += " " + tr("postfix.has_warnings", count=len(config.warnings))
        return text

    def _fill_params(self) -> None:
        self.table.setSortingEnabled(False)
        self.table.setRowCount(0)
        config = self.config
        if config is not None:
            names = list(config.settings)
            if self.show_defaults.isChecked():
                names += [n for n in known_names() if n not in config.settings]
            for name in sorted(names):
                param = config.get(name)
                row = self.table.rowCount()
                self.table.insertRow(row)
                written = param.value if param.value != param.expanded or param.unknown else ""
                problems = "\n".join(render_problem(p, language()) for p in param.problems)
                self.table.setItem(row, 0, _item(name))
                value = _item(_shown_value(param), "\n".join(filter(None, [param.expanded, problems])))
                if param.unknown or param.problems:
                    value.setForeground(WARN)
                self.table.setItem(row, 1, value)
                self.table.setItem(row, 2, _item(written))
                source = _item(source_text(param.source))
                if param.is_default:
                    source.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
                self.table.setItem(row, 3, source)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self._filter()

    def _filter(self) -> None:
        needle = self.search.text().strip().lower()
        for row in range(self.table.rowCount()):
            texts = [self.table.item(row, col).text().lower() for col in range(self.table.columnCount())]
            self.table.setRowHidden(row, bool(needle) and not any(needle in t for t in texts))

    def _fill_services(self) -> None:
        self.services.clear()
        config = self.config
        if config is None:
            return
        for svc in config.services:
            # The program alone: its "-o" arguments are listed as child rows with their values,
            # and the full command line (often several hundred characters) sits in the tooltip.
            command = " ".join([svc.command, *svc.args]).strip()
            top = QTreeWidgetItem([svc.key, svc.command, "", source_text(svc.source)])
            top.setToolTip(1, rich_tip(command))
            if svc.overrides:
                top.setText(2, tr("postfix.overrides", count=len(svc.overrides)))
            for name, param in svc.overrides.items():
                child = QTreeWidgetItem([f"-o {name}", "", _shown_value(param), source_text(param.source)])
                child.setToolTip(2, rich_tip(param.value if param.value == param.expanded
                                             else f"{param.value} → {param.expanded}"))
                top.addChild(child)
            self.services.addTopLevelItem(top)
            top.setExpanded(bool(svc.overrides))

    def _fill_warnings(self) -> None:
        self.warnings.clear()
        items = list(self.config.warnings) if self.config is not None else []
        for text in items:  # English evidence with a message key: written in the window's language
            self.warnings.addItem(render_problem(text, language()))
        index = self.tabs.indexOf(self.warnings)
        self.tabs.setTabText(index, tr("postfix.tab_warnings_count", count=len(items)) if items
                             else tr("postfix.tab_warnings"))

    # -- dialogs (separate methods so tests can answer them) ------------------------------------

    def ask_directory(self) -> str:
        return QFileDialog.getExistingDirectory(self, tr("postfix.import_dir_title"), self.start_dir())

    def ask_files(self) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(self, tr("postfix.import_files_title"), self.start_dir(),
                                                tr("postfix.file_filter"))
        return paths

    # -- actions -------------------------------------------------------------------------------

    def import_dir_clicked(self) -> None:
        path = self.ask_directory()
        if path:
            self.ctx.settings.last_dir = path
            self.import_path(path)

    def import_files_clicked(self) -> None:
        paths = self.ask_files()
        if paths:
            self.ctx.settings.last_dir = str(Path(paths[0]).parent)
            self.import_files(paths)

    def import_path(self, path: str | Path) -> bool:
        """A directory with main.cf (and master.cf), as ``--postfix-config DIR`` reads it."""
        p = Path(path)
        if p.is_dir() and not (p / "main.cf").is_file():
            self._failed(tr("postfix.no_main_cf", path=str(p)))
            return False
        try:
            files = read_texts(p)
        except PostfixConfigError as exc:
            self._failed(str(exc))
            return False
        return self._store(str(p.resolve()), files)

    def import_files(self, paths: list[str] | list[Path]) -> bool:
        """main.cf and/or master.cf, or one file of ``postconf`` output."""
        chosen = [Path(p) for p in paths]
        names = [p.name for p in chosen]
        cf = [p for p in chosen if p.name in _FILE_NAMES]
        if len(chosen) > 1 and (len(cf) != len(chosen) or len(set(names)) != len(names)):
            self._failed(tr("postfix.files_mix"))
            return False
        if cf and "main.cf" not in names:
            self._failed(tr("postfix.master_alone"))
            return False
        files: dict[str, str] = {}
        try:
            for p in chosen:
                files.update(read_texts(p))
        except PostfixConfigError as exc:
            self._failed(str(exc))
            return False
        origin = " + ".join(str(p.resolve()) for p in chosen)
        return self._store(origin, files)

    def _paste_changed(self) -> None:
        self.apply_button.setEnabled(self.project is not None and bool(self.paste.toPlainText().strip()))
        self.paste.setExtraSelections([])

    def apply_paste(self) -> bool:
        """Pasted ``postconf -n`` / ``-M`` / ``-P`` output (or a file's text) becomes the configuration."""
        text = self.paste.toPlainText()
        if not text.strip():
            return False
        if len(text) > MAX_TEXT:
            self._failed(tr("postfix.too_large"))
            return False
        ok = self._store(PASTED, {"text": text}, paste=True)
        if ok:
            self.paste.blockSignals(True)
            self.paste.clear()
            self.paste.blockSignals(False)
            self._paste_changed()
        return ok

    def _store(self, origin: str, files: dict[str, str], *, paste: bool = False) -> bool:
        if self.project is None:
            return False
        try:
            config = config_from_texts(files, origin)
        except PostfixConfigError as exc:
            self._failed(str(exc))
            if paste and exc.line is not None:
                self._mark_line(exc.line)
            return False
        previous = self.project.postfix_config
        if previous is not None and not self.confirm(
                tr("postfix.replace_title"),
                tr("postfix.replace_text", origin=self._origin_text(str(previous.get("origin", ""))))):
            return False
        stored = {"origin": origin, "files": dict(files)}
        self.ctx.session.edit(lambda p: setattr(p, "postfix_config", stored), self)
        self._show_stored()
        message = tr("postfix.imported", settings=len(config.settings), services=len(config.services))
        self.banner.show_message(message, "warn" if config.warnings else "ok")
        self.ctx.status.emit(message)
        return True

    def _failed(self, reason: str) -> None:
        self.banner.show_message(tr("postfix.import_failed", reason=reason), "error")

    def _mark_line(self, line: int) -> None:
        """Put the cursor on the offending pasted line and highlight it, so the fix is one click away."""
        block = self.paste.document().findBlockByNumber(line - 1)
        if not block.isValid():
            return
        cursor = QTextCursor(block)
        selection = QTextEdit.ExtraSelection()
        selection.format.setBackground(QColor(0xD0, 0x36, 0x36, 60))
        selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        selection.cursor = cursor
        self.paste.blockSignals(True)
        self.paste.setTextCursor(cursor)
        self.paste.blockSignals(False)
        self.paste.setExtraSelections([selection])

    def remove_clicked(self) -> None:
        if self.project is None or self.project.postfix_config is None:
            return
        if self.confirm(tr("postfix.remove_title"), tr("postfix.remove_text")):
            self.remove()

    def remove(self) -> None:
        self.ctx.session.edit(lambda p: setattr(p, "postfix_config", None), self)
        self._show_stored()
        self.banner.show_message(tr("postfix.removed"), "ok")
