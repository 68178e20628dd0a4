"""``auditapp message``: a signed message with a real Received chain, verified against the lab resolver."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from auditapp.cli.main import main as cli_main
from auditapp.lab.dnsserver import LabDnsServer, RecordSet

DOMAIN = "firma.test"
SENDING_IP = "192.0.2.25"
_KEY = rsa.generate_private_key(65537, 2048)


def _records() -> RecordSet:
    der = _KEY.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    rs = RecordSet()
    rs.add("test", "SOA", "ns. h. 1 2 3 4 5")
    rs.add(f"mail._domainkey.{DOMAIN}", "TXT", "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode())
    rs.add(DOMAIN, "TXT", f"v=spf1 ip4:{SENDING_IP} -all")
    rs.add(f"_dmarc.{DOMAIN}", "TXT", "v=DMARC1; p=reject")
    return rs


@pytest.fixture(scope="module")
def lab() -> Iterator[LabDnsServer]:
    with LabDnsServer(_records()) as server:
        yield server


def _message(body: str = "Guten Tag,\r\n\r\nanbei die Zahlen.\r\n") -> bytes:
    raw = (f"From: Anna <anna@{DOMAIN}>\r\nTo: kunde@empfaenger.test\r\nSubject: Zahlen\r\n"
           f"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <42@{DOMAIN}>\r\n\r\n{body}").encode()
    private = _KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption())
    signature = dkim.sign(raw, b"mail", DOMAIN.encode(), private, include_headers=[b"from", b"to", b"subject"])
    # What the receiver adds on top (newest first): its LMTP hop, its MX's hop from the sender, and
    # the sender's own submission hop with a client in a private network.
    received = (
        "Return-Path: <anna@firma.test>\r\n"
        "Received: from mx.empfaenger.test by imap.empfaenger.test with LMTP; Sun, 06 Dec 2026 10:00:05 +0000\r\n"
        f"Received: from mail.firma.test (mail.firma.test [{SENDING_IP}]) by mx.empfaenger.test (Postfix) "
        "with ESMTPS id 4AB (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)); "
        "Sun, 06 Dec 2026 10:00:03 +0000\r\n"
        "Received: from [10.0.0.7] (pc17.firma.local [10.0.0.7]) by mail.firma.test (Postfix) with ESMTPSA "
        "id 11C; Sun, 06 Dec 2026 10:00:01 +0000\r\n"
        "Authentication-Results: mx.empfaenger.test; dkim=pass header.d=firma.test; spf=pass "
        "smtp.mailfrom=firma.test; dmarc=pass header.from=firma.test\r\n"
    ).encode()
    return received + signature + raw


def _run(lab: LabDnsServer, tmp_path: Path, data: bytes) -> tuple[int, dict]:
    eml = tmp_path / "m.eml"
    eml.write_bytes(data)
    out = tmp_path / "out.json"
    rc = cli_main(["message", str(eml), "--nameserver", lab.address, "--timeout", "2", "--json", str(out)])
    return rc, json.loads(out.read_text(encoding="utf-8"))


def test_a_signed_message_verifies_with_the_sending_hop_and_the_receivers_view(lab, tmp_path: Path, capsys) -> None:
    rc, doc = _run(lab, tmp_path, _message())
    assert rc == 0 and doc["format"] == "auditapp.message/1"
    (m,) = doc["messages"]
    assert m["message_id"] == f"<42@{DOMAIN}>" and m["from_domain"] == DOMAIN
    assert [h["from_ip"] for h in m["hops"]] == ["10.0.0.7", SENDING_IP, None]  # oldest first
    assert m["hops"][0]["protocol"] == "ESMTPSA" and m["hops"][1]["tls"] == "TLSv1.3"
    assert m["sending_ip"] == SENDING_IP and m["helo"] == "mail.firma.test"
    assert m["dkim"] == [{"domain": DOMAIN, "selector": "mail", "algorithm": "rsa-sha256", "key_bits": 2048,
                          "result": "pass", "reason": m["dkim"][0]["reason"]}]
    assert m["spf"] == {"ip": SENDING_IP, "sender": f"anna@{DOMAIN}", "result": "pass"}
    assert m["dmarc"]["result"] == "pass" and m["dmarc"]["policy"] == "reject"
    assert m["dmarc"]["spf_aligned"] and m["dmarc"]["dkim_aligned"]
    assert {(r["method"], r["result"]) for r in m["receiver_results"]} >= {("dkim", "pass"), ("dmarc", "pass")}
    assert "Kunde" not in json.dumps(doc) and "anbei" not in json.dumps(doc)  # no body text in the output
    printed = capsys.readouterr().out
    assert f"sending IP (judged by the first receiver outside the sender): {SENDING_IP}" in printed


def test_a_changed_body_fails_dkim_and_dmarc_still_passes_on_spf(lab, tmp_path: Path) -> None:
    data = _message().replace(b"anbei die Zahlen", b"anbei die ZAHLEN")
    _rc, doc = _run(lab, tmp_path, data)
    (m,) = doc["messages"]
    assert m["dkim"][0]["result"] == "fail" and "body" in m["dkim"][0]["reason"]
    assert m["dmarc"]["result"] == "pass" and m["dmarc"]["spf_aligned"] and not m["dmarc"]["dkim_aligned"]


def test_not_a_message_is_a_clear_error_and_exit_2(lab, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "x.eml"
    bad.write_bytes(b"%PDF-1.7\n\x00\x01binary")
    rc = cli_main(["message", str(bad), "--nameserver", lab.address])
    assert rc == 2
    assert "x.eml" in capsys.readouterr().err
