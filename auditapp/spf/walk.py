"""A static look at a domain's whole SPF tree, independent of any connecting IP.

check_host() only ever sees the path one sender's address takes through the record; an
audit has to judge the record for every sender: how many DNS-querying terms the worst path
costs (§4.6.4), which terms point at names that do not exist (void lookups), where the tree
is broken. So :func:`walk_spf` fetches every include/redirect target, in parallel, and
resolves the a/mx/exists targets it can name without a connection (no macros).

Counting follows the tree's edges, not its distinct names: a domain included twice costs
its terms twice in a real evaluation, so it counts twice here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace

from auditapp.dnsclient import DnsAnswer, DnsClient
from auditapp.spf.errors import SpfSyntaxError
from auditapp.spf.evaluate import MAX_DNS_TERMS, MAX_VOID_LOOKUPS
from auditapp.spf.names import initial_domain_problem, is_queryable, normalise
from auditapp.spf.prefetch import mx_hosts
from auditapp.spf.record import Mechanism, Modifier, SpfRecord, parse_record, select_spf_records

#: Deepest include/redirect level fetched (the root is level 0).
MAX_DEPTH = 10


@dataclass(frozen=True)
class SpfNode:
    """One domain of the tree: its TXT answer, its SPF record(s), what it points to."""

    domain: str
    answer: DnsAnswer
    #: Every v=spf1 text found (more than one is a permerror for everybody, §4.5).
    records: tuple[str, ...] = ()
    parsed: SpfRecord | None = None
    #: Why ``parsed`` is None although records exist: syntax error or multiple records.
    error: str = ""
    #: Include and (effective) redirect targets without macros, in term order.
    children: tuple[str, ...] = ()
    depth: int = 0
    #: This record's own terms whose look-up found nothing (NXDOMAIN / no data).
    void_terms: tuple[str, ...] = ()
    #: Answers of the a/mx/exists targets, as evidence.
    target_answers: tuple[DnsAnswer, ...] = ()

    @property
    def lookup_terms(self) -> int:
        """DNS-querying terms of this record alone (§4.6.4)."""
        return len(self.parsed.dns_terms) if self.parsed else 0


@dataclass(frozen=True)
class SpfTree:
    """The SPF tree of a domain with worst-case counts over every path."""

    domain: str
    #: The domain's own node; None only when ``domain`` is not a valid name to query.
    root: SpfNode | None
    nodes: tuple[SpfNode, ...] = ()
    #: DNS-querying terms over the full tree (an upper bound on what one evaluation costs).
    lookup_count: int = 0
    #: Terms over the full tree whose look-up was void.
    void_count: int = 0
    uses_ptr: bool = False
    #: Some DNS-querying term depends on the sender, so part of the tree could not be seen.
    has_macros: bool = False
    #: Look-ups that failed (timeout, SERVFAIL...): the counts are then lower bounds.
    failures: tuple[DnsAnswer, ...] = ()
    #: Domains reached again from inside their own subtree (include/redirect loops).
    loops: tuple[str, ...] = ()
    #: Some branch went deeper than MAX_DEPTH and was not fetched.
    truncated: bool = False
    max_lookups: int = field(default=MAX_DNS_TERMS, repr=False)
    max_void: int = field(default=MAX_VOID_LOOKUPS, repr=False)

    @property
    def complete(self) -> bool:
        """Whether every look-up succeeded, so the counts are exact rather than lower bounds."""
        return not self.failures and not self.truncated

    @property
    def record(self) -> SpfRecord | None:
        return self.root.parsed if self.root else None

    @property
    def over_lookup_limit(self) -> bool:
        return self.lookup_count > self.max_lookups

    @property
    def over_void_limit(self) -> bool:
        return self.void_count > self.max_void

    def node(self, domain: str) -> SpfNode | None:
        domain = normalise(domain)
        return next((n for n in self.nodes if n.domain == domain), None)


async def walk_spf(dns: DnsClient, domain: str) -> SpfTree:
    """Fetch and parse the SPF tree of ``domain`` and count its look-ups (see module doc)."""
    domain = normalise(domain)
    if initial_domain_problem(domain):
        return SpfTree(domain, None)
    walker = _Walker(dns)
    walker.spawn(domain, 0)
    while True:
        pending = [t for t in walker.tasks.values() if not t.done()]
        if not pending:
            break
        await asyncio.gather(*pending)
    drafts = {name: task.result() for name, task in walker.tasks.items()}
    return _assemble(domain, drafts, walker.truncated)


@dataclass
class _Draft:
    node: SpfNode
    failures: list[DnsAnswer]


class _Walker:
    """Fetches each domain once; a node never waits for its children (loops cannot hang)."""

    def __init__(self, dns: DnsClient) -> None:
        self.dns = dns
        self.tasks: dict[str, asyncio.Task[_Draft]] = {}
        self.truncated = False

    def spawn(self, domain: str, depth: int) -> None:
        if domain in self.tasks:
            return
        if depth > MAX_DEPTH:
            self.truncated = True
            return
        self.tasks[domain] = asyncio.get_running_loop().create_task(self.visit(domain, depth))

    async def visit(self, domain: str, depth: int) -> _Draft:
        answer = await self.dns.query(domain, "TXT")
        failures = [answer] if answer.outcome.is_failure else []
        records = select_spf_records(answer.texts) if answer.ok else ()
        node = SpfNode(domain, answer, records, depth=depth)
        if len(records) > 1:
            return _Draft(_with(node, error="multiple SPF records"), failures)
        if not records:
            return _Draft(node, failures)
        try:
            parsed = parse_record(records[0])
        except SpfSyntaxError as exc:
            return _Draft(_with(node, error=f"syntax error: {exc.message}"), failures)
        children = [t for t in (_static_target(term, domain) for term in _followed_terms(parsed)) if t]
        for child in children:
            self.spawn(child, depth + 1)
        checks = [self.resolve(m, domain) for m in parsed.mechanisms if m.name in ("a", "mx", "exists")]
        results = await asyncio.gather(*checks)
        void_terms = tuple(term for term, void, _ in results if void)
        answers = tuple(a for _, _, found in results for a in found)
        failures += [a for a in answers if a.outcome.is_failure]
        node = _with(node, parsed=parsed, children=tuple(children), void_terms=void_terms,
                     target_answers=answers)
        return _Draft(node, failures)

    async def resolve(self, term: Mechanism, domain: str) -> tuple[str, bool, list[DnsAnswer]]:
        """Look up an a/mx/exists target; returns (term, void?, answers).

        ``a`` is void only when the name has neither A nor AAAA: which one an evaluation asks
        for depends on the sender's address family, and an IPv4-only host is not a mistake.
        """
        target = _static_target(term, domain)
        if target is None:
            return term.text, False, []
        if term.name == "exists":
            answer = await self.dns.query(target, "A")
            return term.text, answer.outcome.is_void, [answer]
        if term.name == "a":
            a, aaaa = await self.dns.addresses(target)
            return term.text, a.outcome.is_void and aaaa.outcome.is_void, [a, aaaa]
        mx = await self.dns.query(target, "MX")
        hosts = [h for h in mx_hosts(mx)[:10] if is_queryable(h)] if mx.ok else []
        found = await asyncio.gather(*(self.dns.addresses(h) for h in hosts))
        return term.text, mx.outcome.is_void, [mx, *(a for pair in found for a in pair)]


def _followed_terms(record: SpfRecord) -> list[Mechanism | Modifier]:
    terms: list[Mechanism | Modifier] = [m for m in record.mechanisms if m.name == "include"]
    if record.effective_redirect is not None:
        terms.append(record.effective_redirect)
    return terms


def _static_target(term: Mechanism | Modifier, domain: str) -> str | None:
    """The target name when it needs no macros, else None."""
    spec = term.value if isinstance(term, Modifier) else term.domain_spec
    if spec is None:
        return domain
    if "%" in spec:
        return None
    name = normalise(spec)
    return name if is_queryable(name) else None


def _with(node: SpfNode, **changes: object) -> SpfNode:
    return replace(node, **changes)  # type: ignore[arg-type]


def _assemble(domain: str, drafts: dict[str, _Draft], truncated: bool) -> SpfTree:
    """Add include/redirect voids to each node, then sum counts along every edge."""
    nodes: dict[str, SpfNode] = {}
    for name, draft in drafts.items():
        node = draft.node
        if node.parsed is not None:
            extra = tuple(
                term.text for term in _followed_terms(node.parsed)
                if (target := _static_target(term, name)) in drafts
                and drafts[target].node.answer.outcome.is_void
            )
            node = _with(node, void_terms=node.void_terms + extra)
        nodes[name] = node
    lookups: dict[str, int] = {}
    voids: dict[str, int] = {}
    loops: list[str] = []
    in_progress: set[str] = set()

    def total(name: str) -> tuple[int, int]:
        if name in lookups:
            return lookups[name], voids[name]
        node = nodes.get(name)
        if node is None:  # not fetched (too deep)
            return 0, 0
        in_progress.add(name)
        count, void = node.lookup_terms, len(node.void_terms)
        for child in node.children:
            if child in in_progress:
                loops.append(child)
                continue
            child_count, child_void = total(child)
            count += child_count
            void += child_void
        in_progress.discard(name)
        lookups[name], voids[name] = count, void
        return count, void

    lookup_count, void_count = total(domain)
    if loops:  # an evaluation that enters a loop goes round until it passes the limit
        lookup_count = max(lookup_count, MAX_DNS_TERMS + 1)
    parsed = [n.parsed for n in nodes.values() if n.parsed is not None]
    return SpfTree(
        domain=domain,
        root=nodes.get(domain),
        nodes=tuple(sorted(nodes.values(), key=lambda n: (n.depth, n.domain))),
        lookup_count=lookup_count,
        void_count=void_count,
        uses_ptr=any(m.name == "ptr" for r in parsed for m in r.mechanisms),
        has_macros=any(t.has_macros for r in parsed for t in r.dns_terms),
        failures=tuple(a for d in drafts.values() for a in d.failures),
        loops=tuple(dict.fromkeys(loops)),
        truncated=truncated,
    )
