"""Verify a received message as its receiver did: DKIM, ARC, SPF, DMARC, and read the receiver's own verdicts.

Why dkimpy for DKIM and ARC: it is the maintained reference implementation, and its ``dnsfunc``
hook lets every key come from our own :class:`~auditapp.dnsclient.DnsClient` (the lab, the
user's ``--nameserver``, one shared cache). dkimpy asks synchronously while our client is
asynchronous, so the keys of every signature are asked first, all at once, and dkimpy is then
given a function that answers from those answers: no event loop inside a callback, and every
lookup is kept as evidence. A failed lookup never reaches dkimpy as "no key": it becomes
``temperror`` here, since a timeout says nothing about the sender.

SPF and DMARC stay with our own code (:func:`auditapp.spf.check_host`, the RFC 9989 tree walk of
:mod:`auditapp.checks.dmarc`), so a message is judged by the same rules as the audit.

Layer: the message package sits with the checks (it reuses the DMARC record parser of
:mod:`auditapp.checks.dmarc` and the tree-walk collector); audit and the front ends use it.
Result words are those of RFC 8601 ``Authentication-Results``.
"""

from __future__ import annotations

import asyncio
import email.message
import re
import threading
import time as _time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import authres
import dkim
import dkim.util

from auditapp.checks.dmarc import DmarcRecord, discover, effective_policy
from auditapp.collectors.dns_facts import collect_dmarc
from auditapp.dnsclient import DnsAnswer, DnsClient
from auditapp.spf import check_host

#: RFC 8301 §3.2: verifiers must not accept RSA keys shorter than this.
MIN_RSA_BITS = 1024


@dataclass(frozen=True)
class DkimResult:
    """One DKIM-Signature of the message and what became of it (RFC 8601 ``dkim=`` words).

    ``result``: pass, fail (the signature does not hold: body hash, signature, key too short,
    expired, rsa-sha1), neutral (the signature itself is malformed), permerror (no key or an
    unusable key record), temperror (the key lookup failed: never fail on a timeout).
    """

    domain: str
    selector: str
    algorithm: str
    key_bits: int
    result: str
    reason: str = ""
    #: The key lookup, as evidence.
    answers: tuple[DnsAnswer, ...] = ()


@dataclass(frozen=True)
class ArcResult:
    """The ARC chain's validation (RFC 8617): pass, fail, none (no ARC sets), temperror (a key lookup failed)."""

    result: str
    instances: int
    reason: str = ""
    answers: tuple[DnsAnswer, ...] = ()


@dataclass(frozen=True)
class SpfMessageResult:
    """check_host() for the real sending IP and envelope sender (or the HELO identity for a null sender)."""

    ip: str
    sender: str
    result: str
    #: The domain whose policy was evaluated: the envelope sender's, or the HELO name's (RFC 7208 §2.4).
    domain: str = ""
    problem: str = ""
    answers: tuple[DnsAnswer, ...] = ()


@dataclass(frozen=True)
class DmarcMessageResult:
    """DMARC for the From domain (RFC 9989): pass, fail, none (no record), temperror (a lookup failed)."""

    result: str
    policy: str
    spf_aligned: bool
    dkim_aligned: bool
    #: Where the tree walk found the record (``_dmarc.`` name), empty without one.
    record_name: str = ""
    #: The From domain's organisational domain, as the alignment test used it.
    org_domain: str = ""
    reason: str = ""
    answers: tuple[DnsAnswer, ...] = ()


@dataclass(frozen=True)
class ReceiverResult:
    """One verdict from a receiver's ``Authentication-Results`` header, for comparison with ours."""

    authserv_id: str
    method: str
    result: str
    reason: str = ""
    #: ``(ptype.property, value)`` pairs, e.g. ``("header.d", "example.com")``.
    properties: tuple[tuple[str, str], ...] = ()


# --- DKIM and ARC -----------------------------------------------------------------------------


def _headers(raw_message: bytes) -> list[tuple[bytes, bytes]]:
    headers, _body = dkim.rfc822_parse(raw_message)
    return headers


