"""The banner over numbers that say nothing: a run whose resolver did not answer (a degraded run).

A degraded run looks like any other in a table (mostly "not tested", few failures), which is
exactly why it is dangerous: it reads as an improvement. The Audit page and History put this
banner above it, with the reason the engine recorded, in the window's language.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from auditapp.catalog.wording import render_reason
from auditapp.core.model import Reason, Run
from auditapp.gui.i18n import language, tr


class DegradedBanner(QLabel):
    """Hidden for a healthy run; for a degraded one, a red-framed sentence naming the resolver."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("degradedBanner")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)  # the reason holds a resolver address typed by a user
        self.setStyleSheet("#degradedBanner { background: #fdecea; color: #7a1c1c; border: 1px solid #d03636;"
                           " border-radius: 4px; padding: 8px; }")
        self.setVisible(False)

    def show_run(self, run: Run | None) -> None:
        """Above a run's results: shown only when the run is degraded."""
        if run is None or not run.degraded:
            self.show_reason(None)
            return
        reason = render_reason(run.degraded_reason, language()) if run.degraded_reason else ""
        self.setText(tr("run.degraded_banner", reason=reason))
        self.setVisible(True)

    def show_reason(self, reason: Reason | None) -> None:
        """Any reason the numbers below say nothing (a comparison's caveat); None hides the banner."""
        if reason is None:
            self.clear()
            self.setVisible(False)
            return
        self.setText(render_reason(reason, language()))
        self.setVisible(True)
