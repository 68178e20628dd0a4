"""The TLS scan lab (issue 16): two real Postfixes with opposite TLS settings, and three small responders.

::

    127.0.0.81  Postfix WEAK   mx.tlsweak.test  2525 STARTTLS, 2465 implicit TLS: TLS 1.0 and 1.1
                               on, TLS 1.0-1.2 only AES128-SHA (static RSA: no forward secrecy,
                               NCSC "phase out"); TLS 1.3 keeps OpenSSL's suites; allows
                               client-initiated renegotiation (tls_ssl_options = 0x100)
    127.0.0.82  Postfix BSI    mx.tlsbsi.test   2525, 2465: TLS 1.2 and 1.3 only, ECDHE with AES-GCM/
                               AES-CBC-SHA2 only (BSI TR-02102-2 3.3.1), ECDSA P-256 certificate,
                               curves P-384 and P-256
    127.0.0.84  Postfix BSI without tls_preempt_cipherlist (Postfix's default "no"): the client's
                               cipher order wins (internet.nl "Cipher order")
    127.0.0.85  Postfix BSI behind a connection rate limit (anvil: 10 per second and client), started
                               by tests/test_connect_pacing.py alone
    127.0.0.83  responders (free ports): an SSLv3-only server, a deliberately broken TLS 1.0-1.2 server
                (NULL and RSA suites, RSA-1024 key signed with SHA-1) and a tarpit

The addresses are apart from ``lab.mailservers`` (127.0.0.2-.10) and the mail-flow lab
(127.0.0.61-.70); the ports are the mail lab's (bound per address, so they do not collide).
OpenSSL 3 refuses TLS 1.0/1.1 and SHA-1 at security level 1 and above, so the weak Postfix asks
for ``@SECLEVEL=0`` in its cipher list (Postfix 3.7 has no ``tls_config_file``). OpenSSL 3 cannot
speak SSLv3 at all: the SSLv3 server is our own, and answers an SSLv3 ClientHello with an SSLv3
ServerHello (which is all the scan reads), and anything else with a protocol_version alert.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
import warnings
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from lab.bind import find_tool
from lab.certs import CertPair
from lab.mailservers import _MASTER_DAEMONS, PORTS, PostfixInstance, PostfixSpec

TLS_LAB_ADDRESSES = {"weak": "127.0.0.81", "bsi": "127.0.0.82", "responders": "127.0.0.83",
                     "client_order": "127.0.0.84", "rate_limited": "127.0.0.85"}
TLS_LAB_SERVICES = ("smtp", "submissions")

#: What differs from the mail lab's "secure" main.cf (later lines override earlier ones in main.cf).
WEAK_TLS = """\
smtpd_tls_protocols = >=TLSv1
smtpd_tls_mandatory_protocols = >=TLSv1
smtpd_tls_ciphers = medium
smtpd_tls_mandatory_ciphers = medium
tls_medium_cipherlist = AES128-SHA:@SECLEVEL=0
# SSL_OP_ALLOW_CLIENT_RENEGOTIATION (OpenSSL >= 3.0 refuses client-initiated renegotiation without it)
tls_ssl_options = 0x100
"""
BSI_TLS = """\
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_ciphers = high
smtpd_tls_mandatory_ciphers = high
tls_high_cipherlist = ECDHE+AESGCM:ECDHE+AES256+SHA384:ECDHE+AES128+SHA256:!aNULL
tls_preempt_cipherlist = yes
tls_eecdh_auto_curves = secp384r1 prime256v1
"""
#: The BSI profile with Postfix's default cipher order: the server follows the client's.
CLIENT_ORDER_TLS = BSI_TLS.replace("tls_preempt_cipherlist = yes", "tls_preempt_cipherlist = no")
#: Connections per second and client the rate-limited Postfix accepts (anvil); the rest get "421 4.7.0
#: ... Error: too many connections from 127.0.0.1". An audit opens 30-40 per endpoint at once.
RATE_LIMIT_PER_SECOND = 10
#: The BSI profile behind anvil's connection rate limit. Postfix exempts $mynetworks by default
#: (smtpd_client_event_limit_exceptions); the lab's mynetworks is the server's own address, and the
#: empty exception list says so explicitly. A one-second time unit keeps the paced test short.
RATE_LIMITED_TLS = BSI_TLS + f"""\
smtpd_client_connection_rate_limit = {RATE_LIMIT_PER_SECOND}
smtpd_client_event_limit_exceptions =
anvil_rate_time_unit = 1s
"""


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_cert(directory: Path, name: str, host: str, *, key: str = "rsa:2048", digest: str = "sha256") -> CertPair:
    """A self-signed certificate (the scan judges key and signature, not trust)."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    cert, keyfile = directory / f"{name}.pem", directory / f"{name}.key"
    newkey = ["-newkey", key] if key.startswith("rsa") else ["-newkey", "ec", "-pkeyopt", f"ec_paramgen_curve:{key}"]
    _openssl("req", "-x509", *newkey, "-nodes", f"-{digest}", "-keyout", str(keyfile), "-out", str(cert),
             "-days", "2", "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host}")
    keyfile.chmod(0o644)  # Postfix reads it as root before dropping privileges; a lab key
    return CertPair(cert, keyfile)


