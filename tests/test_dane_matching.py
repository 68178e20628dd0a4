"""TLSA parsing and matching (RFC 6698 §2.1, RFC 7671, RFC 7672 §3.1.3) without servers."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from auditapp.checks.dane import association, matches_leaf, parameter_outcome, parse_tlsa, record_for
from auditapp.collectors.probes.tls import parse_certificate


def _cert() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "mx.example.test")])
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(now).not_valid_after(now + dt.timedelta(days=200))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(Encoding.DER)


DER = _cert()
SPKI = x509.load_der_x509_certificate(DER).public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def test_the_probe_computes_what_tlsa_records_publish() -> None:
    info, problem = parse_certificate(DER)
    assert info is not None and not problem
    assert info.spki_sha256 == hashlib.sha256(SPKI).hexdigest()
    assert info.spki_sha512 == hashlib.sha512(SPKI).hexdigest()
    assert info.cert_sha256 == hashlib.sha256(DER).hexdigest()
    assert info.cert_sha512 == hashlib.sha512(DER).hexdigest()
    assert record_for(info) == f"3 1 1 {hashlib.sha256(SPKI).hexdigest()}"


@pytest.mark.parametrize(("selector", "mtype", "data"), [
    (1, 1, hashlib.sha256(SPKI).digest()), (1, 2, hashlib.sha512(SPKI).digest()), (1, 0, SPKI),
    (0, 1, hashlib.sha256(DER).digest()), (0, 2, hashlib.sha512(DER).digest()), (0, 0, DER),
])
def test_every_selector_and_matching_type(selector: int, mtype: int, data: bytes) -> None:
    assert association(DER, selector, mtype) == data
    info, _ = parse_certificate(DER)
    assert info is not None
    hexdata = data.hex()
    # dnspython splits long hex into chunks; the parser joins them.
    text = f"3 {selector} {mtype} " + " ".join(hexdata[i:i + 56] for i in range(0, len(hexdata), 56))
    record = parse_tlsa(text)
    assert record is not None and record.usable
    assert matches_leaf(record, info)
    # Without the DER (an older stored fact) the four digests still decide; full data cannot.
    from dataclasses import replace

    assert matches_leaf(record, replace(info, der=b"")) is (mtype != 0)
    # Usage 1 (PKIX-EE) with the same data is ignored for SMTP, RFC 7672 §3.1.3.
    pkix = parse_tlsa("1" + text[1:])
    assert pkix is not None and pkix.problem == "pkix" and not matches_leaf(pkix, info)


@pytest.mark.parametrize(("records", "outcome"), [
    (["3 1 1 " + "ab" * 32], "pass"),
    (["2 0 1 " + "ab" * 32, "3 1 2 " + "ab" * 64], "pass"),
    (["1 1 1 " + "ab" * 32], "no_usable"),
    (["0 0 1 " + "ab" * 32, "3 1 1 " + "ab" * 32], "pkix_usage"),
    (["3 1 1 " + "ab" * 16, "3 1 1 " + "ab" * 32], "malformed"),
    (["3 2 1 " + "ab" * 32, "3 1 1 " + "ab" * 32], "unknown_values"),
    (["3 0 0 " + "ab" * 300], "full_data"),
])
def test_parameter_outcomes(records: list[str], outcome: str) -> None:
    parsed = [parse_tlsa(r) for r in records]
    assert parameter_outcome([r for r in parsed if r is not None]) == outcome


def test_garbage_is_not_a_record() -> None:
    assert parse_tlsa("3 1") is None
    assert parse_tlsa("x 1 1 ab") is None
    assert parse_tlsa("3 1 1 zz") is None
