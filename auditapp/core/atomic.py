"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def remove_stale_temp_files(path: Path, older_than_s: float = 300.0) -> int:
    """Delete ``.NAME.*.tmp`` files a killed save left beside ``path``; returns how many.

    Only files older than ``older_than_s``: a save of another process (the GUI and the CLI on
    one project) may be writing its temp file right now, and deleting that would fail its save.
    """
    import time

    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    removed = 0
    now = time.time()
    try:
        candidates = list(directory.glob(f".{glob_escape(path.name)}.*.tmp"))
    except OSError:
        return 0
    for tmp in candidates:
        try:
            info = tmp.lstat()
            if tmp.is_file() and not tmp.is_symlink() and now - info.st_mtime > older_than_s:
                tmp.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def write_atomic(path: Path, data: bytes, backup: bool = False, mode: int | None = None) -> None:
    """Write via a temp file in the same directory, fsync, then rename over ``path``.

    With ``backup`` the previous version is kept as ``path.bak`` (a hard link where the file
    system allows it, so the old file is never absent). ``mode`` sets the permission bits of
    the new file (the temp file starts private, 0600).
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        if mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if backup and path.exists():
            bak = path.with_name(path.name + ".bak")
            bak_tmp = bak.with_name(bak.name + ".tmp")
            try:
                if bak_tmp.exists():
                    bak_tmp.unlink()
                os.link(path, bak_tmp)
            except OSError:
                bak_tmp.write_bytes(path.read_bytes())
            os.replace(bak_tmp, bak)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # not every platform can fsync a directory
        pass
