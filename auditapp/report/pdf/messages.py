"""The "Message evidence" section in the PDF: per message its facts, route diagram, hop table and verdicts.

Kept apart from :mod:`auditapp.report.pdf.sections` (which only dispatches to :func:`message_story`)
so the section's layout is in one short module. Every string goes through
:func:`~auditapp.report.pdf.flowables.p` or :func:`~auditapp.report.pdf.text.para_text`: Message-IDs,
host names and reasons come from the network and may hold markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph, Spacer

from auditapp.report.document import MessageEntry, MessageSection, Section, VerdictRow
from auditapp.report.pdf.flowables import Styles, p, table
from auditapp.report.pdf.hopdiagram import hop_diagram
from auditapp.report.pdf.tables import column, unbroken, widest
from auditapp.report.pdf.text import para_text
from auditapp.report.theme import rl_color

if TYPE_CHECKING:
    from auditapp.report.pdf.sections import Builder


def _style(base: ParagraphStyle, **kw: object) -> ParagraphStyle:
    return ParagraphStyle(f"{base.name}~msg", parent=base, **kw)  # type: ignore[arg-type]


def _result(st: Styles, row: VerdictRow) -> Paragraph:
    """Our verdict, coloured for pass and fail, with the reason below it in small muted type."""
    traffic = st.theme.colours.traffic
    colour = {"pass": traffic.green, "fail": traffic.red, "permerror": traffic.red}.get(row.result)
    word = para_text(row.result)
    text = f"<font color='{colour}'><b>{word}</b></font>" if colour else f"<b>{word}</b>"
    if row.reason:
        text += f"<br/><font size='7' color='{st.theme.colours.muted}'>{para_text(row.reason)}</font>"
    return Paragraph(text, st.cell)


def _receiver(st: Styles, row: VerdictRow) -> Paragraph:
    text = para_text(row.receiver)
    if row.differs:
        warning = st.theme.colours.severity.medium
        text += f"<br/><font size='7' color='{warning}'>{para_text(row.note)}</font>"
    return Paragraph(text, st.cell)


def _entry(b: Builder, m: MessageEntry) -> list[Flowable]:
    st, w = b.st, b.w
    label = b.label
    story: list[Flowable] = [CondPageBreak(70 * mm), b.h2(str(m.message_id), f"msg-{m.anchor}")]
    facts = [[label("messages.from"), m.from_text], [label("messages.envelope"), m.envelope],
             [label("messages.received"), m.received]]
    story.append(table(st, facts, [40 * mm, w - 40 * mm], header=False, zebra=False))
    story.append(p(m.verified, _style(st.muted, spaceBefore=2, spaceAfter=2)))
    story.extend(p(note, st.note_box) for note in m.notes)
    if m.findings:
        story.append(Paragraph(f"<b>{para_text(label('messages.findings'))}:</b>", _style(st.small, spaceAfter=0)))
        story.extend(Paragraph(para_text(f), _style(st.small, leftIndent=10, bulletIndent=2), bulletText="•")
                     for f in m.findings)
    else:
        story.append(p(label("messages.no_findings"), _style(st.small, spaceAfter=2)))
    if m.nodes:
        legend = [label("messages.legend_sender"), label("messages.legend_receiver"),
                  label("messages.legend_handover"), label("messages.legend_no_tls")]
        story.append(KeepTogether([p(label("messages.route"), st.h3),
                                   hop_diagram(st, m.nodes, m.links, w, legend), Spacer(1, 2 * mm)]))
        story.append(_hop_table(b, m))
    story.append(p(label("messages.checks"), st.h3))
    rows: list[list[object]] = [[label("messages.method"), label("messages.detail"), label("messages.ours"),
                                 label("messages.theirs")]]
    rows += [[r.method, r.detail, _result(st, r), _receiver(st, r)] for r in m.verdicts]
    story.append(table(st, rows, [20 * mm, 0.46 * w - 20 * mm, 0.27 * w, 0.27 * w], split_rows=False))
    return story


def _hop_table(b: Builder, m: MessageEntry) -> Flowable:
    """Every hop with the full names; the hand-over row tinted, a hop without TLS in the warning colour."""
    st, w = b.st, b.w
    label = b.label
    rows: list[list[object]] = [[label("messages.hop"), label("messages.hop_from"), label("messages.hop_by"),
                                 label("messages.hop_transport"), label("messages.hop_delay")]]
    cell, size = st.cell, st.cell.fontSize
    mark = _style(cell, fontSize=6.5, leading=8, textColor=st.accent)
    number_w = column(max(widest([label("messages.hop")], st.names.bold, st.cell_head.fontSize),
                          widest([label("messages.handover_mark")], st.names.regular, mark.fontSize)), 10 * mm, 20 * mm)
    delay_w = column(widest([label("messages.hop_delay"), *(h.delay for h in m.hops)], st.names.bold, size),
                     11 * mm, 18 * mm)
    rest = w - number_w - delay_w
    # Host names and the cipher are copied and searched for: a column holds its longest one whole
    # where the page allows, and only the rest of the room is shared out.
    needs = [widest((getattr(h, f) for h in m.hops), st.names.regular, size) for f in ("from_text", "by", "transport")]
    transport = column(needs[2], 0.2 * rest, 0.34 * rest)
    room = rest - transport
    wanted = [column(n, 0, room) for n in needs[:2]]
    if sum(wanted) <= room:  # both names fit whole: what is over goes to both alike
        names = [x + (room - sum(wanted)) / 2 for x in wanted]
    else:  # they do not: shared by need, neither below a third of the room
        first = min(max(room * wanted[0] / sum(wanted), room / 3), room * 2 / 3)
        names = [first, room - first]
    shares = [*names, transport]
    styles = [unbroken(cell, width, need) for width, need in zip(shares, needs, strict=True)]
    warning = _style(styles[2], textColor=rl_color(st.theme.colours.severity.medium))
    extra: list[tuple[object, ...]] = []
    for i, h in enumerate(m.hops, start=1):
        number: list[Flowable] = [p(str(h.number), cell)]
        if h.handover:
            number.append(p(label("messages.handover_mark"), mark))
            extra += [("BACKGROUND", (0, i), (-1, i), rl_color(st.theme.colours.surface)),
                      ("LINEBEFORE", (0, i), (0, i), 2.4, st.accent)]
        rows.append([number, p(h.from_text, styles[0]), p(h.by, styles[1]),
                     p(h.transport, warning if h.no_tls else styles[2]), h.delay])
    return table(st, rows, [number_w, *shares, delay_w], zebra=False, extra=extra, split_rows=False)


def message_story(b: Builder, section: Section) -> list[Flowable]:
    """The section body (the caller adds the page break and the chapter heading)."""
    s: MessageSection = section.body  # type: ignore[assignment]
    story: list[Flowable] = [p(s.intro, b.st.body)]
    for m in s.messages:
        story.extend(_entry(b, m))
    return story
