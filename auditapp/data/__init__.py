"""Facts about the outside world that the audit needs, kept as data beside the code.

Hosted mail providers, DKIM selector conventions, blocklist return codes and the roles of
well-known milters change more often than the checks that use them, and consultants must be
able to review them (each entry names its sources) without reading Python. Each TOML file has
one small loader module here that validates it strictly at first use, so a broken entry
fails the test suite rather than a client's report.
"""
