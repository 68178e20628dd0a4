"""The test account's password: in the system keyring and nowhere else.

Never in the project file, JSON, report, logs or transcripts. A keyring backend that would
store it in a plain file (keyrings.alt) or that cannot store at all is refused with a clear
message instead of being used silently.
"""

from __future__ import annotations

import getpass
import sys

SERVICE = "auditapp"


class CredentialError(RuntimeError):
    """No usable password (no keyring, no entry and no terminal to ask on)."""


def _keyring():
    import keyring

    return keyring


def backend_problem() -> str:
    """Why the active keyring backend must not hold audit credentials, or ``""``."""
    kr = _keyring()
    backend = kr.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if "fail" in name.lower():
        return "no system keyring is available (SecretService, Windows Credential Manager or macOS Keychain)"
    if "plaintext" in name.lower() or "keyrings.alt" in name:
        return f"the keyring backend {name} stores passwords unencrypted in a file"
    return ""


def key_for(account: str) -> str:
    return account


def get_password(account: str, *, prompt: bool = True) -> str:
    """The stored password, or ask once on the terminal and store it in the keyring."""
    problem = backend_problem()
    if problem:
        raise CredentialError(f"cannot use the test account {account}: {problem}")
    kr = _keyring()
    password = kr.get_password(SERVICE, key_for(account))
    if password:
        return password
    if not prompt or not sys.stdin or not sys.stdin.isatty():
        raise CredentialError(
            f"no password for {account} in the system keyring; run the audit once in a terminal to be asked, "
            "or store it in the desktop application")
    password = getpass.getpass(f"Password for {account} (stored in the system keyring): ")
    if not password:
        raise CredentialError("empty password")
    kr.set_password(SERVICE, key_for(account), password)
    return password


def set_password(account: str, password: str) -> None:
    problem = backend_problem()
    if problem:
        raise CredentialError(problem)
    _keyring().set_password(SERVICE, key_for(account), password)


def delete_password(account: str) -> None:
    import keyring.errors

    try:
        _keyring().delete_password(SERVICE, key_for(account))
    except keyring.errors.PasswordDeleteError:
        pass
