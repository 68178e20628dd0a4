"""The TLS scan against real servers (issue 16): a weak and a BSI-conform Postfix, SSLv3, a tarpit.

Every new rule passes on one server and fails on another; the scan's facts come from real
handshakes (tests/lab/tls_lab.py), the verdicts from the pure checks over them, exactly as the
engine runs them. A scan that runs out of time is ``not_tested``, never a verdict.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path

import pytest
from lab.mailservers import PORTS
from lab.tls_lab import (
    TLS_LAB_ADDRESSES,
    HelloResponder,
    Ssl3Responder,
    Tarpit,
    TlsResponder,
    broken_context,
    tls13_only_context,
)

from auditapp.catalog import catalog
from auditapp.checks import registered
from auditapp.checks.registry import run_check
from auditapp.collectors.facts import Facts
from auditapp.collectors.probes import probe_endpoint
from auditapp.collectors.service_facts import DiscoveredHost, Discovery, EndpointProbe, PortState, Role, TlsInfo
from auditapp.collectors.tls_scan import TlsScan, scan_endpoint, scan_endpoints
from auditapp.collectors.tls_wire import client_hello
from auditapp.core.model import Finding, Status
from auditapp.core.target import AuditTarget
from auditapp.data.tls_ciphers import key_verdict, suite_verdict, version_verdict
from auditapp.dnsclient import DnsAnswer, Outcome
from auditapp.postfix import config_from_texts

#: What one extra hello per endpoint decides (compression, RFC 5746, RFC 7627).
EXTRA_RULES = ("TLS-COMPRESSION", "TLS-NO-SECURE-RENEGOTIATION", "TLS-NO-EXTENDED-MASTER-SECRET")
RULES = ("TLS-LEGACY-PROTOCOL", "TLS-WEAK-CIPHER", "TLS-NO-FORWARD-SECRECY", "TLS-WEAK-KEY", *EXTRA_RULES)
SMTP, SMTPS = PORTS["smtp"], PORTS["submissions"]


def _scan(address: str, port: int, service: str, timeout: float = 3.0) -> TlsScan:
    return asyncio.run(scan_endpoint(address, port, service, sni="mx.tls.test", timeout=timeout))


def _host(address: str) -> DiscoveredHost:
    a = DnsAnswer("mx.tls.test", "A", Outcome.OK, records=(address,))
    return DiscoveredHost("mx.tls.test", (Role.MX, Role.SUBMISSION, Role.MAILBOX), ("--mx",), a=a, typed=True)


def _judge(address: str, probes: list[EndpointProbe], scans: dict[tuple[str, int], TlsScan],
           postfix: object = None, rules: tuple[str, ...] = RULES) -> dict[tuple[str, int], Finding]:
    """Run ``rules`` the way the engine does; ``{(rule, port): finding}``."""
    facts = Facts(discovery=Discovery("tls.test", (_host(address),)),
                  services={(p.address, p.port, p.service): p for p in probes}, tls_scan=scans, postfix=postfix)
    facts.done.update(("discovery", "services", "tls_scan"))
    target = AuditTarget(domain="tls.test", dnsbl_zones=())
    out = {}
    for rule in rules:
        for f in run_check(registered()[rule], catalog(), facts, target):
            assert f.status is not Status.ERROR, f
            out[(rule, int(f.subject.rsplit(":", 1)[1]))] = f
    return out


def _probe(address: str, port: int, service: str) -> EndpointProbe:
    return asyncio.run(probe_endpoint(address, port, service, sni="mx.tls.test", timeout=3.0))


def _handmade(address: str, port: int, service: str) -> EndpointProbe:
    """A probe that completed its handshake (for the responders, which speak no mail dialogue)."""
    return EndpointProbe(address, port, service, PortState.OPEN, tls=TlsInfo(ok=True, legacy_tested=True))


# -- the data table ---------------------------------------------------------------------------------------


def test_the_table_rates_the_usual_suspects_as_ncsc_does() -> None:
    assert suite_verdict("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384").klass == "good"
    assert suite_verdict("TLS_DHE_RSA_WITH_AES_128_CBC_SHA256").klass == "sufficient"
    assert suite_verdict("TLS_RSA_WITH_AES_128_CBC_SHA").klass == "phase_out"
    assert not suite_verdict("TLS_RSA_WITH_AES_128_CBC_SHA").forward_secrecy
    assert suite_verdict("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA").klass == "phase_out"
    for bad in ("TLS_RSA_WITH_RC4_128_MD5", "TLS_RSA_WITH_NULL_SHA256", "TLS_DH_anon_WITH_AES_128_GCM_SHA256",
                "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"):
        assert suite_verdict(bad).klass == "insufficient", bad
    assert [version_verdict(v).klass for v in ("TLSv1.3", "TLSv1.2", "TLSv1", "SSLv3")] == [
        "good", "sufficient", "phase_out", "insufficient"]
    assert key_verdict("RSA", 1024).klass == "insufficient" and key_verdict("RSA", 2048).klass == "sufficient"
    assert key_verdict("RSA", 3072).bsi and not key_verdict("RSA", 2048).bsi
    assert suite_verdict("TLS_AES_128_GCM_SHA256").bsi and not suite_verdict("TLS_CHACHA20_POLY1305_SHA256").bsi


def test_an_sslv2_client_hello_is_sslv2_and_a_tls13_one_offers_only_tls13() -> None:
    v2 = client_hello("SSLv2", [])
    assert v2[0] & 0x80 and v2[2] == 1 and v2[3:5] == b"\x00\x02"
    v13 = client_hello("TLSv1.3", [0x1301], sni="mx.tls.test")
    assert v13[:3] == b"\x16\x03\x01" and b"\x00\x2b\x00\x03\x02\x03\x04" in v13 and b"mx.tls.test" in v13


# -- the weak and the BSI-conform Postfix -----------------------------------------------------------------


@pytest.mark.lab
def test_the_weak_postfix_fails_every_rule_in_its_role(tls_lab) -> None:
    ip = TLS_LAB_ADDRESSES["weak"]
    started = time.perf_counter()
    scans = asyncio.run(scan_endpoints(Discovery("tls.test", (_host(ip),)),
                                       AuditTarget(domain="tls.test", ports={"smtp": SMTP, "submissions": SMTPS}), 3.0))
    took = time.perf_counter() - started
    smtp = scans[(ip, SMTP)]
    assert smtp.complete, smtp.error
    assert smtp.versions == ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
    assert {s.name for s in smtp.suites_for("TLSv1")} == {"TLS_RSA_WITH_AES_128_CBC_SHA"}
    assert {s.name for s in smtp.suites_for("TLSv1.2")} == {"TLS_RSA_WITH_AES_128_CBC_SHA"}
    assert smtp.suites_for("TLSv1.3") and all(s.forward_secrecy for s in smtp.suites_for("TLSv1.3"))
    assert smtp.key_type == "RSA" and smtp.key_bits == 2048 and smtp.signature_hash == "sha256"
    assert smtp.certificate_chain and smtp.certificate_chain[0].startswith(b"\x30")  # DER, leaf first
    assert smtp.ocsp_stapling is False
    assert took < 10, took
    imported = config_from_texts({"main.cf": tls_lab.postfix["weak"].main_cf()}, "lab")
    found = _judge(ip, [_probe(ip, SMTP, "smtp"), _probe(ip, SMTPS, "submissions")], scans, imported)
    # The remediation is read beside the imported configuration: the evidence cites its lines.
    assert any("tls_medium_cipherlist = AES128-SHA:@SECLEVEL=0" in line
               for line in found[("TLS-WEAK-CIPHER", SMTP)].evidence)
    expect = {
        ("TLS-LEGACY-PROTOCOL", SMTP): "legacy_mx", ("TLS-LEGACY-PROTOCOL", SMTPS): "legacy_client",
        ("TLS-WEAK-CIPHER", SMTP): "phase_out_mx", ("TLS-WEAK-CIPHER", SMTPS): "phase_out_client",
        ("TLS-NO-FORWARD-SECRECY", SMTP): "partial_mx", ("TLS-NO-FORWARD-SECRECY", SMTPS): "partial_client",
    }
    for key, outcome in expect.items():
        assert found[key].status is Status.FAIL and found[key].outcome == outcome, (key, found[key])
    # RSA 2048 with SHA-256 is "sufficient": the key rule passes here and fails on the broken responder.
    assert found[("TLS-WEAK-KEY", SMTP)].status is Status.PASS
    # Port 25 is judged milder than the client port: weak-but-present TLS beats none.
    assert found[("TLS-WEAK-CIPHER", SMTP)].severity < found[("TLS-WEAK-CIPHER", SMTPS)].severity


@pytest.mark.lab
def test_the_bsi_postfix_passes_every_rule(tls_lab) -> None:
    ip = TLS_LAB_ADDRESSES["bsi"]
    scans = {(ip, p): _scan(ip, p, s) for p, s in ((SMTP, "smtp"), (SMTPS, "submissions"))}
    smtp = scans[(ip, SMTP)]
    assert smtp.complete, smtp.error
    assert smtp.versions == ("TLSv1.2", "TLSv1.3")
    tls12 = {s.name for s in smtp.suites_for("TLSv1.2")}
    assert tls12 and all(n.startswith("TLS_ECDHE_ECDSA_WITH_AES_") for n in tls12), tls12
    assert all(suite_verdict(n).bsi for n in tls12)
    assert set(smtp.groups) == {"secp256r1", "secp384r1"}
    assert smtp.key_type == "EC" and smtp.key_bits == 256
    # OpenSSL 3 behind Postfix: no compression, RFC 5746 and RFC 7627 from the library itself.
    for scan in scans.values():
        assert (scan.compression, scan.secure_renegotiation, scan.extended_master_secret) == (False, True, True), scan
    found = _judge(ip, [_probe(ip, SMTP, "smtp"), _probe(ip, SMTPS, "submissions")], scans)
    for rule in RULES:
        for port in (SMTP, SMTPS):
            assert found[(rule, port)].status is Status.PASS, (rule, port, found[(rule, port)])


# -- responders: SSLv3, a broken server, a tarpit ---------------------------------------------------------


def test_sslv3_is_found_and_is_high_on_any_port() -> None:
    with Ssl3Responder() as r:
        scan = _scan(r.host, r.port, "imaps")
        assert scan.versions == ("SSLv3",), scan
        assert scan.suites_for("SSLv3")[0].name == "TLS_RSA_WITH_AES_128_CBC_SHA"
        found = _judge(r.host, [_handmade(r.host, r.port, "imaps")], {(r.host, r.port): scan})
    legacy = found[("TLS-LEGACY-PROTOCOL", r.port)]
    assert legacy.status is Status.FAIL and legacy.outcome == "ssl_client" and legacy.severity.value == "high"


def test_a_broken_server_fails_cipher_forward_secrecy_and_key(tmp_path: Path) -> None:
    ctx = broken_context(tmp_path)
    with TlsResponder(ctx, smtp=True) as mx, TlsResponder(ctx) as client:
        scans = {(mx.host, mx.port): _scan(mx.host, mx.port, "smtp"),
                 (client.host, client.port): _scan(client.host, client.port, "submissions")}
        probes = [_handmade(mx.host, mx.port, "smtp"), _handmade(client.host, client.port, "submissions")]
    for scan in scans.values():
        assert scan.complete, scan.error
        assert "TLSv1" in scan.versions and "TLSv1.3" not in scan.versions
        assert "TLS_RSA_WITH_NULL_SHA256" in {s.name for s in scan.suites}
        assert scan.key_bits == 1024 and scan.signature_hash == "sha1"
    found = _judge(mx.host, probes, scans)
    expect = {
        ("TLS-WEAK-CIPHER", mx.port): "insufficient_mx", ("TLS-WEAK-CIPHER", client.port): "insufficient_client",
        ("TLS-NO-FORWARD-SECRECY", mx.port): "none_mx", ("TLS-NO-FORWARD-SECRECY", client.port): "none_client",
        ("TLS-WEAK-KEY", mx.port): "weak_mx", ("TLS-WEAK-KEY", client.port): "weak_client",
        ("TLS-LEGACY-PROTOCOL", client.port): "legacy_client",
    }
    for key, outcome in expect.items():
        assert found[key].status is Status.FAIL and found[key].outcome == outcome, (key, found[key])
    assert "1024" in found[("TLS-WEAK-KEY", client.port)].params["problems"]


def test_a_scan_that_times_out_is_not_tested_never_a_verdict() -> None:
    with Tarpit() as t:
        started = time.perf_counter()
        scan = _scan(t.host, t.port, "imaps", timeout=0.2)
        took = time.perf_counter() - started
    assert scan.timed_out and scan.error and not scan.versions
    assert took < 0.2 * 6 + 1  # bounded by the probe budget (6 timeouts)
    found = _judge(t.host, [_handmade(t.host, t.port, "imaps")], {(t.host, t.port): scan})
    for rule in ("TLS-WEAK-CIPHER", "TLS-NO-FORWARD-SECRECY", "TLS-WEAK-KEY"):
        assert found[(rule, t.port)].status is Status.NOT_TESTED, found[(rule, t.port)]


def test_a_closed_port_is_an_error_with_its_reason_not_a_scan() -> None:
    with Tarpit() as t:
        port = t.port
    scan = _scan(TLS_LAB_ADDRESSES["responders"], port, "imaps", timeout=0.5)
    assert not scan.versions and "refused" in scan.error and not scan.timed_out


def test_the_network_guard_decides_what_is_scanned() -> None:
    """An internal address learned from DNS (not typed) is never scanned, as it is never probed."""
    a = DnsAnswer("mx.tls.test", "A", Outcome.OK, records=("10.0.0.5",))
    learned = DiscoveredHost("mx.tls.test", (Role.MX,), ("MX 10",), a=a, typed=False)
    calls: list[tuple[str, int]] = []

    async def fake(address: str, port: int, service: str, **kw: object) -> TlsScan:
        calls.append((address, port))
        return TlsScan(address, port, service)

    import os
    saved = os.environ.pop("AUDITAPP_LOOPBACK_ONLY", None)
    try:
        asyncio.run(scan_endpoints(Discovery("tls.test", (learned,)), AuditTarget(domain="tls.test"), 1.0, scan=fake))
    finally:
        if saved is not None:
            os.environ["AUDITAPP_LOOPBACK_ONLY"] = saved
    assert calls == []


def test_ssl_module_context_is_untouched() -> None:
    """The scanner builds its own bytes; it never lowers the process-wide ssl defaults."""
    assert ssl.create_default_context().minimum_version >= ssl.TLSVersion.TLSv1_2


def test_garbage_after_a_server_hello_keeps_what_the_hello_said() -> None:
    from auditapp.collectors.tls_wire import read_flight

    hello = b"\x03\x03" + bytes(32) + b"\x00" + b"\xc0\x2f" + b"\x00"
    msg = b"\x02" + len(hello).to_bytes(3, "big") + hello + b"\x0b\x00\x00\x05\x00\x00\xff"  # broken Certificate
    record = b"\x16\x03\x03" + len(msg).to_bytes(2, "big") + msg

    async def run() -> object:
        reader = asyncio.StreamReader()
        reader.feed_data(record)
        reader.feed_eof()
        return await read_flight(reader, 1.0, "TLSv1.2")

    answer = asyncio.run(run())
    assert answer.accepted and answer.version == "TLSv1.2" and answer.suite == 0xC02F


# -- the extra hello: compression, secure renegotiation, extended master secret ---------------------------


def test_the_extra_hello_offers_deflate_the_scsv_and_ems() -> None:
    raw = client_hello("TLSv1.2", [0xC02F], compression=True)
    hello = raw[9:]
    pos = 35 + hello[34]
    n = int.from_bytes(hello[pos:pos + 2], "big")
    suites = [int.from_bytes(hello[i:i + 2], "big") for i in range(pos + 2, pos + 2 + n, 2)]
    assert 0x00FF in suites  # TLS_EMPTY_RENEGOTIATION_INFO_SCSV
    assert hello[pos + 2 + n:pos + 5 + n] == b"\x02\x01\x00"  # DEFLATE, null
    assert b"\x00\x17\x00\x00" in hello[pos + 5 + n:]  # extended_master_secret, empty
    assert client_hello("TLSv1.2", [0xC02F])[9:][pos + 2 + n:pos + 4 + n] == b"\x01\x00"  # the scan's: null only


@pytest.mark.parametrize(("settings", "rule", "outcomes"), [
    ({"compression": True}, "TLS-COMPRESSION", ("compressed_mx", "compressed_client")),
    ({"renegotiation_info": False}, "TLS-NO-SECURE-RENEGOTIATION", ("missing_mx", "missing_client")),
    ({"extended_master_secret": False}, "TLS-NO-EXTENDED-MASTER-SECRET", ("missing_mx", "missing_client")),
], ids=["compression", "renegotiation", "ems"])
def test_a_crafted_server_hello_fails_its_rule_and_passes_the_others(settings, rule, outcomes) -> None:
    with HelloResponder(smtp=True, **settings) as mx, HelloResponder(**settings) as client:
        scans = {(mx.host, mx.port): _scan(mx.host, mx.port, "smtp"),
                 (client.host, client.port): _scan(client.host, client.port, "submissions")}
        probes = [_handmade(mx.host, mx.port, "smtp"), _handmade(client.host, client.port, "submissions")]
    for scan in scans.values():
        assert scan.complete and scan.versions == ("TLSv1.2",), scan
    found = _judge(mx.host, probes, scans)
    for port, outcome in zip((mx.port, client.port), outcomes, strict=True):
        assert found[(rule, port)].status is Status.FAIL and found[(rule, port)].outcome == outcome, found[(rule, port)]
        for other in EXTRA_RULES:
            if other != rule:
                assert found[(other, port)].status is Status.PASS, (other, found[(other, port)])
    # Port 25 is judged milder than the client port.
    assert found[(rule, mx.port)].severity < found[(rule, client.port)].severity
    assert any("extra hello" in line for line in found[(rule, client.port)].evidence)


def test_a_well_behaved_crafted_server_passes_all_three() -> None:
    with HelloResponder() as r:
        scan = _scan(r.host, r.port, "submissions")
        found = _judge(r.host, [_handmade(r.host, r.port, "submissions")], {(r.host, r.port): scan})
    assert (scan.compression, scan.secure_renegotiation, scan.extended_master_secret) == (False, True, True)
    for rule in EXTRA_RULES:
        assert found[(rule, r.port)].status is Status.PASS, found[(rule, r.port)]


def test_a_tls13_only_server_is_not_applicable(tmp_path: Path) -> None:
    with TlsResponder(tls13_only_context(tmp_path)) as r:
        scan = _scan(r.host, r.port, "submissions")
        found = _judge(r.host, [_handmade(r.host, r.port, "submissions")], {(r.host, r.port): scan})
    assert scan.versions == ("TLSv1.3",) and scan.compression is None, scan
    for rule in EXTRA_RULES:
        assert found[(rule, r.port)].status is Status.NOT_APPLICABLE, found[(rule, r.port)]


def test_the_extra_rules_are_not_tested_when_the_scan_times_out() -> None:
    with Tarpit() as t:
        scan = _scan(t.host, t.port, "imaps", timeout=0.2)
    assert scan.timed_out and scan.compression is None
    found = _judge(t.host, [_handmade(t.host, t.port, "imaps")], {(t.host, t.port): scan})
    for rule in EXTRA_RULES:
        assert found[(rule, t.port)].status is Status.NOT_TESTED, found[(rule, t.port)]


# -- cipher order and the key-exchange signature hash (internet.nl "Cipher order", RFC 9155) ---------------

ORDER_RULES = ("TLS-CIPHER-ORDER", "TLS-KEX-HASH")


def test_the_kex_hash_hello_offers_sha2_only_and_the_key_exchange_shows_its_scheme() -> None:
    from auditapp.collectors.tls_wire import SHA2_SIGALGS, Answer, key_exchange, sigalg_is_sha2

    raw = client_hello("TLSv1.2", [0xC02F], sigalgs=SHA2_SIGALGS)
    at = raw.index(b"\x00\x0d")
    n = int.from_bytes(raw[at + 4:at + 6], "big")
    offered = [int.from_bytes(raw[i:i + 2], "big") for i in range(at + 6, at + 6 + n, 2)]
    assert offered == list(SHA2_SIGALGS) and all(sigalg_is_sha2(a) for a in offered)
    assert not any(sigalg_is_sha2(a) for a in (0x0201, 0x0203, 0x0202))
    answer = Answer(version="TLSv1.2", suite=0xC02F)
    key_exchange(b"\x03\x00\x17\x41\x04" + bytes(64) + b"\x08\x04\x00\x40" + bytes(64), answer)
    assert answer.group == "secp256r1" and answer.kex_sigalg == 0x0804
    dhe = Answer(version="TLSv1.2", suite=0x009E)  # TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
    key_exchange(b"\x01\x00" + b"\xff" * 256 + b"\x00\x01\x02" + b"\x01\x00" + bytes(256) + b"\x02\x01\x00\x00",
                 dhe)
    assert dhe.dh_bits == 2048 and dhe.kex_sigalg == 0x0201


def _both(ip: str) -> tuple[dict[tuple[str, int], TlsScan], dict[tuple[str, int], Finding]]:
    scans = {(ip, p): _scan(ip, p, s) for p, s in ((SMTP, "smtp"), (SMTPS, "submissions"))}
    found = _judge(ip, [_probe(ip, SMTP, "smtp"), _probe(ip, SMTPS, "submissions")], scans, rules=ORDER_RULES)
    return scans, found


@pytest.mark.lab
def test_the_bsi_postfix_enforces_its_order_and_signs_with_sha2(tls_lab) -> None:
    scans, found = _both(TLS_LAB_ADDRESSES["bsi"])
    for (_ip, port), scan in scans.items():
        assert scan.order_version == "TLSv1.2" and len(set(scan.order_choices)) == 1, scan
        assert suite_verdict(scan.order_choices[0]).klass == "good"
        assert scan.kex_sha2 is True and scan.kex_signature == "ecdsa_secp256r1_sha256", scan
        for rule in ORDER_RULES:
            assert found[(rule, port)].status is Status.PASS, (rule, found[(rule, port)])
    assert any("cipher order (TLSv1.2)" in line for line in found[("TLS-CIPHER-ORDER", SMTP)].evidence)
    assert any("ecdsa_secp256r1_sha256" in line for line in found[("TLS-KEX-HASH", SMTP)].evidence)


@pytest.mark.lab
def test_postfix_without_tls_preempt_cipherlist_follows_the_client(tls_lab) -> None:
    assert "tls_preempt_cipherlist = no" in tls_lab.postfix["client_order"].main_cf()
    scans, found = _both(TLS_LAB_ADDRESSES["client_order"])
    for scan in scans.values():
        assert len(set(scan.order_choices)) == 2, scan
    order = (found[("TLS-CIPHER-ORDER", SMTP)], found[("TLS-CIPHER-ORDER", SMTPS)])
    assert [(f.status, f.outcome) for f in order] == [(Status.FAIL, "client_order_mx"),
                                                      (Status.FAIL, "client_order_client")]
    assert order[0].severity < order[1].severity
    assert found[("TLS-KEX-HASH", SMTPS)].status is Status.PASS


@pytest.mark.lab
def test_the_weak_postfix_has_one_class_and_no_ecdhe_up_to_tls12(tls_lab) -> None:
    ip = TLS_LAB_ADDRESSES["weak"]
    scan = _scan(ip, SMTPS, "submissions")
    found = _judge(ip, [_probe(ip, SMTPS, "submissions")], {(ip, SMTPS): scan}, rules=ORDER_RULES)
    assert found[("TLS-CIPHER-ORDER", SMTPS)].status is Status.PASS  # AES128-SHA only: the order cannot matter
    assert found[("TLS-KEX-HASH", SMTPS)].status is Status.NOT_APPLICABLE


@pytest.mark.parametrize(("settings", "rule", "outcomes"), [
    ({"suites": (0xC02F, 0x002F), "follow_client": True}, "TLS-CIPHER-ORDER",
     ("client_order_mx", "client_order_client")),
    ({"suites": (0x002F, 0xC02F)}, "TLS-CIPHER-ORDER", ("weak_first_mx", "weak_first_client")),
    # good first, then phase out (AES128-SHA, static RSA) before sufficient (ECDHE-RSA-AES128-SHA): B2-5
    ({"suites": (0xC02F, 0x002F, 0xC013)}, "TLS-CIPHER-ORDER", ("class_order_mx", "class_order_client")),
    ({"kex": "sha1"}, "TLS-KEX-HASH", ("sha1_mx", "sha1_client")),
], ids=["client-order", "weak-first", "class-order", "sha1-kex"])
def test_a_crafted_server_fails_cipher_order_or_kex_hash(settings, rule, outcomes) -> None:
    with HelloResponder(smtp=True, **settings) as mx, HelloResponder(**settings) as client:
        scans = {(mx.host, mx.port): _scan(mx.host, mx.port, "smtp"),
                 (client.host, client.port): _scan(client.host, client.port, "submissions")}
        probes = [_handmade(mx.host, mx.port, "smtp"), _handmade(client.host, client.port, "submissions")]
    for scan in scans.values():
        assert scan.complete and scan.versions == ("TLSv1.2",), scan
    found = _judge(mx.host, probes, scans, rules=ORDER_RULES)
    for port, outcome in zip((mx.port, client.port), outcomes, strict=True):
        assert found[(rule, port)].status is Status.FAIL and found[(rule, port)].outcome == outcome, found[(rule, port)]
    assert found[(rule, mx.port)].severity < found[(rule, client.port)].severity
    if settings.get("suites") == (0xC02F, 0x002F, 0xC013):
        scan = scans[(client.host, client.port)]
        assert ("sufficient", "TLS_RSA_WITH_AES_128_CBC_SHA") in scan.class_choices, scan.class_choices
        assert found[(rule, client.port)].params["better"] == "sufficient"
    if rule == "TLS-KEX-HASH":
        scan = scans[(client.host, client.port)]
        assert scan.kex_sha2 is False and scan.kex_signature_default == "rsa_pkcs1_sha1", scan


def test_a_crafted_server_with_sha2_kex_and_one_suite_passes_both() -> None:
    with HelloResponder(kex="sha2") as r:
        scan = _scan(r.host, r.port, "submissions")
        found = _judge(r.host, [_handmade(r.host, r.port, "submissions")], {(r.host, r.port): scan}, rules=ORDER_RULES)
    assert scan.kex_sha2 is True and scan.kex_signature == "ecdsa_secp256r1_sha256", scan
    for rule in ORDER_RULES:
        assert found[(rule, r.port)].status is Status.PASS, found[(rule, r.port)]


def test_cipher_order_and_kex_hash_are_not_applicable_on_tls13_only(tmp_path: Path) -> None:
    with TlsResponder(tls13_only_context(tmp_path)) as r:
        scan = _scan(r.host, r.port, "submissions")
        found = _judge(r.host, [_handmade(r.host, r.port, "submissions")], {(r.host, r.port): scan}, rules=ORDER_RULES)
    for rule in ORDER_RULES:
        assert found[(rule, r.port)].status is Status.NOT_APPLICABLE, found[(rule, r.port)]


def test_cipher_order_and_kex_hash_are_not_tested_when_the_scan_times_out() -> None:
    with Tarpit() as t:
        scan = _scan(t.host, t.port, "imaps", timeout=0.2)
    assert scan.timed_out and not scan.order_choices and scan.kex_sha2 is None
    found = _judge(t.host, [_handmade(t.host, t.port, "imaps")], {(t.host, t.port): scan}, rules=ORDER_RULES)
    for rule in ORDER_RULES:
        assert found[(rule, t.port)].status is Status.NOT_TESTED, found[(rule, t.port)]
