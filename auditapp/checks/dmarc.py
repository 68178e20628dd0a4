"""DMARC per RFC 9989: discovery by DNS tree walk, record validity, policy and reporting."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from auditapp.checks.dkim import dkim_state, selector_unknown_reason
from auditapp.checks.registry import CheckContext, check
from auditapp.checks.tags import TagError, parse_tags
from auditapp.collectors.facts import DmarcDiscovery
from auditapp.core.model import Finding
from auditapp.dnsclient import DnsAnswer

POLICIES = ("none", "quarantine", "reject")
#: Tags RFC 9989 removed from RFC 7489 (knowledge base R4).
REMOVED_TAGS = ("pct", "rf", "ri")


@dataclass(frozen=True)
class DmarcRecord:
    where: str
    text: str
    tags: dict[str, str]
    errors: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def policy(self) -> str:
        return self.tags.get("p", "").lower()


def parse_dmarc(where: str, text: str) -> DmarcRecord:
    errors: list[str] = []
    try:
        tags = parse_tags(text)
    except TagError as exc:
        return DmarcRecord(where, text, {}, (str(exc),))
    if text.strip().split(";")[0].replace(" ", "") != "v=DMARC1":
        errors.append("the record must start with v=DMARC1")
    p = tags.get("p")
    if p is None:
        errors.append("the p= tag is missing (receivers then apply p=none at best)")
    elif p.lower() not in POLICIES:
        errors.append(f"p={p} is not one of none, quarantine, reject")
    for tag in ("sp", "np"):
        if tag in tags and tags[tag].lower() not in POLICIES:
            errors.append(f"{tag}={tags[tag]} is not one of none, quarantine, reject")
    for tag in ("adkim", "aspf"):
        if tag in tags and tags[tag].lower() not in ("r", "s"):
            errors.append(f"{tag}={tags[tag]} must be r or s")
    if "t" in tags and tags["t"].lower() not in ("y", "n"):
        errors.append(f"t={tags['t']} must be y or n")
    if "psd" in tags and tags["psd"].lower() not in ("y", "n", "u"):
        errors.append(f"psd={tags['psd']} must be y, n or u")
    for tag in ("rua", "ruf"):
        for uri in filter(None, (u.strip() for u in tags.get(tag, "").split(","))):
            if ":" not in uri:
                errors.append(f"{tag} entry {uri!r} is not a URI (e.g. mailto:reports@example.com)")
    removed = tuple(t for t in REMOVED_TAGS if t in tags)
    return DmarcRecord(where, text, tags, tuple(errors), removed)


@dataclass
class Discovery:
    """The outcome of the tree walk: the record that applies, where, and what went wrong on the way."""

    record: DmarcRecord | None = None
    failure: DnsAnswer | None = None
    multiple: list[tuple[str, int]] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def discover(fact: DmarcDiscovery) -> Discovery:
    """Apply RFC 9989 policy discovery to the collected answers (all levels were asked in parallel)."""
    result = Discovery()
    for answer in fact.answers:
        where = answer.name
        result.checked.append(where)
        result.evidence.append(answer.evidence())
        if answer.outcome.is_failure:
            # Unknown whether this level holds the record: the walk cannot go on honestly.
            result.failure = answer
            return result
        records = [t for t in answer.texts if t.replace(" ", "").lower().startswith("v=dmarc1")]
        if len(records) == 1:
            result.record = parse_dmarc(where, records[0])
            return result
        if len(records) > 1:
            result.multiple.append((where, len(records)))
    return result


def effective_policy(rec: DmarcRecord, domain: str) -> str:
    """p= for the domain itself, sp= (falling back to p=) when the record sits at a parent."""
    if rec.where.removeprefix("_dmarc.") == domain:
        return rec.policy
    return rec.tags.get("sp", rec.policy).lower()


def _disc(ctx: CheckContext) -> Discovery:
    return discover(ctx.facts.dmarc)  # type: ignore[arg-type]


@check("DMARC-MISSING", needs=("dmarc",))
def dmarc_missing(ctx: CheckContext) -> Iterator[Finding]:
    d = _disc(ctx)
    if d.failure:
        yield ctx.dns_not_tested(ctx.domain, d.failure, d.evidence)
    elif d.record is None:
        yield ctx.fail(ctx.domain, "missing", d.evidence, domain=ctx.domain, checked=", ".join(d.checked))
    else:
        yield ctx.passed(ctx.domain, d.evidence, domain=ctx.domain, where=d.record.where, record=d.record.text)


@check("DMARC-SYNTAX", needs=("dmarc",))
def dmarc_syntax(ctx: CheckContext) -> Iterator[Finding]:
    d = _disc(ctx)
    for where, count in d.multiple:
        yield ctx.fail(where, "multiple", d.evidence, where=where, count=count, domain=ctx.domain)
    if d.failure:
        yield ctx.dns_not_tested(ctx.domain, d.failure, d.evidence)
    elif d.record is None:
        if not d.multiple:
            yield ctx.not_applicable(ctx.domain, d.evidence, domain=ctx.domain)
    elif d.record.errors:
        yield ctx.fail(d.record.where, "invalid", d.evidence, where=d.record.where,
                       error="; ".join(d.record.errors), domain=ctx.domain)
    elif d.record.removed:
        yield ctx.fail(d.record.where, "removed_tags", d.evidence, where=d.record.where,
                       tags=", ".join(d.record.removed), domain=ctx.domain)
    else:
        yield ctx.passed(d.record.where, d.evidence, where=d.record.where, domain=ctx.domain)


def _valid_record(ctx: CheckContext) -> tuple[Discovery, DmarcRecord | None]:
    d = _disc(ctx)
    rec = d.record if d.record is not None and not d.record.errors else None
    return d, rec


def testing_mode(rec: DmarcRecord) -> bool:
    """``t=y`` (RFC 9989): the domain asks receivers not to apply its policy yet."""
    return rec.tags.get("t", "n").strip().lower() == "y"


@check("DMARC-POLICY-NONE", needs=("dmarc",))
def dmarc_policy_none(ctx: CheckContext) -> Iterator[Finding]:
    d, rec = _valid_record(ctx)
    if d.failure:
        yield ctx.dns_not_tested(ctx.domain, d.failure, d.evidence)
    elif rec is None:
        yield ctx.not_applicable(ctx.domain, d.evidence, domain=ctx.domain)
    else:
        policy = effective_policy(rec, ctx.domain)
        if policy == "none":
            yield ctx.fail(ctx.domain, "none", d.evidence, domain=ctx.domain, where=rec.where)
        elif testing_mode(rec):
            # p=quarantine/reject with t=y is a request not to enforce: monitoring in effect.
            yield ctx.fail(ctx.domain, "testing", d.evidence, domain=ctx.domain, where=rec.where, policy=policy)
        else:
            yield ctx.passed(ctx.domain, d.evidence, domain=ctx.domain, policy=policy)


@check("DMARC-SUBDOMAIN-NONE", needs=("dmarc",))
def dmarc_subdomain_none(ctx: CheckContext) -> Iterator[Finding]:
    """sp=none / np=none under an enforcing p=: subdomains or made-up names stay spoofable.

    Judged on the record the audited domain's subdomains would find: the domain's own record,
    or the organisational record it inherits from (whose sp=/np= then apply as well).
    """
    d, rec = _valid_record(ctx)
    if d.failure:
        yield ctx.dns_not_tested(ctx.domain, d.failure, d.evidence)
        return
    if rec is None or rec.policy not in ("quarantine", "reject"):
        yield ctx.not_applicable(ctx.domain, d.evidence, domain=ctx.domain)
        return
    sp = rec.tags.get("sp", "").strip().lower()
    np = rec.tags.get("np", "").strip().lower()
    params = {"domain": ctx.domain, "where": rec.where, "policy": rec.policy}
    if sp == "none":
        yield ctx.fail(rec.where, "sp_none", d.evidence, **params)
    elif np == "none":
        yield ctx.fail(rec.where, "np_none", d.evidence, **params)
    else:
        yield ctx.passed(rec.where, d.evidence, sp=sp or rec.policy, np=np or sp or rec.policy, **params)


@check("DMARC-NO-REPORTING", needs=("dmarc",))
def dmarc_no_reporting(ctx: CheckContext) -> Iterator[Finding]:
    d, rec = _valid_record(ctx)
    if d.failure:
        yield ctx.dns_not_tested(ctx.domain, d.failure, d.evidence)
    elif rec is None:
        yield ctx.not_applicable(ctx.domain, d.evidence, domain=ctx.domain, policy="none")
    elif rec.tags.get("rua", "").strip():
        yield ctx.passed(ctx.domain, d.evidence, rua=rec.tags["rua"], domain=ctx.domain,
                         policy=effective_policy(rec, ctx.domain))
    else:
        yield ctx.fail(ctx.domain, "no_rua", d.evidence, where=rec.where, domain=ctx.domain,
                       policy=effective_policy(rec, ctx.domain))


@check("DMARC-REJECT-RISK", needs=("dmarc", "dkim", "hosting", "spf_tree"))
def dmarc_reject_risk(ctx: CheckContext) -> Iterator[Finding]:
    d, rec = _valid_record(ctx)
    if d.failure:
        yield ctx.dns_not_tested(ctx.domain, d.failure, d.evidence)
        return
    if rec is None or effective_policy(rec, ctx.domain) != "reject":
        yield ctx.not_applicable(ctx.domain, d.evidence, domain=ctx.domain)
        return
    state = dkim_state(ctx)
    usable = sorted({k.selector for k in state.usable})
    if usable:
        yield ctx.passed(ctx.domain, d.evidence, policy="reject", selectors=", ".join(usable), domain=ctx.domain)
    elif state.failures:
        yield ctx.dns_not_tested(ctx.domain, state.failures[0], d.evidence)
    elif state.known_absent:
        yield ctx.fail(ctx.domain, "spf_only", d.evidence, where=rec.where, domain=ctx.domain)
    else:
        # Whether the domain signs is unknown (no selector known): not a verdict either way.
        yield ctx.not_tested(ctx.domain, selector_unknown_reason(ctx, state), d.evidence)


@check("DMARC-REPORT-UNAUTHORISED", needs=("dmarc", "dmarc_reports"))
def dmarc_report_unauthorised(ctx: CheckContext) -> Iterator[Finding]:
    """A report address in another domain needs that domain's consent (RFC 9990; knowledge base B1).

    Per external destination: ``<policy-domain>._report._dmarc.<destination>`` TXT with v=DMARC1
    passes; NXDOMAIN or no such record fails (receivers drop the reports); a failed lookup is not tested.
    """
    d, rec = _valid_record(ctx)
    if d.failure:
        yield ctx.dns_not_tested(ctx.domain, d.failure, d.evidence)
        return
    fact = ctx.facts.dmarc_reports
    destinations = fact.destinations if rec is not None and fact is not None else ()
    if not destinations:
        yield ctx.not_applicable(ctx.domain, d.evidence, domain=ctx.domain)
        return
    for dest in destinations:
        evidence = [*d.evidence, dest.answer.evidence()]
        params = {"domain": fact.policy_domain, "destination": dest.domain, "name": dest.name,
                  "addresses": ", ".join(dest.addresses), "tags": ", ".join(dest.tags)}
        if dest.authorised:
            yield ctx.passed(dest.name, evidence, **params)
        elif dest.answer.outcome.is_failure:
            yield ctx.dns_not_tested(dest.name, dest.answer, evidence)
        else:
            yield ctx.fail(dest.name, "unauthorised", evidence, **params)
