"""The whole desktop flow against the real lab: BIND 9, Postfix, Dovecot and a real keyring.

A consultant creates a project, types (and corrects) the target, stores the test account's
password in the keyring, runs the audit, watches results arrive, accepts a risk, saves,
exports the PDF, closes, reopens and finds everything again.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gui_helpers import run_modal
from pypdf import PdfReader
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QFileDialog

from auditapp.core.model import Status
from auditapp.core.project_io import load_project


def _require_keyring() -> None:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        if os.environ.get("CI"):
            pytest.fail("CI runs the tests through tests/lab/with-keyring.sh; no D-Bus session here")
        pytest.skip("no D-Bus session (run through tests/lab/with-keyring.sh)")


@pytest.mark.lab
def test_create_run_review_export_reopen(bind_lab, mail_lab, window, ctx, qtbot, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _require_keyring()
    from auditapp.credentials import delete_password

    ctx.settings.ca_file = str(mail_lab.ca_file)
    ctx.settings.timeout = 3.0

    # 1. New project: an invalid domain is refused beside the field, OK only when it is valid.
    def fill_new(dialog: QDialog) -> None:
        qtbot.keyClicks(dialog.name, "Labor GmbH")
        qtbot.keyClicks(dialog.domain.edit, "svc.test:25")
        ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
        assert not ok.isEnabled() and "Adresse oder URL" in dialog.domain.error.text()
        dialog.domain.edit.clear()
        qtbot.keyClicks(dialog.domain.edit, "svc.test")
        assert ok.isEnabled()
        ok.click()

    run_modal(qtbot, window.new_project, fill_new)
    assert ctx.session.project.domain == "svc.test" and window.current_key() == "target"

    # 2. The target: a mistake first (the port glued to the address), then the right values.
    target = window.pages["target"]
    qtbot.keyClicks(target.server_ips.edit, "127.0.0.2:2525")
    assert "Port angehängt" in target.server_ips.error.text() and not ctx.input_ok
    target.server_ips.edit.setPlainText("127.0.0.2")
    assert ctx.input_ok and window.act_run.isEnabled()
    target.nameservers.edit.setPlainText(f"127.0.0.1:{bind_lab.port}")
    ports = {**mail_lab.ports, "https": mail_lab.mtasts_port}
    target.ports.edit.setPlainText("\n".join(f"{k}={v}" for k, v in ports.items()))
    target.dnsbl_zones.edit.setPlainText("")
    qtbot.keyClicks(target.account.edit, mail_lab.account)
    target.password.setText(mail_lab.password)
    target.store_password.click()
    try:
        qtbot.waitUntil(lambda: "liegt im Schlüsselbund" in target.password_note.text(), timeout=10000)
        assert ctx.input_ok and ctx.session.project.ports == ports

        # 3. Run (Ctrl+R) and watch the results arrive as they come.
        arrived: list[object] = []
        ctx.runner.results.connect(arrived.extend)
        assert window.act_run.shortcut() == QKeySequence("Ctrl+R")
        with qtbot.waitSignal(ctx.runner.finished, timeout=120000) as done:
            window.act_run.trigger()
        qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=30000)
        run = done.args[0]
        assert not run.cancelled and len(arrived) == len(run.findings) > 50
        # The checks that need the test account's login ran with the password from the keyring.
        logged_in = [f for f in run.findings if f.rule == "SUBMISSION-SENDER-SPOOFING"]
        assert logged_in and all(f.status in (Status.PASS, Status.FAIL) for f in logged_in), logged_in
        assert window.pages["run"].model.rowCount() == len(run.findings)

        # 4. Review: accept the first open finding with a justification.
        window.go("findings")
        findings = window.pages["findings"]
        opened = next(r for r in findings.model.rows if r.is_open)
        assert findings.select_finding(*opened.key)

        def fill_accept(dialog: QDialog) -> None:
            # QTest can only type ASCII; umlauts are inserted as a paste would.
            dialog.justification.edit.insertPlainText("Mit der Geschäftsführung besprochen")
            dialog.author.setText("K. Prüfer")
            dialog.ok.click()

        run_modal(qtbot, findings.accept_button.click, fill_accept)
        assert [r.rule for r in ctx.session.project.accepted_risks] == [opened.key[0]]

        # 5. Save As, then export the PDF from the Report page.
        project_file = tmp_path / "labor.auditproj"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(project_file), "")))
        assert window.save_as()
        raw = project_file.read_text("utf-8")
        assert mail_lab.password not in raw and mail_lab.account in raw
        pdf = tmp_path / "labor.pdf"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(pdf), "")))
        window.export_pdf()
        report = window.pages["report"]
        qtbot.waitUntil(lambda: pdf.is_file() and not report.exporting, timeout=120000)
        text = "\n".join(page.extract_text() or "" for page in PdfReader(str(pdf)).pages)
        assert "Labor GmbH" in text and "Mit der Geschäftsführung besprochen" in text
        assert mail_lab.password not in text
        # Every file the application wrote (project, recovery copy, settings, logs, the PDF).
        ctx.session.autosave()
        ctx.settings.sync()
        for file in [*ctx.home.rglob("*"), *tmp_path.rglob("*")]:
            if file.is_file():
                assert mail_lab.password.encode() not in file.read_bytes(), file

        # 6. Close, reopen, and everything is still there.
        window.close_project()
        assert ctx.session.project is None
        assert window.open_path(project_file)
        project = load_project(project_file)
        assert project.test_account == mail_lab.account and len(project.runs) == 1
        assert window.pages["target"].nameservers.values() == [f"127.0.0.1:{bind_lab.port}"]
        window.go("findings")
        findings = window.pages["findings"]
        assert findings.select_finding(*opened.key)
        row = findings.model.rows[findings.model.row_of(opened.key)]
        assert row.status == "accepted"
        assert "Mit der Geschäftsführung besprochen" in findings.review_label.text()
    finally:
        delete_password("svc.test", mail_lab.account)
