"""RPKI route origin validation (RFC 6811) over validated ROA payloads from a file (issue 16).

internet.nl's six RPKI subtests ask, for the MX hosts, the domain's name servers and the MX zones'
name servers: is every address covered by a Route Origin Authorisation, and is the route that
carries it *valid*? The answer needs two things an audit does not have by itself: the validated
ROA payloads (VRPs), which only a relying-party validator (Routinator, rpki-client, ...) produces
after fetching and checking the whole RPKI repository, and which BGP route covers an address.

auditapp reads the VRPs from a file the validator wrote (``--rpki-vrps FILE``), in the two
formats every validator exports: JSON (``{"roas": [{"asn": "AS64500" | 64500, "prefix":
"192.0.2.0/24", "maxLength": 24, "ta": "..."}]}``, as Routinator's ``json``/``jsonext``,
rpki-client's ``-j`` and Cloudflare's ``rpki.json`` write it) and CSV (``ASN,IP Prefix,Max
Length,Trust Anchor``, Routinator's and rpki-client's ``csv``). Validating the RPKI repository
ourselves would mean an rsync/RRDP client and the whole RFC 6487 certificate profile: that is a
validator's job, and the user's validator is the one their network trusts. The route comes from
DNS (collectors/rpki_collect.py). This module is pure: parsing and RFC 6811's three states.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import socket
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

VALID, INVALID, NOT_FOUND = "valid", "invalid", "not_found"
#: A VRP file larger than this is not a VRP file (the whole internet's are about 60 MB as JSON).
MAX_BYTES = 512 * 1024 * 1024


class VrpError(ValueError):
    """The VRP file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Vrp:
    """One validated ROA payload: ``asn`` may originate ``prefix`` and more-specifics up to ``max_length``."""

    asn: int
    prefix: IpNetwork
    max_length: int
    ta: str = ""

    def __str__(self) -> str:
        return f"AS{self.asn} {self.prefix} max /{self.max_length}" + (f" ({self.ta})" if self.ta else "")


@dataclass(frozen=True)
class Validation:
    """RFC 6811 §2 for one route: the state and the VRPs that decided it."""

    state: str  # valid, invalid, not_found
    covering: tuple[Vrp, ...]
    matched: tuple[Vrp, ...]


class VrpSet:
    """VRPs indexed by (IP version, prefix length) and network, so covering VRPs take ≤ 129 lookups.

    Entries are kept as plain tuples (AS, max length, trust anchor): a whole-internet export has
    about 700,000 VRPs, and objects per entry would cost seconds to build and far more memory.
    :class:`Vrp` objects are made only for the few VRPs a validation returns.
    """

    def __init__(self, source: str = "", generated: str = "") -> None:
        self.source, self.generated, self.count = source, generated, 0
        self._index: dict[tuple[int, int], dict[int, list[tuple[int, int, str]]]] = {}

    def add(self, version: int, network: int, length: int, asn: int, max_length: int, ta: str) -> None:
        self._index.setdefault((version, length), {}).setdefault(network, []).append((asn, max_length, ta))
        self.count += 1

    def covering(self, route: IpNetwork) -> list[Vrp]:
        """Every VRP whose prefix contains ``route`` (RFC 6811 "Covered")."""
        bits = route.max_prefixlen
        address = int(route.network_address)
        found: list[Vrp] = []
        for length in range(route.prefixlen + 1):
            table = self._index.get((route.version, length))
            if not table:
                continue
            network = address & ((((1 << length) - 1) << (bits - length)) if length else 0)
            for asn, max_length, ta in table.get(network, ()):
                cls = ipaddress.IPv4Network if route.version == 4 else ipaddress.IPv6Network
                prefix = cls((network, length))
                found.append(Vrp(asn, prefix, max_length, ta))
        return found

    def validate(self, route: IpNetwork, origin: int) -> Validation:
        """RFC 6811 §2: Valid if a covering VRP matches origin and length, Invalid if others cover, else NotFound.

        AS 0 in a VRP never matches (RFC 6483 §4): an AS0 ROA makes every route it covers invalid.
        """
        covering = self.covering(route)
        matched = tuple(v for v in covering if v.asn == origin and v.asn != 0 and route.prefixlen <= v.max_length)
        state = VALID if matched else INVALID if covering else NOT_FOUND
        return Validation(state, tuple(covering), matched)


def _asn(value: object) -> int:
    text = str(value).strip().upper()
    text = text[2:] if text.startswith("AS") else text
    asn = int(text)
    if not 0 <= asn < 2**32:
        raise ValueError(f"AS number {value!r} out of range")
    return asn


