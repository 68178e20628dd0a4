"""IPv6 reachability of the MX hosts (issue 16; knowledge base B10, B13; RFC 3596; internet.nl's mail test).

MX-IPV6-MISSING is about DNS (does each MX host have an AAAA record), MX-IPV6-UNREACHABLE about
the port-25 probes the service collector already made on every address of every MX host: an
IPv6 address whose port 25 does not answer while the same host's IPv4 address does is the
"works for us, bounces for IPv6 senders" fault.

Honest verdicts: only a connection the host refused (RST) proves on its own that port 25 is
closed. A timeout or "network unreachable" on an IPv6 address is a failure only when IPv6
demonstrably works from where the audit runs (another IPv6 endpoint of this run answered);
otherwise the auditor's own network may lack IPv6, and the result is ``not_tested``.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditapp.checks.registry import CheckContext, check
from auditapp.checks.services.base import (
    MX_PORTS,
    NEEDS,
    address_evidence,
    dialogue_not_tested,
    discovery_of,
    lookup_not_tested,
    probe_evidence,
    probe_params,
    probes_of,
)
from auditapp.collectors.service_facts import DiscoveredHost, EndpointProbe, PortState, Role
from auditapp.core.model import Finding


def _v6(address: str) -> bool:
    return ":" in address


def _no_mx(ctx: CheckContext) -> Finding:
    disc = discovery_of(ctx)
    if disc.mx is not None and disc.mx.outcome.is_failure:
        return ctx.dns_not_tested(ctx.domain, disc.mx)
    return ctx.not_applicable(ctx.domain, [disc.mx.evidence()] if disc.mx else [], outcome="no_mx")


@check("MX-IPV6-MISSING", needs=NEEDS)
def mx_ipv6_missing(ctx: CheckContext) -> Iterator[Finding]:
    disc = discovery_of(ctx)
    hosts = disc.hosts_with(Role.MX)
    if not hosts:
        yield _no_mx(ctx)
        return
    for host in hosts:
        ev = address_evidence(host)
        v6 = [a for a in host.addresses if _v6(a)]
        params = {"host": host.name}
        if v6:
            yield ctx.passed(host.name, ev, addresses=", ".join(v6), **params)
        elif host.aaaa is not None and host.aaaa.outcome.is_failure:
            yield ctx.dns_not_tested(host.name, host.aaaa, ev)
        elif not host.addresses:
            # No address at all: SMTP-UNREACHABLE reports it (no_address), or its lookup failed.
            yield lookup_not_tested(ctx, host) or ctx.not_applicable(host.name, ev, outcome="no_address", **params)
        else:
            yield ctx.fail(host.name, "missing", ev, addresses=", ".join(host.addresses), **params)


def _hosts_at(hosts: tuple[DiscoveredHost, ...], address: str) -> list[DiscoveredHost]:
    return [h for h in hosts if address in h.addresses]


@check("MX-IPV6-UNREACHABLE", needs=NEEDS)
def mx_ipv6_unreachable(ctx: CheckContext) -> Iterator[Finding]:
    disc = discovery_of(ctx)
    hosts = disc.hosts_with(Role.MX)
    if not hosts:
        yield _no_mx(ctx)
        return
    smtp = MX_PORTS.endpoints(ctx)
    v6_probes = [p for p in smtp if _v6(p.address)]
    if not v6_probes:
        ev = [line for h in hosts for line in address_evidence(h)]
        yield ctx.not_applicable(ctx.domain, ev, outcome="no_ipv6", hosts=", ".join(h.name for h in hosts))
        return
    # Proof that IPv6 works from here: any IPv6 endpoint of this run (any host, any port) answered.
    v6_works = any(p.state is PortState.OPEN and _v6(p.address) for p in probes_of(ctx).values())
    for p in v6_probes:
        own = _hosts_at(hosts, p.address)
        names = ", ".join(h.name for h in own)
        v4: list[EndpointProbe] = [q for q in smtp if not _v6(q.address) and _hosts_at(own, q.address)]
        v4_open = [q for q in v4 if q.state is PortState.OPEN]
        ev = [*probe_evidence(p), *(line for q in v4 for line in probe_evidence(q))]
        params = probe_params(p, host=names, detail=p.state_detail or p.state.value,
                              ipv4=", ".join(q.endpoint for q in v4_open) or "-")
        if p.state is PortState.OPEN:
            yield ctx.passed(p.endpoint, ev, **params)
        elif p.state is PortState.ERROR:
            yield dialogue_not_tested(ctx, p, p.problem or p.state_detail or "error")
        elif not v4_open:
            # IPv4 does not answer either (or the host has none): SMTP-UNREACHABLE judges that.
            yield ctx.not_applicable(p.endpoint, ev, outcome="ipv4_down", **params)
        elif p.state is PortState.REFUSED:
            yield ctx.fail(p.endpoint, "refused", ev, **params)
        elif v6_works:
            yield ctx.fail(p.endpoint, "filtered" if p.state is PortState.TIMEOUT else "unreachable", ev, **params)
        else:
            # No IPv6 endpoint answered at all: this computer's network may have no IPv6 route.
            yield dialogue_not_tested(ctx, p, p.problem or p.state_detail or p.state.value, [
                *ev, "no IPv6 endpoint of this audit answered: the network the audit runs from may not route IPv6"])
