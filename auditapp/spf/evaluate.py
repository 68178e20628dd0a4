"""check_host() of RFC 7208 §4, over our own DNS client.

Why not pyspf: it resolves through a module-global function and the system resolver, so it
can neither run concurrently with the rest of the audit nor tell a timeout from "no record".
Here every question goes through the injected :class:`~auditapp.dnsclient.DnsClient`, and all
per-evaluation state (limits, counters, trace) lives in one :class:`_Evaluation` object.

Errors travel as exceptions (:class:`_PermError`, :class:`_TempError`) because §5.2 makes an
include's permerror/temperror the result of the whole evaluation, wherever it happens.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass, replace

import dns.reversename

from auditapp.dnsclient import DnsAnswer, DnsClient
from auditapp.spf import macros
from auditapp.spf.errors import SpfSyntaxError
from auditapp.spf.macros import MacroValues
from auditapp.spf.names import initial_domain_problem, is_queryable, normalise
from auditapp.spf.prefetch import Prefetcher, mx_hosts
from auditapp.spf.record import Mechanism, Modifier, SpfRecord, parse_record, select_spf_records
from auditapp.spf.result import QUALIFIER_RESULTS, SpfEvaluation, SpfResult

#: §4.6.4: DNS-querying terms per evaluation, void lookups, MX names per mx, PTR names per ptr.
MAX_DNS_TERMS = 10
MAX_VOID_LOOKUPS = 2
MAX_MX_NAMES = 10
MAX_PTR_NAMES = 10

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class _PermError(Exception):
    pass


class _TempError(Exception):
    pass


@dataclass(frozen=True)
class _Outcome:
    """One (possibly nested) check_host() result before it is packed for the caller."""

    result: SpfResult
    mechanism: str
    #: The record and domain whose exp= applies when the result is fail (§6.2): the record
    #: that produced the result, followed through redirects but never through includes.
    exp_record: SpfRecord | None = None
    exp_domain: str = ""
    #: For ``none``: whether the TXT look-up itself was void (NXDOMAIN or no TXT at all).
    void: bool = False


async def check_host(
    dns: DnsClient,
    ip: str,
    domain: str,
    sender: str,
    helo: str = "",
    *,
    receiver: str = "auditapp.invalid",
) -> SpfEvaluation:
    """Evaluate the SPF policy of ``domain`` for a message from ``ip`` (RFC 7208 §4).

    ``sender`` is the MAIL FROM address; empty means the null reverse-path, and the identity
    becomes ``postmaster@<helo>`` (§2.4). ``receiver`` is what ``%{r}`` expands to.
    Raises ValueError only for an ``ip`` that is not an IP address (a caller bug).
    """
    evaluation = _Evaluation(dns, _client_address(ip), sender, helo, receiver)
    return await evaluation.run(domain)


def _client_address(ip: str) -> IPAddress:
    address = ipaddress.ip_address(ip.strip())
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # §5: an IPv4-mapped IPv6 address is an IPv4 client
    return address


class _Evaluation:
    """The state of one check_host() call, shared by its nested include/redirect levels."""

    def __init__(self, dns: DnsClient, ip: IPAddress, sender: str, helo: str, receiver: str) -> None:
        self.dns = dns
        self.ip = ip
        self.helo = helo
        self.address_type = "A" if ip.version == 4 else "AAAA"
        if not sender:
            sender = f"postmaster@{helo}"  # §2.4: the null reverse-path checks the HELO identity
        local, at, sender_domain = sender.rpartition("@")
        if not at:
            local, sender_domain = "", sender
        self.values = MacroValues(
            sender=f"{local or 'postmaster'}@{sender_domain}",
            local=local or "postmaster",  # §4.3: no local-part means "postmaster"
            sender_domain=sender_domain,
            domain="",
            ip=str(ip) if ip.version == 4 else macros.ip_nibbles(ip.packed),
            version="in-addr" if ip.version == 4 else "ip6",
            helo=helo,
            client_ip=str(ip),
            receiver=receiver,
            timestamp=str(int(time.time())),
        )
        self.lookups = 0
        self.void_lookups = 0
        self.trace: list[str] = []
        self.answers: list[DnsAnswer] = []
        #: Failed lookups that §5.5 turns into "no match" instead of temperror; while an exp=
        #: text is being built (it cannot change the result) they are not recorded.
        self.ignored: list[DnsAnswer] = []
        self._record_ignored = True
        self.top_record: str | None = None
        self._ptr_names: dict[str, str] = {}  # %{p} per current domain
        self.prefetch = Prefetcher(dns, self.address_type)

    # -- driver ------------------------------------------------------------------------

    async def run(self, domain: str) -> SpfEvaluation:
        domain = normalise(domain)
        problem = initial_domain_problem(domain)
        if problem:
            self.trace.append(f"{problem}: result none (§4.3)")
            return self._pack(domain, SpfResult.NONE, mechanism="")
        try:
            outcome = await self.check(domain, depth=0)
        except _PermError as exc:
            self.trace.append(f"permerror: {exc}")
            return self._pack(domain, SpfResult.PERMERROR, problem=str(exc))
        except _TempError as exc:
            self.trace.append(f"temperror: {exc}")
            return self._pack(domain, SpfResult.TEMPERROR, problem=str(exc))
        explanation = ""
        if outcome.result is SpfResult.FAIL and outcome.exp_record is not None:
            explanation = await self.explanation(outcome.exp_record, outcome.exp_domain)
        return self._pack(domain, outcome.result, mechanism=outcome.mechanism, explanation=explanation)

    def _pack(self, domain: str, result: SpfResult, *, mechanism: str = "", problem: str = "",
              explanation: str = "") -> SpfEvaluation:
        return SpfEvaluation(
            result=result, domain=domain, record=self.top_record, explanation=explanation,
            problem=problem, mechanism=mechanism, lookups=self.lookups,
            void_lookups=self.void_lookups, trace=tuple(self.trace), answers=tuple(self.answers),
            ignored_failures=tuple(self.ignored),
        )

    # -- DNS ---------------------------------------------------------------------------

    async def query(self, name: str, rdtype: str, *, fatal: bool = True) -> DnsAnswer:
        """Ask, keep the answer as evidence; a failed lookup is a temperror (§5) if ``fatal``."""
        answer = await self.dns.query(name, rdtype)
        self.answers.append(answer)
        if fatal and answer.outcome.is_failure:
            raise _TempError(f"DNS {answer.outcome.value} on {rdtype} {name}"
                             + (f" ({answer.detail})" if answer.detail else ""))
        return answer

    def ignore_failure(self, answer: DnsAnswer, why: str) -> None:
        """Note a failed lookup that the RFC rules let us treat as "no match" (§5.5)."""
        if not self._record_ignored or any((a.name, a.rdtype) == (answer.name, answer.rdtype) for a in self.ignored):
            return
        self.ignored.append(answer)
        self.trace.append(f"  DNS {answer.outcome.value} on {answer.rdtype} {answer.name} ignored: {why} (§5.5); "
                          "the result may differ once DNS answers")

    def count_lookup(self, term: Mechanism | Modifier) -> None:
        self.lookups += 1
        if self.lookups > MAX_DNS_TERMS:
            raise _PermError(f"more than {MAX_DNS_TERMS} DNS-querying terms (reached at {term.text!r})")

    def count_void(self, term: Mechanism | Modifier, answer: DnsAnswer | None) -> None:
        self.void_lookups += 1
        what = f"{answer.rdtype} {answer.name} {answer.outcome.value}" if answer else "invalid name"
        self.trace.append(f"  void lookup {self.void_lookups} for {term.text} ({what})")
        if self.void_lookups > MAX_VOID_LOOKUPS:
            raise _PermError(f"void lookup limit exceeded (more than {MAX_VOID_LOOKUPS} lookups "
                             f"returned no records, the last for {term.text!r})")

    # -- check_host() --------------------------------------------------------------------

    async def fetch_record(self, domain: str, depth: int) -> tuple[SpfRecord | None, DnsAnswer]:
        """§4.4/§4.5: the single v=spf1 TXT record of ``domain``; None for "no record"."""
        answer = await self.query(domain, "TXT")
        indent = "  " * depth
        if answer.outcome.is_void:
            self.trace.append(f"{indent}TXT {domain}: {answer.outcome.value}, no SPF record")
            return None, answer
        texts = select_spf_records(answer.texts)
        if not texts:
            self.trace.append(f"{indent}TXT {domain}: no v=spf1 record")
            return None, answer
        if len(texts) > 1:
            raise _PermError(f"multiple SPF records at {domain} ({len(texts)})")
        if depth == 0:
            self.top_record = texts[0]
        self.trace.append(f"{indent}TXT {domain}: {texts[0]}")
        try:
            return parse_record(texts[0]), answer
        except SpfSyntaxError as exc:
            raise _PermError(f"syntax error in the SPF record of {domain}: {exc.message}") from None

    async def check(self, domain: str, depth: int) -> _Outcome:
        """check_host() for ``domain``: ``none`` when it publishes no record."""
        record, answer = await self.fetch_record(domain, depth)
        if record is None:
            return _Outcome(SpfResult.NONE, "", void=answer.outcome.is_void)
        self.prefetch.record(record, domain)
        indent = "  " * depth
        for term in record.mechanisms:
            if await self.matches(term, domain, depth):
                result = QUALIFIER_RESULTS[term.qualifier]
                self.trace.append(f"{indent}{term.text} matched: {result.value}")
                return _Outcome(result, term.text, record, domain)
        redirect = record.effective_redirect
        if redirect is not None:
            return await self.follow_redirect(redirect, domain, depth)
        self.trace.append(f"{indent}no mechanism matched: neutral (default)")
        return _Outcome(SpfResult.NEUTRAL, "default", record, domain)

    async def follow_redirect(self, redirect: Modifier, domain: str, depth: int) -> _Outcome:
        """§6.1: the result is the target's, except that "no record" is a permerror."""
        self.count_lookup(redirect)
        target = await self.target(redirect.value, domain)
        if target is None:
            raise _PermError(f"{redirect.text}: the target is not a valid domain name")
        self.trace.append(f"{'  ' * depth}{redirect.text}: evaluating {target}")
        outcome = await self.check(target, depth + 1)
        if outcome.result is SpfResult.NONE:
            # A void target still counts (§4.6.4), but the missing record is the news.
            self.void_lookups += int(outcome.void)
            raise _PermError(f"{redirect.text}: {target} has no SPF record")
        return outcome

    async def target(self, spec: str | None, domain: str) -> str | None:
        """The expanded target name of a term, or None when no DNS query can be built."""
        if spec is None:
            return domain
        values = replace(self.values, domain=domain)
        if macros.uses_letter(spec, "p", letters=macros.DOMAIN_LETTERS, allow_space=False):
            values = replace(values, ptr=await self.ptr_name(domain))
        name = normalise(macros.expand_domain(spec, values))
        return name if is_queryable(name) else None

    # -- mechanisms (§5) -------------------------------------------------------------------

    async def matches(self, term: Mechanism, domain: str, depth: int) -> bool:
        if term.name == "all":
            return True
        if term.name in ("ip4", "ip6"):
            assert term.network is not None
            return self.ip.version == term.network.version and self.ip in term.network
        self.count_lookup(term)
        target = await self.target(term.domain_spec, domain)
        if target is None:
            # Valid syntax that expands to no DNS name (empty or 64+ octet label): RFC 7208
            # leaves it undefined; we treat the name as non-existent, like §4.3 does.
            self.trace.append(f"{'  ' * depth}{term.text}: target is not a valid domain name")
            if term.name == "include":
                raise _PermError(f"{term.text}: the target is not a valid domain name")
            self.count_void(term, None)
            return False
        if term.name == "include":
            return await self.include(term, target, depth)
        if term.name == "a":
            return await self.match_a(term, target)
        if term.name == "mx":
            return await self.match_mx(term, target)
        if term.name == "ptr":
            return await self.match_ptr(term, target)
        return await self.match_exists(term, target)

    async def include(self, term: Mechanism, target: str, depth: int) -> bool:
        """§5.2: pass matches; fail/softfail/neutral do not; none and errors are permerror/
        temperror (errors propagate as exceptions by themselves)."""
        self.trace.append(f"{'  ' * depth}{term.text}: evaluating {target}")
        outcome = await self.check(target, depth + 1)
        if outcome.result is SpfResult.NONE:
            self.void_lookups += int(outcome.void)
            raise _PermError(f"{term.text}: {target} has no SPF record")
        self.trace.append(f"{'  ' * depth}{term.text} -> {outcome.result.value}")
        return outcome.result is SpfResult.PASS

    def _in_cidr(self, term: Mechanism, address: str) -> bool:
        try:
            candidate = ipaddress.ip_address(address)
        except ValueError:
            return False
        if candidate.version != self.ip.version:
            return False
        length = (term.cidr4 if candidate.version == 4 else term.cidr6)
        length = candidate.max_prefixlen if length is None else length
        network = ipaddress.ip_network(f"{candidate}/{length}", strict=False)
        return self.ip in network

    async def match_a(self, term: Mechanism, target: str) -> bool:
        answer = await self.query(target, self.address_type)
        if answer.outcome.is_void:
            self.count_void(term, answer)
            return False
        return any(self._in_cidr(term, address) for address in answer.records)

    async def match_mx(self, term: Mechanism, target: str) -> bool:
        """§5.4: MX look-up, then the address of every exchange; more than 10 is permerror."""
        answer = await self.query(target, "MX")
        if answer.outcome.is_void:
            self.count_void(term, answer)
            return False
        if len(answer.records) > MAX_MX_NAMES:
            raise _PermError(f"{term.text}: {target} has {len(answer.records)} MX records "
                             f"(more than {MAX_MX_NAMES})")
        hosts = [h for h in mx_hosts(answer) if is_queryable(h)]
        addresses = await asyncio.gather(*(self.query(h, self.address_type, fatal=False) for h in hosts))
        for found in addresses:  # in MX answer order, so the outcome does not depend on timing
            if found.outcome.is_failure:
                raise _TempError(f"DNS {found.outcome.value} on {found.rdtype} {found.name}")
            if any(self._in_cidr(term, a) for a in found.records):
                return True
        return False

    async def match_exists(self, term: Mechanism, target: str) -> bool:
        """§5.7: an A look-up whatever the client's address family."""
        answer = await self.query(target, "A")
        if answer.outcome.is_void:
            self.count_void(term, answer)
            return False
        return True

    async def match_ptr(self, term: Mechanism, target: str) -> bool:
        """§5.5: a validated PTR name equal to or under ``target``; DNS errors mean no match."""
        names = await self.ptr_candidates(term)
        suffix = "." + target
        wanted = [n for n in names if n == target or n.endswith(suffix)]
        return bool(await self.validated(wanted))

    async def ptr_candidates(self, term: Mechanism | None) -> list[str]:
        """The first 10 PTR names of the client (§4.6.4); errors give none (§5.5)."""
        reverse = dns.reversename.from_address(str(self.ip)).to_text(omit_final_dot=True)
        answer = await self.query(reverse, "PTR", fatal=False)
        if answer.outcome.is_void and term is not None:
            self.count_void(term, answer)
        if answer.outcome.is_failure:
            self.ignore_failure(answer, "no PTR names for the client")
        if not answer.ok:
            return []
        return [normalise(r) for r in answer.records][:MAX_PTR_NAMES]

    async def validated(self, names: list[str]) -> list[str]:
        """Names whose address records include the client's address (§5.5)."""
        usable = [n for n in names if is_queryable(n)]
        answers = await asyncio.gather(*(self.query(n, self.address_type, fatal=False) for n in usable))
        ip = str(self.ip)
        for answer in answers:
            if answer.outcome.is_failure:
                self.ignore_failure(answer, f"PTR name {answer.name} not validated")
        return [n for n, a in zip(usable, answers, strict=True)
                if a.ok and any(_same_address(ip, r) for r in a.records)]

    async def ptr_name(self, domain: str) -> str:
        """``%{p}`` (§7.3): the validated name of the client, preferring ``domain`` itself,
        then a name under it; "unknown" when none validates."""
        if domain not in self._ptr_names:
            names = await self.validated(await self.ptr_candidates(None))
            suffix = "." + domain
            best = next((n for n in names if n == domain), None)
            best = best or next((n for n in names if n.endswith(suffix)), None)
            self._ptr_names[domain] = best or (names[0] if names else "unknown")
        return self._ptr_names[domain]

    # -- explanation (§6.2) --------------------------------------------------------------

    async def explanation(self, record: SpfRecord, domain: str) -> str:
        """The exp= text for a fail; any problem fetching or expanding it is ignored."""
        exp = record.exp
        if exp is None:
            return ""
        self._record_ignored = False  # the result is already decided; only the text is at stake
        try:
            target = await self.target(exp.value, domain)
        except SpfSyntaxError:
            return ""
        if target is None:
            return ""
        answer = await self.query(target, "TXT", fatal=False)
        if not answer.ok or len(answer.texts) != 1:
            self.trace.append(f"{exp.text}: ignored ({answer.outcome.value}, {len(answer.texts)} records)")
            return ""
        text = answer.texts[0]
        try:
            values = replace(self.values, domain=domain)
            if macros.uses_letter(text, "p"):
                values = replace(values, ptr=await self.ptr_name(domain))
            expanded = macros.expand(text, values, explanation=True)
        except SpfSyntaxError as exc:
            self.trace.append(f"{exp.text}: ignored ({exc.message})")
            return ""
        self.trace.append(f"{exp.text}: {expanded!r}")
        return expanded


def _same_address(ip: str, record: str) -> bool:
    try:
        return ipaddress.ip_address(record) == ipaddress.ip_address(ip)
    except ValueError:
        return False


__all__ = ["MAX_DNS_TERMS", "MAX_VOID_LOOKUPS", "SpfEvaluation", "SpfResult", "check_host"]
