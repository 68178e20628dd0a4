"""Speculative DNS look-ups that let the dependent rounds of an SPF evaluation overlap.

check_host() is sequential by definition (§4.6.2: terms are evaluated left to right and the
first match wins), so a record with three includes costs three round trips one after the
other, plus their own includes. As soon as a record is parsed we already know the names its
macro-free terms will ask about, so we ask now, in the background. The DNS client's
single-flight cache hands the evaluation the very same answer later; the evaluation still
asks for every name itself, in RFC order, and does all the counting. Prefetching therefore
changes how long an evaluation takes, never what it returns.

Prefetch tasks are never cancelled: the client shares one in-flight question between all
callers, and cancelling the caller that happens to own it makes every concurrent evaluation
waiting on that name start the question again, a round trip lost on the critical path. They
finish on their own (each is bounded by the client's timeout), and a per-evaluation budget
keeps the speculation small.
"""

from __future__ import annotations

import asyncio
import contextlib

from auditapp.dnsclient import DnsAnswer, DnsClient
from auditapp.spf.errors import SpfSyntaxError
from auditapp.spf.macros import truncate_domain
from auditapp.spf.names import is_queryable, normalise
from auditapp.spf.record import SpfRecord, parse_record, select_spf_records

#: Keeps running prefetch tasks referenced until they end (asyncio holds tasks weakly).
_BACKGROUND: set[asyncio.Task[None]] = set()


class Prefetcher:
    """Warms the client's cache for one evaluation; holds that evaluation's budget."""

    def __init__(self, dns: DnsClient, address_type: str, *, budget: int = 40, max_depth: int = 5) -> None:
        self._dns = dns
        self._address_type = address_type  # "A" or "AAAA": what a/mx will ask for this IP
        self._budget = budget
        self._max_depth = max_depth
        self._asked: set[tuple[str, str]] = set()

    def record(self, record: SpfRecord, domain: str, depth: int = 0) -> None:
        """Start look-ups for the macro-free include/redirect/a/mx targets of ``record``."""
        for term in record.mechanisms:
            if term.name == "include":
                self._ask(_target(term.domain_spec, domain), "TXT", depth)
            elif term.name == "a":
                self._ask(_target(term.domain_spec, domain), self._address_type, depth)
            elif term.name == "mx":
                self._ask(_target(term.domain_spec, domain), "MX", depth)
        redirect = record.effective_redirect
        if redirect is not None:
            self._ask(_target(redirect.value, domain), "TXT", depth)

    def _ask(self, name: str | None, rdtype: str, depth: int) -> None:
        if name is None or (name, rdtype) in self._asked or self._budget <= 0:
            return
        self._asked.add((name, rdtype))
        self._budget -= 1
        task = asyncio.get_running_loop().create_task(self._fetch(name, rdtype, depth))
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)

    async def _fetch(self, name: str, rdtype: str, depth: int) -> None:
        # Any failure here is the evaluation's to meet and report when it asks itself.
        with contextlib.suppress(Exception):
            answer = await self._dns.query(name, rdtype)
            if answer.ok:
                self._follow(answer, name, rdtype, depth)

    def _follow(self, answer: DnsAnswer, name: str, rdtype: str, depth: int) -> None:
        if rdtype == "TXT" and depth < self._max_depth:
            texts = select_spf_records(answer.texts)
            if len(texts) == 1:
                with contextlib.suppress(SpfSyntaxError):
                    self.record(parse_record(texts[0]), name, depth + 1)
        elif rdtype == "MX":
            for host in mx_hosts(answer)[:10]:
                self._ask(host if is_queryable(host) else None, self._address_type, depth)


def _target(spec: str | None, domain: str) -> str | None:
    """The name a term will query, or None when it depends on macros or is unusable."""
    if spec is None:
        return domain
    if "%" in spec:
        return None
    name = truncate_domain(normalise(spec))
    return name if is_queryable(name) else None


def mx_hosts(answer: DnsAnswer) -> list[str]:
    """Exchange names of an MX answer, in answer order; the null MX (``0 .``) yields none."""
    hosts: list[str] = []
    for record in answer.records:
        parts = record.split()
        if len(parts) != 2:
            continue
        host = normalise(parts[1])
        if host:
            hosts.append(host)
    return hosts
