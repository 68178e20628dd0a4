"""DANE for SMTP (RFC 7672): TLSA records of the MX hosts, their DNSSEC status, and whether they match (issue 16).

Matching is pure and follows RFC 6698 §2.1 and RFC 7671: the selector picks the full
certificate (0) or its SubjectPublicKeyInfo (1), the matching type compares it whole (0) or by
SHA-256 (1) or SHA-512 (2). RFC 7672 §3.1.3 makes only DANE-TA(2) and DANE-EE(3) usable for SMTP:
a sending server ignores PKIX-TA(0) and PKIX-EE(1), and records with unknown parameters or a
digest of the wrong length. A record set matches when one usable record matches:

* DANE-EE(3) against the leaf the MX presents after STARTTLS (our probe reads it; no name check,
  no expiry check: RFC 7672 §3.1.1);
* DANE-TA(2) against a certificate above the leaf in the presented chain, whose signatures down
  to the leaf verify, and the leaf must carry the MX name (RFC 7672 §3.2.2). Python's ssl module
  cannot give the chain, so this needs the sslyze scan's ``tls_scan`` fact; without it a set of
  only usage-2 records is ``not_tested`` ("the presented chain was not available").

A TLSA record counts only when DNSSEC says ``secure`` (RFC 7672 §2.2): without the ``dnssec``
fact, or with ``not_tested`` in it, DANE-INSECURE-TLSA and DANE-MISMATCH say ``not_tested``.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from auditapp.checks.registry import CheckContext, check
from auditapp.checks.services.base import discovery_of, not_listening, probe_evidence, probes_of
from auditapp.checks.services.tls import sts_pattern_matches
from auditapp.checks.services.tlscert import cert_covers
from auditapp.collectors.dane_collect import TlsaFact, tlsa_name
from auditapp.collectors.dnssec_types import NameSecurity, Security
from auditapp.collectors.service_facts import CertInfo, EndpointProbe, PortState, Role
from auditapp.core.model import Finding, Reason
from auditapp.core.problem import Problem
from auditapp.dnsclient import DnsAnswer, Outcome

USAGES = {0: "PKIX-TA", 1: "PKIX-EE", 2: "DANE-TA", 3: "DANE-EE"}
SELECTORS = {0: "Cert", 1: "SPKI"}
MATCHING = {0: "Full", 1: "SHA2-256", 2: "SHA2-512"}
DIGEST_BYTES = {1: 32, 2: 64}


# -- records ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tlsa:
    """One TLSA record as published (RFC 6698 §2.1); ``problem`` when it is unusable for SMTP."""

    usage: int
    selector: int
    mtype: int
    data: bytes
    text: str

    @property
    def label(self) -> str:
        return f"{self.usage} {self.selector} {self.mtype}"

    @property
    def problem(self) -> str:
        """Why a sending server ignores this record ("" when it is usable, RFC 7672 §3.1.3)."""
        if self.usage in (0, 1):
            return "pkix"
        if self.usage not in USAGES or self.selector not in SELECTORS or self.mtype not in MATCHING:
            return "unknown"
        if self.mtype in DIGEST_BYTES and len(self.data) != DIGEST_BYTES[self.mtype]:
            return "malformed"
        if self.mtype == 0 and not self.data:
            return "malformed"
        return ""

    @property
    def usable(self) -> bool:
        return not self.problem


def parse_tlsa(text: str) -> Tlsa | None:
    """``"3 1 1 ab12…"`` (presentation form; the hex may be split by spaces) as :class:`Tlsa`, None if not one."""
    parts = text.split()
    if len(parts) < 4:
        return None
    try:
        usage, selector, mtype = (int(p) for p in parts[:3])
        data = bytes.fromhex("".join(parts[3:]))
    except ValueError:
        return None
    return Tlsa(usage, selector, mtype, data, f"{usage} {selector} {mtype} {''.join(parts[3:]).lower()}")


def records_of(answer: DnsAnswer) -> list[Tlsa]:
    return [r for r in (parse_tlsa(t) for t in answer.records) if r is not None]


def selected(der: bytes, selector: int) -> bytes:
    """The certificate (0) or its SubjectPublicKeyInfo (1), DER; b"" if the key cannot be read."""
    if selector == 0:
        return der
    try:
        return x509.load_der_x509_certificate(der).public_key().public_bytes(
            Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return b""


def association(der: bytes, selector: int, mtype: int) -> bytes:
    """The certificate association data a ``x selector mtype`` record would carry for ``der``."""
    content = selected(der, selector)
    if not content:
        return b""
    if mtype == 1:
        return hashlib.sha256(content).digest()
    if mtype == 2:
        return hashlib.sha512(content).digest()
    return content


def matches_cert(record: Tlsa, der: bytes) -> bool:
    """Does ``record`` (selector and matching type) describe the certificate ``der``? Usage is not looked at."""
    if not record.usable or not der:
        return False
    return association(der, record.selector, record.mtype) == record.data


def matches_leaf(record: Tlsa, cert: CertInfo) -> bool:
    """A DANE-EE record against the leaf our probe read (its stored digests, or its DER for full data)."""
    if not record.usable or record.usage != 3:
        return False
    if cert.der:
        return matches_cert(record, cert.der)
    digests = {(1, 1): cert.spki_sha256, (1, 2): cert.spki_sha512, (0, 1): cert.cert_sha256,
               (0, 2): cert.cert_sha512}
    known = digests.get((record.selector, record.mtype), "")
    return bool(known) and bytes.fromhex(known) == record.data


def matches_chain(record: Tlsa, chain: tuple[bytes, ...], names: list[str]) -> bool:
    """A DANE-TA record against the presented chain (DER, leaf first), RFC 7671 §5.2.2, RFC 7672 §3.2.2.

    The record must match a certificate above the leaf, every signature from there down to the
    leaf must verify, and the leaf must carry one of ``names`` (the MX host).
    """
    if not record.usable or record.usage != 2 or len(chain) < 2:
        return False
    try:
        certs = [x509.load_der_x509_certificate(d) for d in chain]
    except ValueError:
        return False
    for i in range(1, len(certs)):
        if not matches_cert(record, chain[i]):
            continue
        try:
            for lower, upper in itertools.pairwise(certs[:i + 1]):
                lower.verify_directly_issued_by(upper)
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
            return False
        return _leaf_names(certs[0], names)
    return False


def _leaf_names(leaf: x509.Certificate, names: list[str]) -> bool:
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = tuple(san.get_values_for_type(x509.DNSName))
    except (x509.ExtensionNotFound, ValueError):
        dns_names = ()
    info = CertInfo(subject=leaf.subject.rfc4514_string(), issuer="", san_dns=dns_names, san_ip=(),
                    not_before="", not_after="", fingerprint_sha256="", self_signed=False)
    return any(cert_covers(info, n) for n in names)


def record_for(cert: CertInfo) -> str:
    """The ``3 1 1`` record (RFC 7671 §5.1's recommendation) for the leaf a server presents."""
    if cert.spki_sha256:
        return f"3 1 1 {cert.spki_sha256}"
    if cert.der:
        return f"3 1 1 {association(cert.der, 1, 1).hex()}"
    return "3 1 1 -"


# -- what the checks share -------------------------------------------------------------------

NEEDS_DNS = ("tlsa", "dnssec")
#: ``tls_scan`` (the sslyze scan, with the presented chain) is waited for when a run has it; the
#: engine marks it done as None when it has no job for it.
NEEDS_CERTS = ("tlsa", "dnssec", "discovery", "services", "mta_sts_policy", "tls_scan")


def _tlsa(ctx: CheckContext) -> TlsaFact:
    return ctx.facts.tlsa  # type: ignore[attr-defined,no-any-return]


def _security(ctx: CheckContext, mx: str) -> tuple[NameSecurity | None, str]:
    """The DNSSEC status of the TLSA RRset of ``mx``, or None and why it is unknown."""
    facts = getattr(ctx.facts, "dnssec", None)
    name = tlsa_name(mx)
    if facts is None:
        return None, Problem("problem.dane.dnssec_not_run", "DNSSEC status unknown: this run did not validate DNSSEC")
    status = facts.status(name, "TLSA")
    if status is None:
        return None, Problem("problem.dane.tlsa_not_validated", "DNSSEC status unknown: {name}/TLSA was not validated",
                             name=name)
    if status.security is Security.NOT_TESTED:
        reason = status.reason or Problem("problem.dnssec.incomplete", "DNSSEC validation did not complete")
        return None, Problem("problem.dane.dnssec_unknown", "DNSSEC status unknown: {reason}", reason=reason)
    return status, ""


def _unknown(ctx: CheckContext, subject: str, why: str, evidence: list[str]) -> Finding:
    return ctx.not_tested(subject, Reason("reason.dependency", {"what": why}), evidence)


def _dnssec_evidence(status: NameSecurity | None) -> list[str]:
    if status is None:
        return []
    head = f"DNSSEC {status.name}/{status.rdtype}: {status.security.value}"
    head += f" ({status.reason})" if status.reason else ""
    head += f", insecure at {status.insecure_at}" if status.insecure_at else ""
    return [head, *status.evidence[:6]]


def _signed(ctx: CheckContext, mx: str) -> bool | None:
    """Is the MX host's zone DNSSEC-signed? From the TLSA denial, else the host's or the domain's records."""
    facts = getattr(ctx.facts, "dnssec", None)
    if facts is None:
        return None
    for name, rdtype in ((tlsa_name(mx), "TLSA"), (mx, "A"), (mx, "AAAA"), (ctx.domain, "MX")):
        status = facts.status(name, rdtype)
        if status is None or status.security is Security.NOT_TESTED:
            continue
        return status.security is Security.SECURE
    return None


def _hosts(ctx: CheckContext) -> Iterator[tuple[str, DnsAnswer]]:
    yield from sorted(_tlsa(ctx).answers.items())


def _mx_failure(ctx: CheckContext) -> Iterator[Finding]:
    fact = _tlsa(ctx)
    if not fact.answers and fact.mx is not None and fact.mx.outcome.is_failure:
        yield ctx.dns_not_tested(ctx.domain, fact.mx)


# -- DNS-side rules ------------------------------------------------------------------------------

def _provider_of(ctx: CheckContext, mx: str) -> str:
    """The hosted provider (hosted_providers.toml) whose MX host ``mx`` is, "" for the domain's own."""
    hosting = ctx.facts.hosting
    match = hosting.match if hosting is not None else None
    if match is None or match.provider is None or mx not in match.matched:
        return ""
    return match.provider.name


@check("DANE-MISSING", needs=(*NEEDS_DNS, "hosting"))
def dane_missing(ctx: CheckContext) -> Iterator[Finding]:
    yield from _mx_failure(ctx)
    for mx, ans in _hosts(ctx):
        subject = tlsa_name(mx)
        provider = _provider_of(ctx, mx)
        if ans.outcome.is_failure:
            yield ctx.dns_not_tested(subject, ans)
        elif records_of(ans):
            yield ctx.passed(subject, [ans.evidence()], mx=mx, records="; ".join(r.text for r in records_of(ans)))
        elif provider:
            # The TLSA records of a provider's MX live in the provider's zone: not the customer's to publish.
            yield ctx.not_applicable(subject, [ans.evidence()], outcome="provider", mx=mx, provider=provider)
        else:
            signed = _signed(ctx, mx)
            outcome = "missing_signed" if signed else "missing"
            status = getattr(ctx.facts, "dnssec", None)
            extra = _dnssec_evidence(status.status(subject, "TLSA")) if status is not None else []
            yield ctx.fail(subject, outcome, [ans.evidence(), *extra], mx=mx)


@check("DANE-INSECURE-TLSA", needs=NEEDS_DNS)
def dane_insecure(ctx: CheckContext) -> Iterator[Finding]:
    yield from _mx_failure(ctx)
    for mx, ans in _hosts(ctx):
        subject = tlsa_name(mx)
        if ans.outcome.is_failure:
            yield ctx.dns_not_tested(subject, ans)
            continue
        if not records_of(ans):
            yield ctx.not_applicable(subject, [ans.evidence()], mx=mx)
            continue
        status, why = _security(ctx, mx)
        if status is None:
            yield _unknown(ctx, subject, why, [ans.evidence()])
            continue
        ev = [ans.evidence(), *_dnssec_evidence(status)]
        params = {"mx": mx, "zone": status.zone or "-", "insecure_at": status.insecure_at or "-",
                  "problem": status.reason or "-"}
        if status.security is Security.SECURE:
            yield ctx.passed(subject, ev, **params)
        elif status.security is Security.BOGUS:
            yield ctx.fail(subject, "bogus", ev, **params)
        else:
            yield ctx.fail(subject, "insecure", ev, **params)


@check("DANE-PARAMETERS", needs=("tlsa",))
def dane_parameters(ctx: CheckContext) -> Iterator[Finding]:
    yield from _mx_failure(ctx)
    for mx, ans in _hosts(ctx):
        subject = tlsa_name(mx)
        if _bad_length(ans):
            # dnspython refuses the whole answer when one digest has the wrong length: that much is
            # proven (the server sent such a record); what else the RRset holds is not known.
            yield ctx.fail(subject, "malformed", [ans.evidence()], mx=mx, records="-", pkix="-", unknown="-",
                           malformed=ans.detail or "-", full="-")
            continue
        if ans.outcome.is_failure:
            yield ctx.dns_not_tested(subject, ans)
            continue
        records = records_of(ans)
        unreadable = len(ans.records) - len(records)
        if not records and not unreadable:
            yield ctx.not_applicable(subject, [ans.evidence()], mx=mx)
            continue
        outcome = parameter_outcome(records, unreadable)
        listed = {"pkix": [r.label for r in records if r.problem == "pkix"],
                  "unknown": [r.label for r in records if r.problem == "unknown"],
                  "malformed": [r.label for r in records if r.problem == "malformed"] + ["?"] * unreadable,
                  "full": [r.label for r in records if r.usable and r.mtype == 0]}
        params = {"mx": mx, "records": "; ".join(r.label for r in records) or "-",
                  "pkix": ", ".join(listed["pkix"]) or "-", "unknown": ", ".join(listed["unknown"]) or "-",
                  "malformed": ", ".join(listed["malformed"]) or "-", "full": ", ".join(listed["full"]) or "-"}
        if outcome == "pass":
            yield ctx.passed(subject, [ans.evidence()], **params)
        else:
            yield ctx.fail(subject, outcome, [ans.evidence()], **params)


def _bad_length(ans: DnsAnswer) -> bool:
    return ans.outcome is Outcome.MALFORMED and "association data length" in ans.detail


def parameter_outcome(records: list[Tlsa], unreadable: int = 0) -> str:
    """The worst parameter problem of a TLSA record set (``pass`` when there is none)."""
    if not any(r.usable for r in records):
        return "no_usable"
    if unreadable or any(r.problem == "malformed" for r in records):
        return "malformed"
    if any(r.problem == "pkix" for r in records):
        return "pkix_usage"
    if any(r.problem == "unknown" for r in records):
        return "unknown_values"
    if any(r.mtype == 0 for r in records):
        return "full_data"
    return "pass"


# -- against the presented certificate -----------------------------------------------------------

@dataclass(frozen=True)
class _Target:
    """One MX name, one of its port-25 endpoints, and the TLSA records that apply to it."""

    mx: str
    probe: EndpointProbe
    answer: DnsAnswer
    records: list[Tlsa]

    @property
    def subject(self) -> str:
        return f"{self.mx} {self.probe.endpoint}"


def _mx_endpoints(ctx: CheckContext, mx: str) -> list[EndpointProbe]:
    disc = discovery_of(ctx)
    if disc is None:
        return []
    addresses = {a for h in disc.hosts if h.name == mx and Role.MX in h.roles for a in h.addresses}
    return sorted((p for p in probes_of(ctx).values() if p.address in addresses and p.service == "smtp"),
                  key=lambda p: (p.address, p.port))


def _chain(ctx: CheckContext, p: EndpointProbe) -> tuple[bytes, ...] | None:
    """The chain the sslyze scan saw on this endpoint (DER, leaf first), None when there is none."""
    scans = getattr(ctx.facts, "tls_scan", None)
    if not scans:
        return None
    scan = scans.get((p.address, p.port)) if hasattr(scans, "get") else None
    chain = getattr(scan, "certificate_chain", None)
    return tuple(chain) if chain else None


def _secure_targets(ctx: CheckContext) -> Iterator[Finding | _Target]:
    """Results for MX names whose TLSA cannot be judged against a certificate; the rest as targets."""
    yield from _mx_failure(ctx)
    for mx, ans in _hosts(ctx):
        subject = tlsa_name(mx)
        if ans.outcome.is_failure:
            yield ctx.dns_not_tested(subject, ans)
            continue
        records = records_of(ans)
        if not records:
            yield ctx.not_applicable(subject, [ans.evidence()], mx=mx, **_blank())
            continue
        status, why = _security(ctx, mx)
        if status is None:
            yield _unknown(ctx, subject, why, [ans.evidence()])
            continue
        if status.security is not Security.SECURE:
            # Insecure: senders ignore the records; bogus: they defer anyway. DANE-INSECURE-TLSA says which.
            yield ctx.not_applicable(subject, [ans.evidence(), *_dnssec_evidence(status)], outcome="not_secure",
                                     mx=mx, security=status.security.value, **_blank())
            continue
        if not any(r.usable for r in records):
            yield ctx.not_applicable(subject, [ans.evidence()], outcome="no_usable", mx=mx, **_blank())
            continue
        probes = _mx_endpoints(ctx, mx)
        if not probes:
            yield ctx.not_applicable(subject, [ans.evidence()], mx=mx, **_blank())
        for p in probes:
            yield _Target(mx, p, ans, records)


def _blank() -> dict[str, Any]:
    return {"endpoint": "-", "record": "-", "records": "-"}


def _sts_enforced(ctx: CheckContext, mx: str) -> bool:
    policy = ctx.facts.mta_sts_policy
    if policy is None or not policy.fetched or policy.errors or policy.mode != "enforce":
        return False
    return any(sts_pattern_matches(pat, mx) for pat in policy.mx_patterns)


@dataclass(frozen=True)
class _Match:
    """How the record set of one target compares with what the endpoint presented."""

    verdict: str  # "match", "match_ta", "mismatch", "no_chain", "no_tls", "unread"
    record: str = ""  # the matching record, or the one to publish


def compare(ctx: CheckContext, t: _Target) -> _Match:
    p = t.probe
    tls = p.tls
    if tls is None or not tls.ok:
        if p.starttls_offered is False:
            return _Match("no_tls")
        return _Match("unread")
    cert = tls.cert
    if cert is None:
        return _Match("unread")
    usable = [r for r in t.records if r.usable]
    for r in usable:
        if matches_leaf(r, cert):
            return _Match("match", r.text)
    chain = _chain(ctx, p)
    ta = [r for r in usable if r.usage == 2]
    if chain is not None:
        for r in ta:
            if matches_chain(r, chain, [t.mx]):
                return _Match("match_ta", r.text)
    elif ta:
        return _Match("no_chain")
    return _Match("mismatch", record_for(cert))


@check("DANE-MISMATCH", needs=NEEDS_CERTS)
def dane_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    for item in _secure_targets(ctx):
        if isinstance(item, Finding):
            yield item
            continue
        t, p = item, item.probe
        if p.state is not PortState.OPEN:
            yield not_listening(ctx, p, mx=t.mx, endpoint=p.endpoint, record="-", records="-")
            continue
        m = compare(ctx, t)
        ev = [t.answer.evidence(), *probe_evidence(p)]
        params = {"mx": t.mx, "endpoint": p.endpoint, "records": "; ".join(r.label for r in t.records),
                  "record": m.record or "-", "name": tlsa_name(t.mx)}
        if m.verdict == "unread":
            yield ctx.not_tested(t.subject, Reason("reason.dialogue", {
                "endpoint": p.endpoint, "problem": p.problem or (p.tls.error if p.tls else "") or "no certificate"}),
                probe_evidence(p), **params)
        elif m.verdict == "no_chain":
            yield _unknown(ctx, t.subject, "the presented chain was not available (only DANE-TA records, "
                                           "which match a certificate above the leaf)", ev)
        elif m.verdict == "no_tls":
            yield ctx.fail(t.subject, "no_starttls", ev, **params)
        elif m.verdict in ("match", "match_ta"):
            yield ctx.passed(t.subject, ev, outcome="pass" if m.verdict == "match" else "pass_ta", **params)
        else:
            outcome = "mismatch_sts" if _sts_enforced(ctx, t.mx) else "mismatch"
            yield ctx.fail(t.subject, outcome, ev, **params)


@check("DANE-NO-ROLLOVER", needs=NEEDS_CERTS)
def dane_no_rollover(ctx: CheckContext) -> Iterator[Finding]:
    fact = _tlsa(ctx)
    for item in _secure_targets(ctx):
        if isinstance(item, Finding):
            yield item
            continue
        t, p = item, item.probe
        if p.state is not PortState.OPEN:
            yield not_listening(ctx, p, mx=t.mx, endpoint=p.endpoint, record="-", records="-")
            continue
        m = compare(ctx, t)
        ev = [t.answer.evidence(), *probe_evidence(p)]
        cert = p.tls.cert if p.tls else None
        params: dict[str, Any] = {
            "mx": t.mx, "endpoint": p.endpoint, "records": "; ".join(r.label for r in t.records),
            "record": m.record or "-", "name": tlsa_name(t.mx), "not_after": cert.not_after if cert else "-",
            "previous": fact.previous_run or "-", "spki": cert.spki_sha256 if cert else "-",
            "next_record": "3 1 1 <SHA-256 of the next key's SubjectPublicKeyInfo>",
        }
        if m.verdict not in ("match", "match_ta") or cert is None:
            # Nothing matches now: DANE-MISMATCH's finding; a chain we lack: not tested there.
            if m.verdict == "no_chain":
                yield _unknown(ctx, t.subject, "the presented chain was not available", ev)
            else:
                yield ctx.not_applicable(t.subject, ev, outcome="no_match", **params)
            continue
        usable = [r for r in t.records if r.usable]
        if any(r.usage == 2 for r in usable):
            yield ctx.passed(t.subject, ev, outcome="issuer", **params)
            continue
        spare = [r for r in usable if r.usage == 3 and not matches_leaf(r, cert)]
        if spare:
            yield ctx.passed(t.subject, ev, outcome="next_key", spare="; ".join(r.text for r in spare), **params)
            continue
        current = [r for r in usable if matches_leaf(r, cert)]
        if all(r.selector == 0 for r in current):
            yield ctx.fail(t.subject, "cert_pinned", ev, **params)
            continue
        before = fact.previous_spki.get(p.endpoint, "")
        renewed = fact.previous_not_after.get(p.endpoint, "") not in ("", cert.not_after)
        if before and cert.spki_sha256 and before == cert.spki_sha256 and not renewed:
            # The same certificate as last time: no renewal seen yet, so nothing is known about the next one.
            yield ctx.fail(t.subject, "lone_record", [*ev, f"previous run {fact.previous_run}: the same "
                                                           f"certificate (valid until {cert.not_after})"], **params)
        elif before and cert.spki_sha256 and before == cert.spki_sha256:
            yield ctx.passed(t.subject, [*ev, f"previous run {fact.previous_run}: SPKI SHA-256 {before}, "
                                              f"certificate valid until "
                                              f"{fact.previous_not_after.get(p.endpoint)}; now {cert.not_after}"],
                             outcome="same_key", **params)
        elif before and cert.spki_sha256:
            yield ctx.fail(t.subject, "key_changed", [*ev, f"previous run {fact.previous_run}: SPKI SHA-256 "
                                                           f"{before}, now {cert.spki_sha256}"],
                           before=before, **params)
        else:
            yield ctx.fail(t.subject, "lone_record", ev, **params)
