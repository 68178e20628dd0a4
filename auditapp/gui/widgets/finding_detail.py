"""The detail pane of the findings page: one result, rendered in the GUI language, and its review history.

Everything from the network (TXT records, banners, host names) or from a person (comments,
justifications) is escaped before it goes into rich text: a TXT record is free text chosen by
whoever runs the zone, and ``<font>`` or ``<img>`` in it must show as characters, not as markup.
Monospace blocks are plain-text widgets and cannot interpret markup at all.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QTextOption
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from auditapp.catalog.wording import render_finding, severity_label
from auditapp.core.model import Finding, Status
from auditapp.core.project import Project
from auditapp.core.review_layer import ReviewLayer
from auditapp.gui.i18n import CONTENT_LANGUAGE, tr
from auditapp.gui.icons import ui_icon
from auditapp.gui.qmodels import format_time
from auditapp.gui.qmodels.findings_model import FindingRow, category_label, status_text


def esc(value: object) -> str:
    """Escape text for Qt rich text; line breaks stay line breaks."""
    return html.escape("" if value is None else str(value), quote=True).replace("\n", "<br>")


def _mono_block(accessible: str) -> QPlainTextEdit:
    block = QPlainTextEdit()
    block.setReadOnly(True)
    block.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    block.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
    block.setAccessibleName(accessible)
    block.setTabChangesFocus(True)
    block.setFrameShape(QFrame.Shape.StyledPanel)
    return block


def _fit_height(block: QPlainTextEdit, max_lines: int) -> None:
    """Size a read-only block to its wrapped text, up to ``max_lines`` (it scrolls beyond)."""
    width = max(block.viewport().width(), 200)
    per_line = max(20, width // max(1, block.fontMetrics().averageCharWidth()))
    lines = sum(max(1, -(-len(line) // per_line)) for line in (block.toPlainText().splitlines() or [""]))
    block.setFixedHeight(block.fontMetrics().lineSpacing() * min(max_lines, lines) + 14)


def _date(value: str, lang: str) -> str:
    day = value[:10]
    if lang == "de" and len(day) == 10:
        return f"{day[8:10]}.{day[5:7]}.{day[0:4]}"
    return day


def _link(reference: str) -> str:
    """A reference as text, with a link where it names a web address (escaped either way)."""
    for token in reference.replace("(", " ").replace(")", " ").split():
        if token.startswith(("http://", "https://")):
            return f"{esc(reference)} <a href=\"{esc(token)}\">↗</a>"
    return esc(reference)


def review_history(project: Project | None, f: Finding, day: date | None, lang: str) -> str:
    """The review entries for this result, oldest first, every person's text escaped."""
    if project is None:
        return ""
    layer = ReviewLayer.of(project)
    entries: list[tuple[str, str]] = []
    for risk in layer.acceptances_covering(f):
        extra = ""
        if risk.expires:
            extra = tr("findings.review.expired" if risk.expired_on(day) else "findings.review.expires",
                       date=esc(_date(risk.expires, lang)))
        scope = tr("findings.review.all_subjects") if risk.every_subject else ""
        entries.append((risk.accepted_at, tr(
            "findings.review.accepted", who=esc(risk.accepted_by), when=esc(format_time(risk.accepted_at, lang)),
            text=esc(risk.justification), extra=extra, scope=scope)))
    for review in layer.reviews_covering(f):
        common = {"who": esc(review.author), "when": esc(format_time(review.at, lang)), "text": esc(review.text)}
        if review.severity is not None:
            entries.append((review.at, tr("findings.review.override", **common,
                                          severity=esc(severity_label(review.severity, lang)))))
        else:
            entries.append((review.at, tr("findings.review.comment", **common)))
    entries.sort(key=lambda e: e[0])
    return "".join(f"<p style='margin:0 0 6px 0'>{text}</p>" for _, text in entries)


