"""Turning an audit request into a ready-to-run audit: target, resolvers, engine settings, Postfix config.

Every front end audits through here (issue 13): the command line builds an
:class:`~auditapp.audit.request.AuditRequest` from its arguments, the GUI and ``audit --project``
from a project, and :func:`prepare` applies the same rules to all of them: the checks of
:mod:`auditapp.core.validation`, which resolvers (the request's, else the system's), how Postfix
input becomes a configuration (a file that cannot be read is an input error; a text a project
stored that no longer parses becomes a ``not_tested`` reason, not a crash), and where the test
account's password comes from (the request's lookup, asked by :meth:`PreparedAudit.with_password`).

Nothing here touches the network; :meth:`PreparedAudit.make_dns` creates the client in the
thread that will use it, because a DNS client belongs to one event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from auditapp.audit.engine import EngineConfig
from auditapp.audit.request import (
    AuditRequest,
    PasswordLookup,
    TrustLookup,
    build_target,
    keyring_password,
    keyring_trusted,
    request_from_project,
)
from auditapp.collectors.sender_discovery import apply_postfix_senders
from auditapp.core.project import Project
from auditapp.core.stored_message import StoredMessage
from auditapp.core.target import AuditTarget
from auditapp.core.validation import InputError, parse_nameservers, validate_timeout
from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.message.evidence import MessageEvidence, apply_learned, from_stored
from auditapp.message.headers import MessageError
from auditapp.postfix import PostfixConfigError, PostfixLoadFailure, config_from_texts


class PrepareError(ValueError):
    """The request cannot be audited as it stands; one line that says why (CLI exit code 2).

    The message is the command line's English. A window shows its own words: ``input_error``
    is the input rule that failed (its code and parameters give the German text), ``key`` names
    the other reasons (``no_resolver``, ``demo_lab_missing``, ``demo_lab_failed``), and
    ``detail`` carries a system's own message (an OS error) that stays as it was.
    """

    def __init__(self, message: str, *, input_error: InputError | None = None, key: str = "",
                 detail: str = "") -> None:
        super().__init__(message)
        self.input_error = input_error
        self.key = key
        self.detail = detail


class NoResolverError(PrepareError):
    """No resolver was given and the system has none: the environment, not the input (CLI exit code 3)."""


@dataclass(frozen=True)
class LabEndpoints:
    """Where the running built-in demo lab answers: what a demo project's resolver, ports and CA become.

    The lab's ports are chosen when it starts, so they are a detail of this process, never of
    the project file: a demo project saved yesterday names yesterday's ports.
    """

    nameservers: tuple[str, ...]
    ports: Mapping[str, int]
    ca_file: str


#: How this process reaches the demo lab (starting it on first use). The lab sits above this
#: layer, so the front end that offers the demo hands it in with :func:`use_demo_lab`.
_demo_lab: list[Callable[[], LabEndpoints]] = []


def use_demo_lab(endpoints: Callable[[], LabEndpoints] | None) -> None:
    """Register (or with ``None`` forget) the function that returns the running demo lab's endpoints."""
    _demo_lab[:] = [endpoints] if endpoints is not None else []


def _on_demo_lab(request: AuditRequest) -> AuditRequest:
    """A demo project's request aimed at the running lab; a request of any other project unchanged."""
    if not request.demo_lab:
        return request
    if not _demo_lab:
        raise PrepareError("this is a demo project: it is audited against the built-in demo lab, which runs "
                           "only in the window and in 'auditapp demo'", key="demo_lab_missing")
    try:
        lab = _demo_lab[0]()
    except Exception as exc:  # a port that cannot be bound, a temp folder that cannot be written
        raise PrepareError(f"the built-in demo lab could not start: {exc}", key="demo_lab_failed",
                           detail=str(exc)) from None
    return replace(request, nameservers=lab.nameservers, ca_file=lab.ca_file,
                   ports=tuple(f"{service}={port}" for service, port in lab.ports.items()))


