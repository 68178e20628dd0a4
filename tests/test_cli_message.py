"""``auditapp message``: a signed message with a real Received chain, verified against the lab resolver."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from auditapp.cli.main import main as cli_main
from auditapp.lab.dnsserver import LabDnsServer, RecordSet
from auditapp.message.verify import dkim_clock

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


#: The test message's Date: (tests/test_message_rules.py says why it must be signed then).
SIGNED_AT = datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC).timestamp()


def _message(body: str = "Guten Tag,\r\n\r\nanbei die Zahlen.\r\n") -> bytes:
    raw = (f"From: Anna <anna@{DOMAIN}>\r\nTo: kunde@empfaenger.test\r\nSubject: Zahlen\r\n"
           f"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <42@{DOMAIN}>\r\n\r\n{body}").encode()
    private = _KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption())
    with dkim_clock(SIGNED_AT):  # signed when the message says; it is judged at its receipt (10:00:05)
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


def _run(lab: LabDnsServer, tmp_path: Path, data: bytes, lang: str = "en") -> tuple[int, dict]:
    eml = tmp_path / "m.eml"
    eml.write_bytes(data)
    out = tmp_path / "out.json"
    rc = cli_main(["message", str(eml), "--nameserver", lab.address, "--timeout", "2", "--json", str(out),
                   "--lang", lang])
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
    assert {k: m["spf"][k] for k in ("ip", "sender", "result")} == {
        "ip": SENDING_IP, "sender": f"anna@{DOMAIN}", "result": "pass"}
    assert m["dmarc"]["result"] == "pass" and m["dmarc"]["policy"] == "reject"
    assert m["dmarc"]["spf_aligned"] and m["dmarc"]["dkim_aligned"]
    assert {(r["method"], r["result"]) for r in m["receiver_results"]} >= {("dkim", "pass"), ("dmarc", "pass")}
    assert "Kunde" not in json.dumps(doc) and "anbei" not in json.dumps(doc)  # no body text in the output
    printed = capsys.readouterr().out
    assert f"sending IP (judged by the first receiver outside the sender): {SENDING_IP}" in printed
    assert "-> mx.empfaenger.test ESMTPS TLSv1.3 2026-12-06T10:00:03+00:00, +2 s" in printed
    # The MSG-* rules' results, as auditapp.result/1 objects: the client's private address and
    # .local name in hop 1 leak; the HELO has no address record in this zone.
    results = {r["rule"]: r for r in m["results"]}
    assert set(results) == {r for r in results if r.startswith("MSG-")} and len(results) == 9
    assert results["MSG-DKIM-MISSING"]["status"] == "pass"
    assert results["MSG-INTERNAL-LEAK"]["status"] == "fail" and "pc17.firma.local" in results["MSG-INTERNAL-LEAK"][
        "detail"]
    assert results["MSG-HELO-MISMATCH"]["status"] == "fail" and results["MSG-HELO-MISMATCH"]["remediation"]
    assert results["MSG-ARC-BROKEN"]["status"] == "not_applicable"


def test_lang_de_prints_and_writes_german(lab, tmp_path: Path, capsys) -> None:
    _rc, doc = _run(lab, tmp_path, _message(), lang="de")
    (m,) = doc["messages"]
    results = {r["rule"]: r for r in m["results"]}
    assert results["MSG-DKIM-MISSING"]["detail"] == "Signiert von firma.test."
    printed = capsys.readouterr().out
    assert "Sende-IP (vom ersten Empfänger außerhalb des Absenders geprüft): 192.0.2.25" in printed
    assert "DMARC: pass (Richtlinie reject, SPF passend ja, DKIM passend ja)" in printed


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


def _audit(lab: LabDnsServer, tmp_path: Path, *extra: str) -> tuple[int, dict]:
    out = tmp_path / "audit.json"
    rc = cli_main(["audit", *extra, "--nameserver", lab.address, "--timeout", "2", "--no-services",
                   "--dnsbl", "dnsbl.test", "--json", str(out), "--lang", "en"])
    return rc, json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}


def test_audit_with_a_message_learns_the_sending_ip_helo_and_selector(lab, tmp_path: Path) -> None:
    eml = tmp_path / "m.eml"
    eml.write_bytes(_message())
    _rc, doc = _audit(lab, tmp_path, DOMAIN, "--message", str(eml))
    target = doc["target"]
    assert target["server_ips"] == [SENDING_IP] and target["dkim_selectors"] == ["mail"]
    # The HELO belongs to the address that announced it; no HELO is set for all addresses.
    assert target["helo"] is None
    learned = {(x["field"], x["value"]): x for x in target["learned"]}
    assert learned[("helo", "mail.firma.test")]["ip"] == SENDING_IP
    assert learned[("server_ips", SENDING_IP)] == {"field": "server_ips", "value": SENDING_IP,
                                                    "message": f"<42@{DOMAIN}>", "hop": 2}
    by_rule = {(r["rule"], r["subject"]): r for r in doc["results"]}
    # The usual rules run on the learned values, the MSG-* rules on the message.
    assert by_rule[("SPF-SENDER-NOT-AUTHORIZED", SENDING_IP)]["status"] == "pass"
    assert by_rule[("PTR-MISSING", SENDING_IP)]["status"] == "fail"  # the lab zone has no reverse zone
    assert by_rule[("MSG-DKIM-MISSING", f"<42@{DOMAIN}>")]["status"] == "pass"
    assert by_rule[("DKIM-NO-KEY", DOMAIN)]["status"] == "pass"
    helo = by_rule[("HELO-INVALID", SENDING_IP)]
    assert helo["status"] == "fail" and "mail.firma.test" in " ".join(helo["evidence"])  # no A record here


def test_given_values_win_over_learned_ones(lab, tmp_path: Path) -> None:
    eml = tmp_path / "m.eml"
    eml.write_bytes(_message())
    _rc, doc = _audit(lab, tmp_path, DOMAIN, "--message", str(eml), "--server-ip", "192.0.2.99",
                      "--helo", "mx.firma.test")
    target = doc["target"]
    assert target["server_ips"] == ["192.0.2.99"] and target["helo"] == "mx.firma.test"
    assert {x["field"] for x in target["learned"]} == {"dkim_selectors"}


def test_audit_without_a_message_reports_the_msg_rules_not_tested(lab, tmp_path: Path) -> None:
    _rc, doc = _audit(lab, tmp_path, DOMAIN)
    msg = [r for r in doc["results"] if r["rule"].startswith("MSG-")]
    assert len(msg) == 9 and {r["status"] for r in msg} == {"not_tested"}
    assert "No received message was imported" in msg[0]["reason"]


def test_a_bad_message_file_is_exit_2_before_the_audit(lab, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "x.eml"
    bad.write_bytes(b"\x00\x01 not mail")
    rc, doc = _audit(lab, tmp_path, DOMAIN, "--message", str(bad))
    assert rc == 2 and doc == {}
    assert "--message" in capsys.readouterr().err


def test_audit_project_with_a_message_stores_its_headers_only_once(lab, tmp_path: Path) -> None:
    from auditapp.core.project import Project
    from auditapp.core.project_io import load_project, save_project

    path = tmp_path / "p.auditproj"
    save_project(Project(name="Firma", domain=DOMAIN, dnsbl_zones=[]), path)
    eml = tmp_path / "m.eml"
    eml.write_bytes(_message())
    for _ in range(2):
        rc = cli_main(["audit", "--project", str(path), "--message", str(eml), "--nameserver", lab.address,
                       "--timeout", "2", "--no-services"])
        assert rc in (0, 1)
    project = load_project(path)
    assert len(project.messages) == 1 and len(project.runs) == 2
    text = path.read_text(encoding="utf-8")
    assert "anbei die Zahlen" not in text and "Message-ID: <42@firma.test>" in text
    assert project.runs[-1].target["server_ips"] == [SENDING_IP]
    # A re-run without --message still judges and learns from the stored message.
    rc = cli_main(["audit", "--project", str(path), "--nameserver", lab.address, "--timeout", "2", "--no-services"])
    run = load_project(path).runs[-1]
    assert run.target["learned"] and any(f.rule == "MSG-DKIM-MISSING" and f.status.value == "pass"
                                         for f in run.findings)
