"""A switch that confines every outgoing connection to loopback (set by the test suite).

The tests audit lab zones whose records name documentation addresses (192.0.2.0/24 and
friends); without this guard a test that forgot to point a name at the lab would send
packets towards the Internet. With ``AUDITAPP_LOOPBACK_ONLY=1`` such a connection is refused
with a reason instead.
"""

from __future__ import annotations

import ipaddress
import os

ENV = "AUDITAPP_LOOPBACK_ONLY"


def blocked(address: str) -> str:
    """Why connecting to ``address`` is not allowed here, or ``""``."""
    if os.environ.get(ENV, "") not in ("1", "true", "yes"):
        return ""
    try:
        if ipaddress.ip_address(address).is_loopback:
            return ""
    except ValueError:
        pass
    return f"connection to {address} blocked: {ENV} allows loopback only"
