"""Checks over the mail services: host layout, TLS, port 25, submission, relaying, mailbox access.

One module per topic; :mod:`.base` says which endpoints belong to which scope and how a
dialogue that did not finish reads. Importing this package registers the checks.
"""

# In this order, the checks' results reach the live table of a running audit as before the split.
from auditapp.checks.services import layout, tls, smtp, submission, relay, mailbox  # noqa: F401  # isort: skip
