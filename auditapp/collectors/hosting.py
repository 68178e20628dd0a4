"""Who runs a domain's inbound mail: its own servers, or a hosted provider (hosted_providers.toml).

Asked in every run, DNS-only runs included, because several verdicts depend on it: the
provider's DKIM selector convention, whether the customer can be blamed for the host layout,
and which client endpoints the services audit should look at. The MX question is the same one
discovery asks, so the DNS client's single-flight cache answers it once.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditapp.collectors.discovery import mx_hosts
from auditapp.core.target import AuditTarget
from auditapp.data.providers import HostingMatch, Provider, match_mx
from auditapp.dnsclient import DnsAnswer, DnsClient


@dataclass(frozen=True)
class HostingFact:
    #: The MX answer; None when the user named the MX hosts (--mx).
    mx: DnsAnswer | None
    mx_hosts: tuple[str, ...]
    match: HostingMatch

    @property
    def unknown(self) -> bool:
        """The MX lookup failed: whether the domain is hosted is not known."""
        return self.mx is not None and self.mx.outcome.is_failure

    @property
    def provider(self) -> Provider | None:
        """The provider when every MX belongs to it (a mixed setup keeps every check)."""
        return self.match.provider if self.match.hosted else None


async def collect_hosting(dns: DnsClient, target: AuditTarget) -> HostingFact:
    if target.mx_hosts:
        hosts = tuple(h.rstrip(".").lower() for h in target.mx_hosts)
        return HostingFact(None, hosts, match_mx(hosts))
    answer = await dns.query(target.domain, "MX")
    hosts = tuple(h for _, h in mx_hosts(answer)) if answer.ok else ()
    return HostingFact(answer, hosts, match_mx(hosts))
