"""Ed25519 DKIM signatures (RFC 8463) verified with real parts.

PyNaCl is a dependency so that dkimpy can check ``ed25519-sha256`` signatures; without it they
could only be set aside as not checkable. Keys are served by the lab's DNS server on loopback and
verification asks through a real DnsClient, as in tests/test_message_verify.py.

The first test is RFC 8463's own example (Appendix A): a message signed with both Ed25519 and
RSA, with both public keys, which any conforming verifier must pass. The message and the keys
are quoted from the RFC (Copyright (c) 2018 IETF Trust and the persons identified as the
document authors; code components under the Simplified BSD License).
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Iterator

import dkim
import nacl.signing
import pytest
from arc_conformance_report import load_scenarios
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.lab.dnsserver import LabDnsServer, RecordSet
from auditapp.message.verify import DkimResult, verify_arc, verify_dkim

# --- RFC 8463 Appendix A ----------------------------------------------------------------------

RFC_DOMAIN = "football.example.com"
#: A.2: the Ed25519 private key (the RFC 8032 test key 1) and the published key records (A.3).
RFC_ED25519_PRIVATE = b"nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
RFC_ED25519_RECORD = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
RFC_RSA_RECORD = (
    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2"
    "jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3"
    "Ip3G+2kryOTIKT+l/K4w3QIDAQAB"
)
#: A.3: the signed message.
RFC_MESSAGE = "\r\n".join([
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;",
    " d=football.example.com; i=@football.example.com;",
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :",
    " subject : date : message-id : from : subject : date;",
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;",
    " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus",
    " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==",
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;",
    " d=football.example.com; i=@football.example.com;",
    " q=dns/txt; s=test; t=1528637909; h=from : to : subject :",
    " date : message-id : from : subject : date;",
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;",
    " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3",
    " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz",
    " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=",
    "From: Joe SixPack <joe@football.example.com>",
    "To: Suzie Q <suzie@shopping.example.net>",
    "Subject: Is dinner ready?",
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)",
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>",
    "",
    "Hi.",
    "",
    "We lost the game.  Are you hungry yet?",
    "",
    "Joe.",
    "",
]).encode()

# --- our own keys, for messages dkimpy signs here --------------------------------------------

DOMAIN = "example.test"
_ED_KEY = nacl.signing.SigningKey.generate()
#: dkimpy takes an Ed25519 private key as the base64 of its 32-byte seed.
ED_PRIVATE = base64.b64encode(bytes(_ED_KEY))
_RSA_KEY = rsa.generate_private_key(65537, 2048)
RSA_PRIVATE = _RSA_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.NoEncryption())


def _ed25519_record(key: nacl.signing.VerifyKey) -> str:
    return "v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(key)).decode()


def _rsa_record(key: rsa.RSAPublicKey) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def records() -> RecordSet:
    rs = RecordSet()
    rs.add(f"brisbane._domainkey.{RFC_DOMAIN}", "TXT", RFC_ED25519_RECORD)
    rs.add(f"test._domainkey.{RFC_DOMAIN}", "TXT", RFC_RSA_RECORD)
    rs.add(f"ed._domainkey.{DOMAIN}", "TXT", _ed25519_record(_ED_KEY.verify_key))
    rs.add(f"rsa._domainkey.{DOMAIN}", "TXT", _rsa_record(_RSA_KEY.public_key()))
    # 31 bytes instead of 32: not an Ed25519 public key.
    rs.add(f"short._domainkey.{DOMAIN}", "TXT", "v=DKIM1; k=ed25519; p=" + base64.b64encode(b"\x01" * 31).decode())
    return rs


@pytest.fixture(scope="module")
def lab() -> Iterator[LabDnsServer]:
    with LabDnsServer(records()) as server:
        yield server


def dkim_of(raw: bytes, lab: LabDnsServer) -> list[DkimResult]:
    return asyncio.run(verify_dkim(raw, DnsClient([Nameserver(lab.host, lab.port)], timeout=1.0)))


def message(body: str = "Hello,\r\n\r\nthe signed minutes are attached.\r\n") -> bytes:
    return (f"From: Alice <alice@{DOMAIN}>\r\nTo: bob@example.net\r\nSubject: Minutes\r\n"
            f"Date: Mon, 07 Dec 2026 09:00:00 +0100\r\nMessage-ID: <m1@{DOMAIN}>\r\n\r\n{body}").encode()


def sign_ed25519(raw: bytes, selector: bytes = b"ed", key: bytes = ED_PRIVATE) -> bytes:
    return dkim.sign(raw, selector, DOMAIN.encode(), key, signature_algorithm=b"ed25519-sha256",
                     include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])


def sign_rsa(raw: bytes) -> bytes:
    return dkim.sign(raw, b"rsa", DOMAIN.encode(), RSA_PRIVATE,
                     include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])


def summary(results: list[DkimResult]) -> list[tuple[str, str, int, str]]:
    return [(r.selector, r.algorithm, r.key_bits, r.result) for r in results]


# --- tests ------------------------------------------------------------------------------------


def test_rfc8463_appendix_a_verifies_both_signatures(lab: LabDnsServer) -> None:
    """The RFC's own test vector: both the Ed25519 and the RSA signature hold."""
    assert summary(dkim_of(RFC_MESSAGE, lab)) == [
        ("brisbane", "ed25519-sha256", 256, "pass"),
        ("test", "rsa-sha256", 1024, "pass"),
    ]


