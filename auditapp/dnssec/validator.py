"""Our own DNSSEC validation: from a trust anchor down the delegations to each RRset.

Why not the AD bit: a stub resolver's AD bit is only as good as the path to the resolver and
the resolver's own configuration, neither of which the audit controls (RFC 4035 §4.9.3, RFC
6840 §5.8). Every question is asked with DO=1 and CD=1, so the resolver only has to pass the
records on, and the verdict is auditapp's: "validated by auditapp from trust anchor …".

What is checked (RFC 4033–4035):

* the anchored zone's DNSKEY RRset: a key matches a DS or DNSKEY of the anchor and signs it;
* each delegation below, label by label: the DS RRset is signed by the parent, a DNSKEY of the
  child matches a DS (SHA-1, SHA-256 or SHA-384 digest) and signs the child's DNSKEY RRset;
* the RRset itself (and each CNAME on the way), signed by the zone that holds it;
* every RRSIG's inception and expiration against the audit clock, then the signature with
  :func:`dns.dnssec.validate_rrsig` (algorithms 5, 7, 8, 10, 13, 14, 15, 16; 1, 3 and 6 are
  refused as RFC 8624 says, and a delegation whose DS names only such algorithms is insecure).

Proofs of non-existence (NSEC, RFC 4035 §5.4; NSEC3, RFC 5155 §8): an NSEC or NSEC3 record
whose signature validates and that matches the name exactly (NODATA: the type is absent from
its bitmap) or covers it (NXDOMAIN, or an empty non-terminal for NSEC) is accepted; for NSEC3
the hash is checked, but the full closest-encloser proof and the wildcard denial are not, and
an opt-out NSEC3 that covers a delegation is taken as proof of an insecure delegation only
after a SOA query confirms the zone cut. An insecure delegation is recognised by a validated
NSEC/NSEC3 record at the name whose bitmap has NS but neither DS nor SOA.

Honest verdicts: ``bogus`` needs a signature, digest or proof that was checked and is wrong or
missing in a zone proven signed; a timeout, SERVFAIL, a resolver that passes no DNSSEC data or
an unverifiable absence is ``not_tested`` with its reason.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from auditapp.collectors.dnssec_types import NameSecurity, Security
from auditapp.core.problem import Problem, joined
from auditapp.dnsclient import DnsClient, Outcome
from auditapp.dnssec.anchors import TrustAnchor
from auditapp.dnssec.denial import prove
from auditapp.dnssec.signed_query import SignedAnswer, query_signed

with warnings.catch_warnings():
    # dnspython loads its DSA module with dns.dnssec, and cryptography warns on stderr that DSA is
    # deprecated: DNSSEC algorithms 3 and 6, which RFC 8624 forbids and we refuse anyway. Not the
    # user's concern, and the command line promises one line on stderr for an input error.
    warnings.filterwarnings("ignore", message=r"DSA is deprecated")
    import dns.dnssec

#: RSA algorithms (RFC 8624 numbers): RSA/MD5, RSA/SHA-1, RSASHA1-NSEC3-SHA1, RSA/SHA-256, RSA/SHA-512.
RSA_ALGORITHMS = frozenset({1, 5, 7, 8, 10})
#: DS digest types we check: SHA-1, SHA-256, SHA-384 (RFC 4034, 4509, 6605).
DS_DIGESTS = {1: "SHA1", 2: "SHA256", 4: "SHA384"}
#: Algorithms dnspython validates here; 1 (RSAMD5), 3 (DSA), 6 (DSA-NSEC3) are refused by RFC 8624.
VALIDATABLE = frozenset({5, 7, 8, 10, 13, 14, 15, 16})
MAX_CNAME = 8

METHOD = "validated by auditapp"


def rsa_bits(key: dns.rdata.Rdata) -> int:
    """Modulus size of an RSA DNSKEY (RFC 3110 §2), 0 for other algorithms or a broken key."""
    if int(key.algorithm) not in RSA_ALGORITHMS:
        return 0
    data: bytes = key.key
    if not data:
        return 0
    if data[0] == 0:
        elen, off = int.from_bytes(data[1:3], "big"), 3
    else:
        elen, off = data[0], 1
    return int.from_bytes(data[off + elen:], "big").bit_length()


def _t(name: dns.name.Name) -> str:
    return name.to_text()


def _date(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class _Zone:
    """What the walk knows about the zone that encloses a name."""

    security: Security
    name: dns.name.Name
    keys: dns.rrset.RRset | None = None
    reason: str = ""
    algorithms: tuple[int, ...] = ()
    min_rsa_bits: int = 0
    insecure_at: str = ""
    evidence: tuple[str, ...] = ()
    own_algorithms: tuple[int, ...] = ()
    own_min_rsa_bits: int = 0


#: Why a signed question failed, in the catalogue's words (``dns.*`` messages).
_FAILED = {
    Outcome.TIMEOUT: Problem("dns.timeout", "no answer in time (timeout)"),
    Outcome.SERVFAIL: Problem("dns.servfail", "the resolver answered SERVFAIL (server failure)"),
    Outcome.REFUSED: Problem("dns.refused", "the resolver refused the query (REFUSED)"),
    Outcome.MALFORMED: Problem("dns.malformed", "the answer was not a valid DNS packet"),
    Outcome.ERROR: Problem("dns.error", "the lookup failed"),
}


def _failed(ans: SignedAnswer) -> Problem:
    """A failed signed question (timeout, SERVFAIL...) as a reason in the report's language.

    Every reason of the validator is a :class:`Problem`: the English text for evidence and logs,
    the ``problem.dnssec.*`` key for a German report (names, key tags and dates stay as they are).
    """
    detail = f" ({ans.detail})" if ans.detail else ""
    return Problem("problem.dnssec.query_failed", "{rdtype} {name}: {what}{detail}", rdtype=ans.rdtype,
                   name=ans.name, what=_FAILED.get(ans.outcome, _FAILED[Outcome.ERROR]), detail=detail)


def _find(section: tuple[dns.rrset.RRset, ...], owner: dns.name.Name, rdtype: int
          ) -> tuple[dns.rrset.RRset | None, list[dns.rdata.Rdata]]:
    rrset = None
    sigs: list[dns.rdata.Rdata] = []
    for rr in section:
        if rr.name != owner:
            continue
        if rr.rdtype == rdtype:
            rrset = rr
        elif rr.rdtype == dns.rdatatype.RRSIG:
            sigs.extend(s for s in rr if s.type_covered == rdtype)
    return rrset, sigs


class Validator:
    """Validates RRsets for one audit; zones met on the way are validated once and shared."""

    def __init__(self, client: DnsClient, anchor: TrustAnchor, now: datetime | None = None) -> None:
        self.client = client
        self.anchor = anchor
        self.now = now or datetime.now(UTC)
        self._ts = int(self.now.timestamp())
        self._zones: dict[dns.name.Name, asyncio.Future[_Zone]] = {}
        self.ad_seen = False
        self._prefetched: set[tuple[str, str]] = set()
        self._tasks: list[asyncio.Future[SignedAnswer]] = []

    @property
    def head(self) -> str:
        return f"{METHOD} from trust anchor {self.anchor.label}; the resolver's AD bit is not used"

    async def _ask(self, name: dns.name.Name, rdtype: str) -> SignedAnswer:
        ans = await query_signed(self.client, _t(name), rdtype)
        self.ad_seen = self.ad_seen or ans.ad
        return ans

    # -- signatures ------------------------------------------------------------------------

    def _verify(self, rrset: dns.rrset.RRset, sigs: list[dns.rdata.Rdata], zone: dns.name.Name,
                keys: dns.rrset.RRset) -> tuple[str | None, str]:
        """(None, evidence) when a signature by ``zone`` validates, else (reason, evidence)."""
        what = f"{_t(rrset.name)}/{dns.rdatatype.to_text(rrset.rdtype)}"
        if not sigs:
            return Problem("problem.dnssec.no_rrsig", "missing signature: no RRSIG over {what}", what=what), ""
        mine = [s for s in sigs if s.signer == zone]
        if not mine:
            signers = ", ".join(sorted({_t(s.signer) for s in sigs}))
            return Problem("problem.dnssec.wrong_signer", "RRSIG over {what} is by {signers}, not by the zone {zone}",
                           what=what, signers=signers, zone=_t(zone)), ""
        problems: list[str] = []
        for sig in mine:
            label = Problem("problem.dnssec.rrsig", "RRSIG of {what} (key tag {tag}, algorithm {algorithm})", what=what,
                            tag=str(sig.key_tag), algorithm=str(sig.algorithm))
            if sig.expiration < self._ts:
                problems.append(Problem("problem.dnssec.expired", "{label} expired {date}", label=label,
                                        date=_date(sig.expiration)))
                continue
            if sig.inception > self._ts:
                problems.append(Problem("problem.dnssec.not_yet", "{label} not valid before {date}", label=label,
                                        date=_date(sig.inception)))
                continue
            if int(sig.algorithm) not in VALIDATABLE:
                problems.append(Problem("problem.dnssec.algorithm",
                                        "{label}: algorithm {algorithm} cannot be validated (RFC 8624)",
                                        label=label, algorithm=str(sig.algorithm)))
                continue
            try:
                dns.dnssec.validate_rrsig(rrset, sig, {zone: keys}, now=self._ts)
            except (dns.dnssec.ValidationFailure, dns.dnssec.UnsupportedAlgorithm,
                    dns.dnssec.DeniedByPolicy) as exc:
                problems.append(Problem("problem.dnssec.invalid", "{label} does not validate ({error})", label=label,
                                        error=str(exc)))
                continue
            return None, f"{label} valid until {_date(sig.expiration)}"
        return joined(problems), ""

    # -- the walk --------------------------------------------------------------------------

    def prefetch(self, asked: Iterable[tuple[str, str]]) -> None:
        """Send now every question the walks to these RRsets are likely to ask, and the RRsets' own.

        The walk is sequential by nature (a zone's DS is judged with its parent's keys), so without
        this each delegation costs two round trips one after the other: ten for an MX's TLSA under
        a TLD. The answers land in the client's signed cache (one future per question) and the walk
        takes them from there; what it never asks costs one question. Asked: the DS of every name
        between the RRset and its trust anchor, the DNSKEY of those without an underscore label
        (where zone cuts are), and the RRset itself.
        """
        for name, rdtype in asked:
            try:
                qname = dns.name.from_text(name.rstrip(".").lower())
            except dns.exception.DNSException:
                continue
            owner = self.anchor.for_name(qname)
            if owner is None:
                continue
            wanted = {(_t(qname), rdtype.upper())}
            node = qname
            while True:
                if not any(label.startswith(b"_") for label in node.labels):
                    wanted.add((_t(node), "DNSKEY"))
                if node == owner or node == dns.name.root:
                    break
                wanted.add((_t(node), "DS"))
                node = node.parent()
            for question in sorted(wanted - self._prefetched):
                self._prefetched.add(question)
                self._tasks.append(asyncio.ensure_future(self._ask(dns.name.from_text(question[0]), question[1])))

    def cancel(self) -> None:
        """Stop the prefetched questions still out (the audit was cancelled)."""
        for task in self._tasks:
            task.cancel()

    async def zone_at(self, name: dns.name.Name) -> _Zone:
        fut = self._zones.get(name)
        if fut is None:
            fut = asyncio.ensure_future(self._zone_at(name))
            self._zones[name] = fut
        return await asyncio.shield(fut)

    async def _zone_at(self, name: dns.name.Name) -> _Zone:
        owner = self.anchor.for_name(name)
        if owner is None:
            return _Zone(Security.NOT_TESTED, name,
                         reason=Problem("problem.dnssec.no_anchor", "no trust anchor covers {name}", name=_t(name)))
        if name == owner:
            return await self._anchored(name)
        parent = await self.zone_at(name.parent())
        if parent.security is not Security.SECURE:
            return parent
        assert parent.keys is not None
        ans = await self._ask(name, "DS")
        if ans.outcome.is_failure:
            return replace(parent, security=Security.NOT_TESTED, reason=_failed(ans), keys=None)
        if ans.outcome is Outcome.OK:
            ds, sigs = _find(ans.answer, name, dns.rdatatype.DS)
            if ds is None:
                return parent  # a CNAME at the name: no zone cut here
            return await self._delegation(name, parent, ds, sigs)
        return await self._no_ds(name, parent, ans)

    async def _anchored(self, name: dns.name.Name) -> _Zone:
        ans = await self._ask(name, "DNSKEY")
        if ans.outcome.is_failure:
            return _Zone(Security.NOT_TESTED, name, reason=_failed(ans))
        keys, sigs = _find(ans.answer, name, dns.rdatatype.DNSKEY)
        if keys is None:
            return _Zone(Security.NOT_TESTED, name, reason=Problem(
                "problem.dnssec.no_anchor_dnskey", "the resolver gave no DNSKEY for the anchored zone '{name}'",
                name=_t(name)))
        if not sigs:
            return _Zone(Security.NOT_TESTED, name, reason=Problem(
                "problem.dnssec.no_dnssec_data",
                "the resolver gave no DNSSEC data (no RRSIG with the DNSKEY of {name}); its AD bit is not trusted",
                name=_t(name)))
        trusted = []
        for key in keys:
            if any(o == name and k == key for o, k in self.anchor.dnskeys):
                trusted.append(key)
                continue
            for o, ds in self.anchor.ds:
                if o == name and ds.key_tag == dns.dnssec.key_id(key) and self._ds_matches(name, key, ds):
                    trusted.append(key)
                    break
        tags = ", ".join(str(dns.dnssec.key_id(k)) for k in keys)
        if not trusted:
            return _Zone(Security.NOT_TESTED, name, reason=Problem(
                "problem.dnssec.anchor_mismatch",
                "no DNSKEY of {name} (key tags {tags}) matches the trust anchor {anchor}", name=_t(name), tags=tags,
                anchor=self.anchor.label))
        trusted_set = dns.rrset.from_rdata_list(name, keys.ttl, trusted)
        problem, line = self._verify(keys, sigs, name, trusted_set)
        if problem:
            return _Zone(Security.BOGUS, name, reason=problem, evidence=(f"{_t(name)} DNSKEY: {problem}",))
        return self._secure(name, keys, None, (
            f"{_t(name)} DNSKEY key tags {tags}: matches the trust anchor; {line}",))

    def _secure(self, name: dns.name.Name, keys: dns.rrset.RRset, parent: _Zone | None,
                lines: tuple[str, ...]) -> _Zone:
        algs = set(parent.algorithms if parent else ()) | {int(k.algorithm) for k in keys}
        bits = [b for b in (rsa_bits(k) for k in keys) if b]
        if parent and parent.min_rsa_bits:
            bits.append(parent.min_rsa_bits)
        own_bits = [b for b in (rsa_bits(k) for k in keys) if b]
        return _Zone(Security.SECURE, name, keys, algorithms=tuple(sorted(algs)), min_rsa_bits=min(bits, default=0),
                     own_algorithms=tuple(sorted({int(k.algorithm) for k in keys})),
                     own_min_rsa_bits=min(own_bits, default=0),
                     evidence=(parent.evidence if parent else ()) + lines)

    @staticmethod
    def _ds_matches(name: dns.name.Name, key: dns.rdata.Rdata, ds: dns.rdata.Rdata) -> bool:
        digest = DS_DIGESTS.get(int(ds.digest_type))
        if digest is None or ds.algorithm != key.algorithm:
            return False
        try:
            made = dns.dnssec.make_ds(name, key, digest, validating=True)
        except (dns.dnssec.UnsupportedAlgorithm, dns.dnssec.DeniedByPolicy, ValueError):
            return False
        return made.digest == ds.digest

    async def _delegation(self, name: dns.name.Name, parent: _Zone, ds: dns.rrset.RRset,
                          sigs: list[dns.rdata.Rdata]) -> _Zone:
        assert parent.keys is not None
        problem, line = self._verify(ds, sigs, parent.name, parent.keys)
        if problem:
            return _Zone(Security.BOGUS, name, reason=problem, evidence=(*parent.evidence, f"{_t(name)} DS: {problem}"))
        usable = [d for d in ds if int(d.algorithm) in VALIDATABLE and int(d.digest_type) in DS_DIGESTS]
        ds_text = ", ".join(f"{d.key_tag}/alg {d.algorithm}/digest {d.digest_type}" for d in ds)
        if not usable:
            return _Zone(Security.INSECURE, name, reason=Problem(
                "problem.dnssec.ds_unusable",
                "the DS of {name} ({ds}) uses only algorithms or digests auditapp cannot validate "
                "(RFC 4035 §5.2: treated as insecure)", name=_t(name), ds=ds_text), insecure_at=_t(name).rstrip("."),
                algorithms=parent.algorithms, evidence=(*parent.evidence, f"{_t(name)} DS {ds_text}; {line}"))
        ans = await self._ask(name, "DNSKEY")
        if ans.outcome.is_failure:
            return _Zone(Security.NOT_TESTED, name, reason=_failed(ans), evidence=parent.evidence)
        keys, ksigs = _find(ans.answer, name, dns.rdatatype.DNSKEY)
        if keys is None:
            reason = Problem("problem.dnssec.ds_no_dnskey",
                             "DS/DNSKEY mismatch: the parent has DS ({ds}) for {name}, but {name} publishes no DNSKEY",
                             ds=ds_text, name=_t(name))
            return _Zone(Security.BOGUS, name, reason=reason, evidence=(*parent.evidence, reason))
        matched = [k for k in keys if any(self._ds_matches(name, k, d) for d in usable)]
        tags = ", ".join(str(dns.dnssec.key_id(k)) for k in keys)
        if not matched:
            reason = Problem("problem.dnssec.ds_mismatch",
                             "DS/DNSKEY mismatch: the DS at the parent ({ds}) matches none of the DNSKEYs of {name} "
                             "(key tags {tags})", ds=ds_text, name=_t(name), tags=tags)
            return _Zone(Security.BOGUS, name, reason=reason, evidence=(*parent.evidence, reason))
        problem, kline = self._verify(keys, ksigs, name, dns.rrset.from_rdata_list(name, keys.ttl, matched))
        if problem:
            return _Zone(Security.BOGUS, name, reason=problem,
                         evidence=(*parent.evidence, f"{_t(name)} DNSKEY: {problem}"))
        return self._secure(name, keys, parent, (
            f"{_t(name)} DS {ds_text} ({line}) matches DNSKEY key tag "
            f"{', '.join(str(dns.dnssec.key_id(k)) for k in matched)}; {kline}",))

    # -- proofs of non-existence -----------------------------------------------------------

    def _denials(self, ans: SignedAnswer, zone: _Zone) -> tuple[list[tuple[dns.name.Name, dns.rdata.Rdata]], str]:
        """Validated NSEC and NSEC3 records of the authority section, or the reason one failed."""
        assert zone.keys is not None
        found = []
        for rr in ans.authority:
            if rr.rdtype not in (dns.rdatatype.NSEC, dns.rdatatype.NSEC3):
                continue
            _, sigs = _find(ans.authority, rr.name, rr.rdtype)
            if sigs and all(sig.signer != zone.name for sig in sigs):
                continue  # another zone's proof (after a CNAME, or a parent's): not about this question
            problem, _line = self._verify(rr, sigs, zone.name, zone.keys)
            if problem:
                return [], problem
            found.extend((rr.name, r) for r in rr)
        return found, ""

    async def _is_cut(self, name: dns.name.Name) -> bool | None:
        ans = await self._ask(name, "SOA")
        if ans.outcome.is_failure:
            return None
        soa, _ = _find(ans.answer, name, dns.rdatatype.SOA)
        return soa is not None

    async def _no_ds(self, name: dns.name.Name, parent: _Zone, ans: SignedAnswer) -> _Zone:
        records, problem = self._denials(ans, parent)
        if problem:
            reason = Problem("problem.dnssec.no_ds_proof_invalid",
                             "the proof that {name} has no DS does not validate: {problem}", name=_t(name),
                             problem=problem)
            return _Zone(Security.BOGUS, name, reason=reason, evidence=parent.evidence)
        what, line, optout = prove(name, dns.rdatatype.DS, records, parent.name)
        if what == "insecure":
            return _Zone(Security.INSECURE, name,
                         reason=Problem("problem.dnssec.no_ds", "no DS for {name} at its parent {parent}",
                                        name=_t(name), parent=_t(parent.name)),
                         algorithms=parent.algorithms, min_rsa_bits=parent.min_rsa_bits,
                         insecure_at=_t(name).rstrip("."), evidence=(*parent.evidence, line))
        if what == "nodata" or (what == "nxdomain" and not optout):
            return parent  # proven: no zone cut here
        cut = await self._is_cut(name)
        if cut is None:
            return replace(parent, security=Security.NOT_TESTED, keys=None,
                           reason=Problem("problem.dnssec.cut_unknown",
                                          "whether {name} is a zone cut could not be established", name=_t(name)))
        if not cut:
            return parent
        if optout:
            return _Zone(Security.INSECURE, name,
                         reason=Problem("problem.dnssec.optout_no_ds", "no DS for {name} (opt-out NSEC3 at {parent})",
                                        name=_t(name), parent=_t(parent.name)),
                         algorithms=parent.algorithms, min_rsa_bits=parent.min_rsa_bits,
                         insecure_at=_t(name).rstrip("."), evidence=(*parent.evidence, line))
        return _Zone(Security.NOT_TESTED, name, reason=Problem(
            "problem.dnssec.cut_without_proof",
            "{name} is a zone cut without DS, but no validated NSEC/NSEC3 record proves the DS absent", name=_t(name)),
            evidence=parent.evidence)

    # -- the RRset -------------------------------------------------------------------------

    async def validate(self, name: str, rdtype: str, _depth: int = 0) -> NameSecurity:
        """The validation of ``name``/``rdtype``: walk, ask with DO+CD, check signature or denial."""
        key = name.rstrip(".").lower()
        rdtype = rdtype.upper()
        try:
            qname = dns.name.from_text(key)
            rtype = dns.rdatatype.from_text(rdtype)
        except dns.exception.DNSException as exc:
            return NameSecurity(key, rdtype, Security.NOT_TESTED, evidence=(self.head,), reason=Problem(
                "problem.dnssec.bad_name", "not a valid DNS name: {error}", error=str(exc)))
        zone = await self.zone_at(qname)

        def result(security: Security, reason: str = "", lines: tuple[str, ...] = (),
                   nonexistent: str = "") -> NameSecurity:
            return NameSecurity(
                key, rdtype, security, reason=reason, zone=_t(zone.name).rstrip(".") or ".",
                algorithms=zone.algorithms, min_rsa_bits=zone.min_rsa_bits, insecure_at=zone.insecure_at,
                evidence=(self.head, *zone.evidence, *lines), nonexistent=nonexistent,
                zone_algorithms=zone.own_algorithms, zone_min_rsa_bits=zone.own_min_rsa_bits)

        if zone.security is not Security.SECURE:
            return result(zone.security, zone.reason)
        assert zone.keys is not None
        ans = await self._ask(qname, rdtype)
        if ans.outcome.is_failure:
            return result(Security.NOT_TESTED, _failed(ans))
        if ans.outcome is Outcome.OK:
            rrset, sigs = _find(ans.answer, qname, rtype)
            if rrset is None and rtype != dns.rdatatype.CNAME:
                cname, csigs = _find(ans.answer, qname, dns.rdatatype.CNAME)
                if cname is None:
                    return result(Security.NOT_TESTED, Problem(
                        "problem.dnssec.no_such_rrset", "the answer for {name}/{rdtype} holds no such RRset", name=key,
                        rdtype=rdtype))
                problem, line = self._verify(cname, csigs, zone.name, zone.keys)
                if problem:
                    return result(Security.BOGUS, problem, (f"{key} CNAME: {problem}",))
                if _depth >= MAX_CNAME:
                    return result(Security.NOT_TESTED, Problem("problem.dnssec.cname_long", "CNAME chain too long"))
                target = await self.validate(_t(cname[0].target), rdtype, _depth + 1)
                lines = (f"{key} CNAME {_t(cname[0].target)}: {line}", *target.evidence[1:])
                if target.security is Security.SECURE:
                    return replace(target, name=key, evidence=(self.head, *zone.evidence, *lines))
                return replace(target, name=key, evidence=(self.head, *zone.evidence, *lines))
            assert rrset is not None
            problem, line = self._verify(rrset, sigs, zone.name, zone.keys)
            if problem:
                return result(Security.BOGUS, problem, (f"{key}/{rdtype}: {problem}",))
            return result(Security.SECURE, "", (f"{key}/{rdtype}: {line}",))
        records, problem = self._denials(ans, zone)
        if problem:
            return result(Security.BOGUS, Problem("problem.dnssec.proof_invalid",
                                                  "the proof of non-existence does not validate: {problem}",
                                                  problem=problem), (problem,))
        what, line, optout = prove(qname, rtype, records, zone.name)
        if what in ("nodata", "insecure"):
            return result(Security.SECURE, "", (line,), nonexistent="nodata")
        if what == "nxdomain" and optout:
            return result(Security.INSECURE, Problem(
                "problem.dnssec.optout_nxdomain",
                "{proof}: an opt-out NSEC3 does not authenticate the absence (RFC 5155 §9.2)", proof=line), (line,))
        if what == "nxdomain" and ans.outcome is Outcome.NXDOMAIN:
            return result(Security.SECURE, "", (line + " (wildcard denial not checked)",), nonexistent="nxdomain")
        answered = Problem("problem.dnssec.answered", "the signed zone {zone} answered {outcome} for {name}/{rdtype}",
                           zone=_t(zone.name), outcome=ans.outcome.value.upper(), name=key, rdtype=rdtype)
        if records:  # proofs that validate but that auditapp's checks could not match: say so, do not guess
            return result(Security.NOT_TESTED, Problem(
                "problem.dnssec.proof_unmatched",
                "{answered}; its NSEC/NSEC3 records could not be matched to the question by auditapp (a proof form "
                "it does not check)", answered=answered))
        reason = Problem("problem.dnssec.no_proof", "missing signature: {answered} without an NSEC/NSEC3 proof",
                         answered=answered)
        return result(Security.BOGUS, reason, (reason,))
