"""Running audits from the window: live results, cancelling, the self-test, switching language."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from auditapp.core.model import Status
from auditapp.gui.demo_project import demo_nameserver
from auditapp.lab.demo import DEMO_ZONES, demo_project
from auditapp.lab.dnsserver import LabDnsServer, RecordSet


def test_demo_run_streams_results_and_is_recorded(window, ctx, qtbot) -> None:
    ctx.session.new(demo_project(demo_nameserver()))
    window.run_audit()
    page = window.pages["run"]
    assert window.current_key() == "run"
    arrived: list[object] = []
    ctx.runner.results.connect(arrived.extend)
    with qtbot.waitSignal(ctx.runner.finished, timeout=60000) as finished:
        pass
    run = finished.args[0]
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10000)
    assert not run.cancelled and len(run.findings) > 50
    assert arrived and len(arrived) == len(run.findings)  # every result arrived live, in batches
    assert ctx.session.project.runs == [run] and ctx.session.modified
    qtbot.waitUntil(ctx.session.recovery_file.exists, timeout=5000)  # the finished run is in the recovery copy
    assert page.model.rowCount() == len(run.findings)
    assert "Fertig" in page.state.text() and page.findings_button.isEnabled()
    assert any(f.status is Status.FAIL for f in run.findings)
    assert page.notes.isVisible() and "Nur DNS" in page.notes.text()
    assert window.statusBar().currentMessage().startswith("Lauf 1 gespeichert:")


def test_cancel_stops_a_run_against_a_silent_resolver(window, ctx, qtbot) -> None:
    # Every answer is delayed far beyond the timeout: without cancelling, this run takes minutes.
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES), latency=120.0) as silent:
        project = demo_project(silent.address)
        ctx.settings.timeout = 60.0
        ctx.session.new(project)
        page = window.pages["run"]
        page.start()
        qtbot.waitUntil(lambda: ctx.runner.total > 0, timeout=10000)
        assert page.cancel_button.isEnabled() and not page.start_button.isEnabled()
        with qtbot.waitSignal(ctx.runner.finished, timeout=15000) as finished:
            page.cancel_button.click()
        qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=15000)
    run = finished.args[0]
    assert run.cancelled
    assert any(f.status is Status.NOT_TESTED for f in run.findings)
    # No verdict from silence:
    assert not any(f.status is Status.FAIL and f.rule.startswith("SPF") for f in run.findings)
    assert "Abgebrochen" in page.state.text()
    # Not 100 % after a cancel: the bar and the text say how much was evaluated.
    skipped = sum(1 for f in run.findings if f.reason is not None and f.reason.key == "reason.cancelled")
    assert skipped > 0 and page.progress.maximum() == len(run.findings)
    assert page.progress.value() == len(run.findings) - skipped < page.progress.maximum()
    assert f"{len(run.findings) - skipped} von {len(run.findings)} Prüfungen" in page.state.text()
    assert page.start_button.isEnabled()
    # A language switch rebuilds the page: the bar still belongs to the table beside it.
    window.set_language("en")
    try:
        rebuilt = window.pages["run"]
        assert rebuilt.model.rowCount() == len(run.findings)
        assert rebuilt.progress.value() == len(run.findings) - skipped
    finally:
        window.set_language("de")


def test_invalid_project_settings_are_explained_not_crashed(window, ctx) -> None:
    project = demo_project("127.0.0.1:53")
    ctx.session.new(project)
    ctx.settings.timeout = 0.0
    window.pages["run"].start()
    assert not ctx.runner.busy
    # The reason in the window's language, not the command line's English ("timeout must be ...").
    assert "Zahl von Sekunden über 0" in window.pages["run"].state.text()


def test_language_switch_rebuilds_the_window_and_keeps_the_project(window, ctx) -> None:
    ctx.session.new(demo_project("127.0.0.1:53"))
    window.go("run")
    window.set_language("en")
    try:
        assert window.current_key() == "run"
        labels = [window.nav.item(i).text() for i in range(window.nav.count())]
        assert "Target" in labels and "Findings" in labels
        assert window.pages["run"].start_button.text() == "Run audit"
        assert ctx.session.project.name == "Beispiel GmbH"
        assert ctx.settings.gui_language == "en"
    finally:
        window.set_language("de")
    assert window.pages["run"].start_button.text() == "Audit starten"


def test_self_test_flag_opens_the_window_and_quits(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "AUDITAPP_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "auditapp", "--self-test"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "main window with 8 pages, translations, QtPdf and icon OK" in done.stdout
    version = subprocess.run([sys.executable, "-m", "auditapp", "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("auditapp ")


def test_the_password_is_looked_up_in_the_worker_and_a_missing_one_is_reported(window, ctx, qtbot) -> None:
    import os
    import threading

    import pytest

    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        if os.environ.get("CI"):
            pytest.fail("CI runs the tests through tests/lab/with-keyring.sh; no D-Bus session here")
        pytest.skip("no D-Bus session (run through tests/lab/with-keyring.sh)")
    project = demo_project(demo_nameserver())
    project.probe_services = True  # the netguard of the tests refuses the demo's TEST-NET addresses at once
    project.test_account = "nobody-stored@beispiel-gmbh.example"
    ctx.session.new(project)
    prepared = ctx.runner.prepare()
    assert prepared.password_lookup is not None and prepared.config.account_password is None  # not asked yet
    asked_in: list[str] = []
    original = prepared.password_lookup

    def lookup(domain: str, account: str) -> str | None:
        asked_in.append(threading.current_thread().name)
        return original(domain, account)

    from dataclasses import replace

    page = window.pages["run"]
    with qtbot.waitSignal(ctx.runner.finished, timeout=120000):
        ctx.runner.start(replace(prepared, password_lookup=lookup))
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=30000)
    assert asked_in and asked_in[0] != threading.main_thread().name
    assert "kein Passwort" in page.notes.text().lower() or "no password" in page.notes.text().lower()


def test_after_a_run_no_page_still_says_there_is_no_audit(window, ctx, qtbot) -> None:
    from PySide6.QtWidgets import QLabel

    ctx.session.new(demo_project(demo_nameserver()))
    window.go("report")  # seen once without a run: "no audit yet"
    with qtbot.waitSignal(ctx.runner.finished, timeout=60000):
        window.run_audit()
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10000)
    for key in ("findings", "history", "report"):
        window.go(key)
        shown = [label.text() for label in window.pages[key].findChildren(QLabel) if label.isVisible()]
        assert not any("noch kein Audit" in text for text in shown), (key, shown)


def test_a_run_against_a_dead_resolver_is_marked_and_never_reads_as_an_improvement(window, ctx, qtbot) -> None:
    """The saved demo project of the issue, reopened after the lab had gone: a banner, not a better grade."""
    with qtbot.waitSignal(ctx.runner.finished, timeout=60000) as healthy:
        ctx.session.new(demo_project(demo_nameserver()))
        window.run_audit()
    qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=10000)
    assert not healthy.args[0].degraded
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES), latency=120.0) as silent:
        ctx.settings.timeout = 1.0
        ctx.session.edit(lambda p: setattr(p, "nameservers", [silent.address]))
        with qtbot.waitSignal(ctx.runner.finished, timeout=60000) as dead:
            window.run_audit()
        qtbot.waitUntil(lambda: not ctx.runner.busy, timeout=15000)
    run = dead.args[0]
    assert run.degraded and not run.cancelled
    page = window.pages["run"]
    assert page.banner.isVisible() and silent.address.split(":")[0] in page.banner.text()
    assert "ohne aussagekraft" in page.banner.text().lower() and "ohne aussagekraft" in page.state.text().lower()
    window.go("history")
    history = window.pages["history"]
    # The newest (degraded) run against the complete one before it: a caveat, nothing "fixed".
    assert (history.before_combo.currentData(), history.after_combo.currentData()) == (1, 2)
    assert history.caveat.isVisible() and "Kein aussagekräftiger Vergleich" in history.caveat.text()
    assert history.comparison is not None and not history.comparison.group("fixed")
    assert "ohne Aussagekraft" in history.after_combo.currentText()


def test_a_server_that_limited_connections_is_named_once_with_the_remedy(window, ctx) -> None:
    """Nine rows each say "limits connections"; the run's state line says it once per server, with the setting."""
    from auditapp.collectors.probes.parsing import greeting_refusal
    from auditapp.core.model import Finding, Reason, Run, Severity, Status
    from auditapp.core.project import Project

    problem = greeting_refusal("421 4.7.0 mx.example.com Error: too many connections from 192.0.2.1")
    endpoint = "192.0.2.25:25"
    cut = [Finding(rule, Status.NOT_TESTED, Severity.MEDIUM, endpoint, "not_tested",
                   reason=Reason("reason.dialogue", {"endpoint": endpoint, "problem": problem}))
           for rule in ("TLS-WEAK-CIPHER", "TLS-NO-FORWARD-SECRECY")]
    passed = Finding("SMTP-BANNER", Status.PASS, Severity.LOW, endpoint, "pass")
    run = Run(id="r1", started="2026-12-06T10:00:00+00:00", finished="2026-12-06T10:00:02+00:00",
              tool_version="0", catalog_version="0", resolver="127.0.0.1:53", target={"domain": "example.com"},
              findings=[*cut, passed])
    ctx.session.new(Project(name="Gedrosselt", domain="example.com"))
    ctx.runner.finished.emit(run)
    text = window.pages["run"].state.text()
    assert text.startswith("Fertig nach")
    assert ("192.0.2.25 hat Verbindungen des Audits abgelehnt, weil es zu oft verbunden hat; 2 Ergebnisse sind "
            "deshalb nicht getestet. Mit einer Pause zwischen Verbindungen") in text
    assert text.count("192.0.2.25") == 1
