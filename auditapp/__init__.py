"""auditapp: audits how an organisation sends and receives e-mail."""

from __future__ import annotations


def _version() -> str:
    """The version lives in pyproject.toml only; an installed package reads its metadata."""
    from importlib import metadata

    try:
        return metadata.version("auditapp")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text("utf-8"))["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "0+unknown"


__version__ = _version()
