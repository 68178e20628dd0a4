"""Rules over received messages (issue 15): what the receivers of real mail saw.

Each rule gives one result per imported message, its subject the message's label
(Message-ID). A message of another domain than the audited one is ``not_applicable`` for the
sender rules; an audit without messages reports every rule ``not_tested`` (``reason.no_message``),
since nothing about them is known. The verdicts are those of the import
(:mod:`auditapp.message.evidence`): the message is evidence of the day it was received.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from auditapp.checks.registry import CheckContext, check
from auditapp.core.model import Finding, Reason
from auditapp.message.traits import ENVELOPE_UNKNOWN, aligned, dkim_problem, leaks, mask_addresses, private_name

if TYPE_CHECKING:
    from auditapp.message.evidence import MessageEvidence
    from auditapp.message.hops import Hop

NEEDS = ("messages",)
#: Protocol words that say the hop used TLS (RFC 3848: the trailing S), and authentication (A).
_TLS_PROTOCOLS = frozenset({"esmtps", "esmtpsa", "utf8smtps", "utf8smtpsa", "lmtps", "lmtpsa"})
_AUTH_PROTOCOLS = frozenset({"esmtpa", "esmtpsa", "utf8smtpa", "utf8smtpsa", "lmtpa", "lmtpsa"})


def _private(check_fn: Callable[[CheckContext], Iterator[Finding]]) -> Callable[[CheckContext], Iterator[Finding]]:
    """Every address outside the audited domain in a result (evidence, texts, reason) becomes ``…@domain``.

    Messages carry people's addresses (recipients in ``for <...>``, a forwarder's envelope); the
    results go into reports and JSON for the audited organisation, which sees only its own.
    """

    def mask(value: Any, domain: str) -> Any:
        # Exactly str: a Problem (a str subclass) keeps its message key.
        return mask_addresses(value, domain) if type(value) is str else value

    def wrapped(ctx: CheckContext) -> Iterator[Finding]:
        for f in check_fn(ctx):
            reason = f.reason
            if reason is not None:
                reason = Reason(reason.key, {k: mask(v, ctx.domain) for k, v in reason.params.items()})
            yield replace(f, evidence=tuple(mask(line, ctx.domain) for line in f.evidence),
                          params={k: mask(v, ctx.domain) for k, v in f.params.items()}, reason=reason)

    wrapped.__name__ = check_fn.__name__
    wrapped.__doc__ = check_fn.__doc__
    return wrapped


def _subject(ev: MessageEvidence) -> str:
    return ev.label


Judge = Callable[[CheckContext, "MessageEvidence"], Finding]


def _per_message(judge: Judge | None = None, *, any_domain: bool = False) -> Any:
    """A rule's judgement of one message, run over every message of the audit.

    Without messages the rule is ``not_tested`` (nothing is known); a message of another domain
    is ``not_applicable`` for the sender's rules (``any_domain`` for those about forwarders).
    """

    def wrap(fn: Judge) -> Callable[[CheckContext], Iterator[Finding]]:
        def run(ctx: CheckContext) -> Iterator[Finding]:
            if not ctx.facts.messages:
                yield ctx.not_tested(ctx.domain, Reason("reason.no_message"))
                return
            for ev in ctx.facts.messages:
                if any_domain or ev.concerns(ctx.domain):
                    yield fn(ctx, ev)
                else:
                    yield ctx.not_applicable(_subject(ev), outcome="other_domain",
                                             from_domain=ev.headers.from_domain or "-")

        run.__name__, run.__doc__ = fn.__name__, fn.__doc__
        return run

    return wrap(judge) if judge is not None else wrap


def _no_hop(ctx: CheckContext, ev: MessageEvidence) -> Finding:
    return ctx.not_tested(_subject(ev), Reason("reason.message_no_sending_hop", {"message": ev.label}),
                          _hop_lines(ev))


def _hop_lines(ev: MessageEvidence) -> tuple[str, ...]:
    return tuple(f"hop {h.index + 1}: {h.from_name or '?'} [{h.from_ip or '?'}] helo={h.helo or '-'} -> "
                 f"{h.by or '?'} {h.protocol or '-'} {h.tls or 'no TLS recorded'}" for h in ev.hops)


def _own_signatures(ctx: CheckContext, ev: MessageEvidence) -> list:
    org = ev.dmarc.org_domain if ev.dmarc is not None else ""
    from_domain = ev.headers.from_domain or ctx.domain
    return [s for s in ev.dkim if aligned(s.domain, from_domain, org)]


def _dkim_lines(ev: MessageEvidence) -> tuple[str, ...]:
    return tuple(f"DKIM d={s.domain} s={s.selector} {s.algorithm}"
                 + (f" {s.key_bits} bits" if s.key_bits else "") + f": {s.result}"
                 + (f" ({s.reason})" if s.reason else "") for s in ev.dkim) or ("no DKIM-Signature header",)


@check("MSG-DKIM-MISSING", needs=NEEDS)
@_private
@_per_message
def dkim_missing(ctx: CheckContext, ev: MessageEvidence) -> Finding:
    own = _own_signatures(ctx, ev)
    evidence = _dkim_lines(ev)
    if own:
        return ctx.passed(_subject(ev), evidence, signers=", ".join(sorted({s.domain for s in own})))
    elif ev.dkim:
        return ctx.fail(_subject(ev), "foreign_only", evidence,
                        signers=", ".join(sorted({s.domain or "?" for s in ev.dkim})),
                        from_domain=ev.headers.from_domain or ctx.domain)
    else:
        return ctx.fail(_subject(ev), "missing", evidence)


@check("MSG-DKIM-INVALID", needs=NEEDS)
@_private
@_per_message
def dkim_invalid(ctx: CheckContext, ev: MessageEvidence) -> Finding:
    own = _own_signatures(ctx, ev)
    evidence = _dkim_lines(ev)
    if not own:
        return ctx.not_applicable(_subject(ev), evidence, outcome="unsigned")
    passing = [s for s in own if s.result == "pass"]
    broken = [s for s in own if s.result != "pass"]
    verifiable = [s for s in broken if dkim_problem(s) not in ("lookup_failed", "unsupported", "headers_only")]
    if verifiable:
        sig = verifiable[0]
        problem = dkim_problem(sig)
        outcome = problem if problem in ctx.rule.outcomes and problem != "pass" else "other"
        return ctx.fail(_subject(ev), outcome, evidence, signer=sig.domain, selector=sig.selector,
                        bits=sig.key_bits, detail=sig.reason)
    elif passing:
        sig = passing[0]
        return ctx.passed(_subject(ev), evidence, signer=sig.domain, selector=sig.selector)
    else:
        sig = broken[0]
        problem = dkim_problem(sig)
        if problem == "headers_only":
            reason = Reason("reason.message_headers_only", {"message": ev.label})
        elif problem == "lookup_failed":
            reason = Reason("reason.message_lookup_failed", {"message": ev.label, "detail": sig.reason})
        else:
            reason = Reason("reason.message_unverifiable",
                            {"message": ev.label, "signer": sig.domain, "detail": sig.reason})
        return ctx.not_tested(_subject(ev), reason, evidence)


@check("MSG-DMARC-FAIL", needs=NEEDS)
@_private
@_per_message
def dmarc_fail(ctx: CheckContext, ev: MessageEvidence) -> Finding:
    d = ev.dmarc
    from_domain = ev.headers.from_domain or ctx.domain
    if d is None:
        return ctx.not_tested(_subject(ev), Reason("reason.message_no_sending_hop", {"message": ev.label}))
    evidence = (f"DMARC {d.result}: policy p={d.policy or '-'} ({d.record_name or 'no record'}), "
                f"SPF aligned {d.spf_aligned}, DKIM aligned {d.dkim_aligned}"
                + (f"; {d.reason}" if d.reason else ""),
                *_dkim_lines(ev))
    if d.result == "pass":
        return ctx.passed(_subject(ev), evidence, policy=d.policy or "none",
                          spf_aligned=_yes(d.spf_aligned), dkim_aligned=_yes(d.dkim_aligned))
    elif d.result == "fail":
        return ctx.fail(_subject(ev), "fail", evidence, policy=d.policy or "none", from_domain=from_domain)
    elif d.result == "none":
        return ctx.not_applicable(_subject(ev), evidence, outcome="no_record", from_domain=from_domain)
    else:
        return ctx.not_tested(_subject(ev), Reason("reason.message_lookup_failed",
                                                   {"message": ev.label, "detail": d.reason or d.result}),
                              evidence)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


@check("MSG-SPF-FAIL", needs=NEEDS)
@_private
@_per_message
def spf_fail(ctx: CheckContext, ev: MessageEvidence) -> Finding:
    spf = ev.spf
    if spf is None:
        return _no_hop(ctx, ev)
    if spf.problem == ENVELOPE_UNKNOWN:
        envelope = ev.headers.envelope_sender or "-"
        return ctx.not_tested(_subject(ev), Reason("reason.message_envelope_unknown",
                                                   {"message": ev.label, "envelope": envelope}))
    evidence = (f"check_host({spf.ip}, {spf.domain or '-'}, {spf.sender or '<>'}) = {spf.result}"
                + (f" ({spf.problem})" if spf.problem else ""),)
    params = {"ip": spf.ip, "spf_domain": spf.domain or "-", "sender": spf.sender or "<>",
              "problem": spf.problem}
    if spf.result == "pass":
        return ctx.passed(_subject(ev), evidence, **params)
    elif spf.result in ("fail", "softfail", "neutral", "permerror"):
        return ctx.fail(_subject(ev), spf.result, evidence, **params)
    elif spf.result == "none":
        return ctx.not_applicable(_subject(ev), evidence, outcome="no_record", **params)
    else:
        return ctx.not_tested(_subject(ev), Reason("reason.message_lookup_failed",
                                                   {"message": ev.label, "detail": spf.problem or spf.result}),
                              evidence)


@check("MSG-HELO-MISMATCH", needs=NEEDS)
@_private
@_per_message
def helo_mismatch(ctx: CheckContext, ev: MessageEvidence) -> Finding:
    hop = ev.sending
    if hop is None or not hop.from_ip:
        return _no_hop(ctx, ev)
    return _judge_helo(ctx, ev, hop)


def _judge_helo(ctx: CheckContext, ev: MessageEvidence, hop: Hop) -> Finding:
    """RFC 5321 and knowledge base R2: unresolvable or not a name (medium), another address (low),
    not the PTR name (info). Names are judged as DNS answers them at import."""
    n = ev.names
    helo = (hop.helo or "").rstrip(".")
    ip = hop.from_ip or ""
    evidence = (f"hop {hop.index + 1}: {hop.raw}",
                f"HELO {helo or '-'}: A/AAAA {', '.join(n.helo_addresses) or n.helo_outcome or 'not asked'}",
                f"PTR {ip}: {', '.join(n.ptr_names) or n.ptr_outcome or 'not asked'}")
    params = {"helo": helo or "-", "ip": ip}
    if not helo:
        return ctx.not_tested(_subject(ev), Reason("reason.message_no_sending_hop", {"message": ev.label}), evidence)
    if helo.startswith("["):
        return ctx.fail(_subject(ev), "literal", evidence, **params)
    lowered = helo.lower()
    if "." not in lowered or lowered in ("localhost", "localhost.localdomain") or private_name(lowered) \
            or lowered.replace(".", "").isdigit() or ":" in lowered:
        return ctx.fail(_subject(ev), "not_fqdn", evidence, **params)
    if n.helo_outcome not in ("ok", "nxdomain", "nodata"):
        return ctx.not_tested(_subject(ev), Reason("reason.message_lookup_failed",
                                                   {"message": ev.label, "detail": f"A/AAAA {helo}: {n.helo_outcome}"}),
                              evidence)
    if not n.helo_addresses:
        return ctx.fail(_subject(ev), "unresolvable", evidence, answer=n.helo_outcome.upper(), **params)
    if ip not in n.helo_addresses:
        return ctx.fail(_subject(ev), "other_address", evidence, addresses=", ".join(n.helo_addresses), **params)
    if n.ptr_outcome not in ("ok", "nxdomain", "nodata"):
        return ctx.not_tested(_subject(ev), Reason("reason.message_lookup_failed",
                                                   {"message": ev.label, "detail": f"PTR {ip}: {n.ptr_outcome}"}),
                              evidence)
    if lowered not in n.ptr_names:
        return ctx.fail(_subject(ev), "ptr_differs", evidence, ptr=", ".join(n.ptr_names) or n.ptr_outcome.upper(),
                        **params)
    return ctx.passed(_subject(ev), evidence, **params)


@check("MSG-INTERNAL-LEAK", needs=NEEDS)
@_private
@_per_message
def internal_leak(ctx: CheckContext, ev: MessageEvidence) -> Finding:
    if ev.sending is None:
        return _no_hop(ctx, ev)
    found = leaks(ev)
    lines = tuple(f"hop {h.index + 1}: {h.raw}" for h in ev.sender_hops)
    if found:
        items = "; ".join(f"hop {n} {what} {value}" for n, what, value in found)
        return ctx.fail(_subject(ev), "leaked", lines, items=items)
    else:
        return ctx.passed(_subject(ev), lines)


@check("MSG-NO-TLS-HOP", needs=NEEDS)
@_private
@_per_message
def no_tls_hop(ctx: CheckContext, ev: MessageEvidence) -> Finding:
    hop = ev.sending
    if hop is None:
        return _no_hop(ctx, ev)
    protocol = (hop.protocol or "").lower()
    evidence = (f"hop {hop.index + 1}: {hop.raw}",)
    params = {"by": hop.by or "?", "sender": hop.from_name or hop.from_ip or "?", "protocol": hop.protocol or "-"}
    if hop.tls:
        return ctx.passed(_subject(ev), evidence, tls=hop.tls if hop.tls != "tls" else "TLS", **params)
    elif protocol in ("smtp", "esmtp", "esmtpa", "utf8smtp", "utf8smtpa"):
        return ctx.fail(_subject(ev), "plain", evidence, **params)
    else:
        return ctx.not_tested(_subject(ev), Reason("reason.message_protocol_unknown",
                                                   {"message": ev.label, "hop": hop.index + 1}), evidence)


@check("MSG-ARC-BROKEN", needs=NEEDS)
@_private
@_per_message(any_domain=True)  # ARC is about whoever forwarded the message, whatever the From domain
def arc_broken(ctx: CheckContext, ev: MessageEvidence) -> Finding:
    arc = ev.arc
    evidence = (f"ARC {arc.result}: {arc.instances} instance(s)" + (f"; {arc.reason}" if arc.reason else ""),)
    if arc.result == "pass":
        return ctx.passed(_subject(ev), evidence, instances=arc.instances)
    if arc.result == "fail":
        return ctx.fail(_subject(ev), "fail", evidence, instances=arc.instances, detail=arc.reason or "-")
    if arc.result == "none":
        return ctx.not_applicable(_subject(ev), evidence, outcome="none")
    return ctx.not_tested(_subject(ev), Reason("reason.message_lookup_failed",
                                               {"message": ev.label, "detail": arc.reason or arc.result}),
                          evidence)


@check("MSG-SUBMISSION-PLAIN", needs=NEEDS)
@_private
@_per_message
def submission_plain(ctx: CheckContext, ev: MessageEvidence) -> Finding:
    if not ev.hops:
        return _no_hop(ctx, ev)
    first = ev.hops[0]
    protocol = (first.protocol or "").lower()
    evidence = (f"hop 1: {first.raw}",)
    params = {"by": first.by or "?", "protocol": first.protocol or "-"}
    # A client on loopback is a program on the server itself, except in an internal audit (a
    # lab), where every machine has a loopback or private address.
    local_client = _loopback(first.from_ip) and not ctx.target.allow_internal
    if (not first.from_ip and not first.from_name and not first.helo) or local_client:
        return ctx.not_applicable(_subject(ev), evidence, outcome="local", **params)
    elif ev.sending_index == 0:
        return ctx.not_applicable(_subject(ev), evidence, outcome="direct", **params)
    elif protocol in _TLS_PROTOCOLS and protocol in _AUTH_PROTOCOLS:
        return ctx.passed(_subject(ev), evidence, **params)
    elif protocol in _AUTH_PROTOCOLS:
        return ctx.fail(_subject(ev), "no_tls", evidence, **params)
    elif protocol in _TLS_PROTOCOLS:
        # Only the RFC 3848 words say whether the client logged in; "Microsoft SMTP Server"
        # with a TLS version says nothing about it (below: not tested).
        return ctx.fail(_subject(ev), "no_auth", evidence, **params)
    elif protocol in ("smtp", "esmtp", "utf8smtp"):
        return ctx.fail(_subject(ev), "plain", evidence, **params)
    else:
        return ctx.not_tested(_subject(ev), Reason("reason.message_protocol_unknown",
                                                   {"message": ev.label, "hop": 1}), evidence)


def _loopback(address: str | None) -> bool:
    return bool(address) and (address.startswith("127.") or address == "::1")
