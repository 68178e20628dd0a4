"""Creating a project: the client's name and mail domain, checked as they are typed."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from auditapp.core.project import Project
from auditapp.core.validation import normalize_domain
from auditapp.gui.context import AppContext
from auditapp.gui.i18n import tr
from auditapp.gui.widgets.fields import ValidatedLineEdit


class NewProjectDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(tr("dialogs.new_project.title"))
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        intro = QLabel(tr("dialogs.new_project.intro"))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setPlaceholderText(tr("dialogs.new_project.name_placeholder"))
        self.name.setAccessibleName(tr("dialogs.new_project.name"))
        self.name.setMaxLength(200)
        self.domain = ValidatedLineEdit(normalize_domain, required=True,
                                        placeholder=tr("dialogs.new_project.domain_placeholder"),
                                        accessible=tr("dialogs.new_project.domain"))
        form.addRow(tr("dialogs.new_project.name"), self.name)
        form.addRow(tr("dialogs.new_project.domain"), self.domain)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.domain.validity_changed.connect(self._update)
        self._update()

    def _update(self, *_: object) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self.domain.validate())

    def project(self) -> Project:
        """The new project, with the user's default blocklists from the settings."""
        domain = normalize_domain(self.domain.text())
        name = " ".join(self.name.text().split())
        return Project(name=name, domain=domain, dnsbl_zones=list(self.ctx.settings.dnsbl_zones))