def _key_names(raw_message: bytes, fields: Sequence[bytes]) -> list[tuple[str, dict[bytes, bytes]]]:
    """The key record name and tags of every signature header among ``fields`` (unparseable ones give empty tags)."""
    found = []
    for name, value in _headers(raw_message):
        if name.lower() not in fields:
            continue
        try:
            tags = dkim.util.parse_tag_value(value)
        except dkim.util.InvalidTagValueList:
            tags = {}
        s, d = tags.get(b"s", b""), tags.get(b"d", b"")
        key = f"{_text(s)}._domainkey.{_text(d)}" if s and d else ""
        found.append((key.lower().rstrip("."), tags))
    return found


def _text(value: bytes) -> str:
    return re.sub(r"\s+", "", value.decode("ascii", "replace"))


async def _prefetch(dns: DnsClient, names: Iterable[str]) -> dict[str, DnsAnswer]:
    unique = sorted({n for n in names if n})
    answers = await dns.query_many((n, "TXT") for n in unique)
    return dict(zip(unique, answers, strict=True))


def _key_text(answer: DnsAnswer) -> str:
    texts = [t for t in answer.texts if "p=" in t] or list(answer.texts)
    return texts[0] if texts else ""


def _dnsfunc(answers: dict[str, DnsAnswer]) -> Callable[..., bytes | None]:
    """dkimpy's synchronous lookup, answered from the prefetched records.

    A failed lookup raises :class:`dkim.DnsTimeoutError` so dkimpy never reads it as "no key";
    the callers have already turned such failures into ``temperror``.
    """

    def lookup(name: bytes | str, timeout: float = 5) -> bytes | None:
        key = (name.decode("ascii", "replace") if isinstance(name, bytes) else name).lower().rstrip(".")
        answer = answers.get(key)
        if answer is None or answer.outcome.is_failure:
            raise dkim.DnsTimeoutError(f"{key}: not answered")
        text = _key_text(answer)
        return text.encode() if text else None

    return lookup


class _FixedClock:
    """Stands in for the ``time`` module inside dkimpy while a signature is judged at its receipt."""

    def __init__(self, when: float) -> None:
        self._when = when

    def time(self) -> float:
        return self._when

    def __getattr__(self, name: str) -> Any:
        return getattr(_time, name)


#: dkimpy reads ``time.time()`` itself (x= and t= checks); every verification holds this lock, so
#: the clock of one thread's message never leaks into another's.
_DKIM_CLOCK = threading.Lock()


@contextmanager
def dkim_clock(when: float | None) -> Iterator[None]:
    """dkimpy's clock set to ``when``, or left as it is for ``None``.

    Verification sets it to the receipt. Tests set it to the date of a dated test message while
    they sign it: dkimpy stamps t= from the clock, and a message dated 10:00 but signed at 20:01
    is judged at its receipt with a t= beyond dkimpy's 10 h leeway ("t= value is in the future").
    """
    with _DKIM_CLOCK:
        if when is None:
            yield
            return
        original = dkim.time
        dkim.time = _FixedClock(when)  # type: ignore[attr-defined]
        try:
            yield
        finally:
            dkim.time = original  # type: ignore[attr-defined]


async def verify_dkim(raw_message: bytes, dns: DnsClient, at: datetime | None = None) -> list[DkimResult]:
    """Every DKIM-Signature of the message, top first; an empty list when it has none (``dkim=none``).

    ``at`` is when the message was received: an expiry (x=) is judged against it, since a signature
    that was valid on delivery is not the sender's fault months later (RFC 6376 §3.5: the receiver
    judges x= on receipt). Without it, against now.
    A message whose header cannot be parsed gives one ``permerror`` result rather than an exception.
    """
    try:
        signatures = _key_names(raw_message, (b"dkim-signature",))
    except dkim.DKIMException as exc:
        return [DkimResult("", "", "", 0, "permerror", f"the message cannot be parsed: {exc}")]
    answers = await _prefetch(dns, (name for name, _ in signatures))
    dnsfunc = _dnsfunc(answers)
    with dkim_clock(at.timestamp() if at is not None else None):
        return [_verify_one(raw_message, idx, name, tags, answers.get(name), dnsfunc)
                for idx, (name, tags) in enumerate(signatures)]


