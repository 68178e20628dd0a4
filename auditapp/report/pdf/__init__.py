"""The PDF renderer of the audit report (reportlab): :func:`render_pdf` turns a ReportDocument into a branded PDF.

Split (architecture.md §E7): ``text`` escapes every string, ``doctemplate`` owns page templates, outline
and table of contents, ``decorations`` draws header, footer and watermark, ``flowables`` holds styles and
small building blocks, ``sections`` turns each report section into flowables, ``render`` ties it together.
"""

from auditapp.report.pdf.render import render_pdf

__all__ = ["render_pdf"]
