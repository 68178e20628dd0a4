"""DANE lab: TLSA records computed from the mail lab's real certificates, served by a BIND of their own.

Every MX name of ``dane.test`` points at a lab Postfix (the GOOD one on 127.0.0.2 unless said
otherwise) and publishes one TLSA case at ``_25._tcp.<name>``; the records are computed here
from the PEM files tests/lab/certs.py wrote, so they match (or deliberately do not match) what
the running Postfix presents after STARTTLS:

* ``match`` 3 1 1 (SPKI SHA-256); ``sha512`` 3 1 2; ``certpin`` 3 0 1 (whole certificate);
  ``full`` 3 0 0 (full DER);
* ``mismatch`` 3 1 1 of another key (the wrongname leaf); ``rollover`` the current key plus that
  "next" key; ``issuer`` 2 0 1 of the lab CA only; ``issuer3`` 2 1 1 of the CA plus 3 1 1;
* ``pkix`` 1 1 1 only; ``pkixmix`` 0 0 1 plus 3 1 1; ``oddparams`` 3 1 1 plus 3 2 1 (no selector 2);
  ``malformed`` 3 1 1 plus a 3 1 2 of 32 bytes;
* ``notlsa`` and ``unsigned`` without TLSA; ``insecure``, ``bogus``, ``unvalidated`` 3 1 1 (what
  differs is the hand-made DNSSEC status); ``notls`` 3 1 1 on the BAD Postfix (no STARTTLS).

``shared.test`` is served again with only ``2 0 1`` of the lab CA at its MX, whose name the GOOD
leaf carries (DANE-TA needs the MX name on the leaf). ``svc.test`` is served again with a TLSA
record that does not match its MX: its MTA-STS policy (enforce, ``mx: mx.svc.test``, from the
lab's HTTPS server) then covers a mismatching host.

The DNSSEC validator is another collector; these tests give the checks its facts by hand
(:func:`dnssec_facts`), which the contract in auditapp/collectors/dnssec_types.py allows.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from auditapp.collectors.dane_collect import collect_tlsa, tlsa_name
from auditapp.collectors.discovery import discover_hosts
from auditapp.collectors.dnssec_types import DnssecFacts, NameSecurity, Security
from auditapp.collectors.facts import Facts
from auditapp.collectors.mta_sts import fetch_policy
from auditapp.collectors.services import collect_services
from auditapp.core.target import DEFAULT_PORTS, AuditTarget
from auditapp.dnsclient import DnsClient, Nameserver

ZONE_DIR = Path(__file__).resolve().parent / "zones"
DOMAIN = "dane.test"
GOOD, BAD = "127.0.0.2", "127.0.0.4"


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def spki(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class DaneCerts:
    """The certificates the records are computed from (the GOOD Postfix's leaf, another key, the CA)."""

    good: x509.Certificate
    other: x509.Certificate
    ca: x509.Certificate

    @property
    def record_311(self) -> str:
        return f"3 1 1 {sha256(spki(self.good))}"


def certs_of(lab: Any) -> DaneCerts:
    return DaneCerts(load_cert(lab.certs.good.cert), load_cert(lab.certs.wrongname.cert), load_cert(lab.certs.ca))


def cases(c: DaneCerts) -> dict[str, tuple[str, list[str]]]:
    """MX name (first label) -> (address, TLSA records)."""
    good311 = c.record_311
    other311 = f"3 1 1 {sha256(spki(c.other))}"
    full_hex = der(c.good).hex()
    chunks = " ".join(full_hex[i:i + 64] for i in range(0, len(full_hex), 64))
    return {
        "match": (GOOD, [good311]),
        "sha512": (GOOD, [f"3 1 2 {hashlib.sha512(spki(c.good)).hexdigest()}"]),
        "certpin": (GOOD, [f"3 0 1 {sha256(der(c.good))}"]),
        "full": (GOOD, [f"3 0 0 ( {chunks} )"]),
        "mismatch": (GOOD, [other311]),
        "rollover": (GOOD, [good311, other311]),
        "issuer": (GOOD, [f"2 0 1 {sha256(der(c.ca))}"]),
        "issuer3": (GOOD, [f"2 1 1 {sha256(spki(c.ca))}", good311]),
        "pkix": (GOOD, [f"1 1 1 {sha256(spki(c.good))}"]),
        "pkixmix": (GOOD, [f"0 0 1 {sha256(der(c.ca))}", good311]),
        "oddparams": (GOOD, [good311, f"3 2 1 {sha256(spki(c.good))}"]),
        "malformed": (GOOD, [good311, f"3 1 2 {sha256(spki(c.good))}"]),
        "notlsa": (GOOD, []),
        "unsigned": (GOOD, []),
        "insecure": (GOOD, [good311]),
        "bogus": (GOOD, [good311]),
        "unvalidated": (GOOD, [good311]),
        "notls": (BAD, [good311]),
    }


def mx(label: str) -> str:
    return f"{label}.{DOMAIN}"


def dane_zone(c: DaneCerts) -> str:
    lines = ["$TTL 300", f"@ IN SOA ns1.{DOMAIN}. hostmaster.{DOMAIN}. ( 2026120601 3600 600 86400 300 )",
             f"  IN NS ns1.{DOMAIN}.", "ns1 IN A 127.0.0.1", "@ IN MX 10 match"]
    for label, (address, records) in cases(c).items():
        lines.append(f"{label} IN A {address}")
        lines += [f"_25._tcp.{label} IN TLSA {r}" for r in records]
    return "\n".join(lines) + "\n"


def svc_zone(c: DaneCerts) -> str:
    """svc.test as the shared lab serves it, plus a TLSA record of another key at its MX."""
    text = (ZONE_DIR / "svc.test.zone").read_text()
    return text + f"_25._tcp.mx IN TLSA 3 1 1 {sha256(spki(c.other))}\n"


def shared_zone(c: DaneCerts) -> str:
    """shared.test (its MX name is on the GOOD leaf) with only a DANE-TA record of the lab CA."""
    text = (ZONE_DIR / "shared.test.zone").read_text()
    return text + f"_25._tcp.mx IN TLSA 2 0 1 {sha256(der(c.ca))}\n"


def write_zones(directory: Path, c: DaneCerts) -> list[tuple[str, Path]]:
    directory.mkdir(parents=True, exist_ok=True)
    pairs = []
    for origin, text in ((DOMAIN, dane_zone(c)), ("svc.test", svc_zone(c)), ("shared.test", shared_zone(c))):
        path = directory / f"{origin}.zone"
        path.write_text(text)
        pairs.append((origin, path))
    return pairs


# -- DNSSEC as the validator would report it ---------------------------------------------------

#: The DNSSEC status of each name's TLSA RRset (secure unless listed).
SECURITY = {"insecure": Security.INSECURE, "bogus": Security.BOGUS, "unvalidated": Security.NOT_TESTED,
            "unsigned": Security.INSECURE}


def dnssec_facts(names: list[str], overrides: dict[str, Security] | None = None) -> DnssecFacts:
    """What the validator would say about each ``_25._tcp.<name>``/TLSA (built by hand, plain data)."""
    out: dict[tuple[str, str], NameSecurity] = {}
    for name in names:
        security = (overrides or {}).get(name, SECURITY.get(name.split(".")[0], Security.SECURE))
        reason = {Security.BOGUS: "RRSIG of _25._tcp.bogus.dane.test/TLSA expired 2026-11-30",
                  Security.NOT_TESTED: "SERVFAIL from the resolver"}.get(security, "")
        owner = tlsa_name(name)
        out[(owner, "TLSA")] = NameSecurity(owner, "TLSA", security, reason=reason, zone=DOMAIN,
                                            algorithms=(13,),
                                            insecure_at=DOMAIN if security is Security.INSECURE else "")
    return DnssecFacts(anchor="lab trust anchor (by hand)", method="built by hand for the DANE tests", names=out)


# -- collecting the real facts -------------------------------------------------------------------

def target_for(lab: Any, domain: str, mx_hosts: tuple[str, ...] = ()) -> AuditTarget:
    ports = {**DEFAULT_PORTS, **lab.ports, "https": lab.mtasts_port}
    return AuditTarget(domain=domain, mx_hosts=mx_hosts, dkim_selectors=(), dnsbl_zones=(), ports=ports,
                       ca_file=str(lab.ca_file))


async def _collect(dns: DnsClient, target: AuditTarget, timeout: float) -> Facts:
    disc = await discover_hosts(dns, target, timeout)
    services, tlsa = await asyncio.gather(collect_services(disc, target, timeout), collect_tlsa(dns, target))
    txt = await dns.query(f"_mta-sts.{target.domain}", "TXT")
    policy = (await fetch_policy(dns, target.domain, target.ports["https"], timeout, target.ca_file)
              if any(t.startswith("v=STSv1") for t in txt.texts) else None)
    facts = Facts(discovery=disc, services=services, tlsa=tlsa, mta_sts_policy=policy)
    facts.done.update(("discovery", "services", "tlsa", "mta_sts_policy", "dnssec", "tls_scan"))
    return facts


def collect(bind_port: int, target: AuditTarget, timeout: float = 3.0) -> Facts:
    """Discovery, the port probes, the TLSA answers and the MTA-STS policy, from the real servers."""
    dns = DnsClient([Nameserver("127.0.0.1", bind_port)], timeout=timeout)
    return asyncio.run(_collect(dns, target, timeout))


def tls_scan(address: str, port: int, chain: tuple[bytes, ...]) -> dict[tuple[str, int], Any]:
    """The shape of the sslyze scan's fact the checks read (``certificate_chain``: DER, leaf first)."""
    return {(address, port): SimpleNamespace(certificate_chain=chain)}


# -- a signed tree: DNSSEC validated for real by the dnssec collector ----------------------------

SIGNED_TLD = "daneseclab"


def signed_children(c: DaneCerts) -> dict[str, tuple[str, bool]]:
    """Child zones of ``daneseclab.``: body, and whether the zone is signed (with a DS at the TLD)."""
    good311 = c.record_311
    other311 = f"3 1 1 {sha256(spki(c.other))}"

    def body(records: list[str]) -> str:
        return "@ IN MX 10 mx\nmx IN A 127.0.0.2\n" + "".join(f"_25._tcp.mx IN TLSA {r}\n" for r in records)

    return {
        "good": (body([good311]), True),  # signed, matching: every DANE rule passes
        "bad": (body([other311]), True),  # signed, not matching: DANE-MISMATCH high
        "none": (body([]), True),  # signed, no TLSA (NSEC proves it): DANE-MISSING missing_signed
        "plain": (body([good311]), False),  # unsigned with TLSA: DANE-INSECURE-TLSA insecure
    }


def start_signed_lab(root: Path, c: DaneCerts) -> tuple[Any, Path]:
    """Sign the tree with the DNSSEC lab's tools (dnssec-keygen/-signzone) and serve it; (server, anchor file).

    Root ``.`` -> ``daneseclab.`` -> the children of :func:`signed_children`, all in one named; the
    root's KSK is the trust anchor the audit is given (``AuditTarget.trust_anchor``).
    """
    from lab.bind import BindServer
    from lab.dnssec_lab import Signed, _sign

    work = root / "signed"
    work.mkdir(parents=True, exist_ok=True)
    zones: list[tuple[str, Path]] = []
    tld_body = _soa(SIGNED_TLD) + "ns IN A 127.0.0.1\n"
    for label, (records, signed) in signed_children(c).items():
        origin = f"{label}.{SIGNED_TLD}"
        text = _soa(origin) + records
        tld_body += f"{label} IN NS ns.{SIGNED_TLD}.\n"
        if signed:
            path, ds, _ = _sign(work, origin + ".", text, Signed())
            tld_body += ds
        else:
            path = work / f"{origin}.zone"
            path.write_text(text, "utf-8")
        zones.append((origin, path))
    tld_path, tld_ds, _ = _sign(work, f"{SIGNED_TLD}.", tld_body, Signed())
    zones.append((SIGNED_TLD, tld_path))
    root_body = _soa(".") + f"{SIGNED_TLD}. IN NS ns.{SIGNED_TLD}.\nns.{SIGNED_TLD}. IN A 127.0.0.1\n" + tld_ds
    root_path, _, root_key = _sign(work, ".", root_body, Signed())
    zones.append((".", root_path))
    anchor = root / "lab-root.key"
    anchor.write_text(root_key, "utf-8")
    server = BindServer(root / "named")
    server.start(zones)
    return server, anchor


def _soa(origin: str) -> str:
    origin = origin.rstrip(".") + "."
    return (f"$TTL 300\n$ORIGIN {origin}\n@ IN SOA ns.{SIGNED_TLD}. hostmaster.{SIGNED_TLD}. "
            f"( 1 3600 600 86400 300 )\n@ IN NS ns.{SIGNED_TLD}.\n")
