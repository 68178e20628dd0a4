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
        for name in ("accept_button", "comment_button", "severity_button", "withdraw_button", "reset_button"):
            place = _place(getattr(page, name), page.detail)
            assert places.setdefault(name, place) == place, (state, name)
    assert {"accepted", "overridden", "fail", "pass"} <= seen <= wanted
