"""A real mail flow on loopback: signed by OpenDKIM, relayed by Postfix, read back from Dovecot.

Why (issue 15): the message import must be tested on what real servers write, not on headers
we typed ourselves. Postfix's ``Received:`` lines (TLS comment, ``ESMTPSA``, ``unknown [ip]``),
OpenDKIM's signature (header list, relaxed canonicalisation, folding) and the delivery agent's
``Return-Path:``/``Delivered-To:`` come from the Debian packages here, so a parser change that
misreads them, or a verifier that disagrees with a real signer, shows up in the tests.

The flow (every address in 127.0.0.0/8, ports chosen apart from ``lab.mailservers``)::

    127.0.0.70  pc.firma.test    the submitting client (smtplib binds this source address)
    127.0.0.61  mail.firma.test  Postfix SIGNER: 3587 submission (STARTTLS + AUTH), 3525 plain
                                 from the LAN; OpenDKIM milter on 127.0.0.61:3891 (selector lab2026)
    127.0.0.64  gw.kunde.test    Postfix GATEWAY in front of the MX: its SMTP client ignores the
                                 MX's 8BITMIME, so it converts 8bit bodies to quoted-printable
    127.0.0.62  mx.kunde.test    Postfix MX of kunde.test: 3525, delivers into the Maildirs Dovecot serves
    127.0.0.63  imap.kunde.test  Dovecot: IMAP 3143 (STARTTLS), SASL for the signer
    127.0.0.65  fwd.weiter.test  the ARC forwarder (Python + dkimpy ``arc_sign``, selector arc2026)
    127.0.0.1   BIND (free port) firma.test, kunde.test, weiter.test (DKIM/ARC keys, SPF, DMARC)

The variants (:data:`VARIANTS`) differ only in the route and the submission:

* ``signed``: AUTH after STARTTLS on 3587, signed, relayed with TLS straight to the MX;
* ``body_rewritten``: the same, but routed through the gateway, whose 8bit→QP downgrade after
  signing is the classic real-world DKIM breaker (body hash mismatch);
* ``plain_submission``: no TLS, no AUTH, on 3525 from the LAN client (OpenDKIM's InternalHosts);
* ``local_helo``: the signer's ``smtp-localhelo`` transport announces ``mail.firma.local``;
* ``arc_forwarded``: the delivered ``signed`` message, verified and ARC-sealed by the forwarder
  and sent again through the MX to another mailbox.

Nothing can leave the machine: every Postfix has ``default_transport = error:...`` and routes
only to bracketed loopback next hops, nothing here resolves through the system resolver, and
:func:`configured_addresses` lets a test check every address in every config file.
"""

from __future__ import annotations

import atexit
import base64
import datetime as dt
import email.utils
import imaplib
import ipaddress
import re
import shutil
import smtplib
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import dkim
import dns.exception
import dns.resolver
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lab.bind import BindServer, find_tool, make_lab_root, named_available
from lab.certs import CertPair, _make_ca, _make_leaf, _write_cert, _write_key
from lab.mailservers import (
    _MASTER_DAEMONS,
    DovecotInstance,
    DovecotSpec,
    MailLabError,
    PostfixInstance,
    PostfixSpec,
    _stop_process,
    _tail,
    _wait_listening,
    mail_servers_available,
    port_in_use,
)

#: Role -> loopback address (module docstring). Distinct addresses give distinct hosts in Received:.
ADDRESSES: dict[str, str] = {
    # named listens only on addresses an interface carries (lo: 127.0.0.1), not on any of 127/8.
    "dns": "127.0.0.1",
    "signer": "127.0.0.61",
    "mx": "127.0.0.62",
    "imap": "127.0.0.63",
    "gateway": "127.0.0.64",
    "forwarder": "127.0.0.65",
    "client": "127.0.0.70",
}
#: Not the ports of ``lab.mailservers.PORTS`` (25xx/11xx/19xx/8443): both labs can run in one session.
PORTS: dict[str, int] = {"smtp": 3525, "submission": 3587, "imap": 3143, "milter": 3891}

SENDER_DOMAIN = "firma.test"
RECIPIENT_DOMAIN = "kunde.test"
FORWARDER_DOMAIN = "weiter.test"
HOSTNAMES: dict[str, str] = {
    "signer": f"mail.{SENDER_DOMAIN}",
    "mx": f"mx.{RECIPIENT_DOMAIN}",
    "imap": f"imap.{RECIPIENT_DOMAIN}",
    "gateway": f"gw.{RECIPIENT_DOMAIN}",
    "forwarder": f"fwd.{FORWARDER_DOMAIN}",
    "client": f"pc.{SENDER_DOMAIN}",
}
#: What the signer's ``smtp-localhelo`` transport announces (an internal name leaking out).
LOCAL_HELO = "mail.firma.local"
DKIM_SELECTOR = "lab2026"
ARC_SELECTOR = "arc2026"
KEY_BITS = 2048

