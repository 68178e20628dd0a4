"""A TLS 1.2 client that finishes one handshake, for the tests that need a session (issue 16).

internet.nl's "Client-initiated renegotiation" asks whether the server answers a new ClientHello
sent *inside* an established TLS 1.2 session. The first-flight scan (collectors/tls_wire.py) never
gets that far, Python's ssl module cannot renegotiate, and the libraries that can (pyOpenSSL,
nassl) either pin an older cryptography or bring their own end-of-life OpenSSL builds (see
collectors/tls_scan.py). So this module speaks the rest of RFC 5246 itself, with cryptography's
primitives: (EC)DHE or RSA key exchange, AES-GCM, ChaCha20-Poly1305 or AES-CBC with HMAC, the
TLS 1.2 PRF and the extended master secret (RFC 7627). It verifies nothing about the server: no
certificate, no key-exchange signature. That is right for a probe that only wants to know how the
server behaves after a handshake, and wrong for anything that would carry data; nothing but the
renegotiation test uses it. Alerts, EOF and garbage end the dialogue as :class:`HandshakeFailed`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
import struct
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
from cryptography.hazmat.primitives.asymmetric import padding as asympadding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from auditapp.collectors.tls_wire import SIGALGS, Closed, certificates, is_ip, read_exact

HANDSHAKE, ALERT, CCS, APPDATA = 0x16, 0x15, 0x14, 0x17
TLS12 = b"\x03\x03"


@dataclass(frozen=True)
class Suite:
    """What the client needs to know of a TLS 1.2 suite it can finish a handshake with."""

    kx: str  # ECDHE, DHE, RSA
    cipher: str  # GCM, CHACHA, CBC
    key_len: int
    mac: str  # "" for AEAD, else the HMAC hash (sha1, sha256, sha384)
    prf: str  # sha256 or sha384


#: The suites the client offers, strongest first (the server picks anyway).
SUITES: dict[int, Suite] = {
    0xC02B: Suite("ECDHE", "GCM", 16, "", "sha256"), 0xC02C: Suite("ECDHE", "GCM", 32, "", "sha384"),
    0xC02F: Suite("ECDHE", "GCM", 16, "", "sha256"), 0xC030: Suite("ECDHE", "GCM", 32, "", "sha384"),
    0xCCA9: Suite("ECDHE", "CHACHA", 32, "", "sha256"), 0xCCA8: Suite("ECDHE", "CHACHA", 32, "", "sha256"),
    0x009E: Suite("DHE", "GCM", 16, "", "sha256"), 0x009F: Suite("DHE", "GCM", 32, "", "sha384"),
    0xCCAA: Suite("DHE", "CHACHA", 32, "", "sha256"),
    0xC023: Suite("ECDHE", "CBC", 16, "sha256", "sha256"), 0xC027: Suite("ECDHE", "CBC", 16, "sha256", "sha256"),
    0xC024: Suite("ECDHE", "CBC", 32, "sha384", "sha384"), 0xC028: Suite("ECDHE", "CBC", 32, "sha384", "sha384"),
    0xC009: Suite("ECDHE", "CBC", 16, "sha1", "sha256"), 0xC013: Suite("ECDHE", "CBC", 16, "sha1", "sha256"),
    0xC00A: Suite("ECDHE", "CBC", 32, "sha1", "sha256"), 0xC014: Suite("ECDHE", "CBC", 32, "sha1", "sha256"),
    0x0067: Suite("DHE", "CBC", 16, "sha256", "sha256"), 0x006B: Suite("DHE", "CBC", 32, "sha256", "sha256"),
    0x0033: Suite("DHE", "CBC", 16, "sha1", "sha256"), 0x0039: Suite("DHE", "CBC", 32, "sha1", "sha256"),
    0x009C: Suite("RSA", "GCM", 16, "", "sha256"), 0x009D: Suite("RSA", "GCM", 32, "", "sha384"),
    0x003C: Suite("RSA", "CBC", 16, "sha256", "sha256"), 0x003D: Suite("RSA", "CBC", 32, "sha256", "sha256"),
    0x002F: Suite("RSA", "CBC", 16, "sha1", "sha256"), 0x0035: Suite("RSA", "CBC", 32, "sha1", "sha256"),
}
#: Groups the client can compute a shared secret for.
CURVES = {0x001D: None, 0x0017: ec.SECP256R1(), 0x0018: ec.SECP384R1(), 0x0019: ec.SECP521R1()}


class HandshakeFailed(Exception):
    """The server ended the dialogue: an alert, EOF, or bytes that are not what TLS 1.2 sends."""


def _u16(n: int) -> bytes:
    return struct.pack("!H", n)


def _vec(b: bytes, width: int) -> bytes:
    return len(b).to_bytes(width, "big") + b


def _handshake(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + _vec(body, 3)


def prf(secret: bytes, label: bytes, seed: bytes, size: int, digest: str) -> bytes:
    """The TLS 1.2 PRF, P_<hash>(secret, label + seed) (RFC 5246 §5)."""
    seed = label + seed
    out, a = b"", seed
    while len(out) < size:
        a = hmac.new(secret, a, digest).digest()
        out += hmac.new(secret, a + seed, digest).digest()
    return out[:size]


def client_hello(suites: list[int], *, sni: str, renegotiation: bytes | None = None) -> bytes:
    """A TLS 1.2 ClientHello handshake message (not a record).

    The first hello carries the empty renegotiation_info extension (RFC 5746 §3.4); a renegotiating
    hello carries the client's verify_data there instead (§3.5). extended_master_secret is offered.
    """
    exts = b""
    if sni and not is_ip(sni):
        name = sni.rstrip(".").encode("idna")
        exts += _u16(0x0000) + _vec(_vec(b"\x00" + _vec(name, 2), 2), 2)
    exts += _u16(0x000A) + _vec(_vec(b"".join(_u16(g) for g in CURVES), 2), 2)
    exts += _u16(0x000B) + _vec(b"\x01\x00", 2)
    exts += _u16(0x000D) + _vec(_vec(b"".join(_u16(s) for s in SIGALGS), 2), 2)
    exts += _u16(0x0017) + _vec(b"", 2)
    exts += _u16(0xFF01) + _vec(_vec(renegotiation or b"", 1), 2)
    body = TLS12 + os.urandom(32) + b"\x00" + _vec(b"".join(_u16(s) for s in suites), 2) + b"\x01\x00" + _vec(exts, 2)
    return _handshake(1, body)


class _Direction:
    """One direction's record protection after ChangeCipherSpec (RFC 5246 §6.2.3)."""

    def __init__(self, suite: Suite, key: bytes, mac_key: bytes, iv: bytes) -> None:
        self.suite, self.key, self.mac_key, self.iv, self.seq = suite, key, mac_key, iv, 0

    def _aad(self, kind: int, length: int) -> bytes:
        return struct.pack("!QB", self.seq, kind) + TLS12 + _u16(length)

    def seal(self, kind: int, plain: bytes) -> bytes:
        s = self.suite
        if s.cipher == "GCM":
            explicit = struct.pack("!Q", self.seq)
            body = explicit + AESGCM(self.key).encrypt(self.iv + explicit, plain, self._aad(kind, len(plain)))
        elif s.cipher == "CHACHA":
            nonce = bytes(a ^ b for a, b in zip(self.iv, b"\x00" * 4 + struct.pack("!Q", self.seq), strict=True))
            body = ChaCha20Poly1305(self.key).encrypt(nonce, plain, self._aad(kind, len(plain)))
        else:
            mac = hmac.new(self.mac_key, self._aad(kind, len(plain)) + plain, s.mac).digest()
            # TLS's own padding: every byte holds the padding length (RFC 5246 §6.2.3.2), not PKCS#7.
            pad = 16 - (len(plain) + len(mac)) % 16
            data = plain + mac + bytes([pad - 1]) * pad
            iv = os.urandom(16)
            enc = Cipher(algorithms.AES(self.key), modes.CBC(iv)).encryptor()
            body = iv + enc.update(data) + enc.finalize()
        self.seq += 1
        return bytes([kind]) + TLS12 + _vec(body, 2)

    def open(self, kind: int, body: bytes) -> bytes:
        s = self.suite
        try:
            if s.cipher == "GCM":
                explicit, sealed = body[:8], body[8:]
                plain = AESGCM(self.key).decrypt(self.iv + explicit, sealed, self._aad(kind, len(sealed) - 16))
            elif s.cipher == "CHACHA":
                nonce = bytes(a ^ b for a, b in zip(self.iv, b"\x00" * 4 + struct.pack("!Q", self.seq), strict=True))
                plain = ChaCha20Poly1305(self.key).decrypt(nonce, body, self._aad(kind, len(body) - 16))
            else:
                dec = Cipher(algorithms.AES(self.key), modes.CBC(body[:16])).decryptor()
                data = dec.update(body[16:]) + dec.finalize()
                size = hashlib.new(s.mac).digest_size
                plain = data[:len(data) - data[-1] - 1 - size]
                mac = data[len(plain):len(plain) + size]
                want = hmac.new(self.mac_key, self._aad(kind, len(plain)) + plain, s.mac).digest()
                if not hmac.compare_digest(mac, want):
                    raise ValueError("bad record MAC")
        except Exception as exc:
            raise HandshakeFailed(f"undecryptable record: {type(exc).__name__}") from exc
        self.seq += 1
        return plain


