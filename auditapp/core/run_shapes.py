"""The shapes of a stored run's ``target`` and ``inventory``, checked when a project is loaded.

A run is the record of what the servers answered, so the loader does not rebuild it into
objects; it keeps the JSON the engine wrote (``AuditTarget.to_json`` and
``collectors/inventory.py``). The report, the GUI and the CLI summary read those dictionaries
directly, so a project file with ``"server_ips": 5`` inside a run used to pass the loader and
then fail in the middle of ``report`` with a TypeError (issue 12, item 9). Each known key is
checked here for the type its readers expect; keys this version does not know are left alone
(an older file may carry a field since dropped, and nobody reads it).

A shape is a Python type (``str``, ``bool``, ``int``, ``dict``), ``None`` (null allowed), a
tuple of alternatives, a one-element list ``[shape]`` (a list of that shape) or a dict of
key shapes (an object whose known keys have those shapes).
"""

from __future__ import annotations

from typing import Any

Shape = Any

_STRS = [str]
_OPT_STR = (str, None)

TARGET: dict[str, Shape] = {
    "domain": str, "domain_unicode": str, "server_ips": _STRS, "helo": _OPT_STR, "helo_source": _OPT_STR,
    "mx_hosts": _STRS, "dkim_selectors": _STRS, "dnsbl_zones": _STRS, "ports": {"*": int},
    "submission_hosts": _STRS, "mailbox_hosts": _STRS, "relay_test": bool, "account": _OPT_STR,
    "trusted_hosts": _STRS, "allow_internal": bool, "ca_file": _OPT_STR, "services": bool,
    "connect_interval": (int, float), "answers": (dict, None), "postfix_origin": _OPT_STR,
}

INVENTORY: dict[str, Shape] = {
    "hosting": {
        "hosted": bool, "provider": _OPT_STR, "name": _OPT_STR, "kind": _OPT_STR, "documentation": _OPT_STR,
        "mx_hosts": _STRS, "matched": _STRS, "unmatched": _STRS,
    },
    "hosts": [{"name": str, "roles": _STRS, "sources": _STRS, "addresses": _STRS, "!": ("name", "addresses")}],
    "endpoints": [{
        "address": str, "port": int, "service": str, "state": str, "greeting": str, "greeting_ms": int,
        "tls": str, "cert_not_after": str, "problem": str, "!": ("address", "port", "service", "state"),
    }],
}


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def _name(shape: Shape) -> str:
    if shape is None:
        return "null"
    if isinstance(shape, tuple):
        return " or ".join(_name(s) for s in shape)
    if isinstance(shape, list):
        return "a list"
    if isinstance(shape, dict) or shape is dict:
        return "an object"
    names = {bool: "true/false", int: "a whole number", float: "a number", str: "text"}
    return names.get(shape, getattr(shape, "__name__", "?"))


def shape_problem(value: object, shape: Shape, where: str) -> tuple[str, str] | None:
    """``(path, message)`` of the first place where ``value`` does not have ``shape``, or None."""
    if isinstance(shape, tuple):
        if any(shape_problem(value, s, where) is None for s in shape):
            return None
        return where, f"must be {_name(shape)}, not {_kind(value)}"
    if shape is None:
        return None if value is None else (where, f"must be null, not {_kind(value)}")
    if isinstance(shape, list):
        if not isinstance(value, list):
            return where, f"must be a list, not {_kind(value)}"
        for i, item in enumerate(value):
            problem = shape_problem(item, shape[0], f"{where}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return where, f"must be an object, not {_kind(value)}"
        for key in shape.get("!", ()):
            if key not in value:
                return f"{where}.{key}", "is missing"
        for key, item in value.items():
            if key == "!" or (key not in shape and "*" not in shape):
                continue  # a key this version does not read
            sub = shape.get(key, shape.get("*"))
            problem = shape_problem(item, sub, f"{where}.{key}")
            if problem:
                return problem
        return None
    if shape is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif shape is bool:
        ok = isinstance(value, bool)
    else:
        ok = isinstance(value, shape)
    return None if ok else (where, f"must be {_name(shape)}, not {_kind(value)}")
