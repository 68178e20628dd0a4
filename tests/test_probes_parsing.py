"""Pure parts of the protocol probes: reply parsing, the bounded line reader, transcripts, certificates."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from auditapp.collectors.probes.lines import MAX_LINE, MAX_LINES, LineReader, looks_binary
from auditapp.collectors.probes.parsing import (
    auth_mechanisms,
    has_capability,
    imap_greeting_caps,
    imap_tagged_status,
    parse_ehlo,
    parse_imap_capability,
    parse_pop3_capa,
    smtp_code,
    smtp_is_last,
)
from auditapp.collectors.probes.tls import cert_matches_name, legacy_context, parse_certificate
from auditapp.collectors.probes.transcript import MAX_SHOWN, Transcript, mask_client_line, printable, shorten

# -- SMTP -------------------------------------------------------------------------------------------

EHLO = [
    "250-mx.example.com Hello [192.0.2.1]",
    "250-PIPELINING",
    "250-SIZE 52428800",
    "250-auth plain  LOGIN",
    "250-AUTH=PLAIN LOGIN",
    "250-STARTTLS",
    "250 8BITMIME",
]


def test_ehlo_keywords_are_upper_case_with_parameters_kept_together() -> None:
    caps = parse_ehlo(EHLO)
    assert caps == ("PIPELINING", "SIZE 52428800", "AUTH PLAIN LOGIN", "AUTH=PLAIN LOGIN", "STARTTLS", "8BITMIME")
    assert has_capability(caps, "starttls") and has_capability(caps, "AUTH")
    assert not has_capability(caps, "SMTPUTF8")
    assert auth_mechanisms(caps) == ("PLAIN", "LOGIN")


def test_ehlo_with_only_the_name_line() -> None:
    assert parse_ehlo(["250 mx.example.com"]) == ()


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        (["220 mx ESMTP"], 220),
        (["220-mx ESMTP", "220 more"], 220),
        (["250"], 250),
        (["554 5.7.1 go away"], 554),
        (["220-x", "250 y"], None),  # mixed codes
        (["HTTP/1.1 400 Bad Request"], None),
        (["* OK IMAP4rev1"], None),
        (["999 nonsense"], None),
        (["22 short"], None),
        ([], None),
    ],
)
def test_smtp_code(lines: list[str], code: int | None) -> None:
    assert smtp_code(lines) == code


def test_smtp_is_last() -> None:
    assert not smtp_is_last("250-PIPELINING")
    assert smtp_is_last("250 OK") and smtp_is_last("250") and smtp_is_last("garbage")


# -- IMAP -------------------------------------------------------------------------------------------


def test_imap_capabilities_from_the_greeting_code() -> None:
    line = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE STARTTLS LOGINDISABLED] Dovecot ready."
    assert imap_greeting_caps(line) == (
        "IMAP4REV1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "STARTTLS", "LOGINDISABLED")
    assert imap_greeting_caps("* OK Dovecot ready.") is None


def test_imap_capability_response() -> None:
    lines = ["* CAPABILITY IMAP4rev1 auth=PLAIN AUTH=LOGIN", "* capability ID", "a1 OK done"]
    caps = parse_imap_capability(lines)
    assert caps == ("IMAP4REV1", "AUTH=PLAIN", "AUTH=LOGIN", "ID")
    assert auth_mechanisms(caps) == ("PLAIN", "LOGIN")
    assert not has_capability(caps, "LOGINDISABLED")


def test_imap_tagged_status() -> None:
    assert imap_tagged_status("a1 OK CAPABILITY completed", "a1") == "OK"
    assert imap_tagged_status("a1 no", "a1") == "NO"
    assert imap_tagged_status("a2 OK", "a1") is None
    assert imap_tagged_status("* OK still here", "a1") is None


# -- POP3 -------------------------------------------------------------------------------------------


def test_pop3_capa() -> None:
    lines = ["+OK Capability list follows", "TOP", "user", "SASL  PLAIN LOGIN", "STLS", "..odd", "."]
    caps = parse_pop3_capa(lines)
    assert caps == ("TOP", "USER", "SASL PLAIN LOGIN", "STLS", ".ODD")
    assert has_capability(caps, "STLS") and has_capability(caps, "SASL")
    assert auth_mechanisms(caps) == ("PLAIN", "LOGIN")


# -- transcript -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("AUTH PLAIN AHVzZXIAcGFzcw==", "AUTH PLAIN ****"),
        ("auth login dXNlcg==", "auth login ****"),
        ("AUTH LOGIN", "AUTH LOGIN"),
        ("a1 LOGIN user secret", "a1 LOGIN ****"),
        ("a1 AUTHENTICATE PLAIN AHVzZXIAcGFzcw==", "a1 AUTHENTICATE PLAIN ****"),
        ("PASS secret", "PASS ****"),
        ("APOP user 0123456789abcdef", "APOP user ****"),
        ("EHLO auditapp.invalid", "EHLO auditapp.invalid"),
        ("MAIL FROM:<a@example.org>", "MAIL FROM:<a@example.org>"),
    ],
)
def test_credentials_are_masked(line: str, shown: str) -> None:
    assert mask_client_line(line) == shown


def test_secret_continuation_lines_are_never_shown() -> None:
    t = Transcript()
    t.client("AUTH PLAIN AHVzZXIAcGFzcw==")
    t.client("c2VjcmV0", secret=True)
    assert t.freeze() == ("C: AUTH PLAIN ****", "C: ****")


def test_network_text_is_escaped_and_truncated() -> None:
    assert printable(b"220 ok\x1b[31m\x00\xff") == "220 ok\\x1b[31m\\x00\\xff"
    assert printable("caf\u00e9 \u0085") == "caf\u00e9 \\x85"
    assert printable("a\u202eb\u2028c\U000e0001") == "a\\u202eb\\u2028c\\U000e0001"  # bidi, separator, tag
    t = Transcript()
    t.server(printable(b"220 " + b"y" * 1000))
    (line,) = t.freeze()
    assert line.startswith("S: 220 yyy") and line.endswith("…")
    assert len(line) == 3 + MAX_SHOWN
    assert shorten("abc", 3) == "abc" and shorten("abcd", 3) == "ab…"


def test_binary_detection() -> None:
    assert looks_binary(b"\x00abc")
    assert looks_binary(bytes(range(128, 200)))
    assert not looks_binary("220 grüß dich".encode())
    assert not looks_binary(b"")


# -- the bounded line reader ------------------------------------------------------------------------


def _read(data: bytes, *, eof: bool = True, timeout: float = 0.3, smtp: bool = True) -> tuple[list[str], str, float]:
    async def go() -> tuple[list[str], str, float]:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        if eof:
            reader.feed_eof()
        lines = LineReader(reader, Transcript())
        start = time.monotonic()
        reply = await lines.read_reply(smtp_is_last if smtp else (lambda line: False), timeout)
        return reply.lines, reply.problem, time.monotonic() - start

    return asyncio.run(asyncio.wait_for(go(), 5))


def test_reader_multiline_reply_and_bare_lf() -> None:
    lines, problem, _ = _read(b"250-a\r\n250-b\n250 c\r\nrest")
    assert (lines, problem) == (["250-a", "250-b", "250 c"], "")


def test_reader_line_limit() -> None:
    _, problem, _ = _read(b"220 " + b"x" * (2 * MAX_LINE))
    assert problem.startswith(f"line longer than {MAX_LINE} bytes without CRLF")
    _, problem, _ = _read(b"220 " + b"x" * MAX_LINE + b"\r\n")
    assert problem.startswith(f"line longer than {MAX_LINE} bytes")


def test_reader_reply_line_limit() -> None:
    lines, problem, _ = _read(b"250-x\r\n" * (MAX_LINES + 20))
    assert problem == f"reply longer than {MAX_LINES} lines" and len(lines) == MAX_LINES


def test_reader_eof_mid_line_and_nothing() -> None:
    assert _read(b"220 half")[1] == "connection closed by the server mid-line: '220 half'"
    assert _read(b"")[1] == "connection closed by the server"


def test_reader_deadline() -> None:
    lines, problem, elapsed = _read(b"250-one\r\n", eof=False, timeout=0.2)
    assert lines == ["250-one"] and problem == "incomplete reply: no final line within 0.2 s"
    assert _read(b"", eof=False, timeout=0.2)[1] == "no reply within 0.2 s"
    assert elapsed < 2
    assert _read(b"220 x", eof=False, timeout=0.2)[1] == "incomplete line without CRLF after 0.2 s: '220 x'"


def test_reader_binary() -> None:
    _, problem, _ = _read(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n")
    assert problem.startswith("binary data instead of a text reply")


# -- certificates -----------------------------------------------------------------------------------


def _cert(*, self_signed: bool, san: x509.SubjectAlternativeName | None = None) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    other = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mx.example.com"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example, Inc.")])
    issuer = name if self_signed else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Example CA")])
    start = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    builder = (
        x509.CertificateBuilder().subject_name(name).issuer_name(issuer).public_key(key.public_key())
        .serial_number(1).not_valid_before(start).not_valid_after(start + dt.timedelta(days=90))
    )
    if san:
        builder = builder.add_extension(san, critical=False)
    return builder.sign(key if self_signed else other, hashes.SHA256()).public_bytes(Encoding.DER)


def test_parse_certificate() -> None:
    san = x509.SubjectAlternativeName([x509.DNSName("mx.example.com"), x509.DNSName("*.example.com"),
                                       x509.IPAddress(ipaddress.ip_address("2001:db8::25"))])
    der = _cert(self_signed=False, san=san)
    cert, problem = parse_certificate(der, chain_length=2)
    assert problem == "" and cert is not None
    assert cert.subject == "O=Example\\, Inc.,CN=mx.example.com"  # RFC 4514: most significant last
    assert cert.issuer == "CN=Example CA"
    assert cert.san_dns == ("mx.example.com", "*.example.com")
    assert cert.san_ip == ("2001:db8::25",)
    assert (cert.not_before, cert.not_after) == ("2026-01-02T03:04:05Z", "2026-04-02T03:04:05Z")
    assert cert.fingerprint_sha256.count(":") == 31 and cert.fingerprint_sha256.isupper()
    assert cert.self_signed is False and cert.chain_length == 2
    assert cert_matches_name(cert, "mx.example.com") and cert_matches_name(cert, "IMAP.example.com.")
    assert not cert_matches_name(cert, "a.b.example.com") and not cert_matches_name(cert, "example.com")
    assert cert_matches_name(cert, "2001:db8::25") and not cert_matches_name(cert, "")


def test_self_signed_needs_its_own_signature() -> None:
    cert, _ = parse_certificate(_cert(self_signed=True))
    assert cert is not None and cert.self_signed is True and cert.san_dns == ()
    assert not cert_matches_name(cert, "mx.example.com")  # no SAN: the CN does not count (RFC 6125)


def test_unparseable_certificate() -> None:
    cert, problem = parse_certificate(b"\x30\x03\x02\x01\x00")
    assert cert is None and problem.startswith("the certificate could not be parsed")


def test_legacy_context_is_checked_offline() -> None:
    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        ctx, why = legacy_context(version)
        assert (ctx is None) == bool(why)
        if ctx is None:
            assert "local TLS library" in why
