"""Pure checks over collected facts. Importing this package registers every check explicitly."""

from auditapp.catalog import Catalog, catalog
from auditapp.checks import (  # noqa: F401
    caa,
    dane,
    dkim,
    dmarc,
    dnssec,
    identity,
    ipv6,
    message,
    policy,
    postfix,
    rpki,
    services,
    spf,
    tls_scan,
    transport,
)
from auditapp.checks.registry import RegisteredCheck, registry


def registered() -> dict[str, RegisteredCheck]:
    """Every check, by rule ID (importing this package registered them all)."""
    return registry()


def verify_registry(cat: Catalog | None = None) -> None:
    """Every catalog rule has code and every check has a catalog entry."""
    cat = cat or catalog()
    regs = registered()
    missing_code = sorted(set(cat.rules) - set(regs))
    missing_entry = sorted(set(regs) - set(cat.rules))
    if missing_code or missing_entry:
        raise RuntimeError(f"catalog without code: {missing_code}; code without catalog entry: {missing_entry}")
