"""The demo lab's certificates: a "demo only" CA and three server certificates, made at run time.

Why generated and not shipped as demo data: a shipped CA would put a private key into every
installation (security scanners rightly flag that, and anyone could sign with it), and shipped
certificates age: within months the demo would show "expired" everywhere, and a certificate
that is meant to expire *soon* cannot be shipped at all. Made at start, every validity is
relative to today, the CA key never touches the disk and dies with the process, and nothing
outside the demo trusts the CA: the audit is handed ``ca.pem`` for the demo project only.
EC P-256 keys make the whole set in a few milliseconds.

The three leaves give the demo one honest defect each (see :mod:`auditapp.lab.demolab`):

* ``good``      -- the mail service names of the demo domain, valid for 90 days;
* ``internal``  -- only the server's internal name ``server.firma.local`` (the classic
  "the admin installed the certificate of the LAN name" mistake);
* ``expiring``  -- the right names, but it expires in :data:`EXPIRING_DAYS` days (a renewal that
  was forgotten on one service).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: Says on every certificate what it is, so nobody mistakes one found in a temp folder.
DEMO_ORG = "auditapp demo lab - demo only - not a real CA"
CA_NAME = "auditapp demo CA - demo only"
#: Inside every usual warning window (TLS-CERT-EXPIRING warns below 21 days).
EXPIRING_DAYS = 9
INTERNAL_NAME = "server.firma.local"


@dataclass(frozen=True)
class CertFiles:
    """A certificate (PEM) and its private key (PEM), as ``ssl.SSLContext.load_cert_chain`` wants them."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class DemoCerts:
    """The demo CA (the trust anchor handed to the audit) and the three server certificates."""

    ca: Path
    good: CertFiles
    internal: CertFiles
    expiring: CertFiles


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEMO_ORG),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not ca, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def make_demo_certs(directory: Path, names: Sequence[str]) -> DemoCerts:
    """Write the demo CA and leaves for ``names`` (the demo's service host names) into ``directory``."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(CA_NAME)
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM

    def leaf(stem: str, sans: Sequence[str], days: int) -> CertFiles:
        # Half a day more, so "expires in N days" (whole days, rounded down) says EXPIRING_DAYS.
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder().subject_name(_name(sans[0])).issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=days, hours=12))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        return CertFiles(
            _write(directory / f"{stem}.pem", cert.public_bytes(pem)),
            _write(directory / f"{stem}.key", key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                                 serialization.NoEncryption())))

    return DemoCerts(
        ca=_write(directory / "demo-ca.pem", ca.public_bytes(pem)),
        good=leaf("good", names, 90),
        internal=leaf("internal", (INTERNAL_NAME,), 90),
        expiring=leaf("expiring", names, EXPIRING_DAYS),
    )
