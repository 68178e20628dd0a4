"""The two dialogs of the target page's message evidence: pasting a header block, and one message's evidence.

Pasting is the way in for a consultant who only has a web mailer's "show original" view: the
header block is enough for the hop chain, SPF, DMARC and the receiver's verdicts (DKIM then
says it could not check the body). The text box is plain text, so pasted HTML stays text.
"""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from auditapp.gui.i18n import tr
from auditapp.gui.widgets.message_evidence import MessageEvidenceView
from auditapp.message.evidence import MessageEvidence


class PasteHeadersDialog(QDialog):
    """A plain-text box for a message's header block (or a whole message) from the clipboard."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("dialogs.paste_headers.title"))
        self.resize(720, 480)
        layout = QVBoxLayout(self)
        intro = QLabel(tr("dialogs.paste_headers.intro"))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText(tr("dialogs.paste_headers.placeholder"))
        self.text.setAccessibleName(tr("dialogs.paste_headers.title"))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)))
        layout.addWidget(self.text, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("dialogs.paste_headers.examine"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.text.textChanged.connect(self._update)
        self._update()

    def _update(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.text.toPlainText().strip()))

    def raw(self) -> bytes:
        """The pasted text as a message's bytes, with CRLF line ends as on the wire.

        Without an empty line it is a header block alone (DKIM then says it could not check the
        body); with one, what follows is the body. Lines are re-joined with CRLF because a text
        box gives LF, and DKIM's body hash counts CRLF.
        """
        text = self.text.toPlainText().strip("\r\n")
        data = "\r\n".join(text.splitlines()).encode("utf-8")
        return data + b"\r\n" if b"\r\n\r\n" in data else data


class MessageEvidenceDialog(QDialog):
    """One stored message's evidence (opened by double-click in the target page's message list)."""

    def __init__(self, evidence: MessageEvidence, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("widgets.evidence.title"))
        self.resize(1180, 540)
        layout = QVBoxLayout(self)
        self.view = MessageEvidenceView()
        layout.addWidget(self.view, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(tr("widgets.evidence.close"))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.view.show_evidence(evidence)
