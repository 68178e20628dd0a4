"""A signed DNS tree on loopback for the DNSSEC tests: a lab root, a TLD and zones broken on purpose.

One BIND 9 (:class:`lab.bind.BindServer`) serves every zone authoritatively; named answers a DS
question from the parent zone it also serves, so a stub asking it walks the chain as through a
resolver. Keys are made fresh per run with ``dnssec-keygen`` and zones are signed with
``dnssec-signzone`` (Debian package bind9-utils), so nothing secret or dated lives in the repo.
The lab root's KSK is the trust anchor of the tests (:attr:`DnssecLab.anchor_file`, the
``.key`` file as dnssec-keygen writes it: comment lines and one DNSKEY record).

The tree (TLD ``seclab.``, no clash with tests/lab/zones):

==================  =========================================================================
zone                what it is
==================  =========================================================================
``.``               lab root, ECDSAP256SHA256 (13), DS for seclab.
``seclab.``         signed TLD with the DS of every signed child below, NSEC
``signed.seclab``   good: signed (13); MX, _dmarc, _mta-sts, _smtp._tls, mx A, _25._tcp.mx TLSA
``unsigned.seclab`` insecure delegation: unsigned, no DS at seclab. (NSEC proves it)
``mixed.seclab``    signed domain whose MX host lives in unsigned.seclab
``expired.seclab``  bogus: every RRSIG expired (signed with -s/-e in the past)
``wrongds.seclab``  bogus: the DS at seclab. is of a key the zone does not publish
``sha1.seclab``     algorithm 5 (RSASHA1), 1024-bit keys: secure but weak
``rsa1024.seclab``  algorithm 8 (RSASHA256) with 1024-bit keys: secure but weak
``alg13.seclab``    second good zone for a domain whose records all exist and validate
``nsec3.seclab``    NSEC3-signed; its MX host has no TLSA; ``island.nsec3.seclab`` unsigned below
``optout.seclab``   NSEC3 with opt-out; ``island.optout.seclab`` unsigned below (no NSEC3 of its own)
==================  =========================================================================
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lab.bind import BindServer, find_tool, make_lab_root

TLD = "seclab"
TOOLS = ("dnssec-keygen", "dnssec-signzone", "dnssec-dsfromkey")
TLSA = "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


def tools_available() -> str | None:
    missing = [t for t in TOOLS if find_tool(t) is None]
    return f"{', '.join(missing)} not found (install bind9-utils)" if missing else None


def _mail_records(domain: str, mx: str) -> str:
    return f"""\
@ IN MX 10 {mx}.
@ IN TXT "v=spf1 mx -all"
_dmarc IN TXT "v=DMARC1; p=reject"
_mta-sts IN TXT "v=STSv1; id=1"
_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tls@{domain}"
"""


def _host_records(host_label: str) -> str:
    return f"""\
{host_label} IN A 127.0.0.1
_25._tcp.{host_label} IN TLSA {TLSA}
"""


def _head(origin: str) -> str:
    return f"""\
