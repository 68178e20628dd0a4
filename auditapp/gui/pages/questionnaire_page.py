"""The questionnaire page: the catalog's questions as a form, answers kept in ``project.answers``.

Half of a mail audit (private use, signatures, archiving) cannot be seen from the network; the
consultant answers it here, during or after the interview with the client. The form is
generated from the catalog (:mod:`auditapp.gui.questionnaire_form`); this page connects it to
the project: every edit goes through ``session.edit`` as a validated value, "not answered"
removes the key, and answers files (``auditapp.answers/1``) are read and written with the same
loader and writer as the CLI, so the window never accepts a file the CLI would refuse.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
)

from auditapp.core.project import Project
from auditapp.gui.context import AppContext
from auditapp.gui.i18n import language, tr
from auditapp.gui.pages.base import PANES_MARGINS, Page, frameless_scroll, tab_chain
from auditapp.gui.questionnaire_form import QuestionnaireForm
from auditapp.gui.widgets.banner import Banner
from auditapp.questionnaire import AnswersError, Questionnaire, load_answers_file, questionnaire, save_answers_file


class QuestionnairePage(Page):
    key = "questionnaire"
    nav_text_key = "window.nav.questionnaire"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.questionnaire: Questionnaire = questionnaire()
        layout = self.page_column("questionnaire.title", "questionnaire.intro", margins=PANES_MARGINS, spacing=8,
                                  muted=True)

        bar = QHBoxLayout()
        self.progress_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(220)
        self.progress.setMaximumHeight(10)
        self.progress.setAccessibleName(tr("questionnaire.progress_name"))
        self.import_button = QPushButton(tr("questionnaire.import"))
        self.import_button.setToolTip(tr("questionnaire.import_tip"))
        self.export_button = QPushButton(tr("questionnaire.export"))
        self.export_button.setToolTip(tr("questionnaire.export_tip"))
        self.clear_button = QPushButton(tr("questionnaire.clear"))
        self.clear_button.setToolTip(tr("questionnaire.clear_tip"))
        bar.addWidget(self.progress_label)
        bar.addWidget(self.progress)
        bar.addStretch(1)
        for button in (self.import_button, self.export_button, self.clear_button):
            bar.addWidget(button)
        layout.addLayout(bar)
        self.banner = Banner()
        layout.addWidget(self.banner)

        self.topics = QListWidget()
        self.topics.setAccessibleName(tr("questionnaire.topics"))
        self.topics.setToolTip(tr("questionnaire.topics_tip"))
        self.topics.setMinimumWidth(200)
        self.topics.setSpacing(3)
        self.topics.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.topics.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form = QuestionnaireForm(self.questionnaire)
        self.scroll = frameless_scroll(self.form)
        for tid, topic in self.questionnaire.topics.items():
            item = QListWidgetItem(topic.title.get(language()))
            item.setData(Qt.ItemDataRole.UserRole, tid)
            self.topics.addItem(item)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.topics)
        splitter.addWidget(self.scroll)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([340, 940])
        layout.addWidget(splitter, 1)

        self.import_button.clicked.connect(self.import_clicked)
        self.export_button.clicked.connect(self.export_clicked)
        self.clear_button.clicked.connect(self.clear_clicked)
        self.topics.itemClicked.connect(self._jump)
        self.topics.currentItemChanged.connect(lambda item, _prev: item and self._jump(item))
        self.form.answer_edited.connect(self._answer_edited)
        tab_chain(self.import_button, self.export_button, self.clear_button, self.topics)
        self.on_replaced()

    # -- project <-> form ----------------------------------------------------------------------

    def answers(self) -> dict[str, Any]:
        return dict(self.project.answers) if self.project is not None else {}

    def on_replaced(self) -> None:
        has = self.project is not None
        for widget in (self.form, self.import_button, self.export_button, self.clear_button, self.topics):
            widget.setEnabled(has)
        self.banner.clear_message()
        self._load()

    def on_changed(self, source: object) -> None:
        # Another part of the window edited the project; it may have touched the answers.
        self._load()

    def _load(self) -> None:
        answers = self.answers()
        usable: dict[str, Any] = {}
        problems = []
        for qid, value in answers.items():
            question = self.questionnaire.questions.get(qid)
            if question is None:
                problems.append(tr("questionnaire.stored_unknown", question=qid))
                continue
            try:
                usable[qid] = question.check(value)
            except AnswersError as exc:
                problems.append(tr("questionnaire.stored_invalid", question=qid, reason=str(exc)))
        self.form.set_answers(usable)
        self._update_progress(usable)
        if problems:
            self.banner.show_message("\n".join(problems), "error")

    def _answer_edited(self, question_id: str, value: Any) -> None:
        def change(project: Project) -> None:
            if value is None:
                project.answers.pop(question_id, None)
            else:
                project.answers[question_id] = value
            # Catalog order, as the answers file writes them: stable diffs of project files.
            order = list(self.questionnaire.questions)
            project.answers = dict(sorted(project.answers.items(),
                                          key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))

        self.ctx.session.edit(change, self)
        answers = self.answers()
        self.form.update_visibility(answers)
        self._update_progress(answers)

    def _update_progress(self, answers: dict[str, Any]) -> None:
        """Count only questions that are currently asked: hidden ones are not part of this interview."""
        shown = [qid for qid in self.questionnaire.questions if self.questionnaire.visible(qid, answers)]
        answered = sum(1 for qid in shown if qid in answers)
        self.progress_label.setText(tr("questionnaire.progress", answered=answered, total=len(shown)))
        self.progress.setRange(0, max(len(shown), 1))
        self.progress.setValue(answered)
        for row in range(self.topics.count()):
            item = self.topics.item(row)
            tid = item.data(Qt.ItemDataRole.UserRole)
            in_topic = [q.id for q in self.questionnaire.in_topic(tid) if q.id in shown]
            done = sum(1 for qid in in_topic if qid in answers)
            title = self.questionnaire.topics[tid].title.get(language())
            item.setText(tr("questionnaire.topic_progress", title=title, answered=done, total=len(in_topic)))
            item.setToolTip(item.text())
            item.setHidden(not in_topic)
            font = item.font()
            font.setBold(bool(in_topic) and done < len(in_topic))
            item.setFont(font)

    def _jump(self, item: QListWidgetItem) -> None:
        box = self.form.boxes.get(item.data(Qt.ItemDataRole.UserRole))
        if box is not None:
            self.scroll.verticalScrollBar().setValue(box.y())

    # -- dialogs (separate methods so tests can answer them) ------------------------------------

    def ask_open_path(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self, tr("questionnaire.import_title"), self.start_dir(),
                                              tr("questionnaire.file_filter"))
        return path

    def ask_save_path(self) -> str:
        name = f"{self.project.domain if self.project else 'answers'}-answers.json"
        path, _ = QFileDialog.getSaveFileName(self, tr("questionnaire.export_title"),
                                              str(Path(self.start_dir()) / name), tr("questionnaire.file_filter"))
        return path

    def _remember_dir(self, path: str) -> None:
        self.ctx.settings.last_dir = str(Path(path).parent)

    # -- actions -------------------------------------------------------------------------------

    def import_clicked(self) -> None:
        path = self.ask_open_path()
        if path:
            self._remember_dir(path)
            self.import_file(path)

    def import_file(self, path: str | Path) -> bool:
        """Replace the answers with the file's; a file the loader refuses changes nothing."""
        if self.project is None:
            return False
        try:
            loaded = load_answers_file(path, self.questionnaire)
        except AnswersError as exc:
            self.banner.show_message(tr("questionnaire.import_failed", reason=str(exc)), "error")
            return False
        current = self.answers()
        if current and current != loaded and not self.confirm(
                tr("questionnaire.replace_title"),
                tr("questionnaire.replace_text", current=len(current), new=len(loaded), name=Path(path).name)):
            return False
        self.ctx.session.edit(lambda p: setattr(p, "answers", dict(loaded)), self)
        self._load()
        self.banner.show_message(tr("questionnaire.imported", count=len(loaded), name=Path(path).name), "ok")
        self.ctx.status.emit(tr("questionnaire.imported", count=len(loaded), name=Path(path).name))
        return True

    def export_clicked(self) -> None:
        path = self.ask_save_path()
        if path:
            if not Path(path).suffix:
                path += ".json"
            self._remember_dir(path)
            self.export_file(path)

    def export_file(self, path: str | Path) -> bool:
        """Write the answers as an ``auditapp.answers/1`` file (validated, atomic)."""
        if self.project is None:
            return False
        meta = {"project": self.project.name or self.project.display_domain, "domain": self.project.domain,
                "date": date.today().isoformat()}
        try:
            save_answers_file(Path(path), self.answers(), meta, self.questionnaire)
        except (AnswersError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.banner.show_message(tr("questionnaire.export_failed", path=str(path), reason=reason), "error")
            return False
        self.banner.show_message(tr("questionnaire.exported", count=len(self.answers()), path=str(path)), "ok")
        return True

    def clear_clicked(self) -> None:
        if self.project is None or not self.project.answers:
            return
        if self.confirm(tr("questionnaire.clear_title"), tr("questionnaire.clear_text", count=len(self.answers()))):
            self.clear_all()

    def clear_all(self) -> None:
        self.ctx.session.edit(lambda p: setattr(p, "answers", {}), self)
        self._load()
        self.banner.show_message(tr("questionnaire.cleared"), "ok")