def test_rfc8463_private_key_matches_its_published_record() -> None:
    """Guards the quoted key pair: the A.2 private key gives the A.3 public key."""
    seed = base64.b64decode(RFC_ED25519_PRIVATE)
    public = base64.b64encode(bytes(nacl.signing.SigningKey(seed).verify_key)).decode()
    assert RFC_ED25519_RECORD.endswith(f"p={public}")


def test_rfc8463_example_with_a_changed_body_fails_both(lab: LabDnsServer) -> None:
    results = dkim_of(RFC_MESSAGE.replace(b"Are you hungry yet?", b"Are you thirsty yet?"), lab)
    assert [r.result for r in results] == ["fail", "fail"]
    assert all("body hash mismatch" in r.reason for r in results)


def test_an_ed25519_signature_made_here_passes(lab: LabDnsServer) -> None:
    raw = message()
    [result] = dkim_of(sign_ed25519(raw) + raw, lab)
    assert (result.domain, result.algorithm, result.key_bits, result.result) == (DOMAIN, "ed25519-sha256", 256, "pass")
    assert result.reason == ""
    assert result.answers and result.answers[0].name.rstrip(".") == f"ed._domainkey.{DOMAIN}"


def test_a_changed_body_fails(lab: LabDnsServer) -> None:
    raw = message()
    signature = sign_ed25519(raw)
    [result] = dkim_of(signature + message(body="Hello,\r\n\r\nthe minutes were changed.\r\n"), lab)
    assert result.result == "fail" and "body hash mismatch" in result.reason
    assert result.key_bits == 256


def test_a_changed_signed_header_fails(lab: LabDnsServer) -> None:
    raw = message()
    [result] = dkim_of(sign_ed25519(raw) + raw.replace(b"Subject: Minutes", b"Subject: Invoice"), lab)
    assert result.result == "fail" and "signature mismatch" in result.reason


def test_a_signature_by_another_ed25519_key_fails(lab: LabDnsServer) -> None:
    raw = message()
    stranger = base64.b64encode(bytes(nacl.signing.SigningKey.generate()))
    [result] = dkim_of(sign_ed25519(raw, key=stranger) + raw, lab)
    assert result.result == "fail"


def test_a_dual_signed_message_gives_two_results(lab: LabDnsServer) -> None:
    """RFC 8463 §2 recommends signing with both; each signature is judged on its own."""
    raw = message()
    signed = sign_ed25519(raw) + sign_rsa(raw) + raw
    assert summary(dkim_of(signed, lab)) == [
        ("ed", "ed25519-sha256", 256, "pass"),
        ("rsa", "rsa-sha256", 2048, "pass"),
    ]
    # One signature broken (its b= changed): the other still passes on its own.
    broken = re.sub(rb"(a=ed25519-sha256;.*?\bb=)(\S)", lambda m: m.group(1) + (b"A" if m.group(2) != b"A" else b"B"),
                    signed, count=1, flags=re.S)
    assert [r.result for r in dkim_of(broken, lab)] == ["fail", "pass"]


