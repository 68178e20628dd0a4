"""Reading Postfix values the way smtpd does: restriction lists, mynetworks, TLS protocol lists.

These helpers answer narrow questions for the checks ("does this restriction list refuse
relaying for an unauthenticated stranger?") and say what they could not evaluate (access
tables, policy services, restriction classes), so a check never claims more than the
configuration shows.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from auditapp.postfix.config import MasterService, Param, PostfixConfig

# -- restriction lists ---------------------------------------------------------------------

#: Restrictions that take the next list element as their argument (a table, a DNS list, a service).
_ARG_TAKERS = frozenset({
    "reject_rbl_client", "reject_rhsbl_client", "reject_rhsbl_sender", "reject_rhsbl_recipient",
    "reject_rhsbl_helo", "reject_rhsbl_reverse_client", "permit_dnswl_client", "permit_rhswl_client",
    "reject_dnsbl_client",
})
#: Terminal denials; smtpd refuses to start relay control without one of these (smtpd(8)).
RELAY_DENIALS = ("reject_unauth_destination", "defer_unauth_destination", "reject", "defer", "defer_if_permit",
                 "check_relay_domains")
#: Permits that only apply to authenticated clients (SASL or a client certificate).
AUTH_PERMITS = frozenset({"permit_sasl_authenticated", "permit_tls_clientcerts", "permit_tls_all_clientcerts"})
#: Permits that do not open relaying to foreign domains for a stranger.
_LOCAL_PERMITS = frozenset({"permit_auth_destination", "permit_mx_backup"})


@dataclass(frozen=True)
class Restriction:
    name: str
    arg: str = ""

    def __str__(self) -> str:
        return f"{self.name} {self.arg}".strip()


def restrictions(value: str) -> list[Restriction]:
    """A restriction list split into restrictions with their arguments."""
    words = value.replace(",", " ").split()
    out: list[Restriction] = []
    i = 0
    while i < len(words):
        word = words[i]
        takes_arg = word.lower().startswith("check_") or word.lower() in _ARG_TAKERS
        if takes_arg and i + 1 < len(words):
            out.append(Restriction(word.lower(), words[i + 1]))
            i += 2
        else:
            out.append(Restriction(word.lower()))
            i += 1
    return out


@dataclass
class Verdict:
    """The outcome of walking a restriction list for one kind of client."""

    decided_by: str | None = None  # the restriction that decided, or None if the list ended
    denies: bool = False
    #: Restrictions before the decision that may permit and whose effect the files do not show.
    unevaluated: list[str] = field(default_factory=list)
    #: Permits before the decision that let some unauthenticated clients through.
    exemptions: list[str] = field(default_factory=list)


def _may_permit(r: Restriction) -> bool:
    """Access tables, policy services and restriction classes can answer OK."""
    return r.name.startswith("check_") or (r.name not in RELAY_DENIALS and not r.name.startswith(
        ("reject_", "defer_", "permit_", "warn_", "sleep")) and r.name not in ("permit", "reject", "defer"))


def stranger_relay_verdict(rlist: list[Restriction]) -> Verdict:
    """Walk a list for an unauthenticated client outside mynetworks relaying to a foreign domain."""
    v = Verdict()
    for r in rlist:
        if r.name == "permit":
            v.decided_by = "permit"
            return v
        if r.name in RELAY_DENIALS:
            v.decided_by, v.denies = r.name, True
            return v
        if _may_permit(r):
            v.unevaluated.append(str(r))
    return v


def auth_required_verdict(rlist: list[Restriction]) -> Verdict:
    """Walk a list for an unauthenticated client: does it end in an unconditional reject?

    Permits for authenticated clients are what a submission list is for; any other permit
    before the final ``reject`` (``permit_mynetworks``, access tables) exempts some clients.
    """
    v = Verdict()
    for r in rlist:
        if r.name in AUTH_PERMITS:
            continue
        if r.name == "permit":
            v.decided_by = "permit"
            return v
        if r.name in ("reject", "defer"):
            v.decided_by, v.denies = r.name, True
            return v
        if r.name.startswith("permit_") or _may_permit(r):
            v.exemptions.append(str(r))
    return v


RESTRICTION_LISTS = ("smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions",
                     "smtpd_relay_restrictions", "smtpd_recipient_restrictions")


def restriction_params(cfg: PostfixConfig, svc: MasterService | None) -> list[Param]:
    return [cfg.get(name, svc) for name in RESTRICTION_LISTS]


def uses_permit_mynetworks(params: list[Param]) -> bool:
    return any(r.name == "permit_mynetworks" for p in params for r in restrictions(p.expanded))


# -- mynetworks ----------------------------------------------------------------------------

@dataclass
class NetworksReport:
    any_address: list[str] = field(default_factory=list)
    large_public: list[str] = field(default_factory=list)
    unevaluated: list[str] = field(default_factory=list)


#: Public prefixes wider than these count as "large" (a provider range rather than one site).
LARGE_V4 = 24
LARGE_V6 = 48


def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    text = entry
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](/\d+)?", text)
    if m:
        text = m.group(1) + (m.group(2) or "")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def judge_mynetworks(value: str) -> NetworksReport:
    """Find entries that trust the whole Internet or a large public range."""
    rep = NetworksReport()
    for entry in value.replace(",", " ").split():
        if entry.startswith("!"):
            continue  # an exclusion narrows the list
        net = _network(entry)
        if "$" in entry:
            rep.unevaluated.append(entry)  # a macro that could not be expanded
            continue
        if net is None:
            if entry.startswith("/") or ":" in entry:
                rep.unevaluated.append(entry)  # a file or a lookup table: contents not imported
            continue  # a host name trusts one host
        if net.prefixlen == 0:
            rep.any_address.append(entry)
        elif net.is_global and net.prefixlen < (LARGE_V4 if net.version == 4 else LARGE_V6):
            rep.large_public.append(entry)
    return rep


# -- TLS protocol lists --------------------------------------------------------------------

PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_RANK = {p.lower(): i for i, p in enumerate(PROTOCOLS)}


def allowed_protocols(value: str) -> list[str] | None:
    """The protocols a ``*_tls_protocols`` value allows, or None if it cannot be read.

    Postfix accepts ``>=TLSv1.2`` / ``<=TLSv1.3`` bounds (3.6+), ``!SSLv3`` exclusions and plain
    inclusions; with no inclusion, everything not excluded is allowed. An empty value allows all.
    """
    words = value.replace(",", " ").replace(":", " ").split()
    allowed = set(range(len(PROTOCOLS)))
    included: set[int] = set()
    for word in words:
        op = ""
        for prefix in (">=", "<=", "!"):
            if word.startswith(prefix):
                op, word = prefix, word[len(prefix):]
                break
        rank = _RANK.get(word.lower())
        if rank is None:
            return None
        if op == ">=":
            allowed &= set(range(rank, len(PROTOCOLS)))
        elif op == "<=":
            allowed &= set(range(rank + 1))
        elif op == "!":
            allowed.discard(rank)
        else:
            included.add(rank)
    if included:
        allowed &= included
    return [PROTOCOLS[i] for i in sorted(allowed)]


# -- milters and filters -------------------------------------------------------------------

def milter_list(value: str) -> list[str]:
    """Milter addresses; ``{ inet:host:port, ... }`` per-milter settings keep their braces."""
    items: list[str] = []
    depth, current = 0, ""
    for ch in value:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(depth - 1, 0)
        if depth == 0 and (ch.isspace() or ch == ","):
            if current.strip():
                items.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        items.append(current.strip())
    return items


def milters_disabled(receive_override_options: str) -> bool:
    """``receive_override_options = no_milters`` switches milters off for that service."""
    return "no_milters" in receive_override_options.replace(",", " ").split()


# -- service roles -------------------------------------------------------------------------

_SUBMISSION_NAMES = ("submission", "submissions", "smtps", "ssmtp")


def is_submission(svc: MasterService) -> bool:
    """A submission service: port 587/465 (by number or name), or logging as postfix/submission."""
    if svc.type != "inet":
        return False
    if svc.port_number in (587, 465) or (svc.port or "").lower() in _SUBMISSION_NAMES:
        return True
    syslog = svc.effective("syslog_name").expanded.lower()
    return any(word in syslog for word in ("submission", "smtps"))


def is_implicit_tls_port(svc: MasterService) -> bool:
    return svc.port_number == 465 or (svc.port or "").lower() in ("submissions", "smtps", "ssmtp")


@dataclass(frozen=True)
class ServerTls:
    """How an smtpd service uses TLS, including the pre-2.3 smtpd_use_tls/smtpd_enforce_tls knobs."""

    offered: bool
    mandatory: bool
    wrapper: bool
    deciding: Param


def server_tls(cfg: PostfixConfig, svc: MasterService | None) -> ServerTls:
    wrapper = cfg.get("smtpd_tls_wrappermode", svc)
    level = cfg.get("smtpd_tls_security_level", svc)
    lv = level.expanded.strip().lower()
    if wrapper.flag():
        return ServerTls(True, True, True, wrapper)
    if lv:
        return ServerTls(lv in ("may", "encrypt"), lv == "encrypt", False, level)
    # smtpd_tls_security_level empty: the obsolete booleans still decide (postconf(5)).
    enforce, use = cfg.get("smtpd_enforce_tls", svc), cfg.get("smtpd_use_tls", svc)
    if enforce.flag():
        return ServerTls(True, True, False, enforce)
    if use.flag():
        return ServerTls(True, False, False, use)
    return ServerTls(False, False, False, level)


def client_tls_level(cfg: PostfixConfig, svc: MasterService | None) -> tuple[str, list[Param]]:
    """The SMTP client's effective TLS level and the parameters that decide it."""
    level = cfg.get("smtp_tls_security_level", svc)
    lv = level.expanded.strip().lower()
    if lv:
        return lv, [level]
    enforce, use = cfg.get("smtp_enforce_tls", svc), cfg.get("smtp_use_tls", svc)
    if enforce.flag():
        return "encrypt", [level, enforce]
    if use.flag():
        return "may", [level, use]
    return "none", [level]


def mynetworks_local_only(cfg: PostfixConfig, svc: MasterService | None) -> bool:
    """permit_mynetworks admits only this machine (loopback list, or mynetworks_style = host)."""
    mn = cfg.get("mynetworks", svc)
    if mn.is_default:
        return cfg.get("mynetworks_style", svc).expanded.strip().lower() == "host"
    entries = mn.expanded.replace(",", " ").split()
    nets = [_network(e) for e in entries if not e.startswith("!")]
    return bool(nets) and all(n is not None and n.is_loopback for n in nets)
