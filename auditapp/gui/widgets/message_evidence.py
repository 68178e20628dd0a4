"""One imported message as evidence: its path drawn as a chain, beside what verifying it showed.

The verdicts are those of the import (DKIM needs the body, which is never stored), each next to
what the receiving server wrote into its own ``Authentication-Results`` header: where the two
differ, either the message was changed after delivery or one of the two verifiers is wrong, and
both are worth a look.

Every text here that comes from the message (host names, header values, reasons, the
receiver's words) is shown in plain-text widgets only: a header is written by whoever sent
the message.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from auditapp.gui.i18n import tr
from auditapp.gui.widgets.hop_diagram import HopDiagram, plain_tooltip, warning_colour
from auditapp.message.evidence import MessageEvidence
from auditapp.message.traits import dkim_problem
from auditapp.message.verify import DkimResult, ReceiverResult

#: Result words that are good news: no details are shown for them.
GOOD = frozenset({"pass"})
#: Result words that are bad news: shown in the warning colour ("none" and "neutral" are not:
#: no ARC set is normal, and a missing signature is explained in its own row).
BAD = frozenset({"fail", "softfail", "permerror", "temperror"})


def result_text(word: str) -> str:
    """An RFC 8601 result word in the GUI language; an unknown word as it was written."""
    text = tr(f"widgets.evidence.result.{word}")
    return word if text.startswith("[") else text


def dkim_reason(sig: DkimResult) -> str:
    """What became of a signature in the GUI language (the verifier's reason is English)."""
    problem = dkim_problem(sig)
    text = tr(f"widgets.evidence.dkim_problem.{problem}")
    return sig.reason if text.startswith("[") else text


def local_time(stamp: str) -> str:
    """``2026-12-06T10:00:00+00:00`` as ``2026-12-06 10:00 UTC``; anything else as it is."""
    if len(stamp) >= 16 and stamp[10] == "T":
        zone = " UTC" if stamp.endswith(("+00:00", "Z")) else ""
        return stamp[:10] + " " + stamp[11:16] + zone
    return stamp


def _plain(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _receiver(results: tuple[ReceiverResult, ...], method: str, domain: str = "") -> ReceiverResult | None:
    """The receiver's verdict for ``method``; for DKIM the one naming the same signing domain if any."""
    same = [r for r in results if r.method.lower() == method]
    if domain:
        for r in same:
            if any(k.lower() in ("header.d", "header.i") and v.lower().lstrip("@").endswith(domain.lower())
                   for k, v in r.properties):
                return r
    return same[0] if same else None


class MessageEvidenceView(QWidget):
    """The diagram of the hop chain above the table of verdicts, for one message."""

    COLUMNS = ("col_check", "col_ours", "col_receiver", "col_details")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = _plain("")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.facts = _plain("")
        self.verified = _plain("")
        self.headers_only = _plain(tr("widgets.evidence.headers_only"))
        self.headers_only.setObjectName("warningNote")
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addWidget(self.verified)
        layout.addWidget(self.headers_only)
        path_label = QLabel(tr("widgets.evidence.path"))
        layout.addWidget(path_label)
        self.diagram = HopDiagram()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.diagram)
        self.scroll.setWidgetResizable(False)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout.addWidget(self.scroll)
        layout.addWidget(QLabel(tr("widgets.evidence.results")))
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([tr(f"widgets.evidence.{c}") for c in self.COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        for column in range(3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        # Wrapped details need their row heights again whenever the columns' widths change.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)

    def show_evidence(self, ev: MessageEvidence) -> None:
        h = ev.headers
        self.title.setText(h.message_id or ev.name)
        facts = [tr("widgets.evidence.from", address=h.from_address or h.from_domain or "–")]
        if ev.name:
            facts.append(tr("widgets.evidence.file", name=ev.name))
        self.facts.setText(" · ".join(facts))
        self.verified.setText(tr("widgets.evidence.verified", date=local_time(ev.added), resolver=ev.resolver or "–"))
        self.headers_only.setVisible(ev.headers_only)
        self.diagram.set_hops(ev.hops, ev.sending_index)
        # The scroll area is as tall as the diagram plus a horizontal bar, so the bar never hides it.
        bar = self.scroll.horizontalScrollBar().sizeHint().height()
        self.scroll.setFixedHeight(self.diagram.sizeHint().height() + bar + 2)
        self._fill_table(ev)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """The table's texts, row by row (for tests and the accessible summary)."""
        return [tuple(self.table.item(r, c).text() if self.table.item(r, c) else ""  # type: ignore[misc]
                      for c in range(self.table.columnCount())) for r in range(self.table.rowCount())]

    def _fill_table(self, ev: MessageEvidence) -> None:
        rows: list[tuple[str, str, ReceiverResult | None, str]] = []
        for sig in ev.dkim:
            details = [dkim_reason(sig)] if sig.result not in GOOD and sig.reason else []
            if sig.algorithm and sig.key_bits:
                details.append(tr("widgets.evidence.key", algorithm=sig.algorithm, bits=sig.key_bits))
            rows.append((tr("widgets.evidence.dkim", domain=sig.domain or "?", selector=sig.selector or "?"),
                         sig.result, _receiver(ev.receiver, "dkim", sig.domain), "; ".join(details)))
        if not ev.dkim:
            rows.append((tr("widgets.evidence.dkim_none"), "none", _receiver(ev.receiver, "dkim"),
                         tr("widgets.evidence.dkim_missing")))
        arc = ev.arc
        rows.append((tr("widgets.evidence.arc", count=arc.instances), arc.result, _receiver(ev.receiver, "arc"),
                     arc.reason if arc.result in BAD else ""))
        spf = ev.spf
        if spf is not None:
            details = [tr("widgets.evidence.spf_details", ip=spf.ip or "–", domain=spf.domain or "–")]
            if spf.problem:
                details.append(spf.problem)
            rows.append((tr("widgets.evidence.spf"), spf.result, _receiver(ev.receiver, "spf"), "; ".join(details)))
        else:
            rows.append((tr("widgets.evidence.spf"), "none", _receiver(ev.receiver, "spf"),
                         tr("widgets.evidence.spf_missing")))
        dmarc = ev.dmarc
        if dmarc is not None:
            yes, no = tr("widgets.evidence.yes"), tr("widgets.evidence.no")
            details = [tr("widgets.evidence.dmarc_details", policy=dmarc.policy or "–",
                          spf=yes if dmarc.spf_aligned else no, dkim=yes if dmarc.dkim_aligned else no)]
            if dmarc.reason and dmarc.result not in GOOD:
                details.append(dmarc.reason)
            rows.append((tr("widgets.evidence.dmarc"), dmarc.result, _receiver(ev.receiver, "dmarc"),
                         "; ".join(details)))
        else:
            rows.append((tr("widgets.evidence.dmarc"), "none", _receiver(ev.receiver, "dmarc"),
                         tr("widgets.evidence.dmarc_missing")))
        # The verifier's own words for a DKIM problem (English, exact) stay in the tooltip.
        tips = {r: "\n".join(x for x in (rows[r][3], sig.reason) if x) for r, sig in enumerate(ev.dkim)}
        self.table.setRowCount(len(rows))
        for r, (check, ours, theirs, details) in enumerate(rows):
            receiver = tr("widgets.evidence.not_reported")
            tip = ""
            if theirs is not None:
                receiver = f"{result_text(theirs.result)} ({theirs.authserv_id})" if theirs.authserv_id else (
                    result_text(theirs.result))
                tip = theirs.reason
            cells = (check, result_text(ours), receiver, details)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)  # plain text: a table cell never reads markup
                if c == 1 and ours in BAD:
                    item.setForeground(warning_colour(self))
                if c == 2 and tip:
                    item.setToolTip(plain_tooltip(tip))
                if c == 3 and text:
                    item.setToolTip(plain_tooltip(tips.get(r, text)))
                self.table.setItem(r, c, item)


