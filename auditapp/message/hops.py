"""The hop chain of a received message, from its ``Received:`` headers (RFC 5321 4.4).

Why our own parser: the grammar of RFC 5321 is followed loosely by every MTA, and the facts an
audit needs (the sender's IP, the name it announced in HELO/EHLO, whether TLS was used) sit in
comments whose layout differs per product. The parser is one linear pass per header that splits
the value into its clauses (``from``, ``by``, ``via``, ``with``, ``id``, ``for``) at parenthesis
depth 0, then reads the comments the way the common products write them:

* Postfix: ``from HELO (RDNS [IP]) (using TLSv1.3 with cipher ...) by HOST (Postfix) with ESMTPS id ...``
  (``RDNS`` is ``unknown`` when the reverse lookup failed);
* Exim: ``from RDNS ([IP] helo=HELO) by HOST with esmtps (TLS1.3) tls CIPHER (Exim 4.96) ...``
  or ``from [IP] (helo=HELO)``; Exim leaves out ``helo=`` when it equals the reverse name;
* Microsoft 365: ``from HELO (IP) by HOST (IP) with Microsoft SMTP Server (version=TLS1_2, cipher=...)``;
* Gmail: ``from HELO (RDNS. [IP]) by mx.google.com with ESMTPS id ... (version=TLS1_3 cipher=... bits=...)``;
* Dovecot LMTP, Sendmail and hops without a ``from`` clause (local pickup) parse the same way.

A value it cannot read gives a :class:`Hop` with ``None`` fields, never an exception.
"""

from __future__ import annotations

import email.utils
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

_CLAUSES = frozenset({"from", "by", "via", "with", "id", "for"})
_BRACKET_IP = re.compile(r"\[(?:IPv6:)?([0-9A-Fa-f:.]+)\](?::\d+)?")
_BARE_IP = re.compile(r"^(?:IPv6:)?([0-9A-Fa-f:.]*[:.][0-9A-Fa-f:.]*)$")
_HELO = re.compile(r"\bhelo=([^\s()\[\]]+)", re.IGNORECASE)
#: qmail: ``from RDNS (HELO name) (ip)``; upper case, a comment of its own.
_QMAIL_HELO = re.compile(r"^(?:HELO|EHLO) ([^\s()]+)$")
#: IronPort/Cisco: ``with ESMTP/TLS/ECDHE-RSA-AES128-GCM-SHA256``.
_SLASH_TLS = re.compile(r"^[A-Za-z0-9]+/TLS(?:/([A-Za-z0-9_-]+))?$", re.IGNORECASE)
#: Upper case only, and not followed by a label: ``tls1.example.com`` is a host, not TLS 1.
_TLS_VERSION = re.compile(r"\b(TLS|SSL)v?([1-3])(?:[._](\d))?(?![.-]?[A-Za-z0-9])")
_CIPHER = re.compile(r"\bcipher[= ]\s*([A-Za-z0-9_-]+)|\btls\s+([A-Z0-9][A-Za-z0-9_-]+)")
#: Second-level labels under which registrations happen (``example.co.uk``); a small, known list,
#: not the Public Suffix List: see :func:`organisation`.
_TWO_LEVEL_SUFFIXES = frozenset({
    "co.uk", "org.uk", "ac.uk", "gov.uk", "ltd.uk", "plc.uk", "me.uk", "net.uk",
    "com.au", "net.au", "org.au", "edu.au", "gov.au", "co.nz", "org.nz", "net.nz",
    "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "co.za", "org.za", "com.br", "net.br",
    "com.cn", "net.cn", "org.cn", "com.tr", "co.in", "net.in", "org.in", "co.at", "or.at",
    "gv.at", "ac.at", "com.mx", "com.ar", "com.sg", "com.hk", "co.kr", "co.il", "com.pl",
    "com.es", "com.pt", "co.id", "com.my", "com.tw", "com.ua", "co.th", "com.vn",
})
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


