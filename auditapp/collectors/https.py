"""A minimal validated HTTPS GET on asyncio streams (MTA-STS policies, mail autoconfig files).

No dependency and no redirects: both RFC 8461 and the autoconfig convention want exactly one
document from exactly one validated name, and the address must come from the audit's own
resolver, not the system's.
"""

from __future__ import annotations

import asyncio
import re
import ssl


def make_context(ca_file: str | None) -> ssl.SSLContext:
    """System trust store plus the consultant's extra anchors (internal CAs, the lab)."""
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    return ctx


async def https_get(address: str, port: int, host: str, path: str, ctx: ssl.SSLContext,
                    limit: int) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection(address, port, ssl=ctx, server_hostname=host)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: auditapp\r\nAccept: text/plain\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        await writer.drain()
        data = await reader.read(limit + 8192)
        while len(data) <= limit + 8192:
            more = await reader.read(8192)
            if not more:
                break
            data += more
    finally:
        writer.close()
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("no complete HTTP response")
    lines = head.decode("iso-8859-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0], re.ASCII)
    if not m:
        raise ValueError(f"not an HTTP response: {lines[0][:60]!r}")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    if len(body) > limit:
        raise ValueError(f"document larger than {limit} bytes")
    return int(m.group(1)), headers, body


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out
