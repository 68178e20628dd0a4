"""Throw-away X.509 certificates for the mail lab, made with ``cryptography``.

Why a private CA instead of one self-signed certificate (as in the reference notes): the
audit has to tell *trusted* certificates from broken ones. With a lab CA the tests hand the
audit ``ca.pem`` as its trust store, and then each failure mode is exactly one defect:

* ``good``        -- CA-signed, right names, valid for 90 days;
* ``wrongname``   -- CA-signed and valid, but the SAN only names ``other.example``;
* ``expired``     -- CA-signed, right names (``*.expired.test``), ``notAfter`` 30 days ago;
* ``soon``        -- CA-signed, right names (``*.soon.test``), expires in 10 days;
* ``selfsigned``  -- right names (``*.selfsigned.test``) but signed by its own key;
* ``mtasts``      -- CA-signed, for the HTTPS MTA-STS policy server.

The CA key is EC P-256 (instant to make); the leaves are RSA 2048, what most real MX hosts
present, and the key type with the widest choice of TLS 1.0 cipher suites (the lab's
legacy-TLS instance needs those). Everything is generated once per session, about 0.3 s.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "auditapp Lab CA"

#: Names on the good leaf: every service name of svc.test, plus shared.test (whose MX and
#: submission host share the GOOD Postfix address) so that domain is clean too.
GOOD_NAMES = (
    "mx.svc.test", "smtp.svc.test", "mail.svc.test", "imap.svc.test", "pop.svc.test",
    "mx.shared.test", "smtp.shared.test",
)
#: The GOOD Postfix and the GOOD Dovecot, so a client verifying by IP address works too.
GOOD_IPS = ("127.0.0.2", "127.0.0.3")
WRONGNAME_NAMES = ("other.example",)
EXPIRED_NAMES = ("mx.expired.test", "smtp.expired.test")
SOON_NAMES = ("mx.soon.test", "smtp.soon.test")
SELFSIGNED_NAMES = ("mx.selfsigned.test", "smtp.selfsigned.test")
MTASTS_NAMES = ("mta-sts.svc.test", "mta-sts.badsvc.test", "mta-sts.wrongmx.test", "autoconfig.autocfg.test",
                "mta-sts.stsbad.test", "mta-sts.halfmx.test", "mta-sts.silentsts.test")

#: Days until the "soon" leaf expires: inside every usual warning window (14/21/30 days).
SOON_DAYS = 10


@dataclass(frozen=True)
class CertPair:
    """A certificate and its private key, both PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class LabCerts:
    """Every certificate of the lab; ``ca`` is the trust anchor the clients use."""

    directory: Path
    ca: Path
    good: CertPair
    wrongname: CertPair
    expired: CertPair
    soon: CertPair
    selfsigned: CertPair
    mtasts: CertPair


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "auditapp lab"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _write_key(path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> None:
    """Write a PEM key readable by root only.

    Postfix and Dovecot read their keys while still root (before dropping privileges), so
    0600 root-owned is enough and mirrors what a careful admin does.
    """
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    path.chmod(0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.chmod(0o644)


def _make_ca(now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A root CA valid from a year ago, so the expired leaf lies inside the CA's lifetime.

    Otherwise a verifier could report the CA, not the leaf, as the problem.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(CA_NAME)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=365))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _make_leaf(
    names: Sequence[str],
    not_before: dt.datetime,
    not_after: dt.datetime,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    ips: Sequence[str] = (),
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A TLS server certificate; ``issuer=None`` makes it self-signed."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = _name(names[0])
    san: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    san += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is None:
        cert = builder.issuer_name(subject).sign(key, hashes.SHA256())
    else:
        ca_cert, ca_key = issuer
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
        cert = (builder.issuer_name(ca_cert.subject).add_extension(aki, critical=False)
                .sign(ca_key, hashes.SHA256()))
    return cert, key


def make_lab_certs(directory: Path) -> LabCerts:
    """Create the CA and every leaf in ``directory`` (made 0755) and return their paths.

    The CA private key is not written anywhere: nothing needs to sign anything later.
    """
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ca = _make_ca(now)
    ca_path = directory / "ca.pem"
    _write_cert(ca_path, ca[0])

    def save(stem: str, pair: tuple[x509.Certificate, rsa.RSAPrivateKey]) -> CertPair:
        paths = CertPair(directory / f"{stem}.pem", directory / f"{stem}.key")
        _write_cert(paths.cert, pair[0])
        _write_key(paths.key, pair[1])
        return paths

    # Healthy leaves live 90 days, like ACME certificates: far outside the 21-day warning
    # window of TLS-CERT-EXPIRING, so only the "soon" leaf trips it.
    yesterday, in_90_days = now - dt.timedelta(days=1), now + dt.timedelta(days=90)
    return LabCerts(
        directory=directory,
        ca=ca_path,
        good=save("good", _make_leaf(GOOD_NAMES, yesterday, in_90_days, ca, GOOD_IPS)),
        wrongname=save("wrongname", _make_leaf(WRONGNAME_NAMES, yesterday, in_90_days, ca)),
        expired=save("expired", _make_leaf(EXPIRED_NAMES, now - dt.timedelta(days=90),
                                           now - dt.timedelta(days=30), ca)),
        soon=save("soon", _make_leaf(SOON_NAMES, yesterday, now + dt.timedelta(days=SOON_DAYS), ca)),
        selfsigned=save("selfsigned", _make_leaf(SELFSIGNED_NAMES, yesterday, in_90_days, None)),
        mtasts=save("mtasts", _make_leaf(MTASTS_NAMES, yesterday, in_90_days, ca, ("127.0.0.8",))),
    )
