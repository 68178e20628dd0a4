"""The one place where auditapp asks DNS questions.

Every collector goes through :class:`DnsClient`, so three promises hold everywhere:

* an answer always says *how* the question ended (:class:`Outcome`): a timeout, SERVFAIL or
  REFUSED is kept apart from NXDOMAIN and "no such record", because an audit that turns a
  broken resolver into "record missing" tells the client to fix something that is not broken;
* the same question is sent once per client, however many checks need it (single-flight
  cache), which is what makes a whole audit cost little more than its critical path;
* the resolver is injected (``nameservers``), never read from ``/etc/resolv.conf`` behind
  the caller's back, so tests and labs can point it anywhere.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.reversename

from auditapp.core.validation import validate_nameserver

#: How many CNAME hops we follow before calling it a loop (RFC 1034 gives no number;
#: common resolvers use 8 to 16).
MAX_CNAME_HOPS = 8

#: EDNS payload size recommended by the DNS flag day 2020, so big TXT answers fit in UDP
#: where they can and fall back to TCP where they cannot.
EDNS_PAYLOAD = 1232

#: A run is *degraded* (its results say nothing about the domain) when at least this share of
#: its distinct DNS questions got no usable answer (timeout, SERVFAIL, REFUSED, malformed or
#: another error: :attr:`Outcome.is_failure`) ...
DEGRADED_SHARE = 0.8
#: ... and it asked at least this many. A healthy audit asks 20 to 60 distinct questions and
#: loses a few of them to causes that belong to the domain or a third party (a lame SPF include,
#: a blocklist zone that times out, a DNSSEC-broken subzone); those stay ordinary ``not_tested``
#: results with their own reasons. When four of five questions fail, the common cause is the
#: resolver (down, firewalled, refusing us), not the domain. Below five questions (a run
#: cancelled at once) the share says nothing, so such a run is never called degraded.
DEGRADED_MIN_QUESTIONS = 5


class Outcome(StrEnum):
    """How one DNS question ended."""

    OK = "ok"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    TIMEOUT = "timeout"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    MALFORMED = "malformed"
    ERROR = "error"

    @property
    def is_void(self) -> bool:
        """A definitive "nothing here" (RFC 7208 calls these void lookups)."""
        return self in (Outcome.NXDOMAIN, Outcome.NODATA)

    @property
    def is_failure(self) -> bool:
        """Nothing could be learned: the question must be reported as not tested."""
        return self not in (Outcome.OK, Outcome.NXDOMAIN, Outcome.NODATA)


FAILURE_REASONS = {
    Outcome.TIMEOUT: "the resolver did not answer in time",
    Outcome.SERVFAIL: "the resolver answered SERVFAIL (server failure)",
    Outcome.REFUSED: "the resolver refused the query (REFUSED)",
    Outcome.MALFORMED: "the answer could not be parsed (malformed DNS packet)",
    Outcome.ERROR: "the lookup failed",
}


@dataclass(frozen=True)
class Nameserver:
    """A resolver address; ``port`` is there for labs and port-mapped setups."""

    address: str
    port: int = 53

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}" if self.port != 53 else self.address


@dataclass(frozen=True)
class DnsAnswer:
    """The result of one question, with enough detail to serve as evidence in a report."""

    name: str
    rdtype: str
    outcome: Outcome
    #: Presentation form of each final record (``dig`` style, TXT quoted).
    records: tuple[str, ...] = ()
    #: TXT only: the strings of each record concatenated, as RFC 7208 and RFC 6376 read them.
    texts: tuple[str, ...] = ()
    #: CNAME hops followed from ``name`` to the final owner.
    chain: tuple[str, ...] = ()
    server: str = ""
    elapsed_ms: float = 0.0
    detail: str = ""
    tcp: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def reason(self) -> str:
        """Human-readable reason for a failed lookup (empty when it did not fail)."""
        if not self.outcome.is_failure:
            return ""
        base = f"{self.rdtype} {self.name}: {FAILURE_REASONS[self.outcome]}"
        return f"{base} ({self.detail})" if self.detail else base

    def evidence(self) -> str:
        """A compact, dig-like rendering for the evidence section of a result."""
        head = f"{self.name} {self.rdtype}"
        via = f" @{self.server}" if self.server else ""
        if self.chain:
            head += " -> " + " -> ".join(self.chain)
        if self.outcome is Outcome.OK:
            return f"{head}{via}: " + "; ".join(self.records)
        if self.outcome.is_void:
            return f"{head}{via}: {self.outcome.value.upper()}"
        return f"{head}{via}: {self.outcome.value.upper()}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class DnsTally:
    """What one audit's DNS questions came to: per distinct question, the best outcome it got.

    The engine opens one per run (:func:`tally_questions`); :meth:`DnsClient.query` records into
    the tally of the asking task's context, so audits that share one client (a batch) each count
    their own questions, answers from the single-flight cache included.
    """

    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)

    def record(self, key: tuple[str, str], outcome: Outcome) -> None:
        """Keep a usable answer over a failure: a question re-asked after a timeout and answered counts as answered."""
        old = self.outcomes.get(key)
        if old is None or old.is_failure:
            self.outcomes[key] = outcome

    @property
    def asked(self) -> int:
        return len(self.outcomes)

    @property
    def failed(self) -> int:
        return sum(o.is_failure for o in self.outcomes.values())

    def main_failure(self) -> Outcome | None:
        """The most frequent failure outcome (for the reason: "mostly timeouts"), None without failures."""
        counts = Counter(o for o in self.outcomes.values() if o.is_failure)
        return counts.most_common(1)[0][0] if counts else None

    def resolver_failed(self) -> bool:
        """Whether the run is degraded: :data:`DEGRADED_SHARE` of at least :data:`DEGRADED_MIN_QUESTIONS` failed."""
        return self.asked >= DEGRADED_MIN_QUESTIONS and self.failed >= DEGRADED_SHARE * self.asked


_TALLY: ContextVar[DnsTally | None] = ContextVar("auditapp_dns_tally", default=None)


@contextmanager
def tally_questions() -> Iterator[DnsTally]:
    """Count the DNS questions asked in this context (and the tasks it starts) until the block ends."""
    tally = DnsTally()
    token = _TALLY.set(tally)
    try:
        yield tally
    finally:
        _TALLY.reset(token)


class QueryCounter:
    """Counts questions actually sent; benchmarks and tests read it."""

    def __init__(self) -> None:
        self.sent = 0
        self.cached = 0


@dataclass
class DnsClient:
    """Asynchronous stub resolver with single-flight caching.

    ``timeout`` is the budget for one question, retries included, the same meaning as
    ``dig +time`` times ``+tries``: a dead resolver costs one timeout per chain of dependent
    questions, never one per retry.
    """

    nameservers: Sequence[Nameserver]
    timeout: float = 5.0
    max_inflight: int = 64
    per_try: float = 2.0
    #: Completed answers kept; the oldest are dropped beyond this (a batch of 100k domains
    #: must not keep every answer it ever saw).
    max_cached: int = 50_000
    #: Seconds a failed answer (timeout, SERVFAIL...) is reused before the question is asked again.
    failure_ttl: float = 30.0
    counter: QueryCounter = field(default_factory=QueryCounter)

    def __post_init__(self) -> None:
        if not self.nameservers:
            raise ValueError("at least one nameserver is needed")
        import math

        if not (math.isfinite(self.timeout) and self.timeout > 0 and math.isfinite(self.per_try) and self.per_try > 0):
            raise ValueError("timeout and per_try must be positive finite numbers of seconds")
        self._cache: dict[tuple[str, str], asyncio.Future[DnsAnswer]] = {}
        self._completed: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._sem: asyncio.Semaphore | None = None

    @classmethod
    def from_system(cls, **kwargs: object) -> DnsClient:
        """The resolvers of this machine (``/etc/resolv.conf`` or the Windows registry)."""
        sysres = dns.resolver.Resolver(configure=True)
        servers = [Nameserver(str(ns), sysres.port) for ns in sysres.nameservers]
        return cls(servers, **kwargs)  # type: ignore[arg-type]

    def describe(self) -> str:
        return ", ".join(str(ns) for ns in self.nameservers)

    def slots(self) -> asyncio.Semaphore:
        """The limit of questions in flight, shared by every query path of this client."""
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.max_inflight)
        return self._sem

    async def query(self, name: str, rdtype: str) -> DnsAnswer:
        """Ask once per client; concurrent callers of the same question share the answer.

        The outcome is counted in the asking audit's :class:`DnsTally`, if it keeps one.
        """
        answer = await self._query(name, rdtype)
        tally = _TALLY.get()
        if tally is not None:
            tally.record((normalise_name(name), rdtype.upper()), answer.outcome)
        return answer

    async def _query(self, name: str, rdtype: str) -> DnsAnswer:
        key = (normalise_name(name), rdtype.upper())
        fut = self._cache.get(key)
        if fut is not None:
            self.counter.cached += 1
            try:
                return await asyncio.shield(fut)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if fut.cancelled() and task is not None and not task.cancelling():
                    return await self._query(name, rdtype)  # the owner was cancelled, not us: ask again
                raise
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._cache[key] = fut
        try:
            answer = await self._resolve(key[0], key[1])
        except BaseException as exc:  # cancellation: let later callers retry
            del self._cache[key]
            if not fut.done():
                fut.cancel()
            raise exc
        fut.set_result(answer)
        if answer.outcome.is_failure:
            # A failure is reused for a short while (one audit asks the same name from several
            # collectors and must not pay the timeout twice), then asked again, so one lost
            # packet does not spoil every later domain of a batch that shares an include.
            loop.call_later(self.failure_ttl, self._forget, key, fut)
        else:
            self._completed[key] = None
            if len(self._completed) > self.max_cached:
                old, _ = self._completed.popitem(last=False)
                self._cache.pop(old, None)
        return answer

    def _forget(self, key: tuple[str, str], fut: asyncio.Future[DnsAnswer]) -> None:
        if self._cache.get(key) is fut:
            del self._cache[key]

    async def query_many(self, questions: Iterable[tuple[str, str]]) -> list[DnsAnswer]:
        """Independent questions in parallel, answers in the order asked."""
        return list(await asyncio.gather(*(self.query(n, t) for n, t in questions)))

    async def reverse(self, ip: str) -> DnsAnswer:
        """PTR lookup for an IPv4 or IPv6 address."""
        return await self.query(dns.reversename.from_address(ip).to_text(omit_final_dot=True), "PTR")

    async def addresses(self, name: str) -> tuple[DnsAnswer, DnsAnswer]:
        """A and AAAA in parallel."""
        a, aaaa = await self.query_many([(name, "A"), (name, "AAAA")])
        return a, aaaa

    # -- internals ---------------------------------------------------------------------

    async def _resolve(self, name: str, rdtype: str) -> DnsAnswer:
        started = time.perf_counter()
        chain: list[str] = []
        current = name
        answer: DnsAnswer | None = None
        for _ in range(MAX_CNAME_HOPS + 1):
            answer = await self._ask(current, rdtype)
            hops = list(answer.chain)
            chain.extend(hops)
            final_owner = hops[-1] if hops else current
            needs_chase = (
                answer.outcome is Outcome.NODATA and hops and answer.detail == "chain-incomplete"
            )
            if not needs_chase:
                break
            if final_owner in chain[:-1] or final_owner in (name, current):
                answer = _replace(answer, outcome=Outcome.ERROR, detail="CNAME loop")
                break
            current = final_owner
        else:  # pragma: no cover - defensive
            pass
        assert answer is not None
        if len(chain) > MAX_CNAME_HOPS:
            answer = _replace(answer, outcome=Outcome.ERROR, detail="CNAME chain too long")
        detail = "" if answer.detail == "chain-incomplete" else answer.detail
        return DnsAnswer(
            name=name,
            rdtype=rdtype,
            outcome=answer.outcome,
            records=answer.records,
            texts=answer.texts,
            chain=tuple(chain),
            server=answer.server,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            detail=detail,
            tcp=answer.tcp,
        )

    async def _ask(self, name: str, rdtype: str) -> DnsAnswer:
        try:
            qname = dns.name.from_text(name)
        except dns.exception.DNSException as exc:  # e.g. an empty label: nothing can be asked
            return DnsAnswer(name, rdtype, Outcome.ERROR, detail=f"not a valid DNS name: {exc}")
        rtype = dns.rdatatype.from_text(rdtype)
        deadline = time.monotonic() + self.timeout
        last = DnsAnswer(name, rdtype, Outcome.TIMEOUT, detail=f"no answer within {self.timeout:g} s")
        use_edns = True
        attempt = 0
        malformed = 0
        async with self.slots():
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0.001:
                    return last
                ns = self.nameservers[attempt % len(self.nameservers)]
                attempt += 1
                q = dns.message.make_query(
                    qname, rtype, use_edns=0 if use_edns else False, payload=EDNS_PAYLOAD
                )
                q.flags |= dns.flags.RD
                self.counter.sent += 1
                try:
                    resp, tcp = await dns.asyncquery.udp_with_fallback(
                        q, ns.address, timeout=min(self.per_try, remaining), port=ns.port
                    )
                except dns.exception.Timeout:
                    last = DnsAnswer(
                        name, rdtype, Outcome.TIMEOUT, server=str(ns),
                        detail=f"no answer within {self.timeout:g} s",
                    )
                    continue
                except (dns.message.ShortHeader, dns.message.TrailingJunk, dns.exception.FormError,
                        dns.name.BadLabelType, dns.query.BadResponse, UnicodeError, ValueError) as exc:
                    last = DnsAnswer(name, rdtype, Outcome.MALFORMED, server=str(ns),
                                     detail=f"{type(exc).__name__}: {exc}")
                    malformed += 1
                    if malformed >= len(self.nameservers):
                        return last
                    continue
                except (ConnectionError, OSError, EOFError) as exc:
                    last = DnsAnswer(name, rdtype, Outcome.ERROR, server=str(ns),
                                     detail=f"{type(exc).__name__}: {exc}")
                    await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
                    continue
                rcode = resp.rcode()
                if rcode == dns.rcode.FORMERR and use_edns:
                    use_edns = False  # an old server that does not speak EDNS
                    continue
                return _interpret(name, rdtype, resp, str(ns), tcp)


def _interpret(name: str, rdtype: str, resp: dns.message.Message, server: str, tcp: bool) -> DnsAnswer:
    rcode = resp.rcode()
    if rcode == dns.rcode.SERVFAIL:
        return DnsAnswer(name, rdtype, Outcome.SERVFAIL, server=server, tcp=tcp)
    if rcode == dns.rcode.REFUSED:
        return DnsAnswer(name, rdtype, Outcome.REFUSED, server=server, tcp=tcp)
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return DnsAnswer(name, rdtype, Outcome.ERROR, server=server, tcp=tcp,
                         detail=f"rcode {dns.rcode.to_text(rcode)}")
    rtype = dns.rdatatype.from_text(rdtype)
    owner = dns.name.from_text(name)
    chain: list[str] = []
    for _ in range(MAX_CNAME_HOPS + 1):
        rrset = resp.get_rrset(resp.answer, owner, dns.rdataclass.IN, rtype)
        if rrset is not None:
            records = tuple(r.to_text() for r in rrset)
            texts: tuple[str, ...] = ()
            if rtype == dns.rdatatype.TXT:
                texts = tuple(b"".join(r.strings).decode("utf-8", "replace") for r in rrset)
            return DnsAnswer(name, rdtype, Outcome.OK, records=records, texts=texts,
                             chain=tuple(chain), server=server, tcp=tcp)
        cname = resp.get_rrset(resp.answer, owner, dns.rdataclass.IN, dns.rdatatype.CNAME)
        if cname is None or rtype == dns.rdatatype.CNAME:
            break
        owner = cname[0].target
        chain.append(owner.to_text(omit_final_dot=True))
    if rcode == dns.rcode.NXDOMAIN:
        return DnsAnswer(name, rdtype, Outcome.NXDOMAIN, chain=tuple(chain), server=server, tcp=tcp)
    if chain:
        has_soa = any(rr.rdtype == dns.rdatatype.SOA for rr in resp.authority)
        detail = "" if has_soa else "chain-incomplete"
        return DnsAnswer(name, rdtype, Outcome.NODATA, chain=tuple(chain), server=server, tcp=tcp,
                         detail=detail)
    is_referral = (
        not resp.answer
        and not (resp.flags & dns.flags.AA)
        and any(rr.rdtype == dns.rdatatype.NS for rr in resp.authority)
    )
    if is_referral:
        return DnsAnswer(name, rdtype, Outcome.ERROR, server=server, tcp=tcp,
                         detail="got a referral: the nameserver is not a recursive resolver for this name")
    return DnsAnswer(name, rdtype, Outcome.NODATA, server=server, tcp=tcp)


def _replace(answer: DnsAnswer, **changes: object) -> DnsAnswer:
    from dataclasses import replace

    return replace(answer, **changes)  # type: ignore[arg-type]


def normalise_name(name: str) -> str:
    return name.rstrip(".").lower()


def record_question(key: tuple[str, str], outcome: Outcome) -> None:
    """Count a question in the tally of the asking task's run (a query path beside :meth:`DnsClient.query`)."""
    tally = _TALLY.get()
    if tally is not None:
        tally.record(key, outcome)


def parse_nameserver(text: str) -> Nameserver:
    """Parse ``IP``, ``IP:PORT``, ``[IPv6]:PORT`` or a bare IPv6 address (surrounding blanks ignored).

    The rule itself is :func:`auditapp.core.validation.validate_nameserver`, shared with every
    front end; its :class:`~auditapp.core.validation.InputError` is a ``ValueError``.
    """
    return Nameserver(*validate_nameserver(text.strip()))
