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
from typing import TYPE_CHECKING, Literal, cast

from auditapp.core.model import Severity
from auditapp.data._toml import DataError, read, strings, suffix_match, text

if TYPE_CHECKING:
    from auditapp.catalog import Text

CLASSES = ("spam_source", "compromised", "policy_enduser", "provider_range", "reputation_low", "refused",
           "not_listed", "other")
#: Classes that are no listing at all: the answer is an error, or a good rating.
NOT_LISTINGS = ("refused", "not_listed")

#: Whether a zone lists IPv6 addresses at all (dnsbl_zones.toml ``ipv6``).
Ipv6Coverage = Literal["yes", "no", "unknown"]
IPV6_COVERAGE: tuple[Ipv6Coverage, ...] = ("yes", "no", "unknown")
#: Verification levels of the file (knowledge-2026.md §0.1): operator's own documentation,
#: only secondary sources, unverified.
VERIFIED_LEVELS = ("V", "S", "U")


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
    #: Whether the list holds IPv6 entries. Many lists answer NXDOMAIN to every IPv6 query
    #: because they list IPv4 only; their NXDOMAIN says nothing about an IPv6 sender, so
    #: "not listed" must not be reported as if the address had been checked. "no": the
    #: zone is not asked about IPv6 addresses at all; "unknown": asked, but a "not listed"
    #: carries the caveat that the list's IPv6 coverage is not documented.
    ipv6: Ipv6Coverage = "unknown"
    #: Where the ``ipv6`` value comes from (empty for an undocumented "unknown").
    ipv6_source: str = ""
    #: "V", "S" or "U" for the ``ipv6`` value alone (it can differ from the codes' level).
    ipv6_verified: str = "U"


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


def _ipv6(body: dict[str, object], where: str, *, zone: bool) -> tuple[Ipv6Coverage, str, str]:
    """The ``ipv6``, ``ipv6_source`` and ``ipv6_verified`` keys of a zone (or of [default]).

    Every zone must state its IPv6 coverage, so a zone added later cannot silently fall back
    to "queried and reported as not listed". A "yes" or "no" is a claim about the operator's
    list and needs a source that is at least secondary; without one the value is "unknown".
    """
    value = body.get("ipv6")
    if value not in IPV6_COVERAGE:
        raise DataError(f"{where}.ipv6: must be one of {IPV6_COVERAGE}, not {value!r}")
    coverage = cast("Ipv6Coverage", value)
    source = body.get("ipv6_source", "")
    level = body.get("ipv6_verified", "U")
    if not isinstance(source, str) or (source and not source.startswith(("https://", "http://"))):
        raise DataError(f"{where}.ipv6_source: must be an http(s) URL")
    if level not in VERIFIED_LEVELS:
        raise DataError(f"{where}.ipv6_verified: must be one of {VERIFIED_LEVELS}")
    if zone and ("ipv6_verified" not in body or "ipv6_source" not in body):
        raise DataError(f"{where}: needs ipv6_source and ipv6_verified beside ipv6")
    if coverage != "unknown" and (not source or level == "U"):
        raise DataError(f"{where}: ipv6 = {coverage!r} needs an ipv6_source and a level V or S")
    return coverage, source, str(level)


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
        ipv6, ipv6_source, ipv6_verified = _ipv6(body, where, zone=True)
        lists.append(Blocklist(
            id=zid, suffixes=tuple(s.lower() for s in strings(body.get("zone_suffixes"), where + ".zone_suffixes",
                                                               allow_empty=False)),
            operator=str(body.get("operator", "")), closed=body["status"] == "closed",
            delisting=str(body.get("delisting", "")), codes=_codes(body.get("codes"), where),
            ipv6=ipv6, ipv6_source=ipv6_source, ipv6_verified=ipv6_verified,
        ))
    return tuple(lists), default


def blocklist_for(zone: str) -> Blocklist | None:
    lists, _ = _data()
    for bl in lists:
        if suffix_match(zone, bl.suffixes):
            return bl
    return None


@cache
def _default_ipv6() -> Ipv6Coverage:
    """IPv6 coverage of a zone this file does not know ([default] ``ipv6``)."""
    default = read("dnsbl_zones.toml").get("default") or {}
    return _ipv6(default, "dnsbl_zones.toml: [default]", zone=False)[0]


def ipv6_coverage(zone: str) -> Ipv6Coverage:
    """Whether ``zone`` lists IPv6 addresses: its own entry, else the [default] table ("unknown").

    The answer decides whether an IPv6 sender is asked about at all ("no": not asked, the
    result is not applicable) and whether a "not listed" needs a caveat ("unknown").
    """
    bl = blocklist_for(zone)
    return bl.ipv6 if bl is not None else _default_ipv6()


def meaning_of(zone: str, code: str) -> CodeMeaning:
    """The zone's own entry for ``code``, else the generic one ([default])."""
    bl = blocklist_for(zone)
    _, default = _data()
    for cm in (*(bl.codes if bl else ()), *default):
        if cm.covers(code):
            return cm
    raise DataError(f"dnsbl_zones.toml: no meaning for {code} (the [default] table must cover 127.0.0.0/8)")
