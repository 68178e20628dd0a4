"""SPF checks over the collected SPF tree and check_host() results (knowledge base R3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from auditapp.checks.dkim import found_keys
from auditapp.checks.dmarc import discover
from auditapp.checks.identity import helo_state
from auditapp.checks.registry import CheckContext, check
from auditapp.core.model import Finding, Reason
from auditapp.spf import SpfResult

if TYPE_CHECKING:
    from auditapp.spf import SpfNode, SpfTree

#: RFC 7208 §4.6.4
LOOKUP_LIMIT = 10
VOID_LIMIT = 2


def _tree(ctx: CheckContext) -> SpfTree:
    return ctx.facts.spf_tree  # type: ignore[return-value]


def _evidence(tree: SpfTree) -> list[str]:
    return [n.answer.evidence() for n in tree.nodes]


def _root_state(ctx: CheckContext) -> tuple[str, SpfNode | None]:
    """``dnsfail``, ``missing``, ``multiple``, ``invalid`` or ``ok`` for the domain's own record."""
    tree = _tree(ctx)
    root = tree.root
    if root is None or root.answer.outcome.is_failure:
        return "dnsfail", root
    if not root.records:
        return "missing", root
    if len(root.records) > 1:
        return "multiple", root
    if root.parsed is None:
        return "invalid", root
    return "ok", root


def terminal_all(tree: SpfTree) -> tuple[str | None, str]:
    """The qualifier of the ``all`` that ends evaluation, following ``redirect``; None if there is none.

    Returns ``(qualifier, term_text)``; ``("?", "")`` style neutral endings are reported by the
    caller. A redirect target that could not be read gives ``(None, "unknown")``.
    """
    by_domain = {n.domain: n for n in tree.nodes}
    node = tree.root
    seen: set[str] = set()
    while node is not None and node.parsed is not None and node.domain not in seen:
        seen.add(node.domain)
        alls = [m for m in node.parsed.mechanisms if m.name == "all"]
        if alls:
            return alls[-1].qualifier, alls[-1].text or f"{alls[-1].qualifier}all"
        redirect = node.parsed.effective_redirect
        if redirect is None:
            return None, "no-all"
        node = by_domain.get(redirect.value.rstrip(".").lower())
    return None, "unknown"


def _not_evaluable(ctx: CheckContext, state: str, root: SpfNode | None) -> Finding:
    if state == "dnsfail":
        assert root is not None
        return ctx.dns_not_tested(ctx.domain, root.answer)
    return ctx.not_applicable(ctx.domain, [root.answer.evidence()] if root else [], domain=ctx.domain)


@check("SPF-MISSING", needs=("spf_tree",))
def spf_missing(ctx: CheckContext) -> Iterator[Finding]:
    state, root = _root_state(ctx)
    example = " ".join(f"ip{'6' if ':' in ip else '4'}:{ip}" for ip in ctx.ips)
    if state == "dnsfail":
        yield _not_evaluable(ctx, state, root)
    elif state == "missing":
        assert root is not None
        yield ctx.fail(ctx.domain, "missing", [root.answer.evidence()], domain=ctx.domain,
                       example_ips=example + " " if example else "")
    else:
        assert root is not None
        yield ctx.passed(ctx.domain, [root.answer.evidence()], domain=ctx.domain, record=root.records[0])


@check("SPF-MULTIPLE", needs=("spf_tree",))
def spf_multiple(ctx: CheckContext) -> Iterator[Finding]:
    state, root = _root_state(ctx)
    if state in ("dnsfail", "missing"):
        yield _not_evaluable(ctx, state, root)
    elif state == "multiple":
        assert root is not None
        yield ctx.fail(ctx.domain, "multiple", [root.answer.evidence()], domain=ctx.domain, count=len(root.records))
    else:
        assert root is not None
        yield ctx.passed(ctx.domain, [root.answer.evidence()], domain=ctx.domain)


