"""Screenshots of every page of the real window with the demo project (``make screenshots``).

Runs the application as a user would see it: under Xvfb with the xcb platform when a display
is available (``xvfb-run``), else offscreen. It opens the demo project, runs the audit, accepts
one risk and renders the report preview, then saves ``gui-<page>-<lang>.png`` next to this file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(lang: str = "de", out: Path = HERE) -> int:
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    home = Path(tempfile.mkdtemp(prefix="auditapp-shots-"))
    os.environ["AUDITAPP_HOME"] = str(home)
    from auditapp.gui import i18n
    from auditapp.gui.app import app_icon, install_translators
    from auditapp.gui.context import AppContext
    from auditapp.gui.main_window import MainWindow
    from auditapp.gui.session import ProjectSession
    from auditapp.gui.settings import Settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setWindowIcon(app_icon())
    if os.environ.get("AUDITAPP_SHOTS_DARK"):  # how the window looks on a dark desktop
        # Xvfb has no desktop theme to follow, so a dark desktop palette is set by hand.
        from PySide6.QtGui import QColor, QPalette

        app.setStyle("Fusion")
        dark = QPalette()
        for role, colour in ((QPalette.ColorRole.Window, "#2b2b2b"), (QPalette.ColorRole.WindowText, "#e6e6e6"),
                             (QPalette.ColorRole.Base, "#1e1e1e"), (QPalette.ColorRole.AlternateBase, "#262626"),
                             (QPalette.ColorRole.Text, "#e6e6e6"), (QPalette.ColorRole.Button, "#353535"),
                             (QPalette.ColorRole.ButtonText, "#e6e6e6"), (QPalette.ColorRole.Highlight, "#2f65ca"),
                             (QPalette.ColorRole.HighlightedText, "#ffffff"),
                             (QPalette.ColorRole.ToolTipBase, "#353535"), (QPalette.ColorRole.ToolTipText, "#e6e6e6"),
                             (QPalette.ColorRole.Link, "#6ea8fe")):
            dark.setColor(role, QColor(colour))
        dark.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#7a7a7a"))
        dark.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#7a7a7a"))
        # What a desktop's dark scheme (Breeze Dark, Adwaita dark) sets too: greyed disabled
        # labels and placeholders that stay readable on the dark field.
        dark.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#7a7a7a"))
        dark.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8c8c8c"))
        app.setPalette(dark)
        lang_suffix = "-dark"
    else:
        lang_suffix = ""
    i18n.set_language(lang)
    install_translators(app, lang)  # type: ignore[arg-type]
    settings = Settings(QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat))
    settings.reviewer = "K. Prüfer"
    ctx = AppContext(ProjectSession(home / "recovery"), settings, home)
    window = MainWindow(ctx)
    window.resize(1360, 860)
    window.show()

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def shot(name: str) -> None:
        wait(300)
        path = out / f"gui-{name}-{lang}{lang_suffix}.png"
        window.grab().save(str(path))
        print(path)

    window.go("welcome")
    shot("welcome")
    window.open_demo()
    window.go("target")
    shot("target")
    target = window.pages["target"]
    from PySide6.QtWidgets import QScrollArea

    wait(100)  # DNS settings: resolvers, trust anchor, RPKI data (issue 16); services down to the pause
    target.findChild(QScrollArea).ensureWidgetVisible(target.connect_interval, 0, 20)
    shot("target-dns")
    if target.message_list.count():  # the demo's received messages (issue 15)
        from auditapp.gui.dialogs.message_dialogs import MessageEvidenceDialog

        wait(100)  # the form's layout settles before it is scrolled to its end (the messages)
        bar = target.findChild(QScrollArea).verticalScrollBar()
        bar.setValue(bar.maximum())
        target.message_list.setCurrentRow(target.message_list.count() - 1)
        shot("target-messages")
        dialog = MessageEvidenceDialog(target.selected_evidence(), window)
        dialog.show()
        wait(300)
        path = out / f"gui-message-evidence-{lang}{lang_suffix}.png"
        dialog.grab().save(str(path))
        print(path)
        dialog.close()
        dialog.deleteLater()
    window.go("questionnaire")
    shot("questionnaire")
    window.go("postfix")
    shot("postfix")
    window.run_audit()
    loop = QEventLoop()
    ctx.runner.busy_changed.connect(lambda busy: None if busy else loop.quit())
    if ctx.runner.busy:
        loop.exec()
    shot("run")
    from auditapp.core.review import accept_risk, add_comment

    run = ctx.session.project.runs[-1]
    weak = next((f for f in run.findings if f.rule == "DKIM-WEAK-KEY"), None)
    if weak is not None:
        ctx.session.edit(lambda p: accept_risk(p, weak.rule, weak.subject, "Schlüsseltausch für Q1/2027 geplant",
                                               "K. Prüfer", "2027-03-31"))
    ctx.session.edit(lambda p: add_comment(p, "SPF-HARDFAIL-ALL", "*", "Weiterleitungen laufen über SRS; -all bleibt",
                                           "K. Prüfer"))
    window.go("findings")
    page = window.pages["findings"]
    table = getattr(page, "table", None)
    if table is not None and table.model().rowCount():
        table.selectRow(0)
    shot("findings")
    window.go("history")
    shot("history")
    window.go("report")
    report = window.pages["report"]
    for _ in range(120):  # the preview renders in a task
        wait(500)
        if report.preview.page_count > 0 and not report.preview.is_busy:
            break
    shot("report")
    ctx.session.close()
    window.close()  # drains the task service: a render still running finishes first
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent.parent))
    raise SystemExit(main(*(sys.argv[1:2] or ["de"])))
