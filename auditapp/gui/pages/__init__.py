"""The pages of the main window, one module each; :mod:`.base` has their common interface.

:data:`PAGES` is the navigation order. Each entry names a module ``<key>_page`` in this
package that defines exactly one :class:`~auditapp.gui.pages.base.Page` subclass.
"""

PAGES = ("welcome", "target", "questionnaire", "postfix", "run", "findings", "history", "report")
