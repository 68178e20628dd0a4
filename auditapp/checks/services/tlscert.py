"""Pure certificate logic: RFC 6125 name matching and validity arithmetic."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

from auditapp.collectors.service_facts import CertInfo


def _alabel(name: str) -> str:
    name = name.rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError:
        return name


def name_matches(pattern: str, host: str) -> bool:
    """RFC 6125 §6.4.3: a wildcard may only be the whole left-most label and matches exactly one label."""
    pattern, host = _alabel(pattern), _alabel(host)
    if "*" not in pattern:
        return pattern == host
    first, _, rest = pattern.partition(".")
    if first != "*" or not rest or "*" in rest or rest.count(".") < 1:
        return False  # partial or deep wildcards are not honoured by mail clients
    hfirst, _, hrest = host.partition(".")
    return bool(hfirst) and hrest == rest


def cert_covers(cert: CertInfo, host: str) -> bool:
    """Does the certificate cover ``host`` (a name, or an IP address against SAN iPAddress)?"""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return any(_same_ip(ip, s) for s in cert.san_ip)
    if cert.san_dns:
        return any(name_matches(p, host) for p in cert.san_dns)
    # No SAN at all: RFC 6125 §6.4.4 allows the CN as a last resort.
    cn = next((part[3:] for part in cert.subject.split(",") if part.strip().upper().startswith("CN=")), "")
    return bool(cn) and name_matches(cn.strip(), host)


def _same_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, text: str) -> bool:
    try:
        return ipaddress.ip_address(text) == ip
    except ValueError:
        return False


def parse_time(iso: str) -> datetime:
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def days_left(cert: CertInfo, now: datetime) -> float:
    return (parse_time(cert.not_after) - now).total_seconds() / 86400
