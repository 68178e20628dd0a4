"""The role of a Postfix milter, from its address or the parameter that names it (milters.toml)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from auditapp.data._toml import DataError, read, strings

ROLES = ("filter", "virus", "signer", "verifier", "ratelimit", "greylist")
#: Roles that count as an outbound spam/virus filter.
FILTER_ROLES = frozenset({"filter", "virus"})


@dataclass(frozen=True)
class MilterKind:
    id: str
    name: str
    words: tuple[str, ...]
    ports: tuple[int, ...]
    roles: frozenset[str]
    note: str

    @property
    def filters(self) -> bool:
        return bool(self.roles & FILTER_ROLES)

    @property
    def signs(self) -> bool:
        return "signer" in self.roles


@cache
def milter_kinds() -> tuple[MilterKind, ...]:
    out = []
    for mid, body in read("milters.toml").items():
        where = f"milters.toml: [{mid}]"
        roles = strings(body.get("roles"), where + ".roles", allow_empty=False)
        if set(roles) - set(ROLES):
            raise DataError(f"{where}: unknown roles {sorted(set(roles) - set(ROLES))}")
        ports = body.get("ports", [])
        if not isinstance(ports, list) or not all(isinstance(p, int) for p in ports):
            raise DataError(f"{where}.ports must be a list of port numbers")
        strings(body.get("sources"), where + ".sources", allow_empty=False)
        out.append(MilterKind(mid, str(body.get("name", mid)),
                              tuple(w.lower() for w in strings(body.get("words"), where + ".words")),
                              tuple(ports), frozenset(roles), str(body.get("note", ""))))
    return tuple(out)


def _tokens(text: str) -> set[str]:
    low = text.lower()
    return set(re.split(r"[:/._\-{},\s\[\]$()]+", low)) | set(re.split(r"[:/.,\s\[\]$(){}]+", low))


def _port(address: str) -> int | None:
    m = re.search(r":(\d{1,5})(?=\s*(?:,|\}|$))", address.strip(), re.ASCII)
    return int(m.group(1)) if m else None


def identify(address: str, via: str = "") -> MilterKind | None:
    """What the milter at ``address`` is (``via``: the $parameter that held it), or None if unknown.

    Words win over ports: "inet:rspamd:9900" (mailcow) is rspamd although 9900 is not its
    conventional port; a bare "inet:127.0.0.1:12345" stays unknown.
    """
    tokens = _tokens(address) | _tokens(via)
    for kind in milter_kinds():
        if tokens & set(kind.words):
            return kind
    port = _port(address)
    for kind in milter_kinds():
        if port is not None and port in kind.ports:
            return kind
    return None
