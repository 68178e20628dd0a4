"""The main window: menus, navigation between pages, project file handling, closing safely."""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, Qt, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QStyle,
    QToolBar,
    QWidget,
)

from auditapp.core.model import Run
from auditapp.core.project import ProjectError
from auditapp.core.project_io import size_warning
from auditapp.core.review_layer import ReviewLayer, run_summary
from auditapp.gui import i18n
from auditapp.gui.context import AppContext
from auditapp.gui.demo_project import follow_demo_lab
from auditapp.gui.i18n import tr
from auditapp.gui.icons import nav_icon, ui_icon
from auditapp.gui.pages import PAGES
from auditapp.gui.pages.base import Page
from auditapp.gui.session import PROJECT_SUFFIX
from auditapp.gui.widgets import typed_input

log = logging.getLogger(__name__)



def _page_class(key: str) -> type[Page] | None:
    try:
        module = importlib.import_module(f"auditapp.gui.pages.{key}_page")
    except ModuleNotFoundError as exc:
        if exc.name == f"auditapp.gui.pages.{key}_page":
            return None
        raise
    found = [v for v in vars(module).values()
             if isinstance(v, type) and issubclass(v, Page) and v is not Page and v.key == key]
    return found[0] if found else None


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        ctx.window = self
        self.setAcceptDrops(True)
        self.setMinimumSize(980, 640)
        self.pages: dict[str, Page] = {}
        self._pending_language: str | None = None
        ctx.session.modified_changed.connect(self._update_title)
        ctx.session.path_changed.connect(self._update_title)
        ctx.session.replaced.connect(self._on_replaced)
        ctx.session.changed.connect(self._update_export)
        ctx.navigate.connect(self.go)
        ctx.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        ctx.session.autosave_failed.connect(
            lambda reason: self.statusBar().showMessage(tr("window.msg.autosave_failed", reason=reason)))
        ctx.runner.busy_changed.connect(self._on_busy)
        ctx.runner.finished.connect(self._run_recorded)
        self._run_message = ""
        ctx.session.changed.connect(self._drop_stale_run_message)
        ctx.input_problems_changed.connect(self._mark_invalid_pages)
        ctx.show_input_problem.connect(self.show_input_problem)
        self._build()
        geometry = ctx.settings.state("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)

    # -- building (again after a language switch) -------------------------------------------

    def _build(self) -> None:
        self.menuBar().clear()
        for bar in self.findChildren(QToolBar):
            self.removeToolBar(bar)
            bar.deleteLater()
        self._actions()
        self._menus()
        old = self.centralWidget()
        for page in self.pages.values():
            page.ctx.session.replaced.disconnect(page.on_replaced)
            page.ctx.session.changed.disconnect(page._changed)
        self.pages = {}
        self.nav = QListWidget()
        self.nav.setAccessibleName(tr("window.nav.welcome"))
        self.nav.setIconSize(self.nav.iconSize() * 1.3)
        # One width in every language: the splitter gave the sidebar 170 or 190 pixels depending
        # on what it had saved, so a language switch moved every page (issue 14).
        metrics = self.nav.fontMetrics()
        longest = max(metrics.horizontalAdvance(i18n.tr_in(lang, f"window.nav.{key}"))
                      for key in PAGES for lang in i18n.LANGS)
        self.nav.setFixedWidth(max(170, longest + self.nav.iconSize().width() + 48))
        self.stack = QStackedWidget()
        for key in PAGES:
            cls = _page_class(key)
            if cls is None:
                continue
            page = cls(self.ctx)
            self.pages[key] = page
            self.stack.addWidget(page)
            item = QListWidgetItem(nav_icon(key), tr(cls.nav_text_key))
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(self._on_nav)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.nav)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        # The sidebar's width is fixed above; a saved or default splitter size larger than it left a
        # gap between sidebar and page, so the sizes only say "the page takes the rest".
        self.splitter.setSizes([self.nav.width(), 100000])
        self.splitter.handle(1).setEnabled(False)
        holder = QWidget()
        layout = QHBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self.setCentralWidget(holder)
        if old is not None:
            old.deleteLater()
        self._on_replaced()
        self._mark_invalid_pages()
        self.statusBar().showMessage(tr("window.msg.ready"), 3000)

    def _action(self, text_key: str, slot, shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
                icon: str | None = None) -> QAction:
        action = QAction(tr(text_key), self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(ui_icon(icon))  # own icons: Save, Export and Report no longer look alike
            action.setProperty("ui_icon", icon)
        action.triggered.connect(slot)
        return action

    def _actions(self) -> None:
        k = QKeySequence.StandardKey
        self.act_new = self._action("window.menu.new", self.new_project, k.New, "new")
        self.act_open = self._action("window.menu.open", self.open_dialog, k.Open, "open")
        self.act_demo = self._action("window.menu.demo", self.open_demo)
        self.act_save = self._action("window.menu.save", self.save, k.Save, "save")
        self.act_save_as = self._action("window.menu.save_as", self.save_as, k.SaveAs)
        self.act_close = self._action("window.menu.close", self.close_project, k.Close)
        self.act_quit = self._action("window.menu.quit", self.close, k.Quit)
        self.act_run = self._action("window.menu.run", self.run_audit, "Ctrl+R", "run")
        self.act_cancel = self._action("window.menu.cancel", self.ctx.runner.cancel, "Ctrl+.", "stop")
        self.act_export = self._action("window.menu.export", self.export_pdf, "Ctrl+E", "export")
        self.act_prefs = self._action("window.menu.preferences", self.preferences, k.Preferences)
        self.act_about = self._action("window.menu.about", self.about)
        self.act_logs = self._action("window.menu.logs", self.open_logs)

    def _menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu(tr("window.menu.file"))
        file.addActions([self.act_new, self.act_open])
        self.recent_menu = file.addMenu(tr("window.menu.recent"))
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file.addAction(self.act_demo)
        file.addSeparator()
        file.addActions([self.act_save, self.act_save_as, self.act_close])
        file.addSeparator()
        file.addAction(self.act_quit)
        audit = bar.addMenu(tr("window.menu.audit"))
        audit.addActions([self.act_run, self.act_cancel])
        report = bar.addMenu(tr("window.menu.report"))
        report.addAction(self.act_export)
        settings = bar.addMenu(tr("window.menu.settings"))
        settings.addAction(self.act_prefs)
        lang = settings.addMenu(tr("window.menu.language"))
        for code, label in (("de", "Deutsch"), ("en", "English")):
            action = lang.addAction(label)
            action.setCheckable(True)
            action.setChecked(i18n.language() == code)
            action.triggered.connect(lambda _=False, c=code: self.set_language(c))
        help_menu = bar.addMenu(tr("window.menu.help"))
        help_menu.addActions([self.act_about, self.act_logs])
        toolbar = QToolBar("main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addActions([self.act_new, self.act_open, self.act_save])
        toolbar.addSeparator()
        toolbar.addActions([self.act_run, self.act_cancel])
        toolbar.addSeparator()
        toolbar.addAction(self.act_export)
        self.addToolBar(toolbar)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = [p for p in self.ctx.settings.recent_files if Path(p).exists()]
        if not recent:
            self.recent_menu.addAction(tr("window.menu.recent_empty")).setEnabled(False)
        for path in recent:
            self.recent_menu.addAction(path, lambda p=path: self.open_path(p))

    # -- state ----------------------------------------------------------------------------------

    def _update_title(self, *_args: object) -> None:
        session = self.ctx.session
        if session.project is None:
            self.setWindowTitle(tr("window.title_none"))
        else:
            self.setWindowTitle(tr("window.title", name=session.display_name))
        self.setWindowModified(session.modified)

    def _on_replaced(self) -> None:
        has = self.ctx.session.project is not None
        for row in range(self.nav.count()):
            item = self.nav.item(row)
            page = self.pages[item.data(Qt.ItemDataRole.UserRole)]
            item.setHidden(page.needs_project and not has)
        for action in (self.act_save, self.act_save_as, self.act_close, self.act_run):
            action.setEnabled(has)
        self._update_export()
        self.act_run.setEnabled(has and not self.ctx.runner.busy)
        self.act_cancel.setEnabled(self.ctx.runner.busy)
        self._update_title()
        current = self.current_key()
        if not has or current is None or current == "welcome":
            self.go("target" if has else "welcome")

    def _on_busy(self, busy: bool) -> None:
        self.act_run.setEnabled(not busy and self.ctx.session.project is not None)
        self.act_cancel.setEnabled(busy)
        if not busy and self._pending_language:
            lang, self._pending_language = self._pending_language, None
            self.set_language(lang)

    def _run_recorded(self, run: Run) -> None:
        """The status bar says what just happened, with the numbers every page shows for the run."""
        project = self.ctx.session.project
        number = len(project.runs) if project is not None else 0
        if run.degraded:
            text = tr("window.msg.run_degraded", number=number)
        elif run.cancelled:
            text = tr("window.msg.run_cancelled", number=number)
        else:
            summary = run_summary(run, ReviewLayer.of(project))
            text = tr("window.msg.run_recorded", number=number, open=summary.open, untested=summary.untested)
        self._run_message = text
        self.statusBar().showMessage(text)

    def _drop_stale_run_message(self, source: object) -> None:
        """An edit after the run (an accepted risk, an override) changes its numbers: the line goes."""
        if source is not self.ctx.runner and self.statusBar().currentMessage() == self._run_message:
            self.statusBar().clearMessage()

    def _update_export(self, *_args: object) -> None:
        """Export PDF needs a run; without one the action is off and says why."""
        project = self.ctx.session.project
        has_run = project is not None and bool(project.runs)
        self.act_export.setEnabled(has_run)
        reason = "" if has_run else tr("report.no_run.text") if project is not None else tr("report.no_project")
        self.act_export.setToolTip(reason or self.act_export.text())
        self.act_export.setStatusTip(reason)

    def _mark_invalid_pages(self) -> None:
        """A warning mark in the sidebar beside every page that holds invalid input, with the reason."""
        problems = self.ctx.input_problems
        for row in range(self.nav.count()):
            item = self.nav.item(row)
            key = item.data(Qt.ItemDataRole.UserRole)
            item.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
                         if key in problems else nav_icon(key))
            item.setToolTip(problems.get(key, ""))

    def show_input_problem(self) -> None:
        """Run was asked for with invalid input: go to the first such page and field, and say why."""
        problems = self.ctx.input_problems
        first = next((key for key in PAGES if key in problems), None)
        if first is None:
            return
        self.go(first)
        self.pages[first].focus_first_invalid()
        self.statusBar().showMessage(tr("window.msg.invalid_input", problems="; ".join(problems.values())), 15000)

    def current_key(self) -> str | None:
        item = self.nav.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def go(self, key: str) -> None:
        for row in range(self.nav.count()):
            if self.nav.item(row).data(Qt.ItemDataRole.UserRole) == key:
                self.nav.setCurrentRow(row)
                return

    def _on_nav(self, row: int) -> None:
        if row < 0:
            return
        page = self.pages[self.nav.item(row).data(Qt.ItemDataRole.UserRole)]
        self.stack.setCurrentWidget(page)
        page.shown()

    # -- project files --------------------------------------------------------------------------

    def confirm_discard(self) -> bool:
        """Ask before unsaved changes would be lost; True when it is fine to go on."""
        session = self.ctx.session
        if session.project is None or not session.modified:
            return True
        answer = QMessageBox.question(
            self, tr("window.msg.unsaved_title"), tr("window.msg.unsaved_text", name=session.display_name),
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_project(self) -> None:
        if self.ctx.runner.busy or not self.confirm_discard():
            return
        from auditapp.gui.dialogs.new_project import NewProjectDialog

        dialog = NewProjectDialog(self.ctx, self)
        try:
            if dialog.exec():
                self.ctx.session.new(dialog.project())
                self.go("target")
        finally:
            dialog.deleteLater()  # a child of the window: it would stay until the program ends

    def open_dialog(self) -> None:
        if self.ctx.runner.busy or not self.confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self, tr("window.menu.open"), self.ctx.settings.last_dir,
                                              tr("window.msg.file_filter"))
        if path:
            self.open_path(path, confirmed=True)

    def open_path(self, path: str | Path, *, confirmed: bool = False) -> bool:
        if self.ctx.runner.busy or (not confirmed and not self.confirm_discard()):
            return False
        try:
            self.ctx.session.open(path)
        except ProjectError as exc:
            log.warning("cannot open %s: %s", path, exc)
            QMessageBox.warning(self, tr("window.msg.open_failed_title"),
                                tr("window.msg.open_failed", path=str(path), reason=str(exc)))
            return False
        follow_demo_lab(self.ctx)  # a demo project audits the demo lab of this session, never a stale one
        self.ctx.settings.add_recent(path)
        self.ctx.settings.last_dir = str(Path(path).resolve().parent)
        self.ctx.status.emit(tr("window.msg.opened", path=str(path)))
        return True

    def open_demo(self) -> None:
        if self.ctx.runner.busy or not self.confirm_discard():
            return
        from auditapp.gui.demo_project import demo_project_file

        try:
            path = demo_project_file(self.ctx.home)
        except (ProjectError, OSError) as exc:
            QMessageBox.warning(self, tr("window.msg.open_failed_title"),
                                tr("window.msg.open_failed", path=str(self.ctx.home / "demo"), reason=str(exc)))
            return
        self.open_path(path, confirmed=True)

    def save(self) -> bool:
        if self.ctx.session.project is None:
            return False
        if self.ctx.session.path is None:
            return self.save_as()
        return self._save_to(None)

    def save_as(self) -> bool:
        session = self.ctx.session
        if session.project is None:
            return False
        start = str(session.path) if session.path else str(
            Path(self.ctx.settings.last_dir or Path.home()) / f"{session.project.domain}{PROJECT_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, tr("window.menu.save_as"), start, tr("window.msg.file_filter"))
        if not path:
            return False
        if not path.endswith(PROJECT_SUFFIX) and "." not in Path(path).name:
            path += PROJECT_SUFFIX
        return self._save_to(path)

    def _save_to(self, path: str | None) -> bool:
        try:
            saved = self.ctx.session.save(path)
        except (ProjectError, OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            QMessageBox.critical(self, tr("window.msg.save_failed_title"), tr("window.msg.save_failed", reason=reason))
            return False
        self.ctx.settings.add_recent(saved)
        self.ctx.settings.last_dir = str(saved.resolve().parent)
        self.ctx.status.emit(tr("window.msg.saved", path=str(saved)))
        if size_warning(saved):
            self.statusBar().showMessage(tr("window.msg.large_project", path=str(saved)))
        return True

    def close_project(self) -> None:
        if self.ctx.runner.busy or not self.confirm_discard():
            return
        self.ctx.session.close()

    def offer_recovery(self) -> None:
        """At start: offer to restore projects a crashed window left unsaved.

        Only an explicit "Discard" deletes a backup; closing the question keeps it for next time.
        """
        from auditapp.gui.dialogs import recovery

        for rec in self.ctx.session.find_recoveries():
            answer = recovery.ask_recovery(rec, self)
            if answer is recovery.RecoveryChoice.RESTORE:
                self.ctx.session.restore(rec)
                return
            if answer is recovery.RecoveryChoice.DISCARD:
                self.ctx.session.drop_recovery(rec)

    # -- actions --------------------------------------------------------------------------------

    def run_audit(self) -> None:
        self.go("run")
        page = self.pages.get("run")
        if page is not None and hasattr(page, "start"):
            page.start()

    def export_pdf(self) -> None:
        self.go("report")
        page = self.pages.get("report")
        if page is not None and hasattr(page, "export"):
            page.export()

    def preferences(self) -> None:
        from auditapp.gui.dialogs.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.ctx, self)
        dialog.exec()
        dialog.deleteLater()

    def set_language(self, lang: str) -> None:
        if self.ctx.runner.busy:
            self._pending_language = lang
            self.ctx.status.emit(tr("window.msg.running_lang"))
            return
        self.ctx.settings.gui_language = lang
        from auditapp.gui.i18n import install_translators

        i18n.set_language(lang)
        install_translators(QApplication.instance(), lang)  # type: ignore[arg-type]
        current = self.current_key()
        self._save_layout()
        typed = typed_input.capture(self.pages)  # what is typed but not stored survives the rebuild
        self._build()
        if current:
            self.go(current)
        typed_input.restore(self.pages, typed)

    def about(self) -> None:
        from PySide6 import __version__ as pyside_version

        from auditapp import __version__
        from auditapp.catalog import catalog

        QMessageBox.about(self, tr("window.msg.about_title"), tr(
            "window.msg.about_text", version=__version__, catalog=catalog().version,
            python=sys.version.split()[0], qt=pyside_version, logs=str(self.ctx.home / "logs")))

    def open_logs(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.ctx.home / "logs")))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        """The desktop switched between light and dark: draw the own icons again in the new colours."""
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange) and hasattr(self, "nav"):
            for action in self.findChildren(QAction):
                if action.property("ui_icon"):
                    action.setIcon(ui_icon(action.property("ui_icon")))
            self._mark_invalid_pages()  # the sidebar's icons, with their error marks
        super().changeEvent(event)

    # -- drag and drop --------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        urls = event.mimeData().urls()
        if len(urls) == 1 and urls[0].isLocalFile() and urls[0].toLocalFile().endswith(PROJECT_SUFFIX):
            event.acceptProposedAction()
        else:
            self.ctx.status.emit(tr("window.msg.drop_hint"))
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            self.open_path(urls[0].toLocalFile())

    # -- closing --------------------------------------------------------------------------------

    def _save_layout(self) -> None:
        self.ctx.settings.set_state("geometry", QByteArray(self.saveGeometry()))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        runner = self.ctx.runner
        if runner.busy:
            answer = QMessageBox.question(self, tr("window.msg.running_title"), tr("window.msg.running_quit"))
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            runner.cancel()
            if not runner.wait(10.0):
                event.ignore()  # never quit with an audit whose run is not recorded yet
                return
        if not self.confirm_discard():
            event.ignore()
            return
        self._save_layout()
        # Drained before the recovery copy is removed: a copy still being written would come back.
        self.ctx.tasks.shutdown(60.0)  # a report still rendering finishes writing its file
        self.ctx.session.discard_recovery()
        self.ctx.settings.sync()
        event.accept()
