"""The findings table: one row per result of one run, with the project's review layer applied.

Rows are computed once per reload (titles, category, effective severity, acceptance) so that
sorting and filtering 500+ results on every key press only compares prepared values. The
long texts (detail, remediation) are rendered on demand by the detail pane, for one result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QPalette

from auditapp.catalog import catalog
from auditapp.catalog.wording import severity_label, status_label
from auditapp.core.model import Finding, Run, Severity, Status
from auditapp.core.review_layer import AcceptedRisk, Review, ReviewLayer, run_day
from auditapp.gui.i18n import tr, tr_in
from auditapp.gui.qmodels import cap, rich_tip, severity_icon, status_icon

ACCEPTED = "accepted"
#: Filter value for "failed and not accepted": what still needs doing.
OPEN = "open"
COLUMNS = ("severity", "rule", "title", "category", "subject", "status")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
#: Within one severity, what needs attention comes first when sorting worst-first.
_STATUS_WEIGHT = {Status.FAIL.value: 5, Status.ERROR.value: 4, Status.NOT_TESTED.value: 3, ACCEPTED: 2,
                  Status.PASS.value: 1, Status.NOT_APPLICABLE.value: 0}

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class FindingRow:
    """One result as the table shows it; ``severity`` is the effective (possibly overridden) one."""

    finding: Finding
    position: int
    severity: Severity
    status: str  # a Status value or "accepted"
    title: str
    category: str
    override: Review | None
    acceptance: AcceptedRisk | None
    haystack: str

    @property
    def key(self) -> tuple[str, str]:
        return self.finding.key

    @property
    def is_open(self) -> bool:
        return self.status == Status.FAIL.value


def category_label(category: str) -> str:
    return tr(f"findings.category.{category}")


def status_text(status: str, lang: str) -> str:
    """The status column's word: neutral ("OK" / "Befund" / "nicht getestet") rather than the report's
    "bestanden" / "nicht bestanden", which beside a title worded as a problem read as a contradiction."""
    text = tr_in(lang, f"findings.status.{status}")
    return text if not text.startswith("[") else status_label(Status(status), lang)


def build_rows(run: Run, layer: ReviewLayer, lang: str) -> list[FindingRow]:
    """The rows for ``run`` with the project's acceptances (valid on the run's day) and overrides applied."""
    cat = catalog()
    day = run_day(run)
    rows = []
    for position, f in enumerate(run.findings):
        rule = cat.rules.get(f.rule)
        title = rule.title.get(lang) if rule else f.rule
        category = rule.category if rule else ""
        acceptance = layer.acceptance_for(f, day)
        override = layer.override_for(f)
        severity = layer.effective_severity(f)
        status = ACCEPTED if acceptance is not None else f.status.value
        haystack = "\n".join((f.rule, title, f.subject, category_label(category) if category else "")).casefold()
        rows.append(FindingRow(f, position, severity, status, title, category, override, acceptance, haystack))
    return rows


class FindingsModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[FindingRow] = []
        self.lang = "de"
        self._headers = [tr(f"findings.column.{c}") for c in COLUMNS]

    def set_rows(self, rows: list[FindingRow], lang: str) -> None:
        self.beginResetModel()
        self.rows, self.lang = rows, lang
        self.endResetModel()

    def row_of(self, key: tuple[str, str]) -> int:
        return next((i for i, r in enumerate(self.rows) if r.key == key), -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt override)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt override)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt override)
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = COLUMNS[index.column()]
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == SORT_ROLE:
            if column == "severity":
                # Worst first means: what failed, by severity, before what passed. A passed
                # critical check is good news and must not head the list.
                return _STATUS_WEIGHT[row.status] * 10 + row.severity.rank
            if column == "status":
                return _STATUS_WEIGHT[row.status]
            return (self._display(row, column) or "").casefold()
        if role == Qt.ItemDataRole.DecorationRole:
            if column == "severity" and row.finding.status is Status.FAIL:
                return severity_icon(row.severity)
            if column == "status":
                return status_icon(row.status)
        if role == Qt.ItemDataRole.ForegroundRole and column == "severity" and row.finding.status is not Status.FAIL:
            return QPalette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)  # only failures weigh
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.AccessibleTextRole and column == "severity":
            return rich_tip(self._display(row, column))
        return None

    def _display(self, row: FindingRow, column: str) -> str:
        if column == "severity":
            label = cap(severity_label(row.severity, self.lang))
            if row.override:  # the effective severity first, the catalogue's beside it
                catalog_label = severity_label(row.finding.severity, self.lang)
                return tr("findings.override_marker", label=label, catalog=catalog_label)
            return label
        if column == "rule":
            return row.finding.rule
        if column == "title":
            return row.title
        if column == "category":
            return category_label(row.category) if row.category else ""
        if column == "subject":
            return row.finding.subject
        return cap(status_text(row.status, self.lang))

    def _tooltip(self, row: FindingRow, column: str) -> str | None:
        if column == "severity" and row.override:
            return rich_tip(tr("findings.tip.overridden", catalog=severity_label(row.finding.severity, self.lang),
                               author=row.override.author, reason=row.override.text))
        if column == "status" and row.acceptance:
            return rich_tip(tr("findings.tip.accepted", author=row.acceptance.accepted_by,
                               justification=row.acceptance.justification))
        if column in ("title", "subject"):
            return rich_tip(self._display(row, column))
        return None


class FindingsFilter(QSortFilterProxyModel):
    """Text, severity, category and status filters; severity sorts by rank, worst first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.text = ""
        self.severity = ""
        self.category = ""
        self.status = ""

    def set_filters(self, *, text: str | None = None, severity: str | None = None, category: str | None = None,
                    status: str | None = None) -> None:
        self.beginFilterChange()
        if text is not None:
            self.text = text.strip().casefold()
        if severity is not None:
            self.severity = severity
        if category is not None:
            self.category = category
        if status is not None:
            self.status = status
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:  # noqa: N802 (Qt override)
        model = self.sourceModel()
        if not isinstance(model, FindingsModel):
            return True
        row = model.rows[source_row]
        if self.severity and row.severity.value != self.severity:
            return False
        if self.category and row.category != self.category:
            return False
        if self.status == OPEN:
            if not row.is_open:
                return False
        elif self.status == Status.FAIL.value:
            if row.finding.status is not Status.FAIL:  # failed, accepted or not
                return False
        elif self.status and row.status != self.status:
            return False
        return not self.text or all(word in row.haystack for word in self.text.split())

    def lessThan(self, left: _Index, right: _Index) -> bool:  # noqa: N802 (Qt override)
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if a == b:
            # Ties keep the run's (catalog) order, so equal rows never jump around on re-sort.
            return bool(left.data(ROW_ROLE).position > right.data(ROW_ROLE).position) \
                if self.sortOrder() == Qt.SortOrder.DescendingOrder \
                else bool(left.data(ROW_ROLE).position < right.data(ROW_ROLE).position)
        return bool(a < b)
