"""Pure checks over collected facts. Importing this package registers every check explicitly."""

from auditapp.checks import dkim, dmarc, identity, services, spf, transport  # noqa: F401
