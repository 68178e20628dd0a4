"""What the service checks share: the endpoints of one scope, and how a dialogue that did not finish reads.

Every service check looks only at endpoints that belong to the role being judged (port 25 on
MX addresses, 587/465 on submission hosts, 143/993/110/995 on mailbox hosts); services
answering elsewhere are SERVICE-UNEXPECTED-PORT's business. A dialogue that could not finish
is ``not_tested`` with its reason: a server that drops or tarpits the auditor is not failing.

A check about one port at a time names its scope (:data:`MX_PORTS`, :data:`STARTTLS_PORTS`,
:data:`SUBMISSION_PORTS`) with :func:`per_endpoint` and judges one port that opened; what a
port that did not open means is decided here, once per scope. Checks about the host layout
go through :func:`unless_hosted`, which answers for a domain whose mail a provider runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from auditapp.checks.registry import CheckContext, CheckFn
from auditapp.collectors.service_facts import DiscoveredHost, Discovery, EndpointProbe, PortState, Role
from auditapp.core.model import Finding, Reason
from auditapp.data.providers import Provider
from auditapp.dnsclient import DnsAnswer

ROLE_SERVICES = {
    Role.MX: ("smtp",),
    Role.SUBMISSION: ("submission", "submissions"),
    Role.MAILBOX: ("imap", "imaps", "pop3", "pop3s"),
}
NEEDS = ("discovery", "services")
#: Layout checks also ask who runs the mail: a hosted provider's host layout is not the customer's.
NEEDS_HOSTING = ("discovery", "services", "hosting")
#: Certificate checks also look at the MTA-STS policy: enforce mode makes port 25 certificates matter.
NEEDS_STS = ("discovery", "services", "mta_sts_policy")

#: The parameters of a result about one endpoint.
Params = Callable[[EndpointProbe], dict[str, object]]
#: How a per-endpoint check judges one port that opened.
Judge = Callable[[CheckContext, EndpointProbe], Finding]


def discovery_of(ctx: CheckContext) -> Discovery:
    return ctx.facts.discovery  # type: ignore[return-value]


def probes_of(ctx: CheckContext) -> dict[tuple[str, int, str], EndpointProbe]:
    return ctx.facts.services or {}


def roles_at(disc: Discovery, address: str) -> set[Role]:
    return {r for h in disc.hosts if address in h.addresses for r in h.roles}


def names_at(disc: Discovery, address: str, role: Role | None = None) -> list[str]:
    return [h.name for h in disc.hosts if address in h.addresses and (role is None or role in h.roles)]


def role_endpoints(ctx: CheckContext, role: Role, services: tuple[str, ...] | None = None) -> list[EndpointProbe]:
    """Probes of the given services on addresses that play ``role``, in a stable order."""
    wanted = services or ROLE_SERVICES[role]
    disc = discovery_of(ctx)
    out = [p for p in probes_of(ctx).values() if p.service in wanted and role in roles_at(disc, p.address)]
    return sorted(out, key=lambda p: (p.address, p.port))


def expected_role(disc: Discovery, probe: EndpointProbe) -> Role | None:
    roles = roles_at(disc, probe.address)
    for role in (Role.MX, Role.SUBMISSION, Role.MAILBOX):
        if role in roles and probe.service in ROLE_SERVICES[role]:
            return role
    return None


def host_probes(ctx: CheckContext, host_addresses: tuple[str, ...], *services: str) -> list[EndpointProbe]:
    """Probes of ``services`` on a host's addresses, service by service (the evidence reads in that order)."""
    probes = probes_of(ctx).values()
    return [p for service in services for p in probes if p.address in host_addresses and p.service == service]


def probe_evidence(probe: EndpointProbe) -> tuple[str, ...]:
    return probe.transcript or (f"{probe.endpoint} {probe.service}: {probe.state.value} {probe.state_detail}",)


def probe_params(probe: EndpointProbe, **more: object) -> dict[str, object]:
    return {"endpoint": probe.endpoint, "service": probe.service, **more}


def auth_mechs(caps: tuple[str, ...]) -> list[str]:
    mechs: list[str] = []
    for cap in caps:
        words = cap.upper().replace("=", " ").split()
        if words and words[0] == "AUTH":
            mechs += words[1:]
    return mechs


# -- results that judge nothing ------------------------------------------------------------

def dialogue_not_tested(ctx: CheckContext, probe: EndpointProbe, problem: str | None = None,
                        evidence: Iterable[str] | None = None) -> Finding:
    """``not_tested``: the dialogue with ``probe`` ended before it showed what the check asks.

    ``problem`` says why (the probe's own problem unless given); the evidence is the probe's
    transcript unless given.
    """
    why = {"endpoint": probe.endpoint, "problem": probe.problem if problem is None else problem}
    return ctx.not_tested(probe.endpoint, Reason("reason.dialogue", why),
                          probe_evidence(probe) if evidence is None else evidence)


