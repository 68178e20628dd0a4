"""Turning a project into a ready-to-run audit: target, resolver, engine settings, Postfix config.

The CLI (``audit --project``) and the GUI's Run button both start from a :class:`Project` and
must audit exactly the same thing, so the decisions live here and not in either front end:
which resolvers (the project's, else the caller's default, else the system's), how the stored
Postfix texts become a configuration (a stored text that no longer parses becomes a
``not_tested`` reason, not a crash), and where the test account's password comes from (the
system keyring only).

Nothing here touches the network; :meth:`PreparedAudit.make_dns` creates the client in the
thread that will use it, because a DNS client belongs to one event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from auditapp.core.project import Project
from auditapp.core.target import AuditTarget
from auditapp.core.validation import InputError, validate_timeout
from auditapp.dnsclient import DnsClient, Nameserver, parse_nameserver
from auditapp.engine import EngineConfig
from auditapp.postfix import PostfixConfigError, PostfixLoadFailure, config_from_texts

#: ``(audited domain, account) -> password or None``; keyed by both, as the keyring is.
PasswordLookup = Callable[[str, str], str | None]
#: ``(audited domain, account) -> hosts outside the domain the user confirmed for the login``.
TrustLookup = Callable[[str, str], Sequence[str]]


class PrepareError(ValueError):
    """The project cannot be audited as it stands; one line that says why."""


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

    def make_dns(self) -> DnsClient:
        if self.nameservers:
            return DnsClient(list(self.nameservers), timeout=self.timeout)
        return DnsClient.from_system(timeout=self.timeout)

    @property
    def resolver_text(self) -> str:
        return ", ".join(f"{n.address}:{n.port}" for n in self.nameservers) or "system"


def project_postfix(project: Project) -> object:
    """The stored configuration, parsed; a stored text that no longer parses is reported, not fatal."""
    if project.postfix_config is None:
        return None
    try:
        return config_from_texts(project.postfix_config["files"], project.postfix_config.get("origin", "project"))
    except PostfixConfigError as exc:
        return PostfixLoadFailure(str(exc))


def check_ca_file(path: str, what: str = "CA file") -> None:
    """An unreadable trust-anchor file is a setup error, never a certificate finding."""
    import ssl
    from pathlib import Path

    if not Path(path).is_file():
        raise PrepareError(f"{what} {path}: no such file")
    try:
        ssl.create_default_context().load_verify_locations(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        raise PrepareError(f"{what} {path}: not a PEM file with certificates ({exc})") from None


def _keyring_password(domain: str, account: str) -> str | None:
    from auditapp.credentials import get_password

    return get_password(domain, account, prompt=False)


def _keyring_trusted(domain: str, account: str) -> tuple[str, ...]:
    from auditapp.credentials import trusted_hosts

    return trusted_hosts(domain, account)


def prepare_project_audit(
    project: Project,
    *,
    default_nameservers: Sequence[str] = (),
    timeout: float = 5.0,
    services: bool = True,
    ca_file: str | None = None,
    password_lookup: PasswordLookup = _keyring_password,
    trust_lookup: TrustLookup | None = _keyring_trusted,
    trust_hosts: Sequence[str] = (),
    defer_password: bool = False,
) -> PreparedAudit:
    """Everything an audit of ``project`` needs; raises :class:`PrepareError` for unusable settings.

    ``password_lookup`` returns the test account's password or ``None``; a failure of the keyring
    becomes a warning, because the audit is still worth running without the logged-in checks.
    ``defer_password`` leaves the lookup to :meth:`PreparedAudit.with_password` (the GUI's worker).
    ``trust_hosts`` are hosts outside the domain the user confirmed for this run (``--trust-host``);
    the ones confirmed earlier come from ``trust_lookup``. The project's own host lists never
    count as confirmation.
    """
    try:
        validate_timeout(timeout)
    except InputError as exc:
        raise PrepareError(str(exc)) from None
    texts = list(project.nameservers) or list(default_nameservers)
    try:
        servers = tuple(parse_nameserver(t) for t in texts)
    except ValueError as exc:
        raise PrepareError(f"resolver: {exc}") from None
    if not servers:
        try:
            DnsClient.from_system(timeout=timeout)
        except Exception as exc:  # no resolv.conf, unreadable registry, ...
            raise PrepareError(f"no system resolver configured ({exc}); enter a resolver in the settings") from None
    if ca_file:
        check_ca_file(ca_file)
    target = replace(project.to_target(), ca_file=ca_file, services=services and project.probe_services,
                     postfix_origin=(project.postfix_config or {}).get("origin"),
                     trusted_hosts=tuple(dict.fromkeys(h.rstrip(".").lower() for h in trust_hosts)))
    config = EngineConfig(timeout=timeout, postfix=project_postfix(project))
    prepared = PreparedAudit(target=target, config=config, nameservers=servers, timeout=timeout,
                             password_lookup=password_lookup, trust_lookup=trust_lookup)
    return prepared if defer_password else prepared.with_password()


def _lookup(domain: str, account: str, password_lookup: PasswordLookup) -> tuple[str | None, tuple[str, ...]]:
    try:
        password = password_lookup(domain, account)
    except Exception as exc:  # CredentialError and anything a keyring backend raises
        return None, (str(exc),)
    if password is None:
        return None, (f"no password for {account} in the system keyring; the checks that need a login are skipped",)
    return password, ()