@dataclass(frozen=True)
class Hop:
    """One ``Received:`` header: who handed the message (``from_*``, ``helo``) to whom (``by``).

    ``from_name`` is the sender's reverse name where the receiver recorded one, else the name
    it announced; ``helo`` is the announced HELO/EHLO name as written (may be an address literal).
    ``protocol`` as written (``ESMTPS``, ``esmtpsa``, ``LMTP``, ``Microsoft SMTP Server``);
    ``tls`` the version recorded (normalised to ``TLSv1.3``), else ``"tls"`` when the protocol
    says TLS (``ESMTPS``/``ESMTPSA``), else ``None``. ``time`` is ISO 8601 from the date after
    ``;`` (``None`` when missing or unparsable); ``delay`` the seconds since the previous hop
    (transport order), ``None`` for the first hop or an unknown time; ``index`` 0 for the oldest.
    """

    from_name: str | None
    from_ip: str | None
    helo: str | None
    by: str | None
    protocol: str | None
    tls: str | None
    time: str | None
    raw: str
    by_ip: str | None = None
    cipher: str | None = None
    delay: float | None = None
    index: int = 0


def parse_hops(received: Sequence[str]) -> tuple[Hop, ...]:
    """Hops in transport order (oldest first) from ``Received:`` values in header order (newest first)."""
    hops: list[Hop] = []
    previous: datetime | None = None
    for index, value in enumerate(reversed(received)):
        hop, when = _parse(value)
        delay = (when - previous).total_seconds() if when is not None and previous is not None else None
        hops.append(_replace(hop, delay=delay, index=index))
        previous = when
    return tuple(hops)


def parse_received(value: str) -> Hop:
    """One ``Received:`` value (unfolded or folded) as a :class:`Hop` (``delay`` ``None``)."""
    return _parse(value)[0]


def _replace(hop: Hop, *, delay: float | None, index: int) -> Hop:
    return Hop(hop.from_name, hop.from_ip, hop.helo, hop.by, hop.protocol, hop.tls, hop.time, hop.raw,
               hop.by_ip, hop.cipher, delay, index)


def _parse(value: str) -> tuple[Hop, datetime | None]:
    raw = " ".join(value.split())
    clauses, date_text = _clauses(raw)
    from_words, from_comments = clauses.get("from", ([], []))
    by_words, by_comments = clauses.get("by", ([], []))
    with_words, _ = clauses.get("with", ([], []))
    first = from_words[0] if from_words else None
    literal = first is not None and (_literal_ip(first) is not None or _valid_ip(first) is not None)
    rdns, from_ip = _reverse_and_ip(first, from_comments)
    if from_ip is None:
        # ZoneMTA "from foo [127.0.0.1]": the address as a word of its own after the name.
        from_ip = next((ip for w in from_words[1:] if (ip := _literal_ip(w))), None)
    helo_match = next((m for m in map(_HELO.search, from_comments) if m), None) or next(
        (m for m in (_QMAIL_HELO.match(c.strip()) for c in from_comments) if m), None)
    if helo_match:  # Exim: "from rdns ([ip] helo=x)" or "from [ip] (helo=x)"; qmail "(HELO x)"
        helo = helo_match.group(1)
        if rdns is None and not literal:
            rdns = first
    else:  # Postfix, Sendmail, Gmail, Microsoft: the first word is the announced name
        helo = first
    from_name = rdns if rdns and rdns.lower() != "unknown" else (None if literal or helo_match else first)
    protocol = _protocol(with_words)
    body = raw[:len(raw) - len(date_text) - 1] if date_text is not None else raw
    tls = _tls_version(body)
    slash = _SLASH_TLS.match(protocol or "")
    if tls is None and protocol and (protocol.upper().startswith(("ESMTPS", "ESMTPSA", "SMTPS", "LMTPS"))
                                     or slash):
        tls = "tls"
    when = _date(date_text)
    hop = Hop(
        from_name=_name(from_name), from_ip=from_ip, helo=helo, by=_name(by_words[0]) if by_words else None,
        protocol=protocol, tls=tls, time=when.isoformat() if when else None, raw=raw,
        by_ip=_reverse_and_ip(None, by_comments)[1], cipher=_cipher(body) or (slash.group(1) if slash else None))
    return hop, when


