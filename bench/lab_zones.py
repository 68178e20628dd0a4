"""Generated lab domains that look like a real customer list to a mail audit.

Why generated and not copied from the demo: a benchmark needs hundreds of domains whose DNS
has the *shape* that makes audits slow in real life, namely

* SPF trees with 2-3 include levels: a shared mail-provider include (``_spf.mailhostK``,
  itself including netblock records, up to three levels deep for provider 0) next to a
  per-domain include (``_spf.<domain>``) with an ``a:`` term, and ``mx`` in the root record,
  so check_host needs MX, then the addresses of the exchanges;
* MX hosts with forward records, DMARC (some ``p=none``, some missing, some domains one
  label below their organisational domain so the DMARC tree walk has two levels), a DKIM key
  at one of the common selectors (so the audit finds it without being told), MTA-STS and
  TLS-RPT for a third of the domains, a few domains without SPF;
* three sending IPs per domain in 198.18.0.0/15 (RFC 2544, benchmarking), each with a PTR
  record whose name has a forward A record, and a DNSBL zone that lists some of them.

Everything is deterministic in the domain index, so a server process and a client process
generate the same data independently. Run as a module to serve the data on a port::

    python -m bench.lab_zones serve --domains 1000 --latency 0.02 --port 53

It prints ``ready HOST:PORT``, answers ``stats`` on stdin with the number of queries seen,
and stops on ``quit`` or end of input (so it cannot outlive its parent).
"""

from __future__ import annotations

import argparse
import base64
import random
import sys
from collections import defaultdict
from dataclasses import dataclass

from auditapp.lab.dnsserver import LabDnsServer, RecordSet

PROVIDERS = 3
DNSBL_ZONE = "dnsbl.bench.example"
DNSBL_ZONE2 = "bl.bench.example"
#: One of the selectors auditapp tries by itself (core.target.COMMON_DKIM_SELECTORS).
SELECTORS = ("selector1", "google", "default", "s1")


@dataclass(frozen=True)
class LabDomain:
    """What the generator put into DNS for domain number ``index``."""

    index: int
    domain: str
    org: str
    provider: str
    selector: str
    ips: tuple[str, ...]
    has_spf: bool
    has_dmarc: bool
    has_mta_sts: bool
    listed_ip: str | None

    @property
    def helo(self) -> str:
        """The HELO name of the first sending server (has forward records and a PTR)."""
        return f"out0.{self.domain}"


def sending_ip(index: int, n: int) -> str:
    value = 3 * index + n
    return f"198.18.{value // 250}.{value % 250 + 1}"


def domain_info(index: int) -> LabDomain:
    org = f"brand{index:05d}.example" if index % 4 == 1 else f"shop{index:05d}.example"
    domain = f"news.{org}" if index % 4 == 1 else org
    ips = tuple(sending_ip(index, n) for n in range(3))
    return LabDomain(
        index=index,
        domain=domain,
        org=org,
        provider=f"mailhost{index % PROVIDERS}.example",
        selector=SELECTORS[index % len(SELECTORS)],
        ips=ips,
        has_spf=index % 13 != 7,
        has_dmarc=index % 7 != 3,
        has_mta_sts=index % 3 == 0,
        listed_ip=ips[2] if index % 10 == 9 else None,
    )


def domains(n: int) -> list[LabDomain]:
    return [domain_info(i) for i in range(n)]


