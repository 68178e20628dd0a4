"""What a user reads on a screen: every text of a widget tree, and a test for English words in it.

Used by the i18n tests to look at German screens the way a reviewer would: labels, buttons,
group boxes, tabs, placeholders, tooltips, combo items, table headers and cells, menus. Values
from the project or the network (host names, file names, commands, quoted literals) are not
words of the interface and are stripped before looking for English.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QDialog,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QPlainTextEdit,
    QTabWidget,
    QTextEdit,
    QWidget,
)

from auditapp.gui.i18n import CONTENT_LANGUAGE

#: Common English words that are not German words too ("was", "will", "also", "Name", "Status",
#: "Details", "Filter", "Import", "Export" and "Audit" are), matched as whole words.
ENGLISH_WORDS = frozenset((
    "the", "and", "not", "with", "without", "file", "files", "select", "selected", "open", "save", "saved", "empty",
    "label", "labels", "of", "to", "is", "are", "this", "that", "these", "from", "for", "you", "your", "please",
    "click", "found", "none", "error", "errors", "failed", "missing", "invalid", "yes", "cancel", "close", "must",
    "has", "have", "should", "can", "cannot", "could", "by", "or", "on", "at", "new", "load", "loading", "show",
    "hide", "pass", "passed", "fail", "run", "runs", "report", "settings", "language", "preview", "history",
    "finding", "findings", "tested", "applicable", "accepted", "risk", "remove", "add", "browse", "choose", "apply",
    "reset", "done", "ready", "next", "back", "paste", "clear", "delete", "copy", "unknown", "which", "when",
    "where", "there", "here", "than", "then", "only", "any", "each", "every", "into", "out", "value", "values",
    "default", "help", "about", "quit", "edit", "view", "window", "page", "discard", "restore", "later", "keep",
))

_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
#: Literals inside German texts: „quoted“ commands and names, <code>, and tokens that are values
#: (host and file names, parameters, options, addresses, key sequences).
_QUOTED = re.compile(r"„[^“]*“|“[^”]*”|\"[^\"]*\"|<code>.*?</code>|<a [^>]*>.*?</a>", re.S)
_TAG = re.compile(r"<[^>]+>")
_PLACEHOLDER = re.compile(r"\{\w+\}")
#: Host and file names, parameters, options, addresses, key sequences, and rule IDs or acronyms
#: in capitals (DMARC-MISSING, STARTTLS).
_VALUE_TOKEN = re.compile(r"\S*(?:[._=/@$#]|--|\w:\w|\w\+\w)\S*|\b[A-Z0-9]{2,}(?:-[A-Z0-9]+)*\b")


@dataclass(frozen=True)
class ScreenText:
    where: str
    kind: str
    text: str

    def __str__(self) -> str:
        return f"{self.where} {self.kind}: {self.text[:160]!r}"


def _name(widget: QWidget) -> str:
    return widget.objectName() or type(widget).__name__


def _skipped(widget: QWidget, root: QWidget) -> bool:
    """Widgets whose content is in its own language by design (the English report footer)."""
    node: QWidget | None = widget
    while node is not None:
        if node.property(CONTENT_LANGUAGE):
            return True
        if node is root:
            return False
        node = node.parentWidget()
    return False


def _model_texts(view: QAbstractItemView, where: str, cells: bool) -> Iterator[ScreenText]:
    model = view.model()
    if model is None or (isinstance(view, QListWidget) and not cells):
        return
    try:
        columns = model.columnCount(QModelIndex())
        rows = model.rowCount(QModelIndex())
    except TypeError:  # a list model hides columnCount
        columns, rows = 1, model.rowCount()
    for column in range(columns):
        header = model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
        if isinstance(header, str) and header:
            yield ScreenText(where, "header", header)
    if not cells:
        return

    def walk(parent: QModelIndex, depth: int) -> Iterator[ScreenText]:
        for row in range(min(model.rowCount(parent), 400)):
            for column in range(columns):
                index = model.index(row, column, parent)
                for role, kind in ((Qt.ItemDataRole.DisplayRole, "cell"), (Qt.ItemDataRole.ToolTipRole, "cell tip")):
                    value = index.data(role)
                    if isinstance(value, str) and value:
                        yield ScreenText(where, kind, value)
            if depth < 2:
                yield from walk(model.index(row, 0, parent), depth + 1)

    if rows:
        yield from walk(QModelIndex(), 0)


def screen_texts(root: QWidget, *, cells: bool = True) -> list[ScreenText]:
    """Every text ``root`` and its visible-or-not children show a user."""
    out: list[ScreenText] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if _skipped(widget, root):
            continue
        where = _name(widget)

        def add(kind: str, text: object, where: str = where) -> None:
            if isinstance(text, str) and text.strip():
                out.append(ScreenText(where, kind, text))

        add("tooltip", widget.toolTip())
        add("accessible name", widget.accessibleName())
        if isinstance(widget, QDialog) or widget is root:
            add("window title", widget.windowTitle())
        if isinstance(widget, QLabel | QAbstractButton):
            add("text", widget.text())
        if isinstance(widget, QGroupBox):
            add("title", widget.title())
        if isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit):
            add("placeholder", widget.placeholderText())
        if isinstance(widget, QComboBox):
            for i in range(widget.count()):
                add("item", widget.itemText(i))
        if isinstance(widget, QTabWidget):
            for i in range(widget.count()):
                add("tab", widget.tabText(i))
                add("tab tip", widget.tabToolTip(i))
        if isinstance(widget, QAbstractItemView):
            out.extend(_model_texts(widget, where, cells))
        if isinstance(widget, QMenu):
            add("menu", widget.title())
        for action in widget.actions():
            if isinstance(action, QAction) and not action.isSeparator():
                add("action", action.text())
                add("action tip", action.toolTip())
    return out


def without_literals(text: str, values: Iterable[str] = ()) -> str:
    """``text`` as prose: values from the project, quoted literals, markup and value-like tokens removed."""
    values = set(values)
    if html.unescape(_TAG.sub("", text)).strip() in values:
        return ""  # a cell that shows one value (a Postfix parameter's "yes")
    for value in sorted((v for v in values if len(v) >= 4), key=len, reverse=True):
        text = text.replace(value, " ")
    text = html.unescape(_TAG.sub(" ", _QUOTED.sub(" ", _PLACEHOLDER.sub(" ", text))))
    return _VALUE_TOKEN.sub(" ", text)


def english_words(text: str, values: Iterable[str] = ()) -> list[str]:
    """The English words in ``text`` once literals and project values are gone."""
    return [w for w in _WORD.findall(without_literals(text, values)) if w.lower() in ENGLISH_WORDS]
