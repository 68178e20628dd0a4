"""What the service checks share: which endpoints play which role, and how a dialogue that did not finish reads.

Every service check looks only at endpoints that belong to the role being judged (port 25 on
MX addresses, 587/465 on submission hosts, 143/993/110/995 on mailbox hosts); services
answering elsewhere are SERVICE-UNEXPECTED-PORT's business. A dialogue that could not finish
is ``not_tested`` with its reason: a server that drops or tarpits the auditor is not failing.
"""

from __future__ import annotations

from auditapp.checks.registry import CheckContext
from auditapp.collectors.service_facts import Discovery, EndpointProbe, PortState, Role
from auditapp.core.model import Finding, Reason

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


def probe_evidence(probe: EndpointProbe) -> tuple[str, ...]:
    return probe.transcript or (f"{probe.endpoint} {probe.service}: {probe.state.value} {probe.state_detail}",)


def dialogue_not_tested(ctx: CheckContext, probe: EndpointProbe) -> Finding:
    return ctx.not_tested(probe.endpoint, Reason("reason.dialogue", {"endpoint": probe.endpoint,
                                                                      "problem": probe.problem}),
                          probe_evidence(probe))


def not_listening(ctx: CheckContext, probe: EndpointProbe, **params: object) -> Finding:
    """A port-level check on a port that did not open.

    Only a refused connection (RST in answer to the SYN) is a closed port, on which the
    check has nothing to judge. A timeout, a reset after the handshake or any other connect
    error says nothing about the service: not tested, with the reason.
    """
    if probe.state is PortState.REFUSED:
        return ctx.not_applicable(probe.endpoint, probe_evidence(probe), **params)
    return ctx.not_tested(probe.endpoint, Reason("reason.dialogue", {
        "endpoint": probe.endpoint, "problem": probe.state_detail or probe.problem or probe.state.value}),
        probe_evidence(probe))


def probe_params(probe: EndpointProbe, **more: object) -> dict[str, object]:
    return {"endpoint": probe.endpoint, "service": probe.service, **more}


def auth_mechs(caps: tuple[str, ...]) -> list[str]:
    mechs: list[str] = []
    for cap in caps:
        words = cap.upper().replace("=", " ").split()
        if words and words[0] == "AUTH":
            mechs += words[1:]
    return mechs


def host_lookup_failure(host: object) -> object | None:
    """The failed A/AAAA lookup of a host without addresses, if one failed (not tested, not "absent")."""
    for ans in (getattr(host, "a", None), getattr(host, "aaaa", None)):
        if ans is not None and ans.outcome.is_failure:
            return ans
    return None


def host_probes(ctx: CheckContext, host_addresses: tuple[str, ...], service: str) -> list[EndpointProbe]:
    return [p for p in probes_of(ctx).values() if p.address in host_addresses and p.service == service]
