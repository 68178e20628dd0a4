"""Client configuration published for mail programs: Thunderbird autoconfig and Autodiscover.

If a domain publishes ``autoconfig.DOMAIN``, Thunderbird-compatible clients fetch
``https://autoconfig.DOMAIN/mail/config-v1.1.xml`` and use the host names in it; those are
the names clients really end up with, so the audit checks them. ``autodiscover.DOMAIN``
(Microsoft) needs a POST with a user's address; its existence is only noted.
"""

from __future__ import annotations

import asyncio
import ssl
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from auditapp.collectors.https import https_get, make_context
from auditapp.collectors.netguard import blocked
from auditapp.core.text import ascii_digits
from auditapp.dnsclient import DnsClient

PATH = "/mail/config-v1.1.xml"
MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class AutoconfigResult:
    url: str
    incoming: tuple[tuple[str, str, int], ...] = ()  # (type, hostname, port)
    outgoing: tuple[tuple[str, str, int], ...] = ()
    problem: str = ""


def parse_autoconfig(xml: bytes) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]]:
    """Servers listed in a config-v1.1 document. Python's expat refuses entity-expansion bombs."""
    root = ET.fromstring(xml)
    incoming, outgoing = [], []
    for tag, out in (("incomingServer", incoming), ("outgoingServer", outgoing)):
        for server in root.iter(tag):
            host = (server.findtext("hostname") or "").strip().lower().rstrip(".")
            port = (server.findtext("port") or "0").strip()
            if host and "%" not in host:  # placeholders like %EMAILDOMAIN% are not hosts
                out.append((server.get("type", ""), host, int(port) if ascii_digits(port) else 0))
    return incoming, outgoing


async def fetch_autoconfig(dns: DnsClient, domain: str, port: int, timeout: float,
                           ca_file: str | None, allow_internal: bool = False) -> AutoconfigResult | None:
    """None when the domain publishes no autoconfig name."""
    host = f"autoconfig.{domain}"
    url = f"https://{host}{PATH}"
    a, aaaa = await dns.addresses(host)
    addresses = list(a.records) + list(aaaa.records)
    if not addresses:
        return None
    problems = []
    for address in addresses:
        why = blocked(address, allow_internal=allow_internal)
        if why:
            problems.append(why)
            continue
        try:
            status, _headers, body = await asyncio.wait_for(
                https_get(address, port, host, PATH, make_context(ca_file), MAX_BYTES), timeout)
        except (TimeoutError, OSError, ssl.SSLError, ValueError, asyncio.IncompleteReadError) as exc:
            problems.append(f"{address}:{port}: {type(exc).__name__}: {exc}")
            continue
        if status != 200:
            return AutoconfigResult(url, problem=f"HTTP status {status}")
        try:
            incoming, outgoing = parse_autoconfig(body)
        except ET.ParseError as exc:
            return AutoconfigResult(url, problem=f"not a valid autoconfig document: {exc}")
        return AutoconfigResult(url, tuple(incoming), tuple(outgoing))
    return AutoconfigResult(url, problem="; ".join(problems))
