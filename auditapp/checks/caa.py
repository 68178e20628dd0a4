"""CAA-MISSING: may any CA issue a certificate for the mail servers' names? (RFC 8659; internet.nl's mail test)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from auditapp.checks.registry import CheckContext, check
from auditapp.collectors.caa import CaaLookup
from auditapp.core.model import Finding

_RECORD = re.compile(r'^(\d{1,3})\s+([A-Za-z0-9]+)\s+"(.*)"$')
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_PARAMETER = re.compile(r"^[A-Za-z0-9]+=[\x21-\x3a\x3c-\x7e]*$")
#: Property tags RFC 8659 and its extensions define (RFC 8657 account/method binding is in the
#: parameters; issuemail RFC 9495; issuevmc is the BIMI certificate tag).
KNOWN_TAGS = frozenset({"issue", "issuewild", "iodef", "issuemail", "issuevmc", "contactemail", "contactphone"})


@dataclass(frozen=True)
class CaaProperty:
    flags: int
    tag: str
    value: str
    problem: str = ""


def parse(record: str) -> CaaProperty:
    """One CAA record in presentation form; ``problem`` says what is wrong with it, "" when nothing is."""
    match = _RECORD.match(record.strip())
    if not match:
        return CaaProperty(0, "", record, "not a CAA record in presentation form")
    flags, tag, value = int(match.group(1)), match.group(2).lower(), match.group(3)
    if flags > 255:
        return CaaProperty(flags, tag, value, "flags above 255")
    if tag in ("issue", "issuewild", "issuemail", "issuevmc"):
        return CaaProperty(flags, tag, value, _issuer_problem(value))
    if tag == "iodef" and not value.startswith(("mailto:", "https:", "http:")):
        return CaaProperty(flags, tag, value, "iodef must be a mailto:, https: or http: URL")
    return CaaProperty(flags, tag, value)


def _issuer_problem(value: str) -> str:
    """RFC 8659 §4.2: ``[issuer-domain-name] *(";" parameter)``; an empty name means "nobody"."""
    name, _, rest = value.partition(";")
    name = name.strip()
    if name and not all(_LABEL.match(label) for label in name.split(".")):
        return f"{name!r} is not a domain name"
    for parameter in (p.strip() for p in rest.split(";") if p.strip()):
        if not _PARAMETER.match(parameter):
            return f"parameter {parameter!r} is not tag=value"
    return ""


def _lines(lookup: CaaLookup) -> tuple[str, ...]:
    return tuple(a.evidence() for a in lookup.answers)


@check("CAA-MISSING", needs=("caa",))
def caa_missing(ctx: CheckContext) -> Iterator[Finding]:
    fact = ctx.facts.caa
    if fact is None:
        return
    if fact.mx_answer is not None and fact.mx_answer.outcome.is_failure:
        yield ctx.dns_not_tested(ctx.domain, fact.mx_answer)
        return
    for lookup in fact.lookups:
        evidence = _lines(lookup)
        if lookup.failure is not None:
            yield ctx.dns_not_tested(lookup.host, lookup.failure, evidence)
            continue
        if not lookup.found_at:
            yield ctx.fail(lookup.host, "missing", evidence, host=lookup.host)
            continue
        properties = [parse(r) for r in lookup.records]
        broken = [p for p in properties if p.problem]
        if broken:
            yield ctx.fail(lookup.host, "invalid", evidence, host=lookup.host, found_at=lookup.found_at,
                           record=f"{broken[0].flags} {broken[0].tag} \"{broken[0].value}\"", problem=broken[0].problem)
            continue
        critical = [p for p in properties if p.flags & 128 and p.tag not in KNOWN_TAGS]
        if critical:
            yield ctx.fail(lookup.host, "critical_unknown", evidence, host=lookup.host, found_at=lookup.found_at,
                           tag=critical[0].tag)
            continue
        issuers = [p.value.partition(";")[0].strip() or ";" for p in properties if p.tag == "issue"]
        if not issuers:
            yield ctx.fail(lookup.host, "no_issue", evidence, host=lookup.host, found_at=lookup.found_at)
            continue
        yield ctx.passed(lookup.host, evidence, host=lookup.host, found_at=lookup.found_at,
                         issuers=", ".join(dict.fromkeys(issuers)))