def dkim_key(seed: int, bits: int = 2048) -> str:
    """A structurally valid RSA SubjectPublicKeyInfo (base64 DER) with a pseudo-random modulus.

    Nobody verifies a signature with it; the audit only reads the modulus length, and a real
    key generation per domain would cost seconds for nothing.
    """
    rnd = random.Random(seed)
    modulus = rnd.getrandbits(bits) | (1 << (bits - 1)) | 1
    n_bytes = b"\x00" + modulus.to_bytes(bits // 8, "big")  # leading zero: a positive INTEGER

    def tlv(tag: int, body: bytes) -> bytes:
        if len(body) < 0x80:
            return bytes([tag, len(body)]) + body
        size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
        return bytes([tag, 0x80 | len(size)]) + size + body

    rsa_key = tlv(0x30, tlv(0x02, n_bytes) + tlv(0x02, b"\x01\x00\x01"))
    algorithm = tlv(0x30, tlv(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    return base64.b64encode(tlv(0x30, algorithm + tlv(0x03, b"\x00" + rsa_key))).decode("ascii")


def _head(ns: str) -> str:
    return f"$TTL 300\n@ IN SOA {ns}. hostmaster.{ns}. 1 3600 600 86400 300\n  IN NS {ns}.\n"


def _txt(text: str) -> str:
    """A TXT rdata in zone-file syntax, split into 255-octet strings like zone tools do."""
    parts = [text[i:i + 255] for i in range(0, len(text), 255)] or [""]
    return "( " + " ".join(f'"{p}"' for p in parts) + " )"


def _provider_zone(k: int) -> tuple[str, str]:
    origin = f"mailhost{k}.example"
    body = f"ns1 IN A 192.0.2.{53 + k}\nmx IN A 192.0.2.{60 + k}\n"
    if k == 0:  # three include levels below the customer's record
        body += (f'_spf IN TXT "v=spf1 include:_nb1.{origin} include:_nb2.{origin} ~all"\n'
                 '_nb1 IN TXT "v=spf1 ip4:203.0.113.0/25 ip4:192.0.2.128/25 ~all"\n'
                 f'_nb2 IN TXT "v=spf1 ip6:2001:db8:100::/48 include:_nb3.{origin} ~all"\n'
                 '_nb3 IN TXT "v=spf1 ip4:198.51.100.0/25 ~all"\n')
    elif k == 1:
        body += (f'_spf IN TXT "v=spf1 include:_nb1.{origin} ~all"\n'
                 '_nb1 IN TXT "v=spf1 ip4:203.0.113.128/25 ~all"\n')
    else:
        body += (f'_spf IN TXT "v=spf1 ip4:198.51.100.128/25 a:smtp-out.{origin} ~all"\n'
                 "smtp-out IN A 192.0.2.70\n")
    return origin, _head(f"ns1.{origin}") + body


def _domain_zone(d: LabDomain) -> tuple[str, str]:
    rel = "@" if d.domain == d.org else d.domain.removesuffix("." + d.org)
    sub = "" if rel == "@" else "." + rel  # suffix for names below the audited domain
    lines = [
        f"{rel} IN MX 10 mx1{sub}",
        f"{rel} IN MX 20 mx2{sub}",
        f"mx1{sub} IN A {d.ips[0]}",
        f"mx2{sub} IN A {d.ips[1]}",
        f"relay{sub} IN A {d.ips[2]}",
        *(f"out{n}{sub} IN A {ip}" for n, ip in enumerate(d.ips)),
        f"{d.selector}._domainkey{sub} IN TXT {_txt('v=DKIM1; k=rsa; p=' + dkim_key(d.index))}",
    ]
    if d.has_spf:
        lines.append(f'{rel} IN TXT "v=spf1 mx include:_spf.{d.domain} include:_spf.{d.provider} -all"')
        lines.append(f'_spf{sub} IN TXT "v=spf1 ip4:{d.ips[2]} a:relay.{d.domain} ~all"')
    lines.append(f'{rel} IN TXT "google-site-verification=bench{d.index:05d}"')
    if d.has_dmarc:  # published at the organisational domain: the tree walk finds it
        policy = "none" if d.index % 5 == 2 else "quarantine"
        lines.append(f'_dmarc IN TXT "v=DMARC1; p={policy}; rua=mailto:dmarc-reports@{d.org}"')
    if d.has_mta_sts:
        lines.append(f'_mta-sts{sub} IN TXT "v=STSv1; id=20260101T{d.index:06d}"')
        lines.append(f'_smtp._tls{sub} IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@{d.org}"')
    return d.org, _head(f"ns1.{d.provider}") + "\n".join(lines) + "\n"


def zone_texts(n: int) -> list[tuple[str, str]]:
    """Zone files, as ``(origin, text)`` pairs, for ``n`` domains and everything they point at."""
    zones = [_provider_zone(k) for k in range(PROVIDERS)]
    reverse: dict[str, list[str]] = defaultdict(list)
    listed: list[str] = []
    for d in domains(n):
        zones.append(_domain_zone(d))
        for k, ip in enumerate(d.ips):
            a, b, c, last = ip.split(".")
            reverse[f"{c}.{b}.{a}.in-addr.arpa"].append(f"{last} IN PTR out{k}.{d.domain}.")
        if d.listed_ip:
            rev = ".".join(reversed(d.listed_ip.split(".")))
            listed.append(f"{rev} IN A 127.0.0.2\n{rev} IN TXT \"listed in the bench blocklist\"")
    for origin, lines in reverse.items():
        zones.append((origin, _head("ns1.mailhost0.example") + "\n".join(lines) + "\n"))
    zones.append((DNSBL_ZONE, _head("ns1.mailhost0.example") + "\n".join(listed) + "\n"))
    zones.append((DNSBL_ZONE2, _head("ns1.mailhost0.example")))
    return zones


def record_set(n: int) -> RecordSet:
    return RecordSet.from_zone_text(zone_texts(n))


def serve(argv: list[str]) -> int:
    """The server process of the batch benchmark (see module doc)."""
    p = argparse.ArgumentParser(prog="python -m bench.lab_zones serve")
    p.add_argument("--domains", type=int, default=1000)
    p.add_argument("--latency", type=float, default=0.02)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args(argv)
    if not args.host.startswith("127."):
        raise SystemExit("loopback only")
    server = LabDnsServer(record_set(args.domains), host=args.host, port=args.port, latency=args.latency)
    server.start()
    server.log = _NoLog()  # the log would grow by one tuple per query for nothing
    print(f"ready {server.host}:{server.port}", flush=True)
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "stats":
                print(f"queries {server.queries}", flush=True)
            elif command == "quit":
                break
    finally:
        server.stop()
    return 0


class _NoLog(list):  # type: ignore[type-arg]
    def append(self, _item: object) -> None:
        pass


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        raise SystemExit(serve(sys.argv[2:]))
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    for origin, text in zone_texts(count):
        print(f"; ---- {origin}\n{text}")
