"""The target page's message evidence: import, paste, list, show and remove received messages.

A mixin of :class:`~auditapp.gui.pages.target_page.TargetPage`, kept in its own module because
the form and the messages change for different reasons; it uses the page's context, its fields
(for the learned-value hints) and its helpers (``_row``, ``confirm``, ``start_dir``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from auditapp.core.stored_message import MAX_MESSAGES, StoredMessage
from auditapp.gui.i18n import tr
from auditapp.gui.questionnaire_form import muted
from auditapp.gui.widgets.fields import ValidatedLineEdit, ValidatedListEdit, prepare_message
from auditapp.gui.widgets.message_list import MessageList
from auditapp.gui.workers import MessageImport
from auditapp.message.evidence import MessageEvidence, from_stored, learn
from auditapp.message.headers import MessageError

if TYPE_CHECKING:
    from auditapp.core.project import Project
    from auditapp.gui.context import AppContext
    from auditapp.gui.tasks import Task

#: The name a pasted header block is stored under (a file keeps its own name).
PASTED = "pasted"


class MessageEvidenceMixin:
    """Everything of the target page that is about received messages (issue 15)."""

    ctx: AppContext
    _evidence: dict[str, MessageEvidence | None]
    _import: Task | None
    _import_for: Project | None
    _queued: list[tuple[str, Path | bytes]]
    _labels: list[QLabel]
    server_ips: ValidatedListEdit
    helo: ValidatedLineEdit
    dkim_selectors: ValidatedListEdit
    server_ips_learned: QLabel
    helo_learned: QLabel
    dkim_selectors_learned: QLabel

    if TYPE_CHECKING:  # provided by TargetPage / Page
        def _row(self, form: QFormLayout, label_key: str, field: QWidget | QHBoxLayout, tip_key: str = "") -> None: ...
        def confirm(self, title: str, text: str) -> bool: ...
        def start_dir(self) -> str: ...

    def _learned_row(self, form: QFormLayout, label_key: str, field: ValidatedLineEdit | ValidatedListEdit,
                     tip_key: str) -> QLabel:
        """A field's row with a grey line under it for the values the project's messages teach.

        The line sits in the field's own column, right under it (a row of its own would be a
        form row's spacing away); it is hidden while there is nothing to show.
        """
        hint = muted(QLabel())
        hint.setWordWrap(True)
        hint.setTextFormat(Qt.TextFormat.PlainText)  # Message-IDs and HELO names come from message headers
        hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        hint.setToolTip(tr("target.messages.learned_tip"))
        hint.setContentsMargins(0, 0, 0, 6)  # apart from the next row's field
        hint.hide()
        column = QWidget()
        stack = QVBoxLayout(column)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.setSpacing(0)
        stack.addWidget(field)
        stack.addWidget(hint)
        field.setToolTip(tr(tip_key))
        self._row(form, label_key, column, tip_key)
        self._labels[-1].setBuddy(field.edit)
        return hint

    def _build_messages(self, layout: QVBoxLayout) -> None:
        """The "Message evidence" group: import, paste, the list of stored messages, remove."""
        box = QGroupBox(tr("target.messages.group"))
        column = QVBoxLayout(box)
        intro = muted(QLabel(tr("target.messages.intro")))
        intro.setWordWrap(True)
        column.addWidget(intro)
        self.import_button = QPushButton(tr("target.messages.import"))
        self.import_button.setToolTip(tr("target.messages.import_tip"))
        self.paste_button = QPushButton(tr("target.messages.paste"))
        self.paste_button.setToolTip(tr("target.messages.paste_tip"))
        self.show_button = QPushButton(tr("target.messages.show"))
        self.remove_button = QPushButton(tr("target.messages.remove"))
        self.remove_button.setToolTip(tr("target.messages.remove_tip"))
        buttons = QHBoxLayout()
        for button in (self.import_button, self.paste_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        for button in (self.show_button, self.remove_button):
            buttons.addWidget(button)
        column.addLayout(buttons)
        self.message_list = MessageList()
        column.addWidget(self.message_list)
        self.message_note = QLabel()
        self.message_note.setWordWrap(True)
        self.message_note.setTextFormat(Qt.TextFormat.PlainText)  # file names and the parser's reasons
        self.message_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.message_note)
        layout.addWidget(box)
        self.messages_box = box
        # Files dropped anywhere on the page are imported (a field that takes text keeps its own drop).
        self.setAcceptDrops(True)

    # -- message evidence ------------------------------------------------------------------------

    @property
    def importing(self) -> bool:
        """An import is examining messages (tests wait for this to end)."""
        return self._import is not None

    def _stored_evidence(self, stored: StoredMessage) -> MessageEvidence | None:
        if stored.id not in self._evidence:
            try:
                self._evidence[stored.id] = from_stored(stored)
            except MessageError:  # a header block edited by hand: listed, not shown
                self._evidence[stored.id] = None
        return self._evidence[stored.id]

    def _show_messages(self) -> None:
        project = self.ctx.session.project
        stored = list(project.messages) if project is not None else []
        keep = {m.id for m in stored}
        self._evidence = {k: v for k, v in self._evidence.items() if k in keep}
        self.message_list.show_messages([(m, self._stored_evidence(m)) for m in stored])
        self._update_message_buttons()
        self._update_learned()

    def _update_message_buttons(self) -> None:
        chosen = self.message_list.selected_id()
        self.remove_button.setEnabled(chosen is not None)
        self.show_button.setEnabled(chosen is not None and self._evidence.get(chosen) is not None)

    def _update_learned(self) -> None:
        """Show what the messages teach under the empty fields the audit would fill with it.

        Given values win, as in the audit (:func:`~auditapp.message.evidence.apply_learned`):
        once a field holds anything, its hint goes away. Nothing is copied into the project; the
        audit learns afresh each run, so removing a message also removes what it taught.
        """
        project = self.ctx.session.project
        learned = []
        if project is not None and project.messages:
            evidence = [ev for m in project.messages if (ev := self._stored_evidence(m)) is not None]
            learned = learn(evidence, project.domain)
        given = {"server_ips": bool(self.server_ips.values()), "helo": bool(self.helo.text().strip()),
                 "dkim_selectors": bool(self.dkim_selectors.values())}
        for field, hint in (("server_ips", self.server_ips_learned), ("helo", self.helo_learned),
                            ("dkim_selectors", self.dkim_selectors_learned)):
            values = [x for x in learned if x.field == field]
            lines = [tr("target.messages.learned_hop" if x.hop else "target.messages.learned",
                        message=x.message, hop=x.hop or "", value=x.value) for x in values]
            hint.setText("\n".join(lines) if lines and not given[field] else "")
            hint.setVisible(bool(hint.text()))

    def choose_messages(self) -> None:
        """Pick one or more message files and import them."""
        paths, _ = QFileDialog.getOpenFileNames(self, tr("target.messages.import_title"), self.start_dir(),
                                                tr("target.messages.file_filter"))
        if paths:
            self.ctx.settings.last_dir = str(Path(paths[0]).parent)
            self.import_files(paths)

    def paste_headers(self) -> None:
        from auditapp.gui.dialogs.message_dialogs import PasteHeadersDialog

        dialog = PasteHeadersDialog(self)
        try:
            if dialog.exec():
                self.import_sources([(PASTED, dialog.raw())])
        finally:
            dialog.deleteLater()  # a child of the page: it would stay until the page goes

    def import_files(self, paths: Sequence[str | Path]) -> None:
        """Examine message files in a task; only the file name (never its folder) is stored with them."""
        self.import_sources([(Path(p).name, Path(p)) for p in paths])

    def import_sources(self, sources: list[tuple[str, Path | bytes]]) -> None:
        """Examine ``(name, path or bytes)`` in a task; while one runs, the next waits for it."""
        from auditapp.audit.prepare import PrepareError
        from auditapp.gui.workers import message_import_job

        project = self.ctx.session.project
        if project is None or not sources:
            return
        if self._import is not None:
            self._queued.extend(sources)
            return
        try:
            prepared = self.ctx.runner.prepare(services=False)  # the project's resolvers: DNS only, no keyring
        except PrepareError as exc:
            self.message_note.setText(tr("target.messages.cannot_start", reason=prepare_message(exc)))
            return
        task = self.ctx.tasks.submit("messages", message_import_job(sources, prepared,
                                                                    allow_internal=project.allow_internal))
        # Bound methods, as for discovery: a rebuilt page drops the connections, not the task.
        task.done.connect(self._imported)
        task.failed.connect(self._import_failed)
        task.ended.connect(self._import_ended)
        self._import, self._import_for = task, project
        self.message_note.setText(tr("target.messages.examining", count=len(sources)))

    def _import_failed(self, reason: str) -> None:
        lines = [line for line in reason.strip().splitlines() if line.strip()]
        self.message_note.setText(tr("target.messages.import_failed", reason=lines[-1] if lines else reason))

    def _import_ended(self) -> None:
        self._import = None
        queued, self._queued = self._queued, []
        if queued:
            self.import_sources(queued)

    def _imported(self, results: tuple[MessageImport, ...]) -> None:
        project = self._import_for
        if project is None or self.ctx.session.project is not project:
            return  # another project was opened while the messages were examined
        known = {m.id for m in project.messages}
        new: list[StoredMessage] = []
        lines: list[str] = []
        for result in results:
            stored = result.stored
            if stored is None:
                lines.append(tr("target.messages.not_imported", name=result.name, reason=result.error))
            elif stored.id in known:
                lines.append(tr("target.messages.duplicate", name=result.name))
            elif len(project.messages) + len(new) >= MAX_MESSAGES:
                lines.append(tr("target.messages.full", name=result.name, limit=MAX_MESSAGES))
            else:
                known.add(stored.id)
                new.append(stored)
        if new:
            self.ctx.session.edit(lambda p: p.messages.extend(new), self)
            lines.insert(0, tr("target.messages.imported", count=len(new)))
        self._show_messages()
        if new:
            self.message_list.select_id(new[-1].id)
        self.message_note.setText("\n".join(lines))
        if new:
            self.ctx.status.emit(tr("target.messages.imported", count=len(new)))

    def selected_evidence(self) -> MessageEvidence | None:
        chosen = self.message_list.selected_id()
        return self._evidence.get(chosen) if chosen else None

    def show_selected(self) -> None:
        """Open the evidence of the selected message (its hop chain and verdicts) in a dialog."""
        from auditapp.gui.dialogs.message_dialogs import MessageEvidenceDialog

        evidence = self.selected_evidence()
        if evidence is None:
            return
        dialog = MessageEvidenceDialog(evidence, self)
        try:
            dialog.exec()
        finally:
            dialog.deleteLater()

    def remove_selected(self) -> None:
        """Remove the selected message from the project, after asking (privacy: the user decides what is kept)."""
        project = self.ctx.session.project
        chosen = self.message_list.selected_id()
        stored = next((m for m in project.messages if m.id == chosen), None) if project else None
        if stored is None:
            return
        ev = self._evidence.get(stored.id)
        label = ev.label if ev is not None else stored.name
        if not self.confirm(tr("target.messages.remove_title"), tr("target.messages.remove_ask", label=label)):
            return
        self.ctx.session.edit(lambda p: setattr(p, "messages", [m for m in p.messages if m.id != stored.id]), self)
        self._show_messages()
        self.message_note.setText(tr("target.messages.removed", label=label))

    # -- dropping files --------------------------------------------------------------------------

    @staticmethod
    def _dropped_paths(event: QDragEnterEvent | QDropEvent) -> list[str]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if self.ctx.session.project is not None and self._dropped_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 (Qt override)
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        paths = self._dropped_paths(event)
        if paths and self.ctx.session.project is not None:
            event.acceptProposedAction()
            self.import_files(paths)
