"""A small authoritative DNS responder on loopback, with faults on request.

Why our own and not only BIND: ``auditapp demo`` must work offline, without root and
without system packages, and the test suite needs faults that no real server produces on
purpose (silence, garbage, truncated packets, answers that need TCP). The test suite runs
the audit against a real BIND 9 for everything else.

The responder serves a flat set of records (no zone cuts, no DNSSEC), answers every
question authoritatively and follows CNAMEs inside its own data, like a recursive resolver
would when asked by a stub. It can add latency to every answer, which is how the
benchmarks model a real network.
"""

from __future__ import annotations

import asyncio
import random
import struct
import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset
import dns.zone

from auditapp.lab.background import BackgroundServer


class Fault(StrEnum):
    """What the responder does instead of answering."""

    TIMEOUT = "timeout"  # stay silent
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TRUNCATE = "truncate"  # UDP: TC bit with no records, so the client must retry over TCP
    GARBAGE = "garbage"  # random bytes
    SHORT = "short"  # the first bytes of a valid answer, cut in the header
    CUT = "cut"  # a valid header that promises more records than the packet holds


@dataclass
class RecordSet:
    """Records by owner name; names are lower-case and without the final dot."""

    records: dict[str, list[dns.rdata.Rdata]] = field(default_factory=lambda: defaultdict(list))
    soa_owner: str = "lab.test"
    _names: set[str] = field(default_factory=set, repr=False)
    _indexed: int = field(default=-1, repr=False)

    def add(self, name: str, rdtype: str, value: str | bytes | list[str | bytes], ttl: int = 300) -> None:
        """Add one record; TXT values may be a list of strings (one record, several strings)."""
        owner = _norm(name)
        rtype = dns.rdatatype.from_text(rdtype)
        if rtype in (dns.rdatatype.TXT, dns.rdatatype.SPF):
            strings = value if isinstance(value, list) else [value]
            chunks: list[bytes] = []
            for s in strings:
                b = s.encode("latin-1", "strict") if isinstance(s, str) else s
                # A character-string holds at most 255 octets; longer values are split, as
                # zone-file tools do with long DKIM keys.
                chunks.extend([b[i : i + 255] for i in range(0, len(b), 255)] or [b""])
            rdata: dns.rdata.Rdata = dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, rtype, chunks)
        else:
            text = value if isinstance(value, str) else value.decode()
            rdata = dns.rdata.from_text(
                dns.rdataclass.IN, rtype, text, origin=dns.name.root, relativize=False
            )
        self.records[owner].append(rdata)

    @classmethod
    def from_zone_text(cls, texts: Iterable[tuple[str, str]]) -> RecordSet:
        """Load zone-file texts given as ``(origin, text)`` pairs, the format BIND reads too."""
        rs = cls()
        for origin, text in texts:
            zone = dns.zone.from_text(text, origin=origin, relativize=False, check_origin=False)
            for name, node in zone.nodes.items():
                owner = _norm(name.to_text())
                for rdataset in node.rdatasets:
                    rs.records[owner].extend(rdataset)
        return rs

    def exists(self, name: str) -> bool:
        """A name exists if it owns records or is an empty non-terminal above one.

        The set of all names and their ancestors is rebuilt only when owners were added, so a
        lab of thousands of domains answers NXDOMAIN in constant time.
        """
        if name in self.records:
            return True
        if self._indexed != len(self.records):
            self._names = {".".join(o.split(".")[i:]) for o in self.records for i in range(o.count(".") + 1)}
            self._indexed = len(self.records)
        return name in self._names

    def lookup(self, name: str, rtype: int) -> list[dns.rdata.Rdata]:
        return [r for r in self.records.get(name, ()) if r.rdtype == rtype]


