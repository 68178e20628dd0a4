"""Two received messages of the demo client, signed and examined for real when the demo project is made.

Why real: the report's "Message evidence" section and the MSG-* rules should show what
``auditapp message`` makes of actual messages, not hand-written verdicts. So the demo builds
two messages as Beispiel GmbH's servers would have sent them, signs them with dkimpy using
:data:`DKIM_KEY_PEM` (whose public half the demo zone publishes as
``s2026._domainkey.beispiel-gmbh.example``, :data:`DKIM_RECORD`), and runs
:func:`auditapp.message.evidence.examine` on them against a DNS server serving the demo's zones.
What the project stores is :func:`~auditapp.message.evidence.to_stored`: header block and
import verdicts, never a body.

* ``quote``: an offer sent through the company's own server over TLS; everything passes.
* ``invoice``: an invoice from the ERP server, relayed by a Postfix that still announces
  ``mail.firma.local`` (HELO) from 192.0.2.20, handed over without TLS, and given a disclaimer
  footer after it was signed: DKIM fails (body hash), the HELO does not resolve, internal names
  leak, the hand-over is unencrypted; DMARC still passes through aligned SPF.

The key is a demo key for a reserved ``.example`` domain, published nowhere but in the demo
lab: it signs nothing real, and keeping it here makes every demo (and every saved demo project)
verify against the same record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auditapp.core.stored_message import StoredMessage

log = logging.getLogger(__name__)

#: The selector the demo's messages are signed with (the project's own selector ``mail`` keeps
#: its 1024-bit key for the DKIM-KEY-WEAK finding of the DNS checks).
DKIM_SELECTOR = "s2026"
#: Where the demo's messages were delivered: the demo client's customer (never resolved).
RECEIVER = "kunde.example"

DKIM_KEY_PEM = """\
-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC9hDBBnsSwtYsu
4hwagVpVS6qn93Azf2+2dNfhAYp2K8bK7er5ntddWCU3Tl8RqpyC9l2XwtsQf0ZX
XyH351xBz5l5XKlKZHM2vnPWHabcBJQ7pIPVdzfpSYjBPg19WK8sWTfFx6g+o7to
UmJDIFvElQ4LUkvpvPnZF7ctGPo2O2U+mE8lo4Q8tkzLCifPBwU9M4n6kZ6A0pAj
EV9u5s6+XtHjrwY330yLBdYSxME3OMjA9jh61vcw1SJfZN+VIfc0bklUUxotIEO5
jD95HCOvDeBpia7MsJ2JjZY8oDFxPc1Lm+/0LRfJ4hoU20dMvkJro5hRcZMSQfDC
dkgz1zyVAgMBAAECggEAFbdexzov/DbFXOk0grYFWaZKxyYDsab98FipvyML0Hg6
Npk2NoXk1FGsLA77Nl1IQ3qDJYeCzjxjXVItpIhaqkDla4J6dKeXizOeNvAdZXNR
4Ba9M5oOallOhiQ76/vcUNblXPDAvvLIoA7mqx37Xgadfh8fS0ioEaAV0aFd1JZd
w6B4zHcVHLOYDXkV9hLeSsSokzBylbCQtK+1834fN8EXfdgJZf1MERz2YapkYmN1
NcNd1nEkLd1CzVdzE3GvYYLSG0tizreTXcLjjWhRgerPFki4Cae2SSKK4lcyLrbI
DRLA+hB9ApnTINPYVeMLw46oogByxNXCHDzMaPz4QQKBgQDkWPOQ7supNKRQd7Wv
+Ysy6/zfebBxPyENuIdwvNnMxiAwP2NZcQWq/tc7akcQi9WscNEpgtngmj/Hw65q
6/78GIPD4RXBsJ0X+DRZ8+yeXVdw7oLEaKMh82WhrwldnPZGw11LvnUi1T5QfKyo
Mxd1SLJTuZHaWWZ/NQPQ+TqywQKBgQDUd2z51ou3EzF713rWaJEJu5k5BIwzWGia
6LjeSII7jw1sjxDSCy70NT7bM4w8ZAtRyowbK6sVPdOARetL5wIBd+66LpN6AmjV
lXHuDKjn+SoFzSvOVNLKwUapCpdC5PEO5tkuqygMKs3p59lb+sMvDb3he4SB1m/g
phaMVlsC1QKBgA6hYGGt2yCpPcnmEZ8HxxJpKleLLXHkEJMXep4Pi4jiPNe6h/wI
EMvm7hVhdtIpk3Qr+krFln4cg++hqwAwxLKUQ4T+W+2ACmCpx3jn9wYihuK2dWxu
I92eAan9VAVKdEEObWDYABtOPGLdyhYwx9T85mgU4LJzvexykh8GiOtBAoGBAIbU
JrbBPLZ4Gp3hV1V61BeeEhUJ2sK2puMvLin5T5PmKvmqLF1utWRJ6dKG+sZUIo7L
/286nf4D1xT+ydvIBBDUgA1sgzAZGVf412zeYc2b49v8oID2eTIrxuB9FRJhYMw5
GLex698UxslZ1Si2kGhqywWtMaCHaUXhgEucfXLlAoGBALKyHcgTSlT9PE+Hppt7
vm/DAz8kttdYBzyalVK/3D6eP0MtZwEuO87yDafVZFGOujU45X8Mc8YEcbILfgX5
DWPaSnSe32T9M9GjY+Pu26WIjDxO77voshdk0HZQAETA5oiRlqkgfYdouGFDeE+u
1VcZsuYc/X2V20YWnxRCEZYV
-----END PRIVATE KEY-----
"""
DKIM_PUBLIC = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvYQwQZ7EsLWLLuIcGoFaVUuqp/dwM39vtnTX4QGKdivGyu3q+Z7XXVgl"
    "N05fEaqcgvZdl8LbEH9GV18h9+dcQc+ZeVypSmRzNr5z1h2m3ASUO6SD1Xc36UmIwT4NfVivLFk3xceoPqO7aFJiQyBbxJUOC1JL"
    "6bz52Re3LRj6NjtlPphPJaOEPLZMywonzwcFPTOJ+pGegNKQIxFfbubOvl7R468GN99MiwXWEsTBNzjIwPY4etb3MNUiX2TflSH3"
    "NG5JVFMaLSBDuYw/eRwjrw3gaYmuzLCdiY2WPKAxcT3NS5vv9C0XyeIaFNtHTL5Ca6OYUXGTEkHwwnZIM9c8lQIDAQAB"
)
#: The key record as a zone-file line (TXT strings of at most 255 characters).
DKIM_RECORD = (f'{DKIM_SELECTOR}._domainkey IN TXT ( "v=DKIM1; k=rsa; " "p={DKIM_PUBLIC[:200]}" '
               f'"{DKIM_PUBLIC[200:]}" )')


def _date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC))


def _sign(domain: str, headers: str, body: str) -> bytes:
    """``headers`` + ``body`` (CRLF) with a DKIM-Signature of ``domain`` on top."""
    import dkim

    message = (headers.strip("\n") + "\n\n" + body).replace("\n", "\r\n").encode("utf-8")
    signature = dkim.sign(message, DKIM_SELECTOR.encode(), domain.encode(), DKIM_KEY_PEM.encode(),
                          include_headers=[b"from", b"to", b"subject", b"date", b"message-id", b"mime-version",
                                           b"content-type"])
    return signature + message


def _trace(lines: Sequence[str]) -> bytes:
    """Trace fields added after signing (newest first), folded as MTAs write them."""
    return "".join(line.strip("\n").replace("\n", "\r\n") + "\r\n" for line in lines).encode("utf-8")


def demo_messages(domain: str, now: datetime | None = None) -> list[tuple[str, bytes]]:
    """The two demo messages as ``(file name, raw bytes)``, sent a few minutes before ``now``."""
    base = (now or datetime.now(UTC)) - timedelta(minutes=7)
    t = [_date(base + timedelta(seconds=s)) for s in (0, 1, 3, 4, 9, 11)]
    stamp = base.strftime("%Y%m%d%H%M%S")
    tls = "(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))"
    quote = _sign(domain, f"""