def not_listening(ctx: CheckContext, probe: EndpointProbe, **params: object) -> Finding:
    """A port-level check on a port that did not open.

    Only a refused connection (RST in answer to the SYN) is a closed port, on which the
    check has nothing to judge. A timeout, a reset after the handshake or any other connect
    error says nothing about the service: not tested, with the reason.
    """
    if probe.state is PortState.REFUSED:
        return ctx.not_applicable(probe.endpoint, probe_evidence(probe), **params)
    return dialogue_not_tested(ctx, probe, probe.state_detail or probe.problem or probe.state.value)


def host_lookup_failure(host: DiscoveredHost) -> DnsAnswer | None:
    """The failed A/AAAA lookup of a host without addresses, if one failed (not tested, not "absent")."""
    for ans in (host.a, host.aaaa):
        if ans is not None and ans.outcome.is_failure:
            return ans
    return None


def lookup_not_tested(ctx: CheckContext, host: DiscoveredHost) -> Finding | None:
    """``not_tested`` for a host whose address lookup failed: whether it has addresses is unknown."""
    failed = host_lookup_failure(host)
    return ctx.dns_not_tested(host.name, failed) if failed is not None else None


def address_evidence(host: DiscoveredHost) -> list[str]:
    """The A and AAAA answers of a host, as evidence for what its addresses are (or that it has none)."""
    return [a.evidence() for a in (host.a, host.aaaa) if a]


def relay_problem(probe: EndpointProbe) -> str:
    """Why the relay test on ``probe`` gave no verdict."""
    return (probe.relay.problem if probe.relay else "") or probe.problem or "no relay probe"


# -- scopes --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PortScope:
    """The endpoints one kind of check judges, and what a port among them that did not open means.

    ``parts`` are (role, services) pairs, services ``None`` meaning all of the role's. By
    default a port that did not open gets :func:`not_listening`; with ``skip_closed`` it gets
    nothing, because another rule reports it (SUBMISSION-MISSING for the submission ports).
    """

    parts: tuple[tuple[Role, tuple[str, ...] | None], ...]
    skip_closed: bool = False

    def endpoints(self, ctx: CheckContext) -> list[EndpointProbe]:
        return [p for role, services in self.parts for p in role_endpoints(ctx, role, services)]

    def each(self, ctx: CheckContext, judge: Judge, params: Params = probe_params) -> Iterator[Finding]:
        """``judge`` every port that opened; the others as the scope says (``params`` for a refused one)."""
        for p in self.endpoints(ctx):
            if p.state is PortState.OPEN:
                yield judge(ctx, p)
            elif not self.skip_closed:
                yield not_listening(ctx, p, **params(p))


#: Port 25 on the MX addresses.
MX_PORTS = PortScope(((Role.MX, None),))
#: Where STARTTLS is the way to TLS: port 25 on the MX, then 587 on the submission hosts.
STARTTLS_PORTS = PortScope(((Role.MX, None), (Role.SUBMISSION, ("submission",))))
#: 587 and 465 on the submission hosts; whether one opens at all is SUBMISSION-MISSING's question.
SUBMISSION_PORTS = PortScope(((Role.SUBMISSION, None),), skip_closed=True)


def per_endpoint(scope: PortScope, params: Params = probe_params) -> Callable[[Judge], CheckFn]:
    """Make a check of ``judge``, which states the verdict on one open port of ``scope``."""

    def deco(judge: Judge) -> CheckFn:
        @functools.wraps(judge)
        def check_each(ctx: CheckContext) -> Iterator[Finding]:
            return scope.each(ctx, judge, params)

        return check_each

    return deco


# -- hosted domains ------------------------------------------------------------------------

def hosted_by(ctx: CheckContext) -> Provider | None:
    """The mailbox provider that runs all of the domain's MX hosts, if the user named no own hosts.

    Its endpoints and host layout are the provider's business: nothing the customer could
    change, so no finding is reported against the customer for them.
    """
    hosting = ctx.facts.hosting
    provider = hosting.provider if hosting is not None else None
    if provider is None or provider.kind != "mailbox":
        return None
    if ctx.target.submission_hosts or ctx.target.mailbox_hosts:
        return None
    return provider


def hosted_result(ctx: CheckContext, provider: Provider) -> Finding:
    hosting = ctx.facts.hosting
    assert hosting is not None
    endpoints = sorted({*provider.client_hosts("submission", hosting.match.matched),
                        *provider.client_hosts("mailbox", hosting.match.matched)})
    return ctx.not_applicable(ctx.domain, [f"MX: {', '.join(hosting.mx_hosts)}", provider.documentation],
                              outcome="hosted", provider=provider.name, endpoints=", ".join(endpoints) or "-",
                              documentation=provider.documentation, domain=ctx.domain)


def unless_hosted(fn: CheckFn) -> CheckFn:
    """Run a layout check only for a domain that runs its own mail; a hosted one gets :func:`hosted_result`."""

    @functools.wraps(fn)
    def check_own_hosts(ctx: CheckContext) -> Iterator[Finding]:
        provider = hosted_by(ctx)
        if provider is not None:
            yield hosted_result(ctx, provider)
            return
        yield from fn(ctx)

    return check_own_hosts
