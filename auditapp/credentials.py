"""Passwords live in the system keyring and nowhere else, each under a key a project file cannot forge.

Never in the project file, JSON, report, logs or transcripts. A keyring backend that would
store passwords in a plain file (keyrings.alt, also behind keyring's chainer) or that cannot
store at all is refused with a clear message instead of being used silently.

Keys (issue 12): a test account's password is stored per audited domain and account
(``SERVICE``, ``<domain>:<account>``), so a crafted project for another domain cannot reach
it; report passwords have a service of their own (``REPORT_SERVICE``), so no account name can
address them. Hosts outside the audited domain that the user confirmed for the login are
remembered locally too (``TRUST_SERVICE``), never only in a project file that anyone can write.
"""

from __future__ import annotations

import getpass
import json
import sys

from auditapp.core.validation import InputError, validate_account

SERVICE = "auditapp"
REPORT_SERVICE = "auditapp-report"
TRUST_SERVICE = "auditapp-trusted-hosts"


class CredentialError(RuntimeError):
    """No usable password (no keyring, no entry and no terminal to ask on)."""


def _keyring():
    import keyring

    return keyring


def _clear_text(backend: object) -> bool:
    """keyrings.alt and any other store that keeps passwords in a file of its own.

    The file stores of keyrings.alt carry a ``file_path``; the OS stores (SecretService,
    Windows, macOS) do not. Encrypted file stores are refused too: they ask for their own
    password on a terminal, which the desktop application does not have.
    """
    name = f"{type(backend).__module__}.{type(backend).__name__}".lower()
    return "plaintext" in name or name.startswith("keyrings.alt") or hasattr(backend, "file_path")


def backend_problem() -> str:
    """Why the active keyring backend must not hold audit credentials, or ``""``.

    keyring's ChainerBackend writes to the first of its backends that accepts the entry; a
    plain-text keyrings.alt backend hidden in the chain could be that one, so every backend
    in the chain is looked at.
    """
    backend = _keyring().get_keyring()
    chain = list(getattr(backend, "backends", None) or [backend])
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if all("fail" in f"{type(b).__module__}.{type(b).__name__}".lower() for b in chain):
        return "no system keyring is available (SecretService, Windows Credential Manager or macOS Keychain)"
    clear = [b for b in chain if _clear_text(b)]
    if clear:
        shown = f"{type(clear[0]).__module__}.{type(clear[0]).__name__}"
        within = f" (in {name})" if shown != name else ""
        return f"the keyring backend {shown}{within} stores passwords unencrypted in a file"
    return ""


def account_key(domain: str, account: str) -> str:
    """The keyring user name of a test account: the audited domain and the account, never the account alone."""
    try:
        validate_account(account)
    except InputError as exc:
        raise CredentialError(str(exc)) from None
    if not domain or ":" in domain or "/" in domain:
        raise CredentialError(f"cannot key a password by the domain {domain!r}")
    return f"{domain.lower()}:{account}"


def _checked() -> None:
    problem = backend_problem()
    if problem:
        raise CredentialError(problem)


def get_password(domain: str, account: str, *, prompt: bool = True) -> str:
    """The stored password, or ask once on the terminal and store it in the keyring."""
    key = account_key(domain, account)
    problem = backend_problem()
    if problem:
        raise CredentialError(f"cannot use the test account {account}: {problem}")
    kr = _keyring()
    password = kr.get_password(SERVICE, key)
    if password:
        return password
    if not prompt or not sys.stdin or not sys.stdin.isatty():
        raise CredentialError(
            f"no password for {account} (audit of {domain}) in the system keyring; run the audit once in a "
            "terminal to be asked, or store it in the desktop application")
    password = getpass.getpass(f"Password for {account} when auditing {domain} (stored in the system keyring): ")
    if not password:
        raise CredentialError("empty password")
    kr.set_password(SERVICE, key, password)
    return password


def set_password(domain: str, account: str, password: str) -> None:
    key = account_key(domain, account)
    _checked()
    _keyring().set_password(SERVICE, key, password)


def delete_password(domain: str, account: str) -> None:
    _delete(SERVICE, account_key(domain, account))


def _delete(service: str, key: str) -> None:
    import keyring.errors

    try:
        _keyring().delete_password(service, key)
    except keyring.errors.PasswordDeleteError:
        pass


# -- report passwords ---------------------------------------------------------------------

def _report_key(name: str) -> str:
    if not name or not name.isprintable():
        raise CredentialError(f"cannot key a report password by {name!r}")
    return name


def get_report_password(name: str, *, prompt: bool = True) -> str:
    _checked()
    password = _keyring().get_password(REPORT_SERVICE, _report_key(name))
    if password:
        return password
    if not prompt or not sys.stdin or not sys.stdin.isatty():
        raise CredentialError(f"no report password for {name} in the system keyring")
    password = getpass.getpass(f"Report password for {name} (stored in the system keyring): ")
    if not password:
        raise CredentialError("empty password")
    _keyring().set_password(REPORT_SERVICE, _report_key(name), password)
    return password


def set_report_password(name: str, password: str) -> None:
    _checked()
    _keyring().set_password(REPORT_SERVICE, _report_key(name), password)


def delete_report_password(name: str) -> None:
    _delete(REPORT_SERVICE, _report_key(name))


# -- hosts outside the domain the user confirmed for the login ------------------------------

def trusted_hosts(domain: str, account: str) -> tuple[str, ...]:
    """Hosts outside ``domain`` this user confirmed, on this computer, for ``account``'s login."""
    if backend_problem():
        return ()
    raw = _keyring().get_password(TRUST_SERVICE, account_key(domain, account))
    try:
        hosts = json.loads(raw) if raw else []
    except ValueError:
        return ()
    return tuple(h for h in hosts if isinstance(h, str)) if isinstance(hosts, list) else ()


def trust_host(domain: str, account: str, host: str) -> None:
    """Remember that the user confirmed ``host`` for ``account``'s login when auditing ``domain``."""
    _checked()
    hosts = [*trusted_hosts(domain, account)]
    name = host.rstrip(".").lower()
    if name not in hosts:
        hosts.append(name)
    _keyring().set_password(TRUST_SERVICE, account_key(domain, account), json.dumps(hosts))


def forget_trusted_hosts(domain: str, account: str) -> None:
    _delete(TRUST_SERVICE, account_key(domain, account))
