"""What DNSSEC validation found, as plain data: the contract between the validator and its readers.

The validator (:mod:`auditapp.dnssec`, run by the ``dnssec`` collector) fills :class:`DnssecFacts`;
the DNSSEC rules, the DANE rules (a TLSA record counts only when it is ``secure``) and the report
read it. It sits apart so that readers do not import the validator.

Honest verdicts: ``bogus`` needs a signature or digest that was checked and is wrong; a timeout,
SERVFAIL or a resolver that returns no DNSSEC data is ``not_tested`` with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Security(StrEnum):
    """RFC 4035 §4.3 states of an RRset, plus ``not_tested`` for "could not be established"."""

    SECURE = "secure"
    INSECURE = "insecure"  # provably unsigned: no DS at a parent (an insecure delegation)
    BOGUS = "bogus"  # signed, but the chain or a signature does not validate
    NOT_TESTED = "not_tested"  # no answer, no DNSSEC data, or the trust anchor could not be used


@dataclass(frozen=True)
class NameSecurity:
    """The validation of one RRset (``name``/``rdtype``) and why it ended as it did."""

    name: str
    rdtype: str
    security: Security
    #: For bogus and not_tested: what failed ("RRSIG of example.com/MX expired 2026-11-30").
    reason: str = ""
    #: The zone whose keys signed the RRset (the closest enclosing signed zone); "" if unknown.
    zone: str = ""
    #: DNSKEY algorithms (RFC 8624 numbers) met on the chain from the anchor to the RRset.
    algorithms: tuple[int, ...] = ()
    #: Smallest RSA key size (bits) met on the chain, 0 when none was RSA.
    min_rsa_bits: int = 0
    #: Where the insecure delegation is (the zone without DS), for ``insecure``.
    insecure_at: str = ""
    #: The lookups and checks, as lines for the report's evidence.
    evidence: tuple[str, ...] = ()
    #: For a ``secure`` answer that the name or type does not exist: "nxdomain" or "nodata",
    #: proven by a validated NSEC/NSEC3 record; "" for an RRset that exists.
    nonexistent: str = ""
    #: DNSKEY algorithms and smallest RSA key (bits, 0: none) of the zone that signed the RRset
    #: itself, without its parents: what the zone's operator can change (RFC 8624 advice).
    zone_algorithms: tuple[int, ...] = ()
    zone_min_rsa_bits: int = 0


@dataclass(frozen=True)
class DnssecFacts:
    """Every RRset the audit validated, and how (which anchor, our own validation or a resolver's AD bit)."""

    #: The trust anchor used: "IANA root KSK 20326" or the file given with --trust-anchor.
    anchor: str
    #: "validated by auditapp" (from the anchor) — never the AD bit of a resolver we do not control.
    method: str
    names: dict[tuple[str, str], NameSecurity] = field(default_factory=dict)

    def status(self, name: str, rdtype: str) -> NameSecurity | None:
        """The validation of ``name``/``rdtype`` (names compared without the final dot, lower case)."""
        return self.names.get((name.rstrip(".").lower(), rdtype.upper()))
