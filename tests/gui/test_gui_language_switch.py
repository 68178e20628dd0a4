"""Switching the GUI language rebuilds the pages; what the user is typing must survive it."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from auditapp.core.project import Project


def _switch(window, qtbot, lang: str) -> None:
    window.set_language(lang)
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qtbot.wait(10)


def test_unfinished_input_survives_a_language_switch(ctx, window, qtbot) -> None:
    ctx.session.new(Project(name="Beispiel GmbH", domain="beispiel.de", mx_hosts=["mx1.beispiel.de"]))
    window.go("target")
    target = window.pages["target"]
    target.mx_hosts.edit.setPlainText("mx1.beispiel.de\nmx2..beispiel.de")  # invalid: not stored
    target.helo.edit.setText("mail.beispiel.de ")  # invalid too
    target.password.setText("geheim")  # not stored until "Store in keyring"
    window.pages["postfix"].paste.setPlainText("myhostname = mail.beispiel.de\n")  # not applied yet
    target.mx_hosts.edit.setFocus()
    qtbot.wait(10)
    assert "Zeile 2" in target.mx_hosts.error.text() and not ctx.input_ok
    assert ctx.session.project.mx_hosts == ["mx1.beispiel.de"]

    _switch(window, qtbot, "en")
    target = window.pages["target"]
    assert target.mx_hosts.edit.toPlainText() == "mx1.beispiel.de\nmx2..beispiel.de"
    assert target.mx_hosts.error.text().startswith("Line 2:")  # the message in the new language
    assert target.helo.text() == "mail.beispiel.de " and not target.helo.valid
    assert target.password.text() == "geheim"
    assert window.pages["postfix"].paste.toPlainText() == "myhostname = mail.beispiel.de\n"
    assert window.pages["postfix"].apply_button.isEnabled()
    assert QApplication.focusWidget() is target.mx_hosts.edit
    assert window.current_key() == "target"
    assert ctx.session.project.mx_hosts == ["mx1.beispiel.de"] and not ctx.input_ok

    _switch(window, qtbot, "de")
    target = window.pages["target"]
    assert target.mx_hosts.edit.toPlainText() == "mx1.beispiel.de\nmx2..beispiel.de"
    assert "Zeile 2" in target.mx_hosts.error.text()


def test_stored_values_come_back_from_the_project_not_from_the_old_field(ctx, window, qtbot) -> None:
    ctx.session.new(Project(name="Beispiel GmbH", domain="beispiel.de"))
    window.go("target")
    target = window.pages["target"]
    target.domain.edit.setText("Bücher.example")  # valid: stored as the A-label, shown as typed
    assert ctx.session.project.domain == "xn--bcher-kva.example"
    modified = ctx.session.modified
    _switch(window, qtbot, "en")
    assert window.pages["target"].domain.text() == "bücher.example"  # the project's value, not re-stored
    assert ctx.session.project.domain == "xn--bcher-kva.example" and ctx.session.modified == modified