From: Anna Schmidt <anna.schmidt@{domain}>
To: Peter Meier <p.meier@{RECEIVER}>
Subject: Angebot 2026-114
Date: {t[0]}
Message-ID: <{stamp}.4F2A1C0@mail.{domain}>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
""", "Guten Tag Herr Meier,\n\nanbei unser Angebot.\n\nMit freundlichen Grüßen\nAnna Schmidt\n")
    quote = _trace([
        f"Return-Path: <anna.schmidt@{domain}>",
        f"""Received: from mx01.{RECEIVER} (mx01.{RECEIVER} [10.0.5.25])
\t{tls}
\tby mailstore.{RECEIVER} (Postfix) with ESMTPS id 4QxR2m1Hc8z4p;
\t{t[3]}""",
        f"""Authentication-Results: mx01.{RECEIVER};
\tdkim=pass header.d={domain} header.s={DKIM_SELECTOR};
\tspf=pass smtp.mailfrom=anna.schmidt@{domain};
\tdmarc=pass (p=quarantine) header.from={domain}""",
        f"""Received: from mail.{domain} (mail.{domain} [192.0.2.10])
\t{tls}
\tby mx01.{RECEIVER} (Postfix) with ESMTPS id 4QxR2k0sLmz9s
\tfor <p.meier@{RECEIVER}>; {t[2]}""",
        f"""Received: from [198.51.100.77] (dyn-77.isp.example [198.51.100.77])