class TlsPostfix(PostfixInstance):
    """A mail-lab Postfix with the TLS settings of one profile, on 2525 (STARTTLS) and 2465 (implicit)."""

    def __init__(self, spec: PostfixSpec, root: Path, extra: str) -> None:
        super().__init__(spec, root, root / "vmail", root / "no-sasl")
        self.extra = extra

    def main_cf(self) -> str:
        return super().main_cf() + self.extra

    def stop(self) -> None:
        """The mail lab's stop, then ``postfix stop`` and the master's pid whatever the wrapper did.

        A master whose wrapper had already gone was left behind once (its lab root deleted under it,
        so it held the ports and answered nothing); stopping twice is harmless.
        """
        super().stop()
        if (self.dir / "spool" / "pid" / "master.pid").exists():
            subprocess.run([find_tool("postfix") or "postfix", "-c", str(self.etc), "stop"],
                           capture_output=True, check=False, timeout=15)
            time.sleep(0.3)
            self._kill_master_leftover()

    def master_cf(self) -> str:
        ip = self.spec.ip
        return (f"{ip}:{PORTS['smtp']} inet n - n - - smtpd\n"
                f"{ip}:{PORTS['submissions']} inet n - n - - smtpd\n"
                f"  -o syslog_name=postfix-{self.spec.name}/submissions\n"
                "  -o smtpd_tls_wrappermode=yes\n  -o smtpd_tls_security_level=encrypt\n" + _MASTER_DAEMONS)


@dataclass
class TlsLab:
    root: Path
    postfix: dict[str, TlsPostfix] = field(default_factory=dict)

    def stop(self) -> None:
        for pf in self.postfix.values():
            pf.stop()


def start_tls_lab(root: Path, timeout: float = 20.0) -> TlsLab:
    """Start the weak, the BSI and the client-order BSI Postfix (about 0.5 s, in parallel)."""
    vmail = root / "vmail"
    vmail.mkdir(exist_ok=True)
    shutil.chown(vmail, "nobody", "nogroup")
    certs = root / "tls-scan-certs"
    weak_cert = make_cert(certs, "weak", "mx.tlsweak.test")
    bsi_cert = make_cert(certs, "bsi", "mx.tlsbsi.test", key="P-256")
    lab = TlsLab(root)
    specs = {
        "weak": (PostfixSpec("tlsweak", TLS_LAB_ADDRESSES["weak"], "mx.tlsweak.test", "tlsweak.test", weak_cert,
                             services=TLS_LAB_SERVICES), WEAK_TLS),
        "bsi": (PostfixSpec("tlsbsi", TLS_LAB_ADDRESSES["bsi"], "mx.tlsbsi.test", "tlsbsi.test", bsi_cert,
                            services=TLS_LAB_SERVICES), BSI_TLS),
        "client_order": (PostfixSpec("tlsnopre", TLS_LAB_ADDRESSES["client_order"], "mx.tlsnopre.test",
                                     "tlsnopre.test", bsi_cert, services=TLS_LAB_SERVICES), CLIENT_ORDER_TLS),
    }
    try:
        for name, (spec, extra) in specs.items():
            lab.postfix[name] = TlsPostfix(spec, root, extra)
            lab.postfix[name].prepare()
            lab.postfix[name].launch()
        deadline = time.perf_counter() + timeout
        for pf in lab.postfix.values():
            pf.wait_ready(deadline)
    except BaseException:
        lab.stop()
        raise
    return lab


