"""The target form: domain, servers, hosts, DNS, services and the test account.

Each field is checked as it is typed with the same functions the CLI and the project loader
use. A valid value is written to the project at once (so autosave and recovery have it); an
invalid one stays in the field with its message, is not stored, and blocks the Run button
through :meth:`AppContext.set_input_problem` until it is fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from auditapp.core.project import Project
from auditapp.core.validation import (
    MAX_CONNECT_INTERVAL_S,
    InputError,
    display_domain,
    normalize_domain,
    parse_ip,
    parse_port_override,
    validate_account,
    validate_helo,
    validate_selector,
)
from auditapp.gui.context import AppContext
from auditapp.gui.i18n import tr
from auditapp.gui.pages.base import FORM_MARGINS, Page
from auditapp.gui.pages.target_account import AccountMixin
from auditapp.gui.pages.target_messages import MessageEvidenceMixin
from auditapp.gui.tasks import Task
from auditapp.gui.widgets.fields import ValidatedLineEdit, ValidatedListEdit, hinted, prepare_message
from auditapp.message.evidence import MessageEvidence


def _nameserver(text: str) -> str:
    """A resolver by the rule of every front end (core/validation); the text is the duplicate check's key."""
    from auditapp.core.validation import validate_nameserver

    address, port = hinted(validate_nameserver, "widgets.validation.nameserver_format")(text)
    return f"{address}:{port}"


def _port(text: str) -> str:
    return hinted(parse_port_override, "widgets.validation.port_format")(text)[0]


def _trust_anchor(text: str) -> str:
    """A DNSSEC trust anchor file as the CLI's --trust-anchor takes it: readable, DS or DNSKEY records."""
    from auditapp.dnssec import TrustAnchorError, load_anchor_file

    try:
        load_anchor_file(text)
    except TrustAnchorError as exc:
        raise InputError(tr("target.trust_anchor_invalid", reason=str(exc)), "invalid") from None
    return text


def _rpki_vrps(text: str) -> str:
    """A VRP file as the CLI's --rpki-vrps takes it: readable, a validator's JSON or CSV export."""
    from auditapp.audit.request import check_vrp_file
    from auditapp.rpki import VrpError

    try:
        check_vrp_file(text)
    except VrpError as exc:
        raise InputError(tr("target.rpki_vrps_invalid", reason=str(exc)), "invalid") from None
    return text