@dataclass
class LabDnsServer(BackgroundServer):
    """Serves a :class:`RecordSet` on UDP and TCP, in a background thread.

    ``faults`` maps an owner name (or ``(name, type)``) to a :class:`Fault`; ``latency`` is
    added to every answer in seconds.
    """

    records: RecordSet
    host: str = "127.0.0.1"
    port: int = 0
    latency: float = 0.0
    faults: Mapping[str | tuple[str, str], Fault] = field(default_factory=dict)
    tcp: bool = True

    thread_name = "lab DNS server"

    def __post_init__(self) -> None:
        self._init_background()
        self.queries = 0
        self.log: list[tuple[str, str, str]] = []

    @property
    def address(self) -> str:
        """``host:port`` as the CLI's ``--nameserver`` takes it."""
        return f"{self.host}:{self.port}"

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self), local_addr=(self.host, self.port)
        )
        server = None
        if self.tcp:
            server = await asyncio.start_server(self._handle_tcp, self.host, self.port)
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            transport.close()
            if server:
                server.close()
                await server.wait_closed()

    # -- answering ---------------------------------------------------------------------

    def fault_for(self, qname: str, rdtype: str) -> Fault | None:
        return self.faults.get((qname, rdtype)) or self.faults.get(qname)

    def answer(self, wire: bytes, over_tcp: bool) -> bytes | None:
        """Build the reply to one query; ``None`` means stay silent."""
        try:
            return self._answer(wire, over_tcp)
        except Exception as exc:  # a lab bug must show up as SERVFAIL, not as silence
            self.log.append(("<error>", type(exc).__name__, str(exc)))
            try:
                resp = dns.message.make_response(dns.message.from_wire(wire))
                resp.set_rcode(dns.rcode.SERVFAIL)
                return resp.to_wire()
            except dns.exception.DNSException:
                return None

    def _answer(self, wire: bytes, over_tcp: bool) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        self.queries += 1
        if not query.question:
            return None
        q = query.question[0]
        qname = _norm(q.name.to_text())
        qtype = dns.rdatatype.to_text(q.rdtype)
        fault = self.fault_for(qname, qtype)
        self.log.append((qname, qtype, fault.value if fault else ""))
        resp = dns.message.make_response(query)
        resp.flags |= dns.flags.AA | dns.flags.RA
        if fault is Fault.TIMEOUT:
            return None
        if fault is Fault.SERVFAIL:
            resp.set_rcode(dns.rcode.SERVFAIL)
            return resp.to_wire()
        if fault is Fault.REFUSED:
            resp.set_rcode(dns.rcode.REFUSED)
            return resp.to_wire()
        if fault is Fault.GARBAGE:
            rnd = random.Random(zlib.crc32(qname.encode()))
            return bytes(rnd.getrandbits(8) for _ in range(40))
        self._fill(resp, qname, q.rdtype)
        if fault is Fault.SHORT:
            return resp.to_wire()[:7]
        if fault is Fault.CUT:
            wire_out = resp.to_wire()
            # keep the header (which counts the records) but drop most of the body
            return wire_out[: max(12, len(wire_out) // 2)] if resp.answer else _bump_ancount(wire_out)
        if fault is Fault.TRUNCATE and not over_tcp:
            resp.answer.clear()
            resp.authority.clear()
            resp.flags |= dns.flags.TC
            return resp.to_wire()
        limit = 65535 if over_tcp else (query.payload if query.edns >= 0 else 512)
        try:
            return resp.to_wire(max_size=limit)
        except dns.exception.TooBig:
            resp.answer.clear()
            resp.authority.clear()
            resp.flags |= dns.flags.TC
            return resp.to_wire()

    def _fill(self, resp: dns.message.Message, qname: str, rtype: int) -> None:
        owner = qname
        for _ in range(10):
            found = self.records.lookup(owner, rtype)
            if found:
                resp.answer.append(_rrset(owner, rtype, found))
                return
            cnames = self.records.lookup(owner, dns.rdatatype.CNAME)
            if cnames and rtype != dns.rdatatype.CNAME:
                resp.answer.append(_rrset(owner, dns.rdatatype.CNAME, cnames[:1]))
                owner = _norm(cnames[0].target.to_text())
                continue
            break
        if not self.records.exists(owner):
            resp.set_rcode(dns.rcode.NXDOMAIN)
        soa = dns.rdata.from_text(
            dns.rdataclass.IN, dns.rdatatype.SOA,
            f"ns.{self.records.soa_owner}. hostmaster.{self.records.soa_owner}. 1 3600 600 86400 60",
        )
        resp.authority.append(_rrset(self.records.soa_owner, dns.rdatatype.SOA, [soa]))

    async def _handle_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readexactly(2)
                (length,) = struct.unpack("!H", head)
                wire = await reader.readexactly(length)
                if self.latency:
                    await asyncio.sleep(self.latency)
                out = self.answer(wire, over_tcp=True)
                if out is None:
                    continue
                writer.write(struct.pack("!H", len(out)) + out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: LabDnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        out = self.server.answer(data, over_tcp=False)
        if out is None or self.transport is None:
            return
        if self.server.latency:
            asyncio.get_running_loop().call_later(self.server.latency, self.transport.sendto, out, addr)
        else:
            self.transport.sendto(out, addr)


def _rrset(owner: str, rtype: int, rdatas: list[dns.rdata.Rdata]) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(dns.name.from_text(owner), dns.rdataclass.IN, rtype)
    for r in rdatas:
        rrset.add(r, 300)
    return rrset


def _bump_ancount(wire: bytes) -> bytes:
    ancount = struct.unpack("!H", wire[6:8])[0] + 3
    return wire[:6] + struct.pack("!H", ancount) + wire[8:]


def _norm(name: str) -> str:
    return name.rstrip(".").lower()