def _clauses(raw: str) -> tuple[dict[str, tuple[list[str], list[str]]], str | None]:
    """Words and top-level comments per clause, and the text after the last top-level ``;``.

    One pass over the characters; nested comments stay inside their top-level comment, and an
    unclosed parenthesis makes the rest one comment rather than an error.
    """
    clauses: dict[str, tuple[list[str], list[str]]] = {}
    current: tuple[list[str], list[str]] | None = None
    depth = 0
    last_semicolon = -1
    word_start = comment_start = -1
    events: list[tuple[str, str]] = []
    for pos, char in enumerate(raw):
        if depth:
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth == 0:
                    events.append(("comment", raw[comment_start:pos]))
            elif char == "\\":
                pass
            continue
        if char == "(" or char == ";" or char.isspace():
            if word_start >= 0:
                events.append(("word", raw[word_start:pos]))
                word_start = -1
            if char == "(":
                depth, comment_start = 1, pos + 1
            elif char == ";":
                last_semicolon = pos
                events.append(("semicolon", ""))
        elif word_start < 0:
            word_start = pos
    if depth and comment_start >= 0:
        events.append(("comment", raw[comment_start:]))
    elif word_start >= 0:
        events.append(("word", raw[word_start:]))
    for kind, text in events:
        if kind == "semicolon":
            current = None
        elif kind == "word" and text.lower() in _CLAUSES and text.lower() not in clauses and (
                current is None or current[0] or current[1]):
            current = clauses[text.lower()] = ([], [])
        elif current is not None:
            (current[0] if kind == "word" else current[1]).append(text)
    date_text = raw[last_semicolon + 1:].strip() if last_semicolon >= 0 else None
    return clauses, date_text


def _reverse_and_ip(first: str | None, comments: list[str]) -> tuple[str | None, str | None]:
    """The reverse name and the address from ``(rdns [ip])``, ``([ip] helo=x)``, ``(ip)`` or ``[ip]``."""
    for comment in comments:
        match = _BRACKET_IP.search(comment)
        if match and _valid_ip(match.group(1)):
            before = comment[:match.start()].split()
            return (before[-1] if before else None), _valid_ip(match.group(1))
        words = comment.replace(",", " ").split()
        if words:
            bare = _BARE_IP.match(words[0])
            if bare and _valid_ip(bare.group(1)):
                return None, _valid_ip(bare.group(1))
    if first:  # "from [ip]", or qmail's "from 223.152.177.168 by ..."
        return None, _literal_ip(first) or _valid_ip(first)
    return None, None


def _literal_ip(word: str) -> str | None:
    match = _BRACKET_IP.fullmatch(word)
    return _valid_ip(match.group(1)) if match else None


def _valid_ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.rstrip(".")))
    except ValueError:
        return None


def _name(name: str | None) -> str | None:
    return name.rstrip(".").lower() if name else None


def _protocol(words: list[str]) -> str | None:
    if not words:
        return None
    if [w.lower() for w in words[:3]] == ["microsoft", "smtp", "server"]:
        return " ".join(words[:3])
    return words[0]


def _tls_version(text: str) -> str | None:
    match = _TLS_VERSION.search(text)
    if not match:
        return None
    kind, major, minor = match.group(1).upper(), match.group(2), match.group(3)
    if kind == "SSL":
        return f"SSLv{major}"
    return f"TLSv{major}.{minor}" if minor is not None else f"TLSv{major}"


def _cipher(text: str) -> str | None:
    match = _CIPHER.search(text)
    if match:
        return match.group(1) or match.group(2)
    return None


def _date(text: str | None) -> datetime | None:
    """The hop's time, timezone-aware; ``None`` for a missing, malformed or impossible date."""
    if not text:
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, source zone unknown (RFC 5322 3.3)
        when = when.replace(tzinfo=UTC)
    return when


