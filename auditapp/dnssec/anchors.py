"""Trust anchors: where DNSSEC validation starts.

By default the IANA root anchors; for labs and internal roots a file given with
``--trust-anchor`` (or the project's ``trust_anchor``). The file holds DS or DNSKEY records in
zone-file presentation format, one per line, owner name included, as
``dig +noall +answer . DNSKEY`` prints them or as unbound's ``root.key`` holds them; TTL and
class are optional, ``;`` starts a comment. Only DNSKEYs with the SEP/KSK role are not
required: any listed key is trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.DS

#: The root zone's key-signing keys as IANA publishes them in
#: https://data.iana.org/root-anchors/root-anchors.xml (checked for December 2026: KSK-2017,
#: validFrom 2017-02-02, key tag 20326, and KSK-2024, validFrom 2024-07-18, key tag 38696,
#: both algorithm 8 with SHA-256 digests and no validUntil). KSK-2024 signs the root DNSKEY
#: RRset since the rollover of October 2026; KSK-2017 stays listed until it is revoked.
IANA_ROOT_DS = (
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
    ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
)

#: A trust anchor file larger than this is not an anchor file (a root.key is under 2 kB).
MAX_ANCHOR_FILE = 256 * 1024


class TrustAnchorError(ValueError):
    """The trust anchor file cannot be used; the message is one line naming file and line."""


@dataclass(frozen=True)
class TrustAnchor:
    """DS and DNSKEY records trusted without proof, by owner name (usually only the root)."""

    #: "IANA root KSK 20326, 38696" or "trust anchor file /path/root.key".
    label: str
    ds: tuple[tuple[dns.name.Name, dns.rdtypes.ANY.DS.DS], ...] = ()
    dnskeys: tuple[tuple[dns.name.Name, dns.rdtypes.ANY.DNSKEY.DNSKEY], ...] = ()

    @property
    def owners(self) -> tuple[dns.name.Name, ...]:
        return tuple(sorted({n for n, _ in self.ds} | {n for n, _ in self.dnskeys}))

    def for_name(self, name: dns.name.Name) -> dns.name.Name | None:
        """The deepest anchored zone that contains ``name``, None if no anchor covers it."""
        best = None
        for owner in self.owners:
            if name.is_subdomain(owner) and (best is None or len(owner) > len(best)):
                best = owner
        return best


def _key_tag(key: dns.rdtypes.ANY.DNSKEY.DNSKEY) -> int:
    import dns.dnssec

    return dns.dnssec.key_id(key)


def parse_anchor_text(text: str, source: str = "trust anchor") -> TrustAnchor:
    """Parse the trust anchor format (see the module docstring); errors are one line."""
    ds: list[tuple[dns.name.Name, dns.rdtypes.ANY.DS.DS]] = []
    keys: list[tuple[dns.name.Name, dns.rdtypes.ANY.DNSKEY.DNSKEY]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        where = f"{source} line {number}"
        tokens = line.split()
        if len(tokens) < 3:
            raise TrustAnchorError(f"{where}: expected 'OWNER [TTL] [IN] DS|DNSKEY DATA', got {line[:60]!r}")
        try:
            owner = dns.name.from_text(tokens[0])
        except dns.exception.DNSException as exc:
            raise TrustAnchorError(f"{where}: bad owner name {tokens[0]!r} ({exc})") from None
        rest = tokens[1:]
        if rest and rest[0].isdigit():
            rest = rest[1:]
        if rest and rest[0].upper() in ("IN", "CH", "HS"):
            if rest[0].upper() != "IN":
                raise TrustAnchorError(f"{where}: only class IN can be a trust anchor")
            rest = rest[1:]
        if len(rest) < 2:
            raise TrustAnchorError(f"{where}: no record data after the owner {tokens[0]!r}")
        rtype = rest[0].upper()
        if rtype not in ("DS", "DNSKEY"):
            raise TrustAnchorError(f"{where}: record type {rest[0]!r}: a trust anchor is a DS or DNSKEY record")
        try:
            rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rtype), " ".join(rest[1:]))
        except (dns.exception.DNSException, ValueError) as exc:
            raise TrustAnchorError(f"{where}: unreadable {rtype} record ({exc})") from None
        if rtype == "DS":
            ds.append((owner, rdata))  # type: ignore[arg-type]
        else:
            keys.append((owner, rdata))  # type: ignore[arg-type]
    if not ds and not keys:
        raise TrustAnchorError(f"{source}: no DS or DNSKEY record found")
    tags = sorted({r.key_tag for _, r in ds} | {_key_tag(k) for _, k in keys})
    owners = sorted({n.to_text() for n, _ in ds} | {n.to_text() for n, _ in keys})
    label = f"{source} ({', '.join(owners)} key tag {', '.join(map(str, tags))})"
    return TrustAnchor(label, tuple(ds), tuple(keys))


def load_anchor_file(path: str | Path) -> TrustAnchor:
    """Read and parse a trust anchor file; unreadable or unparsable files raise :class:`TrustAnchorError`."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            data = fh.read(MAX_ANCHOR_FILE + 1)
    except OSError as exc:
        raise TrustAnchorError(f"trust anchor file {p}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_ANCHOR_FILE:
        raise TrustAnchorError(f"trust anchor file {p}: larger than {MAX_ANCHOR_FILE // 1024} kB, not an anchor file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise TrustAnchorError(f"trust anchor file {p}: not a text file (not UTF-8)") from None
    return parse_anchor_text(text, f"trust anchor file {p}")


def iana_root() -> TrustAnchor:
    """The built-in IANA root anchors."""
    anchor = parse_anchor_text("\n".join(IANA_ROOT_DS), "IANA root")
    return TrustAnchor("IANA root KSK 20326, 38696", anchor.ds, anchor.dnskeys)
