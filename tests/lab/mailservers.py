"""Real Postfix and Dovecot instances on loopback for the services audit tests.

Why real servers: the services audit reads banners, EHLO keywords, CAPABILITY lines,
certificates and relay answers. Only the real daemons produce them the way mail servers on
the Internet do (pipelining quirks, TLS alerts, Dovecot's "local connection is secure"
rule), so the audit is tested against behaviour we did not write ourselves.

Layout (``/work/shared/reference/lab-servers.md`` sections 5 and 6, appendix A): one lab
root (mode 0755, not pytest's 0700 ``tmp_path``), one directory per instance, every
daemon a child of the test process in the foreground, nothing chrooted.

Every instance has its own loopback address and the same fixed unprivileged ports, so the
audit can be pointed at the lab with one set of port overrides::

    127.0.0.2   Postfix GOOD       mx.svc.test        2525 STARTTLS, 2587 submission, 2465 TLS
    127.0.0.3   Dovecot GOOD       imap/pop.svc.test  1143/1110 STARTTLS/STLS, 1993/1995 TLS
    127.0.0.4   Postfix BAD        mx.badsvc.test     2525 + 2587, no TLS, AUTH in clear, open relay
    127.0.0.5   Postfix CERTS      mx.expired.test    expired certificate, accepts TLS 1.0/1.1
    127.0.0.6   Postfix WRONGNAME  mx.wrongname.test  certificate for other.example
    127.0.0.7   Dovecot BAD        pop.badsvc.test    1143/1110 only, no TLS, plaintext login
    127.0.0.8   MTA-STS HTTPS      mta-sts.*          8443 (tests/lab/mtasts.py)
    127.0.0.9   Postfix SELFSIGNED mx.selfsigned.test self-signed certificate
    127.0.0.10  Postfix SOON       mx.soon.test       certificate expiring in 10 days

The test client connects from the default source address 127.0.0.1, which is *not* the
server's address: that makes Dovecot treat it as remote (reference 6.1) and keeps it out
of Postfix's ``mynetworks``, exactly like an auditor on the Internet.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lab.bind import find_tool, make_lab_root
from lab.certs import CertPair, LabCerts, make_lab_certs
from lab.mtasts import MtaStsServer

#: The fixed ports; the audit gets them as port overrides.
PORTS: dict[str, int] = {
    "smtp": 2525,
    "submission": 2587,
    "submissions": 2465,
    "imap": 1143,
    "imaps": 1993,
    "pop3": 1110,
    "pop3s": 1995,
}
MTASTS_PORT = 8443

#: Instance name -> loopback address (see the module docstring for what each one shows).
ADDRESSES: dict[str, str] = {
    "smtp_good": "127.0.0.2",
    "imap_good": "127.0.0.3",
    "smtp_bad": "127.0.0.4",
    "smtp_certs": "127.0.0.5",
    "smtp_wrongname": "127.0.0.6",
    "imap_bad": "127.0.0.7",
    "mtasts": "127.0.0.8",
    "smtp_selfsigned": "127.0.0.9",
    "smtp_soon": "127.0.0.10",
}

#: Which ports each instance serves (the rest of the fixed ports refuse connections there).
_ALL_SMTP = ("smtp", "submission", "submissions")
_POSTFIX_SERVICES: dict[str, tuple[str, ...]] = {
    "good": _ALL_SMTP, "bad": ("smtp", "submission"), "certs": _ALL_SMTP,
    "wrongname": _ALL_SMTP, "selfsigned": _ALL_SMTP, "soon": _ALL_SMTP,
}
_DOVECOT_SERVICES: dict[str, tuple[str, ...]] = {
    "good": ("imap", "imaps", "pop3", "pop3s"), "bad": ("imap", "pop3"),
}

ACCOUNT = "alice@svc.test"
PASSWORD = "S3cret-pw"

#: The tools the lab runs; ``/usr/sbin`` may be missing from PATH (find_tool looks there).
_TOOLS = ("postfix", "postconf", "dovecot")

START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
POLL_INTERVAL = 0.02


class MailLabError(RuntimeError):
    """A lab server could not be configured or started; the message carries its log."""


def mail_servers_available() -> str | None:
    """``None`` when Postfix and Dovecot can run here, otherwise why not (the skip reason)."""
    missing = [tool for tool in _TOOLS if find_tool(tool) is None]
    if missing:
        return (f"Postfix/Dovecot not installed ({', '.join(missing)} not found); install postfix, "
                "dovecot-imapd and dovecot-pop3d, e.g. with `make lab-servers` as root")
    if os.geteuid() != 0:
        return "the mail lab needs root (Postfix's master and Dovecot start as root and drop privileges)"
    for user in ("postfix", "dovecot", "dovenull", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            return f"system user {user!r} is missing (the postfix/dovecot packages create it)"
    return None


# -- helpers ---------------------------------------------------------------------------------


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text("utf-8", "replace")[-chars:]
    except OSError:
        return f"(no {path.name})"


def port_in_use(host: str, port: int) -> bool:
    """Something already accepts connections on ``host:port`` (a lab left behind, usually)."""
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _wait_listening(host: str, port: int, proc: subprocess.Popen[bytes], deadline: float,
                    log: Path, read_banner: bool) -> None:
    """Poll until ``host:port`` accepts (and, for plain ports, greets); fail fast if the server died."""
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5) as conn:
                if not read_banner:
                    return
                conn.settimeout(5)
                if conn.recv(512):
                    return
        except OSError:
            pass
        if proc.poll() is not None:
            raise MailLabError(f"server for {host}:{port} exited with rc={proc.returncode}\n{_tail(log)}")
        if time.perf_counter() > deadline:
            raise MailLabError(f"{host}:{port} did not answer within the start-up timeout\n{_tail(log)}")
        time.sleep(POLL_INTERVAL)


def _stop_process(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait for ``proc``; if it hangs, kill its whole process group (it is its own session)."""
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


