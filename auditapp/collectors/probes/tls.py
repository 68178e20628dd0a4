"""TLS on a probe connection: what a modern client sees, and what an old one could still get.

The first handshake verifies the chain against the system trust store plus an optional
``--ca-file`` (extra anchors for private CAs; the system store stays in use). Host names are
*not* checked here (``check_hostname=False``): one endpoint serves several names, and the
pure checks match every one of them against the certificate's SANs per RFC 6125. When the
chain does not verify, OpenSSL aborts the handshake, so the probe reconnects without
verification: the dialogue can continue and the certificate can still be read and shown.

Legacy versions are tried on separate connections, one per version, because a handshake
can only negotiate one version; asking for TLS 1.0 inside the main dialogue would change
what we learn about it. No 0-RTT/early data is ever sent (Python's ssl module has no client
API for it, and a probe must not replay anything).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ssl
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from auditapp.collectors.probes.session import Conn, verify_text
from auditapp.collectors.probes.transcript import Transcript, shorten
from auditapp.collectors.service_facts import CertInfo, TlsInfo
from auditapp.core.problem import Problem, joined, labelled, with_note

#: Versions RFC 8996 deprecates, tried one per connection. SSLv3 is not tried: OpenSSL 3 cannot speak it.
LEGACY_VERSIONS = (("TLSv1", ssl.TLSVersion.TLSv1), ("TLSv1.1", ssl.TLSVersion.TLSv1_1))

#: A callable that opens a fresh connection and brings it to the point of the TLS handshake
#: (for STARTTLS: greeting, EHLO, STARTTLS); returns the connection or why it could not.
Reopen = Callable[[], Awaitable[tuple[Conn | None, str]]]


@functools.lru_cache(maxsize=8)
def verify_context(ca_file: str | None) -> tuple[ssl.SSLContext, str]:
    """The verifying context, and a problem if ``ca_file`` could not be loaded."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # names are matched per RFC 6125 by the checks, against every name
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_default_certs()
    problem = ""
    if ca_file:
        try:
            ctx.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            problem = Problem("problem.ca_file",
                              "CA file {path} could not be loaded ({error}); only the system trust store was used",
                              path=ca_file, error=str(exc))
    return ctx, problem


@functools.lru_cache(maxsize=1)
def unverified_context() -> ssl.SSLContext:
    """Same client as :func:`verify_context`, minus verification: for reading an untrusted certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@functools.lru_cache(maxsize=4)
def legacy_context(version: ssl.TLSVersion) -> tuple[ssl.SSLContext | None, str]:
    """A context that offers exactly ``version``, or None and why the local TLS library cannot.

    The capability is tested offline: a handshake into a memory BIO either writes a
    ClientHello or fails with "no protocols available", without bothering any server.
    """
    name = version.name.replace("_", ".")
    cannot = Problem("problem.legacy_unsupported",
                     "the local TLS library ({library}) cannot offer {version}, so it could not be tested",
                     library=ssl.OPENSSL_VERSION, version=name)
    try:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with warnings.catch_warnings():  # deprecated on purpose: finding servers that still accept it is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = version
            ctx.maximum_version = version
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        obj = ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO())
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            return ctx, ""  # a ClientHello was written: this version can be offered
    except (ssl.SSLError, ValueError) as exc:
        return None, with_note(cannot, str(getattr(exc, "reason", None) or exc))
    return None, cannot


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_certificate(der: bytes, chain_length: int = 1) -> tuple[CertInfo | None, str]:
    """The leaf certificate as :class:`CertInfo`, or None and why it could not be read."""
    try:
        cert = x509.load_der_x509_certificate(der)
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer.rfc4514_string()
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    except (ValueError, TypeError) as exc:
        return None, Problem("problem.cert_unparsable", "the certificate could not be parsed: {error}", error=str(exc))
    san_dns: tuple[str, ...] = ()
    san_ip: tuple[str, ...] = ()
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        san_dns = tuple(san.get_values_for_type(x509.DNSName))
        san_ip = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        pass
    except (ValueError, TypeError) as exc:  # a malformed or duplicated extension
        return None, Problem("problem.cert_extensions_unparsable",
                             "the certificate's extensions could not be parsed: {error}", error=str(exc))
    fingerprint = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest().upper()
    digests = tlsa_digests(der, cert)
    return CertInfo(
        subject=subject, issuer=issuer, san_dns=san_dns, san_ip=san_ip,
        not_before=_iso(not_before), not_after=_iso(not_after),
        fingerprint_sha256=":".join(fingerprint[i : i + 2] for i in range(0, len(fingerprint), 2)),
        self_signed=_self_signed(cert), chain_length=chain_length, **digests,
    ), ""


def tlsa_digests(der: bytes, cert: x509.Certificate) -> dict[str, object]:
    """The leaf's SPKI and full-certificate SHA-256/SHA-512 (what DANE TLSA records publish), and its DER."""
    try:
        spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        spki = b""  # a key type cryptography cannot load: the SPKI records stay unmatched ("")
    return {
        "spki_sha256": hashlib.sha256(spki).hexdigest() if spki else "",
        "spki_sha512": hashlib.sha512(spki).hexdigest() if spki else "",
        "cert_sha256": hashlib.sha256(der).hexdigest(), "cert_sha512": hashlib.sha512(der).hexdigest(),
        "der": bytes(der),
    }


