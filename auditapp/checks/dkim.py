"""DKIM keys at known selectors and the historic ADSP record (knowledge base R4, B11)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from auditapp.checks.registry import CheckContext, check
from auditapp.checks.tags import TagError, parse_tags, rsa_key_bits
from auditapp.core.model import Finding
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


@check("DKIM-NO-KEY", needs=("dkim",))
def dkim_no_key(ctx: CheckContext) -> Iterator[Finding]:
    keys, failures = found_keys(ctx)
    usable = [k for k in keys if not k.revoked]
    evidence = [a.evidence() for a in (ctx.facts.dkim or {}).values() if not a.outcome.is_void]
    selectors = list(ctx.facts.dkim or {})
    if usable:
        yield ctx.passed(ctx.domain, [k.answer.evidence() for k in usable],
                         selectors=", ".join(sorted({k.selector for k in usable})), domain=ctx.domain)
    elif failures:
        # A selector we could not read may hold the key; "no key" would be a guess.
        yield ctx.dns_not_tested(ctx.domain, failures[0], [a.evidence() for a in failures])
    elif keys:
        yield ctx.fail(ctx.domain, "revoked_only", evidence,
                       selectors=", ".join(sorted({k.selector for k in keys})), domain=ctx.domain)
    else:
        yield ctx.fail(ctx.domain, "missing", evidence or [f"{len(selectors)} selectors: NXDOMAIN/NODATA"],
                       count=len(selectors), selectors=", ".join(selectors), domain=ctx.domain)


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
