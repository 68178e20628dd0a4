"""Parsing SPF records (RFC 7208 §4.5, §4.6, §5, §6 and the ABNF of §12).

The parser is strict on purpose: §4.6 makes a syntax error anywhere in a record a
``permerror`` for every sender, so an audit must flag exactly what a strict receiver rejects,
not what a lenient one happens to tolerate. Every check cites the ABNF rule it enforces.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from auditapp.core.text import ascii_digits
from auditapp.spf.errors import SpfSyntaxError
from auditapp.spf.macros import DOMAIN_LETTERS, Literal, Macro, has_macros, tokenize

#: Mechanisms of §5, in the order the RFC lists them.
MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
#: Terms that cost a DNS query during evaluation and count against the limit of 10 (§4.6.4).
DNS_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})
QUALIFIERS = "+-~?"

_VERSION = "v=spf1"
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.\-]*)=(.*)", re.DOTALL)
_MECHANISM = re.compile(r"([+\-~?]?)([A-Za-z][A-Za-z0-9]*)(.*)", re.DOTALL)
# qnum = DIGIT / %x31-39 DIGIT / "1" 2DIGIT / "2" %x30-34 DIGIT / "25" %x30-35
_QNUM = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])"
_IP4 = re.compile(rf":({_QNUM}(?:\.{_QNUM}){{3}})(?:/([0-9]+))?")
_IP6 = re.compile(r":([0-9A-Fa-f:.]+)(?:/([0-9]+))?")
# ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT); ip6-cidr-length = "/" ("0" / %x31-39 0*2DIGIT)
_CIDR4 = re.compile(r"0|[1-9][0-9]?")
_CIDR6 = re.compile(r"0|[1-9][0-9]{0,2}")
_DUAL_CIDR = re.compile(r"(?:/([0-9]+))?(?://([0-9]+))?")
_DOMAIN_THEN_CIDR = re.compile(r"(.*?)((?:/[0-9]+)?(?://[0-9]+)?)", re.DOTALL)
# toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
_TOPLABEL = re.compile(r"[0-9A-Za-z]*[A-Za-z][0-9A-Za-z]*|[0-9A-Za-z]+-[0-9A-Za-z\-]*[0-9A-Za-z]")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Mechanism:
    """A mechanism term: ``[qualifier] name [":" domain-spec | ":" network] [cidr]``."""

    qualifier: str  # one of "+", "-", "~", "?" ("+" when the record left it out)
    name: str  # lower-case, one of MECHANISMS
    domain_spec: str | None = None  # include, a, mx, ptr, exists; None means "current domain"
    network: IPNetwork | None = None  # ip4, ip6
    cidr4: int | None = None  # a, mx: prefix applied to A records (None: /32)
    cidr6: int | None = None  # a, mx: prefix applied to AAAA records (None: /128)
    text: str = ""  # the term as written

    @property
    def queries_dns(self) -> bool:
        return self.name in DNS_MECHANISMS

    @property
    def has_macros(self) -> bool:
        return self.domain_spec is not None and has_macros(self.domain_spec)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Modifier:
    """A modifier term ``name=value``: ``redirect``, ``exp`` or an unknown one (ignored, §6)."""

    name: str  # lower-case
    value: str
    text: str = ""

    @property
    def queries_dns(self) -> bool:
        return self.name == "redirect"

    @property
    def has_macros(self) -> bool:
        return self.name in ("redirect", "exp") and has_macros(self.value)

    def __str__(self) -> str:
        return self.text


Term = Mechanism | Modifier


@dataclass(frozen=True)
class SpfRecord:
    """A parsed ``v=spf1`` record: its text and its terms in order."""

    text: str
    terms: tuple[Term, ...]

    @cached_property
    def mechanisms(self) -> tuple[Mechanism, ...]:
        return tuple(t for t in self.terms if isinstance(t, Mechanism))

    @cached_property
    def redirect(self) -> Modifier | None:
        return next((t for t in self.terms if isinstance(t, Modifier) and t.name == "redirect"), None)

    @cached_property
    def exp(self) -> Modifier | None:
        return next((t for t in self.terms if isinstance(t, Modifier) and t.name == "exp"), None)

    @cached_property
    def has_all(self) -> bool:
        """§6.1: an ``all`` anywhere makes any ``redirect`` dead."""
        return any(m.name == "all" for m in self.mechanisms)

    @cached_property
    def effective_redirect(self) -> Modifier | None:
        """The redirect evaluation would follow (None when ``all`` overrides it)."""
        return None if self.has_all else self.redirect

    @cached_property
    def dns_terms(self) -> tuple[Term, ...]:
        """Terms that count against the 10-lookup limit, in evaluation order (§4.6.4)."""
        terms: list[Term] = [m for m in self.mechanisms if m.queries_dns]
        if self.effective_redirect is not None:
            terms.append(self.effective_redirect)
        return tuple(terms)

    def __str__(self) -> str:
        return self.text


def is_spf_record(text: str) -> bool:
    """§4.5: a record is SPF when it starts with ``v=spf1`` (any case) then a space or its end.

    ``v=spf10`` or ``v=spf1mx`` (two TXT strings glued without a space) are not SPF records.
    """
    return text[:6].lower() == _VERSION and (len(text) == 6 or text[6] == " ")


def select_spf_records(texts: Iterable[str]) -> tuple[str, ...]:
    """The TXT texts that are SPF records (§4.5); more than one is a ``permerror``."""
    return tuple(t for t in texts if is_spf_record(t))


#: One TXT record cannot be longer than a DNS message (65,535 bytes over TCP); anything longer
#: did not come from DNS and is refused before it is parsed (issue 12, item 6).
MAX_RECORD = 65535


def parse_record(text: str) -> SpfRecord:
    """Parse one record, raising :class:`SpfSyntaxError` on any syntax error."""
    if not is_spf_record(text):
        raise SpfSyntaxError(f"not an SPF record (must start with 'v=spf1'): {text[:40]!r}")
    if len(text) > MAX_RECORD:
        raise SpfSyntaxError(f"{len(text)} characters: longer than one DNS answer can carry ({MAX_RECORD})")
    for ch in text:
        code = ord(ch)
        if code > 0x7E:
            raise SpfSyntaxError(f"non-ASCII character {ch!r} in the record (§3: SPF records are ASCII)")
        if code < 0x20:
            raise SpfSyntaxError(
                f"control character {ch!r} in the record (terms are separated by spaces only)"
            )
    terms: list[Term] = []
    seen: set[str] = set()
    for word in text[6:].split(" "):
        if not word:  # 1*SP between terms, trailing spaces allowed (§4.5)
            continue
        term = parse_term(word)
        if isinstance(term, Modifier) and term.name in ("redirect", "exp"):
            if term.name in seen:  # §6: these two MUST NOT appear more than once
                raise SpfSyntaxError(f"the {term.name}= modifier appears more than once")
            seen.add(term.name)
        terms.append(term)
    return SpfRecord(text, tuple(terms))


def parse_term(word: str) -> Term:
    """One space-free term; a modifier when it is ``name=...`` (§4.6.1), else a mechanism."""
    modifier = _MODIFIER.fullmatch(word)
    if modifier:
        return _parse_modifier(modifier.group(1).lower(), modifier.group(2), word)
    mechanism = _MECHANISM.fullmatch(word)
    if not mechanism:
        raise SpfSyntaxError(f"invalid term {word!r}")
    qualifier, name, rest = mechanism.groups()
    name = name.lower()
    if name not in MECHANISMS:
        raise SpfSyntaxError(f"unknown mechanism {name!r} in {word!r}")
    return _parse_mechanism(qualifier or "+", name, rest, word)


def _parse_modifier(name: str, value: str, word: str) -> Modifier:
    if name in ("redirect", "exp"):
        # "redirect" "=" domain-spec / "exp" "=" domain-spec. Known names are not "greedy"
        # unknown-modifiers: a bad value is an error, not an ignored modifier (test suite).
        check_domain_spec(value, word)
    else:
        try:  # unknown-modifier = name "=" macro-string
            tokenize(value, letters=frozenset("slodiphvcrt"))
        except SpfSyntaxError as exc:
            raise SpfSyntaxError(f"invalid macro-string in modifier {word!r}: {exc.message}") from None
    return Modifier(name, value, word)


def _parse_mechanism(qualifier: str, name: str, rest: str, word: str) -> Mechanism:
    if name == "all":
        if rest:
            raise SpfSyntaxError(f"'all' takes no argument: {word!r}")
        return Mechanism(qualifier, name, text=word)
    if name in ("include", "exists"):
        if not rest.startswith(":"):
            raise SpfSyntaxError(f"{name!r} needs ':domain': {word!r}")
        check_domain_spec(rest[1:], word)
        return Mechanism(qualifier, name, domain_spec=rest[1:], text=word)
    if name == "ptr":
        if not rest:
            return Mechanism(qualifier, name, text=word)
        if not rest.startswith(":"):
            raise SpfSyntaxError(f"'ptr' takes only ':domain': {word!r}")
        check_domain_spec(rest[1:], word)
        return Mechanism(qualifier, name, domain_spec=rest[1:], text=word)
    if name in ("a", "mx"):
        return _parse_host_mechanism(qualifier, name, rest, word)
    return _parse_ip_mechanism(qualifier, name, rest, word)


def _parse_host_mechanism(qualifier: str, name: str, rest: str, word: str) -> Mechanism:
    """``a`` and ``mx``: ``[ ":" domain-spec ] [ dual-cidr-length ]``."""
    domain: str | None = None
    cidr_text = rest
    if rest.startswith(":"):
        split = _DOMAIN_THEN_CIDR.fullmatch(rest[1:])
        assert split is not None  # the pattern matches any string
        domain, cidr_text = split.groups()
        check_domain_spec(domain, word)
    elif rest and not rest.startswith("/"):
        raise SpfSyntaxError(f"invalid {name!r} mechanism: {word!r}")
    dual = _DUAL_CIDR.fullmatch(cidr_text)
    if dual is None:
        raise SpfSyntaxError(f"invalid CIDR length in {word!r}")
    cidr4 = _cidr(dual.group(1), _CIDR4, 32, word)
    cidr6 = _cidr(dual.group(2), _CIDR6, 128, word)
    return Mechanism(qualifier, name, domain_spec=domain, cidr4=cidr4, cidr6=cidr6, text=word)


def _parse_ip_mechanism(qualifier: str, name: str, rest: str, word: str) -> Mechanism:
    """``ip4:network[/len]`` and ``ip6:network[/len]`` (no dual CIDR, no omitted octets)."""
    if name == "ip4":
        match = _IP4.fullmatch(rest)
        if not match:
            raise SpfSyntaxError(f"invalid ip4 network in {word!r}")
        length = _cidr(match.group(2), _CIDR4, 32, word)
        network: IPNetwork = ipaddress.IPv4Network(f"{match.group(1)}/{32 if length is None else length}",
                                                    strict=False)
        return Mechanism(qualifier, name, network=network, text=word)
    match = _IP6.fullmatch(rest)
    if not match:
        raise SpfSyntaxError(f"invalid ip6 network in {word!r}")
    try:
        address = ipaddress.IPv6Address(match.group(1))
    except ValueError:
        raise SpfSyntaxError(f"invalid ip6 address in {word!r}") from None
    length = _cidr(match.group(2), _CIDR6, 128, word)
    network = ipaddress.IPv6Network(f"{address}/{128 if length is None else length}", strict=False)
    return Mechanism(qualifier, name, network=network, text=word)


def _cidr(digits: str | None, pattern: re.Pattern[str], maximum: int, word: str) -> int | None:
    if digits is None:
        return None
    if not pattern.fullmatch(digits) or int(digits) > maximum:
        raise SpfSyntaxError(f"invalid CIDR length /{digits} in {word!r} (0 to {maximum}, no leading zero)")
    return int(digits)


def check_domain_spec(spec: str, word: str) -> None:
    """``domain-spec = macro-string domain-end``; ``domain-end = ( "." toplabel [ "." ] ) /
    macro-expand``.

    So a literal name needs at least two labels and a top label that is not all digits
    (``a:192.0.2.1`` is the classic mistake), and ``c``/``r``/``t`` are not allowed (§7.1).
    """
    if not spec:
        raise SpfSyntaxError(f"empty domain-spec in {word!r}")
    try:
        tokens = tokenize(spec, letters=DOMAIN_LETTERS)
    except SpfSyntaxError as exc:
        raise SpfSyntaxError(f"invalid domain-spec in {word!r}: {exc.message}") from None
    last = tokens[-1]
    if isinstance(last, Macro) or (isinstance(last, Literal) and last.expand):
        return
    tail = last.text[:-1] if last.text.endswith(".") else last.text
    if "." not in tail:
        raise SpfSyntaxError(f"domain-spec {spec!r} in {word!r} must end in '.toplabel' or a macro")
    top = tail.rsplit(".", 1)[1]
    if not _TOPLABEL.fullmatch(top):
        hint = " (an IP address belongs in ip4:/ip6:)" if ascii_digits(top) else ""
        raise SpfSyntaxError(f"invalid top-level label {top!r} in {word!r}{hint}")