def _verify_one(raw: bytes, idx: int, name: str, tags: dict[bytes, bytes], answer: DnsAnswer | None,
                dnsfunc: Callable[..., bytes | None]) -> DkimResult:
    domain, selector = _text(tags.get(b"d", b"")).lower(), _text(tags.get(b"s", b""))
    algorithm = _text(tags.get(b"a", b"")).lower()
    evidence = (answer,) if answer is not None else ()

    def result(word: str, reason: str, bits: int = 0) -> DkimResult:
        return DkimResult(domain, selector, algorithm, bits, word, reason, evidence)

    try:
        dkim.validate_signature_fields(tags)
    except dkim.ValidationError as exc:
        text = str(exc)
        if "x= value is past" in text:
            return result("fail", f"signature expired ({text})")
        return result("neutral", f"malformed signature: {text}")
    if answer is None:
        return result("neutral", "malformed signature: no s= or d=")
    if answer.outcome.is_failure:
        return result("temperror", f"key lookup failed: {answer.reason}")
    key_text = _key_text(answer)
    if not key_text:
        return result("permerror", f"key missing: no key record at {name}")
    try:
        _pk, bits, ktag, _tlsrpt = dkim.evaluate_pk(name.encode(), key_text.encode())
    except dkim.NaClNotFoundError:
        # Not the sender's fault: this installation cannot check Ed25519 (RFC 8463) without PyNaCl.
        return result("neutral", "ed25519 signatures cannot be checked here (PyNaCl is not installed)", 256)
    except (dkim.DKIMException, ValueError) as exc:
        return result("permerror", f"bad key record at {name}: {exc}")
    if ktag == b"rsa" and bits < MIN_RSA_BITS:
        return result("fail", f"key too short: {bits}-bit RSA, RFC 8301 requires at least {MIN_RSA_BITS}", bits)
    if algorithm == "rsa-sha1":
        return result("fail", "rsa-sha1 is not accepted (RFC 8301)", bits)
    if (ktag == b"ed25519") != (algorithm == "ed25519-sha256"):
        # RFC 6376 §6.1.2: a key unfit for a= is a permanent failure. dkimpy picks the check by
        # the key's k= alone, so an "rsa-sha256" signature made with an Ed25519 key would pass.
        return result("permerror", f"bad key record at {name}: a k={_text(ktag)} key cannot check a={algorithm}", bits)
    try:
        ok = dkim.DKIM(raw, minkey=0, timeout=1).verify(idx, dnsfunc=dnsfunc)
    except dkim.ValidationError as exc:
        text = str(exc)
        if text.startswith("body hash mismatch"):
            return result("fail", "body hash mismatch: the body was changed after signing", bits)
        return result("neutral", f"malformed signature: {text}", bits)
    except dkim.DKIMException as exc:
        return result("permerror", str(exc), bits)
    except ValueError as exc:  # PyNaCl's, for an Ed25519 b= that is not 64 bytes; dkimpy lets it through
        return result("neutral", f"malformed signature: {exc}", bits)
    if ok:
        return result("pass", "", bits)
    return result("fail", "signature mismatch: the signed header fields were changed or the key does not match", bits)