def start_rate_limited_postfix(root: Path, timeout: float = 20.0) -> TlsPostfix:
    """The BSI Postfix behind a connection rate limit (:data:`RATE_LIMITED_TLS`), on 127.0.0.85."""
    vmail = root / "vmail"
    vmail.mkdir(exist_ok=True)
    shutil.chown(vmail, "nobody", "nogroup")
    cert = make_cert(root / "rate-limit-certs", "ratelimit", "mx.ratelimit.test", key="P-256")
    spec = PostfixSpec("ratelimit", TLS_LAB_ADDRESSES["rate_limited"], "mx.ratelimit.test", "ratelimit.test", cert,
                       services=TLS_LAB_SERVICES)
    postfix = TlsPostfix(spec, root, RATE_LIMITED_TLS)
    try:
        postfix.prepare()
        postfix.launch()
        postfix.wait_ready(time.perf_counter() + timeout)
    except BaseException:
        postfix.stop()
        raise
    return postfix


# -- responders -------------------------------------------------------------------------------------


class _Server:
    """A threaded loopback TCP server on a free port; ``handle(conn)`` per connection."""

    def __init__(self, address: str = TLS_LAB_ADDRESSES["responders"]) -> None:
        self.sock = socket.create_server((address, 0))
        self.host, self.port = address, self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> _Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with suppress(OSError):
            self.sock.close()
        for c in self._conns:
            with suppress(OSError):
                c.close()
        self._thread.join(2)

    def _serve(self) -> None:
        with suppress(OSError):
            self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self._conns.append(conn)
            threading.Thread(target=self._guarded, args=(conn,), daemon=True).start()

    def _guarded(self, conn: socket.socket) -> None:
        with suppress(OSError, ssl.SSLError, ValueError):
            conn.settimeout(5)
            self.handle(conn)

    def handle(self, conn: socket.socket) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


def _read_record(conn: socket.socket) -> bytes:
    head = b""
    while len(head) < 5:
        chunk = conn.recv(5 - len(head))
        if not chunk:
            return b""
        head += chunk
    body = b""
    size = struct.unpack("!H", head[3:5])[0]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            break
        body += chunk
    return head + body


class Ssl3Responder(_Server):
    """Implicit TLS that speaks only SSLv3 (as far as a ServerHello goes)."""

    SUITE = 0x002F  # TLS_RSA_WITH_AES_128_CBC_SHA

    def handle(self, conn: socket.socket) -> None:
        first = conn.recv(1, socket.MSG_PEEK)
        if not first or first[0] & 0x80:
            return  # an SSLv2 hello: hang up, as OpenSSL does
        record = _read_record(conn)
        if len(record) < 11 or record[0] != 0x16 or record[5] != 0x01:
            return
        client_version = struct.unpack("!H", record[9:11])[0]
        if client_version != 0x0300:
            conn.sendall(b"\x15\x03\x00\x00\x02\x02\x46")  # fatal protocol_version
            return
        hello = b"\x03\x00" + bytes(32) + b"\x00" + struct.pack("!H", self.SUITE) + b"\x00"
        msg = b"\x02" + struct.pack("!I", len(hello))[1:] + hello + b"\x0e\x00\x00\x00"  # + ServerHelloDone
        conn.sendall(b"\x16\x03\x00" + struct.pack("!H", len(msg)) + msg)


class Tarpit(_Server):
    """Accepts and never says a word."""

    def handle(self, conn: socket.socket) -> None:
        while conn.recv(4096):
            pass


