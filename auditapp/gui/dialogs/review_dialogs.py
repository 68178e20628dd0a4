"""The reviewer's dialogs: accept a risk, comment on a result, change its severity.

Each dialog edits the project only through :mod:`auditapp.core.review` inside
``ctx.session.edit``, so the GUI writes exactly the entries the CLI writes and the session
marks the project modified and tells every page. The reports says who decided what and why,
so a reason and an author are required; OK stays disabled until they are given, with the
reason beside the field rather than in a message box after the fact. The author typed is
remembered as the default for the next review (``settings.reviewer``).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from auditapp.catalog import catalog
from auditapp.catalog.wording import severity_label
from auditapp.core.model import Finding, Severity
from auditapp.core.project import Project, ProjectError
from auditapp.core.review import MAX_REVIEW_TEXT, accept_risk, add_comment, override_severity
from auditapp.core.review_layer import ReviewLayer
from auditapp.gui.context import AppContext
from auditapp.gui.i18n import language, tr
from auditapp.gui.qmodels import cap, severity_icon


def _message_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    palette = label.palette()
    # The same red as the other forms' validation messages: readable on light and dark palettes.
    palette.setColor(QPalette.ColorRole.WindowText, QColor(0xD0, 0x36, 0x36))
    label.setPalette(palette)
    return label


class _TextField(QWidget):
    """A required multi-line text with its message below it (the text a report will quote)."""

    def __init__(self, accessible: str, placeholder: str, lines: int = 4) -> None:
        super().__init__()
        self.edit = QPlainTextEdit()
        self.edit.setAccessibleName(accessible)
        self.edit.setPlaceholderText(placeholder)
        self.edit.setTabChangesFocus(True)
        self.edit.setFixedHeight(self.edit.fontMetrics().lineSpacing() * lines + 14)
        self.message = _message_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.message)

    def text(self) -> str:
        return self.edit.toPlainText().strip()

    def problem(self) -> str:
        text = self.text()
        if not text:
            return tr("review.required_text")
        if len(text) > MAX_REVIEW_TEXT:
            return tr("review.too_long", length=len(text), limit=MAX_REVIEW_TEXT)
        return ""


class ReviewDialog(QDialog):
    """Common frame: which result, the fields of the subclass, the author, OK/Cancel."""

    title_key = ""
    intro_key = ""
    ok_key = ""

    def __init__(self, ctx: AppContext, finding: Finding, parent: QWidget | None = None) -> None:
        super().__init__(parent or ctx.window)
        self.ctx, self.finding = ctx, finding
        self.lang = language()
        self.setWindowTitle(tr(self.title_key))
        self.setMinimumWidth(520)
        rule = catalog().rules.get(finding.rule)
        title = rule.title.get(self.lang) if rule else finding.rule
        header = QLabel(tr("review.header", rule=html.escape(finding.rule), title=html.escape(title),
                           subject=html.escape(finding.subject)))
        header.setTextFormat(Qt.TextFormat.RichText)
        header.setWordWrap(True)
        header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header = header
        intro = QLabel(tr(self.intro_key))
        intro.setWordWrap(True)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.build_fields()
        self.author = QLineEdit(ctx.settings.reviewer)
        self.author.setAccessibleName(tr("review.author"))
        self.author.setPlaceholderText(tr("review.author_placeholder"))
        self.author_message = _message_label()
        author_box = QWidget()
        author_layout = QVBoxLayout(author_box)
        author_layout.setContentsMargins(0, 0, 0, 0)
        author_layout.setSpacing(2)
        author_layout.addWidget(self.author)
        author_layout.addWidget(self.author_message)
        self.form.addRow(tr("review.author_label"), author_box)
        self.failure = _message_label()
        self.failure.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(tr(self.ok_key))
        self.ok.setToolTip(tr("review.ok_tip"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(intro)
        layout.addSpacing(6)
        layout.addLayout(self.form)
        layout.addWidget(self.failure)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.author.textChanged.connect(self.validate)
        self.validate()

    # -- for subclasses -----------------------------------------------------------------------

    def build_fields(self) -> None:
        raise NotImplementedError

    def field_problems(self) -> bool:
        """Show messages beside the subclass's fields; True when all are fine."""
        raise NotImplementedError

    def change(self, author: str) -> Callable[[Project], Any]:
        """The edit to apply through the session (calls one function of core.review)."""
        raise NotImplementedError

    # -- common -----------------------------------------------------------------------------------

    def validate(self) -> bool:
        fine = self.field_problems()
        author_problem = "" if self.author.text().strip() else tr("review.required_author")
        self.author_message.setText(author_problem)
        self.author_message.setVisible(bool(author_problem))
        valid = fine and not author_problem
        self.ok.setEnabled(valid)
        return valid

    def show_text_problem(self, field: _TextField) -> bool:
        problem = field.problem()
        field.message.setText(problem)
        field.message.setVisible(bool(problem))
        return not problem

    def accept(self) -> None:
        if not self.validate():
            return
        author = self.author.text().strip()
        try:
            self.ctx.session.edit(self.change(author), self)
        except ProjectError as exc:
            # The core's checks are the last word (e.g. a rule no longer in the catalog).
            self.failure.setText(tr("review.failed", reason=str(exc)))
            self.failure.setVisible(True)
            return
        self.ctx.settings.reviewer = author
        super().accept()


