"""What a message's verdicts and hops mean, as plain functions: the vocabulary the MSG-* checks use.

Kept apart from :mod:`auditapp.message.evidence` (which verifies, and so imports dkimpy and the
DMARC code of the checks package) so that the checks can import these without a cycle.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

from auditapp.message.hops import is_public, organisation

if TYPE_CHECKING:
    from auditapp.message.evidence import MessageEvidence
    from auditapp.message.verify import DkimResult

#: Top-level names that are not on the Internet (RFC 6762 .local, RFC 8375 home.arpa, ICANN's
#: .internal, the names ICANN will not delegate (.corp, .home, .mail) and the suffixes of Windows
#: domains and home routers that end up in HELO names). Not .test or .example: labs use them.
PRIVATE_SUFFIXES = ("local", "localdomain", "lan", "internal", "intranet", "corp", "home", "mail", "home.arpa",
                    "private", "localnet", "domain", "invalid")
#: Names that are harmless to show: the host talking to itself.
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

#: SpfMessageResult.problem when the sending hop's envelope sender is not in the headers.
ENVELOPE_UNKNOWN = "envelope sender at the hand-over unknown (forwarded after it left the sender)"
HEADERS_ONLY = "not verified: only the header block was given (DKIM needs the body)"


# --- what the headers give away ----------------------------------------------------------------


def private_name(name: str | None) -> bool:
    """A name that is not on the Internet: a private suffix (``firma.local``) or a single label."""
    n = (name or "").rstrip(".").lower()
    if not n or n in _LOOPBACK_NAMES or n.startswith("[") or literal_ip(n) is not None or n == "unknown":
        return False
    if "." not in n:
        return True
    return any(n == s or n.endswith("." + s) for s in PRIVATE_SUFFIXES)


def private_address(address: str | None) -> bool:
    """An internal address worth hiding (RFC 1918, ULA, CGNAT, link-local); loopback is harmless."""
    ip = literal_ip(address or "")
    if ip is None:
        return False
    parsed = ipaddress.ip_address(ip)
    return not parsed.is_loopback and not parsed.is_unspecified and not is_public(ip)


def leaks(evidence: MessageEvidence) -> list[tuple[int, str, str]]:
    """``(hop number, what, value)`` for every internal name or address the sender's servers wrote."""
    found: list[tuple[int, str, str]] = []
    for hop in evidence.sender_hops:
        number = hop.index + 1
        for what, value in (("from", hop.from_name), ("helo", hop.helo), ("by", hop.by)):
            if private_name(value):
                found.append((number, what, str(value)))
        for what, value in (("from_ip", hop.from_ip), ("by_ip", hop.by_ip)):
            if private_address(value):
                found.append((number, what, str(value)))
    return list(dict.fromkeys(found))


# --- the DKIM problem behind a result ------------------------------------------------------------

#: The reason prefixes :mod:`auditapp.message.verify` writes, and the problem each one names.
_DKIM_PROBLEMS = (
    ("body hash mismatch", "body_changed"),
    ("key missing", "key_missing"),
    ("key too short", "key_too_short"),
    ("signature expired", "expired"),
    ("rsa-sha1", "sha1"),
    ("signature mismatch", "signature_mismatch"),
    ("bad key record", "bad_key"),
    ("malformed signature", "malformed"),
    ("key lookup failed", "lookup_failed"),
    ("ed25519 signatures cannot be checked", "unsupported"),
    (HEADERS_ONLY, "headers_only"),
    ("the message cannot be parsed", "unparsable"),
)


def dkim_problem(result: DkimResult) -> str:
    """One word for what became of a signature: ``pass``, or the problem (``body_changed``, ...)."""
    if result.result == "pass":
        return "pass"
    for prefix, problem in _DKIM_PROBLEMS:
        if result.reason.startswith(prefix):
            return problem
    return "other"


def aligned(domain: str, from_domain: str, org_domain: str = "") -> bool:
    """Relaxed alignment of a signing domain with the From domain (RFC 9989), by the organisational domain.

    ``org_domain`` is the DMARC tree walk's answer. Without one (no DMARC record, or the lookup
    failed) the simple rule of :func:`auditapp.message.hops.organisation` stands in, so a signature
    of ``mail.example.com`` still belongs to ``example.com``: a failed lookup must not turn the
    sender's own signature into a foreign one.
    """
    d, f = domain.rstrip(".").lower(), from_domain.rstrip(".").lower()
    if not d or not f:
        return False
    if d == f:
        return True
    org = org_domain.rstrip(".").lower() or (organisation(f) or "")
    return bool(org) and (d == org or d.endswith("." + org))


_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)")


def mask_addresses(text: str, domain: str) -> str:
    """``text`` with every e-mail address outside ``domain`` reduced to ``…@its.domain``.

    Received lines carry the recipients (``for <bob@kunde.example>``) and a forwarder's envelope
    carries a person's address; a report about the audited organisation shows only its own.
    """
    own = domain.rstrip(".").lower()

    def keep(match: re.Match[str]) -> str:
        host = match.group(1).lower()
        return match.group(0) if own and (host == own or host.endswith("." + own)) else f"…@{match.group(1)}"

    return _ADDRESS.sub(keep, text)


def literal_ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip("[]").removeprefix("IPv6:")))
    except ValueError:
        return None
