"""The ``mail_lab`` session fixture: Postfix, Dovecot and MTA-STS on loopback.

Exposed to the tests by one import line in ``tests/conftest.py``. Like the BIND fixture,
missing servers skip the tests on a developer machine and fail them in CI, where the
servers are installed on purpose and a skip would hide a broken pipeline.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from lab.bind import make_lab_root
from lab.fixtures import in_ci
from lab.mailservers import MailLab, mail_servers_available, start_mail_lab


def require_mail_servers() -> None:
    """Skip the caller without Postfix/Dovecot (or without root); fail instead in CI."""
    reason = mail_servers_available()
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"{reason} -- CI must provide it (tests/lab/install-lab-servers.sh, run as root)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mail_lab() -> Iterator[MailLab]:
    """Every mail server of the lab, started once per session (about 1 s, 1.2 s to stop).

    Yields a :class:`~lab.mailservers.MailLab`: ``ca_file``, ``ports``, ``addresses``,
    ``account``/``password``, ``root``, ``certs``, ``mtasts_port``. The servers are
    read-only for the tests apart from mail delivered to ``alice@svc.test``.
    """
    require_mail_servers()
    root = make_lab_root()
    try:
        # start_mail_lab stops what it started if start-up fails; its error carries the logs.
        lab = start_mail_lab(root)
        try:
            yield lab
        finally:
            lab.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def tls_lab() -> Iterator[object]:
    """The TLS scan lab's three Postfixes (weak, BSI, BSI without server order; lab/tls_lab.py).

    One per session: the scan tests and the finished-handshake tests share it, and its addresses
    (127.0.0.81-.84) are apart from the mail lab's, so both may run at once.
    """
    from lab.tls_lab import start_tls_lab

    require_mail_servers()
    root = make_lab_root()
    lab = None
    try:
        lab = start_tls_lab(root)
        yield lab
    finally:
        if lab is not None:
            lab.stop()
        shutil.rmtree(root, ignore_errors=True)
