"""The desktop application (PySide6): the only package that imports Qt.

Everything it shows comes from the Qt-free core: projects (:mod:`auditapp.core`), audits
(:func:`auditapp.engine.iter_audit` in a worker thread), the review layer
(:mod:`auditapp.core.review`) and the report (:mod:`auditapp.report.from_project`). The GUI adds
windows, threads and persistence of its own state (QSettings), nothing that decides a verdict.
"""

from auditapp.gui import pyside_fixes as _pyside_fixes

_pyside_fixes.install()
