"""What one audit looks at: the domain, its sending servers and the knobs of the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Default blocklists. Spamhaus refuses queries from public resolvers; that answer is a
#: ``not_tested`` result, never a listing.
DEFAULT_DNSBL_ZONES = ("zen.spamhaus.org", "bl.spamcop.net")

DEFAULT_PORTS = {
    "smtp": 25, "submission": 587, "submissions": 465, "imap": 143, "imaps": 993, "pop3": 110, "pop3s": 995,
    "https": 443,
}

#: TLS-CERT-EXPIRING warns below this many days (issue #3: configurable, default 21).
DEFAULT_CERT_WARN_DAYS = 21


@dataclass(frozen=True)
class LearnedValue:
    """A target value learned from a received message, and where: issue 15's "learned from message <id>, hop 2".

    ``field`` is the target field it went into (``server_ips``, ``helo``, ``dkim_selectors``);
    ``hop`` the 1-based ``Received:`` hop it was read from (None for a DKIM signature); ``ip`` for
    a HELO name, the sending address that announced it (a HELO belongs to one server, not to all).
    """

    field: str
    value: str
    message: str
    hop: int | None = None
    ip: str | None = None
    #: Where it was learned (issue 16): ``message``; ``postfix`` (``message`` then cites the setting,
    #: e.g. ``smtp_bind_address6 = ...``); ``spf`` (an SPF term, a candidate that is not audited).
    source: str = "message"

    def to_json(self) -> dict[str, object]:
        return {"field": self.field, "value": self.value, "message": self.message, "hop": self.hop,
                **({"ip": self.ip} if self.ip else {}),
                **({"source": self.source} if self.source != "message" else {})}


@dataclass(frozen=True)
class AuditTarget:
    """Validated input of one audit; domains are A-labels, IPs canonical text."""

    domain: str
    server_ips: tuple[str, ...] = ()
    helo: str | None = None
    helo_source: str = "cli"
    mx_hosts: tuple[str, ...] = ()
    dkim_selectors: tuple[str, ...] = ()
    dnsbl_zones: tuple[str, ...] = DEFAULT_DNSBL_ZONES
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    submission_hosts: tuple[str, ...] = ()
    mailbox_hosts: tuple[str, ...] = ()
    #: The open-relay test on port 25 sends traffic that looks like abuse: only on request.
    relay_test: bool = False
    #: User name of the test account; its password lives in the keyring, never here.
    account: str | None = None
    #: Hosts outside the audited domain the user confirmed for the test account's login (typed on
    #: the command line or confirmed in the desktop application, never taken from a project file).
    trusted_hosts: tuple[str, ...] = ()
    #: An internal audit: private, loopback and link-local addresses found in DNS are probed too
    #: (otherwise only those of hosts and addresses the user typed; see collectors/netguard.py).
    allow_internal: bool = False
    ca_file: str | None = None
    #: DNSSEC trust anchor file (DS/DNSKEY records; --trust-anchor); None: the built-in IANA root anchors.
    trust_anchor: str | None = None
    #: Validated ROA payloads a relying-party validator exported (--rpki-vrps; auditapp/rpki.py);
    #: None: the RPKI rules are not tested.
    rpki_vrps: str | None = None
    cert_warn_days: int = DEFAULT_CERT_WARN_DAYS
    #: Mail services are probed unless switched off (batch runs are DNS-only).
    services: bool = True
    #: Seconds between the starts of two connections to one server address (--connect-interval;
    #: collectors/pacing.py): for servers that refuse clients who connect too often. 0: no pause.
    connect_interval: float = 0.0
    #: Questionnaire answers by question id (None: the questionnaire is not part of this run).
    answers: dict[str, Any] | None = None
    #: Where the imported Postfix configuration came from (the parsed config travels separately).
    postfix_origin: str | None = None
    #: Values the audit took from imported messages because none were given (given ones win).
    learned: tuple[LearnedValue, ...] = ()

    def learned_from(self, field: str, value: str) -> LearnedValue | None:
        """Where ``value`` of ``field`` came from, if a message taught it."""
        return next((x for x in self.learned if x.field == field and x.value == value), None)

    def learned_helo(self, ip: str) -> LearnedValue | None:
        """The HELO name a message showed ``ip`` announcing, if any (used when no HELO was given)."""
        return next((x for x in self.learned if x.field == "helo" and x.ip == ip), None)

    @property
    def all_selectors(self) -> tuple[str, ...]:
        """The given selectors first, then the common and providers' ones (auditapp/data).

        Probing common names can find a key but never prove there is none: DNS cannot list
        selectors. Only the given ones (:attr:`dkim_selectors`) can fail DKIM-NO-KEY.
        """
        from auditapp.data.dkim_selectors import common_selectors
        from auditapp.data.providers import providers

        out = list(self.dkim_selectors)
        for name in (*common_selectors().names, *(s for p in providers() for s in p.dkim_selectors)):
            if name not in out:
                out.append(name)
        return tuple(out)

    def to_json(self) -> dict[str, object]:
        from auditapp.core.validation import display_domain

        return {
            "domain": self.domain,
            "domain_unicode": display_domain(self.domain),
            "server_ips": list(self.server_ips),
            "helo": self.helo,
            "helo_source": self.helo_source if self.helo else None,
            "mx_hosts": list(self.mx_hosts),
            "dkim_selectors": list(self.dkim_selectors),
            "dnsbl_zones": list(self.dnsbl_zones),
            "ports": dict(self.ports),
            "submission_hosts": list(self.submission_hosts),
            "mailbox_hosts": list(self.mailbox_hosts),
            "relay_test": self.relay_test,
            "account": self.account,
            "trusted_hosts": list(self.trusted_hosts),
            "allow_internal": self.allow_internal,
            "ca_file": self.ca_file,
            "trust_anchor": self.trust_anchor,
            **({"rpki_vrps": self.rpki_vrps} if self.rpki_vrps else {}),
            "services": self.services,
            **({"connect_interval": self.connect_interval} if self.connect_interval else {}),
            "answers": dict(self.answers) if self.answers is not None else None,
            "postfix_origin": self.postfix_origin,
            **({"learned": [x.to_json() for x in self.learned]} if self.learned else {}),
        }
