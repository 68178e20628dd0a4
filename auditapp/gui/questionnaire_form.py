"""The questionnaire as a form, generated from the catalog (one input per question, never hand-built).

The catalog (:mod:`auditapp.questionnaire`) is the single source of questions, kinds, ranges,
help texts and ``show_if`` conditions; this module only maps each question kind to a widget.
Adding a question to ``questions.toml`` therefore adds it to the window without GUI changes.

"Not answered" is a state of its own in every widget, distinct from "no", "none of these" or 0:
an unanswered question is absent from ``project.answers`` and its rules report *not tested*,
while "no" is an answer that can fail a rule. Mixing the two would turn a gap in the interview
into a verdict in the client's report.

The form does not own the answers. It reports edits (``answer_edited``) and is told the current
answers (:meth:`QuestionnaireForm.set_answers`, :meth:`QuestionnaireForm.update_visibility`), so
the project stays the one place that holds them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QLocale, QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from auditapp.gui.i18n import language, tr
from auditapp.questionnaire import Question, Questionnaire


def muted(label: QLabel) -> QLabel:
    """Grey but still readable text: the help texts carry the legal background and must not fade away."""
    palette = label.palette()
    text = palette.color(QPalette.ColorRole.WindowText)
    base = palette.color(QPalette.ColorRole.Window)
    # Two thirds of the way from the background to the text colour: clearly secondary, still
    # well above the contrast a light grey on white would give (works on dark palettes too).
    mixed = QColor((text.red() * 2 + base.red()) // 3, (text.green() * 2 + base.green()) // 3,
                   (text.blue() * 2 + base.blue()) // 3)
    palette.setColor(QPalette.ColorRole.WindowText, mixed)
    label.setPalette(palette)
    return label


def _wrapped(text: str, *, selectable: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if selectable:
        # Consultants quote the legal background in their notes; let them copy it.
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class _NoWheelUnlessFocused(QObject):
    """Scrolling the page with the mouse wheel must not change a combo box or spin box it passes over."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()
            return True
        return False


class QuestionInput(QWidget):
    """The input for one question; ``value()`` is None when the question is not answered."""

    changed = Signal()

    def __init__(self, question: Question) -> None:
        super().__init__()
        self.question = question
        self._loading = False

    def value(self) -> Any | None:
        raise NotImplementedError

    def set_value(self, value: Any | None) -> None:
        """Show ``value`` (already validated) without reporting it as an edit."""
        self._loading = True
        try:
            self._show(value)
        finally:
            self._loading = False

    def _show(self, value: Any | None) -> None:
        raise NotImplementedError

    def _emit(self) -> None:
        if not self._loading:
            self.changed.emit()

    def _describe(self, widget: QWidget, name: str = "") -> None:
        lang = language()
        widget.setAccessibleName(name or self.question.title.get(lang))
        widget.setAccessibleDescription(self.question.help.get(lang))


class YesNoInput(QuestionInput):
    """Yes / No / Not answered as radio buttons: all three states visible at once, reachable by keyboard."""

    def __init__(self, question: Question) -> None:
        super().__init__(question)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.group = QButtonGroup(self)
        self.yes = QRadioButton(tr("questionnaire.form.yes"))
        self.no = QRadioButton(tr("questionnaire.form.no"))
        self.unanswered = QRadioButton(tr("questionnaire.form.unanswered"))
        self.unanswered.setToolTip(tr("questionnaire.form.unanswered_tip"))
        title = question.title.get(language())
        for button, text in ((self.yes, "yes"), (self.no, "no"), (self.unanswered, "unanswered")):
            self.group.addButton(button)
            layout.addWidget(button)
            self._describe(button, f"{title}: {tr('questionnaire.form.' + text)}")
        layout.addStretch(1)
        self.unanswered.setChecked(True)
        self.group.buttonToggled.connect(lambda _button, checked: checked and self._emit())

    def value(self) -> bool | None:
        if self.yes.isChecked():
            return True
        if self.no.isChecked():
            return False
        return None

    def _show(self, value: Any | None) -> None:
        if value is True:
            self.yes.setChecked(True)
        elif value is False:
            self.no.setChecked(True)
        else:
            self.unanswered.setChecked(True)


