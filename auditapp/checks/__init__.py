"""Pure checks over collected facts. Importing this package registers every check explicitly."""

from auditapp.checks import (  # noqa: F401
    dkim,
    dmarc,
    identity,
    layout,
    policy,
    postfix,
    service_tls,
    services,
    spf,
    transport,
)