# -- Postfix -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostfixSpec:
    """What one Postfix instance is and how it misbehaves.

    ``profile`` ``"secure"`` is a correctly run MX + submission server; ``"open"`` is the
    badsvc.test server: no TLS, AUTH offered in clear text, open relay.
    """

    name: str
    ip: str
    hostname: str
    domain: str
    cert: CertPair | None
    profile: str = "secure"
    legacy_tls: bool = False
    #: reject_sender_login_mismatch on submission; off on SOON so SUBMISSION-SENDER-SPOOFING can fail.
    sender_login_check: bool = True
    services: Sequence[str] = _ALL_SMTP
    mailboxes: Sequence[str] = ("postmaster",)

    @property
    def sasl_socket_needed(self) -> bool:
        """AUTH is offered on the submission ports, and on every port of the open server."""
        return self.profile == "open" or "submission" in self.services or "submissions" in self.services


#: Submission/smtps: only authenticated users relay, and only under their own address.
_SUBMISSION_OVERRIDES = """\
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_sender_restrictions=reject_sender_login_mismatch
"""

#: master.cf daemons (chroot n everywhere: Debian's master.cf chroots, which breaks here).
_MASTER_DAEMONS = """\
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
virtual unix - n n - - virtual
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


#: Postfix's queue layout (``/etc/postfix/postfix-files``): name, owner, group, mode.
_QUEUE_DIRS = (
    ("active", "postfix", None, 0o700), ("bounce", "postfix", None, 0o700), ("corrupt", "postfix", None, 0o700),
    ("defer", "postfix", None, 0o700), ("deferred", "postfix", None, 0o700), ("flush", "postfix", None, 0o700),
    ("hold", "postfix", None, 0o700), ("incoming", "postfix", None, 0o700), ("private", "postfix", None, 0o700),
    ("maildrop", "postfix", "postdrop", 0o730), ("public", "postfix", "postdrop", 0o710),
    ("pid", "root", None, 0o755), ("saved", "postfix", None, 0o700), ("trace", "postfix", None, 0o700),
)


def _make_queue_dirs(spool: Path) -> None:
    """Create the queue directory tree the way ``postfix check`` would, in milliseconds.

    Otherwise ``start-fg`` creates it (``post-install create-missing``, a shell loop over
    ``postfix-files``): measured with six instances on two cores, the lab then needs
    1.3 s instead of 0.95 s to start. Owners and modes as in ``/etc/postfix/postfix-files``.
    """
    spool.mkdir(mode=0o755)
    spool.chmod(0o755)
    for name, owner, group, mode in _QUEUE_DIRS:
        path = spool / name
        path.mkdir()
        shutil.chown(path, owner, group)
        path.chmod(mode)


class PostfixInstance:
    """One Postfix with its own ``config_directory``, run with ``postfix -c DIR start-fg``."""

    def __init__(self, spec: PostfixSpec, root: Path, vmail: Path, sasl_socket: Path | None) -> None:
        self.spec = spec
        self.root = root
        self.vmail = vmail
        self.sasl_socket = sasl_socket
        self.dir = root / f"postfix-{spec.name}"
        self.etc = self.dir / "etc"
        self.maillog = self.dir / "maillog"
        self.startup_seconds = 0.0
        self._proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None
        self._started = 0.0

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def main_cf(self) -> str:
        """main.cf; every path absolute (``$name`` in main.cf is a Postfix parameter reference)."""
        s, d = self.spec, self.dir
        maps = " ".join(f"{{{box}@{s.domain}={s.domain}/{box}/Maildir/}}" for box in s.mailboxes)
        lines = [
            "compatibility_level = 3.6",
            f"queue_directory = {d}/spool",
            f"data_directory = {d}/data",
            f"maillog_file_prefixes = {self.root}",
            f"maillog_file = {self.maillog}",
            f"syslog_name = postfix-{s.name}",
            f"myhostname = {s.hostname}",
            f"mydomain = {s.domain}",
            "myorigin = $mydomain",
            "smtpd_banner = $myhostname ESMTP LabMail",
            # Not {s.ip}: Postfix rejects an inet_interfaces address that no interface lists
            # ("no local interface found for 127.0.0.2"; lo only carries 127.0.0.1/8). The
            # master.cf entries bind the instance address explicitly, which Linux allows.
            "inet_interfaces = loopback-only",
            "inet_protocols = ipv4",
            "mydestination =",
            # Only the server itself: the audit connects from 127.0.0.1 and must be an outsider.
            # The open server instead trusts all of 127/8: a "mynetworks too broad" relay.
            f"mynetworks = {'127.0.0.0/8' if s.profile == 'open' else s.ip + '/32'}",
            "alias_maps =",
            "alias_database =",
            "smtputf8_enable = no",
            "biff = no",
            # No reverse lookup of the client through the system resolver (reference 5.4 #9).
            "smtpd_peername_lookup = no",
            f"virtual_mailbox_domains = {s.domain}",
            f"virtual_mailbox_base = {self.vmail}",
            f"virtual_mailbox_maps = inline:{{ {maps} }}",
            "virtual_uid_maps = static:65534",
            "virtual_gid_maps = static:65534",
        ]
        if s.sasl_socket_needed:
            lines += ["smtpd_sasl_type = dovecot", f"smtpd_sasl_path = {self.sasl_socket}"]
        if s.profile == "open":
            lines += [
                # Accepted relay mail is thrown away: error: would make RCPT answer 550 and
                # hide the open relay; nothing may ever leave the machine either way.
                "default_transport = discard:open relay lab, nothing leaves",
                # Postfix refuses a bare "permit" (smtpd fatal: "specify at least one working
                # instance of reject_unauth_destination ..."), so the relay is open the way
                # real ones usually are: the audit's 127.0.0.1 is inside mynetworks.
                "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
                "smtpd_tls_security_level = none",
                "smtpd_sasl_auth_enable = yes",
                "smtpd_tls_auth_only = no",
            ]
            return "\n".join(lines) + "\n"
        assert s.cert is not None
        lines += [
            "default_transport = error:outbound mail disabled in the lab",
            "smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination",
            f"smtpd_tls_cert_file = {s.cert.cert}",
            f"smtpd_tls_key_file = {s.cert.key}",
            "smtpd_tls_security_level = may",
            "smtpd_tls_auth_only = yes",
            "smtpd_tls_loglevel = 1",
            f"smtpd_sender_login_maps = inline:{{ {ACCOUNT}={ACCOUNT} }}",
        ]
        if s.legacy_tls:
            # OpenSSL 3 refuses TLS 1.0/1.1 at security level 1 and above (SHA-1/MD5
            # handshake signatures), whatever the protocol settings say; level 0 allows them.
            lines += [
                "smtpd_tls_protocols = >=TLSv1",
                "smtpd_tls_mandatory_protocols = >=TLSv1",
                "smtpd_tls_ciphers = medium",
                "smtpd_tls_mandatory_ciphers = medium",
                "tls_medium_cipherlist = DEFAULT:@SECLEVEL=0",
            ]
        else:
            lines += ["smtpd_tls_protocols = >=TLSv1.2", "smtpd_tls_mandatory_protocols = >=TLSv1.2"]
        return "\n".join(lines) + "\n"

    def master_cf(self) -> str:
        s = self.spec
        out = []
        for service in s.services:
            port = PORTS[service]
            out.append(f"{s.ip}:{port} inet n - n - - smtpd\n")
            if service == "smtp":
                continue
            out.append(f"  -o syslog_name=postfix-{s.name}/{service}\n")
            if s.profile == "open":
                continue  # inherits main.cf: no TLS, AUTH in clear, open relay
            if service == "submission":
                out.append("  -o smtpd_tls_security_level=encrypt\n")
            else:
                out.append("  -o smtpd_tls_wrappermode=yes\n  -o smtpd_tls_security_level=encrypt\n")
            overrides = _SUBMISSION_OVERRIDES
            if not s.sender_login_check:
                overrides = overrides.replace("  -o smtpd_sender_restrictions=reject_sender_login_mismatch\n", "")
            out.append(overrides)
        return "".join(out) + _MASTER_DAEMONS

    def prepare(self) -> None:
        """Create the directories (queue subdirectories included) and the configs."""
        self.dir.mkdir(parents=True)
        (self.dir / "data").mkdir()
        shutil.chown(self.dir / "data", "postfix")
        _make_queue_dirs(self.dir / "spool")
        self.etc.mkdir()
        backdated = time.time() - 60
        for name, text in (("main.cf", self.main_cf()), ("master.cf", self.master_cf())):
            path = self.etc / name
            path.write_text(text, "utf-8")
            # Postfix re-reads a config file every 0.3 s for as long as its mtime is the
            # current second (it might still be being written): strace showed ~2 s lost per
            # instance on fresh files. A backdated mtime lets every postfix command start now.
            os.utime(path, (backdated, backdated))

    def launch(self) -> None:
        """``start-fg`` in its own session (so a hung instance can be killed as a group).

        Postfix logs to stderr only on a TTY; its messages go to the maillog (main.cf).
        """
        self._started = time.perf_counter()
        self._out = open(self.dir / "start-fg.log", "wb")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen([find_tool("postfix") or "postfix", "-c", str(self.etc), "start-fg"],
                                      stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def wait_ready(self, deadline: float) -> None:
        assert self._proc is not None
        for i, service in enumerate(self.spec.services):
            # The first port (plain SMTP) must greet; the others only need to be listening.
            _wait_listening(self.spec.ip, PORTS[service], self._proc, deadline, self.maillog, read_banner=i == 0)
        self.startup_seconds = time.perf_counter() - self._started

    def stop(self) -> None:
        """``postfix -c DIR stop``, then wait for the start-fg wrapper (about 1.2 s).

        Killing the wrapper would orphan ``master`` (reference 5.4 #5), so the process
        group kill is only the last resort.
        """
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            subprocess.run([find_tool("postfix") or "postfix", "-c", str(self.etc), "stop"],
                           capture_output=True, check=False, timeout=STOP_TIMEOUT)
            _stop_process(proc, STOP_TIMEOUT)
            self._kill_master_leftover()
        if self._out is not None:
            self._out.close()
            self._out = None

    def _kill_master_leftover(self) -> None:
        """If master outlived its wrapper, end it by the PID it wrote itself."""
        pid_file = self.dir / "spool" / "pid" / "master.pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:
            if (Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]).endswith(b"master"):
                os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


# -- Dovecot -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DovecotSpec:
    """One Dovecot: ``cert=None`` is the BAD one (ssl = no, plaintext login allowed)."""

    name: str
    ip: str
    cert: CertPair | None

    @property
    def services(self) -> tuple[str, ...]:
        return _DOVECOT_SERVICES[self.name]


class DovecotInstance:
    """One ``dovecot -F -c CONF`` with its own instance_name, base_dir and state_dir."""

    def __init__(self, spec: DovecotSpec, root: Path, vmail: Path) -> None:
        self.spec = spec
        self.root = root
        self.vmail = vmail
        self.dir = root / f"dovecot-{spec.name}"
        self.conf = self.dir / "dovecot.conf"
        self.log = self.dir / "dovecot.log"
        #: Postfix's ``smtpd_sasl_path``; relative to base_dir in dovecot.conf (reference 6.1).
        self.auth_socket = self.dir / "run" / "auth-postfix"
        self.startup_seconds = 0.0
        self._proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None
        self._started = 0.0

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def config(self) -> str:
        s, d = self.spec, self.dir
        if s.cert:
            tls = (f"ssl = yes\nssl_cert = <{s.cert.cert}\nssl_key = <{s.cert.key}\n"
                   "ssl_min_protocol = TLSv1.2\ndisable_plaintext_auth = yes\n")
            imaps, pop3s = PORTS["imaps"], PORTS["pop3s"]
        else:
            tls = "ssl = no\ndisable_plaintext_auth = no\n"
            imaps = pop3s = 0  # port 0 disables the listener
        ssl_flag = "yes" if s.cert else "no"
        return f"""\
instance_name = auditapp-lab-{s.name}
base_dir = {d}/run
state_dir = {d}/state
protocols = imap pop3
listen = {s.ip}
log_path = {self.log}
{tls}auth_mechanisms = plain login
# Default 2 s per failed login (anti brute force); a test of a wrong password would
# wait that long for every mechanism smtplib tries.
auth_failure_delay = 0
mail_location = maildir:{self.vmail}/%d/%n/Maildir
login_greeting = LabMail IMAP/POP3 ready.
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={self.vmail}/%d/%n
}}
service imap-login {{
  inet_listener imap {{
    port = {PORTS["imap"]}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = {ssl_flag}
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {PORTS["pop3"]}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = {ssl_flag}
  }}
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}
# Every test connects from 127.0.0.1: after one wrong-password test, anvil's per-IP auth
# penalty (2, 4, 8, 15 s) would slow every later login. Documented way to switch it off.
# (Not login_trusted_networks: that would make 127.0.0.1 "secured" and hide LOGINDISABLED.)
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
        users.write_text(f"{ACCOUNT}:{{PLAIN}}{PASSWORD}\n", "utf-8")
        shutil.chown(users, "root", "dovecot")
        users.chmod(0o640)
        self.conf.write_text(self.config(), "utf-8")

    def launch(self) -> None:
        self._started = time.perf_counter()
        self._out = open(self.dir / "foreground.log", "wb")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen([find_tool("dovecot") or "dovecot", "-F", "-c", str(self.conf)],
                                      stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def wait_ready(self, deadline: float) -> None:
        assert self._proc is not None
        log = self.log if self.log.exists() else self.dir / "foreground.log"
        for i, service in enumerate(self.spec.services):
            _wait_listening(self.spec.ip, PORTS[service], self._proc, deadline, log, read_banner=i == 0)
        while not self.auth_socket.exists():
            if time.perf_counter() > deadline:
                raise MailLabError(f"no auth socket {self.auth_socket}\n{_tail(log)}")
            time.sleep(POLL_INTERVAL)
        self.startup_seconds = time.perf_counter() - self._started

    def stop(self) -> None:
        """SIGTERM to the master (it ends its children itself, about 2 s)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            _stop_process(proc, STOP_TIMEOUT)
        if self._out is not None:
            self._out.close()
            self._out = None


# -- the whole lab -----------------------------------------------------------------------------


def postfix_specs(certs: LabCerts) -> list[PostfixSpec]:
    """The six Postfix instances (module docstring)."""
    def spec(name: str, hostname: str, domain: str, cert: CertPair | None, **kw: Any) -> PostfixSpec:
        return PostfixSpec(name, ADDRESSES[f"smtp_{name}"], hostname, domain, cert,
                           services=_POSTFIX_SERVICES[name], **kw)

    return [
        spec("good", "mx.svc.test", "svc.test", certs.good, mailboxes=("postmaster", "alice")),
        spec("bad", "mx.badsvc.test", "badsvc.test", None, profile="open"),
        spec("certs", "mx.expired.test", "expired.test", certs.expired, legacy_tls=True),
        spec("wrongname", "mx.wrongname.test", "wrongname.test", certs.wrongname),
        spec("selfsigned", "mx.selfsigned.test", "selfsigned.test", certs.selfsigned),
        spec("soon", "mx.soon.test", "soon.test", certs.soon, sender_login_check=False),
    ]


def lab_listeners() -> list[tuple[str, str, int]]:
    """Every ``(instance, address, port)`` the lab listens on (no certificates needed)."""
    listeners = [(f"postfix-{name}", ADDRESSES[f"smtp_{name}"], PORTS[service])
                 for name, services in _POSTFIX_SERVICES.items() for service in services]
    listeners += [(f"dovecot-{name}", ADDRESSES[f"imap_{name}"], PORTS[service])
                  for name, services in _DOVECOT_SERVICES.items() for service in services]
    listeners.append(("mtasts", ADDRESSES["mtasts"], MTASTS_PORT))
    return listeners


def _check_ports_free(listeners: list[tuple[str, str, int]]) -> None:
    """Fail before starting anything when a fixed lab port is taken.

    The usual cause is a lab whose test process was killed (SIGKILL skips atexit): its
    servers still run from a /tmp/auditapp-lab-* root. The message says how to stop them.
    """
    taken = [f"{ip}:{port} ({name})" for name, ip, port in listeners if port_in_use(ip, port)]
    if taken:
        raise MailLabError(
            "mail lab ports already in use: " + ", ".join(taken) + "\n"
            "A lab from an earlier run still alive? Stop it with `postfix -c /tmp/auditapp-lab-*/postfix-NAME/etc "
            "stop` and by ending the dovecot whose -c points to /tmp/auditapp-lab-*/dovecot-NAME/dovecot.conf."
        )


@dataclass
class MailLab:
    """The running lab, as the ``mail_lab`` fixture hands it to tests.

    ``ports`` can be passed to the audit as its port overrides; ``addresses`` maps the
    instance names of the module docstring to their loopback addresses.
    """

    root: Path
    certs: LabCerts
    ports: dict[str, int] = field(default_factory=lambda: dict(PORTS))
    addresses: dict[str, str] = field(default_factory=lambda: dict(ADDRESSES))
    account: str = ACCOUNT
    password: str = PASSWORD
    mtasts_port: int = MTASTS_PORT
    startup_seconds: dict[str, float] = field(default_factory=dict)
    postfix: dict[str, PostfixInstance] = field(default_factory=dict)
    dovecot: dict[str, DovecotInstance] = field(default_factory=dict)
    mtasts: MtaStsServer | None = None

    @property
    def ca_file(self) -> Path:
        """The lab CA (``ca.pem``): the only trust anchor the audit needs for the lab."""
        return self.certs.ca

    def stop(self) -> None:
        """Stop every server in parallel (about 1.2 s for the whole lab); safe to call twice."""
        atexit.unregister(self.stop)
        servers: list[PostfixInstance | DovecotInstance] = [*self.postfix.values(), *self.dovecot.values()]
        errors: list[BaseException] = []
        with ThreadPoolExecutor(max_workers=max(1, len(servers))) as pool:
            for future in [pool.submit(s.stop) for s in servers]:
                exc = future.exception()
                if exc is not None:
                    errors.append(exc)
        if self.mtasts is not None:
            self.mtasts.stop()
        if errors:
            raise MailLabError(f"stopping the mail lab failed: {errors!r}")


def start_mail_lab(root: Path | None = None, *, timeout: float = START_TIMEOUT) -> MailLab:
    """Make the certificates, then start both Dovecots, six Postfixes and the MTA-STS server.

    Everything starts in parallel: each ``start-fg`` takes ~0.5 s to its first banner, so
    in sequence six instances would cost three seconds; in parallel the lab is up in ~1 s.
    On any failure whatever already runs is stopped before the error propagates; the lab
    root is left for inspection (the ``mail_lab`` fixture removes it).
    """
    reason = mail_servers_available()
    if reason:
        raise MailLabError(reason)
    _check_ports_free(lab_listeners())
    t0 = time.perf_counter()
    root = root if root is not None else make_lab_root()
    root.chmod(0o755)
    vmail = root / "vmail"
    vmail.mkdir()
    shutil.chown(vmail, "nobody", "nogroup")
    certs = make_lab_certs(root / "tls")
    lab = MailLab(root=root, certs=certs)
    lab.startup_seconds["certs"] = time.perf_counter() - t0
    atexit.register(lab.stop)
    try:
        good = DovecotInstance(DovecotSpec("good", ADDRESSES["imap_good"], certs.good), root, vmail)
        bad = DovecotInstance(DovecotSpec("bad", ADDRESSES["imap_bad"], None), root, vmail)
        lab.dovecot = {"good": good, "bad": bad}
        for dovecot in lab.dovecot.values():
            dovecot.prepare()
            dovecot.launch()
        for spec in postfix_specs(certs):
            socket_path = bad.auth_socket if spec.profile == "open" else good.auth_socket
            lab.postfix[spec.name] = PostfixInstance(spec, root, vmail, socket_path)
        for pf in lab.postfix.values():
            pf.prepare()
            pf.launch()
        lab.mtasts = MtaStsServer(certs.mtasts, ADDRESSES["mtasts"], MTASTS_PORT)
        lab.mtasts.start()
        deadline = time.perf_counter() + timeout
        for name, dovecot in lab.dovecot.items():
            dovecot.wait_ready(deadline)
            lab.startup_seconds[f"dovecot-{name}"] = dovecot.startup_seconds
        for name, pf in lab.postfix.items():
            pf.wait_ready(deadline)
            lab.startup_seconds[f"postfix-{name}"] = pf.startup_seconds
    except BaseException:
        lab.stop()
        raise
    lab.startup_seconds["total"] = time.perf_counter() - t0
    return lab
