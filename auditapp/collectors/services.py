"""Probe every address of every discovered host on every mail port, concurrently.

One dialogue per endpoint (address, port); endpoints run in parallel, so a dead host costs
one probe timeout, not one per port. The TLS SNI is the name clients are meant to use at that
address (a client-facing name on client ports, the MX name on port 25).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace

from auditapp.collectors.netguard import blocked
from auditapp.collectors.probes import probe_endpoint
from auditapp.collectors.service_facts import (
    CLIENT_SERVICES,
    SERVICES,
    AuthProbe,
    Discovery,
    EndpointProbe,
    PortState,
    Role,
)
from auditapp.core.problem import Problem
from auditapp.core.target import AuditTarget
from auditapp.core.validation import in_domain


def sni_for(discovery: Discovery, address: str, service: str) -> str:
    wanted = (Role.SUBMISSION, Role.MAILBOX) if service in CLIENT_SERVICES else (Role.MX,)
    names = [h.name for h in discovery.hosts if address in h.addresses]
    preferred = [h.name for h in discovery.hosts if address in h.addresses and set(h.roles) & set(wanted)]
    return (preferred or names or [address])[0]


def login_names(discovery: Discovery, target: AuditTarget) -> dict[str, str]:
    """Addresses the test account may log in to, each with the host name that authorised it.

    SRV records, autoconfig documents and project files are not the user's word: a password
    goes only to a submission host under the audited domain or one the user confirmed
    (:attr:`AuditTarget.trusted_hosts`). The certificate is then checked against *that* name,
    so another record pointing an outside name at the same address cannot lend it its
    certificate (issue 12). In-domain names come first; among equals the first name wins.
    """
    trusted = {h.rstrip(".").lower() for h in target.trusted_hosts}
    chosen: dict[str, str] = {}
    allowed = [h for h in discovery.hosts_with(Role.SUBMISSION)
               if in_domain(h.name, target.domain) or h.name.rstrip(".").lower() in trusted]
    for host in sorted(allowed, key=lambda h: not in_domain(h.name, target.domain)):
        for address in host.addresses:
            chosen.setdefault(address, host.name)
    return chosen


def typed_addresses(discovery: Discovery) -> set[str]:
    """Addresses of hosts the user entered (``--mx``, ``--submission-host``, the project's host lists)."""
    return {a for h in discovery.hosts if h.typed for a in h.addresses}


def login_addresses(discovery: Discovery, target: AuditTarget) -> set[str]:
    return set(login_names(discovery, target))


async def collect_services(discovery: Discovery, target: AuditTarget, timeout: float,
                           password: str | None = None, *, planned: Callable[[int], None] | None = None,
                           probed: Callable[[str], None] | None = None) -> dict[tuple[str, int, str], EndpointProbe]:
    addresses = sorted({a for h in discovery.hosts for a in h.addresses})
    account = (target.account, password) if target.account and password else None
    login_ok = login_names(discovery, target)
    typed = typed_addresses(discovery)
    jobs = []
    for address in addresses:
        for service in SERVICES:
            port = target.ports.get(service)
            if port is None:
                continue
            why = blocked(address, learned=address not in typed, allow_internal=target.allow_internal)
            if why:
                jobs.append(_blocked(address, port, service, why))
                continue
            login = account is not None and service in ("submission", "submissions") and address in login_ok
            jobs.append(probe_endpoint(
                address, port, service, timeout=timeout,
                sni=login_ok[address] if login else sni_for(discovery, address, service),
                ca_file=target.ca_file, domain=target.domain, relay_test=target.relay_test,
                account=account if login else None,
            ))
    if planned is not None:
        planned(len(jobs))  # the caller's progress grows by one step per endpoint

    async def counted(job: Awaitable[EndpointProbe]) -> EndpointProbe:
        probe = await job
        if probed is not None:
            probed(f"{probe.service} {probe.address}:{probe.port}")
        return probe

    results = list(await asyncio.gather(*(counted(job) for job in jobs)))
    if account is not None:
        withheld = AuthProbe(username=account[0], login_ok=None, problem=Problem(
            "problem.credentials_host_not_confirmed",
            "not tested: the host is outside the audited domain and the user did not confirm it for the login "
            "(--trust-host), so the test account's password was not sent to it"))
        results = [replace(p, auth=withheld) if p.service in ("submission", "submissions") and p.state is
                   PortState.OPEN and p.address not in login_ok else p for p in results]
    # Keyed by service too: two services mapped onto one port (a lab, a port-mapped setup) must
    # not overwrite each other's result.
    return {(p.address, p.port, p.service): p for p in results}


async def _blocked(address: str, port: int, service: str, why: str) -> EndpointProbe:
    return EndpointProbe(address=address, port=port, service=service, state=PortState.ERROR, state_detail=why,
                         problem=why)
