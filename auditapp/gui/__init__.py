"""The desktop application (PySide6): the only package that imports Qt.

Everything it shows comes from the Qt-free core: projects (:mod:`auditapp.core`), audits
(:func:`auditapp.audit.engine.run_audit` on a task thread, :mod:`auditapp.gui.tasks`), the review layer
(:mod:`auditapp.core.review`) and the report (:mod:`auditapp.report.from_project`). The GUI adds
windows, threads and persistence of its own state (QSettings), nothing that decides a verdict.

Python 3.12 or newer is required: PySide6 6.12.0's ``emit()`` drops a reference to ``True``
each time, which on 3.11 aborted the interpreter after about a thousand signals; since 3.12
``True`` and ``False`` are immortal (PEP 683). ``tests/gui/test_gui_signal_emits.py`` emits
200,000 signals to keep it that way.
"""
