"""A received message as a project keeps it: its header block and what verifying it showed.

Why the header block plus the verdicts, and not the message: messages carry personal data, so
the body is never stored (issue 15); its SHA-256 is enough to say which body was verified. But
DKIM needs the body, so the DKIM, ARC, SPF and DMARC verdicts are kept as they were on import
(``verified``, with the time and resolver). Everything the header block alone tells (the hop
chain, the receiver's ``Authentication-Results``) is parsed again on load, so a better parser
improves old projects.

This module checks the shape of ``verified`` itself (it sits below the message package, which
reads it), so a damaged project file is refused on load with the field named, like every other
field, rather than failing later in an audit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

#: A project keeps at most this many messages (a few are evidence; hundreds are a mailbox).
MAX_MESSAGES = 100
#: The header block limit of :mod:`auditapp.message.headers` (1 MiB).
MAX_HEADER_CHARS = 1024 * 1024
#: Verdict fields: a reason from dkimpy can be long, a file name too; beyond this is damage.
MAX_VERDICT_TEXT = 2000
MAX_SIGNATURES = 50

_RESULT_WORDS = frozenset({"pass", "fail", "neutral", "none", "softfail", "temperror", "permerror", "policy"})


class StoredMessageError(ValueError):
    """The stored record is damaged; ``field`` is the dotted path below the message."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class StoredMessage:
    """One imported message (header block only) with its verdicts from the import."""

    #: The first 16 hex digits of the header block's SHA-256: the same message imported twice is one.
    id: str
    #: The file's name (no directories: a home path says who the consultant is) or "pasted".
    name: str
    #: When it was imported and verified (ISO 8601, UTC).
    added: str
    headers: str
    #: ``utf-8``, or ``latin-1`` for a header block with raw 8-bit bytes that are not UTF-8
    #: (the bytes round-trip exactly either way).
    encoding: str
    body_sha256: str | None
    body_bytes: int | None
    verified: dict[str, Any]

    @property
    def header_bytes(self) -> bytes:
        return self.headers.encode(self.encoding, "surrogateescape")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "added": self.added, "headers": self.headers,
            **({"encoding": self.encoding} if self.encoding != "utf-8" else {}),
            "body_sha256": self.body_sha256, "body_bytes": self.body_bytes, "verified": self.verified,
        }

    @classmethod
    def from_json(cls, data: object) -> StoredMessage:
        obj = _object(data, "")
        allowed = {"id", "name", "added", "headers", "encoding", "body_sha256", "body_bytes", "verified"}
        for key in obj:
            if key not in allowed:
                raise StoredMessageError(f"unknown field {key!r}", str(key))
        headers = _string(obj.get("headers"), "headers", MAX_HEADER_CHARS)
        encoding = _string(obj.get("encoding", "utf-8"), "encoding", 10)
        if encoding not in ("utf-8", "latin-1"):
            raise StoredMessageError("encoding must be utf-8 or latin-1", "encoding")
        try:
            block = headers.encode(encoding)
        except UnicodeEncodeError as exc:
            raise StoredMessageError(f"the header block is not {encoding} text", "headers") from exc
        ident = _string(obj.get("id"), "id", 16)
        if ident != message_id_of(block):
            raise StoredMessageError("id does not match the header block (edited by hand?)", "id")
        body_sha = obj.get("body_sha256")
        if body_sha is not None and (not isinstance(body_sha, str) or len(body_sha) != 64
                                     or any(c not in "0123456789abcdef" for c in body_sha)):
            raise StoredMessageError("body_sha256 must be 64 lower-case hex digits or null", "body_sha256")
        body_bytes = obj.get("body_bytes")
        if body_bytes is not None and (not isinstance(body_bytes, int) or isinstance(body_bytes, bool)
                                       or body_bytes < 0):
            raise StoredMessageError("body_bytes must be a whole number or null", "body_bytes")
        return cls(id=ident, name=_string(obj.get("name"), "name", 255), added=_string(obj.get("added"), "added", 40),
                   headers=headers, encoding=encoding, body_sha256=body_sha, body_bytes=body_bytes,
                   verified=check_verified(obj.get("verified")))


