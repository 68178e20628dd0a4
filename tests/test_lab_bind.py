"""Smoke tests through a real BIND 9: the harness works, and DnsClient reads real answers.

The zones are ``tests/lab/zones/smoke.test.zone`` and ``99.51.198.in-addr.arpa.zone``.
Everything goes through :class:`auditapp.dnsclient.DnsClient`, the way the audit asks,
except one raw dnspython query that proves named itself listens on TCP.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import pytest
from lab import bind as bind_mod
from lab import fixtures as fixtures_mod
from lab.bind import BindError, BindServer, discover_zones, make_lab_root
from lab.fixtures import ZONES_DIR, require_named

from auditapp.dnsclient import DnsAnswer, DnsClient, Nameserver, Outcome

pytestmark = pytest.mark.lab


def ask(server: BindServer, name: str, rdtype: str) -> DnsAnswer:
    """One question through a fresh client (no cache shared between tests)."""
    client = DnsClient([Nameserver(server.host, server.port)], timeout=3.0)
    return asyncio.run(client.query(name, rdtype))


def test_a_record(bind_lab: BindServer) -> None:
    answer = ask(bind_lab, "smoke.test", "A")
    assert answer.outcome is Outcome.OK, answer.reason
    assert answer.records == ("198.51.99.10",)
    assert answer.server == bind_lab.address
    assert not answer.tcp


def test_mx_records(bind_lab: BindServer) -> None:
    answer = ask(bind_lab, "smoke.test", "MX")
    assert answer.outcome is Outcome.OK, answer.reason
    assert sorted(answer.records) == ["10 mail.smoke.test.", "20 mail2.smoke.test."]


def test_spf_txt(bind_lab: BindServer) -> None:
    answer = ask(bind_lab, "smoke.test", "TXT")
    assert answer.outcome is Outcome.OK, answer.reason
    assert answer.texts == ("v=spf1 ip4:198.51.99.0/24 mx -all",)


def test_multi_string_txt_is_concatenated_without_spaces(bind_lab: BindServer) -> None:
    answer = ask(bind_lab, "_dmarc.smoke.test", "TXT")
    assert answer.outcome is Outcome.OK, answer.reason
    assert answer.records == ('"v=DMARC1; p=reject; " "rua=mailto:dmarc@smoke.test"',)
    assert answer.texts == ("v=DMARC1; p=reject; rua=mailto:dmarc@smoke.test",)


def test_ptr_record(bind_lab: BindServer) -> None:
    client = DnsClient([Nameserver(bind_lab.host, bind_lab.port)], timeout=3.0)
    answer = asyncio.run(client.reverse("198.51.99.25"))
    assert answer.name == "25.99.51.198.in-addr.arpa"
    assert answer.outcome is Outcome.OK, answer.reason
    assert answer.records == ("mail.smoke.test.",)


def test_nxdomain(bind_lab: BindServer) -> None:
    answer = ask(bind_lab, "nope.smoke.test", "A")
    assert answer.outcome is Outcome.NXDOMAIN
    assert answer.outcome.is_void and answer.reason == ""


def test_nodata_is_not_nxdomain(bind_lab: BindServer) -> None:
    answer = ask(bind_lab, "mail.smoke.test", "AAAA")
    assert answer.outcome is Outcome.NODATA


def test_big_txt_falls_back_to_tcp(bind_lab: BindServer) -> None:
    """About 1.6 kB of TXT does not fit a 1232-byte EDNS answer: BIND truncates, we retry on TCP."""
    answer = ask(bind_lab, "big.smoke.test", "TXT")
    assert answer.outcome is Outcome.OK, answer.reason
    assert answer.tcp
    (text,) = answer.texts
    assert len(text) == 8 * 200
    assert text.startswith("chunk0-") and "chunk7-" in text


def test_tcp_query_is_authoritative(bind_lab: BindServer) -> None:
    query = dns.message.make_query("smoke.test", "MX")
    resp = asyncio.run(dns.asyncquery.tcp(query, bind_lab.host, timeout=3.0, port=bind_lab.port))
    assert resp.rcode() == dns.rcode.NOERROR
    assert resp.flags & dns.flags.AA
    assert len(resp.answer[0]) == 2


def test_every_zone_file_is_served(bind_lab: BindServer) -> None:
    """Zone files added to tests/lab/zones are picked up without touching the harness."""
    served = [origin for origin, _ in bind_lab.zones]
    assert served == [origin for origin, _ in discover_zones(ZONES_DIR)]
    assert {"smoke.test", "99.51.198.in-addr.arpa"} <= set(served)
    for origin in served:
        answer = ask(bind_lab, origin, "SOA")
        assert answer.outcome is Outcome.OK, answer.reason


# -- the harness itself (own named instances, not the session one) ------------------------


@pytest.fixture
def lab_dir() -> Iterator[Path]:
    require_named()
    root = make_lab_root()
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_broken_zone_reports_the_checker_message(lab_dir: Path) -> None:
    zone = lab_dir / "broken.test.zone"
    zone.write_text(
        "$TTL 300\n@ IN SOA ns1 hostmaster ( 1 3600 600 86400 300 )\n@ IN NS ns1\nns1 IN A 999.1.1.1\n"
    )
    server = BindServer(lab_dir / "dns")
    # The checker's own words, with file and line, not just "named did not start".
    with pytest.raises(BindError, match=r"(?s)^named-checkzone failed.*\.zone:4: near '999\.1\.1\.1'"):
        server.start([("broken.test", zone)])
    assert not server.running


def test_port_taken_between_check_and_bind_is_retried(
    lab_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """free_port() can race with another process; start() then picks a new port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        taken = squatter.getsockname()[1]
        ports = iter([taken])
        real_free_port = bind_mod.free_port

        def racy_free_port(host: str = "127.0.0.1") -> int:
            return next(ports, None) or real_free_port(host)

        monkeypatch.setattr(bind_mod, "free_port", racy_free_port)
        with BindServer(lab_dir / "dns").start(ZONES_DIR) as server:
            assert server.port != taken
            assert ask(server, "smoke.test", "A").outcome is Outcome.OK
    assert not server.running


def test_explicit_port_in_use_is_an_error(lab_dir: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        taken = squatter.getsockname()[1]
        with pytest.raises(BindError, match="could not listen"):
            BindServer(lab_dir / "dns").start(ZONES_DIR, port=taken)


# -- skip locally, fail in CI -------------------------------------------------------------


def test_named_available_names_the_missing_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bind_mod, "find_tool", lambda name: None if name == "named" else f"/x/{name}")
    reason = bind_mod.named_available()
    assert reason is not None and "named not found" in reason and "bind9" in reason


@pytest.mark.parametrize("ci", ["", "0", "false"])
def test_missing_named_is_a_skip_outside_ci(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(fixtures_mod, "named_available", lambda: "BIND 9 is not installed")
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        require_named()


def test_missing_named_is_a_failure_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI installs BIND, so its absence there is a broken pipeline, not a reason to skip."""
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(fixtures_mod, "named_available", lambda: "BIND 9 is not installed")
    with pytest.raises(pytest.fail.Exception, match="CI must install it"):
        require_named()
