"""The two tables whose columns are sized from their content: "not tested" and the action plan.

Why not fixed shares of the page width: both tables hold tokens a reader copies or searches
for, rule IDs (``SUBMISSION-IMPLICIT-TLS-MISSING``) and host names
(``beispiel-gmbh.example``), and reportlab's ``splitLongWords`` cut them wherever a
fixed-width column ended ("beispiel-gmbh.examp|le", issue 14). Here a column is at least as
wide as its longest such token, and their cells never split a word; only a token longer than
the largest column we can give (a hostile 200-character subject) still wraps, as a last resort.
Titles in narrow columns break at spaces and, for words that fit no line, at the hyphenation
points of the report's language (:func:`auditapp.report.pdf.text.hyphenate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, Table

from auditapp.report.document import ActionPlan, NotTestedGroup
from auditapp.report.pdf.flowables import Styles, badge, p, table
from auditapp.report.pdf.text import hyphenate, normalize, para_text

#: Left plus right padding of a table cell (:func:`auditapp.report.pdf.flowables.table`).
PADDING = 8.0


def _style(base: ParagraphStyle, **kw: object) -> ParagraphStyle:
    return ParagraphStyle(f"{base.name}~", parent=base, **kw)  # type: ignore[arg-type]


def widest(texts: Iterable[str], font: str, size: float) -> float:
    """The width of the widest word (space-separated token) in ``texts``: what a column must hold unbroken."""
    return max((stringWidth(token, font, size) for text in texts for token in normalize(text).split()),
               default=0.0)


def column(needed: float, low: float, high: float) -> float:
    """A column width: ``needed`` plus padding, at least ``low``, at most ``high``."""
    return max(low, min(high, needed + PADDING + 1))


def unbroken(style: ParagraphStyle, width: float, needed: float) -> ParagraphStyle:
    """``style`` for a column: words are never split where the column holds the widest one."""
    return _style(style, splitLongWords=0 if needed + PADDING <= width else 1)


def titled(st: Styles, text: str, lang: str, style: ParagraphStyle, width: float) -> Paragraph:
    """A title in a column of ``width``: breaks at spaces, long words at their hyphenation points."""
    room = width - PADDING

    def fits(word: str) -> bool:
        return stringWidth(normalize(word), style.fontName, style.fontSize) <= room

    # embeddedHyphenation: "Absender-Authentifizierung" may break after its own hyphen (reportlab
    # otherwise splits only at spaces and soft hyphens, and cuts the compound anywhere).
    return Paragraph(para_text(hyphenate(str(text), lang, fits)), _style(style, embeddedHyphenation=1))


def rule_id(st: Styles, rule: str) -> Paragraph:
    """A rule ID in a table cell: breaks only after one of its hyphens, never inside a word."""
    return Paragraph(para_text(rule), _style(st.cell, splitLongWords=0, embeddedHyphenation=1))


def not_tested_table(st: Styles, w: float, groups: Sequence[NotTestedGroup], labels: dict[str, str],
                     lang: str) -> Table:
    """One row per reason: the checks it affected (count and rule IDs), their subjects, the reason."""
    cell = st.cell
    rule_w = widest((r for g in groups for r in g.rules), st.names.regular, cell.fontSize)
    count_w = widest((g.count_label for g in groups), st.names.bold, cell.fontSize)
    many = any(len(g.rules) > 1 for g in groups)
    # A group's rule IDs fill lines of the first column; a wider one keeps a 22-rule group short.
    first = column(max(rule_w, count_w), 0.36 * w if many else 0.24 * w, 0.45 * w)
    subject_w = widest((s for g in groups for s in g.subjects), st.names.regular, cell.fontSize)
    second = column(subject_w, 0.16 * w, 0.3 * w)
    third = w - first - second
    rule_style = unbroken(cell, first, rule_w)
    subject_style = unbroken(cell, second, subject_w)
    title_style = _style(cell, fontSize=7, leading=9, textColor=st.muted_colour)
    count_style = _style(cell, fontName=st.names.bold)
    rows: list[list[object]] = [[labels.get("scope.checks", "Checks"), labels.get("label.subject", "Subject"),
                                 labels.get("label.reason", "Reason")]]
    for g in groups:
        if len(g.rules) == 1 and len(g.subjects) <= 1:
            checks: list[Flowable] = [p(g.rules[0], rule_style), titled(st, g.titles[0], lang, title_style, first)]
        else:
            checks = [p(g.count_label, count_style), p(", ".join(g.rules), rule_style)]
        reason = g.reason if g.status.value == "not_tested" else f"{g.status_label}: {g.reason}"
        rows.append([checks, p("\n".join(g.subjects), subject_style), p(reason, cell)])
    return table(st, rows, [first, second, third])


def action_table(st: Styles, w: float, plan: ActionPlan, labels: dict[str, str], lang: str) -> Table:
    """The action plan: number, action (title and rule ID), severity, effort, subjects, owner, due date.

    The small columns are as wide as their header word (never "Verantwortlic|h"); of the rest,
    the subjects get what their longest name needs and the action what is left, at least its
    longest rule ID where both fit. Where they do not (German headers are long), a rule ID
    breaks at one of its hyphens, never inside a word.
    """
    cell = st.cell
    head = [labels.get(k, d) for k, d in (("actions.number", "#"), ("actions.action", "Action"),
                                          ("label.severity", "Severity"), ("actions.effort", "Effort"),
                                          ("actions.subjects", "Subjects"), ("actions.owner", "Owner"),
                                          ("actions.due", "Due"))]
    bold, size = st.names.bold, st.cell_head.fontSize
    efforts = widest((r.effort_label for r in plan.rows), st.names.regular, cell.fontSize)
    number = column(widest([head[0], str(len(plan.rows))], bold, size), 8 * mm, 12 * mm)
    severity = column(widest([head[2]], bold, size), 17 * mm + PADDING, 30 * mm)
    effort = column(max(widest([head[3]], bold, size), efforts), 14 * mm, 28 * mm)
    owner = column(widest([head[5]], bold, size), 20 * mm, 32 * mm)
    due = column(widest([head[6]], bold, size), 14 * mm, 24 * mm)
    rest = w - number - severity - effort - owner - due
    id_style = _style(cell, textColor=st.muted_colour, fontSize=7, splitLongWords=0, embeddedHyphenation=1)
    rule_need = widest((r.rule for r in plan.rows), st.names.regular, id_style.fontSize) + PADDING + 1
    subject_w = widest((s for r in plan.rows for s in r.subjects[:6]), st.names.regular, cell.fontSize)
    subject_need = subject_w + PADDING + 1
    if rule_need + subject_need <= rest:
        action = min(max(rule_need, 0.52 * rest), rest - subject_need)
    else:
        action = rest - min(subject_need, 0.45 * rest)
    subjects = rest - action
    subject_style = unbroken(cell, subjects, subject_w)
    rows: list[list[object]] = [head]
    for r in plan.rows:
        title = [titled(st, r.title, lang, cell, action), p(r.rule, id_style)]
        shown = "\n".join(r.subjects[:6]) + (f"\n… ({r.subjects_text})" if len(r.subjects) > 6 else "")
        rows.append([str(r.number), title, badge(st, r.severity_label, st.severity_colour(r.severity.value), 17 * mm),
                     r.effort_label, p(shown, subject_style), r.owner, r.due])
    widths = [number, action, severity, effort, subjects, owner, due]
    return table(st, rows, widths, extra=[("GRID", (5, 1), (6, -1), 0.4, colors.HexColor("#C9D0D9"))],
                 split_rows=False)
