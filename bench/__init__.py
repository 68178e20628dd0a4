"""Benchmarks of auditapp against the lab DNS server; run with ``python -m bench.run_all``.

Never collected by the test suite (``testpaths = ["tests"]``): they take tens of seconds,
bind port 53 and print ratios for people, not assertions for CI.
"""
