"""How fast received messages are verified: 100 signed messages, every DNS answer delayed 20 ms.

``python -m bench.bench_message``. Loopback only, a few seconds. 100 messages from 20 sending
domains (five messages each, as a mailbox export has them) are read, verified (DKIM, ARC, SPF
for the sending hop, DMARC, HELO and PTR) and judged by the MSG-* rules the way ``auditapp
message`` does: all at once through one resolver client, so a key or policy several messages need
is asked once. Printed:

* ``message_seconds_100``: wall time for the 100 (goal from issue 15: under 5 s);
* ``message_speedup_vs_seq``: the same messages verified one after another, each with a fresh
  client (no sharing, no overlap), divided by the concurrent time.
"""

from __future__ import annotations

import asyncio
import base64
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``auditapp`` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from auditapp.audit.messages import judge_message
from auditapp.cli.message_command import examine_all, read_messages
from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.lab.dnsserver import LabDnsServer, RecordSet

DOMAINS = 20
PER_DOMAIN = 5
LATENCY = 0.02
GOALS = {"message_seconds_100": ("<", 5.0), "message_speedup_vs_seq": (">=", 5.0)}


def _lab(key: rsa.RSAPrivateKey) -> RecordSet:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    rs = RecordSet()
    rs.add("test", "SOA", "ns. h. 1 2 3 4 5")
    for d in range(DOMAINS):
        domain = f"sender{d}.test"
        rs.add(f"mail._domainkey.{domain}", "TXT", "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode())
        rs.add(domain, "TXT", f"v=spf1 ip4:192.0.2.{d + 1} -all")
        rs.add(f"_dmarc.{domain}", "TXT", "v=DMARC1; p=quarantine")
    return rs


def _message(key_pem: bytes, d: int, n: int) -> bytes:
    domain = f"sender{d}.test"
    raw = (f"From: <news@{domain}>\r\nTo: <box@receiver.test>\r\nSubject: Nachricht {n}\r\n"
           f"Message-ID: <{n}@{domain}>\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\n\r\nText {n}\r\n").encode()
    sig = dkim.sign(raw, b"mail", domain.encode(), key_pem, include_headers=[b"from", b"to", b"subject"])
    hop = (f"Return-Path: <news@{domain}>\r\n"
           f"Received: from mail.{domain} (mail.{domain} [192.0.2.{d + 1}]) by mx.receiver.test (Postfix) "
           f"with ESMTPS id {n}; Sun, 06 Dec 2026 10:00:02 +0000\r\n").encode()
    return hop + sig + raw


def run() -> dict[str, float]:
    key = rsa.generate_private_key(65537, 2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    with tempfile.TemporaryDirectory() as tmp, LabDnsServer(_lab(key), latency=LATENCY) as server:
        names = []
        for d in range(DOMAINS):
            for n in range(PER_DOMAIN):
                path = Path(tmp) / f"m{d}-{n}.eml"
                path.write_bytes(_message(pem, d, d * PER_DOMAIN + n))
                names.append(str(path))

        def client() -> DnsClient:
            return DnsClient([Nameserver(server.host, server.port)], timeout=2.0)

        t0 = time.perf_counter()
        read, problems = read_messages(names)
        together, bad = asyncio.run(examine_all(read, client()))
        judged = [judge_message(ev) for _name, ev in together]
        concurrent = time.perf_counter() - t0
        assert not problems and not bad and all(ev.dkim[0].result == "pass" for _n, ev in together)
        assert all(ev.dmarc is not None and ev.dmarc.result == "pass" for _n, ev in together)
        assert all(len(findings) == 9 for findings in judged)

        t0 = time.perf_counter()
        for item in read_messages(names)[0]:
            for _name, ev in asyncio.run(examine_all([item], client()))[0]:
                judge_message(ev)
        sequential = time.perf_counter() - t0
    speedup = sequential / concurrent
    print(f"# bench_message: {len(names)} messages from {DOMAINS} domains, {LATENCY * 1000:g} ms per DNS answer")
    print(f"all at once through one client: {concurrent:.2f} s ({len(names) / concurrent:.0f} messages/s)")
    print(f"one after another, a fresh client each: {sequential:.2f} s")
    for name, value in (("message_seconds_100", concurrent), ("message_speedup_vs_seq", speedup)):
        op, goal = GOALS[name]
        ok = value < goal if op == "<" else value >= goal
        print(f"    {name} = {value:.2f}   [{'met' if ok else 'MISSED'}: goal {op} {goal:g}]")
    return {"message_seconds_100": concurrent, "message_speedup_vs_seq": speedup}


if __name__ == "__main__":
    run()