class TlsResponder(_Server):
    """A server with any ssl context: implicit TLS, or SMTP with STARTTLS."""

    def __init__(self, context: ssl.SSLContext, *, smtp: bool = False, silent: bool = False) -> None:
        super().__init__()
        self.context, self.smtp, self.silent = context, smtp, silent

    def handle(self, conn: socket.socket) -> None:
        if self.smtp:
            conn.sendall(b"220 weak.tls.test ESMTP lab\r\n")
            reader = conn.makefile("rb")
            while True:
                line = reader.readline()
                if not line:
                    return
                verb = line.strip().upper()
                if verb.startswith(b"EHLO"):
                    conn.sendall(b"250-weak.tls.test\r\n250 STARTTLS\r\n")
                elif verb == b"STARTTLS":
                    conn.sendall(b"220 go ahead\r\n")
                    break
                else:
                    conn.sendall(b"502 no\r\n")
        tls = self.context.wrap_socket(conn, server_side=True)
        if self.silent:  # handshake done, then never read: a renegotiating hello gets no answer at all
            self._stop.wait(10)
            return
        tls.recv(1)


def broken_context(directory: Path) -> ssl.SSLContext:
    """TLS 1.0-1.2 with NULL and RSA key exchange only, an RSA-1024 key signed with SHA-1."""
    pair = make_cert(directory, "broken", "broken.tls.test", key="rsa:1024", digest="sha1")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_ciphers("NULL-SHA256:AES128-SHA:@SECLEVEL=0")
    with warnings.catch_warnings():  # TLS 1.0 is the point of this server
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(pair.cert, pair.key)
    return ctx


class HelloResponder(_Server):
    """TLS 1.2 only, by default one suite (ECDHE-RSA-AES128-GCM-SHA256): a crafted ServerHello, then ServerHelloDone.

    What the ServerHello says is set per server: ``compression`` chooses DEFLATE when the client
    offers it (CRIME), ``renegotiation_info`` and ``extended_master_secret`` answer the client's
    SCSV / extension (RFC 5746 / RFC 7627) or leave them out. ``smtp``: STARTTLS first. Any other
    version, TLS 1.3 included, gets a protocol_version alert; no certificate is sent.

    ``suites``: what the server accepts, in its order; ``follow_client``: pick the first of them in
    the client's order instead (no enforced cipher order). ``kex``: with an ECDHE suite, also send a
    ServerKeyExchange (P-256 point and signature are filler: the scan verifies nothing) signed with
    the first SHA-2 scheme the client offers (``"sha2"``), or only with rsa_pkcs1_sha1 and a
    handshake_failure alert when the client does not offer it (``"sha1"``); "": none.
    """

    SUITE = 0xC02F

    def __init__(self, *, compression: bool = False, renegotiation_info: bool = True,
                 extended_master_secret: bool = True, smtp: bool = False, suites: tuple[int, ...] = (SUITE,),
                 follow_client: bool = False, kex: str = "") -> None:
        super().__init__()
        self.compression, self.reneg, self.smtp = compression, renegotiation_info, smtp
        self.ems = extended_master_secret
        self.suites, self.follow_client, self.kex = suites, follow_client, kex

    def handle(self, conn: socket.socket) -> None:
        try:
            self._answer(conn)
        finally:
            conn.close()  # at once: a scan waits for a hang-up after an SSLv2 hello

    def _answer(self, conn: socket.socket) -> None:
        if self.smtp and not _smtp_starttls(conn):
            return
        first = conn.recv(1, socket.MSG_PEEK)
        if not first or first[0] & 0x80:
            return
        record = _read_record(conn)
        if len(record) < 11 or record[0] != 0x16 or record[5] != 0x01:
            return
        hello = record[9:]
        if struct.unpack("!H", hello[:2])[0] != 0x0303 or b"\x00\x2b\x00\x03\x02\x03\x04" in hello:
            conn.sendall(b"\x15\x03\x03\x00\x02\x02\x46")  # fatal protocol_version
            return
        pos = 34
        pos += 1 + hello[pos]  # session id
        n = struct.unpack("!H", hello[pos:pos + 2])[0]
        offered = [struct.unpack("!H", hello[i:i + 2])[0] for i in range(pos + 2, pos + 2 + n, 2)]
        pos += 2 + n
        methods = hello[pos + 1:pos + 1 + hello[pos]]
        sigalgs = _sigalgs(hello[pos + 1 + hello[pos]:])
        order = offered if self.follow_client else list(self.suites)
        suite = next((c for c in order if c in self.suites and c in offered), None)
        sha2 = [a for a in sigalgs if (a >> 8) in (4, 5, 6) or a in (0x0804, 0x0805, 0x0806)]
        signed = suite is not None and suite >> 8 == 0xC0 and self.kex
        scheme = (0x0201 if self.kex == "sha1" and 0x0201 in sigalgs else sha2[0] if self.kex == "sha2" and sha2
                  else None)
        if suite is None or (signed and scheme is None):
            conn.sendall(b"\x15\x03\x03\x00\x02\x02\x28")  # fatal handshake_failure
            return
        exts = b""
        if self.reneg:
            exts += b"\xff\x01\x00\x01\x00"  # renegotiation_info, empty renegotiated_connection
        if self.ems:
            exts += b"\x00\x17\x00\x00"
        method = 1 if self.compression and 1 in methods else 0
        body = (b"\x03\x03" + bytes(32) + b"\x00" + struct.pack("!HB", suite, method)
                + (struct.pack("!H", len(exts)) + exts if exts else b""))
        msg = b"\x02" + struct.pack("!I", len(body))[1:] + body
        if signed and scheme is not None:
            ske = b"\x03\x00\x17" + b"\x41\x04" + bytes(64) + struct.pack("!HH", scheme, 64) + bytes(64)
            msg += b"\x0c" + struct.pack("!I", len(ske))[1:] + ske
        msg += b"\x0e\x00\x00\x00"  # ServerHelloDone
        conn.sendall(b"\x16\x03\x03" + struct.pack("!H", len(msg)) + msg)
        conn.recv(1)