SENDER = f"alice@{SENDER_DOMAIN}"
PASSWORD = "S3cret-pw"
#: Envelope sender of the forwarder (SRS-like: its own domain, so SPF is checked against weiter.test).
FORWARDER_SENDER = f"fwd+alice=kunde.test@{FORWARDER_DOMAIN}"
#: Mailbox per variant; the signer routes by recipient (its transport_maps), see _signer_transports().
MAILBOXES: dict[str, str] = {
    "signed": f"alice@{RECIPIENT_DOMAIN}",
    "body_rewritten": f"bob@{RECIPIENT_DOMAIN}",
    "plain_submission": f"alice@{RECIPIENT_DOMAIN}",
    "local_helo": f"dave@{RECIPIENT_DOMAIN}",
    "arc_forwarded": f"carol@{RECIPIENT_DOMAIN}",
}
VARIANTS: tuple[str, ...] = tuple(MAILBOXES)

START_TIMEOUT = 20.0
DELIVERY_TIMEOUT = 20.0
POLL_INTERVAL = 0.05
SMTP_TIMEOUT = 10.0


class MailFlowError(MailLabError):
    """The flow could not be started or a message did not arrive; the message carries the logs."""


def opendkim_available() -> str | None:
    """``None`` when OpenDKIM and its key tool are installed, otherwise the skip reason."""
    missing = [tool for tool in ("opendkim", "opendkim-genkey") if find_tool(tool) is None]
    if missing:
        return (f"OpenDKIM not installed ({', '.join(missing)} not found); install opendkim and "
                "opendkim-tools, e.g. with `make lab-servers` as root")
    return None


def mail_flow_available() -> str | None:
    """Why the flow cannot run here (BIND, Postfix, Dovecot, OpenDKIM, root), or ``None``."""
    return named_available() or mail_servers_available() or opendkim_available()


def listeners() -> list[tuple[str, str, int]]:
    """Every ``(name, address, port)`` the flow listens on (BIND's port is picked at start)."""
    a, p = ADDRESSES, PORTS
    return [
        ("signer-submission", a["signer"], p["submission"]), ("signer-smtp", a["signer"], p["smtp"]),
        ("opendkim", a["signer"], p["milter"]), ("mx-smtp", a["mx"], p["smtp"]),
        ("gateway-smtp", a["gateway"], p["smtp"]), ("dovecot-imap", a["imap"], p["imap"]),
    ]


# -- keys and certificates -----------------------------------------------------------------------


@dataclass(frozen=True)
class DkimKey:
    """A private key file and the zone-file line that publishes its public half."""

    private: Path
    record: str


def make_dkim_key(directory: Path) -> DkimKey:
    """The signer's key, made the way an admin does it: ``opendkim-genkey -b 2048``.

    Its ``.txt`` output is already a zone-file record (the key split into TXT strings), so
    BIND publishes exactly what the Debian tool produced.
    """
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run([find_tool("opendkim-genkey") or "opendkim-genkey", "-b", str(KEY_BITS), "-h", "sha256",
                    "-d", SENDER_DOMAIN, "-s", DKIM_SELECTOR, "-D", str(directory)],
                   check=True, capture_output=True, timeout=60)
    private = directory / f"{DKIM_SELECTOR}.private"
    private.chmod(0o600)
    return DkimKey(private, (directory / f"{DKIM_SELECTOR}.txt").read_text("ascii"))


def make_arc_key(directory: Path) -> DkimKey:
    """The forwarder's sealing key (PKCS#1 PEM, what dkimpy takes) and its TXT record."""
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private = directory / f"{ARC_SELECTOR}.private"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption()))
    private.chmod(0o600)
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    text = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
    chunks = " ".join(f'"{text[i:i + 250]}"' for i in range(0, len(text), 250))
    return DkimKey(private, f"{ARC_SELECTOR}._domainkey IN TXT ( {chunks} )\n")


@dataclass(frozen=True)
class FlowCerts:
    """The flow's CA (the clients' only trust anchor) and the one leaf every server presents."""

    ca: Path
    server: CertPair


