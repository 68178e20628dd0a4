"""Identity of each sending IP: PTR, forward confirmation, generic names, HELO (knowledge base R1, R2)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import replace

from auditapp.checks.registry import CheckContext, check
from auditapp.collectors.facts import ForwardLookup, HeloFact, PtrFact
from auditapp.core.dnsnames import address_literal, helo_syntax_problem, nonpublic_why
from auditapp.core.model import Finding, Reason

#: Words that mark dial-up, DSL and pool addresses in provider default names (knowledge base R1).
#: They count only as a whole token ("dyn-1234", "dsl.pool", not "dynamics" or "custom"), and
#: only next to a number, as in every provider scheme we know: "mail.client.example.de" is a
#: company's name, "client-17-4.isp.example" a provider's. "static" alone is deliberately
#: absent: it is not conclusive.
GENERIC_KEYWORDS = frozenset({
    "dyn", "dynamic", "dynip", "dial", "dialup", "dialin", "pool", "pools", "dsl", "adsl", "vdsl", "xdsl", "sdsl",
    "dslb", "cable", "ppp", "pppoe", "dhcp", "client", "clients", "dip", "cust", "customer", "broadband",
})


def name_tokens(label: str) -> list[str]:
    """A label cut at punctuation and at every change between letters and digits."""
    return re.findall(r"[a-z]+|[0-9]+", label)


def _plain(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address, an IPv4-mapped IPv6 one (``::ffff:192.0.2.10``, as dual-stack MTAs log IPv4) as IPv4."""
    addr = ipaddress.ip_address(ip)
    return addr.ipv4_mapped or addr if isinstance(addr, ipaddress.IPv6Address) else addr


def same_ip(a: str, b: str) -> bool:
    try:
        return _plain(a) == _plain(b)
    except ValueError:
        return False


