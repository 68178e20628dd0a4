"""Facts about the mail services: which hosts, which ports answer, what each dialogue showed.

The unit of probing is an endpoint, one (address, port). Several host names may resolve to
the same address; the dialogue runs once per endpoint, with the TLS SNI of the name clients
are meant to use there, and the certificate is then judged against every name that points
at it. A dialogue that could not finish keeps ``problem`` (the reason) and its transcript, so
the check can say ``not_tested`` instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from auditapp.dnsclient import DnsAnswer

#: Service name per default port (RFC 6409, RFC 8314, RFC 3501, RFC 1939).
SERVICES = ("smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s")
IMPLICIT_TLS = frozenset({"submissions", "imaps", "pop3s"})
SMTP_SERVICES = frozenset({"smtp", "submission", "submissions"})
MAILBOX_SERVICES = frozenset({"imap", "imaps", "pop3", "pop3s"})
CLIENT_SERVICES = frozenset({"submission", "submissions"}) | MAILBOX_SERVICES


class Role(StrEnum):
    """Why a host is audited."""

    MX = "mx"
    SUBMISSION = "submission"
    MAILBOX = "mailbox"


class PortState(StrEnum):
    OPEN = "open"
    REFUSED = "refused"  # RST: nothing listens (closed)
    TIMEOUT = "timeout"  # no answer to SYN: filtered, or the host is down
    UNREACHABLE = "unreachable"  # no route, network down
    ERROR = "error"


@dataclass(frozen=True)
class HostOrigin:
    """A host name to audit, with the role it plays and where we learned it (shown as evidence)."""

    name: str
    role: Role
    source: str  # e.g. "MX 10", "--submission-host", "SRV _submission._tcp", "conventional name smtp."


@dataclass(frozen=True)
class DiscoveredHost:
    name: str
    roles: tuple[Role, ...]
    sources: tuple[str, ...]
    a: DnsAnswer | None = None
    aaaa: DnsAnswer | None = None
    #: The user entered this host (``--mx``, ``--submission-host``, a project's host list), so
    #: its addresses may be probed even when they are internal (collectors/netguard.py).
    typed: bool = False

    @property
    def addresses(self) -> tuple[str, ...]:
        return (self.a.records if self.a and self.a.ok else ()) + (
            self.aaaa.records if self.aaaa and self.aaaa.ok else ()
        )


@dataclass(frozen=True)
class Discovery:
    """All hosts of the domain's mail services, and the DNS answers behind the list."""

    domain: str
    hosts: tuple[DiscoveredHost, ...]
    mx: DnsAnswer | None = None
    srv: tuple[DnsAnswer, ...] = ()
    answers: tuple[DnsAnswer, ...] = ()
    #: Lookups that failed: the host list may be incomplete.
    failures: tuple[DnsAnswer, ...] = ()
    #: Other evidence lines (autoconfig document fetched, Autodiscover name present, ...).
    notes: tuple[str, ...] = ()

    def hosts_with(self, role: Role) -> tuple[DiscoveredHost, ...]:
        return tuple(h for h in self.hosts if role in h.roles)

    def names_for(self, address: str) -> tuple[str, ...]:
        return tuple(h.name for h in self.hosts if address in h.addresses)


@dataclass(frozen=True)
class CertInfo:
    """The leaf certificate as the server presented it."""

    subject: str
    issuer: str
    san_dns: tuple[str, ...]
    san_ip: tuple[str, ...]
    not_before: str  # ISO 8601, UTC
    not_after: str  # ISO 8601, UTC
    fingerprint_sha256: str
    self_signed: bool
    chain_length: int = 1
    #: SHA-256/SHA-512 of the leaf's SubjectPublicKeyInfo and of the whole certificate (DER), lower-case
    #: hex: what TLSA records with selector 1/0 and matching type 1/2 publish (RFC 6698 §2.1). "" if unknown.
    spki_sha256: str = ""
    spki_sha512: str = ""
    cert_sha256: str = ""
    cert_sha512: str = ""
    #: The leaf as DER (for TLSA matching type 0, full data); empty if unknown.
    der: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class TlsInfo:
    """One TLS handshake (STARTTLS or implicit) and what it showed."""

    ok: bool
    error: str = ""  # handshake failure reason when not ok
    #: The handshake did not finish in time: a stalling server, not a broken TLS setup.
    timed_out: bool = False
    version: str = ""  # e.g. "TLSv1.3"
    cipher: str = ""
    sni: str = ""
    cert: CertInfo | None = None
    #: Chain validation against the system trust store plus --ca-file; None if not attempted.
    chain_valid: bool | None = None
    chain_error: str = ""
    #: Legacy protocol versions the server accepted in separate handshakes ("TLSv1", "TLSv1.1").
    legacy_accepted: tuple[str, ...] = ()
    #: False when the legacy probe could not be run (e.g. the local OpenSSL cannot speak TLS 1.0).
    legacy_tested: bool = False
    legacy_problem: str = ""


@dataclass(frozen=True)
class RelayProbe:
    """MAIL FROM / RCPT TO for an outside domain, then RSET. Never DATA."""

    mail_from: str
    rcpt_to: str
    accepted: bool | None  # None: could not be determined (see problem)
    reply: str = ""
    problem: str = ""


@dataclass(frozen=True)
class AuthProbe:
    """A login with the test account, and whether a foreign MAIL FROM is refused afterwards."""

    username: str
    login_ok: bool | None
    login_reply: str = ""
    foreign_sender: str = ""
    foreign_sender_accepted: bool | None = None
    foreign_reply: str = ""
    problem: str = ""


@dataclass(frozen=True)
class EndpointProbe:
    """What one (address, port) showed."""

    address: str
    port: int
    service: str
    state: PortState
    state_detail: str = ""
    connect_ms: float | None = None
    greeting: str = ""  # first line of the greeting ("" if none came)
    #: From the start of the connect to the complete greeting (the TCP handshake included).
    greeting_ms: float | None = None
    #: EHLO keywords / IMAP CAPABILITY / POP3 CAPA before TLS (upper-case); empty for implicit TLS.
    caps_plain: tuple[str, ...] = ()
    #: The same after STARTTLS, or on an implicit-TLS port.
    caps_tls: tuple[str, ...] = ()
    starttls_offered: bool | None = None
    tls: TlsInfo | None = None
    relay: RelayProbe | None = None
    auth: AuthProbe | None = None
    #: Why the dialogue could not be completed (tarpit, reset, garbage...); "" when it did.
    problem: str = ""
    transcript: tuple[str, ...] = ()

    @property
    def endpoint(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class MtaStsPolicy:
    """The HTTPS part of MTA-STS (RFC 8461 §3.2)."""

    url: str
    fetched: bool
    problem: str = ""  # why it could not be fetched or parsed
    status: int | None = None
    text: str = ""
    version: str = ""
    mode: str = ""
    mx_patterns: tuple[str, ...] = ()
    max_age: int | None = None
    tls: TlsInfo | None = None
    errors: tuple[str, ...] = field(default_factory=tuple)
    #: The address lookup of mta-sts.DOMAIN failed: nothing is known about the policy.
    dns_failure: DnsAnswer | None = None
    #: A problem on the auditor's side (trust anchors unreadable, connection not allowed).
    local_error: str = ""
    #: Every address accepted nothing or never answered within the timeout: a silent server
    #: says nothing about the policy, so the check reports "not tested" (a timeout is no verdict).
    silent: bool = False
