"""A mail responder on loopback that misbehaves on request: tarpits, garbage, resets, stalls.

Why our own and not only Postfix and Dovecot: the probes must survive what no real server
does on purpose (a megabyte banner, a reset in mid-dialogue, a STARTTLS that never
completes), and the tests must show that each ends with a clear reason inside its timeout.
The well-behaved modes (SMTP, IMAP, POP3) are minimal fakes with a throw-away CA, enough to
exercise the TLS, relay and login paths offline; the real-server tests run against the lab.

Like :class:`auditapp.lab.dnsserver.LabDnsServer` it runs its own event loop in a
background thread, so tests can drive the probes with ``asyncio.run`` in the main thread.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import random
import socket
import ssl
import struct
import tempfile
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from auditapp.lab.background import BackgroundServer


class Behaviour(StrEnum):
    SILENT = "silent"  # accepts, never speaks
    GARBAGE = "garbage"  # random bytes instead of a greeting
    HUGE_BANNER = "huge-banner"  # 1 MB without CRLF, then more
    NO_CRLF = "no-crlf"  # "220 x" and then nothing
    RESET = "reset"  # greeting, then RST when the client sends EHLO
    RESET_ON_CONNECT = "reset-on-connect"  # completes the TCP handshake, then RST before a byte is sent
    TLS_STALL = "tls-stall"  # offers STARTTLS, says "go ahead", never answers the ClientHello
    SLOW_GREETING = "slow-greeting"  # greets after `delay` s, then a minimal SMTP server
    SMTP = "smtp"  # well-behaved: STARTTLS, AUTH only after TLS, relay refused
    IMAP_PLAIN = "imap-plain"  # AUTH=PLAIN in clear, no STARTTLS, no LOGINDISABLED (a faulty setup)
    IMAP = "imap"  # well-behaved: STARTTLS, LOGINDISABLED before TLS
    POP3 = "pop3"  # well-behaved: STLS, USER only after TLS


#: Accounts of the fake SMTP server (user -> password).
DEFAULT_ACCOUNTS = {"user@lab.test": "s3cret-lab-password"}


@dataclass
class MailResponder(BackgroundServer):
    """One behaviour on one loopback port, in a background thread.

    ``delay``: the greeting delay of SLOW_GREETING (any SMTP-like mode honours it).
    ``implicit_tls``: TLS from the first byte (SMTPS/IMAPS/POP3S).
    ``legacy_tls``: also accept TLS 1.0/1.1 (if the local OpenSSL can).
    ``self_signed``: serve a self-signed leaf instead of one issued by the lab CA.
    ``open_relay``: the SMTP mode accepts foreign recipients without login.
    ``enforce_sender``: after login, the SMTP mode refuses senders the login does not own.
    ``inject``: the SMTP mode sends a forged reply in plain text right behind its "220 Ready to
    start TLS" (the response-injection attack of RFC 3207 §6), which a client must discard.
    ``auth_in_clear``: the SMTP mode also advertises AUTH before STARTTLS (a typical submission
    misconfiguration, ``smtpd_tls_auth_only = no``); a login in clear is still refused with 538,
    since the lab has no reason to take a password in clear (and the probe never sends one).
    ``tls_files``: serve this certificate and key (PEM paths) instead of a throw-away CA of its
    own, so several responders share one trust anchor (the demo lab).
    """

    behaviour: Behaviour
    delay: float = 0.0
    host: str = "127.0.0.1"
    port: int = 0
    hostname: str = "mail.lab.test"
    implicit_tls: bool = False
    legacy_tls: bool = False
    self_signed: bool = False
    open_relay: bool = False
    enforce_sender: bool = True
    inject: bool = False
    auth_in_clear: bool = False
    tls_files: tuple[Path, Path] | None = None
    accounts: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ACCOUNTS))

    thread_name = "mail responder"

    def __post_init__(self) -> None:
        self._init_background()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0
        #: Every line received: (over TLS?, text). Tests assert on it (never DATA, AUTH only over TLS).
        self.received: list[tuple[bool, str]] = []
        self.ca_file = ""
        self._server_ctx: ssl.SSLContext | None = None

    def _before_start(self) -> None:
        if self.tls_files is not None:
            self._server_ctx = self._context(*self.tls_files)
            return
        self._tmp = tempfile.TemporaryDirectory(prefix="mailresponder-")
        self._server_ctx = self._make_tls(Path(self._tmp.name))

    def _after_stop(self) -> None:
        if self._tmp:
            self._tmp.cleanup()
            self._tmp = None

    # -- lifecycle ---------------------------------------------------------------------


    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        ssl_ctx = self._server_ctx if self.implicit_tls else None
        server = await asyncio.start_server(self._handle, self.host, self.port, ssl=ssl_ctx)
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            await server.wait_closed()

    # -- TLS material ------------------------------------------------------------------

    def _make_tls(self, directory: Path) -> ssl.SSLContext:
        """A throw-away CA and a leaf for ``hostname`` and 127.0.0.1; ``ca_file`` trusts it."""
        now = dt.datetime.now(dt.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "auditapp lab CA")])
        ca = (
            x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.hostname)])
        issuer, signer = (subject, key) if self.self_signed else (ca_name, ca_key)
        builder = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName(self.hostname), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if not self.self_signed:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        leaf = builder.sign(signer, hashes.SHA256())
        pem = serialization.Encoding.PEM
        (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
        (directory / "leaf.pem").write_bytes(leaf.public_bytes(pem))
        (directory / "key.pem").write_bytes(key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        self.ca_file = str(directory / "ca.pem")
        return self._context(directory / "leaf.pem", directory / "key.pem")

    def _context(self, cert: Path, key: Path) -> ssl.SSLContext:
        """The server context for ``cert``/``key``, with TLS 1.0/1.1 only when ``legacy_tls`` asks for them."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        if self.legacy_tls:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        else:
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    # -- connections -------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        handler: Callable[[_Peer], Awaitable[None]] = getattr(self, "_" + self.behaviour.name.lower())
        peer = _Peer(reader, writer, self, tls=self.implicit_tls)
        try:
            await handler(peer)
        except (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    async def _silent(self, peer: _Peer) -> None:
        await peer.drain_until_eof()

    async def _garbage(self, peer: _Peer) -> None:
        # A fixed seed, and no line end in the first 512 bytes: seeded by the port, about one
        # port in a hundred began with a short text line ("W\n") and the probe rightly read a
        # text greeting; the behaviour must be the same on every run.
        rnd = random.Random(0)
        chunk = bytes(rnd.getrandbits(8) for _ in range(4096))
        chunk = chunk[:512].replace(b"\n", b"\x0b") + chunk[512:]
        while True:
            await peer.send_raw(chunk)
            chunk = bytes(rnd.getrandbits(8) for _ in range(4096))
            if not await peer.reader.read(4096):
                return

    async def _huge_banner(self, peer: _Peer) -> None:
        await peer.send_raw(b"220 ")
        chunk = b"x" * 65536
        for _ in range(64):  # 4 MB in all, the first 1 MB of it "the banner"
            await peer.send_raw(chunk)
        await peer.drain_until_eof()

    async def _no_crlf(self, peer: _Peer) -> None:
        await peer.send_raw(b"220 x")
        await peer.drain_until_eof()

    async def _reset(self, peer: _Peer) -> None:
        await peer.send("220 reset.lab.test ESMTP")
        await peer.line()
        sock = peer.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        peer.writer.transport.abort()  # with SO_LINGER 0 the close sends RST

    async def _reset_on_connect(self, peer: _Peer) -> None:
        sock = peer.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        peer.writer.transport.abort()

    async def _tls_stall(self, peer: _Peer) -> None:
        await peer.send("220 stall.lab.test ESMTP")
        while (line := await peer.line()) is not None:
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                await peer.send("250-stall.lab.test", "250-PIPELINING", "250 STARTTLS")
            elif verb == "STARTTLS":
                await peer.send("220 go ahead")
                await peer.drain_until_eof()  # the ClientHello goes unanswered
                return
            elif verb == "QUIT":
                await peer.send("221 bye")
                return
            else:
                await peer.send("502 5.5.2 not here")

    async def _slow_greeting(self, peer: _Peer) -> None:
        await self._smtp(peer, minimal=True)

    async def _smtp(self, peer: _Peer, minimal: bool = False) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        await peer.send(f"220 {self.hostname} ESMTP lab")
        user = sender = ""
        while (line := await peer.line()) is not None:
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                caps = ["PIPELINING"]
                if not minimal:
                    caps += ["SIZE 10240000"]
                    caps += ["AUTH PLAIN LOGIN"] if peer.tls else ([] if self.implicit_tls else ["STARTTLS"])
                    if self.auth_in_clear and not peer.tls:
                        caps += ["AUTH PLAIN LOGIN"]
                    caps += ["ENHANCEDSTATUSCODES", "8BITMIME"]
                await peer.send(*[f"250-{self.hostname}"] + [f"250-{c}" for c in caps[:-1]] + [f"250 {caps[-1]}"])
            elif verb == "HELO":
                await peer.send(f"250 {self.hostname}")
            elif verb == "STARTTLS" and not minimal and not peer.tls:
                forged = ["250-FORGED-BEFORE-TLS", "250 AUTH PLAIN"] if self.inject else []
                await peer.send("220 2.0.0 Ready to start TLS", *forged)
                await peer.start_tls()
                user = sender = ""
            elif verb == "AUTH" and not minimal:
                user = await self._smtp_auth(peer, arg)
            elif verb == "MAIL":
                sender = _address(arg)
                await peer.send("250 2.1.0 Ok")
            elif verb == "RCPT":
                await peer.send(self._rcpt_reply(user, sender, _address(arg)))
            elif verb in ("RSET", "NOOP"):
                sender = ""
                await peer.send("250 2.0.0 Ok")
            elif verb == "QUIT":
                await peer.send("221 2.0.0 Bye")
                return
            elif verb == "DATA":
                await peer.send("554 5.5.1 the lab takes no mail")
            else:
                await peer.send("502 5.5.2 Error: command not recognized")

    def _rcpt_reply(self, user: str, sender: str, rcpt: str) -> str:
        if user:
            if self.enforce_sender and sender.lower() != user.lower():
                return f"553 5.7.1 <{sender}>: Sender address rejected: not owned by user {user}"
            return "250 2.1.5 Ok"
        if rcpt.lower().endswith("@lab.test") or self.open_relay:
            return "250 2.1.5 Ok"
        return f"554 5.7.1 <{rcpt}>: Relay access denied"

    async def _smtp_auth(self, peer: _Peer, arg: str) -> str:
        """AUTH PLAIN (initial response) or LOGIN; returns the user on success, else ""."""
        if not peer.tls:
            await peer.send("538 5.7.11 Encryption required for requested authentication mechanism")
            return ""
        mech, _, initial = arg.partition(" ")
        try:
            if mech.upper() == "PLAIN" and initial:
                _, user, password = base64.b64decode(initial).decode().split("\0")
            elif mech.upper() == "LOGIN":
                await peer.send("334 VXNlcm5hbWU6")
                user = base64.b64decode(await peer.line() or "").decode()
                await peer.send("334 UGFzc3dvcmQ6")
                password = base64.b64decode(await peer.line() or "").decode()
            else:
                await peer.send("504 5.5.4 mechanism not supported")
                return ""
        except (ValueError, UnicodeDecodeError):
            await peer.send("501 5.5.2 cannot decode")
            return ""
        if self.accounts.get(user) == password:
            await peer.send("235 2.7.0 Authentication successful")
            return user
        await peer.send("535 5.7.8 Error: authentication failed")
        return ""

    async def _imap_plain(self, peer: _Peer) -> None:
        await self._imap(peer, faulty=True)

    async def _imap(self, peer: _Peer, faulty: bool = False) -> None:
        def caps() -> str:
            if faulty:
                return "IMAP4rev1 ID AUTH=PLAIN"
            if peer.tls:
                return "IMAP4rev1 ID AUTH=PLAIN"
            return "IMAP4rev1 ID STARTTLS LOGINDISABLED"

        if faulty:
            await peer.send("* OK lab IMAP ready")
        else:
            await peer.send(f"* OK [CAPABILITY {caps()}] lab IMAP ready")
        while (line := await peer.line()) is not None:
            tag, _, rest = line.partition(" ")
            command = rest.split(" ", 1)[0].upper()
            if command == "CAPABILITY":
                await peer.send(f"* CAPABILITY {caps()}", f"{tag} OK CAPABILITY completed")
            elif command == "STARTTLS" and not faulty and not peer.tls:
                await peer.send(f"{tag} OK Begin TLS negotiation now")
                await peer.start_tls()
            elif command == "LOGOUT":
                await peer.send("* BYE Logging out", f"{tag} OK Logout completed")
                return
            elif command == "NOOP":
                await peer.send(f"{tag} OK NOOP completed")
            else:
                await peer.send(f"{tag} BAD not in the lab")

    async def _pop3(self, peer: _Peer) -> None:
        await peer.send("+OK lab POP3 ready")
        while (line := await peer.line()) is not None:
            verb = line.split(" ", 1)[0].upper()
            if verb == "CAPA":
                caps = ["TOP", "UIDL", "RESP-CODES"]
                caps += ["USER", "SASL PLAIN LOGIN"] if peer.tls else ["STLS"]
                await peer.send("+OK Capability list follows", *caps, ".")
            elif verb == "STLS" and not peer.tls:
                await peer.send("+OK Begin TLS negotiation")
                await peer.start_tls()
            elif verb == "QUIT":
                await peer.send("+OK bye")
                return
            else:
                await peer.send("-ERR not in the lab")


class _Peer:
    """The server side of one connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, owner: MailResponder,
                 *, tls: bool) -> None:
        self.reader = reader
        self.writer = writer
        self.owner = owner
        self.tls = tls

    async def send(self, *lines: str) -> None:
        await self.send_raw("".join(f"{line}\r\n" for line in lines).encode())

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def line(self) -> str | None:
        raw = await self.reader.readline()
        if not raw:
            return None
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        self.owner.received.append((self.tls, text))
        return text

    async def start_tls(self) -> None:
        assert self.owner._server_ctx is not None
        await self.writer.start_tls(self.owner._server_ctx)
        self.tls = True

    async def drain_until_eof(self) -> None:
        while await self.reader.read(65536):
            pass


def _address(arg: str) -> str:
    """The address inside ``FROM:<a@b>`` / ``TO:<a@b>``."""
    start, end = arg.find("<"), arg.find(">")
    return arg[start + 1 : end] if 0 <= start < end else arg.partition(":")[2].strip()

