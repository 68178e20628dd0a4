"""The settings dialog: values survive OK and a reopen, invalid input blocks OK, branding profiles work.

Profiles are checked with the report's own theme validation, so these tests use real logo
files and real colours rather than stubs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QFileDialog

from auditapp.core.project import Project
from auditapp.paths import asset_dir

pytestmark = pytest.mark.gui

LOGO = asset_dir("reports") / "logos" / "auditapp.png"


@pytest.fixture
def dialog(ctx, qtbot):
    from auditapp.gui.dialogs.settings_dialog import SettingsDialog

    dlg = SettingsDialog(ctx)
    qtbot.addWidget(dlg)
    return dlg


def reopen(ctx, qtbot):
    from auditapp.gui.dialogs.settings_dialog import SettingsDialog

    dlg = SettingsDialog(ctx)
    qtbot.addWidget(dlg)
    return dlg


def test_values_survive_ok_and_reopen(ctx, qtbot, dialog) -> None:
    dialog.report_lang.setCurrentIndex(dialog.report_lang.findData("en"))
    dialog.theme.setCurrentIndex(dialog.theme.findData("example-consultancy"))
    dialog.reviewer.setText("Anna Prüferin")
    dialog.timeout.setValue(7.5)
    dialog.resolvers.edit.setPlainText("192.0.2.53\n[2001:db8::53]:5353")
    dialog.zones.edit.setPlainText("zen.spamhaus.org")
    assert dialog.ok_button.isEnabled()
    dialog.ok_button.click()

    settings = ctx.settings
    assert settings.report_language == "en"
    assert settings.report_theme == "example-consultancy"
    assert settings.reviewer == "Anna Prüferin"
    assert settings.timeout == 7.5
    assert settings.nameservers == ["192.0.2.53", "[2001:db8::53]:5353"]
    assert settings.dnsbl_zones == ["zen.spamhaus.org"]

    again = reopen(ctx, qtbot)
    assert again.report_lang.currentData() == "en"
    assert again.theme.currentData() == "example-consultancy"
    assert again.reviewer.text() == "Anna Prüferin"
    assert again.timeout.value() == 7.5
    assert again.resolvers.values() == ["192.0.2.53", "[2001:db8::53]:5353"]
    assert again.zones.values() == ["zen.spamhaus.org"]
    again.zones_reset.click()
    assert len(again.zones.values()) > 1


def test_cancel_changes_nothing(ctx, dialog) -> None:
    dialog.reviewer.setText("Niemand")
    dialog.add_profile("Wegwerf")
    dialog.reject()
    assert ctx.settings.reviewer == ""
    assert ctx.settings.branding_profiles == {}


def test_invalid_resolver_disables_ok_with_a_message(dialog) -> None:
    dialog.resolvers.edit.setPlainText("192.0.2.53\nresolver.example")
    assert not dialog.ok_button.isEnabled()
    assert not dialog.resolvers.error.isHidden()
    assert "Zeile 2" in dialog.resolvers.error.text()
    assert "Audit" in dialog.problem.text()
    dialog.resolvers.edit.setPlainText("192.0.2.53:99999")
    assert not dialog.ok_button.isEnabled()
    assert "IP:Port" in dialog.resolvers.error.text()
    dialog.resolvers.edit.setPlainText("192.0.2.53:5353")
    assert dialog.ok_button.isEnabled()
    assert dialog.problem.text() == ""


def test_gui_language_switch_goes_through_the_window(ctx, dialog) -> None:
    switched: list[str] = []

    class FakeWindow:
        def set_language(self, lang: str) -> None:
            switched.append(lang)

    ctx.window = FakeWindow()
    dialog.gui_lang.setCurrentIndex(dialog.gui_lang.findData("en"))
    dialog.ok_button.click()
    assert switched == ["en"]
    assert ctx.settings.gui_language == "en"


def test_branding_profile_saved_validated_and_applied(ctx, qtbot, dialog, demo_run_project: Project,
                                                     monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ctx.session.new(demo_run_project)
    dialog.tabs.setCurrentIndex(2)
    assert dialog.add_profile("Kunde AG") == ""
    assert dialog.add_profile("Kunde AG") != ""  # names are unique
    assert dialog.current_profile() == "Kunde AG"
    editor = dialog.editor

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(LOGO), "")))
    editor.logo_button.click()
    assert editor.logo.text() == str(LOGO.resolve())
    assert editor.logo_preview.pixmap() is not None and not editor.logo_preview.pixmap().isNull()
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *a, **k: QColor("#aa0000")))
    editor.primary.swatch.click()
    assert editor.primary.text() == "#AA0000"
    editor.company.setText("Kunde AG")
    editor.address.setPlainText("Hauptstraße 1\n12345 Musterstadt")
    editor.footer_de.setText("Vertraulich – Kunde AG")
    editor.footer_en.setText("Confidential – Kunde AG")
    assert dialog.ok_button.isEnabled()
    assert editor.error.text() == ""

    # A colour the renderer refuses: message beside the profile, OK and Apply disabled.
    editor.accent.edit.setText("nope")
    assert "colours.accent" in editor.error.text() and "nope" in editor.error.text()
    assert not dialog.ok_button.isEnabled()
    assert not dialog.apply_button.isEnabled()
    assert "Kunde AG" in dialog.problem.text()
    editor.accent.edit.setText("")
    assert dialog.ok_button.isEnabled()

    dialog.apply_button.click()
    branding = ctx.session.project.branding
    assert branding["colours"] == {"primary": "#AA0000"}
    assert branding["company"] == {"name": "Kunde AG", "address": ["Hauptstraße 1", "12345 Musterstadt"]}
    assert branding["logo"] == {"path": str(LOGO.resolve())}
    assert ctx.session.modified
    assert "Kunde AG" in dialog.apply_status.text()

    dialog.ok_button.click()
    stored = ctx.settings.branding_profiles
    assert stored == {"Kunde AG": branding}

    again = reopen(ctx, qtbot)
    assert again.current_profile() == "Kunde AG"
    assert again.editor.primary.text() == "#AA0000"
    assert again.editor.footer_en.text() == "Confidential – Kunde AG"
    again.remove_current_profile()
    assert again.profile_list.count() == 0
    assert not again.empty_hint.isHidden()
    again.ok_button.click()
    assert ctx.settings.branding_profiles == {}


def test_a_stored_broken_profile_is_named_and_blocks_ok(ctx, qtbot) -> None:
    ctx.settings.branding_profiles = {"Alt": {"colours": {"primary": "nope"}}, "Gut": {}}
    dialog = reopen(ctx, qtbot)
    assert not dialog.ok_button.isEnabled()
    assert "Alt" in dialog.problem.text()
    assert dialog.current_profile() == "Alt"
    assert "colours.primary" in dialog.editor.error.text()
    dialog.editor.primary.edit.setText("#123456")
    assert dialog.ok_button.isEnabled()


def test_settings_dialog_screenshots(ctx, qtbot, dialog) -> None:
    """Pictures of each tab for reviewing the layout by eye (saved when AUDITAPP_SHOTS is set)."""
    dialog.add_profile("Muster & Partner", {
        "logo": {"path": str(LOGO.resolve())}, "colours": {"primary": "#0F5257", "accent": "#C9A227"},
        "company": {"name": "Muster & Partner GmbH", "address": ["Beispielstraße 12", "10115 Berlin"]},
        "footer": {"de": "Vertrauliche Prüfung", "en": "Confidential audit"}})
    dialog.resize(820, 600)
    dialog.show()
    shots = os.environ.get("AUDITAPP_SHOTS")
    for index, name in enumerate(("general", "audit", "branding")):
        dialog.tabs.setCurrentIndex(index)
        qtbot.wait(20)
        image = dialog.grab()
        assert not image.isNull()
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            image.save(str(Path(shots) / f"settings-de-{name}.png"))


def test_logs_and_settings_are_private(tmp_path) -> None:
    """They name clients, domains and hosts: 0600 files in 0700 folders (issue 12), also after a rotation."""
    import logging
    import stat

    from PySide6.QtCore import QSettings

    from auditapp.gui.app import setup_logging
    from auditapp.gui.settings import Settings

    log_file = setup_logging(tmp_path / "home")
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "baseFilename", "") == str(log_file))
    try:
        logging.getLogger("auditapp.test").warning("audit of kunde.example")
        handler.doRollover()
        logging.getLogger("auditapp.test").warning("after the rotation")
        for path in (log_file, log_file.with_name(log_file.name + ".1")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(log_file.parent.stat().st_mode) == 0o700
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    ini = tmp_path / "conf" / "settings.ini"
    settings = Settings(QSettings(str(ini), QSettings.Format.IniFormat))
    settings.reviewer = "Erika Muster"
    settings.sync()
    assert stat.S_IMODE(ini.stat().st_mode) == 0o600 and stat.S_IMODE(ini.parent.stat().st_mode) == 0o700