def _ipv6_groups_in(name: str, addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``name`` writes ``addr`` in groups, dashes or dots for colons ("2001-db8-6--32.isp.example").

    Issue 16: the nibble test misses the compressed form, the most common IPv6 provider default.
    """
    for parts in [label.split("-") for label in name.split(".")] + [name.split(".")]:
        for i in range(len(parts)):
            for j in range(i + 3, min(len(parts), i + 9) + 1):  # 3 to 8 groups
                try:
                    if ipaddress.ip_address(":".join(parts[i:j])) == addr:
                        return True
                except ValueError:
                    continue
    return False


def generic_why(name: str, ip: str) -> str:
    """Why a PTR name looks like a provider default, or ``""``."""
    n = name.rstrip(".").lower()
    addr = _plain(ip)
    if addr.version == 4:
        octets = [str(o) for o in addr.packed]
        tokens = re.split(r"[^0-9a-z]+", n)
        nums = [t for t in re.split(r"[^0-9]+", n) if t]
        padded = [o.zfill(3) for o in octets]
        for seq in (octets, octets[::-1]):
            for i in range(len(nums) - 3):
                if [x.lstrip("0") or "0" for x in nums[i:i + 4]] == seq:
                    return "why.ip_embedded"
        hexform = "".join(f"{o:02x}" for o in addr.packed)
        if any(hexform in t for t in tokens):
            return "why.ip_hex"
        if "".join(padded) in n or "".join(padded[::-1]) in n:
            return "why.ip_embedded"
    else:
        nibbles = addr.exploded.replace(":", "")
        flat = re.sub(r"[^0-9a-f]", "", n)
        if nibbles[-8:] in flat or nibbles[-8:][::-1] in flat or _ipv6_groups_in(n, addr):
            return "why.ipv6_embedded"
    labels = n.split(".")
    host_part = labels[:-2]  # the registered domain itself says nothing about the line type
    tokens = [t for label in host_part for t in name_tokens(label)]
    if any(t.isdigit() for t in tokens):
        for t in tokens:
            if t in GENERIC_KEYWORDS:
                return f"why.keyword|{t}"
    return ""


def _forward_evidence(fw: ForwardLookup) -> list[str]:
    return [fw.a.evidence(), fw.aaaa.evidence()]


@check("PTR-MISSING", needs=("ptr",))
def ptr_missing(ctx: CheckContext) -> Iterator[Finding]:
    for ip in ctx.ips:
        fact: PtrFact = ctx.facts.ptr[ip]  # type: ignore[index]
        ans = fact.answer
        if ans.outcome.is_failure:
            yield ctx.dns_not_tested(ip, ans)
        elif not fact.names:
            yield ctx.fail(ip, "missing", [ans.evidence()], ip=ip, answer=ans.outcome.value.upper(),
                           domain=ctx.domain)
        else:
            yield ctx.passed(ip, [ans.evidence()], ip=ip, names=", ".join(fact.names), domain=ctx.domain)


@check("PTR-FCRDNS", needs=("ptr",))
def ptr_fcrdns(ctx: CheckContext) -> Iterator[Finding]:
    for ip in ctx.ips:
        fact: PtrFact = ctx.facts.ptr[ip]  # type: ignore[index]
        if fact.answer.outcome.is_failure:
            yield ctx.dns_not_tested(ip, fact.answer)
            continue
        if not fact.names:
            yield ctx.not_applicable(ip, [fact.answer.evidence()], ip=ip, domain=ctx.domain)
            continue
        evidence = [fact.answer.evidence()]
        confirmed = None
        failures: list[Finding] = []
        not_tested: Finding | None = None
        by_name = {fw.name: fw for fw in fact.forward}
        for name in fact.names:
            why = nonpublic_why(name)
            if why:
                failures.append(ctx.fail(ip, "nonpublic", evidence, ip=ip, name=name, why=why, domain=ctx.domain))
                continue
            fw = by_name.get(name)
            if fw is None:
                continue
            evidence += _forward_evidence(fw)
            if any(same_ip(a, ip) for a in fw.addresses):
                confirmed = name
                break
            own = fw.answer_for(ip)
            if fw.nxdomain:
                failures.append(ctx.fail(ip, "nxdomain", evidence, ip=ip, name=name, domain=ctx.domain))
            elif own.outcome.is_failure:
                not_tested = ctx.dns_not_tested(ip, own, evidence)
            else:
                failures.append(ctx.fail(ip, "other_addresses", evidence, ip=ip, name=name,
                                         addresses=", ".join(fw.addresses) or "-", domain=ctx.domain))
        if confirmed:
            yield ctx.passed(ip, evidence, ip=ip, name=confirmed, domain=ctx.domain)
        elif not_tested is not None:
            # One name could not be checked; it might have been the confirming one.
            yield not_tested
        else:
            yield replace(failures[0], evidence=tuple(evidence))


@check("PTR-GENERIC", needs=("ptr",))
def ptr_generic(ctx: CheckContext) -> Iterator[Finding]:
    for ip in ctx.ips:
        fact: PtrFact = ctx.facts.ptr[ip]  # type: ignore[index]
        if fact.answer.outcome.is_failure:
            yield ctx.dns_not_tested(ip, fact.answer)
        elif not fact.names:
            yield ctx.not_applicable(ip, [fact.answer.evidence()], ip=ip, domain=ctx.domain)
        else:
            verdicts = [(n, generic_why(n, ip)) for n in fact.names]
            bad = [(n, w) for n, w in verdicts if w]
            if len(bad) == len(verdicts):
                name, why = bad[0]
                yield ctx.fail(ip, "generic", [fact.answer.evidence()], ip=ip, name=name, why=why, domain=ctx.domain)
            else:
                name = next(n for n, w in verdicts if not w)
                yield ctx.passed(ip, [fact.answer.evidence()], ip=ip, name=name, domain=ctx.domain)


def _helo_subject(fact: HeloFact) -> str:
    return fact.ip


def _helo_unknown(ctx: CheckContext, fact: HeloFact) -> Finding:
    return ctx.not_tested(fact.ip, Reason("reason.no_helo", {"ip": fact.ip, "why": fact.unknown_why}),
                          fact.transcript)


def helo_state(fact: HeloFact) -> str:
    """Classify a HELO fact: unknown, literal, syntax, dnsfail, nxdomain, noaddr, ok."""
    if not fact.name:
        return "unknown"
    if address_literal(fact.name):
        return "literal"
    if helo_syntax_problem(fact.name):
        return "syntax"
    fw = fact.forward
    if fw is not None and fw.nxdomain:  # NXDOMAIN is about the name: one query saying so is enough
        return "nxdomain"
    if fw is None or (fw.failure is not None and not fw.addresses):
        return "dnsfail"
    if not fw.addresses:
        return "noaddr"
    return "ok"


@check("HELO-INVALID", needs=("helo",))
def helo_invalid(ctx: CheckContext) -> Iterator[Finding]:
    for ip in ctx.ips:
        fact: HeloFact = ctx.facts.helo[ip]  # type: ignore[index]
        state = helo_state(fact)
        params = {"ip": ip, "helo": fact.name, "source": fact.source, "domain": ctx.domain}
        ev = list(fact.transcript)
        if fact.forward:
            ev += _forward_evidence(fact.forward)
        if state == "unknown":
            yield _helo_unknown(ctx, fact)
        elif state == "literal":
            yield ctx.passed(ip, ev, outcome="literal", **params)
        elif state == "syntax":
            yield ctx.fail(ip, "not_fqdn", ev, why=helo_syntax_problem(fact.name or ""), **params)
        elif state == "dnsfail":
            assert fact.forward is not None and fact.forward.failure is not None
            yield ctx.dns_not_tested(ip, fact.forward.failure, ev)
        elif state == "nxdomain":
            yield ctx.fail(ip, "nxdomain", ev, **params)
        elif state == "noaddr":
            yield ctx.fail(ip, "no_address", ev, **params)
        else:
            yield ctx.passed(ip, ev, **params)


@check("HELO-IP-MISMATCH", needs=("helo",))
def helo_ip_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    for ip in ctx.ips:
        fact: HeloFact = ctx.facts.helo[ip]  # type: ignore[index]
        state = helo_state(fact)
        params = {"ip": ip, "helo": fact.name, "domain": ctx.domain}
        if state == "unknown":
            yield _helo_unknown(ctx, fact)
        elif state == "literal":
            lit = address_literal(fact.name or "")
            if lit and same_ip(lit, ip):
                yield ctx.passed(ip, fact.transcript, **params)
            else:
                yield ctx.fail(ip, "mismatch", fact.transcript, addresses=lit or "-", **params)
        elif state == "dnsfail":
            assert fact.forward is not None and fact.forward.failure is not None
            yield ctx.dns_not_tested(ip, fact.forward.failure)
        elif state != "ok":
            yield ctx.not_applicable(ip, fact.transcript, **params)
        else:
            assert fact.forward is not None
            ev = _forward_evidence(fact.forward)
            if any(same_ip(a, ip) for a in fact.forward.addresses):
                yield ctx.passed(ip, ev, **params)
            elif fact.forward.answer_for(ip).outcome.is_failure:
                # The lookup that could hold this IP (A or AAAA) failed: the IP may be there.
                yield ctx.dns_not_tested(ip, fact.forward.answer_for(ip), ev)
            else:
                yield ctx.fail(ip, "mismatch", ev, addresses=", ".join(fact.forward.addresses), **params)


@check("HELO-PTR-MISMATCH", needs=("helo", "ptr"))
def helo_ptr_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    for ip in ctx.ips:
        fact: HeloFact = ctx.facts.helo[ip]  # type: ignore[index]
        ptr: PtrFact = ctx.facts.ptr[ip]  # type: ignore[index]
        state = helo_state(fact)
        params = {"ip": ip, "helo": fact.name, "domain": ctx.domain}
        if state == "unknown":
            yield _helo_unknown(ctx, fact)
        elif ptr.answer.outcome.is_failure:
            yield ctx.dns_not_tested(ip, ptr.answer)
        elif state in ("syntax", "literal") or not ptr.names:
            yield ctx.not_applicable(ip, [ptr.answer.evidence()], ptr="-", **params)
        else:
            helo = (fact.name or "").rstrip(".").lower()
            if helo in ptr.names:
                yield ctx.passed(ip, [ptr.answer.evidence()], ptr=helo, **params)
            else:
                yield ctx.fail(ip, "mismatch", [ptr.answer.evidence()], ptr=", ".join(ptr.names), **params)
