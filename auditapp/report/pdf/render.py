"""``render_pdf``: the report document as a branded, bookmarked, optionally encrypted PDF."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO

from auditapp.core.atomic import write_atomic
from auditapp.report.document import ReportDocument
from auditapp.report.pdf.doctemplate import ReportDocTemplate, make_toc
from auditapp.report.pdf.flowables import make_styles
from auditapp.report.pdf.sections import story
from auditapp.report.pdf.text import normalize
from auditapp.report.theme import Theme, register_fonts

KEYWORDS = {"de": "E-Mail, Prüfbericht, SPF, DKIM, DMARC, TLS, Postfix", "en": "e-mail, audit, SPF, DKIM, DMARC, "
                                                                                "TLS, Postfix"}


def render_bytes(doc: ReportDocument, theme: Theme, *, draft: bool = False) -> bytes:
    """The unencrypted PDF as bytes."""
    from auditapp import __version__

    names = register_fonts(theme)
    st = make_styles(theme, names)
    cover = doc.cover
    title = normalize(cover.title)
    subject = " – ".join(normalize(x) for x in (cover.client, cover.domain) if x) or title
    buf = io.BytesIO()
    template = ReportDocTemplate(
        buf, theme, st, title=title, classification=normalize(cover.classification), lang=doc.lang, draft=draft,
        page_label=doc.page_label, footer_text=theme.footer.get(doc.lang),
        author=normalize(cover.author or cover.consultant or theme.company.name), subject=subject,
        keywords=KEYWORDS.get(doc.lang, KEYWORDS["en"]), creator=f"auditapp {__version__}",
        producer=f"auditapp {__version__} (reportlab)", watermark=doc.watermark,
    )
    toc = make_toc(st)
    company = [theme.company.name, *theme.company.address, theme.company.web, theme.company.email]
    flowables = story(doc, st, template.width, company, toc)
    template.build_all(flowables)
    return buf.getvalue()


def _encrypt(data: bytes, password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password=None, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_pdf(doc: ReportDocument, theme: Theme, out: Path | BinaryIO, *, password: str | None = None,
               draft: bool = False) -> None:
    """Render ``doc`` with ``theme`` to ``out`` (a path, written atomically, or a binary file object).

    ``password`` encrypts the file with AES-256 (pypdf post-processing; metadata and outline are kept);
    ``draft`` adds a diagonal "ENTWURF"/"DRAFT" watermark to every page.
    """
    data = render_bytes(doc, theme, draft=draft)
    if password:
        data = _encrypt(data, password)
    if not isinstance(out, str | os.PathLike):
        out.write(data)
        return
    write_atomic(Path(out), data)