def _self_signed(cert: x509.Certificate) -> bool:
    """Issuer equals subject and, where the key type allows checking, the cert signs itself."""
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except InvalidSignature:
        return False  # same name, different key: issued by a namesake CA
    except (ValueError, TypeError, UnsupportedAlgorithm):
        pass  # key or signature type cryptography cannot check: the names decide
    return True


def _chain_length(obj: ssl.SSLObject) -> int:
    """Certificates the server sent. Python 3.13 has a public API; 3.11 only the private one."""
    inner = getattr(obj, "_sslobj", None)
    getter = getattr(inner, "get_unverified_chain", None)
    try:
        chain = getter() if getter else None
    except Exception:  # a private API: any surprise just means "unknown"
        chain = None
    return len(chain) if chain else 1


def session_facts(conn: Conn, sni: str) -> tuple[TlsInfo, str]:
    """Version, cipher and certificate of an established TLS session; a problem if the cert is unreadable."""
    obj = conn.ssl_object
    if obj is None:
        none = Problem("problem.no_tls_session", "no TLS session")
        return TlsInfo(ok=False, error=none, sni=sni), none
    cipher = obj.cipher()
    der = obj.getpeercert(binary_form=True)
    if der:
        cert, problem = parse_certificate(der, _chain_length(obj))
    else:
        cert, problem = None, Problem("problem.no_certificate", "the server sent no certificate")
    info = TlsInfo(ok=True, version=obj.version() or "", cipher=cipher[0] if cipher else "", sni=sni, cert=cert)
    return info, problem


def describe(info: TlsInfo) -> str:
    """One transcript line for a handshake."""
    if not info.ok:
        return f"failed: {info.error}"
    parts = [f"{info.version} {info.cipher}"]
    cert = info.cert
    if cert:
        sans = ",".join(cert.san_dns + cert.san_ip) or "-"
        parts.append(
            f"cert subject={shorten(cert.subject, 100)}, issuer={shorten(cert.issuer, 100)}, "
            f"SAN={shorten(sans, 150)}, valid {cert.not_before}–{cert.not_after}, sha256={cert.fingerprint_sha256}"
        )
    if info.chain_valid is True:
        parts.append("chain valid")
    elif info.chain_valid is False:
        parts.append(f"chain NOT valid: {info.chain_error}")
    return ", ".join(parts)


