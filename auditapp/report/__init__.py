"""The audit report: a toolkit-neutral document model (:mod:`.model`) that renderers turn into PDF.

:func:`build_report` makes a :class:`ReportDocument` from a run; grading rules are in
:mod:`.grading`, the report's texts in ``reports/boilerplate/report.toml`` (:mod:`.texts`).
Nothing here imports Qt or reportlab, so the GUI, the CLI and tests share it.
"""

from auditapp.report.document import ReportDocument, Untrusted
from auditapp.report.grading import Effort, Grade, Light
from auditapp.report.inputs import AcceptedRisk, ReportMeta, ReviewNote
from auditapp.report.model import build_report

__all__ = ["AcceptedRisk", "Effort", "Grade", "Light", "ReportDocument", "ReportMeta", "ReviewNote", "Untrusted",
           "build_report"]
