"""Starting the desktop application: Qt, languages, logging, crash dialog, recovery, arguments.

``auditapp`` with no arguments opens the window; ``auditapp FILE.auditproj`` opens that
project; ``auditapp --self-test`` opens the main window, checks that every page was built and
quits (the packaged program's smoke test).
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QEvent, QLibraryInfo, QObject, QTimer, QTranslator
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from auditapp.gui import i18n
from auditapp.gui.i18n import install_translators
from auditapp.gui.icons import app_icon

log = logging.getLogger("auditapp")


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Log files created 0600, also after a rotation: they name clients, domains and hosts."""

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.chmod(self.baseFilename, 0o600)  # a log written by an older version
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def setup_logging(home: Path) -> Path:
    """A rotating log file under ``home/logs``; it records what happened, never a password."""
    from auditapp.gui.settings import private_dir

    folder = private_dir(home / "logs")
    path = folder / "auditapp.log"
    handler = PrivateRotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def install_exception_hook(log_file: Path) -> None:
    """Unexpected exceptions open a dialog with copyable details instead of vanishing."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        details = "".join(traceback.format_exception(kind, exc, tb))
        log.error("unexpected error\n%s", details)
        if QApplication.instance() is None:
            sys.__excepthook__(kind, exc, tb)
            return
        from auditapp.gui.dialogs.error_dialog import ErrorDialog

        ErrorDialog(details, log_file).exec()

    sys.excepthook = hook


class FileOpenFilter(QObject):
    """macOS opens a double-clicked document with an event, not with a command-line argument."""

    def __init__(self, open_path: Callable[[str], object]) -> None:
        super().__init__()
        self.open_path = open_path

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent) and event.file():
            self.open_path(event.file())
            return True
        return super().eventFilter(watched, event)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="auditapp", description="auditapp desktop application")
    parser.add_argument("project", nargs="?", help="a project file to open (.auditproj)")
    parser.add_argument("--self-test", action="store_true", help="open the main window, check it, and quit")
    return parser.parse_args(argv)


def run_gui(argv: list[str]) -> int:
    args = parse_args(argv[1:])
    from auditapp import __version__
    from auditapp.gui.context import AppContext
    from auditapp.gui.main_window import MainWindow
    from auditapp.gui.session import ProjectSession
    from auditapp.gui.settings import Settings, home_dir, private_dir

    app = QApplication.instance() or QApplication(argv[:1])
    app.setApplicationName("auditapp")
    app.setOrganizationName("auditapp")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("de.auditapp.auditapp")
    app.setWindowIcon(app_icon())
    home = home_dir()
    log_file = setup_logging(home)
    install_exception_hook(log_file)
    settings = Settings()
    settings.sync()  # the file and its folder private from the start
    lang = settings.gui_language or i18n.system_language()
    i18n.set_language(lang)
    install_translators(app, lang)  # type: ignore[arg-type]
    log.info("auditapp %s starting (GUI language %s)", __version__, lang)

    session = ProjectSession(private_dir(home / "recovery"))
    ctx = AppContext(session, settings, home)
    window = MainWindow(ctx)
    opener = FileOpenFilter(window.open_path)
    app.installEventFilter(opener)
    window.show()
    if args.self_test:
        return _self_test(app, window)  # type: ignore[arg-type]
    # Unsaved work from a crash is offered first, also when a project file was double-clicked.
    QTimer.singleShot(0, window.offer_recovery)
    if args.project:
        QTimer.singleShot(0, lambda: window.open_path(args.project))
    return int(app.exec())


def _self_test(app: QApplication, window: object) -> int:
    """Check that the window and every page were built, then quit (used by the packaged build)."""
    from auditapp.gui.pages import PAGES

    pages = getattr(window, "pages", {})
    problems = [f"page {key} missing" for key in PAGES if key not in pages]
    app.processEvents()
    # What a frozen build most easily loses: Qt's own translations, the PDF module, the icons.
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not QTranslator().load("qtbase_de", folder):
        problems.append(f"Qt's German translations not found in {folder}")
    try:
        from PySide6.QtPdf import QPdfDocument

        QPdfDocument()
    except ImportError as exc:
        problems.append(f"QtPdf unavailable: {exc}")
    if app_icon().isNull():
        problems.append("application icon not found")
    if problems:
        print(f"auditapp self-test: {'; '.join(problems)}", file=sys.stderr)
        return 1
    print(f"auditapp self-test: main window with {len(pages)} pages, translations, QtPdf and icon OK "
          f"({app.platformName()})")
    window.close()  # type: ignore[attr-defined]
    return 0
