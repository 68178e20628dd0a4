"""RPKI route origin validation (RFC 6811) and the two RPKI rules against BIND (issue 16).

The lab serves rpki.test (one domain per route state) and Team Cymru's origin zone in its real
shape (tests/lab/zones/asn.cymru.com.zone); the VRPs are files in the formats validators export.
Every address here is a documentation address, so the audits run as internal audits
(``allow_internal``); without that, the same addresses are "not routed" and nothing is looked up.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from pathlib import Path

import pytest

from auditapp.audit.engine import EngineConfig, audit
from auditapp.collectors.rpki_collect import origin_name, parse_origins
from auditapp.core.model import Finding, Run, Status
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.rpki import INVALID, NOT_FOUND, VALID, VrpError, load_vrps, parse_vrps

#: What a validator would have exported for the lab's address space.
LAB_VRPS = {"metadata": {"generated": 1796515200}, "roas": [
    {"asn": "AS64500", "prefix": "198.51.100.0/24", "maxLength": 24, "ta": "lab"},
    {"asn": "AS64500", "prefix": "2001:db8::/32", "maxLength": 48, "ta": "lab"},
    {"asn": "AS64510", "prefix": "192.0.2.0/24", "maxLength": 24, "ta": "lab"},
]}
RULES = ("RPKI-ROA-MISSING", "RPKI-INVALID")


def _vrp_file(tmp_path: Path, data: object = LAB_VRPS, name: str = "vrps.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def _run(port: int, domain: str, vrps: Path | None, *, internal: bool = True) -> Run:
    target = AuditTarget(domain=domain, services=False, dnsbl_zones=(), dkim_selectors=(), allow_internal=internal,
                         rpki_vrps=str(vrps) if vrps else None)
    client = DnsClient([Nameserver("127.0.0.1", port)], timeout=2.0)
    return asyncio.run(audit(target, client, EngineConfig(timeout=2.0, smtp_probe=False)))


def _found(run: Run) -> dict[tuple[str, str], Finding]:
    return {(f.rule, f.subject): f for f in run.findings if f.rule in RULES}


# -- RFC 6811 over a VRP set ------------------------------------------------------------------------


def test_rfc6811_states_with_max_length_more_specifics_and_as0() -> None:
    vrps = parse_vrps(json.dumps({"roas": [
        {"asn": 64500, "prefix": "192.0.2.0/24", "maxLength": 24},
        {"asn": "AS64501", "prefix": "192.0.2.0/23", "maxLength": 25},
        {"asn": "AS0", "prefix": "203.0.113.0/24", "maxLength": 32},
    ]}))
    net = ipaddress.ip_network
    assert vrps.validate(net("192.0.2.0/24"), 64500).state == VALID
    assert vrps.validate(net("192.0.2.0/24"), 64501).state == VALID  # the /23 VRP allows up to /25
    assert vrps.validate(net("192.0.2.0/25"), 64500).state == INVALID  # too specific for AS64500's VRP
    assert vrps.validate(net("192.0.2.0/26"), 64501).state == INVALID  # beyond maxLength 25
    assert vrps.validate(net("192.0.3.0/24"), 64999).state == INVALID  # covered by the /23, other AS
    assert vrps.validate(net("198.51.100.0/24"), 64500).state == NOT_FOUND
    # RFC 6483 §4: AS 0 never matches, so every route it covers is invalid, whatever the origin.
    assert vrps.validate(net("203.0.113.0/24"), 0).state == INVALID
    assert vrps.validate(net("203.0.113.0/24"), 64500).state == INVALID
    both = vrps.validate(net("192.0.2.0/24"), 64500)
    assert len(both.covering) == 2 and [v.asn for v in both.matched] == [64500]


def test_the_exports_of_routinator_rpki_client_and_csv_read_the_same() -> None:
    routinator = json.dumps({"metadata": {"generated": 1796515200, "generatedTime": "2026-12-06T00:00:00Z"},
                             "roas": [{"asn": "AS64500", "prefix": "2001:db8::/32", "maxLength": 48, "ta": "ripe"}]})
    rpki_client = json.dumps({"metadata": {"buildtime": "2026-12-06T00:00:00Z", "vrps": 1},
                              "roas": [{"asn": 64500, "prefix": "2001:db8::/32", "maxLength": 48, "ta": "ripe",
                                        "expires": 1796688000}]})
    csv = "ASN,IP Prefix,Max Length,Trust Anchor\nAS64500,2001:db8::/32,48,ripe\n"
    for text in (routinator, rpki_client, csv):
        vrps = parse_vrps(text, "x")
        assert vrps.count == 1
        assert vrps.validate(ipaddress.ip_network("2001:db8:1::/48"), 64500).state == VALID
    assert parse_vrps(routinator).generated == "2026-12-06T00:00:00+00:00"
    assert parse_vrps(rpki_client).generated == "2026-12-06T00:00:00Z"


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty"),
    ("{not json", "not valid JSON"),
    ('{"something": []}', '"roas"'),
    ('{"roas": []}', "holds no VRP"),
    ('{"roas": [{"asn": "AS64500", "prefix": "192.0.2.1/24", "maxLength": 24}]}', "entry 1"),  # host bits
    ('{"roas": [{"asn": "AS64500", "prefix": "192.0.2.0/24", "maxLength": 23}]}', "maxLength 23"),
    ('{"roas": [{"asn": "ASX", "prefix": "192.0.2.0/24"}]}', "entry 1"),
    ("prefix,asn\n", "neither JSON nor a CSV"),
    ("ASN,IP Prefix,Max Length\nAS1,not-a-prefix,24\n", "line 2"),
])
def test_a_broken_vrp_file_is_refused_with_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(VrpError) as info:
        parse_vrps(text, "vrps.json")
    assert says in str(info.value) and "vrps.json" in str(info.value)


def test_a_missing_or_binary_vrp_file_is_a_vrp_error_not_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(VrpError, match=r"gone\.json"):
        load_vrps(tmp_path / "gone.json")
    binary = tmp_path / "vrps.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(VrpError, match="not a text file"):
        load_vrps(binary)


def test_origin_names_and_answers_are_read_as_team_cymru_writes_them() -> None:
    assert origin_name("198.51.100.1") == "1.100.51.198.origin.asn.cymru.com"
    assert origin_name("2001:db8:1::25") == (
        "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.origin6.asn.cymru.com")
    assert parse_origins(("64500 64503 | 198.51.100.0/24 | ZZ | lab | 2026-01-01", "garbage", "x | y")) == [
        ("198.51.100.0/24", 64500), ("198.51.100.0/24", 64503)]


# -- the rules against BIND ---------------------------------------------------------------------------


@pytest.mark.lab
def test_each_route_state_gives_its_verdict(bind_lab, tmp_path: Path) -> None:
    vrps = _vrp_file(tmp_path)
    expect = {
        "valid.rpki.test": {"198.51.100.1": (Status.PASS, Status.PASS), "2001:db8:1::25": (Status.PASS, Status.PASS)},
        "invalid.rpki.test": {"198.51.100.130": (Status.PASS, Status.FAIL)},  # a /25 from AS64501 under the /24
        "noroa.rpki.test": {"203.0.113.5": (Status.FAIL, Status.NOT_APPLICABLE)},
        "unannounced.rpki.test": {"198.18.0.9": (Status.NOT_APPLICABLE, Status.NOT_APPLICABLE)},
        "moas.rpki.test": {"198.51.100.77": (Status.PASS, Status.FAIL)},
    }
    for domain, addresses in expect.items():
        found = _found(_run(bind_lab.port, domain, vrps))
        for address, (roa, validity) in addresses.items():
            assert found[("RPKI-ROA-MISSING", address)].status is roa, (domain, found[("RPKI-ROA-MISSING", address)])
            assert found[("RPKI-INVALID", address)].status is validity, (domain, found[("RPKI-INVALID", address)])
        # The name server of the domain and of the MX zone is judged too: one result naming both roles.
        ns = found[("RPKI-INVALID", "192.0.2.111")]
        assert ns.status is Status.PASS and ns.params["roles"]["en"] == "name server of the domain, " \
            "name server of an MX zone", ns.params
    invalid = _found(_run(bind_lab.port, "invalid.rpki.test", vrps))[("RPKI-INVALID", "198.51.100.130")]
    assert invalid.outcome == "invalid" and invalid.severity.value == "high"
    assert invalid.params["routes"] == "198.51.100.128/25 AS64501"
    assert "AS64500 198.51.100.0/24 max /24 (lab)" in invalid.params["vrps"]
    assert any(line.startswith("route 198.51.100.128/25 from AS64501: invalid") for line in invalid.evidence)
    assert any("VRPs: " in line and "3 VRPs" in line for line in invalid.evidence)
    missing = _found(_run(bind_lab.port, "noroa.rpki.test", vrps))[("RPKI-ROA-MISSING", "203.0.113.5")]
    assert missing.outcome == "missing" and missing.severity.value == "low" and missing.params["hosts"] == (
        "mx.noroa.rpki.test")


@pytest.mark.lab
def test_without_a_vrp_file_nothing_is_guessed(bind_lab) -> None:
    found = _found(_run(bind_lab.port, "valid.rpki.test", None))
    for rule in RULES:
        f = found[(rule, "198.51.100.1")]
        assert f.status is Status.NOT_TESTED and f.reason is not None and f.reason.key == "reason.rpki_no_vrps"
        assert not any("origin.asn.cymru.com" in line for line in f.evidence)  # nothing was looked up


@pytest.mark.lab
def test_a_vrp_file_broken_after_preparing_is_not_tested_with_its_error(bind_lab, tmp_path: Path) -> None:
    vrps = _vrp_file(tmp_path, "{broken")
    f = _found(_run(bind_lab.port, "valid.rpki.test", vrps))[("RPKI-INVALID", "198.51.100.1")]
    assert f.status is Status.NOT_TESTED and f.reason.key == "reason.rpki_vrps_error"
    assert "not valid JSON" in f.reason.params["error"]


@pytest.mark.lab
def test_private_addresses_are_not_routed_and_never_looked_up(bind_lab, tmp_path: Path) -> None:
    found = _found(_run(bind_lab.port, "valid.rpki.test", _vrp_file(tmp_path), internal=False))
    for rule in RULES:
        f = found[(rule, "198.51.100.1")]
        assert f.status is Status.NOT_APPLICABLE and f.outcome == "not_routed"


def test_a_dead_resolver_is_not_tested_never_missing(tmp_path: Path) -> None:
    target = AuditTarget(domain="valid.rpki.test", services=False, dnsbl_zones=(), dkim_selectors=(),
                         allow_internal=True, rpki_vrps=str(_vrp_file(tmp_path)))
    client = DnsClient([Nameserver("127.0.0.1", 9)], timeout=0.3)  # nothing listens on the discard port
    run = asyncio.run(audit(target, client, EngineConfig(timeout=0.3, smtp_probe=False)))
    mine = [f for f in run.findings if f.rule in RULES]
    assert mine and all(f.status is Status.NOT_TESTED for f in mine), [(f.rule, f.status) for f in mine]
