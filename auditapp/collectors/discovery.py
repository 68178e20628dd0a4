"""Find the hosts of a domain's mail services, and say where each one came from.

Order of sources (issue #3): MX hosts from ``--mx`` or DNS; client-facing hosts from the
project (``--submission-host`` / ``--mailbox-host``), else RFC 6186/8314 SRV records, else the
Thunderbird autoconfig document, else, when every MX belongs to a hosted mailbox provider
(auditapp/data/hosted_providers.toml), the provider's documented client endpoints, else the
conventional names smtp., mail., imap., pop. that resolve. A hosted domain's conventional names
are not guessed: mail.<domain> then usually points at the web host, not at a mail service.
Every source is recorded, because a consultant must be able to tell the client why a host was
(or was not) looked at.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from auditapp.collectors.autoconfig import AutoconfigResult, fetch_autoconfig
from auditapp.collectors.service_facts import DiscoveredHost, Discovery, HostOrigin, Role
from auditapp.core.target import AuditTarget
from auditapp.data.providers import match_mx
from auditapp.dnsclient import DnsAnswer, DnsClient

#: RFC 6186 / RFC 8314 §5.1 service labels and the role of the host they name.
SRV_LABELS = (
    ("_submission._tcp", Role.SUBMISSION),
    ("_submissions._tcp", Role.SUBMISSION),
    ("_imap._tcp", Role.MAILBOX),
    ("_imaps._tcp", Role.MAILBOX),
    ("_pop3._tcp", Role.MAILBOX),
    ("_pop3s._tcp", Role.MAILBOX),
)

#: Conventional functional names (the 2009 article's advice, still good practice: R12).
CONVENTIONAL = (
    ("smtp", (Role.SUBMISSION,)),
    ("mail", (Role.SUBMISSION, Role.MAILBOX)),
    ("imap", (Role.MAILBOX,)),
    ("pop", (Role.MAILBOX,)),
)


def _host(name: str) -> str:
    return name.rstrip(".").lower()


def mx_hosts(answer: DnsAnswer) -> list[tuple[int, str]]:
    """MX records as (preference, host); a null MX (RFC 7505, ``0 .``) gives none."""
    out = []
    for rec in answer.records:
        parts = rec.split()
        if len(parts) == 2 and parts[1] != ".":
            out.append((int(parts[0]), _host(parts[1])))
    return sorted(out)


def srv_targets(answer: DnsAnswer) -> list[tuple[int, str]]:
    """SRV records as (port, target); a target of "." means "service not offered" (RFC 2782)."""
    out = []
    for rec in answer.records:
        parts = rec.split()
        if len(parts) == 4 and parts[3] != ".":
            out.append((int(parts[2]), _host(parts[3])))
    return out


async def discover_hosts(dns: DnsClient, target: AuditTarget, timeout: float = 5.0) -> Discovery:
    domain = target.domain
    origins: list[HostOrigin] = []
    answers: list[DnsAnswer] = []
    failures: list[DnsAnswer] = []
    notes: list[str] = []
    autoconfig: list[AutoconfigResult | None] = []

    async def from_autoconfig(role: Role) -> list[HostOrigin]:
        if not autoconfig:  # fetched once, only when SRV records gave no host for a role
            result = await fetch_autoconfig(dns, domain, target.ports.get("https", 443), timeout, target.ca_file,
                                          target.allow_internal)
            autoconfig.append(result)
            if result is not None:
                notes.append(f"autoconfig {result.url}: " + (result.problem or ", ".join(
                    f"{t} {h}:{p}" for t, h, p in result.incoming + result.outgoing)))
        result = autoconfig[0]
        if result is None or result.problem:
            return []
        servers = result.outgoing if role is Role.SUBMISSION else result.incoming
        return [HostOrigin(host, role, f"autoconfig {kind} (port {port})") for kind, host, port in servers]

    mx_answer: DnsAnswer | None = None
    srv_questions = [(f"{label}.{domain}", "SRV") for label, _ in SRV_LABELS]
    conventional_questions = [(f"{name}.{domain}", t) for name, _ in CONVENTIONAL for t in ("A", "AAAA")]
    # Everything that does not depend on another answer goes out at once.
    # autoconfig.* is asked here too, so a later fetch finds its address in the cache.
    batch = [(domain, "MX"), *srv_questions, *conventional_questions, (f"autodiscover.{domain}", "A"),
             (f"autoconfig.{domain}", "A"), (f"autoconfig.{domain}", "AAAA")]
    results = await dns.query_many(batch)
    mx_answer = results[0]
    srv_answers = results[1:1 + len(srv_questions)]
    conv_answers = results[1 + len(srv_questions):-3]
    autodiscover = results[-3]
    answers.extend(results)
    failures.extend(a for a in results if a.outcome.is_failure)

    if target.mx_hosts:
        origins += [HostOrigin(h, Role.MX, "--mx") for h in target.mx_hosts]
    elif mx_answer.ok:
        origins += [HostOrigin(h, Role.MX, f"MX {pref}") for pref, h in mx_hosts(mx_answer)]

    hosting = match_mx(o.name for o in origins if o.role is Role.MX)
    provider = hosting.provider if hosting.hosted and hosting.provider.kind == "mailbox" else None  # type: ignore[union-attr]

    given = [(h, Role.SUBMISSION, "--submission-host") for h in target.submission_hosts]
    given += [(h, Role.MAILBOX, "--mailbox-host") for h in target.mailbox_hosts]
    origins += [HostOrigin(_host(h), role, src) for h, role, src in given]
    for role in (Role.SUBMISSION, Role.MAILBOX):
        if any(o.role is role for o in origins if o.source.startswith("--")):
            continue
        from_srv = [
            HostOrigin(host, role, f"SRV {label} (port {port})")
            for (label, srv_role), ans in zip(SRV_LABELS, srv_answers, strict=True)
            if srv_role is role and ans.ok
            for port, host in srv_targets(ans)
        ]
        if from_srv:
            origins += from_srv
            continue
        from_xml = await from_autoconfig(role)
        if from_xml:
            origins += from_xml
            continue
        if provider is not None:
            documented = provider.client_hosts(role.value, hosting.matched)
            origins += [HostOrigin(h, role, f"{provider.name}: documented client endpoint") for h in documented]
            continue
        for i, (name, roles) in enumerate(CONVENTIONAL):
            a, aaaa = conv_answers[2 * i], conv_answers[2 * i + 1]
            if role in roles and (a.ok or aaaa.ok):
                origins.append(HostOrigin(f"{name}.{domain}", role, f"conventional name {name}."))

    hosts = _merge(origins)
    resolved = await asyncio.gather(*(dns.addresses(h.name) for h in hosts))
    final = []
    for host, (a, aaaa) in zip(hosts, resolved, strict=True):
        answers += [a, aaaa]
        failures += [x for x in (a, aaaa) if x.outcome.is_failure]
        final.append(DiscoveredHost(host.name, host.roles, host.sources, a, aaaa, typed=host.typed))
    if autodiscover.ok:
        notes.append(f"autodiscover.{domain} exists (Microsoft Autodiscover; not fetched: it needs a user's address)")
    return Discovery(domain=domain, hosts=tuple(final), mx=mx_answer, srv=tuple(srv_answers),
                     answers=tuple(answers), failures=tuple(failures), notes=tuple(notes))


def _merge(origins: Iterable[HostOrigin]) -> list[DiscoveredHost]:
    """One entry per host name, with all its roles and sources, in first-seen order."""
    merged: dict[str, tuple[list[Role], list[str]]] = {}
    typed: set[str] = set()
    for o in origins:
        if o.source.startswith("--"):
            typed.add(o.name)
        roles, sources = merged.setdefault(o.name, ([], []))
        if o.role not in roles:
            roles.append(o.role)
        label = f"{o.role.value}: {o.source}"
        if label not in sources:
            sources.append(label)
    return [DiscoveredHost(name, tuple(r), tuple(s), typed=name in typed) for name, (r, s) in merged.items()]
