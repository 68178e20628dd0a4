"""The history table: one row per run of the project, numbered as the rest of the GUI numbers them.

Run numbers are positions in ``project.runs`` (1-based): the findings page, the run combos
and ``ctx.show_run`` all use them, so "Lauf 3" means the same run everywhere. Counts are
failed results by the catalog severity, as recorded; the review layer is the findings page's
and the report's business, and a history that changed when someone commented would no longer
say what each audit found.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from auditapp.catalog.wording import render_reason, severity_label
from auditapp.core.model import Run, Severity
from auditapp.core.review_layer import ReviewLayer, run_summary
from auditapp.gui.i18n import tr
from auditapp.gui.qmodels import cap, format_duration, format_time, rich_tip, severity_icon, status_icon

SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)
COLUMNS = ("number", "started", "duration", "results", *(s.value for s in SEVERITIES), "not_tested", "state",
           "version")
NUMBER_ROLE = Qt.ItemDataRole.UserRole + 1

_Index = QModelIndex | QPersistentModelIndex


def run_label(number: int, run: Run, lang: str) -> str:
    """``Lauf 3 – 28.11.2026 14:02:07`` (marked when cancelled or degraded), for combos and titles.

    With seconds: two runs started within the same minute (a re-run after a quick fix) must
    not carry the same label.
    """
    text = tr("history.run_label", number=number, when=format_time(run.started, lang, seconds=True))
    if run.degraded:
        return tr("history.run_label_degraded", label=text)
    return tr("history.run_label_cancelled", label=text) if run.cancelled else text


class RunsModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs: list[Run] = []
        self.lang = "de"
        self._counts: list[dict[str, int]] = []

    def set_runs(self, runs: list[Run], lang: str, layer: ReviewLayer | None = None) -> None:
        """Count every run with the project's review ``layer``: the numbers the report prints for it."""
        self.beginResetModel()
        self.runs, self.lang = list(runs), lang
        self._counts = []
        for run in self.runs:
            summary = run_summary(run, layer)
            counts = {severity.value: summary.open_by_severity[severity] for severity in SEVERITIES}
            counts["not_tested"] = summary.untested
            self._counts.append(counts)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt override)
        return 0 if parent.isValid() else len(self.runs)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt override)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt override)
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        column = COLUMNS[section]
        severity = Severity(column) if column in Severity._value2member_map_ else None
        if role == Qt.ItemDataRole.DisplayRole:
            return cap(severity_label(severity, self.lang)) if severity else tr(f"history.column.{column}")
        if role == Qt.ItemDataRole.DecorationRole and severity:
            return severity_icon(severity)
        if role == Qt.ItemDataRole.ToolTipRole:
            if severity:
                return tr("history.tip.failed_by_severity", severity=severity_label(severity, self.lang))
            return tr(f"history.tip.{column}") if column in ("results", "not_tested") else None
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        number = index.row() + 1
        run = self.runs[index.row()]
        column = COLUMNS[index.column()]
        counts = self._counts[index.row()]
        if role == NUMBER_ROLE:
            return number
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(number, run, column, counts)
        if role == Qt.ItemDataRole.TextAlignmentRole and column not in ("started", "state", "version"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.DecorationRole and column == "state":
            # A complete run is neutral grey: green means "passed" everywhere else in the window.
            if run.degraded:
                return status_icon("error")
            return status_icon("not_tested" if run.cancelled else "not_applicable")
        if role == Qt.ItemDataRole.FontRole and column in counts and counts[column] and column != "not_tested":
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == "version":
                return rich_tip(tr("history.tip.version_full", tool=run.tool_version, catalog=run.catalog_version,
                                   resolver=run.resolver or "–"))
            if column == "state" and run.degraded and run.degraded_reason is not None:
                return rich_tip(render_reason(run.degraded_reason, self.lang))
            if column == "state" and run.cancelled:
                return tr("history.tip.cancelled")
        return None

    def _display(self, number: int, run: Run, column: str, counts: dict[str, int]) -> str:
        if column == "number":
            return str(number)
        if column == "started":
            return format_time(run.started, self.lang)
        if column == "duration":
            return format_duration(run.duration_s, self.lang)
        if column == "results":
            return str(len(run.findings))
        if column in counts:
            return str(counts[column])
        if column == "state":
            if run.degraded:
                return tr("history.state.degraded")
            return tr("history.state.cancelled") if run.cancelled else tr("history.state.complete")
        return tr("history.version", tool=run.tool_version, catalog=run.catalog_version)
