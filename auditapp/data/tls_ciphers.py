"""How a TLS scan's findings are judged: the classes of tls_ciphers.toml (NCSC-NL 2.1 / internet.nl, BSI TR-02102-2).

Four classes, best first: ``good``, ``sufficient``, ``phase_out``, ``insufficient``. A TLS 1.0–1.2
suite is split into key exchange, cipher and MAC by its IANA name and gets the worst class of its
parts; a TLS 1.3 suite is judged by name. What the file does not name is ``insufficient``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from auditapp.data._toml import DataError, read

CLASSES = ("good", "sufficient", "phase_out", "insufficient")
FILE = "tls_ciphers.toml"


def worst(*classes: str) -> str:
    """The worst of ``classes`` (``good`` for none)."""
    return max(classes, key=CLASSES.index, default="good")


@dataclass(frozen=True)
class Verdict:
    """The class of one item, whether the BSI recommends it, and (suites only) forward secrecy."""

    klass: str
    bsi: bool
    forward_secrecy: bool = True
    #: Which part made the class (e.g. ``"key exchange RSA"``), for the report's evidence.
    why: str = ""


def _entry(body: Any, where: str) -> tuple[str, bool]:
    if not isinstance(body, dict) or body.get("class") not in CLASSES or not isinstance(body.get("bsi"), bool):
        raise DataError(f"{FILE}: {where} needs class (one of {', '.join(CLASSES)}) and bsi (true/false)")
    return body["class"], body["bsi"]


@cache
def _data() -> dict[str, Any]:
    data = read(FILE)
    for table in ("source", "versions", "key_exchange", "cipher", "mac", "tls13_suites", "groups", "key_sizes",
                  "signature_hashes", "suites"):
        if not isinstance(data.get(table), dict) or not data[table]:
            raise DataError(f"{FILE}: [{table}] is missing or empty")
    for table in ("versions", "key_exchange", "cipher", "mac", "tls13_suites", "groups", "signature_hashes"):
        for name, body in data[table].items():
            _entry(body, f"[{table}] {name}")
    for name, code in data["suites"].items():
        if not (isinstance(code, str) and code.startswith("0x") and len(code) == 6):
            raise DataError(f"{FILE}: [suites] {name} = {code!r} is not a 0xNNNN code")
    return data


@cache
def suite_codes() -> dict[int, str]:
    """IANA code → IANA name of every suite the scanner offers."""
    return {int(code, 16): name for name, code in _data()["suites"].items()}


def sources() -> dict[str, dict[str, str]]:
    return {k: dict(v) for k, v in _data()["source"].items()}


def version_verdict(version: str) -> Verdict:
    body = _data()["versions"].get(version)
    if body is None:
        return Verdict("insufficient", False, why=version)
    klass, bsi = _entry(body, version)
    return Verdict(klass, bsi, why=version)


def _split(name: str) -> tuple[str, str, str] | None:
    """``TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`` → (``ECDHE_RSA``, ``AES_128_GCM``, ``SHA256``)."""
    if not name.startswith("TLS_") or "_WITH_" not in name:
        return None
    kx, _, rest = name[4:].partition("_WITH_")
    for cipher in sorted(_data()["cipher"], key=len, reverse=True):
        if rest == cipher or rest.startswith(cipher + "_"):
            mac = rest[len(cipher) + 1:] or "SHA256"  # CCM suites name no hash: their PRF is SHA-256
            return kx, cipher, mac
    return kx, rest, ""


@cache
def suite_verdict(name: str) -> Verdict:
    """The class of one cipher suite by its IANA name."""
    data = _data()
    if name in data["tls13_suites"]:
        klass, bsi = _entry(data["tls13_suites"][name], name)
        return Verdict(klass, bsi, True, name)
    parts = _split(name)
    if parts is None:
        return Verdict("insufficient", False, False, name)
    kx, cipher, mac = parts
    found = [(f"key exchange {kx}", data["key_exchange"].get(kx)), (f"cipher {cipher}", data["cipher"].get(cipher)),
             (f"MAC {mac or '-'}", data["mac"].get(mac))]
    judged = [(why, *_entry(body, why)) if body is not None else (why, "insufficient", False) for why, body in found]
    klass = worst(*(k for _, k, _ in judged))
    why = next(w for w, k, _ in judged if k == klass)
    fs_body = data["key_exchange"].get(kx)
    fs = bool(fs_body.get("forward_secrecy")) if isinstance(fs_body, dict) else False
    return Verdict(klass, all(b for _, _, b in judged), fs, why)


def group_verdict(group: str) -> Verdict:
    body = _data()["groups"].get(group)
    if body is None:
        return Verdict("insufficient", False, why=group)
    klass, bsi = _entry(body, group)
    return Verdict(klass, bsi, why=group)


def key_verdict(kind: str, bits: int | None) -> Verdict:
    """The class of a certificate key (``RSA``, ``EC``, ``DSA``, ``Ed25519``) or DH prime (``DH``) of ``bits``."""
    data = _data()["key_sizes"]
    rows = data.get(kind)
    if not isinstance(rows, list):
        return Verdict("insufficient", False, why=kind)
    size = bits or 0
    klass = next((r["class"] for r in rows if size >= int(r["bits"])), "insufficient")
    bsi_min = data.get("bsi_min_bits", {}).get(kind)
    bsi = bsi_min is not None and size >= int(bsi_min)
    return Verdict(klass, bsi, why=f"{kind} {size}" if size else kind)


def signature_hash_verdict(hash_name: str) -> Verdict:
    body = _data()["signature_hashes"].get(hash_name.lower())
    if body is None:
        return Verdict("insufficient", False, why=hash_name)
    klass, bsi = _entry(body, hash_name)
    return Verdict(klass, bsi, why=hash_name)
