"""Learn a server's HELO name from its port-25 greeting and EHLO reply.

This is the last resort of the HELO source order (``--helo``, then the Postfix
configuration, then this): a server usually greets with the same name it uses as a client
(Postfix's ``smtp_helo_name`` defaults to ``myhostname``), but not always, so the source is
always shown next to the verdict.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from auditapp.collectors import pacing
from auditapp.collectors.netguard import blocked

#: The name we greet with: RFC 2606 reserves .invalid, so it can never be mistaken for a host.
CLIENT_NAME = "auditapp.invalid"


@dataclass(frozen=True)
class Greeting:
    name: str | None
    problem: str
    transcript: tuple[str, ...]


async def _read_reply(reader: asyncio.StreamReader, transcript: list[str]) -> list[str]:
    lines: list[str] = []
    while True:
        raw = await reader.readline()
        if not raw:
            raise ConnectionError("connection closed by the server")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        transcript.append(f"S: {line}")
        lines.append(line)
        if len(line) < 4 or line[3] != "-" or len(lines) > 100:
            return lines


def _name_from(line: str) -> str | None:
    m = re.match(r"^\d{3}[ -](\S+)", line, re.ASCII)
    return m.group(1) if m else None


async def probe_greeting(ip: str, port: int, timeout: float) -> Greeting:
    """Connect, read the greeting, send EHLO, QUIT; never sends mail.

    ``ip`` is always a sending-server address the user typed, so internal ones are probed.
    """
    transcript: list[str] = [f"connect {ip} port {port}"]
    host = ip
    why = blocked(ip, learned=False)
    if why:
        return Greeting(None, why, tuple(transcript))
    await pacing.turn(ip)
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except TimeoutError:
        return Greeting(None, f"no connection to {ip}:{port} within {timeout:g} s", tuple(transcript))
    except OSError as exc:
        return Greeting(None, f"connection to {ip}:{port} failed: {exc.strerror or exc}", tuple(transcript))
    try:
        greeting = await asyncio.wait_for(_read_reply(reader, transcript), timeout)
        if not greeting[0].startswith("220"):
            return Greeting(None, f"greeting is not 220: {greeting[0][:80]}", tuple(transcript))
        writer.write(f"EHLO {CLIENT_NAME}\r\n".encode())
        transcript.append(f"C: EHLO {CLIENT_NAME}")
        reply = await asyncio.wait_for(_read_reply(reader, transcript), timeout)
        writer.write(b"QUIT\r\n")
        transcript.append("C: QUIT")
        name = _name_from(reply[0]) if reply and reply[0].startswith("250") else None
        name = name or _name_from(greeting[0])
        return Greeting(name, "" if name else "no name in greeting or EHLO reply", tuple(transcript))
    except TimeoutError:
        return Greeting(None, f"no SMTP reply from {ip}:{port} within {timeout:g} s", tuple(transcript))
    except (OSError, ConnectionError) as exc:
        return Greeting(None, f"SMTP dialogue with {ip}:{port} failed: {exc}", tuple(transcript))
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 1)
        except (TimeoutError, OSError, ConnectionError):
            pass