class ChoiceInput(QuestionInput):
    """A combo box whose first entry is "not answered"; the chosen option's description is shown below."""

    def __init__(self, question: Question, wheel_guard: QObject) -> None:
        super().__init__(question)
        lang = language()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.combo = QComboBox()
        self.combo.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.combo.installEventFilter(wheel_guard)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.addItem(tr("questionnaire.form.not_answered"), None)
        for choice in question.choices:
            self.combo.addItem(choice.label.get(lang), choice.key)
            if choice.description is not None:
                self.combo.setItemData(self.combo.count() - 1, choice.description.get(lang),
                                       Qt.ItemDataRole.ToolTipRole)
        self._describe(self.combo)
        # The chosen option's meaning sits beside the combo, in italics, so it is not mistaken
        # for the question's help text.
        self.description = muted(_wrapped(""))
        italic = QFont(self.description.font())
        italic.setItalic(True)
        self.description.setFont(italic)
        row = QHBoxLayout()
        row.setSpacing(12)
        row.addWidget(self.combo, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.description, 1)
        layout.addLayout(row)
        self.combo.currentIndexChanged.connect(self._changed)

    def _changed(self) -> None:
        self._update_description()
        self._emit()

    def _update_description(self) -> None:
        key = self.combo.currentData()
        text = ""
        if key is not None:
            choice = self.question.choice(key)
            text = choice.description.get(language()) if choice.description else ""
        self.description.setText(text)
        self.combo.setToolTip(text)

    def value(self) -> str | None:
        return self.combo.currentData()

    def _show(self, value: Any | None) -> None:
        index = self.combo.findData(value) if isinstance(value, str) else 0
        self.combo.setCurrentIndex(max(index, 0))
        self._update_description()


