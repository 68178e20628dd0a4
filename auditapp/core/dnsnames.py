"""Host and domain names as DNS sees them: what cannot be public, a usable HELO, the DMARC tree walk.

These are facts about names, not verdicts: the collectors use them to decide what to ask
(a HELO name under ``.local`` is not looked up in the public DNS) and the checks to explain
a result, so they sit below both.
"""

from __future__ import annotations

import ipaddress
import re

#: Suffixes that never resolve in the public DNS (RFC 6762 .local, RFC 8375 home.arpa, and
#: the common private conventions).
NONPUBLIC_SUFFIXES = ("local", "localdomain", "lan", "internal", "intranet", "home", "corp", "home.arpa", "invalid",
                      "localhost")


def nonpublic_why(name: str) -> str:
    """Why ``name`` cannot be a public host name (a ``why.*`` message key, optionally ``|arg``), or ``""``.

    Keys rather than prose, so the German report does not carry English reasons; catalog/wording.py
    translates any parameter holding such a key.
    """
    n = name.rstrip(".").lower()
    if n in ("localhost", "localhost.localdomain"):
        return "why.localhost"
    if "." not in n:
        return "why.bare_label"
    for suffix in NONPUBLIC_SUFFIXES:
        if n == suffix or n.endswith("." + suffix):
            return f"why.suffix|{suffix}"
    return ""


def helo_syntax_problem(name: str) -> str:
    """Why a HELO argument is not a usable FQDN (address literals are handled separately)."""
    try:
        ipaddress.ip_address(name)
        return "why.unbracketed_ip"
    except ValueError:
        pass
    m = re.fullmatch(r"\[((?i:IPv6:))?([0-9A-Fa-f:.]+)\]", name)
    if m and address_literal(name) is None:
        try:
            ipaddress.ip_address(m.group(2))
            return "why.literal_tag"
        except ValueError:
            pass
    why = nonpublic_why(name)
    if why:
        return why
    if not re.fullmatch(r"(?=.{1,253}$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]"
                        r"(?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?", name):
        return "why.invalid_name"
    return ""


def address_literal(name: str) -> str | None:
    """The address of an RFC 5321 §4.1.3 address literal: ``[192.0.2.1]`` or ``[IPv6:2001:db8::1]``.

    The tag is not optional (and, as every ABNF string, not case-sensitive): ``[2001:db8::1]`` is
    no literal (receivers reject it as a HELO), and ``[IPv6:192.0.2.1]`` none either; both are
    named by :func:`helo_syntax_problem`.
    """
    m = re.fullmatch(r"\[((?i:IPv6:))?([0-9A-Fa-f:.]+)\]", name)
    if not m:
        return None
    try:
        ip = ipaddress.ip_address(m.group(2))
    except ValueError:
        return None
    return str(ip) if (ip.version == 6) == bool(m.group(1)) else None


def walk_targets(domain: str) -> list[str]:
    """The names RFC 9989's DNS tree walk queries, in order: the domain, then shorter and shorter parents.

    More than eight labels are cut to seven at the first step up, as the tree walk specifies.
    """
    labels = domain.rstrip(".").split(".")
    targets = [domain]
    count = len(labels)
    start = min(count - 1, 7)
    for n in range(start, 0, -1):
        targets.append(".".join(labels[-n:]))
    return targets
