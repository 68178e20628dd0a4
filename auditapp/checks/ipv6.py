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
from auditapp.collectors import nameservers as ns_collect
from auditapp.collectors.nameservers import NameserverFact
from auditapp.collectors.service_facts import DiscoveredHost, EndpointProbe, PortState, Role
from auditapp.core.model import Finding, Reason


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


# -- the domain's name servers over IPv6 (internet.nl's two NS subtests) ------------------------

def _ns_fact(ctx: CheckContext) -> NameserverFact:
    fact = ctx.facts.nameservers
    assert fact is not None
    return fact


def _ns_unknown(ctx: CheckContext, fact: NameserverFact) -> Finding | None:
    """The verdict when the NS RRset itself is unknown (lookup failed) or absent, else None."""
    if fact.zone:
        return None
    ev = [a.evidence() for a in fact.ns_answers]
    if fact.ns_answer.outcome.is_failure:
        return ctx.dns_not_tested(ctx.domain, fact.ns_answer, ev)
    return ctx.not_applicable(ctx.domain, ev, outcome="no_ns")


@check("NS-IPV6-MISSING", needs=("nameservers",))
def ns_ipv6_missing(ctx: CheckContext) -> Iterator[Finding]:
    fact = _ns_fact(ctx)
    unknown = _ns_unknown(ctx, fact)
    if unknown is not None:
        yield unknown
        return
    ev = [fact.ns_answer.evidence(), *(h.aaaa.evidence() for h in fact.hosts)]
    with_v6 = [h.name for h in fact.hosts if h.v6_addresses]
    params = {"zone": fact.zone, "nameservers": ", ".join(h.name for h in fact.hosts),
              "with_ipv6": ", ".join(with_v6) or "-"}
    if len(with_v6) >= 2:
        yield ctx.passed(ctx.domain, ev, **params)
        return
    failed = [h.aaaa for h in fact.hosts if h.aaaa.outcome.is_failure]
    if failed:
        # An AAAA lookup that failed might have found the missing address.
        yield ctx.dns_not_tested(ctx.domain, failed[0], ev)
        return
    yield ctx.fail(ctx.domain, "only_one" if with_v6 else "none", ev, **params)


@check("NS-IPV6-UNREACHABLE", needs=("nameservers",))
def ns_ipv6_unreachable(ctx: CheckContext) -> Iterator[Finding]:
    fact = _ns_fact(ctx)
    unknown = _ns_unknown(ctx, fact)
    if unknown is not None:
        yield unknown
        return
    v6_hosts = [h for h in fact.hosts if any(p.v6 for p in h.probes)]
    if not v6_hosts:
        ev = [h.aaaa.evidence() for h in fact.hosts]
        yield ctx.not_applicable(ctx.domain, ev, outcome="no_ipv6", nameservers=", ".join(h.name for h in fact.hosts))
        return
    # Proof that IPv6 works from here: any IPv6 name server or any IPv6 service endpoint answered.
    services = ctx.facts.services or {}
    v6_works = (any(p.v6 and p.state == ns_collect.ANSWERED for h in fact.hosts for p in h.probes)
                or any(p.state is PortState.OPEN and _v6(p.address) for p in services.values()))
    for host in v6_hosts:
        v4 = [p for p in host.probes if not p.v6]
        v4_up = [p for p in v4 if p.state == ns_collect.ANSWERED]
        for p in (q for q in host.probes if q.v6):
            subject = f"{host.name} {p.endpoint}"
            ev = [host.aaaa.evidence(), host.a.evidence(), p.evidence(), *(q.evidence() for q in v4)]
            params = {"host": host.name, "endpoint": p.endpoint, "zone": fact.zone, "detail": p.detail or p.state,
                      "ipv4": ", ".join(q.endpoint for q in v4_up) or "-"}
            if p.state == ns_collect.ANSWERED:
                yield ctx.passed(subject, ev, **params)
            elif p.state in (ns_collect.BLOCKED, ns_collect.ERROR):
                yield ctx.not_tested(subject, Reason("reason.dialogue", {"endpoint": p.endpoint, "problem": p.detail}),
                                     ev)
            elif not v4_up:
                # IPv4 does not answer either (or the name server has no A record): not an IPv6 fault.
                yield ctx.not_applicable(subject, ev, outcome="ipv4_down", **params)
            elif p.state == ns_collect.REFUSED:
                yield ctx.fail(subject, "refused", ev, **params)
            elif v6_works:
                yield ctx.fail(subject, "filtered" if p.state == ns_collect.TIMEOUT else "unreachable", ev, **params)
            else:
                # No IPv6 endpoint answered at all: this computer's network may have no IPv6 route.
                yield ctx.not_tested(subject, Reason("reason.dialogue", {"endpoint": p.endpoint,
                                                                         "problem": p.detail or p.state}), [
                    *ev, "no IPv6 endpoint of this audit answered: the network the audit runs from may not route IPv6"])
