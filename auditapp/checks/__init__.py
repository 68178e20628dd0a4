"""Pure checks over collected facts. Importing this package registers every check explicitly."""

from auditapp.checks import dkim, dmarc, identity, policy, postfix, services, spf, transport  # noqa: F401