class Session:
    """A finished TLS 1.2 handshake over ``reader``/``writer`` (after STARTTLS where the service has it)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float) -> None:
        self.reader, self.writer, self.timeout = reader, writer, timeout
        self.transcript = b""
        self.suite_code = 0
        self.client_verify = b""
        self.write_state: _Direction | None = None
        self.read_state: _Direction | None = None
        self._pending = b""  # handshake bytes read but not yet split into messages

    # -- records ----------------------------------------------------------------------------------

    async def record(self) -> tuple[int, bytes]:
        """The next record's (type, plaintext); alerts become HandshakeFailed unless asked for."""
        try:
            header = await read_exact(self.reader, 5, self.timeout)
        except Closed as exc:
            raise HandshakeFailed(f"connection closed ({exc})") from exc
        kind, length = header[0], struct.unpack("!H", header[3:5])[0]
        if kind not in (HANDSHAKE, ALERT, CCS, APPDATA) or length > 18432:
            raise HandshakeFailed("not a TLS record")
        try:
            body = await read_exact(self.reader, length, self.timeout)
        except Closed as exc:
            raise HandshakeFailed(f"connection closed ({exc})") from exc
        if self.read_state is not None and kind != CCS:
            body = self.read_state.open(kind, body)
        return kind, body

    def send(self, kind: int, payload: bytes) -> None:
        if self.write_state is not None:
            self.writer.write(self.write_state.seal(kind, payload))
        else:
            # TLS 1.0 in the first record's header (what servers expect of a hello), the negotiated
            # version after the ServerHello (OpenSSL rejects anything else: "wrong version number").
            version = TLS12 if self.suite_code else b"\x03\x01"
            self.writer.write(bytes([kind]) + version + _vec(payload, 2))

    async def message(self) -> tuple[int, bytes]:
        """The next handshake message (type, body); records may hold several or split one."""
        while True:
            if len(self._pending) >= 4:
                size = int.from_bytes(self._pending[1:4], "big")
                if len(self._pending) >= 4 + size:
                    whole, self._pending = self._pending[:4 + size], self._pending[4 + size:]
                    return whole[0], whole
            kind, body = await self.record()
            if kind == ALERT:
                raise HandshakeFailed(f"alert {body[1] if len(body) > 1 else '?'}")
            if kind == HANDSHAKE:
                self._pending += body
            elif kind == CCS and self._pending:
                raise HandshakeFailed("ChangeCipherSpec inside a handshake message")
            elif kind == CCS:
                return CCS, body

    # -- the handshake ----------------------------------------------------------------------------

    async def handshake(self, sni: str, suites: list[int] | None = None) -> None:
        offered = suites or list(SUITES)
        hello = client_hello(offered, sni=sni)
        client_random = hello[6:38]
        self.transcript = hello
        self.send(HANDSHAKE, hello)
        server_random, chain, kex, ems, cert_request = b"", (), b"", False, False
        while True:
            kind, msg = await self.message()
            if kind == CCS:
                raise HandshakeFailed("ChangeCipherSpec before ServerHelloDone")
            self.transcript += msg
            body = msg[4:]
            if kind == 2:
                server_random, self.suite_code, ems = _server_hello(body)
                if self.suite_code not in SUITES:
                    raise HandshakeFailed(f"server chose 0x{self.suite_code:04X}, not offered")
            elif kind == 11:
                chain = certificates(body)
            elif kind == 12:
                kex = body
            elif kind == 13:
                cert_request = True
            elif kind == 14:
                break
        suite = SUITES[self.suite_code]
        if cert_request:
            empty = _handshake(11, b"\x00\x00\x00")  # no client certificate (RFC 5246 §7.4.6)
            self.transcript += empty
            self.send(HANDSHAKE, empty)
        pms, exchange = _key_exchange(suite, kex, chain)
        cke = _handshake(16, exchange)
        self.transcript += cke
        self.send(HANDSHAKE, cke)
        if ems:
            master = prf(pms, b"extended master secret", hashlib.new(suite.prf, self.transcript).digest(), 48,
                         suite.prf)
        else:
            master = prf(pms, b"master secret", client_random + server_random, 48, suite.prf)
        self._keys(suite, master, client_random, server_random)
        self.send(CCS, b"\x01")
        self.write_state = self._client_state
        self.client_verify = prf(master, b"client finished", hashlib.new(suite.prf, self.transcript).digest(),
                                 12, suite.prf)
        finished = _handshake(20, self.client_verify)
        self.transcript += finished
        self.send(HANDSHAKE, finished)
        await self.writer.drain()
        kind, _ = await self.message()
        while kind == 4:  # NewSessionTicket (not asked for, but harmless)
            kind, _ = await self.message()
        if kind != CCS:
            raise HandshakeFailed("no ChangeCipherSpec from the server")
        self.read_state = self._server_state
        kind, msg = await self.message()
        want = prf(master, b"server finished", hashlib.new(suite.prf, self.transcript).digest(), 12, suite.prf)
        if kind != 20 or not hmac.compare_digest(msg[4:], want):
            raise HandshakeFailed("server Finished does not verify")

    def _keys(self, suite: Suite, master: bytes, client_random: bytes, server_random: bytes) -> None:
        mac_len = hashlib.new(suite.mac).digest_size if suite.mac else 0
        iv_len = {"GCM": 4, "CHACHA": 12, "CBC": 0}[suite.cipher]
        block = prf(master, b"key expansion", server_random + client_random,
                    2 * (mac_len + suite.key_len + iv_len), suite.prf)
        parts = []
        for size in (mac_len, mac_len, suite.key_len, suite.key_len, iv_len, iv_len):
            parts.append(block[:size])
            block = block[size:]
        cmac, smac, ckey, skey, civ, siv = parts
        self._client_state = _Direction(suite, ckey, cmac, civ)
        self._server_state = _Direction(suite, skey, smac, siv)