async def verify_arc(raw_message: bytes, dns: DnsClient, at: datetime | None = None) -> ArcResult:
    """Validate the ARC chain (RFC 8617) with dkimpy, over the prefetched keys of every ARC-Seal and AMS.

    ``at`` as for :func:`verify_dkim`: the seals' t= and x= are judged at the receipt. Under the same
    clock lock, so a verification in another thread cannot move dkimpy's clock in the middle.
    """
    try:
        signatures = _key_names(raw_message, (b"arc-seal", b"arc-message-signature"))
    except dkim.DKIMException as exc:
        return ArcResult("fail", 0, f"the message cannot be parsed: {exc}")
    answers = await _prefetch(dns, (name for name, _ in signatures))
    evidence = tuple(answers.values())
    instances = len({tags.get(b"i", b"") for _name, tags in signatures})
    if not signatures:
        return ArcResult("none", 0, "the message has no ARC sets")
    try:
        with dkim_clock(at.timestamp() if at is not None else None):
            cv, _data, reason = dkim.arc_verify(raw_message, dnsfunc=_dnsfunc(answers), minkey=MIN_RSA_BITS)
    except (dkim.DKIMException, ValueError) as exc:  # arc_verify catches most; not PyNaCl's ValueError
        cv, reason = dkim.CV_Fail, str(exc)  # (an Ed25519 key under a seal whose b= is not 64 bytes)
    if cv == dkim.CV_Pass:
        return ArcResult("pass", instances, "", evidence)
    failed = [a for a in evidence if a.outcome.is_failure]
    if failed:
        return ArcResult("temperror", instances, f"key lookup failed: {failed[0].reason}", evidence)
    if cv == dkim.CV_None and instances == 0:
        return ArcResult("none", 0, str(reason), evidence)
    return ArcResult("fail", instances, str(reason), evidence)


# --- SPF and DMARC ----------------------------------------------------------------------------


async def check_spf(ip: str, envelope_sender: str, helo: str, dns: DnsClient) -> SpfMessageResult:
    """SPF as the first receiver evaluated it: MAIL FROM's domain, or ``postmaster@HELO`` for the null sender."""
    sender = envelope_sender.strip().strip("<>")
    domain = sender.rpartition("@")[2] if sender else helo
    domain = domain.lower().rstrip(".")
    if not domain:
        return SpfMessageResult(ip, sender, "none", "", "neither an envelope sender nor a HELO name is known")
    try:
        evaluation = await check_host(dns, ip, domain, sender, helo)
    except ValueError:
        return SpfMessageResult(ip, sender, "none", domain, f"{ip!r} is not an IP address")
    return SpfMessageResult(ip, sender, str(evaluation.result), domain, evaluation.problem, evaluation.answers)


def _org_domain(domain: str, answers: Sequence[DnsAnswer]) -> tuple[str, DnsAnswer | None]:
    """RFC 9989 organisational domain from the tree walk's answers (domain first, then its parents).

    A record with psd=n marks the organisational domain; psd=y marks a public suffix, so the
    organisational domain is one label below it; otherwise the shortest name with a DMARC
    record; without any record, the domain itself. A failed lookup on the way is returned so
    the caller can say temperror instead of guessing.
    """
    shortest = ""
    for answer in answers:
        if answer.outcome.is_failure:
            return domain, answer
        where = answer.name.removeprefix("_dmarc.").lower().rstrip(".")
        records = [t for t in answer.texts if t.replace(" ", "").lower().startswith("v=dmarc1")]
        if len(records) != 1:
            continue
        psd = re.search(r"(?:^|;)\s*psd\s*=\s*([yYnN])", records[0])
        if psd and psd.group(1).lower() == "n":
            return where, None
        if psd and psd.group(1).lower() == "y":
            labels = domain.split(".")
            return ".".join(labels[-(len(where.split(".")) + 1):]) if where != domain else domain, None
        shortest = where
    return shortest or domain, None


def _aligned(identifier: str, from_domain: str, mode: str, orgs: dict[str, str]) -> bool:
    identifier = identifier.lower().rstrip(".")
    if mode == "s":
        return identifier == from_domain
    return bool(identifier) and orgs.get(identifier) == orgs.get(from_domain)


