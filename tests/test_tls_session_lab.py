"""Client-initiated renegotiation and 0-RTT against real servers (issue 16, internet.nl parity).

Both need a finished handshake (collectors/tls_session.py). Postfix is the MX and submission
server: the weak lab Postfix allows client renegotiation (``tls_ssl_options = 0x100``), the BSI one
refuses it, as OpenSSL 3 does by default; neither offers 0-RTT, which no Postfix can. OpenSSL's own
``s_server`` is the real server that accepts early data, and with one suite family at a time it
shows that the TLS 1.2 client finishes every handshake it claims to (the server's Finished is
verified, so a wrong PRF, key block or record layer cannot pass). A server that goes silent after
the handshake gives ``not_tested``, never a pass.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
from pathlib import Path

import pytest
from lab.mailservers import PORTS
from lab.tls_lab import TLS_LAB_ADDRESSES, OpensslServer, TlsResponder, make_cert, tls13_only_context

from auditapp.catalog import catalog
from auditapp.catalog.wording import render_finding
from auditapp.checks import registered
from auditapp.checks.registry import run_check
from auditapp.collectors.facts import Facts
from auditapp.collectors.probes import probe_endpoint
from auditapp.collectors.service_facts import DiscoveredHost, Discovery, EndpointProbe, PortState, Role, TlsInfo
from auditapp.collectors.tls12_client import SUITES, Session
from auditapp.collectors.tls_connection import Endpoint, opened
from auditapp.collectors.tls_scan import TlsScan, scan_endpoint
from auditapp.collectors.tls_session import early_data_size
from auditapp.core.model import Finding, Status
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsAnswer, Outcome

RULES = ("TLS-CLIENT-RENEGOTIATION", "TLS-ZERO-RTT")
SMTP, SMTPS = PORTS["smtp"], PORTS["submissions"]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    d = tmp_path_factory.mktemp("session-certs")
    return {"rsa": make_cert(d, "rsa", "s.tls.test"), "ec": make_cert(d, "ec", "s.tls.test", key="P-256")}


def _scan(address: str, port: int, service: str, timeout: float = 3.0) -> TlsScan:
    return asyncio.run(scan_endpoint(address, port, service, sni="mx.tls.test", timeout=timeout))


def _judge(address: str, probes: list[EndpointProbe], scans: dict[tuple[str, int], TlsScan]
           ) -> dict[tuple[str, int], Finding]:
    a = DnsAnswer("mx.tls.test", "A", Outcome.OK, records=(address,))
    host = DiscoveredHost("mx.tls.test", (Role.MX, Role.SUBMISSION, Role.MAILBOX), ("--mx",), a=a, typed=True)
    facts = Facts(discovery=Discovery("tls.test", (host,)),
                  services={(p.address, p.port, p.service): p for p in probes}, tls_scan=scans)
    facts.done.update(("discovery", "services", "tls_scan"))
    out = {}
    for rule in RULES:
        for f in run_check(registered()[rule], catalog(), facts, AuditTarget(domain="tls.test", dnsbl_zones=())):
            assert f.status is not Status.ERROR, f
            out[(rule, int(f.subject.rsplit(":", 1)[1]))] = f
    return out


def _handmade(address: str, port: int, service: str) -> EndpointProbe:
    return EndpointProbe(address, port, service, PortState.OPEN, tls=TlsInfo(ok=True, legacy_tested=True))


def _probe(address: str, port: int, service: str) -> EndpointProbe:
    return asyncio.run(probe_endpoint(address, port, service, sni="mx.tls.test", timeout=3.0))


# -- Postfix ------------------------------------------------------------------------------------------


@pytest.mark.lab
def test_the_weak_postfix_allows_client_renegotiation_and_the_bsi_one_refuses(tls_lab) -> None:
    for name, allowed in (("weak", True), ("bsi", False)):
        ip = TLS_LAB_ADDRESSES[name]
        scans = {(ip, p): _scan(ip, p, s) for p, s in ((SMTP, "smtp"), (SMTPS, "submissions"))}
        for scan in scans.values():
            assert scan.client_renegotiation is allowed, (name, scan.renegotiation_detail)
            # Postfix sends TLS 1.3 session tickets, none with early_data.
            assert scan.zero_rtt is False and "without early_data" in scan.zero_rtt_detail, scan.zero_rtt_detail
        found = _judge(ip, [_probe(ip, SMTP, "smtp"), _probe(ip, SMTPS, "submissions")], scans)
        for port in (SMTP, SMTPS):
            reneg = found[("TLS-CLIENT-RENEGOTIATION", port)]
            assert reneg.status is (Status.FAIL if allowed else Status.PASS), reneg
            assert found[("TLS-ZERO-RTT", port)].status is Status.PASS
            if allowed:
                assert reneg.outcome == "allowed" and reneg.severity.value == "info"
                assert any("allowed (the server answered with a ServerHello)" in e for e in reneg.evidence)
            else:
                assert any("refused (no_renegotiation)" in e for e in reneg.evidence), reneg.evidence


# -- OpenSSL's s_server -------------------------------------------------------------------------------


def test_a_server_that_accepts_early_data_fails_0rtt_by_role(certs) -> None:
    with OpensslServer(certs["rsa"], "-early_data") as s:
        scans = {(s.host, s.port): _scan(s.host, s.port, "submissions")}
        client = _judge(s.host, [_handmade(s.host, s.port, "submissions")], scans)
    scan = scans[(s.host, s.port)]
    assert scan.zero_rtt is True and scan.max_early_data > 0, scan.zero_rtt_detail
    f = client[("TLS-ZERO-RTT", s.port)]
    assert f.status is Status.FAIL and f.outcome == "accepted_client" and f.severity.value == "medium"
    assert f"{scan.max_early_data} bytes of early data" in render_finding(f, "en")["detail"]
    assert f"{scan.max_early_data} Byte frühe Daten" in render_finding(f, "de")["detail"]
    with OpensslServer(certs["rsa"], "-early_data") as s:
        mx = _judge(s.host, [_handmade(s.host, s.port, "smtp")], {(s.host, s.port): _scan(s.host, s.port, "smtps")})
    # Port 25 with implicit TLS is not a real MX, but the role decides the weight: lower on port 25.
    assert mx[("TLS-ZERO-RTT", s.port)].outcome == "accepted_mx"
    assert mx[("TLS-ZERO-RTT", s.port)].severity < f.severity


def test_without_early_data_the_same_server_passes_and_without_tls13_it_is_not_applicable(certs) -> None:
    with OpensslServer(certs["rsa"]) as plain, OpensslServer(certs["rsa"], "-no_tls1_3") as old:
        scans = {(plain.host, plain.port): _scan(plain.host, plain.port, "submissions"),
                 (old.host, old.port): _scan(old.host, old.port, "submissions")}
        found = _judge(plain.host, [_handmade(plain.host, plain.port, "submissions"),
                                    _handmade(old.host, old.port, "submissions")], scans)
    assert found[("TLS-ZERO-RTT", plain.port)].status is Status.PASS
    assert found[("TLS-ZERO-RTT", old.port)].status is Status.NOT_APPLICABLE
    assert found[("TLS-ZERO-RTT", old.port)].outcome == "no_tls13"
    # OpenSSL 3's default: client-initiated renegotiation refused, with the no_renegotiation alert.
    for port in (plain.port, old.port):
        assert found[("TLS-CLIENT-RENEGOTIATION", port)].status is Status.PASS


#: One suite family per server: every key exchange and record protection the TLS 1.2 client speaks.
FAMILIES = {
    "ECDHE-RSA-AES128-GCM-SHA256": ("rsa", "ECDHE-RSA-AES128-GCM-SHA256", ""),
    "ECDHE-RSA-CHACHA20-POLY1305": ("rsa", "ECDHE-RSA-CHACHA20-POLY1305", ""),
    "ECDHE-RSA-AES256-SHA384 on P-384": ("rsa", "ECDHE-RSA-AES256-SHA384", "P-384"),
    "ECDHE-RSA-AES128-SHA on P-521": ("rsa", "ECDHE-RSA-AES128-SHA", "P-521"),
    "ECDHE-ECDSA-AES256-GCM-SHA384": ("ec", "ECDHE-ECDSA-AES256-GCM-SHA384", ""),
    "DHE-RSA-AES256-GCM-SHA384": ("rsa", "DHE-RSA-AES256-GCM-SHA384", ""),
    "DHE-RSA-CHACHA20-POLY1305": ("rsa", "DHE-RSA-CHACHA20-POLY1305", ""),
    "AES256-SHA256 (RSA key exchange)": ("rsa", "AES256-SHA256", ""),
    "AES128-SHA (RSA key exchange)": ("rsa", "AES128-SHA", ""),
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_the_tls12_client_finishes_a_handshake_with_every_suite_family(certs, family: str) -> None:
    key, cipher, groups = FAMILIES[family]
    args = ["-no_tls1_3", "-client_renegotiation", "-cipher", f"{cipher}:@SECLEVEL=0"]
    if groups:
        args += ["-groups", groups]
    with OpensslServer(certs[key], *args) as s:  # type: ignore[arg-type]
        async def handshake() -> int:
            ep = Endpoint(s.host, s.port, "submissions", "s.tls.test", 3.0)
            reader, writer, _ = await opened(ep)
            try:
                session = Session(reader, writer, 3.0)
                await session.handshake("s.tls.test")  # raises unless the server's Finished verifies
                return session.suite_code
            finally:
                writer.close()

        code = asyncio.run(handshake())
        assert code in SUITES
        scan = _scan(s.host, s.port, "submissions")
    # -client_renegotiation: every family renegotiates, so the whole dialogue ran on each.
    assert scan.client_renegotiation is True, (family, scan.renegotiation_detail)


# -- what is not a verdict ----------------------------------------------------------------------------


def test_silence_after_the_renegotiation_hello_is_not_tested(tmp_path: Path) -> None:
    pair = make_cert(tmp_path, "quiet", "quiet.tls.test")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(pair.cert, pair.key)
    with TlsResponder(ctx, silent=True) as r:
        scan = _scan(r.host, r.port, "submissions", timeout=1.0)
        found = _judge(r.host, [_handmade(r.host, r.port, "submissions")], {(r.host, r.port): scan})
    assert scan.client_renegotiation is None and "no answer" in scan.renegotiation_detail
    assert found[("TLS-CLIENT-RENEGOTIATION", r.port)].status is Status.NOT_TESTED


def test_a_tls13_only_server_has_no_renegotiation_to_test(tmp_path: Path) -> None:
    with TlsResponder(tls13_only_context(tmp_path)) as r:
        scan = _scan(r.host, r.port, "imaps")
        found = _judge(r.host, [_handmade(r.host, r.port, "imaps")], {(r.host, r.port): scan})
    assert found[("TLS-CLIENT-RENEGOTIATION", r.port)].outcome == "tls13_only"
    assert found[("TLS-ZERO-RTT", r.port)].status in (Status.PASS, Status.NOT_TESTED)


def test_a_scan_that_could_not_connect_is_not_tested_for_both() -> None:
    scan = TlsScan(address="127.0.0.83", port=9, service="imaps", error="connection refused")
    found = _judge("127.0.0.83", [_handmade("127.0.0.83", 9, "imaps")], {("127.0.0.83", 9): scan})
    for rule in RULES:
        assert found[(rule, 9)].status is Status.NOT_TESTED, found[(rule, 9)]


def _ticket(extensions: bytes) -> bytes:
    body = struct.pack("!II", 7200, 1) + b"\x08" + b"n" * 8 + struct.pack("!H", 4) + b"tick"
    body += struct.pack("!H", len(extensions)) + extensions
    return b"\x04" + len(body).to_bytes(3, "big") + body


def test_the_ticket_parser_reads_early_data_and_refuses_garbage() -> None:
    assert early_data_size(_ticket(b"")) is None
    assert early_data_size(_ticket(struct.pack("!HHI", 0x002A, 4, 16384))) == 16384
    assert early_data_size(_ticket(struct.pack("!HH", 0x1234, 2) + b"xx" + struct.pack("!HHI", 0x002A, 4, 1))) == 1
    with pytest.raises((IndexError, struct.error)):
        early_data_size(b"\x04\x00\x00\x03abc")
