"""Hosted mail providers, recognised from a domain's MX hosts (hosted_providers.toml).

When every MX of a domain belongs to one provider, inbound mail and (for ``kind = "mailbox"``)
the mailboxes and client submission are the provider's servers: the audit then uses the
provider's documented client endpoints and does not blame the customer for the provider's
host layout. A gateway (``kind = "gateway"``) only filters inbound mail; mailboxes and
submission stay the customer's own and keep every check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from auditapp.data._toml import DataError, read, strings, suffix_match, text

if TYPE_CHECKING:
    from auditapp.catalog import Text

KINDS = ("mailbox", "gateway")
#: In a client host list, this token stands for the customer's own matched MX host.
MX_TOKEN = "{mx}"
_KEYS = {"name", "kind", "mx_suffixes", "spf_includes", "dkim_selectors", "dkim_note", "submission_hosts",
         "mailbox_hosts", "documentation", "sources", "verified", "notes", "dkim_fixed", "dkim_documentation"}


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    kind: str
    mx_suffixes: tuple[str, ...]
    spf_includes: tuple[str, ...]
    dkim_selectors: tuple[str, ...]
    dkim_note: Text
    submission_hosts: tuple[str, ...]
    mailbox_hosts: tuple[str, ...]
    documentation: str
    sources: tuple[str, ...]
    verified: str
    #: Customer domains must use exactly these selector names (Microsoft 365's selector1/2):
    #: their absence then proves that signing for the domain is not switched on.
    dkim_fixed: bool = False
    #: The provider's page on switching DKIM on for a custom domain, where it has one.
    dkim_documentation: str = ""

    def matches(self, mx_host: str) -> bool:
        return suffix_match(mx_host, self.mx_suffixes) is not None

    def client_hosts(self, role: str, mx_hosts: Iterable[str]) -> tuple[str, ...]:
        """The documented client endpoints for ``role`` ("submission" or "mailbox"), ``{mx}`` filled in."""
        listed = self.submission_hosts if role == "submission" else self.mailbox_hosts
        out: list[str] = []
        for host in listed:
            for name in ([m for m in mx_hosts if self.matches(m)] if host == MX_TOKEN else [host]):
                if name not in out:
                    out.append(name)
        return tuple(out)


def _url(value: object, where: str, *, optional: bool = False) -> str:
    if optional and value in (None, ""):
        return ""
    if not isinstance(value, str) or not value.startswith("https://"):
        raise DataError(f"{where} must be an https:// URL")
    return value


def _provider(pid: str, data: object) -> Provider:
    where = f"hosted_providers.toml: [{pid}]"
    if not isinstance(data, dict):
        raise DataError(f"{where} must be a table")
    unknown = set(data) - _KEYS
    if unknown:
        raise DataError(f"{where}: unknown keys {sorted(unknown)}")
    kind = data.get("kind")
    if kind not in KINDS:
        raise DataError(f"{where}: kind must be one of {KINDS}")
    suffixes = tuple(s.lower().rstrip(".") for s in strings(data.get("mx_suffixes"), where + ".mx_suffixes",
                                                             allow_empty=False))
    hosts = {r: strings(data.get(f"{r}_hosts", []), f"{where}.{r}_hosts") for r in ("submission", "mailbox")}
    for role, listed in hosts.items():
        for h in listed:
            if h != MX_TOKEN and ("{" in h or " " in h or "." not in h):
                raise DataError(f"{where}.{role}_hosts: {h!r} is not a host name or {MX_TOKEN}")
    doc = _url(data.get("documentation"), where + ".documentation")
    verified = data.get("verified")
    if verified not in ("V", "S", "U"):
        raise DataError(f"{where}: verified must be V, S or U")
    return Provider(
        id=pid,
        name=str(data.get("name") or pid),
        kind=kind,
        mx_suffixes=suffixes,
        spf_includes=tuple(s.lower() for s in strings(data.get("spf_includes", []), where + ".spf_includes")),
        dkim_selectors=tuple(s.lower() for s in strings(data.get("dkim_selectors", []), where + ".dkim_selectors")),
        dkim_note=text(data.get("dkim_note"), where + ".dkim_note"),
        submission_hosts=hosts["submission"],
        mailbox_hosts=hosts["mailbox"],
        documentation=doc,
        sources=strings(data.get("sources"), where + ".sources", allow_empty=False),
        verified=verified,
        dkim_fixed=bool(data.get("dkim_fixed", False)),
        dkim_documentation=_url(data.get("dkim_documentation", ""), where + ".dkim_documentation", optional=True),
    )


@cache
def providers() -> tuple[Provider, ...]:
    data = read("hosted_providers.toml")
    out = tuple(_provider(pid, body) for pid, body in data.items())
    seen: dict[str, str] = {}
    for p in out:
        for s in p.mx_suffixes:
            if s in seen:
                raise DataError(f"hosted_providers.toml: MX suffix {s!r} is claimed by {seen[s]} and {p.id}")
            seen[s] = p.id
    return out


@dataclass(frozen=True)
class HostingMatch:
    """Which provider the MX hosts point to: all of them (hosted) or only some (mixed)."""

    provider: Provider | None
    matched: tuple[str, ...]
    unmatched: tuple[str, ...]

    @property
    def hosted(self) -> bool:
        """Every MX host belongs to the provider: inbound mail is entirely the provider's."""
        return self.provider is not None and bool(self.matched) and not self.unmatched


def match_mx(mx_hosts: Iterable[str]) -> HostingMatch:
    hosts = [h.rstrip(".").lower() for h in mx_hosts]
    best: Provider | None = None
    best_matched: list[str] = []
    for p in providers():
        matched = [h for h in hosts if p.matches(h)]
        if len(matched) > len(best_matched):
            best, best_matched = p, matched
    if best is None:
        return HostingMatch(None, (), tuple(hosts))
    return HostingMatch(best, tuple(best_matched), tuple(h for h in hosts if h not in best_matched))
