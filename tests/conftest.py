"""Shared pytest setup: the lab-server fixtures live in tests/lab/fixtures.py."""

import os

# No test may connect anywhere but loopback (see auditapp/collectors/netguard.py).
os.environ["AUDITAPP_LOOPBACK_ONLY"] = "1"
# GUI tests draw offscreen: no X server needed, identical in CI and on a laptop.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from arc_conformance_report import arc_conformance_summary
from lab.fixtures import bind_lab  # noqa: F401
from lab.mail_fixtures import mail_lab, tls_lab  # noqa: F401
from spf_conformance_report import spf_conformance_summary


def pytest_terminal_summary(terminalreporter) -> None:  # pytest hook
    """Print the RFC 7208 and ARC conformance pass counts at the end of every run."""
    spf_conformance_summary(terminalreporter)
    arc_conformance_summary(terminalreporter)
