"""A real Postfix that answers port 25 over IPv4 and over IPv6 on ``::1`` (issue 16).

The IPv6 reachability rules need an MX whose AAAA address answers and one whose AAAA address
does not while its A address does. The audit probes one port number per service on every
address, so one Postfix serves both with two port numbers:

- ``both_port``: listens on ``127.0.0.21`` and on ``[::1]`` (IPv6 works);
- ``v4_port``: listens on ``127.0.0.21`` only, so ``[::1]:v4_port`` refuses (RST): the AAAA
  exists, port 25 does not answer over IPv6, IPv4 does.

The zones ``ipv6mx.test`` (A 127.0.0.21, AAAA ::1) and ``ipv4mx.test`` (A only) are in
tests/lab/zones/. Everything is loopback: no packet leaves the machine.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path

from lab.mailservers import _MASTER_DAEMONS, PostfixInstance, PostfixSpec, _wait_listening

V4 = "127.0.0.21"
V6 = "::1"


def ipv6_loopback_usable() -> str | None:
    """``None`` when ``::1`` can be bound here, otherwise why not (the skip reason)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind((V6, 0))
    except OSError as exc:
        return f"IPv6 loopback (::1) is not usable here: {exc}"
    return None


def free_dual_port() -> int:
    """A TCP port free on both 127.0.0.21 and ::1."""
    for _ in range(100):
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
            s6.bind((V6, 0))
            port = int(s6.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s4:
                try:
                    s4.bind((V4, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no TCP port free on both 127.0.0.21 and ::1")


class DualStackPostfix(PostfixInstance):
    """A minimal MX (no TLS, no SASL, no relay): only port 25's reachability matters here."""

    def __init__(self, root: Path, both_port: int, v4_port: int) -> None:
        spec = PostfixSpec(name="ipv6", ip=V4, hostname="mx.ipv6mx.test", domain="ipv6mx.test", cert=None,
                           services=("smtp",))
        super().__init__(spec, root, root / "vmail", None)
        self.both_port = both_port
        self.v4_port = v4_port

    def main_cf(self) -> str:
        d = self.dir
        return "\n".join([
            "compatibility_level = 3.6",
            f"queue_directory = {d}/spool",
            f"data_directory = {d}/data",
            f"maillog_file_prefixes = {self.root}",
            f"maillog_file = {self.maillog}",
            "syslog_name = postfix-ipv6",
            "myhostname = mx.ipv6mx.test",
            "mydomain = ipv6mx.test",
            "smtpd_banner = $myhostname ESMTP LabMail",
            # IPv6 on: the master.cf entries bind 127.0.0.21 and [::1] explicitly.
            "inet_interfaces = loopback-only",
            "inet_protocols = all",
            "mydestination =",
            "mynetworks = 127.0.0.21/32",
            "alias_maps =",
            "alias_database =",
            "smtputf8_enable = no",
            "biff = no",
            "smtpd_peername_lookup = no",
            "default_transport = error:outbound mail disabled in the lab",
            "smtpd_relay_restrictions = reject_unauth_destination",
        ]) + "\n"

    def master_cf(self) -> str:
        return "".join([
            f"{V4}:{self.both_port} inet n - n - - smtpd\n",
            f"[{V6}]:{self.both_port} inet n - n - - smtpd\n",
            f"{V4}:{self.v4_port} inet n - n - - smtpd\n",
        ]) + _MASTER_DAEMONS

    def wait_ready(self, deadline: float) -> None:
        assert self._proc is not None
        for host, port in ((V4, self.both_port), (V6, self.both_port), (V4, self.v4_port)):
            _wait_listening(host, port, self._proc, deadline, self.maillog, read_banner=True)


@dataclass
class Ipv6Lab:
    postfix: DualStackPostfix

    @property
    def both_port(self) -> int:
        return self.postfix.both_port

    @property
    def v4_port(self) -> int:
        return self.postfix.v4_port

    def stop(self) -> None:
        self.postfix.stop()


def start_ipv6_lab(root: Path, timeout: float = 20.0) -> Ipv6Lab:
    (root / "vmail").mkdir(exist_ok=True)
    both = free_dual_port()
    v4 = free_dual_port()
    while v4 == both:
        v4 = free_dual_port()
    pf = DualStackPostfix(root, both, v4)
    pf.prepare()
    pf.launch()
    try:
        pf.wait_ready(time.perf_counter() + timeout)
    except Exception:
        pf.stop()
        raise
    return Ipv6Lab(pf)