class TargetPage(AccountMixin, MessageEvidenceMixin, Page):
    key = "target"
    nav_text_key = "window.nav.target"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self._loading = False
        self._labels: list[QLabel] = []
        self._discover: Task | None = None
        self._discover_for: tuple[Project | None, str] = (None, "")
        self._import: Task | None = None
        self._import_for: Project | None = None
        self._queued: list[tuple[str, Path | bytes]] = []
        #: Stored messages parsed again (header block and import verdicts), by id; None: unreadable.
        self._evidence: dict[str, MessageEvidence | None] = {}
        layout = self.page_column("target.heading", "target.intro", scroll=True, margins=FORM_MARGINS)

        self.name = QLineEdit()
        self.name.setMaxLength(200)
        self.domain = ValidatedLineEdit(normalize_domain, required=True, placeholder=tr("target.placeholder.domain"),
                                        accessible=tr("target.domain"))
        self.server_ips = ValidatedListEdit(parse_ip, placeholder=tr("target.placeholder.server_ips"),
                                            accessible=tr("target.server_ips"))
        self.helo = ValidatedLineEdit(validate_helo, placeholder=tr("target.placeholder.helo"),
                                      accessible=tr("target.helo"))
        self.mx_hosts = ValidatedListEdit(normalize_domain, placeholder=tr("target.placeholder.mx_hosts"),
                                          accessible=tr("target.mx_hosts"))
        self.client_hosts = ValidatedListEdit(normalize_domain, placeholder=tr("target.placeholder.client_hosts"),
                                              accessible=tr("target.client_hosts"))
        self.discover_button = QPushButton(tr("target.discover"))
        self.discover_button.setToolTip(tr("target.discover_tip"))
        self.discover_note = QLabel()
        self.discover_note.setWordWrap(True)
        self.discover_note.setTextFormat(Qt.TextFormat.PlainText)  # host names come from DNS
        self.discover_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dkim_selectors = ValidatedListEdit(validate_selector,
                                                placeholder=tr("target.placeholder.dkim_selectors"),
                                                accessible=tr("target.dkim_selectors"), lines=2)
        self.dnsbl_zones = ValidatedListEdit(normalize_domain, placeholder=tr("target.placeholder.dnsbl_zones"),
                                             accessible=tr("target.dnsbl_zones"))
        self.nameservers = ValidatedListEdit(_nameserver, placeholder=tr("target.placeholder.nameservers"),
                                             accessible=tr("target.nameservers"), lines=2)
        self.ports = ValidatedListEdit(_port, placeholder=tr("target.placeholder.ports"), accessible=tr("target.ports"),
                                       lines=2)
        self.trust_anchor = ValidatedLineEdit(_trust_anchor, placeholder=tr("target.placeholder.trust_anchor"),
                                              accessible=tr("target.trust_anchor"))
        self.trust_anchor_button = QPushButton(tr("target.trust_anchor_choose"))
        self.rpki_vrps = ValidatedLineEdit(_rpki_vrps, placeholder=tr("target.placeholder.rpki_vrps"),
                                           accessible=tr("target.rpki_vrps"))
        self.rpki_vrps_button = QPushButton(tr("target.rpki_vrps_choose"))
        self.probe_services = QCheckBox(tr("target.probe_services"))
        self.relay_test = QCheckBox(tr("target.relay_test"))
        self.allow_internal = QCheckBox(tr("target.allow_internal"))
        self.connect_interval = QDoubleSpinBox()
        self.connect_interval.setRange(0.0, MAX_CONNECT_INTERVAL_S)
        self.connect_interval.setDecimals(1)
        self.connect_interval.setSingleStep(0.5)
        self.connect_interval.setSuffix(" s")
        self.connect_interval.setSpecialValueText(tr("target.connect_interval_none"))  # shown for 0
        self.connect_interval.setAccessibleName(tr("target.connect_interval"))
        # A number, not a line of text: as wide as "60,0 s" and the arrows, not the whole form.
        self.connect_interval.setMaximumWidth(self.connect_interval.fontMetrics().horizontalAdvance("0" * 14))
        self.account = ValidatedLineEdit(validate_account, placeholder=tr("target.placeholder.account"),
                                         accessible=tr("target.account"))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName(tr("target.password"))
        self.store_password = QPushButton(tr("target.store_password"))
        self.forget_password = QPushButton(tr("target.forget_password"))
        self.password_note = QLabel()
        self.password_note.setWordWrap(True)
        self.password_note.setTextFormat(Qt.TextFormat.PlainText)  # quotes the account and keyring errors
        # Hosts outside the domain that may receive the login: confirmed here, kept in the keyring.
        self.trust_note = QLabel()
        self.trust_note.setWordWrap(True)
        self.trust_note.setTextFormat(Qt.TextFormat.PlainText)  # host names the user typed or DNS gave
        self.trust_button = QPushButton(tr("target.trust_host"))
        self.trust_button.setToolTip(tr("target.trust_host_tip"))
        self.untrust_button = QPushButton(tr("target.forget_trusted"))
        self._trusted: list[str] = []

        client = self._group(layout, "target.group_client")
        self._row(client, "target.name", self.name)
        self._row(client, "target.domain", self.domain, "target.domain_tip")
        servers = self._group(layout, "target.group_servers")
        self.server_ips_learned = self._learned_row(servers, "target.server_ips", self.server_ips,
                                                    "target.server_ips_tip")
        self.helo_learned = self._learned_row(servers, "target.helo", self.helo, "target.helo_tip")
        hosts = self._group(layout, "target.group_hosts")
        self._row(hosts, "target.mx_hosts", self.mx_hosts, "target.mx_hosts_tip")
        self._row(hosts, "target.client_hosts", self.client_hosts, "target.client_hosts_tip")
        discover_row = QHBoxLayout()
        discover_row.addWidget(self.discover_button)
        discover_row.addWidget(self.discover_note, 1)
        hosts.addRow("", discover_row)
        dns = self._group(layout, "target.group_dns")
        self.dkim_selectors_learned = self._learned_row(dns, "target.dkim_selectors", self.dkim_selectors,
                                                        "target.dkim_selectors_tip")
        self._row(dns, "target.dnsbl_zones", self.dnsbl_zones, "target.dnsbl_zones_tip")
        self._row(dns, "target.nameservers", self.nameservers, "target.nameservers_tip")
        anchor_row = QHBoxLayout()
        anchor_row.addWidget(self.trust_anchor, 1)
        anchor_row.addWidget(self.trust_anchor_button, 0, Qt.AlignmentFlag.AlignTop)
        self._row(dns, "target.trust_anchor", anchor_row, "target.trust_anchor_tip")
        self._labels[-1].setBuddy(self.trust_anchor.edit)
        self.trust_anchor.setToolTip(tr("target.trust_anchor_tip"))
        vrps_row = QHBoxLayout()
        vrps_row.addWidget(self.rpki_vrps, 1)
        vrps_row.addWidget(self.rpki_vrps_button, 0, Qt.AlignmentFlag.AlignTop)
        self._row(dns, "target.rpki_vrps", vrps_row, "target.rpki_vrps_tip")
        self._labels[-1].setBuddy(self.rpki_vrps.edit)
        self.rpki_vrps.setToolTip(tr("target.rpki_vrps_tip"))
        services = self._group(layout, "target.group_services")
        self.probe_services.setToolTip(tr("target.probe_services_tip"))
        self.relay_test.setToolTip(tr("target.relay_test_tip"))
        services.addRow("", self.probe_services)
        services.addRow("", self.relay_test)
        self.allow_internal.setToolTip(tr("target.allow_internal_tip"))
        services.addRow("", self.allow_internal)
        self._row(services, "target.ports", self.ports, "target.ports_tip")
        self._row(services, "target.connect_interval", self.connect_interval, "target.connect_interval_tip")
        self._row(services, "target.account", self.account, "target.account_tip")
        password_row = QHBoxLayout()
        password_row.addWidget(self.password, 1)
        password_row.addWidget(self.store_password)
        password_row.addWidget(self.forget_password)
        self.password.setToolTip(tr("target.password_tip"))
        self._row(services, "target.password", password_row)
        services.addRow("", self.password_note)
        trust_row = QHBoxLayout()
        trust_row.addWidget(self.trust_note, 1)
        trust_row.addWidget(self.trust_button)
        trust_row.addWidget(self.untrust_button)
        self._row(services, "target.trusted_hosts", trust_row)
        self._build_messages(layout)
        layout.addStretch(1)
        # One label column for all groups, so the fields line up from the top of the form to the end.
        width = max(label.sizeHint().width() for label in self._labels)
        for label in self._labels:
            label.setMinimumWidth(width)

        self._bind()
        self.on_replaced()

    # -- layout helpers -------------------------------------------------------------------------

    @staticmethod
    def _group(layout: QVBoxLayout, title_key: str) -> QFormLayout:
        box = QGroupBox(tr(title_key))
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        layout.addWidget(box)
        return form

    def _row(self, form: QFormLayout, label_key: str, field: QWidget | QHBoxLayout, tip_key: str = "") -> None:
        label = QLabel(tr(label_key))
        self._labels.append(label)
        if tip_key:
            label.setToolTip(tr(tip_key))
            if isinstance(field, QWidget):
                field.setToolTip(tr(tip_key))
        if isinstance(field, QWidget):
            label.setBuddy(getattr(field, "edit", field))
        form.addRow(label, field)

    # -- binding fields to the project ---------------------------------------------------------

    def _bind(self) -> None:
        def store(setter: Callable[[Project], None]) -> Callable[[], None]:
            def apply() -> None:
                if not self._loading:
                    self.ctx.session.edit(setter, self)
            return apply

        self.name.textEdited.connect(store(lambda p: setattr(p, "name", " ".join(self.name.text().split()))))
        self._validated(self.domain, lambda p: setattr(p, "domain", normalize_domain(self.domain.text())))
        self._validated(self.server_ips,
                        lambda p: setattr(p, "server_ips", [parse_ip(v) for v in self.server_ips.values()]))
        self._validated(self.helo, lambda p: setattr(p, "helo", self.helo.text() or None))
        self._validated(self.mx_hosts, lambda p: setattr(p, "mx_hosts", self._hosts(self.mx_hosts)))
        self._validated(self.client_hosts, lambda p: setattr(p, "client_hosts", self._hosts(self.client_hosts)))
        self._validated(self.dkim_selectors, lambda p: setattr(p, "dkim_selectors", self.dkim_selectors.values()))
        self._validated(self.dnsbl_zones, lambda p: setattr(p, "dnsbl_zones", self._hosts(self.dnsbl_zones)))
        self._validated(self.nameservers, lambda p: setattr(p, "nameservers", self.nameservers.values()))
        self._validated(self.trust_anchor, lambda p: setattr(p, "trust_anchor", self.trust_anchor.text() or None))
        self.trust_anchor_button.clicked.connect(self.choose_trust_anchor)
        self._validated(self.rpki_vrps, lambda p: setattr(p, "rpki_vrps", self.rpki_vrps.text() or None))
        self.rpki_vrps_button.clicked.connect(self.choose_rpki_vrps)
        self._validated(self.ports, lambda p: setattr(p, "ports", dict(
            parse_port_override(v) for v in self.ports.values())))
        self._validated(self.account, lambda p: setattr(p, "test_account", self.account.text() or None))
        # The keyring is asked over D-Bus (or the OS store): once typing pauses, not on every key.
        self._keyring_check = QTimer(self)
        self._keyring_check.setSingleShot(True)
        self._keyring_check.setInterval(600)
        self._keyring_check.timeout.connect(self._update_password_note)
        self.account.edited.connect(self._account_edited)
        self.domain.edited.connect(self._account_edited)  # passwords are kept per audited domain
        self.probe_services.toggled.connect(store(lambda p: setattr(p, "probe_services",
                                                                    self.probe_services.isChecked())))
        self.relay_test.toggled.connect(store(lambda p: setattr(p, "relay_test", self.relay_test.isChecked())))
        self.allow_internal.toggled.connect(store(lambda p: setattr(p, "allow_internal",
                                                                    self.allow_internal.isChecked())))
        self.connect_interval.valueChanged.connect(store(lambda p: setattr(p, "connect_interval",
                                                                      self.connect_interval.value())))
        self.store_password.clicked.connect(self._store_password)
        self.forget_password.clicked.connect(self._forget_password)
        self.trust_button.clicked.connect(self._trust_host)
        self.untrust_button.clicked.connect(self._forget_trusted)
        self.discover_button.clicked.connect(self.discover)
        for field in (self.server_ips, self.helo, self.dkim_selectors):
            field.edited.connect(self._update_learned)
        self.import_button.clicked.connect(self.choose_messages)
        self.paste_button.clicked.connect(self.paste_headers)
        self.show_button.clicked.connect(self.show_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.message_list.itemDoubleClicked.connect(self.show_selected)
        self.message_list.itemSelectionChanged.connect(self._update_message_buttons)

    def _validated(self, field: ValidatedLineEdit | ValidatedListEdit, setter: Callable[[Project], None]) -> None:
        def apply() -> None:
            self._report_validity()
            if not self._loading and field.valid:
                self.ctx.session.edit(setter, self)

        field.edited.connect(apply)

    @staticmethod
    def _hosts(field: ValidatedListEdit) -> list[str]:
        return list(dict.fromkeys(normalize_domain(v) for v in field.values()))

    def _fields(self) -> dict[str, ValidatedLineEdit | ValidatedListEdit]:
        return {"target.domain": self.domain, "target.server_ips": self.server_ips, "target.helo": self.helo,
                "target.mx_hosts": self.mx_hosts, "target.client_hosts": self.client_hosts,
                "target.dkim_selectors": self.dkim_selectors, "target.dnsbl_zones": self.dnsbl_zones,
                "target.nameservers": self.nameservers, "target.trust_anchor": self.trust_anchor,
                "target.rpki_vrps": self.rpki_vrps,
                "target.ports": self.ports, "target.account": self.account}

    def _report_validity(self) -> None:
        bad = [tr(key) for key, field in self._fields().items() if not field.valid]
        problem = tr("target.invalid_fields", fields=", ".join(bad)) if bad and self.ctx.session.project else ""
        self.ctx.set_input_problem(self.key, problem)

    @property
    def valid(self) -> bool:
        return all(field.valid for field in self._fields().values())

    def focus_first_invalid(self) -> bool:
        """The first invalid field in reading order gets the focus and is scrolled into view."""
        from PySide6.QtWidgets import QScrollArea

        for field in self._fields().values():
            if not field.valid:
                scroll = self.findChild(QScrollArea)
                if scroll is not None:
                    scroll.ensureWidgetVisible(field)
                field.setFocus(Qt.FocusReason.OtherFocusReason)
                return True
        return False

    # -- loading --------------------------------------------------------------------------------

    def on_replaced(self) -> None:
        project = self.ctx.session.project
        self.setEnabled(project is not None)
        self._loading = True
        try:
            if project is None:
                for field in self._fields().values():
                    if isinstance(field, ValidatedListEdit):
                        field.set_values([])
                    else:
                        field.set_text("")
                self.name.clear()
            else:
                self._load(project)
        finally:
            self._loading = False
        self.discover_note.clear()
        self.message_note.clear()
        self._queued = []
        self._show_messages()
        self._report_validity()
        self._update_password_note()

    def _load(self, p: Project) -> None:
        self.name.setText(p.name)
        self.domain.set_text(p.display_domain)
        self.server_ips.set_values(p.server_ips)
        self.helo.set_text(p.helo or "")
        self.mx_hosts.set_values([display_domain(h) for h in p.mx_hosts])
        self.client_hosts.set_values([display_domain(h) for h in p.client_hosts])
        self.dkim_selectors.set_values(p.dkim_selectors)
        self.dnsbl_zones.set_values(p.dnsbl_zones)
        self.nameservers.set_values(p.nameservers)
        self.trust_anchor.set_text(p.trust_anchor or "")
        self.rpki_vrps.set_text(p.rpki_vrps or "")
        self.ports.set_values([f"{service}={port}" for service, port in p.ports.items()])
        self.probe_services.setChecked(p.probe_services)
        self.relay_test.setChecked(p.relay_test)
        self.allow_internal.setChecked(p.allow_internal)
        self.connect_interval.setValue(p.connect_interval)
        self.account.set_text(p.test_account or "")
        self.password.clear()

    def on_changed(self, source: object) -> None:
        # Another page (or a run) changed the project; the form only shows target fields,
        # which only this page edits, so there is nothing to reload unless a project was restored.
        pass

    # -- files: DNSSEC trust anchor, RPKI VRPs -------------------------------------------------------

    def choose_trust_anchor(self) -> None:
        """Pick the anchor file; it is checked (and stored when valid) as if it had been typed."""
        self._choose_file(self.trust_anchor, "target.trust_anchor_title", "target.trust_anchor_filter")

    def choose_rpki_vrps(self) -> None:
        """Pick the VRP file; it is checked (and stored when valid) as if it had been typed."""
        self._choose_file(self.rpki_vrps, "target.rpki_vrps_title", "target.rpki_vrps_filter")

    def _choose_file(self, field: ValidatedLineEdit, title_key: str, filter_key: str) -> None:
        """A file dialog opened where the field's current file is; cancelling changes nothing."""
        current = field.text()
        path, _filter = QFileDialog.getOpenFileName(self, tr(title_key), str(Path(current).parent) if current else "",
                                                    tr(filter_key))
        if path:
            field.edit.setText(path)  # textChanged: validated, stored if valid

    # -- discovery ------------------------------------------------------------------------------

    def discover(self) -> None:
        """Fill MX and client hosts from DNS, in a task."""
        from auditapp.audit.prepare import PrepareError
        from auditapp.gui.workers import discover_job

        project = self.ctx.session.project
        if project is None or self._discover is not None or not self.domain.valid:
            return
        try:
            prepared = self.ctx.runner.prepare(services=False)  # DNS only: no keyring lookup
        except PrepareError as exc:
            self.discover_note.setText(tr("target.discover_failed", reason=prepare_message(exc)))
            return
        task = self.ctx.tasks.submit("discover", discover_job(prepared))
        # Bound methods: when a language switch rebuilds this page, Qt drops these connections
        # and the task's answer goes nowhere; the task itself belongs to the service.
        task.done.connect(self._discovered)
        task.failed.connect(self._discover_failed)
        task.ended.connect(self._discover_done)
        self._discover = task
        self._discover_for = (project, project.domain)
        self.discover_button.setEnabled(False)
        self.discover_note.setText(tr("target.discovering"))

    def _discover_failed(self, reason: str) -> None:
        lines = [line for line in reason.strip().splitlines() if line.strip()]
        self.discover_note.setText(tr("target.discover_failed", reason=lines[-1] if lines else reason))

    def _discover_done(self) -> None:
        self._discover = None
        self.discover_button.setEnabled(True)

    def _discovered(self, discovery: Any) -> None:
        from auditapp.collectors.service_facts import Role

        project, domain = self._discover_for
        if self.ctx.session.project is not project or project.domain != domain:
            return  # another project was opened, or the domain changed, while DNS was asked
        skipped: list[str] = []

        def usable(names: list[str]) -> list[str]:
            # DNS answers are not input the user checked: an MX "192.0.2.25." or a name with
            # markup must not reach the project (it could no longer be saved).
            out = []
            for name in names:
                try:
                    out.append(normalize_domain(name))
                except InputError:
                    skipped.append(name)
            return list(dict.fromkeys(out))

        mx = usable([h.name for h in discovery.hosts_with(Role.MX)])
        clients = usable([h.name for h in discovery.hosts if Role.SUBMISSION in h.roles or Role.MAILBOX in h.roles])
        if mx:
            self.mx_hosts.set_values([display_domain(h) for h in mx])
        if clients:
            self.client_hosts.set_values([display_domain(h) for h in clients])
        if mx or clients:
            self.ctx.session.edit(lambda p: (setattr(p, "mx_hosts", mx or p.mx_hosts),
                                             setattr(p, "client_hosts", clients or p.client_hosts)), self)
            lines = [f"{h.name} ({'; '.join(h.sources)})" for h in discovery.hosts if h.name not in skipped]
            note = tr("target.discovered", hosts=", ".join(lines))
        else:
            note = tr("target.discovered_none")
        if skipped:
            note += "\n" + tr("target.discover_skipped", names=", ".join(skipped))
        if discovery.failures:
            note += "\n" + tr("target.discover_incomplete", count=len(discovery.failures))
        self.discover_note.setText(note)
        self._report_validity()
