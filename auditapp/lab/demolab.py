"""The running demo lab: the demo client's DNS and mail services on loopback, once per process.

A demo project is only worth opening if everything it shows is real: the DNS answers come
from :class:`~auditapp.lab.dnsserver.LabDnsServer` with :data:`~auditapp.lab.demo.DEMO_ZONES`,
and the mail services are :class:`~auditapp.lab.mailresponder.MailResponder` instances on
127.0.0.1 with the demo certificates (:mod:`auditapp.lab.democerts`). Nothing needs root (all
ports are free high ports), the network or an installed server.

Every port shows at most one typical defect, so the demo report has a realistic mix of passes
and findings, each of them something the responder really does (the probe is not told):

============  =========================================================================
smtp          STARTTLS, good certificate, relay refused; still accepts TLS 1.0/1.1
submission    STARTTLS and AUTH, but advertises AUTH PLAIN LOGIN before STARTTLS too
submissions   implicit TLS, good certificate
imap          STARTTLS, LOGINDISABLED before TLS (correct)
imaps         implicit TLS with the certificate of the internal name server.firma.local
pop3          closed (POP3 switched off in clear text: correct)
pop3s         implicit TLS, correct names, but the certificate expires in a few days
============  =========================================================================

The lab's ports change with every start, so they are never stored as the truth: the prepare
step asks :func:`demo_lab_endpoints` (registered by the front end with
:func:`auditapp.audit.prepare.use_demo_lab`) for the running lab's.
"""

from __future__ import annotations

import atexit
import socket
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from auditapp.audit.prepare import LabEndpoints
from auditapp.lab.background import free_port
from auditapp.lab.demo import DEMO_DOMAIN, DEMO_SERVICE_ADDRESS, DEMO_SERVICE_NAMES, DEMO_ZONES
from auditapp.lab.democerts import DemoCerts, make_demo_certs
from auditapp.lab.dnsserver import LabDnsServer, RecordSet
from auditapp.lab.mailresponder import Behaviour, MailResponder

#: Per service: the responder's behaviour, which demo certificate it presents, and its options.
SERVICE_PLAN: dict[str, tuple[Behaviour, str, dict[str, Any]]] = {
    "smtp": (Behaviour.SMTP, "good", {"hostname": f"mx.{DEMO_DOMAIN}", "legacy_tls": True}),
    "submission": (Behaviour.SMTP, "good", {"hostname": f"smtp.{DEMO_DOMAIN}", "auth_in_clear": True}),
    "submissions": (Behaviour.SMTP, "good", {"hostname": f"smtp.{DEMO_DOMAIN}", "implicit_tls": True}),
    "imap": (Behaviour.IMAP, "good", {}),
    "imaps": (Behaviour.IMAP, "internal", {"implicit_tls": True}),
    "pop3s": (Behaviour.POP3, "expiring", {"implicit_tls": True}),
}
#: Services whose port is held but never listens: a refused connection, i.e. a closed port.
CLOSED_SERVICES = ("pop3",)
#: The ports the lab asks for first, the standard port's digits behind "24" (below every
#: system's ephemeral range, so an outgoing connection rarely holds one). Stable ports keep the
#: findings' subjects (``127.0.0.1:24993``) the same from session to session, so History
#: compares a demo run with the one before and an accepted risk still covers its finding.
#: A port another program holds (a second window running the demo) falls back to a free one.
PREFERRED_PORTS = {"smtp": 24025, "submission": 24587, "submissions": 24465, "imap": 24143, "imaps": 24993,
                   "pop3": 24110, "pop3s": 24995}


@dataclass
class DemoLab:
    """The demo's DNS server and mail responders, started and stopped together."""

    host: str = DEMO_SERVICE_ADDRESS
    dns: LabDnsServer | None = None
    responders: dict[str, MailResponder] = field(default_factory=dict)
    certs: DemoCerts | None = None
    #: Sockets bound but never listening: the closed ports stay ours, so nothing else takes them.
    _held: dict[str, socket.socket] = field(default_factory=dict)
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    def start(self) -> Self:
        """Start everything (a few tens of milliseconds); on any failure stop what started and re-raise."""
        try:
            self._tmp = tempfile.TemporaryDirectory(prefix="auditapp-demo-lab-")
            self.certs = make_demo_certs(Path(self._tmp.name), DEMO_SERVICE_NAMES)
            self.dns = LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES)).start()
            for service, (behaviour, cert, options) in SERVICE_PLAN.items():
                files = getattr(self.certs, cert)
                self.responders[service] = self._responder(service, behaviour, (files.cert, files.key), options)
            for service in CLOSED_SERVICES:
                self._held[service] = self._hold(service)
        except BaseException:
            self.stop()
            raise
        return self

    def _responder(self, service: str, behaviour: Behaviour, tls_files: tuple[Path, Path],
                   options: dict[str, Any]) -> MailResponder:
        """The responder for ``service`` on its preferred port, or on a free one if that is taken."""
        for port in (PREFERRED_PORTS[service], 0):
            responder = MailResponder(behaviour, host=self.host, port=port, tls_files=tls_files, **options)
            try:
                return responder.start()
            except RuntimeError:  # the preferred port is in use
                if port == 0:
                    raise
        raise AssertionError("unreachable")

    def _hold(self, service: str) -> socket.socket:
        """A bound, never listening socket on the preferred (else a free) port: connections are refused."""
        held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            held.bind((self.host, PREFERRED_PORTS[service]))
        except OSError:
            held.bind((self.host, free_port(self.host)))
        return held

    def stop(self) -> None:
        for responder in self.responders.values():
            responder.stop()
        self.responders.clear()
        for held in self._held.values():
            held.close()
        self._held.clear()
        if self.dns is not None:
            self.dns.stop()
            self.dns = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def ports(self) -> dict[str, int]:
        """Service -> port, as a project's port overrides say it."""
        ports = {service: r.port for service, r in self.responders.items()}
        ports.update({service: held.getsockname()[1] for service, held in self._held.items()})
        return ports

    @property
    def endpoints(self) -> LabEndpoints:
        """What a demo project's resolver, ports and CA file become while this lab runs."""
        assert self.dns is not None and self.certs is not None, "the demo lab is not running"
        return LabEndpoints(nameservers=(self.dns.address,), ports=self.ports, ca_file=str(self.certs.ca))


_lock = threading.Lock()
_running: list[DemoLab] = []


def running_demo_lab() -> DemoLab:
    """The demo lab of this process, started on first use and stopped when the process ends."""
    with _lock:
        if not _running:
            lab = DemoLab().start()
            atexit.register(lab.stop)
            _running.append(lab)
        return _running[0]


def demo_lab_endpoints() -> LabEndpoints:
    """The running lab's endpoints (starting it if needed): what :func:`use_demo_lab` is handed."""
    return running_demo_lab().endpoints


def stop_demo_lab() -> None:
    """Stop this process's lab; the next :func:`running_demo_lab` starts a new one on new ports.

    What a restart of the program does to a saved demo project, without the restart (tests).
    """
    with _lock:
        while _running:
            _running.pop().stop()
