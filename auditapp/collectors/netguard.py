"""Where the audit may connect: never into the consultant's own network just because DNS says so.

Two rules, applied to every outgoing connection (service probes, the port-25 greeting, the
MTA-STS and autoconfig fetches):

1. **Internal addresses learned from DNS are refused** (issue 12). An audited domain controls
   its zone; an MX or SRV record pointing at 10.0.0.5 or 127.0.0.1 would otherwise make the
   tool probe the consultant's LAN and print the banner it found into a client PDF. Loopback,
   link-local, RFC 1918, ULA, CGNAT and unspecified addresses (also written as IPv4-mapped
   IPv6) are refused unless the host or address was typed by the user, or the audit is an
   internal one (``--allow-internal``, a project setting shown in the report's scope).
   A refused probe is a ``not_tested`` result carrying the reason below.
2. **Loopback only, for the test suite.** With ``AUDITAPP_LOOPBACK_ONLY=1`` every connection
   to anything but loopback is refused, so a test whose zone names a documentation address
   cannot send packets towards the Internet. In that mode the lab's loopback servers stand for
   the user's own network, so rule 1 lets loopback through; the tests of rule 1 unset it.

The decision is a pure function of the address and its provenance (:func:`refusal`), so the
private ranges can be tested without sending anything to them.
"""

from __future__ import annotations

import ipaddress
import os

from auditapp.core.problem import Problem

ENV = "AUDITAPP_LOOPBACK_ONLY"

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_ULA = ipaddress.ip_network("fc00::/7")


def internal_kind(address: str) -> str:
    """What kind of internal address ``address`` is (``"private (RFC 1918)"``), or ``""`` for a public one.

    Python's ``is_private`` is not used: it also covers documentation and benchmarking ranges
    that are not anyone's LAN, and its definition has changed between Python versions.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if isinstance(ip, ipaddress.IPv4Address):
        if any(ip in net for net in _RFC1918):
            return "private (RFC 1918)"
        if ip in _CGNAT:
            return "shared (CGNAT, RFC 6598)"
    elif ip in _ULA:
        return "unique local (RFC 4193)"
    return ""


#: The kinds :func:`internal_kind` names, with their article, as a report says them.
_KIND_TEXTS = {
    "unspecified": Problem("problem.internal.unspecified", "an unspecified address"),
    "loopback": Problem("problem.internal.loopback", "a loopback address"),
    "link-local": Problem("problem.internal.link_local", "a link-local address"),
    "private (RFC 1918)": Problem("problem.internal.private", "a private (RFC 1918) address"),
    "shared (CGNAT, RFC 6598)": Problem("problem.internal.shared", "a shared (CGNAT, RFC 6598) address"),
    "unique local (RFC 4193)": Problem("problem.internal.unique_local", "a unique local (RFC 4193) address"),
}


def loopback_only() -> bool:
    return os.environ.get(ENV, "") in ("1", "true", "yes")


def refusal(address: str, *, learned: bool, allow_internal: bool, loopback_only_mode: bool = False) -> str:
    """Why ``address`` must not be connected to, or ``""`` (pure: no environment, no network)."""
    if loopback_only_mode:
        try:
            is_loopback = ipaddress.ip_address(address).is_loopback
        except ValueError:
            is_loopback = False
        if not is_loopback:
            return Problem("problem.loopback_only", "connection to {address} blocked: {variable} allows loopback only",
                           address=address, variable=ENV)
        return ""
    if learned and not allow_internal:
        kind = internal_kind(address)
        if kind:
            internal = Problem("problem.internal_address",
                               "{address} is {kind} learned from DNS; internal addresses are probed only for hosts "
                               "you entered or in an internal audit (--allow-internal)",
                               address=address, kind=_KIND_TEXTS[kind])
            return Problem("problem.not_probed", "not probed: {reason}", reason=internal)
    return ""


def blocked(address: str, *, learned: bool = True, allow_internal: bool = False) -> str:
    """Why connecting to ``address`` is not allowed here, or ``""``.

    ``learned`` is True unless the user typed the host or address; the default is the safe one.
    """
    return refusal(address, learned=learned, allow_internal=allow_internal, loopback_only_mode=loopback_only())
