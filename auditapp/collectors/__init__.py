"""Collectors: all network I/O of an audit lives here."""
