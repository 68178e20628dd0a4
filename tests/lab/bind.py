"""A real BIND 9 on loopback for the test suite.

Why a real ``named`` next to :mod:`auditapp.lab.dnsserver`: the lab responder is ours, so
a test against it can only confirm what we already believe about DNS. BIND answers the way
the Internet does (authority and additional sections, EDNS, truncation and TCP, RFC 2308
negative answers), so the audit checks are also tested against behaviour we did not write.

Layout and start-up follow ``/work/shared/reference/lab-servers.md`` (section 4 and
appendix A): everything lives in one directory, ``named -g`` runs in the foreground as a
child of the test process, and it is stopped by PID.
"""

from __future__ import annotations

import atexit
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

#: Where BIND lives on Debian; ``/usr/sbin`` is often missing from a normal user's PATH.
_SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")

#: The tools the harness needs: the server and the two checkers it runs before starting it.
_TOOLS = ("named", "named-checkconf", "named-checkzone")

#: Relaxed data checks, in named.conf and as named-checkzone flags. Scenario zones contain
#: the mistakes the audit must find (an MX pointing to a CNAME or an IP address, a host
#: name with an underscore, an NS without address records); with BIND's defaults some of
#: those refuse to load. Syntax errors are still fatal either way.
_LENIENT_OPTIONS = """\
    check-names primary ignore;
    check-integrity no;
    check-mx ignore;
    check-mx-cname ignore;
    check-srv-cname ignore;
    check-wildcard no;
"""
_LENIENT_CHECKZONE = ["-k", "ignore", "-i", "none", "-m", "ignore", "-M", "ignore", "-S", "ignore",
                      "-W", "ignore", "-n", "ignore"]

#: What named 9.18 logs before exiting when its port is taken (it never says "in use").
_PORT_TAKEN_SIGNS = ("unable to listen on any configured interfaces", "address in use")

#: How often and how long to wait for the first authoritative answers.
POLL_INTERVAL = 0.02
START_TIMEOUT = 15.0


class BindError(RuntimeError):
    """named could not be configured or started; the message says why (checker output, log)."""


def find_tool(name: str) -> str | None:
    """Full path of a BIND tool, looking in the sbin directories that PATH may lack."""
    found = shutil.which(name)
    if found:
        return found
    for d in _SBIN_DIRS:
        candidate = Path(d) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def named_available() -> str | None:
    """``None`` when BIND 9 can run here, otherwise the reason (shown as the skip reason)."""
    missing = [tool for tool in _TOOLS if find_tool(tool) is None]
    if not missing:
        return None
    return (
        f"BIND 9 is not installed ({', '.join(missing)} not found); "
        "install bind9 and bind9-dnsutils, e.g. with `make lab-servers` as root"
    )