@dataclass(frozen=True)
class PreparedAudit:
    target: AuditTarget
    config: EngineConfig
    nameservers: tuple[Nameserver, ...]  # empty: the system's resolvers
    timeout: float
    #: Things the user should know before trusting the result ("no password in the keyring").
    warnings: tuple[str, ...] = field(default=())
    #: Set when the password lookup was deferred (:meth:`with_password` does it, in the worker).
    password_lookup: PasswordLookup | None = field(default=None, repr=False)
    #: The hosts outside the domain the user confirmed on this computer (read with the password).
    trust_lookup: TrustLookup | None = field(default=None, repr=False)

    def with_password(self) -> PreparedAudit:
        """Look the test account's password up now (the keyring can block: the GUI calls this in its worker).

        The hosts the user confirmed for the login are read at the same time and from the same
        place, the keyring of this computer: a project file can name hosts, but it cannot
        confirm them.
        """
        if self.password_lookup is None or not self.target.account or not self.target.services:
            return self
        domain, account = self.target.domain, self.target.account
        password, warnings = _lookup(domain, account, self.password_lookup)
        target = self.target
        if password is not None and self.trust_lookup is not None:
            try:
                confirmed = tuple(self.trust_lookup(domain, account))
            except Exception as exc:  # a keyring backend failing on the second read
                confirmed, warnings = (), (*warnings, str(exc))
            target = replace(target, trusted_hosts=tuple(dict.fromkeys((*target.trusted_hosts, *confirmed))))
        return replace(self, target=target, config=replace(self.config, account_password=password),
                       warnings=self.warnings + warnings, password_lookup=None, trust_lookup=None)

    def with_messages(self, evidence: Sequence[MessageEvidence]) -> PreparedAudit:
        """Judge ``evidence`` in this audit and take from it what the user did not give (given values win)."""
        if not evidence:
            return self
        return replace(self, target=apply_learned(self.target, evidence),
                       config=replace(self.config, messages=(*self.config.messages, *evidence)))

    def make_dns(self) -> DnsClient:
        if self.nameservers:
            return DnsClient(list(self.nameservers), timeout=self.timeout)
        return DnsClient.from_system(timeout=self.timeout)

    @property
    def resolver_text(self) -> str:
        return ", ".join(f"{n.address}:{n.port}" for n in self.nameservers) or "system"


def project_postfix(project: Project) -> object:
    """The stored configuration, parsed; a stored text that no longer parses is reported, not fatal."""
    return _stored_postfix(project.postfix_config)


def _stored_postfix(stored: Mapping[str, Any] | None) -> object:
    if stored is None:
        return None
    try:
        return config_from_texts(stored["files"], stored.get("origin", "project"))
    except PostfixConfigError as exc:
        return PostfixLoadFailure(str(exc))


def _postfix(request: AuditRequest) -> tuple[str | None, object]:
    """``(origin, configuration)`` of the request's Postfix input; a file that cannot be read is an input error."""
    if request.postfix_path:
        from auditapp.postfix import load_postfix_config

        try:
            config = load_postfix_config(request.postfix_path)
        except PostfixConfigError as exc:
            raise InputError(f"{request.names.postfix}: {exc}") from None
        return str(Path(request.postfix_path).resolve()), config
    stored = request.postfix_texts
    return (stored or {}).get("origin"), _stored_postfix(stored)


def choose_resolvers(texts: Sequence[str], timeout: float,
                     hint: str = "enter a resolver in the settings") -> tuple[Nameserver, ...]:
    """The resolvers typed, checked; none: the system's must exist (empty tuple), else :class:`NoResolverError`.

    ``hint`` ends the message with where this front end takes a resolver (``give --nameserver``).
    """
    try:
        servers = tuple(Nameserver(*parsed) for parsed in parse_nameservers(texts))
    except InputError as exc:
        raise PrepareError(str(exc), input_error=exc) from None
    if not servers:
        try:
            DnsClient.from_system(timeout=timeout)
        except Exception as exc:  # no resolv.conf, unreadable registry, ...
            raise NoResolverError(f"no system resolver configured ({exc}); {hint}", key="no_resolver",
                                  detail=str(exc)) from None
    return servers


