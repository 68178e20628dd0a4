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


# -- several IPv6 hosts: a network namespace of the test's own ---------------------------------
#
# /work/shared/reference/lab-servers.md (added 2026-12-06): as root, ``ip netns add`` gives a
# private network stack. Its only interface is its own ``lo``; the IPv6 hosts are ULA addresses
# on that ``lo`` (fd00:16::/64), and one address is routed "unreachable". The audit, its DNS
# responder and its SMTP listeners all run inside the namespace (``ip netns exec``), so no
# packet can reach the host's interfaces, let alone leave the machine.

NETNS_HOSTS = {"up": "fd00:16::10", "closed": "fd00:16::20", "unroutable": "fd00:16::30"}


def netns_usable() -> str | None:
    """``None`` when this process may create network namespaces, otherwise why not."""
    import os
    import shutil as _shutil

    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    if _shutil.which("ip") is None and not Path("/usr/sbin/ip").exists():
        return "iproute2 (ip) is not installed"
    return None


def _ip() -> str:
    import shutil as _shutil

    return _shutil.which("ip") or "/usr/sbin/ip"


def create_netns(name: str) -> None:
    """The namespace with lo up, the ULA host addresses on it, and one address without a route."""
    import subprocess

    cmds = [
        ["netns", "add", name],
        ["-n", name, "link", "set", "lo", "up"],
        ["-n", name, "-6", "addr", "add", f"{NETNS_HOSTS['up']}/128", "dev", "lo"],
        ["-n", name, "-6", "addr", "add", f"{NETNS_HOSTS['closed']}/128", "dev", "lo"],
        ["-n", name, "-6", "route", "add", "unreachable", f"{NETNS_HOSTS['unroutable']}/128"],
    ]
    for cmd in cmds:
        done = subprocess.run([_ip(), *cmd], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            delete_netns(name)
            raise RuntimeError(f"ip {' '.join(cmd)}: {done.stderr.strip()}")


def delete_netns(name: str) -> None:
    import subprocess

    subprocess.run([_ip(), "netns", "del", name], capture_output=True, check=False)


def run_in_netns(name: str, timeout: float = 90.0) -> list[dict[str, str]]:
    """Run :func:`_netns_audit` inside the namespace; its findings as plain dicts."""
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "AUDITAPP_LOOPBACK_ONLY"}
    repo = Path(__file__).resolve().parents[2]  # this checkout's auditapp, and the tests' lab package
    env["PYTHONPATH"] = os.pathsep.join([str(repo), str(repo / "tests")])
    done = subprocess.run([_ip(), "netns", "exec", name, sys.executable, __file__, "netns-audit"],
                          capture_output=True, text=True, env=env, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"audit in {name} failed (rc={done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _netns_audit() -> None:
    """Inside the namespace: DNS responder, SMTP listeners, one audit; prints its findings as JSON."""
    import asyncio
    import json

    # Refuse to run anywhere but in a namespace whose only interface is lo: nothing can leave it.
    names = [n for _, n in socket.if_nameindex()]
    if names != ["lo"]:
        raise SystemExit(f"not inside a lo-only network namespace (interfaces: {names})")
    from auditapp.audit.engine import EngineConfig, audit
    from auditapp.core.target import AuditTarget
    from auditapp.dnsclient import DnsClient, Nameserver
    from auditapp.lab.dnsserver import LabDnsServer, RecordSet
    from auditapp.lab.mailresponder import Behaviour, MailResponder

    rs = RecordSet()
    rs.add("test", "SOA", "ns. h. 1 2 3 4 5")
    for i, (_, v6) in enumerate(sorted(NETNS_HOSTS.items()), start=1):
        rs.add("netns.test", "MX", f"{10 * i} mx{i}.netns.test.")
        rs.add(f"mx{i}.netns.test", "A", "127.0.0.1")
        rs.add(f"mx{i}.netns.test", "AAAA", v6)
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.bind((NETNS_HOSTS["up"], 0))
        port = int(s.getsockname()[1])
    with LabDnsServer(rs) as dns_server, \
            MailResponder(Behaviour.SMTP, host="127.0.0.1", port=port, hostname="mx.netns.test"), \
            MailResponder(Behaviour.SMTP, host=NETNS_HOSTS["up"], port=port, hostname="mx.netns.test"):
        target = AuditTarget(domain="netns.test", dkim_selectors=(), dnsbl_zones=(), ports={"smtp": port},
                             allow_internal=True)
        client = DnsClient([Nameserver(dns_server.host, dns_server.port)], timeout=3.0)
        run = asyncio.run(audit(target, client, EngineConfig(timeout=3.0, smtp_probe=False)))
    print(json.dumps([{"rule": f.rule, "subject": f.subject, "status": f.status.value, "outcome": f.outcome,
                       "severity": f.severity.value} for f in run.findings]))


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["netns-audit"]:
        _netns_audit()
