"""Evidence from a received message (issue 15): its header block, hop chain and signatures.

``headers`` reads a message and keeps the header block only (the body as a hash, for privacy),
``hops`` parses the ``Received:`` chain and picks the sending hop. No Qt and no network I/O here:
verification (``verify``) asks DNS through :mod:`auditapp.dnsclient`.
"""