async def secure(conn: Conn, *, sni: str, ca_file: str | None, reopen: Reopen) -> tuple[TlsInfo, Conn | None]:
    """Handshake on ``conn`` with verification; on a verification failure reconnect without it.

    Returns the TLS facts and the connection to continue the dialogue on (``None`` when
    there is none: the handshake failed or the reconnect did not get that far).
    """
    ctx, ca_problem = verify_context(ca_file)
    if ca_problem:
        conn.transcript.note(ca_problem)
    attempt = await conn.start_tls(ctx, sni)
    if attempt.ok:
        info, problem = session_facts(conn, sni)
        info = _with(info, chain_valid=True, error=problem)
        conn.transcript.tls(describe(info))
        return info, conn
    if attempt.verify_error is None:
        info = TlsInfo(ok=False, error=attempt.error, sni=sni, timed_out=attempt.timed_out)
        conn.transcript.tls(describe(info))
        return info, None
    chain_error = verify_text(attempt.verify_error)
    if ca_problem:
        chain_error = with_note(chain_error, ca_problem)
    conn.transcript.tls(f"certificate chain not valid: {chain_error}")
    conn.transcript.note("reconnecting without verification to read the certificate and continue")
    fresh, why = await reopen()
    if fresh is None:
        info = TlsInfo(ok=False, error=Problem("problem.cert_not_read", "certificate not read: {why}", why=why),
                       sni=sni, chain_valid=False, chain_error=chain_error)
        return info, None
    second = await fresh.start_tls(unverified_context(), sni)
    if not second.ok:
        info = TlsInfo(ok=False, error=second.error, sni=sni, chain_valid=False, chain_error=chain_error)
        fresh.transcript.tls(describe(info))
        return info, None
    info, problem = session_facts(fresh, sni)
    info = _with(info, chain_valid=False, chain_error=chain_error, error=problem)
    fresh.transcript.tls(describe(info))
    return info, fresh


def _with(info: TlsInfo, **changes: object) -> TlsInfo:
    return replace(info, **changes)  # type: ignore[arg-type]


async def probe_legacy(info: TlsInfo, open_for_tls: Reopen, *, sni: str, transcript: Transcript) -> TlsInfo:
    """Try TLS 1.0 and 1.1 on separate connections; returns ``info`` with the legacy fields set.

    ``legacy_tested`` is True when every version got a definite answer, or when one was
    accepted (that alone is the finding); a version whose connection broke off before the
    handshake, or that timed out, is named in ``legacy_problem``.
    """
    results = await asyncio.gather(*(_try_version(name, version, open_for_tls, sni) for name, version in
                                     LEGACY_VERSIONS))
    for name, verdict, why in results:
        word = {True: "accepted", False: "refused", None: "not tested"}[verdict]
        transcript.note(f"legacy {name} handshake (separate connection): {word} ({why})")
    accepted = tuple(name for name, verdict, _ in results if verdict is True)
    open_questions = [labelled(name, why) for name, verdict, why in results if verdict is None]
    tested = bool(accepted) or not open_questions
    return _with(info, legacy_accepted=accepted, legacy_tested=tested, legacy_problem=joined(open_questions))


async def _try_version(name: str, version: ssl.TLSVersion, open_for_tls: Reopen,
                       sni: str) -> tuple[str, bool | None, str]:
    """``(name, accepted, why)``: True accepted, False refused by the server, None unknown."""
    ctx, cannot = legacy_context(version)
    if ctx is None:
        return name, None, cannot
    conn, why = await open_for_tls()
    if conn is None:
        return name, None, Problem("problem.legacy_no_connection", "no connection for the handshake ({why})", why=why)
    try:
        attempt = await conn.start_tls(ctx, sni)
        if attempt.timed_out:
            return name, None, attempt.error
        if not attempt.ok:
            if "NO_PROTOCOLS_AVAILABLE" in attempt.error:
                return name, None, cannot
            return name, False, attempt.error
        negotiated = conn.ssl_object.version() if conn.ssl_object else ""
        return name, negotiated == name, f"negotiated {negotiated}"
    finally:
        await conn.close()


def cert_matches_name(cert: CertInfo, name: str) -> bool:
    """A deliberately small RFC 6125 match (exact, or ``*.`` over one left-most label).

    Not the audit's verdict (the checks do that, for every name of the endpoint): only the
    gate that keeps the test account's password away from a server we cannot identify.
    """
    name = name.rstrip(".").lower()
    if not name:
        return False
    if name in cert.san_ip:
        return True
    for pattern in (p.rstrip(".").lower() for p in cert.san_dns):
        if pattern == name:
            return True
        if pattern.startswith("*.") and "." in name and name.split(".", 1)[1] == pattern[2:]:
            return True
    return False