def message_id_of(header_block: bytes) -> str:
    return hashlib.sha256(header_block).hexdigest()[:16]


def header_text(header_block: bytes) -> tuple[str, str]:
    """The header block as text and the encoding that gives the same bytes back."""
    try:
        return header_block.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return header_block.decode("latin-1"), "latin-1"


def check_verified(value: object) -> dict[str, Any]:
    """The ``verified`` object, checked field by field (see :mod:`auditapp.message.evidence`)."""
    v = _object(value, "verified")
    _string(v.get("verified_at"), "verified.verified_at", 40)
    _string(v.get("resolver", ""), "verified.resolver", MAX_VERDICT_TEXT)
    index = v.get("sending_index")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
        raise StoredMessageError("sending_index must be a hop number or null", "verified.sending_index")
    signatures = v.get("dkim")
    if not isinstance(signatures, list) or len(signatures) > MAX_SIGNATURES:
        raise StoredMessageError(f"dkim must be a list of at most {MAX_SIGNATURES} results", "verified.dkim")
    for n, sig in enumerate(signatures):
        where = f"verified.dkim[{n}]"
        s = _object(sig, where)
        for key in ("domain", "selector", "algorithm", "reason"):
            _string(s.get(key, ""), f"{where}.{key}", MAX_VERDICT_TEXT)
        _count(s.get("key_bits", 0), f"{where}.key_bits")
        _word(s.get("result"), f"{where}.result")
    arc = _object(v.get("arc"), "verified.arc")
    _word(arc.get("result"), "verified.arc.result")
    _count(arc.get("instances", 0), "verified.arc.instances")
    _string(arc.get("reason", ""), "verified.arc.reason", MAX_VERDICT_TEXT)
    if v.get("spf") is not None:
        spf = _object(v["spf"], "verified.spf")
        for key in ("ip", "sender", "domain", "problem"):
            _string(spf.get(key, ""), f"verified.spf.{key}", MAX_VERDICT_TEXT)
        _word(spf.get("result"), "verified.spf.result")
    if v.get("dmarc") is not None:
        dmarc = _object(v["dmarc"], "verified.dmarc")
        _word(dmarc.get("result"), "verified.dmarc.result")
        for key in ("policy", "record_name", "org_domain", "reason"):
            _string(dmarc.get(key) or "", f"verified.dmarc.{key}", MAX_VERDICT_TEXT)
        for key in ("spf_aligned", "dkim_aligned"):
            if not isinstance(dmarc.get(key), bool):
                raise StoredMessageError(f"{key} must be true or false", f"verified.dmarc.{key}")
    names = _object(v.get("names", {}), "verified.names")
    for key in ("helo", "helo_outcome", "ptr_outcome"):
        _string(names.get(key) or "", f"verified.names.{key}", MAX_VERDICT_TEXT)
    for key in ("helo_addresses", "ptr_names"):
        items = names.get(key, [])
        if not isinstance(items, list) or len(items) > 50:
            raise StoredMessageError(f"{key} must be a list", f"verified.names.{key}")
        for n, item in enumerate(items):
            _string(item, f"verified.names.{key}[{n}]", 300)
    return v


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StoredMessageError(f"{where or 'the message'} must be an object", where)
    return value


def _string(value: object, where: str, limit: int) -> str:
    if not isinstance(value, str):
        raise StoredMessageError(f"{where} must be text", where)
    if len(value) > limit:
        raise StoredMessageError(f"{where} is longer than {limit} characters", where)
    return value


def _count(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100_000:
        raise StoredMessageError(f"{where} must be a whole number", where)
    return value


def _word(value: object, where: str) -> str:
    if value not in _RESULT_WORDS:
        raise StoredMessageError(f"{where} must be one of {', '.join(sorted(_RESULT_WORDS))}", where)
    return str(value)