def _add(vrps: VrpSet, asn: object, prefix: object, max_length: object, ta: object) -> None:
    """Parse one entry into ``vrps`` (socket.inet_pton, not ipaddress objects: 700,000 of them)."""
    address, slash, length_text = str(prefix).strip().partition("/")
    family, bits, version = (socket.AF_INET6, 128, 6) if ":" in address else (socket.AF_INET, 32, 4)
    try:
        network = int.from_bytes(socket.inet_pton(family, address), "big")
    except OSError:
        raise ValueError(f"{prefix!r} is not an IP prefix") from None
    length = int(length_text) if slash else -1
    if not 0 <= length <= bits:
        raise ValueError(f"{prefix!r} is not an IP prefix")
    if network & ((1 << (bits - length)) - 1):
        raise ValueError(f"{prefix!r} has host bits set")
    maximum = int(str(max_length).strip()) if str(max_length).strip() else length
    if not length <= maximum <= bits:
        raise ValueError(f"maxLength {maximum} outside {length}-{bits} for {prefix}")
    vrps.add(version, network, length, _asn(asn), maximum, sys.intern(str(ta or "").strip()))


def parse_vrps(text: str, source: str = "") -> VrpSet:
    """VRPs from a validator's JSON or CSV export; VrpError with the entry number when one is malformed."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise VrpError(f"{source or 'VRP file'}: empty")
    vrps = VrpSet(source)
    if stripped[0] in "{[":
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise VrpError(f"{source or 'VRP file'}: not valid JSON ({exc})") from None
        entries = data.get("roas", data.get("vrps")) if isinstance(data, dict) else data
        if not isinstance(entries, list):
            raise VrpError(f"{source or 'VRP file'}: no \"roas\" list (a validator's JSON export has one)")
        meta = data.get("metadata", {}) if isinstance(data, dict) else {}
        if isinstance(meta, dict):
            stamp = meta.get("generated", meta.get("buildtime", ""))
            vrps.generated = (datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")
                              if isinstance(stamp, int | float) else str(stamp))
        for i, entry in enumerate(entries, 1):
            try:
                if not isinstance(entry, dict):
                    raise ValueError("not an object")
                _add(vrps, entry["asn"], entry["prefix"], entry.get("maxLength", entry.get("max_length", "")),
                     entry.get("ta", ""))
            except (KeyError, ValueError, TypeError) as exc:
                raise VrpError(f"{source or 'VRP file'}: entry {i} is not a VRP ({exc})") from None
    else:
        rows = csv.reader(io.StringIO(stripped))
        header = next(rows)
        if not header or "asn" not in header[0].strip().lower():
            raise VrpError(f"{source or 'VRP file'}: neither JSON nor a CSV with the header "
                           "'ASN,IP Prefix,Max Length,Trust Anchor'")
        for i, row in enumerate(rows, 2):
            if not row or not "".join(row).strip():
                continue
            try:
                _add(vrps, row[0], row[1], row[2] if len(row) > 2 else "", row[3] if len(row) > 3 else "")
            except (IndexError, ValueError) as exc:
                raise VrpError(f"{source or 'VRP file'}: line {i} is not a VRP ({exc})") from None
    if not vrps.count:
        raise VrpError(f"{source or 'VRP file'}: holds no VRP")
    return vrps


def load_vrps(path: str | Path) -> VrpSet:
    """Read a VRP file; VrpError (never OSError) with the path and the reason when it cannot be used."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise VrpError(f"{p}: {size} bytes is too large for a VRP file")
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise VrpError(f"{p}: not a text file") from None
    except OSError as exc:
        raise VrpError(f"{p}: {exc.strerror or exc}") from None
    return parse_vrps(text, str(p))


_CACHE: dict[tuple[str, int, int, int], VrpSet] = {}


def cached_vrps(path: str | Path) -> VrpSet:
    """:func:`load_vrps`, parsed once per file version and process (the newest file only).

    Preparing an audit checks the file and the run reads it; a desktop session re-runs audits
    with the same ~60 MB export. A rewrite changes size, modification time or inode, and is read
    again. Only one set is kept: a whole-internet set is about 100 MB in memory.
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise VrpError(f"{p}: {exc.strerror or exc}") from None
    key = (str(p.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _CACHE:
        loaded = load_vrps(p)
        _CACHE.clear()
        _CACHE[key] = loaded
    return _CACHE[key]
