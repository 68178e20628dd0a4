"""Verifying a received message with real parts (issue 15).

A real RSA key signs with dkimpy, the public key is served by the lab's DNS server on loopback,
and verification asks through a real DnsClient: nothing is mocked between the signature and the
verdict.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.lab.dnsserver import Fault, LabDnsServer, RecordSet
from auditapp.message.verify import (
    DkimResult,
    SpfMessageResult,
    check_dmarc,
    check_spf,
    parse_authentication_results,
    verify_arc,
    verify_dkim,
)

DOMAIN = "example.test"
GOOD_IP = "192.0.2.10"
OTHER_IP = "198.51.100.1"

_KEY = rsa.generate_private_key(65537, 2048)
PRIVATE = _KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _public_record(key: rsa.RSAPublicKey) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def _short_public_key() -> rsa.RSAPublicKey:
    """A 512-bit RSA public key. cryptography refuses to generate keys under 1024 bits, so the
    modulus is made from numbers: the verifier must reject it by size before any arithmetic."""
    n = (1 << 511) | 0x1234567890ABCDEF1 | 1
    return rsa.RSAPublicNumbers(65537, n).public_key()


def records() -> RecordSet:
    rs = RecordSet()
    rs.add("test", "SOA", "ns. h. 1 2 3 4 5")
    rs.add(f"sel._domainkey.{DOMAIN}", "TXT", _public_record(_KEY.public_key()))
    rs.add(f"short._domainkey.{DOMAIN}", "TXT", _public_record(_short_public_key()))
    rs.add(f"ed._domainkey.{DOMAIN}", "TXT", "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
    rs.add(f"bad._domainkey.{DOMAIN}", "TXT", "v=DKIM1; k=rsa; p=bm90IGEga2V5")
    rs.add("sel._domainkey.other.test", "TXT", _public_record(_KEY.public_key()))
    rs.add("sel._domainkey.strict.test", "TXT", _public_record(_KEY.public_key()))
    rs.add(DOMAIN, "TXT", f"v=spf1 ip4:{GOOD_IP} -all")
    rs.add(f"_dmarc.{DOMAIN}", "TXT", "v=DMARC1; p=reject; sp=quarantine")
    rs.add("strict.test", "TXT", f"v=spf1 ip4:{GOOD_IP} -all")
    rs.add("_dmarc.strict.test", "TXT", "v=DMARC1; p=reject; adkim=s; aspf=s")
    rs.add("other.test", "TXT", "v=spf1 -all")
    return rs


@pytest.fixture(scope="module")
def lab() -> Iterator[LabDnsServer]:
    with LabDnsServer(records()) as server:
        yield server


def client(lab: LabDnsServer, timeout: float = 1.0) -> DnsClient:
    return DnsClient([Nameserver(lab.host, lab.port)], timeout=timeout)


def message(from_domain: str = DOMAIN, body: str = "Hello,\r\n\r\nthe quarterly figures are attached.\r\n",
            extra: str = "") -> bytes:
    return (f"From: Alice <alice@{from_domain}>\r\nTo: bob@receiver.test\r\nSubject: Figures\r\n"
            f"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@{from_domain}>\r\n{extra}"
            f"\r\n{body}").encode()


def signed(raw: bytes, selector: str = "sel", domain: str = DOMAIN, **kwargs: object) -> bytes:
    header = dkim.sign(raw, selector.encode(), domain.encode(), PRIVATE,
                       include_headers=[b"from", b"to", b"subject", b"date", b"message-id"], **kwargs)
    return header + raw


def dkim_of(raw: bytes, dns: DnsClient) -> list[DkimResult]:
    return asyncio.run(verify_dkim(raw, dns))


# --- DKIM ---------------------------------------------------------------------------------------


def test_a_good_signature_passes_with_its_key_size(lab: LabDnsServer) -> None:
    [result] = dkim_of(signed(message()), client(lab))
    assert (result.domain, result.selector, result.algorithm, result.result) == (DOMAIN, "sel", "rsa-sha256", "pass")
    assert result.key_bits == 2048 and result.reason == ""
    assert result.answers and result.answers[0].name == f"sel._domainkey.{DOMAIN}"


def test_a_changed_body_fails_on_the_body_hash(lab: LabDnsServer) -> None:
    raw = signed(message()).replace(b"quarterly", b"monthly")
    [result] = dkim_of(raw, client(lab))
    assert result.result == "fail" and "body hash" in result.reason


def test_a_changed_signed_header_fails_on_the_signature(lab: LabDnsServer) -> None:
    raw = signed(message()).replace(b"Subject: Figures", b"Subject: Invoice")
    [result] = dkim_of(raw, client(lab))
    assert result.result == "fail" and "signature mismatch" in result.reason


def test_a_missing_key_record_is_permerror(lab: LabDnsServer) -> None:
    [result] = dkim_of(signed(message(), selector="gone"), client(lab))
    assert result.result == "permerror" and "key missing" in result.reason


def test_a_key_lookup_timeout_is_temperror_never_fail() -> None:
    with LabDnsServer(records(), faults={f"sel._domainkey.{DOMAIN}": Fault.TIMEOUT}) as server:
        [result] = dkim_of(signed(message()), client(server, timeout=0.4))
    assert result.result == "temperror" and "key lookup failed" in result.reason


def test_a_512_bit_key_fails_as_too_short(lab: LabDnsServer) -> None:
    # Signed with the 2048-bit key; the record under "short" publishes a 512-bit key.
    [result] = dkim_of(signed(message(), selector="short"), client(lab))
    assert result.result == "fail" and "too short" in result.reason and result.key_bits == 512


def test_an_unusable_key_record_is_permerror(lab: LabDnsServer) -> None:
    [result] = dkim_of(signed(message(), selector="bad"), client(lab))
    assert result.result == "permerror" and "bad key record" in result.reason


def test_an_ed25519_signature_is_judged_or_set_aside_never_a_crash(lab: LabDnsServer) -> None:
    # The key of RFC 8463's example; the b= is not a real signature over this message.
    sig = (b"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.test; s=ed;"
           b" h=from:subject; bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;"
           b" b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n")
    [result] = dkim_of(sig + message(), client(lab))
    assert (result.algorithm, result.key_bits) == ("ed25519-sha256", 256)
    assert result.result in ("neutral", "fail")  # neutral without PyNaCl, fail (body hash) with it


def test_an_expired_signature_fails(lab: LabDnsServer) -> None:
    # dkimpy signs without x=, so x= is added by hand (which also breaks b=): the expiry is
    # judged from the tags before any hash, and must be the reason given.
    past = int(time.time()) - 30 * 86400
    raw = message()
    sig = dkim.sign(raw, b"sel", DOMAIN.encode(), PRIVATE, include_headers=[b"from", b"subject"])
    sig = sig.replace(b" d=", f" x={past}; d=".encode(), 1)
    assert f"x={past}".encode() in sig
    [result] = dkim_of(sig + raw, client(lab))
    assert result.result == "fail" and "expired" in result.reason


def test_no_signature_gives_no_results_and_garbage_is_not_a_crash(lab: LabDnsServer) -> None:
    assert dkim_of(message(), client(lab)) == []
    results = dkim_of(b"\x00\xff not a message", client(lab))
    assert all(r.result in ("permerror", "neutral") for r in results)
    [malformed] = dkim_of(b"DKIM-Signature: v=1; a=rsa-sha256; d=example.test\r\n" + message(), client(lab))
    assert malformed.result == "neutral"


# --- ARC ----------------------------------------------------------------------------------------


def sealed(raw: bytes) -> bytes:
    raw = b"Authentication-Results: lab.example.test; dkim=pass header.d=example.test\r\n" + raw
    headers = dkim.arc_sign(raw, b"sel", DOMAIN.encode(), PRIVATE, b"lab.example.test")
    return b"".join(headers) + raw


def test_an_arc_seal_verifies_and_a_broken_one_fails(lab: LabDnsServer) -> None:
    raw = sealed(message())
    good = asyncio.run(verify_arc(raw, client(lab)))
    assert (good.result, good.instances) == ("pass", 1)
    broken = asyncio.run(verify_arc(raw.replace(b"quarterly", b"monthly"), client(lab)))
    assert broken.result == "fail"
    assert asyncio.run(verify_arc(message(), client(lab))).result == "none"


def test_an_arc_key_timeout_is_temperror() -> None:
    raw = sealed(message())
    with LabDnsServer(records(), faults={f"sel._domainkey.{DOMAIN}": Fault.TIMEOUT}) as server:
        result = asyncio.run(verify_arc(raw, client(server, timeout=0.4)))
    assert result.result == "temperror" and "key lookup failed" in result.reason


# --- SPF and DMARC ------------------------------------------------------------------------------


def test_spf_for_the_envelope_sender_and_the_null_sender(lab: LabDnsServer) -> None:
    dns = client(lab)
    ok = asyncio.run(check_spf(GOOD_IP, f"<bounce@{DOMAIN}>", "mail.example.test", dns))
    assert (ok.ip, ok.sender, ok.result, ok.domain) == (GOOD_IP, f"bounce@{DOMAIN}", "pass", DOMAIN)
    assert asyncio.run(check_spf(OTHER_IP, f"bounce@{DOMAIN}", "x", dns)).result == "fail"
    null = asyncio.run(check_spf(GOOD_IP, "", "strict.test", dns))
    assert (null.domain, null.result) == ("strict.test", "pass")
    assert asyncio.run(check_spf(GOOD_IP, "a@nowhere.test", "x", dns)).result == "none"


def _dkim_pass(domain: str) -> DkimResult:
    return DkimResult(domain, "sel", "rsa-sha256", 2048, "pass")


def test_dmarc_passes_on_relaxed_dkim_alignment_from_a_subdomain(lab: LabDnsServer) -> None:
    dns = client(lab)
    [dk] = dkim_of(signed(message(from_domain=f"news.{DOMAIN}")), dns)
    spf = asyncio.run(check_spf(OTHER_IP, f"b@{DOMAIN}", "x", dns))
    result = asyncio.run(check_dmarc(f"news.{DOMAIN}", spf, [dk], dns))
    assert (result.result, result.dkim_aligned, result.spf_aligned) == ("pass", True, False)
    assert result.policy == "quarantine"  # sp= applies below the record's domain
    assert result.org_domain == DOMAIN and result.record_name == f"_dmarc.{DOMAIN}"


def test_dmarc_passes_on_spf_alignment_alone(lab: LabDnsServer) -> None:
    dns = client(lab)
    spf = asyncio.run(check_spf(GOOD_IP, f"bounce@{DOMAIN}", "x", dns))
    result = asyncio.run(check_dmarc(DOMAIN, spf, [], dns))
    assert (result.result, result.policy, result.spf_aligned, result.dkim_aligned) == ("pass", "reject", True, False)


def test_dmarc_fails_when_only_a_foreign_domain_passes(lab: LabDnsServer) -> None:
    dns = client(lab)
    spf = SpfMessageResult(OTHER_IP, "b@other.test", "fail", "other.test")
    result = asyncio.run(check_dmarc(DOMAIN, spf, [_dkim_pass("other.test")], dns))
    assert (result.result, result.spf_aligned, result.dkim_aligned) == ("fail", False, False)


def test_strict_alignment_rejects_a_subdomain(lab: LabDnsServer) -> None:
    dns = client(lab)
    spf = asyncio.run(check_spf(GOOD_IP, "b@strict.test", "x", dns))
    exact = asyncio.run(check_dmarc("strict.test", spf, [_dkim_pass("strict.test")], dns))
    assert (exact.result, exact.spf_aligned, exact.dkim_aligned) == ("pass", True, True)
    sub = asyncio.run(check_dmarc("mail.strict.test", spf, [_dkim_pass("strict.test")], dns))
    assert (sub.result, sub.spf_aligned, sub.dkim_aligned) == ("fail", False, False)


def test_dmarc_without_record_is_none_and_a_timeout_is_temperror(lab: LabDnsServer) -> None:
    spf = SpfMessageResult(GOOD_IP, "b@other.test", "pass", "other.test")
    assert asyncio.run(check_dmarc("other.test", spf, [], client(lab))).result == "none"
    with LabDnsServer(records(), faults={f"_dmarc.{DOMAIN}": Fault.TIMEOUT}) as server:
        result = asyncio.run(check_dmarc(DOMAIN, spf, [], client(server, timeout=0.4)))
    assert result.result == "temperror"


# --- Authentication-Results ----------------------------------------------------------------------

GMAIL = (
    "mx.google.com;\r\n"
    "       dkim=pass header.i=@example.test header.s=sel header.b=AbCd1234;\r\n"
    "       arc=pass (i=1 spf=pass spfdomain=example.test dkim=pass dkdomain=example.test);\r\n"
    "       spf=pass (google.com: domain of bounce@example.test designates 192.0.2.10 as permitted sender)"
    " smtp.mailfrom=bounce@example.test;\r\n"
    "       dmarc=pass (p=REJECT sp=QUARANTINE dis=NONE) header.from=example.test"
)
MICROSOFT = (
    "spf=pass (sender IP is 192.0.2.10)\r\n smtp.mailfrom=example.test; dkim=pass (signature was verified)\r\n"
    " header.d=example.test;dmarc=pass action=none header.from=example.test;compauth=pass\r\n reason=100"
)


def test_gmail_and_microsoft_authentication_results() -> None:
    gmail = parse_authentication_results([GMAIL])
    assert [(r.authserv_id, r.method, r.result) for r in gmail] == [
        ("mx.google.com", "dkim", "pass"), ("mx.google.com", "arc", "pass"),
        ("mx.google.com", "spf", "pass"), ("mx.google.com", "dmarc", "pass")]
    assert ("header.s", "sel") in gmail[0].properties
    assert ("smtp.mailfrom", "bounce@example.test") in gmail[2].properties
    microsoft = parse_authentication_results(["Authentication-Results: " + MICROSOFT, "garbage ;;; ="])
    assert [(r.authserv_id, r.method, r.result) for r in microsoft] == [
        ("", "spf", "pass"), ("", "dkim", "pass"), ("", "dmarc", "pass"), ("", "compauth", "pass")]
    assert microsoft[1].properties == (("header.d", "example.test"),)
    assert microsoft[3].reason == "100"


def test_authentication_results_from_a_parsed_message() -> None:
    import email
    import email.policy

    msg = email.message_from_bytes(f"Authentication-Results: {GMAIL}\r\n".encode() + message(),
                                   policy=email.policy.default)
    assert [r.method for r in parse_authentication_results(msg)] == ["dkim", "arc", "spf", "dmarc"]
