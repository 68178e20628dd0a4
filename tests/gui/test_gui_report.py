"""The report page: real renders of the demo run in the preview and to files, read back with pypdf.

No render is mocked: the preview and the export go through the report task, reportlab and QtPdf,
so a broken theme, a lost password or a preview that disagrees with the export shows up here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtWidgets import QFileDialog

from auditapp.core.project import Project

pytestmark = pytest.mark.gui

RENDER_TIMEOUT_MS = 60000
PASSWORD = "Pdf-Geheim-4711!"


def pdf_text(path: Path, password: str | None = None) -> str:
    reader = PdfReader(str(path))
    if password is not None:
        assert reader.is_encrypted
        assert reader.decrypt(password)
    return "\n".join(page.extract_text() or "" for page in reader.pages)


@pytest.fixture(autouse=True)
def _no_render_left_running(ctx) -> Iterator[None]:
    """Renders outlive their page by design; a test must not end with one still writing files."""
    yield
    assert ctx.tasks.shutdown(RENDER_TIMEOUT_MS / 1000)


@pytest.fixture
def page(ctx, qtbot, demo_run_project: Project):
    from auditapp.gui.pages.report_page import ReportPage

    ctx.session.new(demo_run_project)
    widget = ReportPage(ctx)
    qtbot.addWidget(widget)
    return widget


def wait_preview(qtbot, page) -> None:
    qtbot.waitUntil(lambda: not page.preview_busy, timeout=RENDER_TIMEOUT_MS)


def export_to(qtbot, page, monkeypatch: pytest.MonkeyPatch, target: Path) -> dict:
    asked: dict = {}

    def fake_save(parent, caption, start, filter_text, *args, **kwargs):
        asked.update(caption=caption, start=start, filter=filter_text)
        return str(target), filter_text

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_save))
    page.export()
    qtbot.waitUntil(lambda: not page.exporting, timeout=RENDER_TIMEOUT_MS)
    return asked


def test_preview_shows_the_real_pdf_with_page_navigation(qtbot, page) -> None:
    page.refresh_preview()
    assert page.preview.is_busy
    wait_preview(qtbot, page)
    pages = page.preview.page_count
    assert pages > 1
    assert page.preview.page_text() == f"1 / {pages}"
    assert not page.preview.prev_button.isEnabled()
    page.preview.next_page()
    assert page.preview.page_text() == f"2 / {pages}"
    page.preview.zoom_by(1.25)
    assert page.preview.zoom_label.text().endswith("%")
    page.preview.fit_page()
    assert page.preview.fit_page_button.isChecked()
    assert not page.preview.is_busy


def test_a_newer_preview_request_supersedes_an_older_one(qtbot, page) -> None:
    page.refresh_preview()
    page.lang_combo.setCurrentIndex(page.lang_combo.findData("en"))
    page.refresh_preview()
    wait_preview(qtbot, page)
    shown = page._preview_file
    assert shown is not None and shown.name.startswith(f"preview-{page._seq}-")
    assert "Management summary" in pdf_text(shown)


def test_export_with_password_and_draft(qtbot, page, ctx, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ctx.settings.last_dir = str(tmp_path)
    page.password.setText(PASSWORD)
    page.draft_check.setChecked(True)
    target = tmp_path / "kunde.pdf"
    asked = export_to(qtbot, page, monkeypatch, target)

    run = ctx.session.project.runs[-1]
    assert Path(asked["start"]) == tmp_path / f"beispiel-gmbh.example-audit-{run.started[:10]}-de.pdf"
    assert target.is_file()
    text = pdf_text(target, PASSWORD)
    assert "Management" in text
    assert "ENTWURF" in text
    with pytest.raises(Exception):  # noqa: B017 - pypdf's error type for a missing key varies by version
        PdfReader(str(target)).pages[0].extract_text()
    assert page.open_button.isVisible() or not page.isVisible()
    assert str(target) in page.export_status.text()

    # The password went nowhere but into the PDF.
    project_file = ctx.session.save(tmp_path / "p.auditproj")
    ctx.settings.sync()
    assert PASSWORD not in project_file.read_text(encoding="utf-8")
    assert PASSWORD not in (ctx.home / "settings.ini").read_text(encoding="utf-8")
    assert PASSWORD not in caplog.text
    for log_file in ctx.home.rglob("*.log"):
        assert PASSWORD not in log_file.read_text(encoding="utf-8", errors="replace")


def test_report_language_is_independent_of_the_gui_language(qtbot, page, monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    from auditapp.gui import i18n

    assert i18n.language() == "de"
    page.lang_combo.setCurrentIndex(page.lang_combo.findData("en"))
    target = tmp_path / "en.pdf"
    export_to(qtbot, page, monkeypatch, target)
    text = pdf_text(target)
    assert "Management summary" in text
    assert "DRAFT" not in text
    assert page.export_button.text() == "PDF exportieren …"


def test_the_report_language_follows_the_interface_unless_set(ctx, qtbot, demo_run_project: Project) -> None:
    from auditapp.gui import i18n
    from auditapp.gui.pages.report_page import ReportPage

    assert ctx.settings.report_language == ""  # nothing set: like the interface
    ctx.session.new(demo_run_project)
    for lang in ("de", "en"):
        i18n.set_language(lang)
        built = ReportPage(ctx)
        qtbot.addWidget(built)
        assert built.lang_combo.currentData() == lang
    ctx.settings.report_language = "de"  # set in the preferences: wins over the interface
    built = ReportPage(ctx)
    qtbot.addWidget(built)
    assert built.lang_combo.currentData() == "de"


def test_store_password_in_the_real_keyring(qtbot, page, ctx, monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        if os.environ.get("CI"):
            pytest.fail("CI runs the tests through tests/lab/with-keyring.sh; no D-Bus session here")
        pytest.skip("no D-Bus session (run through tests/lab/with-keyring.sh)")
    import keyring

    from auditapp.credentials import REPORT_SERVICE, SERVICE, delete_report_password, get_report_password
    from auditapp.gui.pages.report_page import keyring_account

    account = keyring_account(ctx.session.project)
    assert account == "Beispiel GmbH"
    assert not page.store_check.isEnabled()
    page.password.setText(PASSWORD)
    page.store_check.setChecked(True)
    try:
        export_to(qtbot, page, monkeypatch, tmp_path / "k.pdf")
        assert keyring.get_password(REPORT_SERVICE, account) == PASSWORD
        # Every file the application wrote (project, recovery copy, settings, logs): never the password.
        ctx.session.save(tmp_path / "p.auditproj")
        ctx.session.autosave()
        ctx.settings.sync()
        for file in [*ctx.home.rglob("*"), *tmp_path.rglob("*")]:
            if file.is_file():  # the encrypted PDF too: R6 keeps a salted hash, never the password
                assert PASSWORD.encode() not in file.read_bytes(), file
        assert get_report_password(account, prompt=False) == PASSWORD  # what --password-from-keyring reads
        # Not where test-account passwords live: no account name can reach it (issue 12).
        assert keyring.get_password(SERVICE, account) is None
        assert keyring.get_password(SERVICE, "report:" + account) is None
        assert account in page.export_status.text()
        assert "Management" in pdf_text(tmp_path / "k.pdf", PASSWORD)
    finally:
        delete_report_password(account)


def test_broken_branding_shows_the_theme_error(qtbot, ctx, demo_run_project: Project,
                                               monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from auditapp.gui.pages.report_page import ReportPage

    demo_run_project.branding = {"colours": {"primary": "nope"}}
    ctx.session.new(demo_run_project)
    page = ReportPage(ctx)
    qtbot.addWidget(page)
    assert page.branding_combo.currentData() == "project"
    page.refresh_preview()
    wait_preview(qtbot, page)
    assert page.preview.stack.currentWidget() is page.preview.message
    message = page.preview.message.text()
    assert "colours.primary" in message and "nope" in message
    assert page.preview.page_text() == "–"

    export_to(qtbot, page, monkeypatch, tmp_path / "broken.pdf")
    assert "colours.primary" in page.export_status.text()
    assert not (tmp_path / "broken.pdf").exists()

    # Choosing no branding renders the plain theme again.
    page.branding_combo.setCurrentIndex(page.branding_combo.findData("none"))
    page.refresh_preview()
    wait_preview(qtbot, page)
    assert page.preview.page_count > 1


def test_branding_profile_from_the_settings_is_offered_and_renders(qtbot, page, ctx) -> None:
    ctx.settings.branding_profiles = {"Kunde": {"colours": {"accent": "#AA0000"},
                                                "company": {"name": "Prüfbüro Kunde"}}}
    page.shown()
    index = page.branding_combo.findData("profile:Kunde")
    assert index >= 0
    page.branding_combo.setCurrentIndex(index)
    page.refresh_preview()
    wait_preview(qtbot, page)
    assert page._preview_file is not None
    assert "Prüfbüro Kunde" in pdf_text(page._preview_file)
    assert ctx.session.project.branding == {}  # the profile was used, not written into the project


def test_a_project_without_runs_explains_itself(qtbot, ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditapp.gui.pages.report_page import ReportPage

    ctx.session.new(Project(name="Neu AG", domain="neu.example"))
    page = ReportPage(ctx)
    qtbot.addWidget(page)
    page.show()
    assert page.no_run.isVisible()
    assert "kein Audit" in page.no_run.text()
    assert not page.export_group.isEnabled()

    def no_dialog(*args, **kwargs):
        raise AssertionError("no file dialog without a run")

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(no_dialog))
    messages: list[str] = []
    ctx.status.connect(messages.append)
    page.export()
    page.refresh_preview()
    assert messages and "kein Audit" in messages[0]
    assert "kein Audit" in page.preview.message.text()
    with qtbot.waitSignal(ctx.navigate, timeout=1000) as signal:
        page.goto_run.click()
    assert signal.args == ["run"]


def test_window_preview_and_ctrl_e_export(qtbot, window, ctx, demo_run_project: Project,
                                          monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ctx.session.new(demo_run_project)
    try:
        window.go("report")
        page = window.pages["report"]
        qtbot.waitUntil(lambda: page.preview.page_count > 1, timeout=RENDER_TIMEOUT_MS)
        target = tmp_path / "ctrl-e.pdf"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
        window.act_export.trigger()
        qtbot.waitUntil(lambda: not page.exporting and target.exists(), timeout=RENDER_TIMEOUT_MS)
        assert "Management" in pdf_text(target)
        assert page.open_button.isVisible()
    finally:
        ctx.session.close()  # nothing unsaved: closing the window must not ask


def test_report_page_screenshot_in_german(qtbot, page) -> None:
    """Not an assertion on pixels: a picture of the page for reviewing the layout by eye."""
    page.resize(1280, 800)
    page.show()
    page.refresh_preview()
    wait_preview(qtbot, page)
    qtbot.wait(50)
    shots = Path(os.environ.get("AUDITAPP_SHOTS", "")) if os.environ.get("AUDITAPP_SHOTS") else None
    image = page.grab()
    assert not image.isNull()
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        image.save(str(shots / "report-de.png"))


def test_branding_applied_to_the_project_is_selected(qtbot, page, ctx) -> None:
    assert page.branding_combo.currentData() == "none"
    ctx.session.edit(lambda p: setattr(p, "branding", {"colours": {"accent": "#AA0000"}}), object())
    assert page.branding_combo.currentData() == "project"
    page.branding_combo.setCurrentIndex(page.branding_combo.findData("none"))
    ctx.session.edit(lambda p: setattr(p, "branding", {"colours": {"accent": "#BB0000"}}), object())
    assert page.branding_combo.currentData() == "none"  # the user's explicit choice is kept