def make_lab_root() -> Path:
    """A fresh scratch directory that other users can traverse.

    Not pytest's ``tmp_path``: its base directory is mode 0700, and the servers that share
    the lab root (Postfix, Dovecot, the delivery agents) run as other users.
    """
    root = Path(tempfile.mkdtemp(prefix="auditapp-lab-", dir="/tmp"))
    root.chmod(0o755)
    return root


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free for both UDP and TCP on ``host`` (named listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
                return port
    raise BindError(f"no port free for both UDP and TCP on {host}")


def discover_zones(zone_dir: Path) -> list[tuple[str, Path]]:
    """Every ``*.zone`` file in ``zone_dir``; the origin is the file name without ``.zone``.

    Sorted, so the zone that start-up polls first is the same on every run.
    """
    zones = [(path.name[: -len(".zone")], path) for path in sorted(zone_dir.glob("*.zone"))]
    if not zones:
        raise BindError(f"no *.zone files in {zone_dir}")
    return zones


class BindServer:
    """One ``named`` process serving primary zones on ``host:port``, UDP and TCP.

    ``workdir`` holds named.conf, copies of the zone files, the pid file, the session key
    and ``named.log``; it is created if needed and never deleted here (the caller owns it,
    so a failed run can still be inspected).
    """

    def __init__(self, workdir: Path | None = None, *, lenient: bool = True) -> None:
        self.workdir = workdir if workdir is not None else make_lab_root() / "dns"
        self.lenient = lenient
        self.host = "127.0.0.1"
        self.port = 0
        self.zones: list[tuple[str, Path]] = []
        self.conf_path = self.workdir / "named.conf"
        self.log_path = self.workdir / "named.log"
        self.startup_seconds = 0.0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    # -- public API --------------------------------------------------------------------

    @property
    def address(self) -> str:
        """``host:port``, the form ``auditapp --nameserver`` and ``parse_nameserver`` take."""
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(
        self,
        zones: Sequence[tuple[str, Path]] | Path,
        host: str = "127.0.0.1",
        port: int | None = None,
        *,
        timeout: float = START_TIMEOUT,
    ) -> BindServer:
        """Write the config, check it, start named and wait until every zone answers.

        ``zones`` is a list of ``(origin, zone file)`` pairs or a directory of ``*.zone``
        files. Without ``port`` a free one is picked, and picked again if another process
        takes it between the check and named's bind.
        """
        if self._proc is not None:
            raise BindError("this BindServer is already started")
        if not isinstance(ipaddress.ip_address(host), ipaddress.IPv4Address):
            raise ValueError(f"BindServer listens on IPv4 only, got {host!r}")
        reason = named_available()
        if reason:
            raise BindError(reason)
        pairs = discover_zones(zones) if isinstance(zones, Path) else list(zones)
        if not pairs:
            raise BindError("no zones to serve")
        self.host = host
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.zones = self._install_zones(pairs)
        attempts = 1 if port is not None else 3
        for attempt in range(attempts):
            self.port = port if port is not None else free_port(host)
            self._write_conf()
            if attempt == 0:
                self._check()
            try:
                self._launch(timeout)
                return self
            except _PortTakenError:
                self.stop()
                if attempt == attempts - 1:
                    raise BindError(
                        f"named could not listen on {self.address} (port in use?)\n{self.log_tail()}"
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (named exits in about 10 ms), SIGKILL if it does not; safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None:
            atexit.unregister(self.stop)
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, chars: int = 3000) -> str:
        """The end of named's log, for error messages."""
        try:
            return self.log_path.read_text("utf-8", "replace")[-chars:]
        except OSError:
            return "(no named.log)"

    def __enter__(self) -> BindServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<BindServer {self.address} {state} zones={[o for o, _ in self.zones]}>"

    # -- internals ---------------------------------------------------------------------

    def _install_zones(self, pairs: Sequence[tuple[str, Path]]) -> list[tuple[str, Path]]:
        """Copy the zone files into workdir: the lab is self-contained and the repo untouched."""
        installed = []
        for origin, source in pairs:
            origin = origin.rstrip(".") or "."
            target = self.workdir / f"{origin.strip('.') or 'root'}.zone"
            if Path(source).resolve() != target.resolve():
                shutil.copyfile(source, target)
            installed.append((origin, target))
        return installed

    def _write_conf(self) -> None:
        d = self.workdir
        zones = "".join(
            f'zone "{origin}" {{ type primary; file "{path}"; }};\n' for origin, path in self.zones
        )
        self.conf_path.write_text(
            f"""\
options {{
    directory "{d}";
    listen-on port {self.port} {{ {self.host}; }};
    listen-on-v6 {{ none; }};
    pid-file "{d}/named.pid";
    session-keyfile "{d}/session.key";
    recursion no;
    allow-query {{ any; }};
    dnssec-validation no;
    notify no;
    // Full authority and additional sections: the client must cope with the noisiest
    // legal answer, not only with the minimal one a resolver would pass on.
    minimal-responses no;
{_LENIENT_OPTIONS if self.lenient else ""}}};
// No rndc: the harness stops named by PID.
controls {{ }};
{zones}""",
            "utf-8",
        )

    def _check(self) -> None:
        """named-checkconf and named-checkzone first: their messages name the line at fault."""
        _run_checker([find_tool("named-checkconf") or "named-checkconf", str(self.conf_path)])
        flags = _LENIENT_CHECKZONE if self.lenient else []
        for origin, path in self.zones:
            _run_checker([find_tool("named-checkzone") or "named-checkzone", *flags, origin, str(path)])

    def _launch(self, timeout: float) -> None:
        self.log_path.unlink(missing_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        started = time.perf_counter()
        self._proc = subprocess.Popen(
            [find_tool("named") or "named", "-g", "-c", str(self.conf_path)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        # If the test run dies without reaching stop(), do not leave named behind.
        atexit.register(self.stop)
        try:
            self._wait_ready(started + timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - started

    def _wait_ready(self, deadline: float) -> None:
        """Poll every zone's SOA until each answer is authoritative (named loads zones async)."""
        pending = [origin for origin, _ in self.zones]
        while pending:
            origin = pending[0]
            if self._answers_soa(origin):
                pending.pop(0)
                continue
            assert self._proc is not None
            if self._proc.poll() is not None:
                if any(sign in self.log_tail(20000) for sign in _PORT_TAKEN_SIGNS):
                    raise _PortTakenError
                raise BindError(f"named exited with rc={self._proc.returncode}\n{self.log_tail()}")
            if time.perf_counter() > deadline:
                raise BindError(
                    f"named on {self.address} gave no authoritative SOA for {origin!r} "
                    f"within the start-up timeout\n{self.log_tail()}"
                )
            time.sleep(POLL_INTERVAL)

    def _answers_soa(self, origin: str) -> bool:
        query = dns.message.make_query(origin, dns.rdatatype.SOA)
        try:
            resp = dns.query.udp(query, self.host, timeout=0.1, port=self.port)
        except (dns.exception.DNSException, OSError):
            return False
        return (
            resp.rcode() == dns.rcode.NOERROR
            and bool(resp.flags & dns.flags.AA)
            and any(rrset.rdtype == dns.rdatatype.SOA for rrset in resp.answer)
        )


class _PortTakenError(Exception):
    """named could not bind its port: someone took it after free_port() looked."""


def _run_checker(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise BindError(f"{Path(argv[0]).name} failed (rc={result.returncode}):\n{output}")
