"""The layout of a domain's mail hosts: functional names, MX apart from submission, stray ports (R11, R12).

A hosted domain's layout is its provider's business: when every MX belongs to a mailbox
provider (auditapp/data/hosted_providers.toml), these rules say so instead of blaming the
customer for host names and addresses it cannot change.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditapp.checks.registry import CheckContext, check
from auditapp.checks.services.base import (
    NEEDS,
    NEEDS_HOSTING,
    ROLE_SERVICES,
    discovery_of,
    host_lookup_failure,
    names_at,
    probe_evidence,
    probe_params,
    probes_of,
    roles_at,
    unless_hosted,
)
from auditapp.collectors.service_facts import EndpointProbe, PortState, Role
from auditapp.core.model import Finding, Reason


@check("SERVICE-NAMES", needs=NEEDS_HOSTING)
@unless_hosted
def service_names(ctx: CheckContext) -> Iterator[Finding]:
    disc = discovery_of(ctx)
    clients = [h for h in disc.hosts if Role.SUBMISSION in h.roles or Role.MAILBOX in h.roles]
    ev = [a.evidence() for a in disc.srv] + list(disc.notes)
    if clients:
        hosts = "; ".join(f"{h.name} ({', '.join(h.sources)})" for h in clients)
        yield ctx.passed(ctx.domain, ev, hosts=hosts, domain=ctx.domain)
    elif disc.failures:
        yield ctx.not_tested(ctx.domain, Reason("reason.discovery_failed", {"what": disc.failures[0].reason}), ev)
    else:
        yield ctx.fail(ctx.domain, "missing", ev, domain=ctx.domain)


@check("SERVICE-SHARED-MX", needs=NEEDS_HOSTING)
@unless_hosted
def service_shared_mx(ctx: CheckContext) -> Iterator[Finding]:
    disc = discovery_of(ctx)
    mx_hosts = disc.hosts_with(Role.MX)
    mx_addresses = {a: h.name for h in mx_hosts for a in h.addresses}
    subs = disc.hosts_with(Role.SUBMISSION)
    if not mx_hosts or not subs:
        yield ctx.not_applicable(ctx.domain, domain=ctx.domain)
        return
    unresolved = [h for h in [*mx_hosts, *subs] if not h.addresses and host_lookup_failure(h) is not None]
    if unresolved:
        yield ctx.dns_not_tested(ctx.domain, host_lookup_failure(unresolved[0]))  # type: ignore[arg-type]
        return
    for host in subs:
        shared = [a for a in host.addresses if a in mx_addresses]
        if shared:
            yield ctx.fail(host.name, "shared", [], submission=host.name, mx=mx_addresses[shared[0]],
                           addresses=", ".join(shared), domain=ctx.domain)
        else:
            yield ctx.passed(host.name, [], submission=host.name, mx=", ".join(h.name for h in mx_hosts),
                             domain=ctx.domain)


@check("SERVICE-UNEXPECTED-PORT", needs=NEEDS)
def service_unexpected_port(ctx: CheckContext) -> Iterator[Finding]:
    disc = discovery_of(ctx)
    by_address: dict[str, list[EndpointProbe]] = {}
    for p in probes_of(ctx).values():
        by_address.setdefault(p.address, []).append(p)
    for address, probes in sorted(by_address.items()):
        roles = roles_at(disc, address)
        expected = {s for r in roles for s in ROLE_SERVICES[r]}
        # A name that is both MX and mail.* may legitimately answer everywhere; only judge
        # services that no role of this address explains.
        stray = [p for p in probes if p.state is PortState.OPEN and p.service not in expected]
        hosts = ", ".join(names_at(disc, address))
        role_text = ", ".join(sorted(r.value for r in roles))
        for p in sorted(stray, key=lambda p: p.port):
            yield ctx.fail(p.endpoint, "unexpected", probe_evidence(p)[:3],
                           **probe_params(p, hosts=hosts, roles=role_text))
        if not stray:
            open_services = sorted(p.service for p in probes if p.state is PortState.OPEN)
            yield ctx.passed(address, [], address=address, services=", ".join(open_services) or "-")