class MultiChoiceInput(QuestionInput):
    """Check boxes plus an explicit state: not answered, "none of these" (``[]``), or the selection.

    Unticking every box is an answer ("none of these"); only "Reset" makes the question
    unanswered again, so the two can never be confused.
    """

    def __init__(self, question: Question) -> None:
        super().__init__(question)
        lang = language()
        self._answered = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(2)
        columns = 2 if len(question.choices) > 6 else 1
        rows = (len(question.choices) + columns - 1) // columns
        self.boxes: dict[str, QCheckBox] = {}
        title = question.title.get(lang)
        for i, choice in enumerate(question.choices):
            box = QCheckBox(choice.label.get(lang))
            if choice.description is not None:
                box.setToolTip(choice.description.get(lang))
            box.setAccessibleName(f"{title}: {choice.label.get(lang)}")
            box.toggled.connect(self._ticked)
            # Column-major order: reading down a column follows the catalog order.
            grid.addWidget(box, i % rows, i // rows)
            self.boxes[choice.key] = box
        grid.setColumnStretch(columns, 1)
        layout.addLayout(grid)
        row = QHBoxLayout()
        self.state = muted(QLabel())
        self.none_button = QPushButton(tr("questionnaire.form.multi_none"))
        self.none_button.setToolTip(tr("questionnaire.form.multi_none_tip"))
        self.none_button.setAccessibleName(f"{title}: {tr('questionnaire.form.multi_none')}")
        self.reset_button = QPushButton(tr("questionnaire.form.reset"))
        self.reset_button.setToolTip(tr("questionnaire.form.reset_tip"))
        self.reset_button.setAccessibleName(f"{title}: {tr('questionnaire.form.reset')}")
        self.none_button.clicked.connect(lambda: self._set_and_emit([]))
        self.reset_button.clicked.connect(lambda: self._set_and_emit(None))
        row.addWidget(self.state)
        row.addSpacing(12)
        row.addWidget(self.none_button)
        row.addWidget(self.reset_button)
        row.addStretch(1)
        layout.addLayout(row)
        self._update_state()

    def _ticked(self) -> None:
        if self._loading:
            return
        self._answered = True
        self._update_state()
        self._emit()

    def _set_and_emit(self, value: list[str] | None) -> None:
        self.set_value(value)
        self.changed.emit()

    def _update_state(self) -> None:
        selected = sum(box.isChecked() for box in self.boxes.values())
        if not self._answered:
            text = tr("questionnaire.form.multi_unanswered")
        elif not selected:
            text = tr("questionnaire.form.multi_answered_none")
        else:
            text = tr("questionnaire.form.multi_answered_some", count=selected, total=len(self.boxes))
        self.state.setText(text)
        self.reset_button.setEnabled(self._answered)

    def value(self) -> list[str] | None:
        if not self._answered:
            return None
        return [key for key, box in self.boxes.items() if box.isChecked()]

    def _show(self, value: Any | None) -> None:
        self._answered = isinstance(value, list)
        chosen = set(value) if isinstance(value, list) else set()
        for key, box in self.boxes.items():
            box.setChecked(key in chosen)
        self._update_state()


class TextInput(QuestionInput):
    """One line of free text; empty means not answered (as in the answers file)."""

    def __init__(self, question: Question) -> None:
        super().__init__(question)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setMaxLength(question.max_length)
        self.edit.setClearButtonEnabled(True)
        self.edit.setPlaceholderText(tr("questionnaire.form.text_placeholder"))
        self.edit.setMinimumWidth(320)
        self._describe(self.edit)
        layout.addWidget(self.edit, 2)
        layout.addStretch(1)
        self.edit.textChanged.connect(self._emit)

    def value(self) -> str | None:
        text = self.edit.text().strip()
        return text or None

    def _show(self, value: Any | None) -> None:
        text = value if isinstance(value, str) else ""
        if text != self.edit.text().strip():
            self.edit.setText(text)


class NumberInput(QuestionInput):
    """A spin box limited to the catalog's range; one step below the minimum shows "not answered".

    That is Qt's special-value idiom: the state is part of the same widget, and "Reset" (or
    stepping below the minimum) returns to it.
    """

    def __init__(self, question: Question, wheel_guard: QObject) -> None:
        super().__init__(question)
        lo = question.minimum if question.minimum is not None else -1_000_000
        hi = question.maximum if question.maximum is not None else 1_000_000
        self._sentinel = lo - 1
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        spin: QSpinBox | QDoubleSpinBox
        if question.integer:
            spin = QSpinBox()
            spin.setRange(int(self._sentinel), int(hi))
        else:
            spin = QDoubleSpinBox()
            spin.setDecimals(1)
            spin.setRange(self._sentinel, hi)
        self.spin = spin
        # Decimal comma in German, point in English, whatever the desktop's locale says.
        spin.setLocale(QLocale(QLocale.Language.German if language() == "de" else QLocale.Language.English))
        spin.setSpecialValueText(tr("questionnaire.form.not_answered"))
        spin.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
        spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        spin.installEventFilter(wheel_guard)
        spin.setMinimumWidth(190)
        spin.setValue(self._sentinel)
        spin.setToolTip(tr("questionnaire.form.number_range", min=f"{lo:g}", max=f"{hi:g}"))
        self._describe(spin)
        self.reset_button = QPushButton(tr("questionnaire.form.reset"))
        self.reset_button.setToolTip(tr("questionnaire.form.reset_tip"))
        self.reset_button.setAccessibleName(f"{question.title.get(language())}: {tr('questionnaire.form.reset')}")
        self.reset_button.clicked.connect(lambda: self.spin.setValue(self._sentinel))
        self.range_label = muted(QLabel(tr("questionnaire.form.number_range", min=f"{lo:g}", max=f"{hi:g}")))
        layout.addWidget(spin)
        layout.addWidget(self.reset_button)
        layout.addWidget(self.range_label)
        layout.addStretch(1)
        spin.valueChanged.connect(self._value_changed)
        self._update_reset()

    def _value_changed(self) -> None:
        self._update_reset()
        self._emit()

    def _update_reset(self) -> None:
        self.reset_button.setEnabled(self.spin.value() > self._sentinel)

    def value(self) -> int | float | None:
        number = self.spin.value()
        if number <= self._sentinel:
            return None
        if self.question.integer or float(number).is_integer():
            return int(number)
        return round(float(number), 1)

    def _show(self, value: Any | None) -> None:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        self.spin.setValue(value if ok else self._sentinel)
        self._update_reset()


class QuestionRow(QWidget):
    """Title, input and help text of one question (hidden as a whole when its condition does not hold)."""

    def __init__(self, question: Question, field: QuestionInput) -> None:
        super().__init__()
        lang = language()
        self.question, self.input = question, field
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 10)
        layout.setSpacing(4)
        self.title = _wrapped(question.title.get(lang))
        font = QFont(self.title.font())
        font.setBold(True)
        self.title.setFont(font)
        self.title.setBuddy(field)
        self.help = muted(_wrapped(question.help.get(lang), selectable=True))
        # Help before the input: the legal background is read before answering, not after.
        layout.addWidget(self.title)
        layout.addWidget(self.help)
        layout.addSpacing(2)
        layout.addWidget(field)