@check("SPF-SYNTAX", needs=("spf_tree",))
def spf_syntax(ctx: CheckContext) -> Iterator[Finding]:
    tree = _tree(ctx)
    state, root = _root_state(ctx)
    if state in ("dnsfail", "missing"):
        yield _not_evaluable(ctx, state, root)
        return
    broken = [n for n in tree.nodes if n.records and n.parsed is None and len(n.records) == 1]
    if broken:
        node = broken[0]
        yield ctx.fail(node.domain, "invalid", [node.answer.evidence()], domain=ctx.domain, where=node.domain,
                       error=node.error)
    elif not tree.complete:
        yield ctx.dns_not_tested(ctx.domain, tree.failures[0], _evidence(tree))
    else:
        yield ctx.passed(ctx.domain, _evidence(tree), domain=ctx.domain)


def _limit_check(ctx: CheckContext, count: int, limit: int, **extra: object) -> Iterator[Finding]:
    tree = _tree(ctx)
    state, root = _root_state(ctx)
    if state != "ok":
        yield _not_evaluable(ctx, "dnsfail" if state == "dnsfail" else "missing", root)
    elif count > limit:
        yield ctx.fail(ctx.domain, "exceeded", _evidence(tree), domain=ctx.domain, count=count, **extra)
    elif not tree.complete:
        # Part of the tree could not be read: the count is a lower bound, not a verdict.
        yield ctx.dns_not_tested(ctx.domain, tree.failures[0], _evidence(tree))
    else:
        yield ctx.passed(ctx.domain, _evidence(tree), domain=ctx.domain, count=count, **extra)


@check("SPF-LOOKUP-LIMIT", needs=("spf_tree",))
def spf_lookup_limit(ctx: CheckContext) -> Iterator[Finding]:
    yield from _limit_check(ctx, _tree(ctx).lookup_count, LOOKUP_LIMIT)


@check("SPF-VOID-LIMIT", needs=("spf_tree",))
def spf_void_limit(ctx: CheckContext) -> Iterator[Finding]:
    tree = _tree(ctx)
    names = ", ".join(f"{t} ({n.domain})" for n in tree.nodes for t in n.void_terms) or "-"
    yield from _limit_check(ctx, tree.void_count, VOID_LIMIT, names=names)


def _all_check(ctx: CheckContext) -> tuple[Finding | None, str | None, str]:
    state, root = _root_state(ctx)
    if state != "ok":
        return _not_evaluable(ctx, "dnsfail" if state == "dnsfail" else "missing", root), None, ""
    qualifier, term = terminal_all(_tree(ctx))
    if term == "unknown":
        tree = _tree(ctx)
        if tree.failures:
            return ctx.dns_not_tested(ctx.domain, tree.failures[0], _evidence(tree)), None, ""
        return ctx.not_applicable(ctx.domain, _evidence(tree), domain=ctx.domain), None, ""
    return None, qualifier, term


@check("SPF-PASS-ALL", needs=("spf_tree",))
def spf_pass_all(ctx: CheckContext) -> Iterator[Finding]:
    early, qualifier, term = _all_check(ctx)
    if early:
        yield early
    elif qualifier == "+":
        yield ctx.fail(ctx.domain, "pass_all", _evidence(_tree(ctx)), domain=ctx.domain, term=term)
    else:
        yield ctx.passed(ctx.domain, _evidence(_tree(ctx)), domain=ctx.domain)


@check("SPF-NEUTRAL-ALL", needs=("spf_tree",))
def spf_neutral_all(ctx: CheckContext) -> Iterator[Finding]:
    early, qualifier, term = _all_check(ctx)
    if early:
        yield early
    elif qualifier == "?":
        yield ctx.fail(ctx.domain, "neutral_all", _evidence(_tree(ctx)), domain=ctx.domain)
    elif qualifier is None:
        yield ctx.fail(ctx.domain, "no_all", _evidence(_tree(ctx)), domain=ctx.domain)
    else:
        yield ctx.passed(ctx.domain, _evidence(_tree(ctx)), domain=ctx.domain, term=term)


