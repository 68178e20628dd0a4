"""DKIM keys at known selectors and the historic ADSP record (knowledge base R4, B11)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from auditapp.checks.registry import CheckContext, check
from auditapp.checks.tags import TagError, parse_tags, rsa_key_bits
from auditapp.core.model import Finding, Reason
from auditapp.data.providers import Provider
from auditapp.dnsclient import DnsAnswer


@dataclass(frozen=True)
class DkimKey:
    selector: str
    record: str
    tags: dict[str, str]
    answer: DnsAnswer

    @property
    def revoked(self) -> bool:
        return self.tags.get("p", "") == ""

    @property
    def algorithm(self) -> str:
        return self.tags.get("k", "rsa").lower()


def keys_from(answer: DnsAnswer, selector: str) -> list[DkimKey]:
    """DKIM key records at one selector; TXT records that are not key records are ignored."""
    keys = []
    for text in answer.texts:
        try:
            tags = parse_tags(text)
        except TagError:
            continue
        if tags.get("v", "DKIM1") != "DKIM1" or "p" not in tags:
            continue
        keys.append(DkimKey(selector, text, tags, answer))
    return keys


def found_keys(ctx: CheckContext) -> tuple[list[DkimKey], list[DnsAnswer]]:
    """All keys found and all selector lookups that failed."""
    keys: list[DkimKey] = []
    failures: list[DnsAnswer] = []
    for selector, answer in (ctx.facts.dkim or {}).items():
        if answer.outcome.is_failure:
            failures.append(answer)
        elif answer.ok:
            keys.extend(keys_from(answer, selector))
    return keys, failures


@dataclass(frozen=True)
class DkimState:
    """What the probed selectors show, and what that may be concluded from it.

    DNS cannot list a domain's selectors, so an empty probe proves nothing unless the
    selector is known: given by the user (the only ones in :attr:`given`), or fixed by the
    hosted provider's convention (Microsoft 365's selector1/selector2) for a domain that
    sends through that provider.
    """

    usable: tuple[DkimKey, ...]
    revoked: tuple[DkimKey, ...]
    failures: tuple[DnsAnswer, ...]
    #: Given selectors that hold no usable key (NXDOMAIN, no TXT, or only a revoked key).
    given_missing: tuple[str, ...]
    #: The provider whose fixed selectors are all empty while the domain sends through it.
    provider_unsigned: Provider | None
    probed: tuple[str, ...]
    evidence: tuple[str, ...]

    @property
    def known_absent(self) -> bool:
        """No key where one must be: a given selector, or the provider's fixed convention."""
        return bool(self.given_missing) or self.provider_unsigned is not None


def sends_through(ctx: CheckContext, provider: Provider) -> bool:
    """The domain's SPF tree includes the provider's documented include (mail leaves through it)."""
    tree = ctx.facts.spf_tree
    if tree is None or not provider.spf_includes:
        return False
    return any(n.domain.rstrip(".").lower() in provider.spf_includes for n in tree.nodes)


def dkim_state(ctx: CheckContext) -> DkimState:
    answers = ctx.facts.dkim or {}
    keys, failures = found_keys(ctx)
    usable = tuple(k for k in keys if not k.revoked)
    with_key = {k.selector for k in usable}
    given = [s.lower() for s in ctx.target.dkim_selectors]
    given_missing = tuple(s for s in given if s not in with_key and s in answers
                          and not answers[s].outcome.is_failure)
    provider_unsigned = None
    hosting = ctx.facts.hosting
    provider = hosting.provider if hosting is not None else None
    if (provider is not None and provider.dkim_fixed and provider.dkim_selectors and not usable
            and not any(answers[s].outcome.is_failure for s in provider.dkim_selectors if s in answers)
            and sends_through(ctx, provider)):
        provider_unsigned = provider
    evidence = tuple(a.evidence() for a in answers.values() if not a.outcome.is_void)
    return DkimState(usable, tuple(k for k in keys if k.revoked), tuple(failures), given_missing,
                     provider_unsigned, tuple(answers), evidence)


def selector_unknown_reason(ctx: CheckContext, state: DkimState) -> Reason:
    """The honest answer when no selector is known and none of the probed names holds a key."""
    hosting = ctx.facts.hosting
    provider = hosting.provider if hosting is not None else None
    revoked = ", ".join(sorted({k.selector for k in state.revoked}))
    return Reason("reason.dkim_selector_unknown", {
        "probed": ", ".join(state.probed),
        "revoked_note": {"de": f" Widerrufene Schlüssel (leeres p=) unter: {revoked}.",
                         "en": f" Revoked keys (empty p=) at: {revoked}."} if revoked else "",
        "provider_note": {"de": f" {provider.name}: {provider.dkim_note.de}",
                          "en": f" {provider.name}: {provider.dkim_note.en}"} if provider else "",
    })


