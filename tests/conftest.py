"""Shared pytest setup: the lab-server fixtures live in tests/lab/fixtures.py."""

from lab.fixtures import bind_lab  # noqa: F401
