"""CAA of every MX host (RFC 8659): which certificate authorities may issue for the mail servers' names.

Why per MX host and by tree-climbing: a CA looks for the CAA RRset at the name it certifies and,
if there is none, at each parent in turn (RFC 8659 §3), so ``mx1.mail.example.com`` is covered by a
record at ``example.com``. Every level is asked at once (each is a fixed name, and the client caches)
and the climb is replayed over the answers, as the DMARC tree walk is. A failed lookup below the
first record found leaves the host ``not_tested``: the record might have been there.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from auditapp.collectors.discovery import mx_hosts
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsAnswer, DnsClient


@dataclass(frozen=True)
class CaaLookup:
    """The relevant CAA RRset of one MX host, where the climb found it, and every answer on the way."""

    host: str
    #: The name holding the relevant RRset ("" when none was found up to the TLD).
    found_at: str
    records: tuple[str, ...]
    answers: tuple[DnsAnswer, ...]
    #: The first lookup that failed before a record was found (the verdict is then not tested).
    failure: DnsAnswer | None = None


@dataclass(frozen=True)
class CaaFact:
    #: The MX lookup, or None when the MX hosts were given.
    mx_answer: DnsAnswer | None
    lookups: tuple[CaaLookup, ...]


def climb(host: str) -> list[str]:
    """``host`` and its parents down to the TLD (the root is never asked, RFC 8659 §3)."""
    labels = host.rstrip(".").lower().split(".")
    return [".".join(labels[i:]) for i in range(len(labels)) if labels[i:]]


def relevant(host: str, answers: dict[str, DnsAnswer]) -> CaaLookup:
    """Replay the climb over the answers: the closest name with CAA records wins."""
    seen: list[DnsAnswer] = []
    for name in climb(host):
        answer = answers[name]
        seen.append(answer)
        if answer.outcome.is_failure:
            return CaaLookup(host, "", (), tuple(seen), failure=answer)
        if answer.ok and answer.records:
            return CaaLookup(host, name, answer.records, tuple(seen))
    return CaaLookup(host, "", (), tuple(seen))


async def collect_caa(dns: DnsClient, target: AuditTarget) -> CaaFact:
    """The relevant CAA RRset of every MX host of the audited domain."""
    mx_answer: DnsAnswer | None = None
    if target.mx_hosts:
        hosts = [h.rstrip(".").lower() for h in target.mx_hosts]
    else:
        mx_answer = await dns.query(target.domain, "MX")
        hosts = [h for _pref, h in mx_hosts(mx_answer)] if mx_answer.ok else []
    names = list(dict.fromkeys(name for host in hosts for name in climb(host)))
    answers = dict(zip(names, await asyncio.gather(*(dns.query(n, "CAA") for n in names)), strict=True))
    return CaaFact(mx_answer, tuple(relevant(host, answers) for host in dict.fromkeys(hosts)))
