"""The document template: Cover and Body page templates, bookmarks, PDF outline and table of contents."""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, TableStyle
from reportlab.platypus.tableofcontents import TableOfContents

from auditapp.report.pdf import decorations
from auditapp.report.pdf.flowables import COVER_LEFT, COVER_RIGHT, Heading, Styles
from auditapp.report.pdf.text import para_text
from auditapp.report.theme import Theme


class ReportDocTemplate(BaseDocTemplate):
    """``Cover`` (full page, colour band) and ``Body`` (margins, header, watermark) page templates.

    Every :class:`Heading` becomes a bookmark and an outline entry at its level, and (unless marked
    otherwise) a ``TOCEntry`` for the :class:`TableOfContents`; :meth:`multiBuild` resolves the page numbers.
    "Page X of Y": each pass of :meth:`multiBuild` draws the footer with the page count of the pass
    before (:attr:`known_pages`); :meth:`build_all` repeats the build until that count is the real one,
    so bookmarks and page numbers are drawn by the plain canvas and stay correct.
    """

    def __init__(self, out: Any, theme: Theme, st: Styles, *, title: str, classification: str, lang: str,
                 draft: bool, page_label: Any, footer_text: str, watermark: tuple[str, ...] = (), **kw: Any) -> None:
        width, height = theme.page.size_pt
        m = theme.page.margins_mm
        super().__init__(out, pagesize=(width, height), title=title, leftMargin=m.left * mm, rightMargin=m.right * mm,
                         topMargin=m.top * mm, bottomMargin=m.bottom * mm, initialFontName=st.names.regular,
                         **kw)
        self.theme, self.st = theme, st
        self.report_title, self.classification, self.lang, self.draft = title, classification, lang, draft
        #: The diagonal lines on every page: a degraded run's mark, then "DRAFT" when asked for.
        self.marks = (*watermark, *((decorations.DRAFT.get(lang, "DRAFT"),) if draft else ()))
        self.current_section = ""
        self.page_label, self.footer_text = page_label, footer_text
        self.known_pages = 0
        self._pages_seen = 0
        self._keys: set[str] = set()
        body = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body",
                     leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        cover = Frame(COVER_LEFT, 20 * mm, width - COVER_LEFT - COVER_RIGHT, height - 40 * mm, id="cover",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([
            PageTemplate("Cover", [cover], onPage=self._on_cover, onPageEnd=self._footer),
            PageTemplate("Body", [body], onPage=self._on_body, onPageEnd=self._on_body_end),
        ])

    def _on_cover(self, canvas: Any, doc: Any) -> None:
        decorations.cover_band(canvas, self.theme)
        if self.marks:
            decorations.watermark(canvas, self.theme, self.st.names, self.marks)

    def _on_body(self, canvas: Any, doc: Any) -> None:
        if self.marks:
            decorations.watermark(canvas, self.theme, self.st.names, self.marks)

    def _on_body_end(self, canvas: Any, doc: Any) -> None:
        decorations.header(canvas, self.theme, self.st.names, self.report_title, self.classification,
                           self.current_section)
        self._footer(canvas, doc)

    def _footer(self, canvas: Any, doc: Any) -> None:
        total = max(self.known_pages, self.page)
        decorations.footer(canvas, self.theme, self.st.names, self.footer_text, self.page_label(self.page, total))

    def beforeDocument(self) -> None:  # noqa: N802 - reportlab's name
        self._keys = set()
        self.current_section = ""
        self.known_pages = self._pages_seen

    def afterPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages_seen = self.page

    def build_all(self, story: list[Flowable], max_rounds: int = 3) -> int:
        """``multiBuild`` (TOC page numbers), repeated while the last pass printed a wrong page total.

        The table of contents is pre-filled with every heading (page 0), so the first pass already lays
        it out at its final height and two passes usually suffice. Returns the number of passes.
        """
        entries = [(h.outline_level, para_text(h.plain, keep_newlines=False), 0, h.outline_key)
                   for h in story if isinstance(h, Heading) and h.in_toc]
        passes = 0
        for _ in range(max_rounds):
            for flowable in story:
                if isinstance(flowable, TableOfContents):
                    flowable._entries = list(entries)
            passes += self.multiBuild(story, maxPasses=8)
            if self.known_pages == self._pages_seen:
                break
        return passes

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 - reportlab's name
        if not isinstance(flowable, Heading):
            return
        key = flowable.outline_key
        if key in self._keys:  # a heading split over pages or repeated: one bookmark only
            return
        self._keys.add(key)
        level = flowable.outline_level
        if level == 0:
            self.current_section = flowable.section_title or flowable.plain
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(" ".join(flowable.plain.split()), key, level=level, closed=level > 0)
        if flowable.in_toc:
            self.notify("TOCEntry", (level, para_text(flowable.plain, keep_newlines=False), self.page, key))


def make_toc(st: Styles) -> TableOfContents:
    style = TableStyle([("FONTNAME", (0, 0), (-1, -1), st.names.regular), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                        ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)])
    toc = TableOfContents(dotsMinLevel=0, tableStyle=style)
    toc.levelStyles = [st.toc0, st.toc1]
    return toc
