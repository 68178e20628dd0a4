"""Checks over an imported Postfix configuration (knowledge base R2, R8-R11, B6-B9, B15).

One module per concern: queue and identity settings, relay and login control, filtering of
authenticated mail, TLS. Every rule first asks :mod:`auditapp.postfix.roles` what a service is
for, so internal ports of a mail stack are never judged as if clients or the Internet used them.
Importing this package registers the PF-* checks.
"""

from auditapp.checks.postfix import dane, filters, queue, relay, tls  # noqa: F401