async def check_dmarc(from_domain: str, spf: SpfMessageResult, dkim_results: Sequence[DkimResult],
                      dns: DnsClient) -> DmarcMessageResult:
    """DMARC (RFC 9989) for the From domain: the policy by tree walk, then SPF or DKIM alignment.

    Relaxed alignment compares organisational domains, each found by its own tree walk (all
    levels of all walks asked at once). The result is temperror rather than fail when nothing
    aligned but a lookup that could have changed that failed.
    """
    from_domain = from_domain.lower().rstrip(".")
    if not from_domain:
        return DmarcMessageResult("none", "", False, False, reason="the message has no From domain")
    candidates = {d.domain for d in dkim_results if d.result == "pass" and d.domain}
    if spf.result == "pass" and spf.domain:
        candidates.add(spf.domain)
    names = [from_domain, *sorted(candidates - {from_domain})]
    facts = await asyncio.gather(*(collect_dmarc(dns, n) for n in names))
    evidence = tuple(a for f in facts for a in f.answers)
    found = discover(facts[0])
    if found.failure is not None:
        return DmarcMessageResult("temperror", "", False, False, reason=f"DMARC lookup failed: {found.failure.reason}",
                                  answers=evidence)
    record: DmarcRecord | None = found.record
    if record is None:
        return DmarcMessageResult("none", "", False, False, reason="no DMARC record for the From domain",
                                  answers=evidence)
    orgs: dict[str, str] = {}
    failures: list[DnsAnswer] = []
    for name, fact in zip(names, facts, strict=True):
        org, failed = _org_domain(name, fact.answers)
        orgs[name] = org
        if failed is not None:
            failures.append(failed)
    policy = effective_policy(record, from_domain)
    spf_aligned = spf.result == "pass" and _aligned(spf.domain, from_domain, record.tags.get("aspf", "r").lower(), orgs)
    dkim_aligned = any(_aligned(d.domain, from_domain, record.tags.get("adkim", "r").lower(), orgs)
                       for d in dkim_results if d.result == "pass")
    common = dict(record_name=record.where, org_domain=orgs[from_domain], answers=evidence)
    if spf_aligned or dkim_aligned:
        return DmarcMessageResult("pass", policy, spf_aligned, dkim_aligned, **common)
    temporary = ([f"SPF {spf.result}"] if spf.result == "temperror" else []) + \
        [f"DKIM {d.domain} temperror" for d in dkim_results if d.result == "temperror"] + \
        [f"lookup failed: {a.reason}" for a in failures]
    if temporary:
        return DmarcMessageResult("temperror", policy, False, False, reason="; ".join(temporary), **common)
    return DmarcMessageResult("fail", policy, False, False,
                              reason="neither SPF nor DKIM is aligned with the From domain", **common)


# --- the receiver's own verdicts --------------------------------------------------------------

_METHOD_FIRST = re.compile(r"^\s*[A-Za-z][\w-]*\s*=")


def parse_authentication_results(headers: Iterable[str] | email.message.Message) -> list[ReceiverResult]:
    """The verdicts of ``Authentication-Results`` fields (RFC 8601), in header order.

    Takes the field values (or whole ``Authentication-Results: ...`` lines), or a parsed message.
    Microsoft 365 writes the field without an authserv-id (``spf=pass ...; dkim=...``), which
    RFC 8601 does not allow, and with a trailing ``;``; such a field is read with an empty
    authserv-id rather than dropped.
    A field that cannot be parsed at all is skipped: the receiver's verdicts are a comparison,
    not evidence our verdicts depend on.
    """
    if isinstance(headers, email.message.Message):
        values = [str(v) for v in headers.get_all("Authentication-Results", [])]
    else:
        values = list(headers)
    found: list[ReceiverResult] = []
    for value in values:
        text = re.sub(r"\r?\n[ \t]+", " ", str(value)).strip()
        text = re.sub(r"^Authentication-Results:\s*", "", text, flags=re.I)
        # Microsoft 365 ends the field with ";" (``...header.from=example.com;``), which authres
        # refuses as a whole; an empty last result says nothing, so it is dropped.
        text = text.rstrip().rstrip(";").rstrip()
        anonymous = bool(_METHOD_FIRST.match(text))
        try:
            parsed = authres.AuthenticationResultsHeader.parse_value(f"unknown.invalid; {text}" if anonymous else text)
        except Exception:  # authres raises its own and plain errors on hostile input
            continue
        authserv_id = "" if anonymous else str(parsed.authserv_id or "")
        for res in parsed.results:
            props = tuple((f"{p.type}.{p.name}", str(p.value or "")) for p in res.properties)
            reason = res.reason or getattr(res, "result_comment", None) or ""
            found.append(ReceiverResult(authserv_id, str(res.method).lower(), str(res.result).lower(),
                                        str(reason), props))
    return found
