"""One audit request: what a front end asks to be audited, as the user gave it, before any check.

Why one type: ``audit DOMAIN`` built its target, resolver client, password and Postfix input
in the command line's own code while the GUI and ``audit --project`` went the project's way,
and the two drifted apart (resolver whitespace, timeouts, the trusted hosts of a login; issue
13). Now every front end only translates what it was given into an :class:`AuditRequest` --
the command line its arguments (:func:`auditapp.cli.inputs.request_from_args`), the GUI,
``audit --project`` and the demo a project (:func:`request_from_project`) -- and one step,
:func:`auditapp.audit.prepare.prepare`, checks it with the rules of
:mod:`auditapp.core.validation` and turns it into a ready-to-run audit.

A request holds texts, not checked values, so that step is the only place a rule can live.
Values a project loader already checked pass the same checks again unchanged (they are
idempotent); the cost is a few IDNA encodings per audit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditapp.core.stored_message import StoredMessage
from auditapp.core.target import DEFAULT_DNSBL_ZONES, DEFAULT_PORTS, AuditTarget
from auditapp.core.validation import (
    InputError,
    check_distinct_ports,
    normalize_domain,
    parse_ip,
    parse_port_override,
    validate_account,
    validate_ca_file,
    validate_connect_interval,
    validate_helo,
    validate_selector,
)

if TYPE_CHECKING:
    from auditapp.core.project import Project

#: ``(audited domain, account) -> password or None``; keyed by both, as the keyring is.
PasswordLookup = Callable[[str, str], str | None]
#: ``(audited domain, account) -> hosts outside the domain the user confirmed for the login``.
TrustLookup = Callable[[str, str], Sequence[str]]


def keyring_password(domain: str, account: str) -> str | None:
    """The stored password, never a prompt: the GUI and scripts must not wait for a terminal."""
    from auditapp.credentials import get_password

    return get_password(domain, account, prompt=False)


def keyring_trusted(domain: str, account: str) -> tuple[str, ...]:
    """The hosts the user confirmed on this computer; a project file can name hosts, not confirm them."""
    from auditapp.credentials import trusted_hosts

    return trusted_hosts(domain, account)


@dataclass(frozen=True)
class InputNames:
    """What each input is called where the user gave it, so a message points at the right place.

    The command line says ``--server-ip '192.0.2.1:25' has a port glued on``; the GUI and the
    project path use the plain names below. Only the wording differs, never the rule.
    """

    domain: str = "domain"
    no_domain: str = "a domain is needed"
    server_ip: str = "server IP"
    mx: str = "MX host"
    dnsbl: str = "DNSBL zone"
    ports: str = "ports"
    submission: str = "submission host"
    mailbox: str = "mailbox host"
    trust: str = "trusted host"
    ca_file: str = "CA file"
    trust_anchor: str = "trust anchor file"
    rpki_vrps: str = "RPKI VRP file"
    postfix: str = "Postfix configuration"
    timeout: str = "timeout"
    connect_interval: str = "connect interval"
    #: The end of "no system resolver configured (...); <hint>": where this front end takes one.
    resolver_hint: str = "enter a resolver in the settings"


@dataclass(frozen=True)
class AuditRequest:
    """Everything one audit needs, as texts the user typed or a project stored.

    Sequences are tuples (the request is frozen and compared in tests). ``dnsbl_zones`` is
    ``None`` for "the default blocklists" (a command line without ``--dnsbl``); an empty tuple
    means none, as a project can say. ``trust_hosts`` are the hosts outside the domain the user
    confirmed for this run's login: typed ones only, never the host lists of a project file.
    """

    domain: str
    server_ips: tuple[str, ...] = ()
    mx_hosts: tuple[str, ...] = ()
    submission_hosts: tuple[str, ...] = ()
    mailbox_hosts: tuple[str, ...] = ()
    dkim_selectors: tuple[str, ...] = ()
    dnsbl_zones: tuple[str, ...] | None = None
    #: Port overrides as ``SERVICE=PORT``; services not named keep their standard port.
    ports: tuple[str, ...] = ()
    helo: str | None = None
    #: Where the HELO name came from (``cli``, ``project``); recorded with the run.
    helo_source: str = "cli"
    relay_test: bool = False
    allow_internal: bool = False
    #: False: DNS only, no connection to the mail servers (and no keyring lookup).
    services: bool = True
    account: str | None = None
    trust_hosts: tuple[str, ...] = ()
    ca_file: str | None = None
    #: DNSSEC trust anchor file (--trust-anchor, or the project's); None: the IANA root anchors.
    trust_anchor: str | None = None
    #: Validated ROA payloads file (--rpki-vrps, or the project's); None: the RPKI rules are not tested.
    rpki_vrps: str | None = None
    #: Questionnaire answers already loaded (a project's), or a file to load (``--answers``);
    #: neither: the questionnaire is not part of this run.
    answers: Mapping[str, Any] | None = None
    answers_file: str | None = None
    #: A Postfix configuration to read (``--postfix-config``: unreadable is an input error), or
    #: the texts a project stored (``{"origin", "files"}``: unparsable is a ``not_tested`` reason).
    postfix_path: str | None = None
    postfix_texts: Mapping[str, Any] | None = None
    #: Received messages a project stored (header block and import verdicts): the MSG-* rules judge
    #: them and the target learns from them what was not given.
    messages: tuple[StoredMessage, ...] = ()
    #: Resolvers as typed; empty: the system's.
    nameservers: tuple[str, ...] = ()
    #: A demo project: :func:`~auditapp.audit.prepare.prepare` replaces resolvers, ports and CA file
    #: with the running demo lab's, so a saved demo never runs against a lab that is gone.
    demo_lab: bool = False
    timeout: float = 5.0
    #: Seconds between connection starts to one server (collectors/pacing.py); 0: no pause.
    connect_interval: float = 0.0
    #: Learn the HELO name from port 25 when none is given (the engine's switch, passed through).
    smtp_probe: bool = True
    #: Where the test account's password comes from; ``None``: nowhere (the logged-in checks are skipped).
    password_lookup: PasswordLookup | None = field(default=keyring_password, repr=False)
    trust_lookup: TrustLookup | None = field(default=keyring_trusted, repr=False)
    names: InputNames = field(default_factory=InputNames, repr=False)
    #: What the project's latest run saw: SPKI SHA-256 per MX endpoint, and when (:func:`previous_spki`).
    previous_spki: Mapping[str, str] = field(default_factory=dict)
    previous_run: str = ""
    previous_not_after: Mapping[str, str] = field(default_factory=dict)


def request_from_project(
    project: Project,
    *,
    nameservers: Sequence[str] = (),
    default_nameservers: Sequence[str] = (),
    timeout: float = 5.0,
    services: bool = True,
    allow_internal: bool = False,
    ca_file: str | None = None,
    trust_anchor: str | None = None,
    rpki_vrps: str | None = None,
    connect_interval: float | None = None,
    trust_hosts: Sequence[str] = (),
    password_lookup: PasswordLookup | None = keyring_password,
    trust_lookup: TrustLookup | None = keyring_trusted,
    names: InputNames | None = None,
) -> AuditRequest:
    """The audit a project describes, with this run's choices on top.

    Resolvers: ``nameservers`` (given for this run), else the project's, else
    ``default_nameservers`` (the GUI's settings), else the system's. ``services`` and
    ``allow_internal`` can only narrow or widen this run, never edit the project. The project's
    client hosts serve submission and mailbox access unless probing shows otherwise; they are
    not trusted for the login, because a project file cannot confirm a host. ``connect_interval``
    given for this run replaces the project's.
    """
    stored = project.postfix_config
    return AuditRequest(
        domain=project.domain, server_ips=tuple(project.server_ips), helo=project.helo, helo_source="project",
        mx_hosts=tuple(project.mx_hosts), dkim_selectors=tuple(project.dkim_selectors),
        dnsbl_zones=tuple(project.dnsbl_zones), ports=tuple(f"{s}={p}" for s, p in project.ports.items()),
        submission_hosts=tuple(project.client_hosts), mailbox_hosts=tuple(project.client_hosts),
        relay_test=project.relay_test, allow_internal=project.allow_internal or allow_internal,
        services=services and project.probe_services, account=project.test_account,
        trust_hosts=tuple(trust_hosts), ca_file=ca_file, answers=dict(project.answers),
        trust_anchor=trust_anchor or project.trust_anchor, rpki_vrps=rpki_vrps or project.rpki_vrps,
        postfix_texts=dict(stored) if stored is not None else None, messages=tuple(project.messages),
        nameservers=tuple(nameservers) or tuple(project.nameservers) or tuple(default_nameservers),
        demo_lab=project.demo,
        timeout=timeout, password_lookup=password_lookup, trust_lookup=trust_lookup,
        connect_interval=project.connect_interval if connect_interval is None else connect_interval,
        names=names or InputNames(), **previous_spki(project),
    )


def previous_spki(project: Project) -> dict[str, Any]:
    """The keys the project's latest run saw on each endpoint, for DANE-NO-ROLLOVER (issue 16).

    A lone ``3 1 1`` TLSA record survives a certificate renewal only if the key stays the same. The
    engine knows no projects, so the request carries what the previous run's inventory recorded
    (``endpoints[].spki_sha256`` and ``cert_not_after`` of the port-25 rows, written by
    collectors/inventory.py) into ``EngineConfig``; the TLSA fact hands it to the check. Rows a
    hostile or older file shapes differently are skipped.
    """
    for run in reversed(project.runs):
        rows = run.inventory.get("endpoints") if isinstance(run.inventory, dict) else None
        keys, expiry = {}, {}
        for row in rows if isinstance(rows, list) else ():
            if not isinstance(row, dict) or row.get("service") != "smtp" or not isinstance(row.get("spki_sha256"), str):
                continue
            address, port = row.get("address"), row.get("port")
            if isinstance(address, str) and isinstance(port, int) and not isinstance(port, bool):
                host = f"[{address}]" if ":" in address else address
                keys[f"{host}:{port}"] = row["spki_sha256"]
                if isinstance(row.get("cert_not_after"), str):
                    expiry[f"{host}:{port}"] = row["cert_not_after"]
        if keys:
            return {"previous_spki": keys, "previous_run": run.started, "previous_not_after": expiry}
    return {}


def build_target(request: AuditRequest) -> AuditTarget:
    """The checked target of ``request``; raises :class:`InputError` naming the first bad value.

    The order is the command line's since 1.0 (domain, addresses, names, ports, hosts, account,
    files), so a command with two mistakes still reports the same one first. Lists lose
    duplicates: a host typed twice is audited once.
    """
    n = request.names
    if not request.domain:
        raise InputError(n.no_domain, "empty")
    domain = normalize_domain(request.domain, n.domain)
    ips = _unique(parse_ip(ip, n.server_ip) for ip in request.server_ips)
    helo = validate_helo(request.helo) if request.helo is not None else None
    mx = _unique(normalize_domain(h, n.mx) for h in request.mx_hosts)
    selectors = _unique(validate_selector(s) for s in request.dkim_selectors)
    zones = DEFAULT_DNSBL_ZONES if request.dnsbl_zones is None else _unique(
        normalize_domain(z, n.dnsbl) for z in request.dnsbl_zones)
    ports = {**DEFAULT_PORTS, **dict(parse_port_override(text) for text in request.ports)}
    check_distinct_ports(ports, n.ports)
    submission = _unique(normalize_domain(h, n.submission) for h in request.submission_hosts)
    mailbox = _unique(normalize_domain(h, n.mailbox) for h in request.mailbox_hosts)
    account = validate_account(request.account) if request.account is not None else None
    ca_file = validate_ca_file(request.ca_file, n.ca_file) if request.ca_file else None
    trust_anchor = _trust_anchor(request.trust_anchor, n.trust_anchor) if request.trust_anchor else None
    rpki_vrps = _rpki_vrps(request.rpki_vrps, n.rpki_vrps) if request.rpki_vrps else None
    interval = validate_connect_interval(request.connect_interval, n.connect_interval)
    answers = _answers(request)
    trusted = _unique(normalize_domain(h, n.trust) for h in request.trust_hosts)
    return AuditTarget(domain=domain, server_ips=ips, helo=helo, helo_source=request.helo_source, mx_hosts=mx,
                       dkim_selectors=selectors, dnsbl_zones=zones, ports=ports, submission_hosts=submission,
                       mailbox_hosts=mailbox, relay_test=request.relay_test, account=account,
                       trusted_hosts=trusted, allow_internal=request.allow_internal, ca_file=ca_file,
                       services=request.services, answers=answers, trust_anchor=trust_anchor,
                       rpki_vrps=rpki_vrps, connect_interval=interval)


def _trust_anchor(path: str, what: str) -> str:
    """A DNSSEC trust anchor file must be readable and hold DS or DNSKEY records (auditapp.dnssec.anchors)."""
    from auditapp.dnssec import TrustAnchorError, load_anchor_file

    try:
        load_anchor_file(path)
    except TrustAnchorError as exc:
        raise InputError(str(exc) if what in str(exc) else f"{what}: {exc}", "trust_anchor") from None
    return path


def _rpki_vrps(path: str, what: str) -> str:
    """A VRP file must be readable and hold validated ROA payloads (auditapp.rpki), as the RPKI rules read it."""
    from auditapp.rpki import VrpError

    try:
        check_vrp_file(path)
    except VrpError as exc:
        raise InputError(str(exc) if what in str(exc) else f"{what}: {exc}", "rpki_vrps") from None
    return path


def check_vrp_file(path: str) -> None:
    """Parse a VRP file (auditapp.rpki); raises its ``VrpError`` when it cannot be used.

    The parsed set is kept for the run (:func:`auditapp.rpki.cached_vrps`), so a ~60 MB export is
    read once per file version, not once to check and again to audit.
    """
    from auditapp.rpki import cached_vrps

    cached_vrps(path)



def _answers(request: AuditRequest) -> dict[str, Any] | None:
    if request.answers_file:
        from auditapp.questionnaire import AnswersError, load_answers_file

        try:
            return load_answers_file(request.answers_file)
        except AnswersError as exc:
            raise InputError(str(exc)) from None
    return dict(request.answers) if request.answers is not None else None


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
