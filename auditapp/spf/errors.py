"""The one exception the SPF parser raises.

It lives in its own module because both the record parser and the macro tokenizer raise it,
and the record parser imports the macro module: a shared leaf avoids an import cycle.
"""

from __future__ import annotations


class SpfSyntaxError(ValueError):
    """An SPF record, term or macro-string that does not follow the RFC 7208 ABNF.

    RFC 7208 §4.6 makes any syntax error anywhere in the record a ``permerror``, even in a
    term that evaluation would never reach, so the parser rejects the whole record.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