def prepare(request: AuditRequest) -> PreparedAudit:
    """The one way from a request to a runnable audit; raises :class:`PrepareError` naming the first problem.

    Input errors come before :class:`NoResolverError` (exit 2 before exit 3). The password is
    not looked up here: the keyring can block or prompt, so the caller decides where and when
    (:meth:`PreparedAudit.with_password`: the GUI's worker thread, the CLI after its checks).
    """
    request = _on_demo_lab(request)
    names = request.names
    try:
        timeout = validate_timeout(request.timeout, names.timeout)
        target = build_target(request)
        origin, postfix = _postfix(request)
    except InputError as exc:
        raise PrepareError(str(exc), input_error=exc) from None
    evidence = stored_evidence(request.messages)
    servers = choose_resolvers(request.nameservers, timeout, names.resolver_hint)
    prepared = PreparedAudit(target=replace(target, postfix_origin=origin),
                             config=EngineConfig(timeout=timeout, postfix=postfix, smtp_probe=request.smtp_probe,
                                                 previous_spki=dict(request.previous_spki),
                                                 previous_run=request.previous_run,
                                                 previous_not_after=dict(request.previous_not_after)),
                             nameservers=servers, timeout=timeout,
                             password_lookup=request.password_lookup, trust_lookup=request.trust_lookup)
    prepared = prepared.with_messages(evidence)
    # Issue 16: the imported Postfix's IPv6 sending address, unless IPs were given (collectors/sender_discovery.py).
    target, found_warnings = apply_postfix_senders(prepared.target, postfix)
    return replace(prepared, target=target, warnings=prepared.warnings + tuple(found_warnings))


def stored_evidence(stored: Sequence[StoredMessage]) -> list[MessageEvidence]:
    """A project's messages as evidence; one that no longer reads as a message is an input error."""
    out = []
    for message in stored:
        try:
            out.append(from_stored(message))
        except MessageError as exc:
            raise PrepareError(f"stored message {message.name} ({message.id}) cannot be read: {exc}",
                               key="stored_message", detail=str(exc)) from None
    return out


def prepare_project_audit(
    project: Project,
    *,
    default_nameservers: Sequence[str] = (),
    timeout: float = 5.0,
    services: bool = True,
    ca_file: str | None = None,
    password_lookup: PasswordLookup = keyring_password,
    trust_lookup: TrustLookup | None = keyring_trusted,
    trust_hosts: Sequence[str] = (),
    defer_password: bool = False,
) -> PreparedAudit:
    """Everything an audit of ``project`` needs: :func:`request_from_project`, then :func:`prepare`.

    ``password_lookup`` returns the test account's password or ``None``; a failure of the keyring
    becomes a warning, because the audit is still worth running without the logged-in checks.
    ``defer_password`` leaves the lookup to :meth:`PreparedAudit.with_password` (the GUI's worker).
    ``trust_hosts`` are hosts outside the domain the user confirmed for this run (``--trust-host``);
    the ones confirmed earlier come from ``trust_lookup``. The project's own host lists never
    count as confirmation.
    """
    request = request_from_project(project, default_nameservers=default_nameservers, timeout=timeout,
                                   services=services, ca_file=ca_file, trust_hosts=trust_hosts,
                                   password_lookup=password_lookup, trust_lookup=trust_lookup)
    prepared = prepare(request)
    return prepared if defer_password else prepared.with_password()


def _lookup(domain: str, account: str, password_lookup: PasswordLookup) -> tuple[str | None, tuple[str, ...]]:
    try:
        password = password_lookup(domain, account)
    except Exception as exc:  # CredentialError and anything a keyring backend raises
        return None, (str(exc),)
    if password is None:
        return None, (f"no password for {account} in the system keyring; the checks that need a login are skipped",)
    return password, ()
