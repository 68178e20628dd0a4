"""The target form: validation as you type, Run blocked by invalid input, keyring-only passwords."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from auditapp.core.project import Project
from auditapp.core.project_io import load_project


@pytest.fixture
def target_page(window, ctx):
    ctx.session.new(Project(name="Bäckerei", domain="example.com"))
    window.go("target")
    return window.pages["target"]


def test_invalid_input_has_a_message_beside_the_field_and_blocks_run(target_page, window, ctx, qtbot) -> None:
    page = target_page
    run_page = window.pages["run"]
    page.server_ips.edit.setPlainText("192.0.2.10\n192.0.2.20:25")
    assert not page.server_ips.valid
    assert page.server_ips.error.isVisibleTo(page) and "Zeile 2" in page.server_ips.error.text()
    assert "Port angehängt" in page.server_ips.error.text()
    assert "IP-Adressen" in ctx.input_problems["target"]
    assert ctx.session.project.server_ips == []  # the invalid list was not stored
    # The sidebar marks the page that holds the invalid input, with the reason as its tooltip.
    item = next(window.nav.item(r) for r in range(window.nav.count())
                if window.nav.item(r).data(Qt.ItemDataRole.UserRole) == "target")
    assert "IP-Adressen" in item.toolTip()
    # Ctrl+R stays available and, instead of running, shows the first invalid field and why.
    window.go("findings")
    assert window.act_run.isEnabled() and run_page.start_button.isEnabled()
    window.act_run.trigger()
    assert window.current_key() == "target" and not ctx.runner.busy
    qtbot.waitUntil(lambda: page.server_ips.edit.hasFocus() or page.server_ips.hasFocus()
                    or page.server_ips.isAncestorOf(QApplication.focusWidget()), timeout=2000)
    assert "kann nicht starten" in window.statusBar().currentMessage()
    assert "IP-Adressen" in window.statusBar().currentMessage()
    page.server_ips.edit.setPlainText("192.0.2.10\n192.0.2.20")
    assert page.server_ips.valid and ctx.input_ok and item.toolTip() == ""
    assert ctx.session.project.server_ips == ["192.0.2.10", "192.0.2.20"]


def test_domain_messages_and_idn(target_page, ctx) -> None:
    page = target_page
    page.domain.edit.setText("a" * 64 + ".example")
    assert "64 Zeichen" in page.domain.error.text()
    page.domain.edit.setText("https://example.com/")
    assert "URL" in page.domain.error.text()
    page.domain.edit.setText("")
    assert page.domain.error.text() == "Pflichtfeld."
    assert ctx.session.project.domain == "example.com"
    page.domain.edit.setText("bücher.example")
    assert page.domain.valid and ctx.session.project.domain == "xn--bcher-kva.example"
    page.mx_hosts.edit.setPlainText("mx.bücher.example")
    assert ctx.session.project.mx_hosts == ["mx.xn--bcher-kva.example"]
    page.ports.edit.setPlainText("smtp=2525\nfoo=1")
    assert not page.ports.valid
    page.ports.edit.setPlainText("smtp=2525")
    assert ctx.session.project.ports == {"smtp": 2525}
    assert ctx.session.modified


def test_english_messages(qapp, gui_home, window, ctx) -> None:
    window.set_language("en")
    ctx.session.new(Project(name="X", domain="example.com"))
    page = window.pages["target"]
    page.helo.edit.setText("mail example")
    assert page.helo.error.text() == "Must not contain spaces."
    window.set_language("de")


def test_password_goes_to_the_keyring_never_to_the_project_file(target_page, ctx, qtbot, tmp_path: Path) -> None:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        if os.environ.get("CI"):
            pytest.fail("CI runs the tests through tests/lab/with-keyring.sh; no D-Bus session here")
        pytest.skip("no D-Bus session (run through tests/lab/with-keyring.sh)")
    from auditapp.credentials import delete_password, get_password

    page = target_page
    user, secret = "gui-test@example.com", "Geheim-4711-ÄÖÜ"
    page.account.edit.setText(user)
    assert page.password_note.text() == ""  # the keyring is asked once typing pauses, not per key
    qtbot.waitUntil(lambda: "Kein Passwort" in page.password_note.text(), timeout=5000)
    page.password.setText(secret)
    page.store_password.click()
    try:
        assert page.password.text() == ""  # the widget does not keep the secret
        assert get_password("example.com", user, prompt=False) == secret
        qtbot.waitUntil(lambda: "liegt im Schlüsselbund" in page.password_note.text(), timeout=10000)
        path = tmp_path / "p.auditproj"
        ctx.session.save(path)
        raw = path.read_text("utf-8")
        assert secret not in raw and user in raw
        assert load_project(path).test_account == user
        recovery_written = ctx.session.autosave() or True
        assert recovery_written
        for file in [*ctx.home.rglob("*")]:
            if file.is_file():
                assert secret.encode() not in file.read_bytes(), file
        assert "password" not in json.loads(raw)["project"]
        page.forget_password.click()
        qtbot.waitUntil(lambda: "Kein Passwort" in page.password_note.text(), timeout=10000)
    finally:
        delete_password("example.com", user)


@pytest.mark.lab
def test_discover_fills_hosts_from_real_dns(bind_lab, window, ctx, qtbot) -> None:
    ctx.session.new(Project(name="Lab", domain="svc.test", nameservers=[f"127.0.0.1:{bind_lab.port}"]))
    page = window.pages["target"]
    page.discover_button.click()
    qtbot.waitUntil(lambda: page._discover is None and page.discover_button.isEnabled(), timeout=30000)
    assert "mx.svc.test" in ctx.session.project.mx_hosts
    assert ctx.session.project.client_hosts  # SRV records / conventional names of svc.test
    assert "mx.svc.test" in page.mx_hosts.values()
    assert "MX 10" in page.discover_note.text()


def test_a_host_outside_the_domain_is_allowed_only_after_confirmation(target_page, ctx, qtbot,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The dialog suggests the client host outside the domain; Cancel stores nothing, Yes stores it locally."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        if os.environ.get("CI"):
            pytest.fail("CI runs the tests through tests/lab/with-keyring.sh; no D-Bus session here")
        pytest.skip("no D-Bus session (run through tests/lab/with-keyring.sh)")
    from PySide6.QtWidgets import QInputDialog, QMessageBox

    from auditapp.credentials import forget_trusted_hosts, trusted_hosts

    page = target_page
    user = "trust-test@example.com"
    page.client_hosts.edit.setPlainText("smtp.office365.com\nmail.example.com")
    page.account.edit.setText(user)
    qtbot.waitUntil(lambda: "nur an Server unter example.com" in page.trust_note.text(), timeout=5000)
    assert page.trust_button.isEnabled() and not page.untrust_button.isEnabled()
    offered: list[str] = []

    def ask(parent, title, label, echo, text):
        offered.append(text)
        return text, True

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(ask))
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes]
    warned: list[str] = []

    def confirm(parent, title, text, buttons, default):
        warned.append(text)
        assert default == QMessageBox.StandardButton.Cancel  # Enter does not send a password anywhere
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(confirm))
    try:
        page.trust_button.click()
        assert offered == ["smtp.office365.com"]  # the project's host is only a suggestion
        assert "smtp.office365.com" in warned[0] and user in warned[0]
        assert trusted_hosts("example.com", user) == ()  # cancelled: nothing stored
        page.trust_button.click()
        assert trusted_hosts("example.com", user) == ("smtp.office365.com",)
        qtbot.waitUntil(lambda: "smtp.office365.com" in page.trust_note.text(), timeout=5000)
        assert page.untrust_button.isEnabled()
        # Nothing of it goes into the project file: a file cannot confirm a host.
        saved = ctx.session.project.to_json()
        assert "trusted_hosts" not in saved and saved["client_hosts"] == ["smtp.office365.com", "mail.example.com"]
        page.untrust_button.click()
        qtbot.waitUntil(lambda: "nur an Server unter" in page.trust_note.text(), timeout=5000)
        assert trusted_hosts("example.com", user) == ()
    finally:
        forget_trusted_hosts("example.com", user)


def test_internal_audit_is_a_project_setting(target_page, ctx) -> None:
    page = target_page
    assert not page.allow_internal.isChecked() and not ctx.session.project.allow_internal
    page.allow_internal.setChecked(True)
    assert ctx.session.project.allow_internal and ctx.session.project.to_target().allow_internal
    page.allow_internal.setChecked(False)
    assert not ctx.session.project.allow_internal


def test_pause_between_connections_is_a_project_setting(target_page, window, ctx) -> None:
    """The spin box edits the project, says "keine" for 0, and a newly opened project shows its value."""
    page = target_page
    box = page.connect_interval
    assert box.value() == 0.0 and box.text() == "keine"  # the special value text, not "0,0 s"
    box.setValue(2.5)
    assert ctx.session.project.connect_interval == 2.5 and ctx.session.project.to_target().connect_interval == 2.5
    assert box.maximum() == 60.0  # the CLI's and the project file's upper bound
    box.setValue(0.0)
    assert "connect_interval" not in ctx.session.project.to_json()
    ctx.session.new(Project(name="Gedrosselt", domain="example.org", connect_interval=1.5))
    window.go("target")
    assert window.pages["target"].connect_interval.value() == 1.5
