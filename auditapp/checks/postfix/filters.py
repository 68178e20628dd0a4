"""Filtering of mail from authenticated users (knowledge base R9, R11).

Outbound mail should pass a spam/virus filter, and a heavyweight before-queue content filter
(``smtpd_proxy_filter``) should not make logged-in clients wait. A milter on the submission
service is neither a defect nor a proxy: rspamd there is usually the outbound filter, the
DKIM signer and the per-user rate limit at once. So no remediation here ever removes a
milter, and a content_filter is only suggested with a transport that master.cf defines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from auditapp.checks.postfix.base import NEEDS, Scope, cites, fix_service, kinds_of, no_master, with_config
from auditapp.checks.registry import CheckContext, check
from auditapp.core.model import Finding, Reason
from auditapp.core.text import ascii_digits
from auditapp.data.milters import MilterKind, identify
from auditapp.postfix import MasterService, Param, PostfixConfig
from auditapp.postfix.analysis import milter_list, milters_disabled
from auditapp.postfix.roles import Kind, auth_enabled, filter_transports

#: Postfix FILTER_README: the smtp client transport that feeds amavisd-new (shown, never assumed).
#: smtp_dns_support_level (Postfix 2.11+) instead of disable_dns_lookups, which 3.9 deprecates.
AMAVIS_STANZA = ("smtp-amavis unix - - n - 2 smtp -o smtp_data_done_timeout=1200 "
                 "-o smtp_send_xforward_command=yes -o smtp_dns_support_level=disabled -o max_use=20")
RSPAMD_MILTER = "inet:localhost:11332"


@dataclass(frozen=True)
class Milter:
    address: str
    via: str
    kind: MilterKind | None

    def label(self) -> str:
        name = self.kind.name if self.kind else "?"
        return f"{self.address} ({name})"


def service_milters(cfg: PostfixConfig, svc: MasterService) -> tuple[Param, Param, list[Milter]]:
    """(smtpd_milters, receive_override_options, the milters in force), each with what it is."""
    rov = svc.effective("receive_override_options")
    p = svc.effective("smtpd_milters")
    if milters_disabled(rov.expanded):
        return p, rov, []
    out: list[Milter] = []
    for word in milter_list(p.value):
        if word.startswith("$"):
            name = word.strip("${}()")
            for addr in milter_list(cfg.get(name, svc).expanded):
                out.append(Milter(addr, name, identify(addr, name)))
        else:
            out.append(Milter(word, "", identify(word)))
    return p, rov, out


def client_scopes(cfg: PostfixConfig) -> list[MasterService]:
    """Where authenticated users hand in mail: submission, other public ports with AUTH, else port 25."""
    subs = [k.svc for k in kinds_of(cfg, Kind.SUBMISSION)]
    subs += [k.svc for k in kinds_of(cfg, Kind.OTHER) if auth_enabled(cfg, k.svc)]
    if subs:
        return subs
    return [k.svc for k in kinds_of(cfg, Kind.MX) if auth_enabled(cfg, k.svc)]


def _defined_transports(cfg: PostfixConfig) -> set[str]:
    return {s.name for s in cfg.services if s.type == "unix"}


def _filter_fix(cfg: PostfixConfig, svc: MasterService, milters: list[Milter]) -> object:
    """A fix that works with what this configuration already has, or the words to get there.

    Reuse a content_filter another part of the configuration already uses with a transport
    master.cf defines; else add a filtering milter another service already uses, keeping
    every milter of this service (signers included). Only then, and never as a bare command,
    suggest installing rspamd.
    """
    defined = _defined_transports(cfg)
    for source in [None, *cfg.services]:
        value = (cfg.get("content_filter") if source is None else source.effective("content_filter")).expanded.strip()
        if value and value.split(":", 1)[0] in defined:
            return fix_service(svc, ("content_filter", value))
    keep = [m.address for m in milters]
    for other in cfg.smtpd_services():
        for m in service_milters(cfg, other)[2]:
            if m.kind is not None and m.kind.filters and m.address not in keep:
                return fix_service(svc, ("smtpd_milters", ",".join([*keep, m.address])))
    with_rspamd = fix_service(svc, ("smtpd_milters", ",".join([*keep, RSPAMD_MILTER])))
    return {
        "de": f"einen Spamfilter installieren, z. B. rspamd (Proxy-Worker im Milter-Modus auf Port 11332), und erst "
              f"danach {with_rspamd} (die vorhandenen Milter bleiben erhalten, sie signieren z. B. DKIM)",
        "en": f"install a spam filter, e.g. rspamd (proxy worker in milter mode on port 11332), and only then "
              f"{with_rspamd} (the existing milters stay, they e.g. sign DKIM)",
    }


@check("PF-NO-OUTBOUND-FILTER", needs=NEEDS)
@with_config
def no_outbound_filter(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    if not cfg.has_master:
        yield no_master(ctx, cfg)
        return
    services = client_scopes(cfg)
    if not services:
        yield ctx.not_applicable("postfix", [f"{s.key} [{s.source}]" for s in cfg.smtpd_services()])
        return
    for svc in services:
        scope = Scope(cfg, svc)
        cf, proxy = svc.effective("content_filter"), svc.effective("smtpd_proxy_filter")
        mp, rov, milters = service_milters(cfg, svc)
        found = [f"content_filter {cf.expanded.strip()}"] if cf.expanded.strip() else []
        found += [f"smtpd_proxy_filter {proxy.expanded.strip()}"] if proxy.expanded.strip() else []
        found += [f"milter {m.label()}" for m in milters if m.kind is not None and m.kind.filters]
        unknown = [m for m in milters if m.kind is None]
        signers = [m for m in milters if m.kind is not None and not m.kind.filters]
        shown = [cf, proxy, mp, *([rov] if milters_disabled(rov.expanded) else [])]
        evidence = tuple(p.cite() for p in (cf, proxy, mp, rov))
        params = {"service": scope.label, "setting": cites(*shown)}
        if found:
            yield ctx.passed(scope.subject, evidence, filters=found, **params)
        elif unknown:
            # A milter we cannot identify may well be the filter: no verdict either way.
            yield ctx.not_tested(scope.subject, Reason("reason.milter_unknown", {
                "service": scope.label, "milters": ", ".join(m.address for m in unknown)}), evidence)
        else:
            outcome = "signing_only" if signers else "none"
            yield ctx.fail(scope.subject, outcome, evidence, filters=[m.label() for m in signers],
                           fix=_filter_fix(cfg, svc, milters), **params)


def _proxy_fix(cfg: PostfixConfig, svc: MasterService, proxy: str) -> tuple[object, str]:
    """(fix, stanza): move the proxy's filter behind the queue with a transport master.cf has.

    The proxy's own address stays the target: amavis answers SMTP on its port either way, and
    the port (10026 on Modoboa and iRedMail) selects its policy bank for outgoing mail.
    """
    target = proxy.strip().removeprefix("inet:")
    host, _, port = target.rpartition(":")
    nexthop = f"{host if host.startswith('[') else f'[{host}]'}:{port}" if host and ascii_digits(port) else target
    feeds = sorted(filter_transports(cfg) & {s.name for s in cfg.smtp_client_services()})
    transport = feeds[0] if feeds else "smtp-amavis"
    fix = fix_service(svc, ("smtpd_proxy_filter", ""), ("content_filter", f"{transport}:{nexthop}"))
    if feeds:
        return fix, ""
    return fix, {"de": f" Zuerst diesen Eintrag in master.cf ergänzen: {AMAVIS_STANZA}.",
                 "en": f" First add this entry to master.cf: {AMAVIS_STANZA}."}


@check("PF-PREQUEUE-FOR-AUTH", needs=NEEDS)
@with_config
def prequeue_for_auth(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    if not cfg.has_master:
        yield no_master(ctx, cfg)
        return
    services = [s for s in client_scopes(cfg) if not any(k.svc is s for k in kinds_of(cfg, Kind.MX))]
    if not services:
        yield ctx.not_applicable("postfix", [f"{s.key} [{s.source}]" for s in cfg.smtpd_services()])
        return
    for svc in services:
        scope = Scope(cfg, svc)
        proxy = svc.effective("smtpd_proxy_filter")
        mp, rov, milters = service_milters(cfg, svc)
        evidence = tuple(p.cite() for p in (proxy, svc.effective("content_filter"), mp, rov))
        if proxy.expanded.strip():
            fix, stanza = _proxy_fix(cfg, svc, proxy.expanded)
            yield ctx.fail(scope.subject, "proxy", evidence, service=scope.label, setting=proxy.cite(),
                           filters=[proxy.expanded.strip()], fix=fix, stanza=stanza)
        else:
            yield ctx.passed(scope.subject, evidence, service=scope.label, setting=cites(proxy, mp),
                             milters=", ".join(m.label() for m in milters) or "-")
