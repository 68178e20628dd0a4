"""One function per report part: the model's data turned into flowables, in the order of issue #5."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Image,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
)

from auditapp.report.document import (
    BLOCK_EVIDENCE_LINES,
    AcceptedSection,
    ActionPlan,
    Appendix,
    CategorySection,
    Cover,
    FindingBlock,
    FindingsSection,
    ManagementSummary,
    MessageSection,
    PolicySection,
    ReportDocument,
    ScopeMethod,
    Section,
)
from auditapp.report.grading import light_for
from auditapp.report.pdf.flowables import (
    COVER_LEFT,
    COVER_RIGHT,
    Heading,
    Styles,
    badge,
    category_chart,
    grade_badge,
    light_dot,
    p,
    plain_style,
    severity_chart,
    table,
)
from auditapp.report.pdf.messages import message_story
from auditapp.report.pdf.tables import action_table, not_tested_table, rule_id, titled
from auditapp.report.pdf.text import mono_text, para_text
from auditapp.report.texts import format_date
from auditapp.report.theme import logo_flowable

#: Evidence lines shown inside a finding block; the appendix has all of them.


class Builder:
    """Collects the story for one document; ``w`` is the body frame width in points."""

    def __init__(self, doc: ReportDocument, st: Styles, width: float) -> None:
        self.doc, self.st, self.w = doc, st, width
        self.lb = doc.labels

    def label(self, key: str) -> str:
        return self.lb.get(key, key.rsplit(".", 1)[-1])

    # --- cover -----------------------------------------------------------------------------

    def cover(self, c: Cover, company_lines: Iterable[str]) -> list[Flowable]:
        st = self.st
        w = st.theme.page.size_pt[0] - COVER_LEFT - COVER_RIGHT
        logos: list[Flowable] = [logo_flowable(st.theme, max_height_mm=28)]
        client_logo = _image(c.client_logo, 50 * mm, 28 * mm)
        row = Table([[logos[0], client_logo or ""]], colWidths=[w / 2, w / 2], hAlign="LEFT")
        row.setStyle(plain_style(st, [("ALIGN", (1, 0), (1, 0), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                 ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
        story: list[Flowable] = [row, Spacer(1, 45 * mm)]
        story.append(p(c.classification.upper(), _with(st.small, textColor=st.accent, fontName=st.names.bold)))
        story.append(Spacer(1, 3 * mm))
        story.append(p(c.title, st.title))
        if c.domain:
            story.append(p(c.domain, st.subtitle))
        if c.client:
            story.append(p(c.client, _with(st.subtitle, fontName=st.names.bold)))
        story.append(Spacer(1, 25 * mm))
        facts = [
            (self.label("cover.client"), c.client), (self.label("cover.domain"), c.domain),
            (self.label("cover.date"), c.date), (self.label("cover.version"), c.version),
            (self.label("cover.classification"), c.classification),
            (self.label("cover.consultant"), c.consultant), (self.label("cover.author"), c.author),
        ]
        rows = [[p(k, _with(st.body, textColor=st.muted_colour)), p(v, st.body)] for k, v in facts if v]
        t = Table(rows, colWidths=[45 * mm, w - 45 * mm], hAlign="LEFT")
        t.setStyle(plain_style(st, [("LINEABOVE", (0, 0), (-1, 0), 0.8, st.accent), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 3),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
        story.append(t)
        address = [line for line in company_lines if line]
        if address:
            story.append(Spacer(1, 18 * mm))
            story.append(p("\n".join(address), st.muted))
        if self.doc.footer:
            story.append(Spacer(1, 4 * mm))
            story.append(p(self.doc.footer, st.muted))
        return story

    # --- headings --------------------------------------------------------------------------

    def h1(self, section: Section) -> Heading:
        return Heading(section.title, self.st.h1, 0, f"s-{section.key}")

    def h2(self, text: str, key: str, *, toc: bool = True) -> Heading:
        return Heading(text, self.st.h2, 1, key, toc=toc)

    # --- sections --------------------------------------------------------------------------

    def section(self, section: Section) -> list[Flowable]:
        render: dict[type, Callable[[Section], list[Flowable]]] = {
            ManagementSummary: self.summary, ScopeMethod: self.scope, FindingsSection: self.findings,
            PolicySection: self.policy, ActionPlan: self.actions, AcceptedSection: self.accepted,
            MessageSection: lambda s: message_story(self, s), Appendix: self.appendix,
        }
        return [PageBreak(), self.h1(section), *render[type(section.body)](section)]

    def summary(self, section: Section) -> list[Flowable]:
        s: ManagementSummary = section.body  # type: ignore[assignment]
        st, w = self.st, self.w
        light = light_for(s.grade)
        head = Table([[grade_badge(st, s.grade, s.grade_label, light, 26 * mm),
                       [p(self.label("grade.label"), st.h3), p(s.grade_text, st.body)]]],
                     colWidths=[32 * mm, w - 32 * mm], hAlign="LEFT")
        head.setStyle(plain_style(st, [("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        story: list[Flowable] = [p(s.degraded_note, st.note_box)] if s.degraded_note else []
        story += [head, Spacer(1, 3 * mm), p(self.label("summary.lights"), st.h3)]
        rows: list[list[object]] = [["", self.label("label.category"), self.label("label.grade"),
                                     self.label("label.detail"), self.label("label.passed"),
                                     self.label("scope.not_tested")]]
        for li in s.lights:
            rating = li.light_label if li.grade_label == li.light_label else f"{li.grade_label} – {li.light_label}"
            rows.append([light_dot(st, li.light), li.label, rating, str(li.failed), str(li.passed),
                         str(li.not_tested)])
        story.append(table(st, rows, [7 * mm, 45 * mm, 56 * mm, 18 * mm, 22 * mm, w - 148 * mm],
                           extra=[("ALIGN", (3, 0), (-1, -1), "RIGHT")]))
        story.append(Spacer(1, 4 * mm))
        sev = s.severity_counts
        chart_w = (w - 6 * mm) / 2
        left = [p(self.label("summary.severity_counts"), st.h3),
                severity_chart(st, [c.label for c in sev], [c.count for c in sev], [c.severity.value for c in sev],
                               chart_w, 44 * mm)]
        legend = [self.label("label.detail"), self.label("label.passed"), self.label("scope.not_tested")]
        right = [p(self.label("summary.lights"), st.h3),
                 category_chart(st, [li.label for li in s.lights], [li.failed for li in s.lights],
                                [li.passed for li in s.lights], [li.not_tested for li in s.lights], legend,
                                chart_w, 44 * mm)]
        charts = Table([[left, right]], colWidths=[chart_w + 6 * mm, chart_w], hAlign="LEFT")
        charts.setStyle(plain_style(st, [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                    ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
        story.append(charts)
        story.append(p(self.label("summary.top_actions"), st.h3))
        if s.top_actions:
            rows = [[badge(st, a.severity_label, st.severity_colour(a.severity.value), 20 * mm),
                     p(f"{i}. {a.text}", st.body)] for i, a in enumerate(s.top_actions, start=1)]
            t = Table(rows, colWidths=[23 * mm, w - 23 * mm], hAlign="LEFT")
            t.setStyle(plain_style(st, [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
            story.append(t)
        else:
            story.append(p(s.no_actions or self.label("summary.no_actions"), st.body))
        if s.delta is not None:
            d = s.delta
            story.append(p(d.text, st.h3))
            if d.caveat:
                story.append(p(d.caveat, st.note_box))
            parts = [(self.label("delta.new"), d.new), (self.label("delta.fixed"), d.fixed),
                     (self.label("delta.unchanged"), d.unchanged), (self.label("delta.changed"), d.changed),
                     (self.label("delta.unverified"), d.unverified)]
            story.append(table(st, [[k for k, _ in parts], [str(len(v)) for _, v in parts]],
                               [w / len(parts)] * len(parts)))
        story.append(Spacer(1, 3 * mm))
        story.extend(p(note, st.muted) for note in s.notes)
        return story

    def scope(self, section: Section) -> list[Flowable]:
        s: ScopeMethod = section.body  # type: ignore[assignment]
        st, w = self.st, self.w
        story: list[Flowable] = [p(s.position, st.body)]
        if s.cancelled_note:
            story.append(p(s.cancelled_note, st.note_box))
        if s.degraded_note:
            story.append(p(s.degraded_note, st.note_box))
        story.append(self.h2(self.label("scope.target"), "scope-target"))
        story.append(table(st, [[f.label, f.value] for f in s.facts], [55 * mm, w - 55 * mm], header=False))
        story.append(self.h2(self.label("scope.hosts"), "scope-hosts"))
        if s.hosts:
            rows: list[list[object]] = [[self.label("scope.host"), self.label("scope.roles"),
                                         self.label("scope.sources"), self.label("scope.addresses")]]
            rows += [[h.name, ", ".join(h.roles), "\n".join(h.sources), "\n".join(h.addresses)] for h in s.hosts]
            story.append(table(st, rows, [0.3 * w, 0.18 * w, 0.27 * w, 0.25 * w]))
        else:
            story.append(p(self.label("scope.no_hosts"), st.body))
        story.append(self.h2(self.label("method.title"), "scope-method"))
        story.extend(p(text, st.body) for text in s.method)
        story.append(table(st, [[self.label("label.grade"), ""]] + [[r.grade.value if r.grade.value != "not_assessed"
                                                                      else "–", r.text] for r in s.grading_table],
                           [20 * mm, w - 20 * mm]))
        story.append(Spacer(1, 2 * mm))
        story.append(p(s.effort_note, st.muted))
        story.append(self.h2(self.label("scope.not_tested"), "scope-not-tested"))
        if s.not_tested:
            story.append(p(self.label("scope.not_tested_intro"), st.body))
            story.append(not_tested_table(st, w, s.not_tested_groups, dict(self.lb), self.doc.lang))
        else:
            story.append(p(self.label("scope.none_not_tested"), st.body))
        return story

    def finding(self, f: FindingBlock, *, legal: bool = False) -> list[Flowable]:
        st, w = self.st, self.w
        head = Table([[badge(st, f.severity_label, st.severity_colour(f.severity.value), 20 * mm),
                       p(f"{f.rule}  ·  {f.title}", _with(st.h3, spaceBefore=0, spaceAfter=0)),
                       p(f.status_label, _with(st.small, textColor=st.muted_colour, alignment=2))]],
                     colWidths=[23 * mm, w - 53 * mm, 30 * mm], hAlign="LEFT")
        head.setStyle(plain_style(st, [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                  ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0),
                                  ("LINEABOVE", (0, 0), (-1, 0), 0.6, st.severity_colour(f.severity.value))]))
        subject = Paragraph(f"<font color='{st.theme.colours.muted}'>{para_text(self.label('label.subject'))}:"
                            f"</font> {para_text(f.subject)}", _with(st.small, spaceBefore=2, spaceAfter=2))
        first: list[Flowable] = [Spacer(1, 3 * mm), head, subject]
        rest: list[Flowable] = []
        if f.detail:
            first.append(self._labelled(self.label("label.detail"), f.detail))
        if f.business_meaning:
            key = "label.legal_background" if legal and f.legal else "label.business"
            rest.append(self._labelled(self.label(key), f.business_meaning))
        if f.reason:
            rest.append(self._labelled(self.label("label.reason"), f.reason))
        if f.accepted is not None:
            a = f.accepted
            rest.append(self._labelled(self.label("accepted.justification"),
                                       f"{a.justification} ({a.accepted_by}, "
                                       f"{format_date(a.accepted_at, self.doc.lang)})"))
        if f.override is not None and f.catalog_severity_label:
            o = f.override
            change = f"{f.catalog_severity_label} → {f.severity_label}"
            rest.append(self._labelled(self.label("review.override"), f"{change}: {o.text} ({o.author}, {o.at})"))
        if f.comments:
            rest.append(p(self.label("review.comments"), _with(st.small, fontName=st.names.bold, spaceBefore=4)))
            rest.extend(Paragraph(f"{para_text(c.text)} <font color='{st.theme.colours.muted}'>"
                                  f"({para_text(c.author)}, {para_text(c.at)})</font>", st.body) for c in f.comments)
        if f.remediation:
            rest.append(p(self.label("label.remediation"), _with(st.small, fontName=st.names.bold, spaceBefore=4)))
            rest.append(Paragraph(mono_text(f.remediation), st.mono_box))
        if f.references:
            rest.append(self._labelled(self.label("label.references"), " · ".join(f.references), small=True))
        if f.evidence:
            lines = list(f.evidence[:BLOCK_EVIDENCE_LINES])
            if len(f.evidence) > BLOCK_EVIDENCE_LINES:
                lines.append(f"… (+{len(f.evidence) - BLOCK_EVIDENCE_LINES}) → {self.label('section.appendix')}")
            rest.append(p(self.label("label.evidence"), _with(st.small, fontName=st.names.bold, spaceBefore=4)))
            rest.append(Paragraph("<br/>".join(mono_text(line) for line in lines), st.mono_box))
        return [KeepTogether(first), *rest]

    def _labelled(self, label: str, text: str, *, small: bool = False) -> Paragraph:
        style = self.st.small if small else self.st.body
        return Paragraph(f"<b>{para_text(label)}:</b> {para_text(text)}", style)

    def category(self, c: CategorySection, *, legal: bool = False, heading: bool = True) -> list[Flowable]:
        st, w = self.st, self.w
        story: list[Flowable] = []
        if heading:
            story.append(CondPageBreak(60 * mm))
            story.append(self.h2(f"{c.title} – {self.label('label.grade')} {c.grade_label}", f"c-{c.category}"))
        if c.explainer:
            story.append(p(c.explainer, st.body))
        if c.tls_scan:
            story.append(p(self.label("tls_scan.title"), st.h3))
            rows: list[list[object]] = [[self.label(f"tls_scan.col.{k}") for k in
                                         ("endpoint", "versions", "best", "worst", "fs", "key", "ocsp")]]
            rows += [[[p(r.endpoint, st.cell), p(r.service, st.small)], r.versions, r.best, r.worst,
                      r.forward_secrecy, r.key, r.ocsp] for r in c.tls_scan]
            story.append(table(st, rows, [0.19 * w, 0.11 * w, 0.1 * w, 0.13 * w, 0.1 * w, 0.19 * w, 0.18 * w]))
            story.append(p(c.tls_scan_note, st.muted))
        if c.findings:
            for f in c.findings:
                story.extend(self.finding(f, legal=legal))
        else:
            story.append(p(self.label("findings.none_open"), st.body))
        story.append(p(self.label("label.passed"), st.h3))
        if c.passed:
            rows = [[self.label("label.rule"), self.label("label.title"), self.label("label.subject")]]
            rows += [[rule_id(st, i.rule), i.title, i.subject] for i in c.passed]
            story.append(table(st, rows, [0.27 * w, 0.43 * w, 0.3 * w]))
        else:
            story.append(p(self.label("findings.none_passed"), st.small))
        if c.not_applicable:
            story.append(p(self.label("label.not_applicable"), st.h3))
            text = "; ".join(f"{i.rule} ({i.subject})" for i in c.not_applicable)
            story.append(p(text, st.small))
        return story

    def findings(self, section: Section) -> list[Flowable]:
        s: FindingsSection = section.body  # type: ignore[assignment]
        story: list[Flowable] = [p(s.intro, self.st.body)]
        for c in s.categories:
            story.extend(self.category(c))
        return story

    def policy(self, section: Section) -> list[Flowable]:
        s: PolicySection = section.body  # type: ignore[assignment]
        story: list[Flowable] = [p(s.intro, self.st.body), p(s.disclaimer, self.st.note_box)]
        if not (s.category.findings or s.category.passed or s.untested):
            story.append(p(self.label("policy.none"), self.st.body))
            return story
        story.extend(self.category(s.category, legal=True, heading=False))
        if s.untested:
            story.append(self.h2(self.label("scope.not_tested"), "policy-not-tested"))
            for f in s.untested:
                story.extend(self.finding(f, legal=True))
        return story

    def actions(self, section: Section) -> list[Flowable]:
        s: ActionPlan = section.body  # type: ignore[assignment]
        st, w = self.st, self.w
        story: list[Flowable] = [p(s.intro, st.body), p(s.effort_note, st.muted), Spacer(1, 2 * mm)]
        if not s.rows:
            story.append(p(s.none_text or self.label("actions.none"), st.body))
            return story
        story.append(action_table(st, w, s, dict(self.lb), self.doc.lang))
        return story

    def accepted(self, section: Section) -> list[Flowable]:
        s: AcceptedSection = section.body  # type: ignore[assignment]
        st, w = self.st, self.w
        story: list[Flowable] = [p(s.intro, st.body)]
        if not s.rows:
            story.append(p(self.label("accepted.none"), st.body))
            return story
        rows: list[list[object]] = [[self.label("label.rule"), self.label("label.subject"),
                                     self.label("accepted.justification"), self.label("accepted.accepted_by"),
                                     self.label("accepted.expires"), self.label("accepted.state")]]
        rows += [[f"{r.rule}\n{r.title}", r.subject, r.justification, f"{r.accepted_by}\n{r.accepted_at}",
                  r.expires, r.state_label] for r in s.rows]
        story.append(table(st, rows, [0.21 * w, 0.17 * w, 0.24 * w, 0.14 * w, 0.12 * w, 0.12 * w]))
        return story

    def appendix(self, section: Section) -> list[Flowable]:
        s: Appendix = section.body  # type: ignore[assignment]
        st, w = self.st, self.w
        story: list[Flowable] = [self.h2(self.label("section.evidence"), "a-evidence"),
                                 p(self.label("appendix.evidence_intro"), st.body)]
        if not s.evidence:
            story.append(p(self.label("appendix.no_evidence"), st.body))
        for e in s.evidence:
            head = p(f"{e.rule} · {e.title} · {e.subject} ({e.status_label})",
                     _with(st.small, fontName=st.names.bold, spaceBefore=4))
            box = Paragraph("<br/>".join(mono_text(line) for line in e.lines), st.mono_box)
            story.append(KeepTogether([head, box]) if len(e.lines) < 12 else head)
            if len(e.lines) >= 12:
                story.append(box)
        story.append(self.h2(self.label("section.glossary"), "a-glossary"))
        story.append(table(st, [[g.term, g.text] for g in s.glossary], [35 * mm, w - 35 * mm], header=False))
        story.append(self.h2(self.label("section.rule_index"), "a-rules"))
        story.append(p(self.label("appendix.index_intro"), st.body))
        rows = [[self.label("label.rule"), self.label("label.title"), self.label("label.category"),
                 self.label("label.count")]]
        widths = [0.34 * w, 0.31 * w, 0.16 * w, 0.19 * w]
        # Titles and categories break at hyphenation points ("Transport-verschlüsselung"), never
        # wherever the narrow column ends.
        rows += [[rule_id(st, r.rule), titled(st, r.title, self.doc.lang, st.cell, widths[1]),
                  titled(st, r.category_label, self.doc.lang, st.cell, widths[2]), r.summary]
                 for r in s.rule_index]
        story.append(table(st, rows, widths))
        return story


def _with(style: ParagraphStyle, **kw: object) -> ParagraphStyle:
    """A variant of ``style`` with some attributes changed."""
    return ParagraphStyle(f"{style.name}+", parent=style, **kw)  # type: ignore[arg-type]


def _image(path: str, max_w: float, max_h: float) -> Image | None:
    """A client logo scaled into the box, or None if there is none or it cannot be read."""
    if not path:
        return None
    file = Path(path)
    if file.suffix.lower() == ".svg":
        file = file.with_suffix(".png")
    try:
        from reportlab.lib.utils import ImageReader

        iw, ih = ImageReader(str(file)).getSize()
    except Exception:  # a missing or broken client logo must not stop the report
        return None
    scale = min(max_w / iw, max_h / ih)
    return Image(str(file), width=iw * scale, height=ih * scale, mask="auto")


def story(doc: ReportDocument, st: Styles, width: float, company_lines: Iterable[str],
          toc: Flowable) -> list[Flowable]:
    b = Builder(doc, st, width)
    out: list[Flowable] = b.cover(doc.cover, company_lines)
    out += [NextPageTemplate("Body"), PageBreak(),
            Heading(b.label("section.toc"), st.h1, 0, "toc", toc=False), toc]
    for section in doc.sections:
        out += b.section(section)
    return out
