"""Layout that stays put: review buttons, the sidebar, and nothing clipped after a language switch."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QWidget

from auditapp.core.model import Status
from auditapp.core.project import Project
from auditapp.core.review import accept_risk, override_severity
from auditapp.gui.qmodels.findings_model import ROW_ROLE

WEAK_KEY = ("DKIM-WEAK-KEY", "mail._domainkey.beispiel-gmbh.example")


def _place(button: QWidget, pane: QWidget) -> tuple[QPoint, int, int]:
    return button.mapTo(pane, QPoint(0, 0)), button.width(), button.height()


def test_the_detail_buttons_keep_their_place_whatever_the_result(ctx, qtbot, demo_run_project: Project) -> None:
    from auditapp.gui.pages.findings_page import FindingsPage

    run = demo_run_project.runs[-1]
    overridden = next(f for f in run.findings if f.status is Status.FAIL and f.key != WEAK_KEY)
    accept_risk(demo_run_project, *WEAK_KEY, "Tausch geplant", "K. Prüfer")
    override_severity(demo_run_project, overridden.rule, overridden.subject, "info", "Nur intern", "K. Prüfer")
    ctx.session.new(demo_run_project)
    page = FindingsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1100, 760)
    page.show()
    qtbot.waitExposed(page)
    page.status_filter.setCurrentIndex(page.status_filter.findData(""))
    wanted = {"accepted", "overridden", *(s.value for s in Status)}
    places: dict[str, tuple] = {}
    seen: set[str] = set()
    for r in range(page.proxy.rowCount()):
        row = page.proxy.index(r, 0).data(ROW_ROLE)
        state = "overridden" if row.override else row.status
        if state in seen:
            continue
        seen.add(state)
        page.table.selectRow(r)
        qtbot.wait(10)
        assert page.current is row
        for name in ("accept_button", "comment_button", "severity_button"):
            place = _place(getattr(page, name), page.detail)
            assert places.setdefault(name, place) == place, (state, name)
        # Undoing a review entry sits with the entries, below the review history.
        assert page.withdraw_button.isVisible() == (state == "accepted")
        assert page.reset_button.isVisible() == (state == "overridden")
        for button in (page.withdraw_button, page.reset_button):
            if button.isVisible():
                assert _place(button, page.detail)[0].y() > _place(page.review_label, page.detail)[0].y()
    assert {"accepted", "overridden", "fail", "pass"} <= seen <= wanted


def test_the_detail_pane_fits_the_smallest_window(ctx, window, qtbot, demo_run_project: Project) -> None:
    """At the window's minimum size the pane needs no more width than it has (its scroll area never scrolls
    sideways, so anything wider was cut off)."""
    ctx.session.new(demo_run_project)
    window.resize(window.minimumSize())
    window.go("findings")
    page = window.pages["findings"]
    page.status_filter.setCurrentIndex(page.status_filter.findData(""))
    page.table.selectRow(0)
    qtbot.wait(20)
    assert page.detail.minimumSizeHint().width() <= page.detail_scroll.viewport().width()


def _switch(window, qtbot, lang: str) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    window.set_language(lang)
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qtbot.wait(20)


def test_the_sidebar_keeps_its_width(ctx, window, qtbot, demo_run_project: Project) -> None:
    ctx.session.new(demo_run_project)
    window.resize(1280, 820)
    qtbot.wait(20)
    width = window.nav.width()
    for lang in ("en", "de"):
        _switch(window, qtbot, lang)
        assert window.nav.width() == width, lang
    window.resize(1600, 900)
    qtbot.wait(20)
    assert window.nav.width() == width  # a wider window widens the page, not the sidebar
    # and no gap between sidebar and page (a splitter pane wider than the fixed sidebar left one)
    assert window.stack.mapTo(window, window.stack.rect().topLeft()).x() - \
        window.nav.mapTo(window, window.nav.rect().topRight()).x() <= window.splitter.handleWidth() + 1


def _clipped(window, qtbot) -> list[str]:
    """Buttons, check boxes and single-line labels narrower than their text needs, on every page."""
    from PySide6.QtWidgets import QAbstractButton, QLabel

    found = []
    for key, page in window.pages.items():
        window.go(key)
        qtbot.wait(20)
        for widget in page.findChildren(QWidget):
            if not widget.isVisible():
                continue
            if isinstance(widget, QAbstractButton) and widget.text():
                need = widget.sizeHint().width()
            elif isinstance(widget, QLabel) and widget.text() and not widget.wordWrap():
                need = widget.minimumSizeHint().width()
            else:
                continue
            if widget.width() + 1 < need:
                found.append(f"{key}: {type(widget).__name__} {widget.text()!r} {widget.width()} < {need}")
    return found


def test_nothing_is_clipped_after_a_language_switch(ctx, window, qtbot, demo_run_project: Project) -> None:
    ctx.session.new(demo_run_project)
    window.resize(1280, 820)
    for lang in ("en", "de"):
        _switch(window, qtbot, lang)
        assert not _clipped(window, qtbot), lang
