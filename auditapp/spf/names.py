"""Domain-name checks that RFC 7208 makes before any DNS query.

A domain-spec that is valid SPF syntax can still expand to something no DNS query can carry
(an empty label, a label over 63 octets). Such names are answered here, never sent: the DNS
client would reject them with an exception, and RFC 7208 §4.3 wants ``none`` for a malformed
<domain> rather than an error.
"""

from __future__ import annotations

import dns.exception
import dns.name

MAX_LABEL = 63
MAX_NAME = 253


def is_queryable(name: str) -> bool:
    """Whether ``name`` (no trailing dot) can be put in a DNS question."""
    if not name or len(name) > MAX_NAME:
        return False
    if any(not label or len(label) > MAX_LABEL for label in name.split(".")):
        return False
    try:
        dns.name.from_text(name)
    except (dns.exception.DNSException, UnicodeError, ValueError):
        return False
    return True


def initial_domain_problem(domain: str) -> str:
    """Why a check_host() <domain> is malformed per §4.3, or ``""`` when it is fine.

    Besides what a DNS query needs, §4.3 asks for a multi-label name; a domain literal such
    as ``[192.0.2.1]`` (an SMTP address literal, e.g. a HELO) is not a domain at all.
    """
    name = domain[:-1] if domain.endswith(".") else domain
    if not name:
        return "empty domain"
    if name.startswith("[") or name.endswith("]"):
        return f"{domain!r} is an address literal, not a domain"
    labels = name.split(".")
    if len(labels) < 2:
        return f"{domain!r} is not a multi-label domain name"
    if any(not label for label in labels):
        return f"{domain!r} has an empty label"
    if any(len(label) > MAX_LABEL for label in labels):
        return f"{domain!r} has a label longer than {MAX_LABEL} characters"
    if not is_queryable(name):
        return f"{domain!r} is not a valid domain name"
    return ""


def normalise(name: str) -> str:
    """Lower-case, no trailing dot: the form names are compared in."""
    return name.rstrip(".").lower()
