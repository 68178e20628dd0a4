"""Reading a received message (an ``.eml`` file, or headers pasted as text) into its header facts.

Why this module is defensive: the file comes from a consultant's mailbox or clipboard and can be
anything (a 30 MB attachment export, a PDF dropped by mistake, a mail bomb with thousands of
``Received:`` lines). So, before the standard library's :mod:`email` parser sees it:

* files over :data:`MAX_FILE_BYTES` and header blocks over :data:`MAX_HEADER_BYTES` are refused;
* the header block is split off by our own linear search for the first empty line, and its first
  line must be a header field (``Name: value``), else it is not a message;
* a NUL byte in the header block is refused (RFC 5322 forbids it; it marks a binary file);
* the block must carry at least one field a mail message has (``From``, ``Received``, ...).

Every refusal is a :class:`MessageError` whose ``str()`` is one line for the user.

Privacy (issue 15): messages carry personal data and the project stores the header block only.
The body is reduced to its SHA-256 and length at once; :class:`MessageHeaders` never holds it.
DKIM verification needs the body, so the verifier is handed the original bytes by the caller
before they are dropped, not through this record.
"""

from __future__ import annotations

import email.errors
import email.header
import email.utils
import hashlib
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

from auditapp.core.safe_read import read_regular_file

#: A whole file larger than this is not a received message worth reading (20 MiB).
MAX_FILE_BYTES = 20 * 1024 * 1024
#: A header block larger than this is hostile or broken (1 MiB; real ones are a few KiB).
MAX_HEADER_BYTES = 1024 * 1024

#: Fields of which at least one must be present for the block to count as a message's header.
_MESSAGE_FIELDS = frozenset({
    "from", "received", "message-id", "date", "return-path", "to", "subject", "dkim-signature",
    "authentication-results", "arc-seal", "delivered-to", "sender", "mime-version",
})
_FIELD_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


class MessageError(ValueError):
    """The input is not a message we can read; ``str()`` is one line saying why."""


@dataclass(frozen=True)
class MessageHeaders:
    """What a received message's header block tells, without its body.

    Header values in the tuples are in header order (topmost first, i.e. newest first for
    ``Received:``). ``received`` and ``authentication_results`` are unfolded and decoded for
    reading; ``dkim_signatures`` and the ``arc_*`` fields keep the raw value as written
    (folding included), because signature verification depends on every byte.
    """

    header_block: bytes
    body_sha256: str | None
    body_bytes: int | None
    message_id: str | None
    from_address: str | None
    from_domain: str | None
    from_domains: tuple[str, ...]
    envelope_sender: str | None
    received: tuple[str, ...]
    authentication_results: tuple[str, ...]
    dkim_signatures: tuple[str, ...]
    arc_seals: tuple[str, ...]
    arc_message_signatures: tuple[str, ...]
    arc_authentication_results: tuple[str, ...]
    fields: tuple[tuple[str, str], ...]

    @property
    def envelope_domain(self) -> str | None:
        """The envelope sender's domain (SPF's MAIL FROM identity), ``None`` for none or ``<>``."""
        if not self.envelope_sender or "@" not in self.envelope_sender:
            return None
        return ascii_domain(self.envelope_sender.rpartition("@")[2])


def read_file(path: str | Path) -> MessageHeaders:
    """Read an ``.eml`` file (regular files only, at most :data:`MAX_FILE_BYTES`)."""
    try:
        data = read_regular_file(path, MAX_FILE_BYTES)
    except OSError as exc:
        raise MessageError(f"{path}: {exc}") from exc
    return read_message(data)


def read_text(text: str) -> MessageHeaders:
    """Read headers pasted as text (with or without a body after an empty line)."""
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate from a clipboard: keep the rest readable
        data = text.encode("utf-8", "replace")
    return read_message(data)


def read_message(data: bytes) -> MessageHeaders:
    """Read a message's bytes: the header block is parsed, the body kept only as its hash."""
    if len(data) > MAX_FILE_BYTES:
        raise MessageError(f"the message has {len(data) // (1024 * 1024)} MiB, more than the "
                           f"{MAX_FILE_BYTES // (1024 * 1024)} MiB a received message may have")
    head, body = split_message(data)
    _check_head(head)
    parsed = _parse(head)
    fields = tuple((name, _text(value)) for name, value in parsed.raw_items())
    names = {name.lower() for name, _ in fields}
    if not names & _MESSAGE_FIELDS:
        raise MessageError("not a message: the header block has none of From, Received, Message-ID, Date")
    from_address, from_domains = _from(parsed)
    return MessageHeaders(
        header_block=head,
        body_sha256=None if body is None else hashlib.sha256(body).hexdigest(),
        body_bytes=None if body is None else len(body),
        message_id=_message_id(fields),
        from_address=from_address,
        from_domain=from_domains[0] if from_domains else None,
        from_domains=from_domains,
        envelope_sender=_envelope_sender(fields),
        received=_unfolded(fields, "received"),
        authentication_results=_unfolded(fields, "authentication-results"),
        dkim_signatures=_raw(fields, "dkim-signature"),
        arc_seals=_raw(fields, "arc-seal"),
        arc_message_signatures=_raw(fields, "arc-message-signature"),
        arc_authentication_results=_raw(fields, "arc-authentication-results"),
        fields=fields,
    )