@check("DKIM-NO-KEY", needs=("dkim", "hosting", "spf_tree"))
def dkim_no_key(ctx: CheckContext) -> Iterator[Finding]:
    state = dkim_state(ctx)
    selectors = ", ".join(sorted({k.selector for k in state.usable}))
    if state.given_missing:
        revoked = {k.selector for k in state.revoked}
        outcome = "revoked_only" if all(s in revoked for s in state.given_missing) else "missing"
        yield ctx.fail(ctx.domain, outcome, state.evidence or [f"{s}._domainkey.{ctx.domain}: NXDOMAIN/NODATA"
                                                               for s in state.given_missing],
                       selectors=", ".join(state.given_missing), others=selectors or "-", domain=ctx.domain)
    elif state.usable:
        yield ctx.passed(ctx.domain, [k.answer.evidence() for k in state.usable], selectors=selectors,
                         domain=ctx.domain)
    elif state.failures:
        # A selector we could not read may hold the key; "no key" would be a guess.
        yield ctx.dns_not_tested(ctx.domain, state.failures[0], [a.evidence() for a in state.failures])
    elif state.provider_unsigned is not None:
        p = state.provider_unsigned
        yield ctx.fail(ctx.domain, "provider_not_enabled", state.evidence or [
            f"{s}._domainkey.{ctx.domain}: NXDOMAIN/NODATA" for s in p.dkim_selectors],
            provider=p.name, selectors=", ".join(p.dkim_selectors), include=", ".join(p.spf_includes),
            documentation=p.dkim_documentation or p.documentation, domain=ctx.domain)
    else:
        yield ctx.not_tested(ctx.domain, selector_unknown_reason(ctx, state), state.evidence)


@check("DKIM-WEAK-KEY", needs=("dkim",))
def dkim_weak_key(ctx: CheckContext) -> Iterator[Finding]:
    keys, failures = found_keys(ctx)
    for key in keys:
        if key.revoked:
            continue
        subject = f"{key.selector}._domainkey.{ctx.domain}"
        params = {"selector": key.selector, "domain": ctx.domain}
        ev = [key.answer.evidence()]
        if key.algorithm == "ed25519":
            yield ctx.passed(subject, ev, algorithm="Ed25519", bits=256, **params)
            continue
        if key.algorithm != "rsa":
            yield ctx.fail(subject, "unreadable", ev, error=f"unknown key type k={key.algorithm}", **params)
            continue
        try:
            bits = rsa_key_bits(key.tags["p"])
        except TagError as exc:
            yield ctx.fail(subject, "unreadable", ev, error=str(exc), **params)
            continue
        # RFC 8301 §3.2: at least 1024 bits MUST, 2048 SHOULD.
        if bits < 1024:
            yield ctx.fail(subject, "too_short", ev, bits=bits, **params)
        elif bits < 2048:
            yield ctx.fail(subject, "weak", ev, bits=bits, **params)
        else:
            yield ctx.passed(subject, ev, algorithm="RSA", bits=bits, **params)
    if not any(not k.revoked for k in keys) and failures:
        yield ctx.dns_not_tested(ctx.domain, failures[0])


@check("DKIM-TESTING", needs=("dkim",))
def dkim_testing(ctx: CheckContext) -> Iterator[Finding]:
    keys, failures = found_keys(ctx)
    for key in keys:
        if key.revoked:
            continue
        subject = f"{key.selector}._domainkey.{ctx.domain}"
        flags = [f.strip().lower() for f in key.tags.get("t", "").split(":")]
        if "y" in flags:
            yield ctx.fail(subject, "testing", [key.answer.evidence()], selector=key.selector, domain=ctx.domain)
        else:
            yield ctx.passed(subject, [key.answer.evidence()], selector=key.selector, domain=ctx.domain)
    if not any(not k.revoked for k in keys) and failures:
        yield ctx.dns_not_tested(ctx.domain, failures[0])


@check("ADSP-RECORD", needs=("adsp",))
def adsp_record(ctx: CheckContext) -> Iterator[Finding]:
    ans: DnsAnswer = ctx.facts.adsp  # type: ignore[assignment]
    if ans.outcome.is_failure:
        yield ctx.dns_not_tested(ctx.domain, ans)
        return
    records = [t for t in ans.texts if "dkim=" in t.replace(" ", "").lower()]
    if not records:
        yield ctx.passed(ctx.domain, [ans.evidence()], domain=ctx.domain)
        return
    record = records[0]
    outcome = "discardable" if "dkim=discardable" in record.replace(" ", "").lower() else "present"
    yield ctx.fail(ctx.domain, outcome, [ans.evidence()], record=record, domain=ctx.domain)
