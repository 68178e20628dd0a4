"""What each smtpd service in master.cf is for: the MX, submission, an internal port, or nothing.

Real mail stacks run several smtpd services besides 25 and 587: the re-injection port of a
content filter (127.0.0.1:10025), ports that only other containers reach (mailcow's 588-591,
each with ``smtpd_client_restrictions = permit_mynetworks, reject``), an ``smtpd pass`` entry
left over after postscreen was commented out. Judging those like a submission port produced
findings a client's admin disproves in five minutes (tests/corpus/postfix/), so every PF rule
asks here first what a service is, and each classification says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from auditapp.postfix.analysis import AUTH_PERMITS, is_submission, restrictions
from auditapp.postfix.config import MasterService, PostfixConfig


class Kind(StrEnum):
    MX = "mx"  # takes mail from the Internet on port 25 (directly or behind postscreen)
    SUBMISSION = "submission"  # 587/465 (by number, name or syslog_name)
    OTHER = "other"  # listens on the network on another port: purpose unknown offline
    INTERNAL = "internal"  # loopback only, or only mynetworks may connect
    UNUSED = "unused"  # receives no connections (an smtpd pass entry without postscreen)


@dataclass(frozen=True)
class ServiceKind:
    svc: MasterService
    kind: Kind
    #: A ``why.*`` message key saying why (shown in not-applicable results).
    why: str

    @property
    def public(self) -> bool:
        return self.kind in (Kind.MX, Kind.SUBMISSION, Kind.OTHER)


#: Permits that admit only this machine or the trusted networks, never a stranger or a user.
_LOCAL_ONLY_PERMITS = frozenset({"permit_mynetworks", "permit_inet_interfaces"})


def mynetworks_only(cfg: PostfixConfig, svc: MasterService) -> bool:
    """``smtpd_client_restrictions`` admits only mynetworks and rejects everyone else (no login either)."""
    for r in restrictions(cfg.get("smtpd_client_restrictions", svc).expanded):
        if r.name in ("reject", "defer"):
            return True
        if r.name in AUTH_PERMITS or r.name not in _LOCAL_ONLY_PERMITS:
            return False
    return False


def has_postscreen(cfg: PostfixConfig) -> bool:
    return any(s.command.rsplit("/", 1)[-1] == "postscreen" for s in cfg.services)


def classify(cfg: PostfixConfig, svc: MasterService) -> ServiceKind:
    if svc.type == "pass" and not has_postscreen(cfg):
        return ServiceKind(svc, Kind.UNUSED, "why.pass_unused")
    if svc.type == "pass":
        return ServiceKind(svc, Kind.MX, "why.behind_postscreen")
    if svc.loopback_only:
        return ServiceKind(svc, Kind.INTERNAL, "why.loopback_only")
    if mynetworks_only(cfg, svc):
        return ServiceKind(svc, Kind.INTERNAL, "why.mynetworks_only")
    if svc.port_number == 25:
        return ServiceKind(svc, Kind.MX, "why.port25")
    if is_submission(svc):
        return ServiceKind(svc, Kind.SUBMISSION, "why.submission_port")
    return ServiceKind(svc, Kind.OTHER, "why.other_port")


def smtpd_kinds(cfg: PostfixConfig) -> list[ServiceKind]:
    return [classify(cfg, s) for s in cfg.smtpd_services()]


def services_of(cfg: PostfixConfig, *kinds: Kind) -> list[MasterService]:
    return [k.svc for k in smtpd_kinds(cfg) if k.kind in kinds]


def front_proxy(cfg: PostfixConfig, svc: MasterService | None) -> str:
    """The parameter that hands TLS and the client's identity to a proxy in front of Postfix, or "".

    With XCLIENT (Mailu's nginx, other front ends) the proxy terminates STARTTLS and AUTH
    and passes the session on: what Postfix itself offers on that port says nothing about
    what clients see, so the service probes must judge the public port.
    """
    p = cfg.get("smtpd_authorized_xclient_hosts", svc)
    return p.cite() if p.expanded.strip() else ""


def auth_enabled(cfg: PostfixConfig, svc: MasterService | None) -> bool:
    return cfg.get("smtpd_sasl_auth_enable", svc).flag()


def filter_transports(cfg: PostfixConfig) -> set[str]:
    """Delivery transports that only hand mail to a local content filter (smtp-amavis, scan, ...).

    A transport named by any ``content_filter`` (main.cf or a service's ``-o``) is one; so is
    an smtp client service that sends XFORWARD and skips DNS, the FILTER_README recipe for a
    filter feed. TLS to such a loopback filter is neither possible nor useful.
    """
    names: set[str] = set()
    values = [cfg.get("content_filter").expanded]
    values += [svc.effective("content_filter").expanded for svc in cfg.services]
    for value in values:
        transport = value.strip().split(":", 1)[0]
        if transport:
            names.add(transport)
    for svc in cfg.smtp_client_services():
        no_dns = svc.effective("disable_dns_lookups").flag() or \
            svc.effective("smtp_dns_support_level").expanded.strip() == "disabled"
        if svc.effective("smtp_send_xforward_command").flag() and no_dns:
            names.add(svc.name)
    return names