def _server_hello(body: bytes) -> tuple[bytes, int, bool]:
    """(server_random, suite, extended master secret echoed) of a TLS 1.2 ServerHello."""
    if len(body) < 38 or body[:2] != TLS12:
        raise HandshakeFailed("not a TLS 1.2 ServerHello")
    random = body[2:34]
    pos = 35 + body[34]
    suite = struct.unpack("!H", body[pos:pos + 2])[0]
    pos += 3
    ems = False
    if pos + 2 <= len(body):
        end = pos + 2 + struct.unpack("!H", body[pos:pos + 2])[0]
        pos += 2
        while pos + 4 <= end:
            kind, size = struct.unpack("!HH", body[pos:pos + 4])
            ems = ems or kind == 0x0017
            pos += 4 + size
    return random, suite, ems


def _key_exchange(suite: Suite, kex: bytes, chain: tuple[bytes, ...]) -> tuple[bytes, bytes]:
    """(pre-master secret, ClientKeyExchange body) for the suite's key exchange."""
    try:
        if suite.kx == "ECDHE":
            if kex[:1] != b"\x03":
                raise HandshakeFailed("ServerKeyExchange without a named curve")
            group = struct.unpack("!H", kex[1:3])[0]
            point = kex[4:4 + kex[3]]
            if group == 0x001D:
                own = x25519.X25519PrivateKey.generate()
                shared = own.exchange(x25519.X25519PublicKey.from_public_bytes(point))
                mine = own.public_key().public_bytes_raw()
            elif group in CURVES:
                curve = CURVES[group]
                own_ec = ec.generate_private_key(curve)  # type: ignore[arg-type]
                peer = ec.EllipticCurvePublicKey.from_encoded_point(curve, point)  # type: ignore[arg-type]
                shared = own_ec.exchange(ec.ECDH(), peer)
                mine = own_ec.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
            else:
                raise HandshakeFailed(f"server chose group 0x{group:04X}, not offered")
            return shared, _vec(mine, 1)
        if suite.kx == "DHE":
            p_len = struct.unpack("!H", kex[:2])[0]
            p = int.from_bytes(kex[2:2 + p_len], "big")
            g_len = struct.unpack("!H", kex[2 + p_len:4 + p_len])[0]
            g = int.from_bytes(kex[4 + p_len:4 + p_len + g_len], "big")
            pos = 4 + p_len + g_len
            ys = int.from_bytes(kex[pos + 2:pos + 2 + struct.unpack("!H", kex[pos:pos + 2])[0]], "big")
            x = secrets.randbelow(p - 3) + 2
            mine_int, shared_int = pow(g, x, p), pow(ys, x, p)
            size = (p.bit_length() + 7) // 8
            return shared_int.to_bytes(size, "big").lstrip(b"\x00"), _vec(mine_int.to_bytes(size, "big"), 2)
        key = x509.load_der_x509_certificate(chain[0]).public_key() if chain else None
        if not isinstance(key, rsa.RSAPublicKey):
            raise HandshakeFailed("RSA key exchange without an RSA certificate")
        pms = TLS12 + os.urandom(46)
        return pms, _vec(key.encrypt(pms, asympadding.PKCS1v15()), 2)
    except HandshakeFailed:
        raise
    except Exception as exc:  # malformed parameters from the server
        raise HandshakeFailed(f"unusable key exchange: {type(exc).__name__}") from exc

