"""Reading a file the user pointed at, without hanging on a pipe or wandering off through a link.

Project files, Postfix configurations and answer files come from shared folders and from
other people. Three things a plain ``open().read()`` does wrong with them (issue 12):

* a FIFO blocks the reader forever (the CLI and the GUI hung), and ``/dev/zero`` is read
  until memory runs out: only regular files are read, and that is checked on the opened
  descriptor (opened non-blocking), not on the name, so a file swapped in between cannot
  slip past;
* a size limit checked before reading, so a wrongly chosen disk image is refused at once;
* a symbolic link inside an imported folder can point at any file of the user
  (``main.cf -> ~/.ssh/id_ed25519``), whose content would then be stored in a project that is
  sent to a client: with ``within``, a link whose target leaves that folder is refused.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnsafeFileError(OSError):
    """The path is not a regular file we may read; ``str()`` is one line for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def escapes(path: Path, folder: Path) -> Path | None:
    """The resolved target of ``path`` if it lies outside ``folder`` (through any link), else None."""
    target = path.resolve()
    root = folder.resolve()
    return None if target == root or root in target.parents else target


def read_regular_file(path: str | os.PathLike[str], max_bytes: int, *, within: Path | None = None) -> bytes:
    """The bytes of ``path``; raises :class:`UnsafeFileError` (or another ``OSError``) otherwise.

    ``within``: the folder the user chose; a link leading out of it is refused.
    """
    p = Path(path)
    if within is not None:
        outside = escapes(p, within)
        if outside is not None:
            raise UnsafeFileError(f"{p} is a symbolic link to {outside}, outside {within}; not read "
                                  "(copy the file into the folder, or choose it directly)")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(p, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(f"{p} is {_kind(info.st_mode)}, not a file; not read")
        if info.st_size > max_bytes:
            raise UnsafeFileError(f"{p}: {info.st_size // (1024 * 1024)} MiB is larger than the "
                                  f"{max_bytes // (1024 * 1024)} MiB this file may have (wrong file chosen?)")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, 1024 * 1024)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:  # grew while we read
                raise UnsafeFileError(f"{p}: larger than {max_bytes // (1024 * 1024)} MiB; not read")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
