"""Preferences and window state, typed, over QSettings.

Two kinds of values live here, as in Picard's ``setting`` vs ``persist``: preferences the
user chooses in the settings dialog (languages, resolver, timeouts, default blocklists,
branding profiles, the reviewer's name) and state the program remembers by itself (window
geometry, splitter positions, recent projects, the last directory). Neither ever holds a
secret: passwords go to the system keyring.

``AUDITAPP_HOME`` moves settings, logs and recovery files into one folder (tests, demos,
portable use); otherwise Qt's per-user locations are used.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from auditapp.core.target import DEFAULT_DNSBL_ZONES

MAX_RECENT = 8


def home_dir() -> Path:
    """Where auditapp keeps its own files (logs, recovery copies)."""
    override = os.environ.get("AUDITAPP_HOME")
    if override:
        path = Path(override)
    else:
        path = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation) or
                    Path.home() / ".auditapp")
    return private_dir(path)


def private_dir(path: Path) -> Path:
    """``path`` created if needed, readable by this user only (0700): logs name clients and hosts."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(path, 0o700)
    except OSError:  # a folder we may use but not own (AUDITAPP_HOME on a share): keep going
        pass
    return path


def make_private(path: str | os.PathLike[str]) -> None:
    """A file of ours (settings, log) readable by this user only (0600); silent where impossible."""
    try:
        os.chmod(path, 0o600)
    except OSError:
        pass


def open_qsettings() -> QSettings:
    override = os.environ.get("AUDITAPP_HOME")
    if override:
        return QSettings(str(Path(override) / "settings.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "auditapp", "auditapp")


class _Value[T]:
    """One typed setting: QSettings' ini backend returns strings, so values are converted on read."""

    def __init__(self, key: str, default: T) -> None:
        self.key, self.default = key, default

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Settings | None, owner: type) -> T:
        if obj is None:
            return self  # type: ignore[return-value]
        raw = obj.qs.value(self.key)
        if raw is None:
            return self.default
        try:
            return self.convert(raw)
        except (TypeError, ValueError):
            return self.default  # a hand-edited or old value never stops the program

    def __set__(self, obj: Settings, value: T) -> None:
        obj.qs.setValue(self.key, self.store(value))

    def convert(self, raw: Any) -> T:
        default = self.default
        if isinstance(default, bool):
            return (raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1", "yes"))  # type: ignore[return-value]
        if isinstance(default, float):
            return float(raw)  # type: ignore[return-value]
        if isinstance(default, int):
            return int(raw)  # type: ignore[return-value]
        if isinstance(default, list | dict):
            value = json.loads(raw) if isinstance(raw, str) else raw
            if not isinstance(value, type(default)):
                raise TypeError(self.key)
            return value  # type: ignore[no-any-return]
        return str(raw)  # type: ignore[return-value]

    def store(self, value: T) -> Any:
        if isinstance(value, list | dict):
            return json.dumps(value, ensure_ascii=False)
        return value


class Settings:
    """The application's settings; construct with a QSettings (tests pass their own file)."""

    gui_language = _Value("gui/language", "")  # "" = follow the desktop on first start
    #: "" = the interface's language (a German consultant gets German reports without setting anything).
    report_language = _Value("report/language", "")
    report_theme = _Value("report/theme", "default")
    reviewer = _Value("review/author", "")
    timeout = _Value("engine/timeout", 5.0)
    nameservers = _Value("engine/nameservers", [])
    dnsbl_zones = _Value("defaults/dnsbl_zones", list(DEFAULT_DNSBL_ZONES))
    #: Extra trust anchors (PEM) for clients with an internal CA; "" = the system store only.
    ca_file = _Value("engine/ca_file", "")
    #: Branding profiles by name, each in the project's ``branding`` shape (see report.theme).
    branding_profiles = _Value("report/branding_profiles", {})
    recent_files = _Value("state/recent_files", [])
    last_dir = _Value("state/last_dir", "")

    def __init__(self, qs: QSettings | None = None) -> None:
        self.qs = qs if qs is not None else open_qsettings()

    def add_recent(self, path: str | Path) -> None:
        text = str(Path(path).resolve())
        self.recent_files = [text, *[p for p in self.recent_files if p != text][: MAX_RECENT - 1]]

    def state(self, key: str) -> QByteArray | None:
        value = self.qs.value(f"state/{key}")
        return value if isinstance(value, QByteArray) else None

    def set_state(self, key: str, value: QByteArray) -> None:
        self.qs.setValue(f"state/{key}", value)

    def sync(self) -> None:
        """Write the settings now and keep the file private (0600) and its folder 0700.

        The settings name clients (recent files, branding profiles) and resolvers; Qt writes
        the file with the default mode (0644).
        """
        self.qs.sync()
        name = self.qs.fileName()
        if name and Path(name).exists():
            private_dir(Path(name).parent)
            make_private(name)