@check("SPF-HARDFAIL-ALL", needs=("spf_tree", "dkim", "dmarc"))
def spf_hardfail_all(ctx: CheckContext) -> Iterator[Finding]:
    early, qualifier, term = _all_check(ctx)
    if early:
        yield early
        return
    ev = _evidence(_tree(ctx))
    if qualifier != "-":
        yield ctx.passed(ctx.domain, ev, domain=ctx.domain, term=term if qualifier else "no all")
        return
    keys, key_failures = found_keys(ctx)
    disc = discover(ctx.facts.dmarc)  # type: ignore[arg-type]
    has_dkim = any(not k.revoked for k in keys)
    if not has_dkim and key_failures:
        yield ctx.dns_not_tested(ctx.domain, key_failures[0], ev)
    elif not has_dkim:
        dmarc = "DMARC " + ("p=" + disc.record.policy if disc.record else "-")
        yield ctx.fail(ctx.domain, "without_dkim", ev, domain=ctx.domain, dmarc=dmarc)
    elif disc.failure:
        yield ctx.dns_not_tested(ctx.domain, disc.failure, ev)
    elif disc.record is None:
        yield ctx.fail(ctx.domain, "without_dmarc", ev, domain=ctx.domain)
    else:
        yield ctx.fail(ctx.domain, "with_dkim_dmarc", ev, domain=ctx.domain)


@check("SPF-PTR-MECHANISM", needs=("spf_tree",))
def spf_ptr_mechanism(ctx: CheckContext) -> Iterator[Finding]:
    tree = _tree(ctx)
    state, root = _root_state(ctx)
    if state != "ok":
        yield _not_evaluable(ctx, "dnsfail" if state == "dnsfail" else "missing", root)
        return
    where = [n.domain for n in tree.nodes if n.parsed and any(m.name == "ptr" for m in n.parsed.mechanisms)]
    if where:
        yield ctx.fail(ctx.domain, "uses_ptr", _evidence(tree), domain=ctx.domain, where=", ".join(where))
    elif not tree.complete:
        yield ctx.dns_not_tested(ctx.domain, tree.failures[0], _evidence(tree))
    else:
        yield ctx.passed(ctx.domain, _evidence(tree), domain=ctx.domain)


@check("SPF-SENDER-NOT-AUTHORIZED", needs=("spf_eval",))
def spf_sender_not_authorized(ctx: CheckContext) -> Iterator[Finding]:
    for ip in ctx.ips:
        ev = ctx.facts.spf_eval[ip]  # type: ignore[index]
        evidence = list(ev.trace) or [a.evidence() for a in ev.answers]
        params = {"ip": ip, "domain": ctx.domain, "mechanism": f"ip{'6' if ':' in ip else '4'}:{ip}"}
        if ev.result is SpfResult.PASS:
            yield ctx.passed(ip, evidence, matched=ev.mechanism or "-", **params)
        elif ev.result is SpfResult.TEMPERROR:
            yield ctx.not_tested(ip, Reason("reason.spf_temperror", {"problem": ev.problem or "-"}), evidence,
                                 **params)
        elif ev.ignored_failures:
            # RFC 7208 §5.5 reads a failed PTR/validation lookup as "no match"; the evaluation
            # follows the RFC, but a DNS failure must never become a "not authorized" verdict.
            yield ctx.not_tested(ip, Reason("reason.spf_dns_ignored", {"problem": ev.ignored_failures[0].reason}),
                                 evidence, **params)
        else:
            problem = f" ({ev.problem})" if ev.problem else ""
            yield ctx.fail(ip, "not_authorized", evidence, result=ev.result.value, problem=problem, **params)


@check("SPF-HELO-MISSING", needs=("helo",))
def spf_helo_missing(ctx: CheckContext) -> Iterator[Finding]:
    from auditapp.checks.identity import _helo_unknown
    from auditapp.spf import select_spf_records

    seen: set[str] = set()
    for ip in ctx.ips:
        fact = ctx.facts.helo[ip]  # type: ignore[index]
        state = helo_state(fact)
        if state == "unknown":
            yield _helo_unknown(ctx, fact)
            continue
        name = (fact.name or "").rstrip(".").lower()
        if name in seen:
            continue
        seen.add(name)
        params = {"helo": fact.name, "domain": ctx.domain}
        if state != "ok" or fact.spf is None:
            if state == "dnsfail" and fact.forward and fact.forward.failure:
                yield ctx.dns_not_tested(name or ip, fact.forward.failure)
            else:
                yield ctx.not_applicable(name or ip, fact.transcript, **params)
        elif fact.spf.outcome.is_failure:
            yield ctx.dns_not_tested(name, fact.spf)
        else:
            records = select_spf_records(fact.spf.texts)
            if records:
                yield ctx.passed(name, [fact.spf.evidence()], record=records[0], **params)
            else:
                yield ctx.fail(name, "missing", [fact.spf.evidence()], **params)
