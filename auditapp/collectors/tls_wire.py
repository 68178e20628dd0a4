"""The first flight of a TLS handshake on the wire: ClientHello out, ServerHello and friends back.

Split from :mod:`auditapp.collectors.tls_scan` (which decides what to ask) because the byte
format changes for other reasons than the scan strategy: RFC 5246/8446 records and handshake
messages, SSLv2's own hello, and the registries' code points. Nothing here opens a connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import struct
from dataclasses import dataclass

from auditapp.data.tls_ciphers import suite_codes

#: Versions in the order a report lists them (oldest first).
VERSIONS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
WIRE = {"SSLv3": 0x0300, "TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}
VERSION_NAMES = {v: k for k, v in WIRE.items()}
#: How each service starts TLS: the STARTTLS dialect, or "" for implicit TLS.
STARTTLS = {"smtp": "smtp", "submission": "smtp", "imap": "imap", "pop3": "pop3"}

#: TLS Supported Groups registry (the ones worth asking about).
GROUPS = {0x001D: "x25519", 0x0017: "secp256r1", 0x0018: "secp384r1", 0x0019: "secp521r1", 0x001E: "x448",
          0x001A: "brainpoolP256r1", 0x001B: "brainpoolP384r1", 0x001C: "brainpoolP512r1",
          0x0015: "secp224r1", 0x0016: "secp256k1", 0x0100: "ffdhe2048", 0x0101: "ffdhe3072",
          0x0102: "ffdhe4096", 0x0103: "ffdhe6144", 0x0104: "ffdhe8192", 0x11EC: "X25519MLKEM768"}
EC_GROUPS = tuple(g for g in GROUPS if g < 0x0100)
#: TLS 1.3 brainpool code points (RFC 8734) share the names of the TLS 1.2 curves.
TLS13_EXTRA_GROUPS = {0x001F: "brainpoolP256r1", 0x0020: "brainpoolP384r1", 0x0021: "brainpoolP512r1"}
SIGALGS = (0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601,
            0x081A, 0x081B, 0x081C, 0x0303, 0x0203, 0x0301, 0x0201, 0x0402, 0x0202)
#: SignatureScheme names (RFC 8446 §4.2.3; the TLS 1.2 (hash, signature) pairs share the code points).
SIGALG_NAMES = {0x0401: "rsa_pkcs1_sha256", 0x0501: "rsa_pkcs1_sha384", 0x0601: "rsa_pkcs1_sha512",
                0x0403: "ecdsa_secp256r1_sha256", 0x0503: "ecdsa_secp384r1_sha384",
                0x0603: "ecdsa_secp521r1_sha512", 0x0804: "rsa_pss_rsae_sha256", 0x0805: "rsa_pss_rsae_sha384",
                0x0806: "rsa_pss_rsae_sha512", 0x0809: "rsa_pss_pss_sha256", 0x080A: "rsa_pss_pss_sha384",
                0x080B: "rsa_pss_pss_sha512", 0x0807: "ed25519", 0x0808: "ed448", 0x0201: "rsa_pkcs1_sha1",
                0x0203: "ecdsa_sha1", 0x0202: "dsa_sha1", 0x0301: "rsa_sha224", 0x0303: "ecdsa_sha224",
                0x0402: "dsa_sha256", 0x081A: "ecdsa_brainpoolP256r1tls13_sha256",
                0x081B: "ecdsa_brainpoolP384r1tls13_sha384", 0x081C: "ecdsa_brainpoolP512r1tls13_sha512"}
#: Only SHA-2 schemes (SHA-256/384/512 with RSA-PSS, RSA-PKCS1, ECDSA): the key-exchange hash hello (RFC 9155).
SHA2_SIGALGS = (0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0809, 0x080A, 0x080B, 0x0401, 0x0501, 0x0601)


def sigalg_name(code: int) -> str:
    return SIGALG_NAMES.get(code, f"0x{code:04X}")


def sigalg_is_sha2(code: int) -> bool:
    """Whether a TLS 1.2 signature scheme hashes with SHA-256/384/512 (the hash is the high byte: 4-6)."""
    return code in SHA2_SIGALGS or ((code >> 8) in (4, 5, 6) and (code & 0xFF) in (1, 2, 3))


HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")
#: SSLv2 cipher kinds (RFC draft-hickman): RC4, RC4 export, RC2, RC2 export, IDEA, DES, 3DES.
SSL2_CIPHERS = bytes.fromhex("010080020080030080040080050080060040" "0700C0")


# -- the wire format -------------------------------------------------------------------------------


def _u16(n: int) -> bytes:
    return struct.pack("!H", n)


def _vec16(b: bytes) -> bytes:
    return _u16(len(b)) + b


def _ext(kind: int, body: bytes) -> bytes:
    return _u16(kind) + _vec16(body)


def client_hello(version: str, suites: list[int], *, sni: str = "", groups: tuple[int, ...] = (),
                 ocsp: bool = True, compression: bool = False, sigalgs: tuple[int, ...] = SIGALGS) -> bytes:
    """A ClientHello record offering exactly ``version`` and ``suites`` (and DEFLATE, if ``compression``).

    Every hello up to TLS 1.2 carries TLS_EMPTY_RENEGOTIATION_INFO_SCSV, every one from TLS 1.0 on
    the extended_master_secret extension: a server that implements RFC 5746 / RFC 7627 answers
    with renegotiation_info / extended_master_secret in its ServerHello. ``sigalgs`` is the
    signature_algorithms list (the key-exchange hash hello offers SHA-2 only).
    """
    if version == "SSLv2":
        challenge = os.urandom(16)
        body = b"\x01" + _u16(0x0002) + _u16(len(SSL2_CIPHERS)) + _u16(0) + _u16(16) + SSL2_CIPHERS + challenge
        return struct.pack("!H", 0x8000 | len(body)) + body
    tls13 = version == "TLSv1.3"
    legacy = 0x0303 if tls13 else WIRE[version]
    ciphers = b"".join(_u16(c) for c in suites)
    if not tls13:
        ciphers += _u16(0x00FF)  # TLS_EMPTY_RENEGOTIATION_INFO_SCSV: some servers want it
    session = os.urandom(32) if tls13 else b""
    exts = b""
    if version != "SSLv3":
        if sni and not is_ip(sni):
            name = sni.rstrip(".").encode("idna")
            exts += _ext(0x0000, _vec16(b"\x00" + _vec16(name)))
        offered = groups or (tuple(GROUPS) + tuple(TLS13_EXTRA_GROUPS) if tls13 else EC_GROUPS)
        exts += _ext(0x000A, _vec16(b"".join(_u16(g) for g in offered)))
        exts += _ext(0x000B, b"\x01\x00")  # ec_point_formats: uncompressed
        exts += _ext(0x000D, _vec16(b"".join(_u16(s) for s in sigalgs)))
        if ocsp:
            exts += _ext(0x0005, b"\x01\x00\x00\x00\x00")  # status_request: OCSP, no responder ids
        exts += _ext(0x0017, b"")  # extended_master_secret
        if tls13:
            exts += _ext(0x002B, b"\x02\x03\x04")  # supported_versions: TLS 1.3 only
            exts += _ext(0x0033, _vec16(b""))  # key_share: none, so the server answers with a HelloRetryRequest
            exts += _ext(0x002D, b"\x01\x01")  # psk_key_exchange_modes: psk_dhe_ke
    methods = b"\x02\x01\x00" if compression and not tls13 else b"\x01\x00"  # [DEFLATE, null] or [null]
    hello = _u16(legacy) + os.urandom(32) + bytes([len(session)]) + session + _vec16(ciphers) + methods
    if exts:
        hello += _vec16(exts)
    handshake = b"\x01" + struct.pack("!I", len(hello))[1:] + hello
    record_version = 0x0300 if version == "SSLv3" else 0x0301
    return b"\x16" + _u16(record_version) + _vec16(handshake)


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass
class Answer:
    """The server's first flight, as far as it was read."""

    accepted: bool = False
    version: str = ""
    suite: int | None = None
    group: str = ""
    retry: bool = False  # a TLS 1.3 HelloRetryRequest
    compression: int | None = None  # the compression method the ServerHello chose (1: DEFLATE)
    extensions: frozenset[int] = frozenset()  # the extension types in the ServerHello
    chain: tuple[bytes, ...] = ()
    ocsp: bool | None = None
    dh_bits: int | None = None
    #: The signature scheme of a TLS 1.2 ServerKeyExchange ((EC)DHE), if one came.
    kex_sigalg: int | None = None
    alert: int | None = None
    #: No answer within the wait: some servers keep reading when a hello makes no sense to them.
    silent: bool = False


