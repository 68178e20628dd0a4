"""Protocol probes: one bounded, transcribed dialogue per endpoint (address, port).

Plain asyncio streams, no threads and no smtplib/imaplib: the audit needs the exact bytes
(transcripts as evidence), bounded reads (hostile servers) and exact timings (tarpits).
Every probe returns an :class:`~auditapp.collectors.service_facts.EndpointProbe` and never
raises; each step is bounded by ``timeout`` and the whole probe by
:data:`~auditapp.collectors.probes.session.PROBE_BUDGET_FACTOR` times it.
"""

from __future__ import annotations

from auditapp.collectors.probes.imap import probe_imap
from auditapp.collectors.probes.pop3 import probe_pop3
from auditapp.collectors.probes.session import PROBE_BUDGET_FACTOR
from auditapp.collectors.probes.smtp import probe_smtp
from auditapp.collectors.service_facts import SERVICES, EndpointProbe, PortState

__all__ = ["PROBE_BUDGET_FACTOR", "probe_endpoint", "probe_imap", "probe_pop3", "probe_smtp"]


async def probe_endpoint(address: str, port: int, service: str, *, sni: str, timeout: float,
                         ca_file: str | None = None, domain: str = "", relay_test: bool = False,
                         account: tuple[str, str] | None = None) -> EndpointProbe:
    """Probe ``address:port`` speaking ``service`` (one of :data:`SERVICES`).

    ``sni`` is the name sent in the TLS handshake (the name clients use there); ``domain``
    the audited domain (sender of the submission relay test); ``relay_test`` enables the
    relay test on port 25 (on submission ports it always runs); ``account`` is the test
    login for submission (user, password), sent only over verified TLS.
    """
    if service in ("smtp", "submission", "submissions"):
        return await probe_smtp(address, port, service, sni=sni, timeout=timeout, ca_file=ca_file, domain=domain,
                                relay_test=relay_test, account=account)
    if service in ("imap", "imaps"):
        return await probe_imap(address, port, service, sni=sni, timeout=timeout, ca_file=ca_file)
    if service in ("pop3", "pop3s"):
        return await probe_pop3(address, port, service, sni=sni, timeout=timeout, ca_file=ca_file)
    return EndpointProbe(address=address, port=port, service=service, state=PortState.ERROR,
                         problem=f"unknown service {service!r} (expected one of {', '.join(SERVICES)})")