def test_a_signature_that_is_not_64_bytes_is_malformed_not_a_crash(lab: LabDnsServer) -> None:
    """PyNaCl raises its own ValueError for such a b=, which dkimpy does not catch."""
    raw = message()
    signature = re.sub(rb"\bb=[^;]*", b"b=AAAA", sign_ed25519(raw).rstrip(b"\r\n"), count=1) + b"\r\n"
    [result] = dkim_of(signature + raw, lab)
    assert result.result == "neutral" and "64 bytes" in result.reason


def test_a_key_record_that_is_not_an_ed25519_key_is_a_permerror(lab: LabDnsServer) -> None:
    raw = message()
    [result] = dkim_of(sign_ed25519(raw, selector=b"short") + raw, lab)
    assert result.result == "permerror" and "bad key record" in result.reason


class _LabelledRsa(dkim.DKIM):
    """Signs with an Ed25519 key but writes ``a=rsa-sha256`` into the header it signs."""

    def gen_header(self, fields, *args, **kwargs):  # type: ignore[no-untyped-def]  # dkimpy's signature
        fields = [(tag, b"rsa-sha256" if tag == b"a" else value) for tag, value in fields]
        return super().gen_header(fields, *args, **kwargs)


def test_an_algorithm_that_does_not_fit_the_key_is_a_permerror(lab: LabDnsServer) -> None:
    """RFC 6376 §6.1.2. dkimpy alone would pass this one: it checks by the key's k= only."""
    raw = message()
    headers = [b"from", b"to", b"subject"]
    mislabelled = _LabelledRsa(raw).sign(b"ed", DOMAIN.encode(), ED_PRIVATE, signature_algorithm=b"ed25519-sha256",
                                         include_headers=headers)
    assert b"a=rsa-sha256" in mislabelled
    records = {f"ed._domainkey.{DOMAIN}.".encode(): _ed25519_record(_ED_KEY.verify_key).encode()}
    assert dkim.verify(mislabelled + raw, dnsfunc=lambda name, timeout=5: records.get(name))  # the gap we close
    [result] = dkim_of(mislabelled + raw, lab)
    assert (result.algorithm, result.result) == ("rsa-sha256", "permerror")
    assert result.reason.startswith("bad key record") and "k=ed25519" in result.reason
    # The other way round: an ed25519-sha256 header whose selector holds an RSA key.
    ed_on_rsa = sign_ed25519(raw).replace(b"s=ed;", b"s=rsa;")
    [result] = dkim_of(ed_on_rsa + raw, lab)
    assert result.result == "permerror" and "k=rsa" in result.reason


def test_an_arc_seal_over_an_ed25519_key_with_a_short_b_is_fail_not_a_crash() -> None:
    """ARC knows only rsa-sha256, but a seal's key record may still say k=ed25519: with PyNaCl
    installed, a b= that is not 64 bytes then raises PyNaCl's ValueError out of arc_verify."""
    [scenario] = [s for s in load_scenarios() if "cv_pass_i1_1" in s["tests"]]
    raw = scenario["tests"]["cv_pass_i1_1"]["message"].encode()
    seal = re.search(rb"ARC-Seal:.*?t=12345\n", raw, flags=re.S)
    assert seal is not None
    forged = raw.replace(seal.group(0), b"ARC-Seal: a=rsa-sha256; b=AAAA; cv=none; d=example.org; i=1; s=ed; t=12345\n")
    rs = RecordSet()
    for owner, value in scenario["txt-records"].items():
        rs.add(owner, "TXT", value)
    rs.add("ed._domainkey.example.org", "TXT", RFC_ED25519_RECORD)
    with LabDnsServer(rs) as server:
        client = DnsClient([Nameserver(server.host, server.port)], timeout=1.0)
        assert asyncio.run(verify_arc(raw, client)).result == "pass"  # the unforged original
        result = asyncio.run(verify_arc(forged, client))
    assert result.result == "fail" and "64 bytes" in result.reason


def test_without_pynacl_an_ed25519_signature_is_set_aside(lab: LabDnsServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback for an installation without PyNaCl (dkimpy then has no ``nacl`` name)."""
    raw = message()
    signed = sign_ed25519(raw) + raw  # signing needs PyNaCl too: sign first
    monkeypatch.delattr(dkim, "nacl")
    [result] = dkim_of(signed, lab)
    assert (result.result, result.key_bits) == ("neutral", 256)
    assert "PyNaCl is not installed" in result.reason
