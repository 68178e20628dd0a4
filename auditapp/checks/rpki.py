"""RPKI-ROA-MISSING and RPKI-INVALID: are the routes to the mail and name servers protected? (RFC 6811)

internet.nl asks both questions for three host sets (MX, the domain's name servers, the MX zones'
name servers): six subtests, two rules here, one result per address naming its roles. The facts
come from collectors/rpki_collect.py; without a VRP file every address is ``not_tested``, a failed
origin lookup is ``not_tested``, an address no route carries (not announced) is
``not_applicable``.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditapp.checks.registry import CheckContext, check
from auditapp.collectors.rpki_collect import MX, MX_NS, NS, Route, RpkiAddress, RpkiFact
from auditapp.core.model import Finding, Reason
from auditapp.rpki import INVALID, NOT_FOUND, VALID

ROLE_TEXT = {MX: ("MX", "MX"), NS: ("Nameserver der Domain", "name server of the domain"),
             MX_NS: ("Nameserver einer MX-Zone", "name server of an MX zone")}


def _roles(a: RpkiAddress) -> dict[str, str]:
    return {"de": ", ".join(ROLE_TEXT[r][0] for r in a.roles), "en": ", ".join(ROLE_TEXT[r][1] for r in a.roles)}


def _routes(routes: list[Route] | tuple[Route, ...]) -> str:
    return ", ".join(f"{r.prefix} AS{r.asn}" for r in routes)


def _evidence(fact: RpkiFact, a: RpkiAddress) -> list[str]:
    lines = [f"{a.address}: {', '.join(a.hosts)} ({', '.join(ROLE_TEXT[r][1] for r in a.roles)})"]
    if fact.vrp_source:
        lines.append(f"VRPs: {fact.vrp_source} ({fact.vrp_count} VRPs"
                     + (f", generated {fact.vrp_generated}" if fact.vrp_generated else "") + ")")
    if a.lookup is not None:
        lines.append(a.lookup.evidence())
    for r in a.routes:
        detail = (f"matched {'; '.join(r.matched)}" if r.matched else
                  f"covered by {'; '.join(r.covering)}" if r.covering else "no covering VRP")
        lines.append(f"route {r.prefix} from AS{r.asn}: {r.state} ({detail})")
    return lines


def _early(ctx: CheckContext, fact: RpkiFact, a: RpkiAddress, ev: list[str]) -> Finding | None:
    """The result when there is no route to judge: not routed, no VRPs, lookup failed, not announced."""
    params = {"address": a.address, "hosts": ", ".join(a.hosts), "roles": _roles(a)}
    if a.skipped == "private":
        return ctx.not_applicable(a.address, ev, outcome="not_routed", **params)
    if fact.vrp_error:
        return ctx.not_tested(a.address, Reason("reason.rpki_vrps_error", {"error": fact.vrp_error}), ev)
    if a.skipped == "no_vrps":
        return ctx.not_tested(a.address, Reason("reason.rpki_no_vrps", {}), ev)
    if a.failed and a.lookup is not None:
        return ctx.dns_not_tested(a.address, a.lookup, ev)
    if not a.routes:
        return ctx.not_applicable(a.address, ev, outcome="not_announced", **params)
    return None


def _routed_addresses(ctx: CheckContext) -> Iterator[Finding | tuple[RpkiAddress, list[str], dict[str, object]]]:
    """Per address: its result when there is no route to judge, else (address, evidence, params)."""
    fact = ctx.facts.rpki
    if fact is None:
        return
    if not fact.addresses and fact.failures:
        yield ctx.dns_not_tested(ctx.domain, fact.failures[0])
    for a in fact.addresses:
        ev = _evidence(fact, a)
        early = _early(ctx, fact, a, ev)
        yield early if early is not None else (a, ev, {"address": a.address, "hosts": ", ".join(a.hosts),
                                                       "roles": _roles(a)})


@check("RPKI-ROA-MISSING", needs=("rpki",))
def rpki_roa_missing(ctx: CheckContext) -> Iterator[Finding]:
    """internet.nl "Route Origin Authorisation existence" for MX, NS and MX-zone NS addresses."""
    for item in _routed_addresses(ctx):
        if isinstance(item, Finding):
            yield item
            continue
        a, ev, params = item
        if all(r.state == NOT_FOUND for r in a.routes):
            yield ctx.fail(a.address, "missing", ev, routes=_routes(a.routes), **params)
        else:
            yield ctx.passed(a.address, ev, routes=_routes(a.routes), **params)


@check("RPKI-INVALID", needs=("rpki",))
def rpki_invalid(ctx: CheckContext) -> Iterator[Finding]:
    """internet.nl "Route announcement validity": no route carrying the address is RPKI-invalid."""
    for item in _routed_addresses(ctx):
        if isinstance(item, Finding):
            yield item
            continue
        a, ev, params = item
        invalid = [r for r in a.routes if r.state == INVALID]
        if invalid:
            covering = "; ".join(dict.fromkeys(c for r in invalid for c in r.covering))
            yield ctx.fail(a.address, "invalid", ev, routes=_routes(invalid), vrps=covering, **params)
        elif all(r.state == VALID for r in a.routes):
            yield ctx.passed(a.address, ev, routes=_routes(a.routes), **params)
        else:
            yield ctx.not_applicable(a.address, ev, outcome="no_roa", routes=_routes(a.routes), **params)