class FindingDetail(QWidget):
    """Title, meta line, subject, review buttons, then the explanation beside remediation and evidence."""

    def __init__(self, actions: Mapping[str, Callable[[], object]]) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 4, 8, 8)
        layout.setSpacing(4)
        self.placeholder = QLabel(tr("findings.detail.none"))
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setEnabled(False)
        layout.addWidget(self.placeholder)

        self.content = QWidget()
        body = QVBoxLayout(self.content)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(4)

        # The review actions come first, always the same three, so they keep their place whatever
        # the result: a title that wraps to two lines, or an acceptance that added "withdraw"
        # among them, moved every button under the pointer (issue 14). Undoing a review entry
        # (withdraw an acceptance, reset a severity) sits with the entries, under "Prüfvermerke".
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        style = self.style()
        self.accept_button = self._button("accept", actions["accept_risk"], style.standardIcon(
            QStyle.StandardPixmap.SP_DialogApplyButton))
        self.comment_button = self._button("comment", actions["comment"])
        self.severity_button = self._button("severity", actions["change_severity"])
        for button in (self.accept_button, self.comment_button, self.severity_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.withdraw_button = self._button("withdraw", actions["withdraw"])
        self.reset_button = self._button("reset", actions["reset_severity"])
        holder = QWidget()
        wrap = QVBoxLayout(holder)
        wrap.setContentsMargins(0, 4, 0, 4)
        wrap.addLayout(buttons)
        body.addWidget(holder)

        self.title_label = self._text(body, rich=True)
        self.meta_label = self._text(body, rich=True)
        self.subject_label = self._text(body, rich=True)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        body.addWidget(line)

        # Two columns under the header: what it means on the left, what to do and the proof on
        # the right, so a wide window shows a whole result without scrolling.
        columns = QHBoxLayout()
        columns.setSpacing(18)
        left, right = QVBoxLayout(), QVBoxLayout()
        left.setSpacing(4)
        right.setSpacing(4)
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        body.addLayout(columns)

        self.sections: dict[str, list[QWidget]] = {}
        head = self._section(left, "detail")
        self.detail_label = self._text(left)
        self.sections["detail"] = [head, self.detail_label]
        head = self._section(left, "reason")
        self.reason_label = self._text(left)
        self.sections["reason"] = [head, self.reason_label]
        head = self._section(left, "explanation")
        self.explanation_label = self._text(left)
        self.sections["explanation"] = [head, self.explanation_label]
        head = self._section(left, "review")
        self.review_label = self._text(left, rich=True)
        undo = QHBoxLayout()
        undo.setContentsMargins(0, 2, 0, 0)
        undo.setSpacing(6)
        undo.addWidget(self.withdraw_button)
        undo.addWidget(self.reset_button)
        undo.addStretch(1)
        left.addLayout(undo)
        self.sections["review"] = [head, self.review_label]
        left.addStretch(1)

        rem_head = QHBoxLayout()
        rem_title = QLabel(tr("findings.detail.remediation"))
        font = rem_title.font()
        font.setBold(True)
        rem_title.setFont(font)
        self.copy_button = QPushButton(tr("findings.detail.copy"))
        self.copy_button.setIcon(ui_icon("copy"))
        self.copy_button.setToolTip(tr("findings.detail.copy_tip"))
        self.copy_button.setAccessibleName(tr("findings.detail.copy_tip"))
        self.copy_button.clicked.connect(actions["copy_remediation"])
        rem_head.addWidget(rem_title)
        rem_head.addStretch(1)
        rem_head.addWidget(self.copy_button)
        rem_box = QWidget()
        rem_box.setLayout(rem_head)
        rem_head.setContentsMargins(0, 8, 0, 0)
        right.addWidget(rem_box)
        self.remediation_block = _mono_block(tr("findings.detail.remediation"))
        right.addWidget(self.remediation_block)
        self.sections["remediation"] = [rem_box, self.remediation_block]

        head = self._section(right, "references")
        self.references_label = self._text(right, rich=True)
        # Sources are cited as published (an English RFC or guideline title stays English).
        self.references_label.setProperty(CONTENT_LANGUAGE, "original")
        self.sections["references"] = [head, self.references_label]
        head = self._section(right, "evidence")
        self.evidence_block = _mono_block(tr("findings.detail.evidence"))
        # Transcripts hold long unbroken tokens (DKIM keys): wrap anywhere rather than scroll sideways.
        self.evidence_block.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        right.addWidget(self.evidence_block)
        self.sections["evidence"] = [head, self.evidence_block]
        right.addStretch(1)
        body.addStretch(1)
        layout.addWidget(self.content)

    def _section(self, layout: QVBoxLayout, key: str) -> QLabel:
        heading = QLabel(tr(f"findings.detail.{key}"))
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        heading.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(heading)
        return heading

    def _text(self, layout: QVBoxLayout, *, rich: bool = False) -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse |
                                      Qt.TextInteractionFlag.TextSelectableByKeyboard)
        label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout.addWidget(label)
        return label

    def _button(self, key: str, slot: Any, icon: Any = None) -> QPushButton:
        button = QPushButton(tr(f"findings.action.{key}"))
        button.setToolTip(tr(f"findings.action.{key}_tip"))
        if icon is not None:
            button.setIcon(icon)
        button.clicked.connect(slot)
        return button

    def show_row(self, row: FindingRow | None, lang: str, history: str) -> None:
        """Fill the pane for ``row`` (or the placeholder); ``history`` is the review history as rich text."""
        self.placeholder.setVisible(row is None)
        self.content.setVisible(row is not None)
        if row is None:
            return
        f = row.finding
        text = render_finding(f, lang)
        self.title_label.setText(f"<h3 style='margin:0'>{esc(text['title'])}</h3>")
        severity = severity_label(row.severity, lang)
        if row.override:
            severity = tr("findings.detail.overridden", severity=esc(severity),
                          catalog=esc(severity_label(f.severity, lang)))
        else:
            severity = esc(severity)
        self.meta_label.setText(tr(
            "findings.detail.meta", severity=severity, status=esc(status_text(row.status, lang)), rule=esc(f.rule),
            category=esc(category_label(row.category)) if row.category else "–"))
        self.subject_label.setText(tr("findings.detail.subject", subject=esc(f.subject)))
        reason = text["reason"] if f.status in (Status.NOT_TESTED, Status.ERROR) else ""
        detail = text["detail"] if text["detail"] != reason else ""
        self._set_section("detail", detail, self.detail_label)
        self._set_section("reason", reason, self.reason_label)
        self._set_section("explanation", text["explanation"], self.explanation_label)
        self.remediation_block.setPlainText(text["remediation"])
        _fit_height(self.remediation_block, 10)
        self._visible("remediation", bool(text["remediation"]))
        refs = "".join(f"<li>{_link(ref)}</li>" for ref in text["references"])
        self.references_label.setText(f"<ul style='margin:0 0 0 -20px'>{refs}</ul>" if refs else "")
        self._visible("references", bool(refs))
        self.evidence_block.setPlainText("\n".join(text["evidence"]))
        _fit_height(self.evidence_block, 12)
        self._visible("evidence", bool(text["evidence"]))
        self.review_label.setText(history or f"<i>{esc(tr('findings.review.none'))}</i>")

    def _set_section(self, key: str, value: str, label: QLabel) -> None:
        label.setText(value)
        self._visible(key, bool(value))

    def _visible(self, key: str, visible: bool) -> None:
        for widget in self.sections[key]:
            widget.setVisible(visible)