def _sigalgs(rest: bytes) -> list[int]:
    """The signature_algorithms of a ClientHello's extensions block (``rest`` starts at its length)."""
    pos, end = 2, 2 + (struct.unpack("!H", rest[:2])[0] if len(rest) >= 2 else 0)
    while pos + 4 <= end:
        kind, size = struct.unpack("!HH", rest[pos:pos + 4])
        if kind == 0x000D:
            data = rest[pos + 6:pos + 4 + size]
            return [struct.unpack("!H", data[i:i + 2])[0] for i in range(0, len(data) - 1, 2)]
        pos += 4 + size
    return []


def _smtp_starttls(conn: socket.socket) -> bool:
    """The server side of an SMTP dialogue up to STARTTLS (byte by byte: nothing read past it)."""
    conn.sendall(b"220 hello.tls.test ESMTP lab\r\n")
    while True:
        line = b""
        while not line.endswith(b"\n"):
            c = conn.recv(1)
            if not c:
                return False
            line += c
        verb = line.strip().upper()
        if verb.startswith(b"EHLO"):
            conn.sendall(b"250-hello.tls.test\r\n250 STARTTLS\r\n")
        elif verb == b"STARTTLS":
            conn.sendall(b"220 go ahead\r\n")
            return True
        else:
            conn.sendall(b"502 no\r\n")


def tls13_only_context(directory: Path) -> ssl.SSLContext:
    """A server that speaks TLS 1.3 and nothing else."""
    pair = make_cert(directory, "tls13", "tls13.tls.test", key="P-256")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(pair.cert, pair.key)
    return ctx


class OpensslServer:
    """``openssl s_server`` on a free loopback port: OpenSSL's own TLS server, a real one.

    It is the only server here that can be made to accept 0-RTT (``-early_data``; Postfix and
    Dovecot have no such setting), and with ``-cipher`` / ``-groups`` it offers exactly one suite
    family, which is how the TLS 1.2 client (collectors/tls12_client.py) is tried against every key
    exchange and record protection it implements. It speaks no mail dialogue: implicit TLS only.
    Its stdin stays open (a pipe), because s_server ends a session when stdin reaches EOF.
    """

    def __init__(self, pair: CertPair, *args: str, address: str = TLS_LAB_ADDRESSES["responders"]) -> None:
        self.pair, self.args, self.host = pair, args, address
        probe = socket.create_server((address, 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> OpensslServer:
        self.proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"{self.host}:{self.port}", "-cert", str(self.pair.cert),
             "-key", str(self.pair.key), "-quiet", *self.args],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"openssl s_server {' '.join(self.args)} exited with {self.proc.returncode}")
            with suppress(OSError), socket.create_connection((self.host, self.port), timeout=0.5):
                return self
            time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("openssl s_server did not start listening")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
