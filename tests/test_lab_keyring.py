"""The one integration test against a real SecretService (gnome-keyring over D-Bus).

Why explicit ``SecretService.Keyring()`` instead of ``keyring.get_keyring()``: the default
chainer silently falls back to other backends (a plaintext file if keyrings.alt is
installed), and then this test would stay green while proving nothing about the store the
app really uses on Linux desktops (``/work/shared/reference/lab-servers.md`` 7.1).

Run under ``tests/lab/with-keyring.sh`` (the Makefile does), which provides a private,
unlocked keyring. Without a session bus the test skips; in CI it fails instead when D-Bus
and gnome-keyring are installed, because then the wrapper was bypassed or is broken.
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from lab.fixtures import in_ci

pytestmark = pytest.mark.lab


def _keyring_tools_installed() -> bool:
    return bool(shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon"))


def _unavailable(reason: str) -> None:
    """Skip on a developer machine; fail in CI when the keyring should have worked."""
    if in_ci() and _keyring_tools_installed():
        pytest.fail(f"{reason} -- CI has dbus and gnome-keyring; run pytest via tests/lab/with-keyring.sh",
                    pytrace=False)
    pytest.skip(reason)


def test_secretservice_set_get_delete() -> None:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        _unavailable("no D-Bus session (DBUS_SESSION_BUS_ADDRESS unset)")
    from keyring.backends import SecretService
    from keyring.errors import KeyringError, PasswordDeleteError

    backend = SecretService.Keyring()
    # A unique service name: on a developer desktop this may be the real login keyring,
    # so never touch an entry that could exist already, and always clean up.
    service = f"auditapp-lab-test-{uuid.uuid4().hex}"
    user, secret = "alice@svc.test", "S3cret-pw äöü €"
    try:
        backend.set_password(service, user, secret)
    except KeyringError as exc:  # InitError, locked or missing collection, no secrets daemon
        _unavailable(f"SecretService not usable: {type(exc).__name__}: {exc}")
    try:
        assert backend.get_password(service, user) == secret
        assert backend.get_password(service, "someone-else") is None
    finally:
        try:
            backend.delete_password(service, user)
        except PasswordDeleteError:
            pass
    assert backend.get_password(service, user) is None