class AcceptRiskDialog(ReviewDialog):
    """Record that the client deliberately lives with a failed result (the report's risk register)."""

    title_key = "review.accept.title"
    intro_key = "review.accept.intro"
    ok_key = "review.accept.ok"

    def build_fields(self) -> None:
        self.justification = _TextField(tr("review.accept.justification"), tr("review.accept.placeholder"))
        self.justification.edit.textChanged.connect(self.validate)
        self.form.addRow(tr("review.accept.justification_label"), self.justification)
        self.expires_check = QCheckBox(tr("review.accept.expires"))
        self.expires_check.setToolTip(tr("review.accept.expires_tip"))
        self.expires = QDateEdit()
        self.expires.setCalendarPopup(True)
        self.expires.setDisplayFormat("dd.MM.yyyy" if self.lang == "de" else "yyyy-MM-dd")
        today = QDate.currentDate()
        self.expires.setMinimumDate(today.addDays(1))
        self.expires.setDate(today.addYears(1))
        self.expires.setAccessibleName(tr("review.accept.expires_date"))
        self.expires.setEnabled(False)
        self.expires_check.toggled.connect(self.expires.setEnabled)
        row = QHBoxLayout()
        row.addWidget(self.expires_check)
        row.addWidget(self.expires)
        row.addStretch(1)
        self.form.addRow(tr("review.accept.expires_label"), row)
        self.all_subjects = QCheckBox(tr("review.accept.all_subjects", rule=self.finding.rule))
        self.all_subjects.setToolTip(tr("review.accept.all_subjects_tip"))
        self.form.addRow("", self.all_subjects)

    def field_problems(self) -> bool:
        return self.show_text_problem(self.justification)

    def change(self, author: str) -> Callable[[Project], Any]:
        subject = "*" if self.all_subjects.isChecked() else self.finding.subject
        expires = self.expires.date().toString("yyyy-MM-dd") if self.expires_check.isChecked() else None
        text, rule = self.justification.text(), self.finding.rule
        return lambda p: accept_risk(p, rule, subject, text, author, expires)


class CommentDialog(ReviewDialog):
    """A remark on a result; comments add up to a discussion shown in the report."""

    title_key = "review.comment.title"
    intro_key = "review.comment.intro"
    ok_key = "review.comment.ok"

    def build_fields(self) -> None:
        self.text = _TextField(tr("review.comment.text"), tr("review.comment.placeholder"))
        self.text.edit.textChanged.connect(self.validate)
        self.form.addRow(tr("review.comment.text_label"), self.text)

    def field_problems(self) -> bool:
        return self.show_text_problem(self.text)

    def change(self, author: str) -> Callable[[Project], Any]:
        text, finding = self.text.text(), self.finding
        return lambda p: add_comment(p, finding.rule, finding.subject, text, author)


class SeverityDialog(ReviewDialog):
    """The reviewer's severity for this result; the report shows the catalog's beside it."""

    title_key = "review.severity.title"
    intro_key = "review.severity.intro"
    ok_key = "review.severity.ok"

    def build_fields(self) -> None:
        project = self.ctx.session.project
        current = ReviewLayer.of(project).effective_severity(self.finding)
        catalog_label = QLabel(cap(severity_label(self.finding.severity, self.lang)))
        self.form.addRow(tr("review.severity.catalog_label"), catalog_label)
        self.severity = QComboBox()
        self.severity.setAccessibleName(tr("review.severity.new"))
        for level in (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO):
            self.severity.addItem(severity_icon(level), cap(severity_label(level, self.lang)), level.value)
        self.severity.setCurrentIndex(self.severity.findData(current.value))
        self.severity_message = _message_label()
        box = QWidget()
        box_layout = QVBoxLayout(box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.setSpacing(2)
        combo_row = QHBoxLayout()
        combo_row.addWidget(self.severity)
        combo_row.addStretch(1)
        box_layout.addLayout(combo_row)
        box_layout.addWidget(self.severity_message)
        self.form.addRow(tr("review.severity.new_label"), box)
        self.severity.currentIndexChanged.connect(self.validate)
        self.reason = _TextField(tr("review.severity.reason"), tr("review.severity.placeholder"))
        self.reason.edit.textChanged.connect(self.validate)
        self.form.addRow(tr("review.severity.reason_label"), self.reason)

    def chosen(self) -> Severity:
        return Severity(self.severity.currentData())

    def field_problems(self) -> bool:
        same = self.chosen() is self.finding.severity
        # Overriding with the catalog's own severity would record a change that changes nothing.
        message = tr("review.severity.same") if same else ""
        self.severity_message.setText(message)
        self.severity_message.setVisible(bool(message))
        return self.show_text_problem(self.reason) and not same

    def change(self, author: str) -> Callable[[Project], Any]:
        level, text, finding = self.chosen(), self.reason.text(), self.finding
        return lambda p: override_severity(p, finding.rule, finding.subject, level, text, author)