class Closed(Exception):
    """The server closed the connection or sent something that is not TLS."""


async def read_exact(reader: asyncio.StreamReader, n: int, timeout: float) -> bytes:
    try:
        return await asyncio.wait_for(reader.readexactly(n), timeout)
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise Closed(str(exc)) from exc


async def read_flight(reader: asyncio.StreamReader, timeout: float, want: str) -> Answer:
    """Read the server's answer to a ClientHello for ``want`` until ServerHelloDone (or what ends it)."""
    answer = Answer()
    if want == "SSLv2":
        head = await read_exact(reader, 2, timeout)
        if head[0] & 0x80:
            body = await read_exact(reader, ((head[0] & 0x7F) << 8 | head[1]), timeout)
            if body[:1] == b"\x04" and len(body) >= 5:  # SERVER-HELLO
                answer.accepted, answer.version = True, "SSLv2"
        return answer
    try:
        return await read_records(reader, timeout, answer)
    except (struct.error, IndexError, ValueError) as exc:  # a malformed message: as good as a hang-up
        if answer.accepted:
            return answer
        raise Closed(f"malformed: {exc}") from exc
    except Closed:
        if answer.accepted:
            return answer  # the server hung up after its ServerHello: what it chose still counts
        raise


async def read_records(reader: asyncio.StreamReader, timeout: float, answer: Answer) -> Answer:
    buffer = b""
    while True:
        header = await read_exact(reader, 5, timeout)
        kind, length = header[0], struct.unpack("!H", header[3:5])[0]
        if kind not in (0x15, 0x16) or length > 18432:
            raise Closed("not a TLS record")
        body = await read_exact(reader, length, timeout)
        if kind == 0x15:
            answer.alert = body[1] if len(body) > 1 else None
            return answer
        buffer += body
        while len(buffer) >= 4:
            mtype, mlen = buffer[0], int.from_bytes(buffer[1:4], "big")
            if len(buffer) < 4 + mlen:
                break
            msg, buffer = buffer[4:4 + mlen], buffer[4 + mlen:]
            if mtype == 2:
                parse_server_hello(msg, answer)
                if answer.version == "TLSv1.3" or answer.retry or not answer.accepted:
                    return answer  # the rest of a TLS 1.3 flight is encrypted
            elif mtype == 11:
                answer.chain = certificates(msg)
            elif mtype == 22:
                answer.ocsp = len(msg) > 4 and msg[0] == 1
            elif mtype == 12:
                key_exchange(msg, answer)
            elif mtype == 14:
                if answer.ocsp is None:
                    answer.ocsp = False
                return answer