def is_public(address: str | None) -> bool:
    """Whether ``address`` is an Internet address: not loopback, link-local, RFC 1918, ULA, CGNAT
    or unspecified (also as IPv4-mapped IPv6).

    The same notion as ``collectors.netguard.internal_kind`` (documentation ranges count as
    public, so hand-written samples behave like real ones), kept here because this layer may not
    import collectors.
    """
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_loopback or ip.is_link_local or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv4Address):
        return not (ip in ipaddress.ip_network("10.0.0.0/8") or ip in ipaddress.ip_network("172.16.0.0/12")
                    or ip in ipaddress.ip_network("192.168.0.0/16") or ip in _CGNAT)
    return ip not in ipaddress.ip_network("fc00::/7")


def organisation(host: str | None) -> str | None:
    """A host's organisational domain by a simple rule: its last two labels, or three under a known
    two-level suffix (``mail.example.co.uk`` → ``example.co.uk``).

    Limitation: this is not the Public Suffix List nor RFC 9989's DNS tree walk, so a suffix not in
    the short list (``example.gov.pl``) or a private suffix (``x.github.io``) is cut too short; it
    only decides whether two hosts of one hop look like one organisation. ``None`` for an address
    literal or a name without a dot.
    """
    name = _name(host)
    if not name or name.startswith("[") or _valid_ip(name) is not None:
        return None
    labels = name.split(".")
    if len(labels) < 2:
        return None
    keep = 3 if ".".join(labels[-2:]) in _TWO_LEVEL_SUFFIXES and len(labels) >= 3 else 2
    return ".".join(labels[-keep:])


def _within(host: str | None, domains: set[str]) -> bool:
    name = _name(host)
    return bool(name) and any(name == d or name.endswith("." + d) for d in domains)


def sending_hop(hops: Sequence[Hop], receiver_domains: Iterable[str] | None = None,
                allow_internal: bool = False, sender_domains: Iterable[str] | None = None) -> Hop | None:
    """The hop a receiving MX judged: who handed the message to the first receiver outside the
    sender's organisation; its ``from_ip`` is issue 15's ``sending_ip``.

    Heuristic:

    0. with ``sender_domains`` (the From and envelope domains): walking from the oldest hop, the
       first hop whose sending host (reverse name or HELO) belongs to the sender's organisation and
       whose receiving host does not. This is the definition itself, and it stays right for a
       message forwarded later (the forwarder's hop to the final mailbox is newer, and not the
       sender's hand-over);

    then, walking from the newest hop backwards (``hops`` in transport order):

    1. with ``receiver_domains`` (the receiving organisation's domains, e.g. the mailbox's): the
       first hop whose ``from_ip`` is public, whose ``by`` host is within those domains and whose
       sending host is not;
    2. else the first hop whose ``from_ip`` is public and whose ``by`` host belongs to another
       organisation (:func:`organisation`) than the sending host (reverse name, else HELO); a
       sender with neither name counts as another organisation;
    3. else the oldest hop with a public ``from_ip``; ``None`` when no hop has one.

    Hops inside the receiver (LMTP to the mailbox, private addresses, one provider's internal
    relays) are passed over by rule 2 because both ends share an organisation or the address is
    private. ``allow_internal`` (an internal audit, the lab) lets private and loopback addresses
    count as well, since there every server has one.
    """
    def eligible(address: str | None) -> bool:
        return _valid_ip(address or "") is not None if allow_internal else is_public(address)

    senders = {org for d in sender_domains or () if (org := organisation(d))}
    if senders:
        for hop in hops:
            if eligible(hop.from_ip) and not _within(hop.by, senders) and (
                    _within(hop.from_name, senders) or _within(hop.helo, senders)):
                return hop
    newest_first = list(reversed(hops))
    wanted = {d.strip().rstrip(".").lower() for d in receiver_domains or () if d and d.strip()}
    if wanted:
        for hop in newest_first:
            if eligible(hop.from_ip) and _within(hop.by, wanted) and not (
                    _within(hop.from_name, wanted) or _within(hop.helo, wanted)):
                return hop
    for hop in newest_first:
        if not eligible(hop.from_ip):
            continue
        receiver = organisation(hop.by)
        sender = organisation(hop.from_name) or organisation(hop.helo)
        if sender is None or receiver is None or sender != receiver:
            return hop
    return next((hop for hop in hops if eligible(hop.from_ip)), None)