$TTL 300
$ORIGIN {origin.rstrip(".")}.
@ IN SOA ns.{TLD}. hostmaster.{TLD}. ( 1 3600 600 86400 300 )
@ IN NS ns.{TLD}.
"""


@dataclass
class Signed:
    algorithm: str = "ECDSAP256SHA256"
    bits: int = 0
    expired: bool = False
    wrong_ds: bool = False
    nsec3: bool = False
    optout: bool = False


#: Child zones of seclab.: body, and how it is signed (None: unsigned, no DS).
CHILDREN: dict[str, tuple[str, Signed | None]] = {
    "signed": (_mail_records(f"signed.{TLD}", f"mx.signed.{TLD}") + _host_records("mx"), Signed()),
    "alg13": (_mail_records(f"alg13.{TLD}", f"mx.alg13.{TLD}") + _host_records("mx"), Signed()),
    "unsigned": (_mail_records(f"unsigned.{TLD}", f"mx.unsigned.{TLD}") + _host_records("mx"), None),
    "mixed": (_mail_records(f"mixed.{TLD}", f"mx.unsigned.{TLD}"), Signed()),
    "expired": (_mail_records(f"expired.{TLD}", f"mx.expired.{TLD}") + _host_records("mx"), Signed(expired=True)),
    "wrongds": (_mail_records(f"wrongds.{TLD}", f"mx.wrongds.{TLD}") + _host_records("mx"), Signed(wrong_ds=True)),
    "sha1": (_mail_records(f"sha1.{TLD}", f"mx.sha1.{TLD}") + _host_records("mx"), Signed("RSASHA1", 1024)),
    "rsa1024": (_mail_records(f"rsa1024.{TLD}", f"mx.rsa1024.{TLD}") + _host_records("mx"),
                Signed("RSASHA256", 1024)),
    # NSEC3 (no salt, 0 iterations): the MX host has no TLSA (NXDOMAIN below an existing name:
    # closest-encloser proof), island is an unsigned child (NSEC3 with NS, no DS).
    "nsec3": (_mail_records(f"nsec3.{TLD}", f"mx.nsec3.{TLD}") + "mx IN A 127.0.0.1\n"
              + f"island IN NS ns.{TLD}.\n", Signed(nsec3=True)),
    # NSEC3 with opt-out: the unsigned child island gets no NSEC3 of its own.
    "optout": (_mail_records(f"optout.{TLD}", f"mx.optout.{TLD}") + _host_records("mx")
               + f"island IN NS ns.{TLD}.\n", Signed(nsec3=True, optout=True)),
}

#: Unsigned zones below the children (their parents delegate to them without DS).
GRANDCHILDREN: dict[str, str] = {
    f"island.nsec3.{TLD}": _mail_records(f"island.nsec3.{TLD}", f"mx.island.nsec3.{TLD}") + _host_records("mx"),
    f"island.optout.{TLD}": _mail_records(f"island.optout.{TLD}", f"mx.island.optout.{TLD}") + _host_records("mx"),
}


def _run(cmd: list[str], cwd: Path) -> str:
    tool = find_tool(cmd[0]) or cmd[0]
    done = subprocess.run([tool, *cmd[1:]], cwd=cwd, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip()}")
    return done.stdout


def _keygen(keydir: Path, origin: str, spec: Signed, ksk: bool) -> str:
    past = _stamp(datetime.now(UTC) - timedelta(days=60))  # published and active before any inception
    cmd = ["dnssec-keygen", "-q", "-K", str(keydir), "-a", spec.algorithm, "-n", "ZONE", "-P", past, "-A", past]
    if spec.bits:
        cmd += ["-b", str(spec.bits)]
    if ksk:
        cmd += ["-f", "KSK"]
    return _run([*cmd, origin], keydir).strip()


def _stamp(t: datetime) -> str:
    return t.strftime("%Y%m%d%H%M%S")


def _sign(workdir: Path, origin: str, text: str, spec: Signed) -> tuple[Path, str, str]:
    """Sign one zone; returns the signed file, its DS records and the KSK .key file text."""
    name = origin.rstrip(".") or "root"
    keydir = workdir / "keys" / name
    keydir.mkdir(parents=True, exist_ok=True)
    ksk = _keygen(keydir, origin, spec, ksk=True)
    _keygen(keydir, origin, spec, ksk=False)
    unsigned = workdir / f"{name}.unsigned"
    unsigned.write_text(text, "utf-8")
    now = datetime.now(UTC)
    if spec.expired:
        start, end = _stamp(now - timedelta(days=40)), _stamp(now - timedelta(days=10))
    else:
        start, end = _stamp(now - timedelta(hours=1)), _stamp(now + timedelta(days=30))
    out = workdir / f"{name}.zone"
    _run(["dnssec-signzone", "-q", "-S", "-K", str(keydir), "-o", origin, "-f", str(out),
          "-s", start, "-e", end, "-d", str(workdir / "keys"),
          *(["-P"] if spec.expired else []),  # its own check would refuse the expired signatures
          *(["-3", "-", "-H", "0"] if spec.nsec3 else []), *(["-A"] if spec.optout else []),
          str(unsigned)], workdir)
    ds_key = keydir / f"{ksk}.key"
    if spec.wrong_ds:
        other = workdir / "keys" / f"{name}-unused"
        other.mkdir(exist_ok=True)
        ds_key = other / f"{_keygen(other, origin, spec, ksk=True)}.key"
    ds = _run(["dnssec-dsfromkey", "-2", str(ds_key)], workdir)
    return out, ds, (keydir / f"{ksk}.key").read_text("utf-8")


@dataclass
class DnssecLab:
    """The signed tree, served by one named; ``anchor_file`` holds the lab root's KSK."""

    root: Path = field(default_factory=make_lab_root)
    server: BindServer | None = None
    anchor_file: Path | None = None

    def start(self) -> DnssecLab:
        try:
            return self._start()
        except BaseException:
            self.stop()  # a failed signing or start leaves no named and no directory behind
            raise

    def _start(self) -> DnssecLab:
        work = self.root / "dns"
        work.mkdir(parents=True, exist_ok=True)
        zones: list[tuple[str, Path]] = []
        tld_body = _head(TLD) + "ns IN A 127.0.0.1\n"
        for label, (body, spec) in CHILDREN.items():
            origin = f"{label}.{TLD}."
            text = _head(origin.rstrip("."))
            text += body
            tld_body += f"{label} IN NS ns.{TLD}.\n"
            if spec is None:
                path = work / f"{label}.{TLD}.zone"
                path.write_text(text, "utf-8")
            else:
                path, ds, _ = _sign(work, origin, text, spec)
                tld_body += ds
            zones.append((f"{label}.{TLD}", path))
        for origin, body in GRANDCHILDREN.items():
            path = work / f"{origin}.zone"
            path.write_text(_head(origin) + body, "utf-8")
            zones.append((origin, path))
        tld_path, tld_ds, _ = _sign(work, f"{TLD}.", tld_body, Signed())
        zones.append((TLD, tld_path))
        root_body = (_head(".") + f"{TLD}. IN NS ns.{TLD}.\nns.{TLD}. IN A 127.0.0.1\n" + tld_ds)
        root_path, _, root_key = _sign(work, ".", root_body, Signed())
        zones.append((".", root_path))
        self.anchor_file = self.root / "lab-root.key"
        self.anchor_file.write_text(root_key, "utf-8")
        self.server = BindServer(self.root / "named")
        self.server.start(zones)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        shutil.rmtree(self.root, ignore_errors=True)
