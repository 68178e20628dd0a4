"""What a DNS blocklist's answer means (dnsbl_zones.toml): listing, refusal, or a closed list.

One code does not mean one thing: Spamhaus 127.0.0.2 is a manual spam listing, 127.0.0.11 an
end-user range that a real mail server leaves by self-service, 127.255.255.254 a refused query;
UCEPROTECT level 3 lists whole providers. The check reports each with its own meaning and
severity, in the report's language.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from auditapp.core.model import Severity
from auditapp.data._toml import DataError, read, strings, suffix_match, text

if TYPE_CHECKING:
    from auditapp.catalog import Text

CLASSES = ("spam_source", "compromised", "policy_enduser", "provider_range", "reputation_low", "refused",
           "not_listed", "other")
#: Classes that are no listing at all: the answer is an error, or a good rating.
NOT_LISTINGS = ("refused", "not_listed")


@dataclass(frozen=True)
class CodeMeaning:
    ranges: tuple[tuple[int, int], ...]
    list: str
    klass: str
    severity: Severity | None
    meaning: Text
    remediation: Text

    def covers(self, code: str) -> bool:
        n = int(ipaddress.IPv4Address(code))
        return any(lo <= n <= hi for lo, hi in self.ranges)


@dataclass(frozen=True)
class Blocklist:
    id: str
    suffixes: tuple[str, ...]
    operator: str
    closed: bool
    delisting: str
    codes: tuple[CodeMeaning, ...]


def _ranges(values: tuple[str, ...], where: str) -> tuple[tuple[int, int], ...]:
    out = []
    for v in values:
        lo, _, hi = v.partition("-")
        try:
            a, b = int(ipaddress.IPv4Address(lo)), int(ipaddress.IPv4Address(hi or lo))
        except ValueError:
            raise DataError(f"{where}: {v!r} is not an IPv4 code or range") from None
        if a > b:
            raise DataError(f"{where}: range {v!r} runs backwards")
        out.append((a, b))
    return tuple(out)


def _codes(entries: object, where: str) -> tuple[CodeMeaning, ...]:
    if not isinstance(entries, list) or not entries:
        raise DataError(f"{where}: needs [[codes]] entries")
    out = []
    for i, e in enumerate(entries):
        w = f"{where}.codes[{i}]"
        if not isinstance(e, dict):
            raise DataError(f"{w} must be a table")
        klass = e.get("class")
        if klass not in CLASSES:
            raise DataError(f"{w}: class must be one of {CLASSES}")
        sev = e.get("severity")
        if klass in NOT_LISTINGS:
            if sev != "none":
                raise DataError(f"{w}: a {klass} code has severity \"none\"")
            severity = None
        else:
            try:
                severity = Severity(sev)
            except ValueError:
                raise DataError(f"{w}: bad severity {sev!r}") from None
        out.append(CodeMeaning(_ranges(strings(e.get("codes"), w + ".codes", allow_empty=False), w),
                               str(e.get("list", "")), klass, severity, text(e.get("meaning"), w + ".meaning"),
                               text(e.get("remediation"), w + ".remediation")))
    return tuple(out)


@cache
def _data() -> tuple[tuple[Blocklist, ...], tuple[CodeMeaning, ...]]:
    data = read("dnsbl_zones.toml")
    default = _codes((data.get("default") or {}).get("codes"), "dnsbl_zones.toml: [default]")
    lists = []
    for zid, body in (data.get("zone") or {}).items():
        where = f"dnsbl_zones.toml: [zone.{zid}]"
        if body.get("status") not in ("active", "closed"):
            raise DataError(f"{where}: status must be active or closed")
        strings(body.get("sources"), where + ".sources", allow_empty=False)
        lists.append(Blocklist(
            id=zid, suffixes=tuple(s.lower() for s in strings(body.get("zone_suffixes"), where + ".zone_suffixes",
                                                               allow_empty=False)),
            operator=str(body.get("operator", "")), closed=body["status"] == "closed",
            delisting=str(body.get("delisting", "")), codes=_codes(body.get("codes"), where),
        ))
    return tuple(lists), default


def blocklist_for(zone: str) -> Blocklist | None:
    lists, _ = _data()
    for bl in lists:
        if suffix_match(zone, bl.suffixes):
            return bl
    return None


def meaning_of(zone: str, code: str) -> CodeMeaning:
    """The zone's own entry for ``code``, else the generic one ([default])."""
    bl = blocklist_for(zone)
    _, default = _data()
    for cm in (*(bl.codes if bl else ()), *default):
        if cm.covers(code):
            return cm
    raise DataError(f"dnsbl_zones.toml: no meaning for {code} (the [default] table must cover 127.0.0.0/8)")