def make_flow_certs(directory: Path) -> FlowCerts:
    """A private CA and one RSA leaf for all server names and addresses (the clients verify it)."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ca = _make_ca(now)
    _write_cert(directory / "ca.pem", ca[0])
    names = [HOSTNAMES[r] for r in ("signer", "mx", "imap", "gateway")]
    ips = [ADDRESSES[r] for r in ("signer", "mx", "imap", "gateway")]
    leaf = _make_leaf(names, now - dt.timedelta(days=1), now + dt.timedelta(days=90), ca, ips)
    pair = CertPair(directory / "server.pem", directory / "server.key")
    _write_cert(pair.cert, leaf[0])
    _write_key(pair.key, leaf[1])
    return FlowCerts(directory / "ca.pem", pair)


# -- DNS -------------------------------------------------------------------------------------------


def zone_texts(dkim_key: DkimKey, arc_key: DkimKey) -> dict[str, str]:
    """The zones: keys, SPF for the real sending addresses, DMARC p=reject for firma.test."""
    a = ADDRESSES

    def apex(origin: str, spf_ip: str, mx: str) -> str:
        """SOA, NS, MX and SPF at the apex (written with ``@``: a blank owner repeats the previous one)."""
        return (f"$TTL 300\n@ IN SOA ns1.{origin}. hostmaster.{origin}. ( 2026120601 3600 600 86400 300 )\n"
                f"@ IN NS ns1.{origin}.\n@ IN MX 10 {mx}.{origin}.\n@ IN TXT \"v=spf1 ip4:{spf_ip} -all\"\n"
                f"ns1 IN A {a['dns']}\n")

    return {
        # The parent too: DMARC's tree walk asks _dmarc.test, and a REFUSED answer there is a
        # failed lookup (temperror), where the Internet's registry would say NXDOMAIN.
        "test": "$TTL 300\n@ IN SOA ns1.test. hostmaster.test. ( 2026120601 3600 600 86400 300 )\n"
        f"@ IN NS ns1.test.\nns1 IN A {a['dns']}\n",
        SENDER_DOMAIN: apex(SENDER_DOMAIN, a["signer"], "mail")
        + f"mail IN A {a['signer']}\npc IN A {a['client']}\n"
        + f"_dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@{SENDER_DOMAIN}\"\n" + dkim_key.record,
        RECIPIENT_DOMAIN: apex(RECIPIENT_DOMAIN, a["mx"], "mx")
        + f"mx IN A {a['mx']}\nimap IN A {a['imap']}\ngw IN A {a['gateway']}\n",
        FORWARDER_DOMAIN: apex(FORWARDER_DOMAIN, a["forwarder"], "fwd")
        + f"fwd IN A {a['forwarder']}\n" + arc_key.record,
        # Reverse names, so the HELO of the hand-over can equal its PTR name (MSG-HELO-MISMATCH).
        "0.0.127.in-addr.arpa": "$TTL 300\n@ IN SOA ns1.test. hostmaster.test. ( 2026120601 3600 600 86400 300 )\n"
        "@ IN NS ns1.test.\n" + "".join(
            f"{a[role].rsplit('.', 1)[1]} IN PTR {host}.\n" for role, host in (
                ("signer", f"mail.{SENDER_DOMAIN}"), ("client", f"pc.{SENDER_DOMAIN}"),
                ("gateway", f"gw.{RECIPIENT_DOMAIN}"), ("mx", f"mx.{RECIPIENT_DOMAIN}"),
                ("forwarder", f"fwd.{FORWARDER_DOMAIN}"))),
    }


def start_bind(server: BindServer, zones: dict[str, str], timeout: float) -> None:
    """BIND on the DNS address and a free port, serving ``zones`` (strict checks: our zones are clean)."""
    server.workdir.mkdir(parents=True, exist_ok=True)
    pairs = []
    for origin, text in zones.items():
        path = server.workdir / f"{origin}.zone"
        path.write_text(text, "ascii")
        pairs.append((origin, path))
    server.start(pairs, host=ADDRESSES["dns"], timeout=timeout)


# -- OpenDKIM --------------------------------------------------------------------------------------


class OpenDkim:
    """``opendkim -f -x CONF``: the signer's milter, in the foreground as a child of the test process."""

    def __init__(self, root: Path, key: DkimKey) -> None:
        self.dir = root / "opendkim"
        self.conf = self.dir / "opendkim.conf"
        self.log = self.dir / "opendkim.log"
        self.key = key
        self._proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None
        self._started = 0.0
        self.startup_seconds = 0.0

    def config(self) -> str:
        """Sign for firma.test what the LAN client or an authenticated user sends (``Mode s``).

        ``InternalHosts`` is the client address only: mail from anywhere else is not signed
        unless authenticated, as on a real submission server. ``Syslog no``: there is no syslog
        here; OpenDKIM's start-up errors go to stderr, which :attr:`log` keeps.
        ``RequireSafeKeys false``: the key is root-only (0600), but the lab root lies under the
        world-writable /tmp, and OpenDKIM refuses every file below such a directory.
        """
        return f"""\
Syslog no
Mode s
Domain {SENDER_DOMAIN}
Selector {DKIM_SELECTOR}
KeyFile {self.key.private}
Socket inet:{PORTS["milter"]}@{ADDRESSES["signer"]}
Canonicalization relaxed/relaxed
SignatureAlgorithm rsa-sha256
OversignHeaders From
InternalHosts {ADDRESSES["client"]}
RequireSafeKeys false
PidFile {self.dir}/opendkim.pid
"""

    def prepare(self) -> None:
        self.dir.mkdir(parents=True)
        self.conf.write_text(self.config(), "ascii")

    def launch(self) -> None:
        self._started = time.perf_counter()
        self._out = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen([find_tool("opendkim") or "opendkim", "-f", "-x", str(self.conf)],
                                      stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def wait_ready(self, deadline: float) -> None:
        assert self._proc is not None
        _wait_listening(ADDRESSES["signer"], PORTS["milter"], self._proc, deadline, self.log, read_banner=False)
        self.startup_seconds = time.perf_counter() - self._started

    def stop(self) -> None:
        """SIGTERM, and SIGKILL to its process group after 0.5 s.

        libmilter notices a stop request only when its accept loop wakes up, every 5 s
        (measured: 4.98 s per stop). OpenDKIM keeps no state worth a clean shutdown.
        """
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            _stop_process(proc, 0.5)
        if self._out is not None:
            self._out.close()
            self._out = None


# -- Postfix ---------------------------------------------------------------------------------------


class FlowPostfix(PostfixInstance):
    """A :class:`PostfixInstance` whose main.cf/master.cf are given, not derived from a profile.

    The base class brings the directory layout, start-fg, the readiness poll and the careful
    stop; the flow's three roles (signer, gateway, MX) only differ in their settings.
    """

    def __init__(self, spec: PostfixSpec, root: Path, settings: dict[str, str], services: str,
                 ports: Iterable[int]) -> None:
        super().__init__(spec, root, root / "vmail", None)
        self.settings = settings
        self.services = services
        self.ports = tuple(ports)

    def main_cf(self) -> str:
        s, d = self.spec, self.dir
        base = {
            "compatibility_level": "3.6",
            "queue_directory": f"{d}/spool",
            "data_directory": f"{d}/data",
            "maillog_file_prefixes": str(self.root),
            "maillog_file": str(self.maillog),
            "syslog_name": f"postfix-{s.name}",
            "myhostname": s.hostname,
            "mydomain": s.domain,
            "myorigin": "$mydomain",
            "smtpd_banner": "$myhostname ESMTP LabMail",
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "mydestination": "",
            "mynetworks": f"{s.ip}/32",
            "relayhost": "",
            "alias_maps": "",
            "alias_database": "",
            "smtputf8_enable": "no",
            "biff": "no",
            # No PTR lookups through the system resolver: clients show as "unknown [ip]".
            "smtpd_peername_lookup": "no",
            # Anything not routed explicitly bounces: no mail ever leaves loopback.
            "default_transport": "error:outbound mail disabled in the lab",
            # The outgoing connections come from the instance's own address (distinct Received: hosts).
            "smtp_bind_address": s.ip,
            "lmtp_bind_address": s.ip,
            "smtpd_tls_cert_file": str(s.cert.cert) if s.cert else "",
            "smtpd_tls_key_file": str(s.cert.key) if s.cert else "",
            "smtpd_tls_security_level": "may",
            "smtpd_tls_protocols": ">=TLSv1.2",
            # The "(using TLSv1.3 with cipher ...)" comment in Received: is what the tests read.
            "smtpd_tls_received_header": "yes",
            "smtpd_tls_loglevel": "1",
            "smtp_tls_loglevel": "1",
            "smtpd_relay_restrictions": "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
        }
        base.update(self.settings)
        return "".join(f"{k} = {v}\n" for k, v in base.items())

    def master_cf(self) -> str:
        return self.services + _MASTER_DAEMONS

    def wait_ready(self, deadline: float) -> None:
        assert self._proc is not None
        for i, port in enumerate(self.ports):
            _wait_listening(self.spec.ip, port, self._proc, deadline, self.maillog, read_banner=i == 0)
        self.startup_seconds = time.perf_counter() - self._started


def _inline(pairs: dict[str, str]) -> str:
    return "inline:{ " + ", ".join(f"{{{k}={v}}}" for k, v in pairs.items()) + " }"


def _signer_transports() -> dict[str, str]:
    """Routes by recipient: bob via the gateway, dave with the local HELO, the rest straight to the MX."""
    mx, gw, port = ADDRESSES["mx"], ADDRESSES["gateway"], PORTS["smtp"]
    return {
        MAILBOXES["body_rewritten"]: f"smtp:[{gw}]:{port}",
        MAILBOXES["local_helo"]: f"smtp-localhelo:[{mx}]:{port}",
        RECIPIENT_DOMAIN: f"smtp:[{mx}]:{port}",
    }


def signer_postfix(root: Path, cert: CertPair, sasl_socket: Path) -> FlowPostfix:
    """mail.firma.test: submission with STARTTLS + AUTH, plain SMTP for the LAN, OpenDKIM milter."""
    ip = ADDRESSES["signer"]
    milter = f"inet:{ip}:{PORTS['milter']}"
    settings = {
        "mynetworks": f"{ip}/32, {ADDRESSES['client']}/32",
        "smtpd_sasl_type": "dovecot",
        "smtpd_sasl_path": str(sasl_socket),
        "smtpd_milters": milter,
        "non_smtpd_milters": milter,
        # A signer that is down must fail the test loudly, not let unsigned mail through.
        "milter_default_action": "tempfail",
        "transport_maps": _inline(_signer_transports()),
        # Relay with TLS or not at all: the relay hop's TLS is asserted.
        "smtp_tls_security_level": "encrypt",
    }
    services = (
        f"{ip}:{PORTS['smtp']} inet n - n - - smtpd\n"
        f"{ip}:{PORTS['submission']} inet n - n - - smtpd\n"
        "  -o syslog_name=postfix-signer/submission\n"
        "  -o smtpd_tls_security_level=encrypt\n"
        "  -o smtpd_sasl_auth_enable=yes\n"
        "  -o smtpd_tls_auth_only=yes\n"
        "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n"
        f"smtp-localhelo unix - - n - - smtp\n  -o smtp_helo_name={LOCAL_HELO}\n"
    )
    spec = PostfixSpec("signer", ip, HOSTNAMES["signer"], SENDER_DOMAIN, cert)
    return FlowPostfix(spec, root, settings, services, (PORTS["smtp"], PORTS["submission"]))


def gateway_postfix(root: Path, cert: CertPair) -> FlowPostfix:
    """gw.kunde.test: relays kunde.test to the MX and ignores the MX's 8BITMIME.

    Postfix then converts an 8bit body to quoted-printable on the way out (MIME output
    conversion): a real server changing a signed body after signing.
    """
    ip = ADDRESSES["gateway"]
    settings = {
        "relay_domains": RECIPIENT_DOMAIN,
        "relay_recipient_maps": _inline({box: "ok" for box in sorted(set(MAILBOXES.values()))}),
        "transport_maps": _inline({RECIPIENT_DOMAIN: f"smtp:[{ADDRESSES['mx']}]:{PORTS['smtp']}"}),
        "smtp_discard_ehlo_keywords": "8bitmime",
        "smtp_tls_security_level": "encrypt",
    }
    services = f"{ip}:{PORTS['smtp']} inet n - n - - smtpd\n"
    spec = PostfixSpec("gateway", ip, HOSTNAMES["gateway"], RECIPIENT_DOMAIN, cert)
    return FlowPostfix(spec, root, settings, services, (PORTS["smtp"],))


def mx_postfix(root: Path, cert: CertPair) -> FlowPostfix:
    """mx.kunde.test: accepts mail for the kunde.test mailboxes and stores it where Dovecot reads it.

    Postfix's ``virtual`` delivery agent, not LMTP: Dovecot's LMTP server is the separate
    package dovecot-lmtpd, and the Maildir hand-over is the one lab-servers.md verified.
    """
    ip = ADDRESSES["mx"]
    boxes = sorted(set(MAILBOXES.values()))
    settings = {
        "virtual_mailbox_domains": RECIPIENT_DOMAIN,
        "virtual_mailbox_base": str(root / "vmail"),
        # The layout of Dovecot's mail_location (maildir:VMAIL/%d/%n/Maildir).
        "virtual_mailbox_maps": _inline({b: "{1}/{0}/Maildir/".format(*b.split("@")) for b in boxes}),
        "virtual_uid_maps": "static:65534",
        "virtual_gid_maps": "static:65534",
    }
    services = f"{ip}:{PORTS['smtp']} inet n - n - - smtpd\n"
    spec = PostfixSpec("mx", ip, HOSTNAMES["mx"], RECIPIENT_DOMAIN, cert)
    return FlowPostfix(spec, root, settings, services, (PORTS["smtp"],))


# -- Dovecot ---------------------------------------------------------------------------------------


class FlowDovecot(DovecotInstance):
    """imap.kunde.test: IMAP to read the MX's deliveries back, and SASL for the signer.

    The signer's account lives here too (one passwd-file): a second Dovecot only for SMTP
    AUTH would cost start-up time and show nothing new.
    """

    def __init__(self, root: Path, cert: CertPair) -> None:
        super().__init__(DovecotSpec("flow", ADDRESSES["imap"], cert), root, root / "vmail")

    def config(self) -> str:
        s, d = self.spec, self.dir
        assert s.cert is not None
        return f"""\
instance_name = auditapp-mailflow
base_dir = {d}/run
state_dir = {d}/state
protocols = imap
listen = {s.ip}
hostname = {HOSTNAMES["imap"]}
log_path = {self.log}
ssl = yes
ssl_cert = <{s.cert.cert}
ssl_key = <{s.cert.key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{self.vmail}/%d/%n/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/users
  default_fields = uid=65534 gid=65534 home={self.vmail}/%d/%n
}}
service imap-login {{
  inet_listener imap {{
    port = {PORTS["imap"]}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""

    def prepare(self) -> None:
        (self.dir / "run").mkdir(parents=True)
        (self.dir / "state").mkdir()
        users = self.dir / "users"
        accounts = sorted({*MAILBOXES.values(), SENDER})
        users.write_text("".join(f"{a}:{{PLAIN}}{PASSWORD}::::::\n" for a in accounts), "utf-8")
        shutil.chown(users, "root", "dovecot")
        users.chmod(0o640)
        self.conf.write_text(self.config(), "utf-8")

    def wait_ready(self, deadline: float) -> None:
        assert self._proc is not None
        log = self.log if self.log.exists() else self.dir / "foreground.log"
        _wait_listening(self.spec.ip, PORTS["imap"], self._proc, deadline, log, read_banner=True)
        while not self.auth_socket.exists():
            if time.perf_counter() > deadline:
                raise MailFlowError(f"no auth socket {self.auth_socket}\n{_tail(log)}")
            time.sleep(0.02)
        self.startup_seconds = time.perf_counter() - self._started


# -- the running flow ------------------------------------------------------------------------------


@dataclass
class MailFlow:
    """The running servers, the keys, and what the tests verify against (``nameserver``)."""

    root: Path
    certs: FlowCerts
    dkim_key: DkimKey
    arc_key: DkimKey
    bind: BindServer
    opendkim: OpenDkim
    dovecot: FlowDovecot
    postfix: dict[str, FlowPostfix] = field(default_factory=dict)
    startup_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def nameserver(self) -> tuple[str, int]:
        """BIND's ``(address, port)``: give it to ``DnsClient([Nameserver(*flow.nameserver)])``."""
        return self.bind.host, self.bind.port

    def config_files(self) -> list[Path]:
        """Every config file the flow wrote (for the loopback-only check)."""
        files = [self.bind.conf_path, self.opendkim.conf, self.dovecot.conf]
        for pf in self.postfix.values():
            files += [pf.etc / "main.cf", pf.etc / "master.cf"]
        return files

    def logs(self) -> str:
        """The tails of every server log: what a failed delivery's error message shows."""
        parts = [f"--- {name} maillog ---\n{_tail(pf.maillog, 1500)}" for name, pf in self.postfix.items()]
        parts.append(f"--- dovecot ---\n{_tail(self.dovecot.log, 1500)}")
        parts.append(f"--- opendkim ---\n{_tail(self.opendkim.log, 800)}")
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop everything in parallel (Postfix's stop takes ~1.2 s each); safe to call twice."""
        atexit.unregister(self.stop)
        stoppers: list[Callable[[], None]] = [pf.stop for pf in self.postfix.values()]
        stoppers += [self.dovecot.stop, self.opendkim.stop, self.bind.stop]
        errors: list[BaseException] = []
        try:
            with ThreadPoolExecutor(max_workers=len(stoppers)) as pool:
                futures = [pool.submit(stop) for stop in stoppers]
            errors += [exc for exc in (f.exception() for f in futures) if exc is not None]
        except RuntimeError:  # at interpreter exit (atexit) no new threads: one after the other
            for stop in stoppers:
                try:
                    stop()
                except Exception as exc:
                    errors.append(exc)
        if errors:
            raise MailFlowError(f"stopping the mail flow failed: {errors!r}")


def _check_ports_free() -> None:
    taken = [f"{ip}:{port} ({name})" for name, ip, port in listeners() if port_in_use(ip, port)]
    if taken:
        raise MailFlowError("mail flow ports already in use: " + ", ".join(taken) + "\nA flow from an earlier "
                            "run still alive? Stop its servers (postfix -c /tmp/auditapp-lab-*/postfix-*/etc stop).")


def start_mail_flow(root: Path | None = None, *, timeout: float = START_TIMEOUT) -> MailFlow:
    """Make keys and certificates, then start BIND, OpenDKIM, Dovecot and three Postfixes in parallel.

    On failure whatever runs is stopped before the error (with the server's log tail) propagates;
    the root is left for inspection (the caller removes it).
    """
    reason = mail_flow_available()
    if reason:
        raise MailFlowError(reason)
    _check_ports_free()
    t0 = time.perf_counter()
    root = root if root is not None else make_lab_root()
    root.chmod(0o755)
    vmail = root / "vmail"
    vmail.mkdir()
    shutil.chown(vmail, "nobody", "nogroup")
    with ThreadPoolExecutor(max_workers=3) as pool:
        certs_f = pool.submit(make_flow_certs, root / "tls")
        dkim_f = pool.submit(make_dkim_key, root / "keys")
        arc_f = pool.submit(make_arc_key, root / "keys")
        certs, dkim_key, arc_key = certs_f.result(), dkim_f.result(), arc_f.result()
    keys_done = time.perf_counter() - t0
    dovecot = FlowDovecot(root, certs.server)
    flow = MailFlow(root, certs, dkim_key, arc_key, BindServer(root / "dns", lenient=False), OpenDkim(root, dkim_key),
                    dovecot)
    flow.startup_seconds["keys_and_certs"] = keys_done
    atexit.register(flow.stop)
    try:
        flow.postfix = {"signer": signer_postfix(root, certs.server, dovecot.auth_socket),
                        "gateway": gateway_postfix(root, certs.server), "mx": mx_postfix(root, certs.server)}
        servers = [flow.dovecot, flow.opendkim, *flow.postfix.values()]
        for server in servers:
            server.prepare()
            server.launch()
        start_bind(flow.bind, zone_texts(dkim_key, arc_key), timeout)
        flow.startup_seconds["bind"] = flow.bind.startup_seconds
        deadline = time.perf_counter() + timeout
        for server in servers:
            server.wait_ready(deadline)
        flow.startup_seconds |= {"dovecot": dovecot.startup_seconds, "opendkim": flow.opendkim.startup_seconds}
        flow.startup_seconds |= {f"postfix-{n}": pf.startup_seconds for n, pf in flow.postfix.items()}
    except BaseException:
        flow.stop()
        raise
    flow.startup_seconds["total"] = time.perf_counter() - t0
    return flow


# -- sending and reading back ----------------------------------------------------------------------


def client_context(flow: MailFlow) -> ssl.SSLContext:
    """Trusts the flow CA only and checks names: the submission's TLS is a verified one."""
    return ssl.create_default_context(cafile=str(flow.certs.ca))


def compose(variant: str, token: str) -> bytes:
    """A message from alice@firma.test with an 8bit UTF-8 body (what the gateway converts).

    The Message-ID carries ``token`` so the copy in the mailbox can be found by IMAP SEARCH.
    """
    body = ("Hallo Bob,\r\n\r\nanbei die Quartalszahlen für Q4, Grüße aus Köln.\r\n\r\n"
            f"Variante: {variant}\r\n-- \r\nAlice, Firma GmbH\r\n")
    head = (f"From: Alice Example <{SENDER}>\r\nTo: <{MAILBOXES[variant]}>\r\n"
            f"Subject: Lab message {variant}\r\nDate: {email.utils.formatdate(localtime=False)}\r\n"
            f"Message-ID: <{token}@{SENDER_DOMAIN}>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n")
    return (head + "\r\n" + body).encode("utf-8")


def _smtp(host: str, port: int, source: str, server_name: str, helo: str) -> smtplib.SMTP:
    client = smtplib.SMTP(timeout=SMTP_TIMEOUT, local_hostname=helo, source_address=(source, 0))
    client._host = server_name  # type: ignore[attr-defined]  # starttls() checks this name (reference 5.4 #7)
    client.connect(host, port)
    client.ehlo()
    return client


def submit(flow: MailFlow, raw: bytes, recipient: str, *, secure: bool) -> None:
    """Submit from the client address: ``secure`` is 3587 with STARTTLS + AUTH, else plain 3525."""
    port = PORTS["submission"] if secure else PORTS["smtp"]
    with _smtp(ADDRESSES["signer"], port, ADDRESSES["client"], HOSTNAMES["signer"], HOSTNAMES["client"]) as client:
        if secure:
            client.starttls(context=client_context(flow))
            client.ehlo()
            client.login(SENDER, PASSWORD)
        client.sendmail(SENDER, [recipient], raw, mail_options=["BODY=8BITMIME"])


def fetch(flow: MailFlow, mailbox: str, token: str, timeout: float = DELIVERY_TIMEOUT) -> bytes:
    """Wait until the message whose Message-ID holds ``token`` is in ``mailbox``; return it as IMAP gives it.

    Read over IMAP after STARTTLS (CRLF line ends, exactly the bytes Dovecot stored); on
    timeout the error carries every server's log tail.
    """
    deadline = time.perf_counter() + timeout
    imap = imaplib.IMAP4(ADDRESSES["imap"], PORTS["imap"], timeout=SMTP_TIMEOUT)
    try:
        imap.starttls(ssl_context=client_context(flow))
        imap.login(mailbox, PASSWORD)
        while True:
            imap.select("INBOX", readonly=True)
            _typ, data = imap.search(None, "HEADER", "Message-ID", token)
            numbers = data[0].split() if data and data[0] else []
            if numbers:
                _typ, parts = imap.fetch(numbers[-1], "(BODY.PEEK[])")
                return next(bytes(p[1]) for p in parts if isinstance(p, tuple))
            if time.perf_counter() > deadline:
                raise MailFlowError(f"message {token} not in {mailbox} after {timeout} s\n{flow.logs()}")
            time.sleep(POLL_INTERVAL)
    finally:
        try:
            imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _txt_lookup(flow: MailFlow) -> Callable[..., bytes | None]:
    """dkimpy's DNS hook for the forwarder, asking the flow's BIND (never the system resolver)."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [flow.bind.host]
    resolver.port = flow.bind.port
    resolver.lifetime = 2.0

    def lookup(name: bytes | str, timeout: float = 5) -> bytes | None:
        qname = name.decode() if isinstance(name, bytes) else name
        try:
            answer = resolver.resolve(qname, "TXT")
        except dns.exception.DNSException:
            return None
        return b"".join(answer[0].strings)

    return lookup


def _drop_fields(raw: bytes, names: Iterable[bytes]) -> bytes:
    """``raw`` without the (unfolded, top-level) header fields ``names`` (lower case)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    fields = re.split(rb"\r\n(?![ \t])", head)
    kept = [f for f in fields if f.split(b":", 1)[0].strip().lower() not in set(names)]
    return b"\r\n".join(kept) + sep + body


def arc_forward(flow: MailFlow, delivered: bytes, recipient: str) -> None:
    """What a forwarder does: verify, record its Authentication-Results, add an ARC set, send on.

    ``Return-Path`` belongs to the final delivery and is dropped (the MX's delivery adds a new
    one); everything else, the DKIM signature included, is forwarded unchanged.
    """
    message = _drop_fields(delivered, (b"return-path",))
    ok = dkim.verify(message, dnsfunc=_txt_lookup(flow))
    srv_id = HOSTNAMES["forwarder"]
    auth_results = (f"Authentication-Results: {srv_id}; dkim={'pass' if ok else 'fail'} "
                    f"header.d={SENDER_DOMAIN} header.s={DKIM_SELECTOR}; arc=none\r\n").encode()
    message = auth_results + message
    arc_set = dkim.arc_sign(message, ARC_SELECTOR.encode(), FORWARDER_DOMAIN.encode(),
                            flow.arc_key.private.read_bytes(), srv_id.encode())
    if not arc_set:
        raise MailFlowError("dkim.arc_sign produced no ARC set (no Authentication-Results for the forwarder?)")
    sealed = b"".join(arc_set) + message
    with _smtp(ADDRESSES["mx"], PORTS["smtp"], ADDRESSES["forwarder"], HOSTNAMES["mx"], srv_id) as client:
        client.starttls(context=client_context(flow))
        client.ehlo()
        client.sendmail(FORWARDER_SENDER, [recipient], sealed, mail_options=["BODY=8BITMIME"])


@dataclass(frozen=True)
class Delivered:
    """The delivered raw messages by variant, and the DNS server that publishes their keys."""

    messages: dict[str, bytes]
    nameserver: tuple[str, int]
    seconds: float


def deliver_variants(flow: MailFlow) -> Delivered:
    """Send every variant through the flow and read each back from its mailbox.

    The four submissions go out at once and are collected afterwards; the ARC variant
    forwards the delivered ``signed`` copy, so it comes last.
    """
    t0 = time.perf_counter()
    stamp = f"{int(time.time() * 1000)}"
    tokens = {v: f"lab-{v.replace('_', '-')}-{stamp}" for v in VARIANTS}
    for variant in ("signed", "body_rewritten", "plain_submission", "local_helo"):
        submit(flow, compose(variant, tokens[variant]), MAILBOXES[variant], secure=variant != "plain_submission")
    messages = {v: fetch(flow, MAILBOXES[v], tokens[v]) for v in ("signed", "body_rewritten", "plain_submission",
                                                                    "local_helo")}
    arc_forward(flow, messages["signed"], MAILBOXES["arc_forwarded"])
    messages["arc_forwarded"] = fetch(flow, MAILBOXES["arc_forwarded"], tokens["signed"])
    return Delivered({v: messages[v] for v in VARIANTS}, flow.nameserver, time.perf_counter() - t0)


_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")


def configured_addresses(paths: Iterable[Path]) -> dict[str, set[str]]:
    """Every IPv4 address literal written into the given config files, per file.

    A test asserts they all lie in 127.0.0.0/8: the flow cannot be pointed at the network
    without one of these files saying so.
    """
    found: dict[str, set[str]] = {}
    for path in paths:
        addresses = set()
        for match in _IPV4.findall(path.read_text("utf-8", "replace")):
            try:
                addresses.add(str(ipaddress.IPv4Address(match)))
            except ValueError:
                continue
        found[str(path)] = addresses
    return found


# -- saved copies ----------------------------------------------------------------------------------

#: Where the saved copies live: one ``VARIANT.eml`` per variant and the zone files that publish their keys.
FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "messages" / "lab"


def save_fixtures(flow: MailFlow, delivered: Delivered, directory: Path = FIXTURE_DIR) -> list[Path]:
    """Write the delivered messages and BIND's zone files, for tests on machines without the servers.

    The zones are the only thing verification needs besides the messages: the signatures carry
    no expiry (``x=``), so the copies verify as long as their keys are served.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for variant, raw in delivered.messages.items():
        written.append(directory / f"{variant}.eml")
        written[-1].write_bytes(raw)
    for origin, path in flow.bind.zones:
        written.append(directory / f"{origin}.zone")
        shutil.copyfile(path, written[-1])
    return written


def load_fixtures(directory: Path = FIXTURE_DIR) -> tuple[dict[str, bytes], list[tuple[str, str]]]:
    """The saved messages by variant and the saved zones as ``(origin, text)`` pairs."""
    messages = {v: (directory / f"{v}.eml").read_bytes() for v in VARIANTS}
    zones = [(p.name.removesuffix(".zone"), p.read_text("ascii")) for p in sorted(directory.glob("*.zone"))]
    return messages, zones


def main(argv: list[str]) -> int:
    """Regenerate the saved copies: ``cd tests && python -m lab.mailflow [DIR]`` (as root)."""
    directory = Path(argv[0]) if argv else FIXTURE_DIR
    root = make_lab_root()
    try:
        flow = start_mail_flow(root)
        try:
            for path in save_fixtures(flow, deliver_variants(flow), directory):
                print(path)
        finally:
            flow.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