def parse_server_hello(msg: bytes, answer: Answer) -> None:
    if len(msg) < 38:
        raise Closed("short ServerHello")
    version = struct.unpack("!H", msg[:2])[0]
    random = msg[2:34]
    sid_len = msg[34]
    pos = 35 + sid_len
    answer.suite = struct.unpack("!H", msg[pos:pos + 2])[0]
    answer.compression = msg[pos + 2]
    pos += 3
    answer.retry = random == HRR_RANDOM
    seen: set[int] = set()
    if pos + 2 <= len(msg):
        end = pos + 2 + struct.unpack("!H", msg[pos:pos + 2])[0]
        pos += 2
        while pos + 4 <= end:
            kind, size = struct.unpack("!HH", msg[pos:pos + 4])
            data = msg[pos + 4:pos + 4 + size]
            seen.add(kind)
            if kind == 0x002B and len(data) >= 2:
                version = struct.unpack("!H", data[:2])[0]
            elif kind == 0x0033 and len(data) >= 2:
                code = struct.unpack("!H", data[:2])[0]
                answer.group = GROUPS.get(code) or TLS13_EXTRA_GROUPS.get(code) or f"0x{code:04X}"
            pos += 4 + size
    answer.extensions = frozenset(seen)
    answer.version = VERSION_NAMES.get(version, f"0x{version:04X}")
    answer.accepted = True


def certificates(msg: bytes) -> tuple[bytes, ...]:
    certs, pos = [], 3
    end = min(len(msg), 3 + int.from_bytes(msg[:3], "big"))
    while pos + 3 <= end:
        size = int.from_bytes(msg[pos:pos + 3], "big")
        certs.append(msg[pos + 3:pos + 3 + size])
        pos += 3 + size
    return tuple(certs)


def key_exchange(msg: bytes, answer: Answer) -> None:
    if not msg:
        return
    suite = suite_codes().get(answer.suite or -1, "")
    if msg[0] == 3 and len(msg) >= 3:  # ECDHE: named_curve
        code = struct.unpack("!H", msg[1:3])[0]
        answer.group = GROUPS.get(code, f"0x{code:04X}")
        end = 4 + msg[3] if len(msg) > 3 else len(msg)  # curve_type, named_curve, opaque point<1..2^8-1>
    elif "_DHE_" in suite or "DH_anon" in suite:
        p_len = struct.unpack("!H", msg[:2])[0]
        prime = msg[2:2 + p_len].lstrip(b"\x00")
        answer.dh_bits = len(prime) * 8 - (8 - prime[0].bit_length()) if prime else 0
        end = 0
        for _ in range(3):  # dh_p, dh_g, dh_Ys
            end += 2 + struct.unpack("!H", msg[end:end + 2])[0]
    else:
        return
    # TLS 1.2 signs the parameters with a SignatureAndHashAlgorithm first (RFC 5246 §7.4.3); anon does not sign.
    if answer.version == "TLSv1.2" and "anon" not in suite and end + 2 <= len(msg):
        answer.kex_sigalg = struct.unpack("!H", msg[end:end + 2])[0]