class QuestionnaireForm(QWidget):
    """Every question of the catalog, grouped by topic, in catalog order."""

    #: (question id, validated value or None for "not answered")
    answer_edited = Signal(str, object)

    def __init__(self, questionnaire: Questionnaire) -> None:
        super().__init__()
        self.questionnaire = questionnaire
        self._wheel_guard = _NoWheelUnlessFocused(self)
        self.inputs: dict[str, QuestionInput] = {}
        self.rows: dict[str, QuestionRow] = {}
        self.boxes: dict[str, QGroupBox] = {}
        lang = language()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 12, 4)
        layout.setSpacing(14)
        for topic in questionnaire.topics.values():
            # The topic title is a label inside the box rather than the box title: the style's
            # group-box title is small and easy to overlook between long forms.
            box = QGroupBox()
            box.setAccessibleName(topic.title.get(lang))
            inner = QVBoxLayout(box)
            inner.setSpacing(2)
            heading = QLabel(topic.title.get(lang))
            heading_font = QFont(heading.font())
            heading_font.setBold(True)
            heading_font.setPointSizeF(heading_font.pointSizeF() * 1.2)
            heading.setFont(heading_font)
            inner.addWidget(heading)
            if topic.intro is not None:
                intro = muted(_wrapped(topic.intro.get(lang), selectable=True))
                inner.addWidget(intro)
                inner.addSpacing(6)
            for question in questionnaire.in_topic(topic.id):
                field = self._input_for(question)
                field.changed.connect(lambda qid=question.id: self._edited(qid))
                row = QuestionRow(question, field)
                inner.addWidget(row)
                self.inputs[question.id] = field
                self.rows[question.id] = row
            self.boxes[topic.id] = box
            layout.addWidget(box)
        layout.addStretch(1)

    def _input_for(self, question: Question) -> QuestionInput:
        if question.type == "yesno":
            return YesNoInput(question)
        if question.type == "choice":
            return ChoiceInput(question, self._wheel_guard)
        if question.type == "multichoice":
            return MultiChoiceInput(question)
        if question.type == "text":
            return TextInput(question)
        if question.type == "number":
            return NumberInput(question, self._wheel_guard)
        raise ValueError(f"question {question.id}: unsupported type {question.type!r}")

    def _edited(self, question_id: str) -> None:
        field = self.inputs[question_id]
        value = field.value()
        if value is not None:
            # The widgets only produce values the catalog accepts; check anyway so a widget bug
            # can never put an invalid answer into a project (it would fail to load later).
            value = self.questionnaire[question_id].check(value)
        self.answer_edited.emit(question_id, value)

    def set_answers(self, answers: dict[str, Any]) -> None:
        for qid, field in self.inputs.items():
            field.set_value(answers.get(qid))
        self.update_visibility(answers)

    def update_visibility(self, answers: dict[str, Any]) -> None:
        """Show exactly the questions whose ``show_if`` holds; hide a topic with nothing left to ask."""
        shown: dict[str, bool] = {}
        for qid, row in self.rows.items():
            visible = self.questionnaire.visible(qid, answers)
            row.setVisible(visible)
            shown[row.question.topic] = shown.get(row.question.topic, False) or visible
        for tid, box in self.boxes.items():
            box.setVisible(shown.get(tid, False))

    def is_shown(self, question_id: str) -> bool:
        """Whether the question is currently offered (independent of whether the window is on screen)."""
        # isVisible() is False while the page is off screen; isHidden() is the decision made here.
        return not self.rows[question_id].isHidden()
