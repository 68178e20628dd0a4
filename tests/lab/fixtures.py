"""pytest fixtures for the lab servers; ``tests/conftest.py`` imports them.

Missing servers are skipped on a developer machine but fail in CI: CI installs them
(``make lab-servers``), so a missing ``named`` there is a broken pipeline, and a skip
would hide it behind a green run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.bind import BindServer, make_lab_root, named_available

#: The zones the session BIND serves: every ``*.zone`` file here, origin = file name.
ZONES_DIR = Path(__file__).resolve().parent / "zones"


def in_ci() -> bool:
    """CI runners set ``CI`` (``true`` on GitHub/GitLab); ``0``/``false``/empty mean no."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_named() -> None:
    """Skip the calling test (or fixture) without BIND 9, or fail it when running in CI."""
    reason = named_available()
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"{reason} -- CI must install it (tests/lab/install-lab-servers.sh)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def bind_lab() -> Iterator[BindServer]:
    """A real ``named`` serving ``tests/lab/zones/*.zone`` on 127.0.0.1 and a free port.

    One per session: start-up costs about 0.15 s, and the zones are read-only.
    """
    require_named()
    root = make_lab_root()
    server = BindServer(root / "dns")
    try:
        server.start(ZONES_DIR)
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
