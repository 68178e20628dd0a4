"""The target page's list of stored messages: one entry per message, with a one-line verdict.

An entry is two plain-text lines, "<Message-ID> · <From domain> · <date added>" and the
summary "DKIM pass · SPF pass · DMARC pass · TLS", so the list answers "is the evidence good"
without opening each message. Everything in it comes from a message header and is shown as
plain text (list items never read markup; tooltips are escaped).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from auditapp.core.stored_message import StoredMessage
from auditapp.gui.i18n import tr
from auditapp.gui.widgets.hop_diagram import plain_tooltip
from auditapp.gui.widgets.message_evidence import local_time, result_text
from auditapp.message.evidence import MessageEvidence


def verdict_summary(ev: MessageEvidence) -> str:
    """``DKIM pass · SPF pass · DMARC pass · TLS`` in the GUI language.

    DKIM counts as passed when any signature holds (a second, foreign signature that fails does
    not make the message worse); TLS is the hand-over's, the hop a receiver judged.
    """
    parts: list[str] = []
    if ev.dkim:
        best = next((s for s in ev.dkim if s.result == "pass"), ev.dkim[0])
        parts.append(f"DKIM {result_text(best.result)}")
    else:
        parts.append(f"DKIM {tr('widgets.messages.no_signature')}")
    parts.append(f"SPF {result_text(ev.spf.result)}" if ev.spf is not None else "SPF –")
    parts.append(f"DMARC {result_text(ev.dmarc.result)}" if ev.dmarc is not None else "DMARC –")
    hop = ev.sending
    if hop is not None:
        parts.append(("TLS" if hop.tls == "tls" else hop.tls.replace("TLSv", "TLS ")) if hop.tls
                     else tr("widgets.hops.no_tls"))
    if ev.arc.instances:
        parts.append(f"ARC {result_text(ev.arc.result)}")
    if ev.headers_only:
        parts.append(tr("widgets.messages.headers_only"))
    return " · ".join(parts)


def entry_text(stored: StoredMessage, ev: MessageEvidence | None) -> str:
    """The two lines of one list entry; a message that no longer parses says so on its second line."""
    date = local_time(stored.added)[:10]
    if ev is None:
        return f"{stored.name} · {date}\n{tr('widgets.messages.unreadable')}"
    first = " · ".join(x for x in (ev.label, ev.headers.from_domain or "", date) if x)
    return f"{first}\n{verdict_summary(ev)}"


class MessageList(QListWidget):
    """The stored messages; the item's user data is the message's ``id``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setAccessibleName(tr("widgets.messages.accessible"))

    def show_messages(self, entries: list[tuple[StoredMessage, MessageEvidence | None]]) -> None:
        selected = self.selected_id()
        self.clear()
        for stored, ev in entries:
            item = QListWidgetItem(entry_text(stored, ev))
            item.setData(Qt.ItemDataRole.UserRole, stored.id)
            item.setToolTip(plain_tooltip(tr("widgets.messages.tip", name=stored.name, id=stored.id,
                                             added=local_time(stored.added))))
            self.addItem(item)
            if stored.id == selected:
                item.setSelected(True)
                self.setCurrentItem(item)
        # Room for a few entries; more scroll inside the list rather than stretching the form.
        rows = min(max(self.count(), 2), 5)
        line = self.fontMetrics().lineSpacing()
        self.setFixedHeight(rows * (2 * line + 8) + 2 * self.frameWidth() + 4)

    def selected_id(self) -> str | None:
        items = self.selectedItems()
        return str(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def select_id(self, ident: str) -> None:
        for row in range(self.count()):
            item = self.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == ident:
                self.setCurrentItem(item)
                item.setSelected(True)
                return