\t{tls}
\t(Authenticated sender: anna.schmidt)
\tby mail.{domain} (Postfix) with ESMTPSA id 4QxR2j5Vb1z1x
\tfor <p.meier@{RECEIVER}>; {t[1]}""",
    ]) + quote
    invoice = _sign(domain, f"""
From: Beispiel GmbH Buchhaltung <rechnung@{domain}>
To: <einkauf@{RECEIVER}>
Subject: Rechnung 2026-0815
Date: {t[0]}
Message-ID: <{stamp}.erp-0815@srv-erp01.firma.local>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
""", "Sehr geehrte Damen und Herren,\n\nanbei die Rechnung 2026-0815.\n")
    # The relay appends its disclaimer after the milter signed: the classic broken body hash.
    invoice += "\r\n-- \r\nBeispiel GmbH, Musterstraße 1, 12345 Musterstadt\r\n".encode()
    invoice = _trace([
        f"Return-Path: <rechnung@{domain}>",
        f"""Received: from mx01.{RECEIVER} (mx01.{RECEIVER} [10.0.5.25])
\t{tls}
\tby mailstore.{RECEIVER} (Postfix) with ESMTPS id 4QxS0b7Tq2z4p;
\t{t[5]}""",
        f"""Authentication-Results: mx01.{RECEIVER};
\tdkim=fail (body hash did not verify) header.d={domain} header.s={DKIM_SELECTOR};
\tspf=pass smtp.mailfrom=rechnung@{domain};
\tdmarc=pass (p=quarantine) header.from={domain}""",
        f"""Received: from mail.firma.local (mx2.{domain} [192.0.2.20])
\tby mx01.{RECEIVER} (Postfix) with ESMTP id 4QxS0Z2mWbz9s
\tfor <einkauf@{RECEIVER}>; {t[4]}""",
        f"""Received: from srv-erp01.firma.local (srv-erp01.firma.local [10.20.0.15])
\tby mail.firma.local (Postfix) with ESMTP id 8C2D41A0F3
\tfor <einkauf@{RECEIVER}>; {t[1]}""",
    ]) + invoice
    return [("angebot-2026-114.eml", quote), ("rechnung-2026-0815.eml", invoice)]


async def _examine_all(messages: Sequence[tuple[str, bytes]], host: str, port: int) -> list[StoredMessage]:
    from auditapp.dnsclient import DnsClient, Nameserver
    from auditapp.message.evidence import examine, to_stored

    dns = DnsClient([Nameserver(host, port)], timeout=2.0)
    return [to_stored(await examine(name, raw, dns)) for name, raw in messages]


@cache
def _examined(domain: str, zones: tuple[tuple[str, str], ...]) -> tuple[StoredMessage, ...]:
    from auditapp.lab.dnsserver import LabDnsServer, RecordSet

    with LabDnsServer(RecordSet.from_zone_text(list(zones))) as server:
        messages = demo_messages(domain)
        # A fresh event loop in a worker thread: the caller (the window, a test) may run one already.
        with ThreadPoolExecutor(1) as pool:
            return tuple(pool.submit(asyncio.run, _examine_all(messages, server.host, server.port)).result())


def examined_demo_messages(domain: str, zones: Sequence[tuple[str, str]]) -> list[StoredMessage]:
    """The demo messages examined against a DNS server serving ``zones`` (the demo lab's), as stored.

    Examined once per process (signing and a DNS server take some 50 ms, and every new demo
    project wants them). A machine where no loopback port can be bound gets a demo without
    messages, not a failing demo: the rest of it does not depend on them.
    """
    try:
        return list(_examined(domain, tuple(zones)))
    except (OSError, RuntimeError) as exc:
        log.warning("the demo messages could not be examined: %s", exc)
        return []
