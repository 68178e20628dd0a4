"""Proofs of non-existence (RFC 4035 §5.4, RFC 5155 §8): which NSEC or NSEC3 record says what about a name.

Split from :mod:`auditapp.dnssec.validator` (which validates signatures and walks the chain):
matching a name against NSEC ranges and NSEC3 hashes is pure record arithmetic and changes for
other reasons (a new proof form) than the walk. The records given here are already validated.
"""

from __future__ import annotations

import base64
import warnings

import dns.exception
import dns.name
import dns.rdata
import dns.rdatatype

with warnings.catch_warnings():
    # As in validator.py: dnspython loads its DSA module with dns.dnssec and cryptography warns about
    # DSA, which RFC 8624 forbids and auditapp refuses anyway.
    warnings.filterwarnings("ignore", message=r"DSA is deprecated")
    import dns.dnssec


def _t(name: dns.name.Name) -> str:
    return name.to_text()


def _types(rdata: dns.rdata.Rdata) -> set[int]:
    found: set[int] = set()
    for window, bitmap in rdata.windows:
        for i, byte in enumerate(bitmap):
            for bit in range(8):
                if byte & (0x80 >> bit):
                    found.add(window * 256 + i * 8 + bit)
    return found



def nsec3_match(name: dns.name.Name, owner: dns.name.Name, rd: dns.rdata.Rdata) -> str:
    """"match", "cover" or "" for an NSEC3 record against ``name``."""
    try:
        hashed = dns.dnssec.nsec3_hash(name, rd.salt, rd.iterations, rd.algorithm)
        mine = base64.b32hexdecode(hashed.upper())
        start = base64.b32hexdecode(owner.labels[0].decode().upper())
    except (ValueError, dns.exception.DNSException, IndexError):
        return ""
    nxt = rd.next
    if mine == start:
        return "match"
    if start < nxt:
        return "cover" if start < mine < nxt else ""
    return "cover" if mine > start or mine < nxt else ""

def nsec_relation(name: dns.name.Name, owner: dns.name.Name, rd: dns.rdata.Rdata) -> str:
    if owner == name:
        return "match"
    nxt = rd.next
    if owner < name and (name < nxt or nxt <= owner):
        return "ent" if nxt.is_subdomain(name) and nxt != name else "cover"
    return ""

def prove(name: dns.name.Name, rdtype: int, records: list,
           zone: dns.name.Name) -> tuple[str, str, bool]:
    """(what, evidence, optout): "nodata", "nxdomain", "insecure" (a delegation without DS) or ""."""
    for owner, rd in records:  # an exact match: the name exists, the type does not
        match = nsec_relation if rd.rdtype == dns.rdatatype.NSEC else nsec3_match
        rel = match(name, owner, rd)
        if rel != "match":
            continue
        types = _types(rd)
        if rdtype in types or dns.rdatatype.CNAME in types:
            continue
        kind, missing = dns.rdatatype.to_text(rd.rdtype), dns.rdatatype.to_text(rdtype)
        ev = f"{kind} at {_t(owner)} proves {_t(name)} has no {missing}"
        if rdtype == dns.rdatatype.DS and dns.rdatatype.NS in types and dns.rdatatype.SOA not in types:
            return "insecure", ev + " (a delegation without DS)", False
        return "nodata", ev, False
    for owner, rd in records:  # NSEC: an empty non-terminal, or a name that does not exist
        if rd.rdtype != dns.rdatatype.NSEC:
            continue
        rel = nsec_relation(name, owner, rd)
        if rel == "ent":
            return "nodata", f"NSEC {_t(owner)} -> {_t(rd.next)} proves {_t(name)} is an empty non-terminal", False
        if rel == "cover":
            return "nxdomain", f"NSEC {_t(owner)} -> {_t(rd.next)} covers {_t(name)}", False
    nsec3 = [(o, rd) for o, rd in records if rd.rdtype == dns.rdatatype.NSEC3]
    closer = name  # NSEC3 (RFC 5155 §8.3): the closest encloser matches, the next closer name is covered
    while nsec3 and len(closer) > len(zone) and closer != zone:
        encloser = closer.parent()
        if any(nsec3_match(encloser, o, rd) == "match" for o, rd in nsec3):
            for owner, rd in nsec3:
                if nsec3_match(closer, owner, rd) == "cover":
                    optout = bool(rd.flags & 1)
                    return "nxdomain", (f"NSEC3 at {_t(owner)} covers {_t(closer)} below the closest encloser "
                                        f"{_t(encloser)}" + (" (opt-out)" if optout else "")), optout
            break
        closer = encloser
    return "", "", False