def split_message(data: bytes) -> tuple[bytes, bytes | None]:
    """The header block (ending with its last line break) and the body, ``None`` if there is none.

    Our own split, not the parser's: it is one linear search bounded by :data:`MAX_HEADER_BYTES`,
    so a 10 MB block without an empty line is refused without being parsed. A leading UTF-8 BOM,
    leading empty lines (pasted text) and an mbox ``From `` line are dropped.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = data.lstrip(b"\r\n")
    if data.startswith(b"From "):
        data = data.partition(b"\n")[2]
    match = _BLANK_LINE.search(data, 0, MAX_HEADER_BYTES + 4)
    if match is None:
        if len(data) > MAX_HEADER_BYTES:
            raise MessageError(f"the header block is larger than {MAX_HEADER_BYTES // 1024} KiB "
                               "(no empty line after it); not read")
        if not data.endswith(b"\n"):
            data += b"\r\n" if b"\r\n" in data else b"\n"
        return data, None
    split = match.start() + (2 if data[match.start()] == 0x0D else 1)
    return data[:split], data[match.end():]


def _check_head(head: bytes) -> None:
    if not head.strip():
        raise MessageError("not a message: it is empty")
    if b"\x00" in head:
        raise MessageError("not a message: the header block contains NUL bytes (a binary file?)")
    if not _FIELD_LINE.match(head):
        raise MessageError("not a message: it does not start with a header field such as 'From: ...'")


def _parse(head: bytes) -> EmailMessage:
    try:
        parsed = BytesParser(policy=default_policy).parsebytes(head, headersonly=True)
    except (email.errors.MessageError, ValueError, TypeError, IndexError) as exc:
        raise MessageError(f"not a message: the header block cannot be parsed ({exc})") from exc
    assert isinstance(parsed, EmailMessage)
    return parsed


def _text(value: str) -> str:
    """A raw value from the bytes parser as text: undecodable bytes were smuggled as surrogates."""
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        return value.encode("utf-8", "replace").decode("utf-8")


def unfold(value: str) -> str:
    """A folded header value on one line (RFC 5322 3.2.2), runs of white space made one space."""
    return " ".join(value.split())


def _values(fields: tuple[tuple[str, str], ...], name: str) -> list[str]:
    return [value for field, value in fields if field.lower() == name]


def _unfolded(fields: tuple[tuple[str, str], ...], name: str) -> tuple[str, ...]:
    return tuple(_decoded(unfold(value)) for value in _values(fields, name))


def _raw(fields: tuple[tuple[str, str], ...], name: str) -> tuple[str, ...]:
    return tuple(_values(fields, name))


def _decoded(value: str) -> str:
    """Encoded words (``=?utf-8?q?...?=``) decoded; the value unchanged if they are broken."""
    if "=?" not in value:
        return value
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (email.errors.HeaderParseError, UnicodeError, LookupError, ValueError):
        return value


def _message_id(fields: tuple[tuple[str, str], ...]) -> str | None:
    values = _values(fields, "message-id")
    if not values:
        return None
    value = unfold(values[0])
    return value or None


def _envelope_sender(fields: tuple[tuple[str, str], ...]) -> str | None:
    """The topmost ``Return-Path`` (the final delivery's), without ``<>``; ``""`` for the null sender."""
    values = _values(fields, "return-path")
    if not values:
        return None
    value = unfold(values[0])
    start, end = value.find("<"), value.rfind(">")
    if 0 <= start < end:
        value = value[start + 1:end]
    value = value.strip()
    if ":" in value and value.startswith("@"):  # obsolete source route <@a,@b:user@c>
        value = value.rpartition(":")[2]
    return value


def _from(parsed: EmailMessage) -> tuple[str | None, tuple[str, ...]]:
    """The first RFC5322.From address and every From domain (ASCII, lowercased), in order.

    All ``From`` fields count: a message with two of them (or two domains in one) is one DMARC
    cannot judge, and the verifier must see that rather than only the first.
    """
    specs: list[str] = []
    for value in _all_values(parsed, "From"):
        try:
            addresses = list(getattr(value, "addresses", ()) or ())
            found = [f"{a.username}@{a.domain}" if a.domain else a.username for a in addresses]
        except (email.errors.HeaderParseError, ValueError, TypeError, IndexError, AttributeError):
            found = []
        if not any("@" in spec for spec in found):  # the header parser gave up: the lenient one
            found = [addr for _, addr in email.utils.getaddresses([unfold(str(value))]) if "@" in addr]
        specs.extend(_text(spec) for spec in found if spec)  # raw UTF-8 (RFC 6532) arrives escaped
    domains = tuple(d for d in (ascii_domain(s.rpartition("@")[2]) for s in specs if "@" in s) if d)
    return (specs[0] if specs else None), tuple(dict.fromkeys(domains))


def _all_values(parsed: EmailMessage, name: str) -> list[object]:
    try:
        return list(parsed.get_all(name) or [])
    except (email.errors.HeaderParseError, ValueError, TypeError, IndexError, AttributeError):
        return [value for field, value in parsed.raw_items() if field.lower() == name.lower()]


def header_value(parsed: EmailMessage, name: str) -> str | None:
    """The first raw value of ``name``, unfolded, or ``None``."""
    for field, value in parsed.raw_items():
        if field.lower() == name.lower():
            return unfold(_text(value))
    return None


def ascii_domain(domain: str | None) -> str | None:
    """``domain`` lowercased and as A-labels (IDNA), ``None`` for none, a literal or a broken name.

    A From domain may be written in Unicode (RFC 6532); DNS (DMARC, DKIM keys) asks for A-labels.
    """
    if not domain:
        return None
    name = domain.strip().rstrip(".").lower()
    if not name or name.startswith("[") or any(c.isspace() for c in name):
        return None
    if name.isascii():
        return name
    try:
        return name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
