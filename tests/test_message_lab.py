"""Importing messages that real servers delivered (issue 15).

OpenDKIM signs, Postfix relays (with and without TLS, through a body-converting gateway,
with a leaked internal HELO), a forwarder seals with ARC, and the copy Dovecot serves over
IMAP is what the auditapp.message functions read here (harness: ``tests/lab/mailflow.py``).
The assertions state what those servers wrote, so a parser or verifier change that misreads
a real Postfix ``Received:`` line or disagrees with a real DKIM signer fails here.

Every message test runs twice: on the copies the servers deliver now (``[lab]``) and on the
copies saved in ``tests/fixtures/messages/lab`` with the zones that publish their keys
(``[saved]``, served by the Python lab DNS server), so the import of real server output is
also tested on machines that cannot run the servers. Regenerate the copies with
``cd tests && python -m lab.mailflow`` (as root).

The lab's addresses are all loopback, so ``sending_hop()`` (which looks for a public IP)
does not apply; the tests read ``parse_hops()`` directly and name the relay hop themselves.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime

import dkim
import pytest
from lab.bind import find_tool, make_lab_root
from lab.fixtures import in_ci
from lab.mailflow import (
    ADDRESSES,
    ARC_SELECTOR,
    DKIM_SELECTOR,
    FORWARDER_DOMAIN,
    HOSTNAMES,
    KEY_BITS,
    LOCAL_HELO,
    MAILBOXES,
    PORTS,
    SENDER,
    SENDER_DOMAIN,
    VARIANTS,
    Delivered,
    MailFlow,
    _signer_transports,
    configured_addresses,
    deliver_variants,
    listeners,
    load_fixtures,
    mail_flow_available,
    start_mail_flow,
)
from lab.mailservers import lab_listeners

from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.lab.dnsserver import LabDnsServer, RecordSet
from auditapp.message.evidence import received_at
from auditapp.message.headers import MessageHeaders, read_message
from auditapp.message.hops import Hop, parse_hops
from auditapp.message.verify import (
    ArcResult,
    DkimResult,
    DmarcMessageResult,
    SpfMessageResult,
    check_dmarc,
    check_spf,
    parse_authentication_results,
    verify_arc,
    verify_dkim,
)

pytestmark = pytest.mark.lab

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
#: "a few seconds" for keys, certificates and seven servers; CI machines are slower than ours (0.7 s).
MAX_START_SECONDS = 10.0


# -- fixtures --------------------------------------------------------------------------------------


def require_mail_flow() -> None:
    """Skip without BIND/Postfix/Dovecot/OpenDKIM (or root), as the other lab tests do; fail in CI."""
    reason = mail_flow_available()
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"{reason} -- CI must provide it (tests/lab/install-lab-servers.sh, run as root)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def flow() -> Iterator[MailFlow]:
    """The running mail flow, once per session (about 0.7 s to start, 1.1 s to stop)."""
    require_mail_flow()
    root = make_lab_root()
    try:
        running = start_mail_flow(root)
        try:
            yield running
        finally:
            running.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session", params=["lab", "saved"])
def delivered(request: pytest.FixtureRequest) -> Iterator[Delivered]:
    """Every variant: sent through the servers and read back over IMAP (about 0.5 s), or the saved copies."""
    if request.param == "lab":
        yield deliver_variants(request.getfixturevalue("flow"))
        return
    messages, zones = load_fixtures()
    with LabDnsServer(RecordSet.from_zone_text(zones)) as server:
        yield Delivered(messages, (server.host, server.port), 0.0)


def resolver(delivered: Delivered) -> DnsClient:
    return DnsClient([Nameserver(*delivered.nameserver)], timeout=2.0)


def imported(delivered: Delivered, variant: str) -> tuple[MessageHeaders, tuple[Hop, ...]]:
    headers = read_message(delivered.messages[variant])
    return headers, parse_hops(headers.received)


def receipt(delivered: Delivered, variant: str) -> datetime | None:
    """When the last hop received the copy: the saved copies are judged then, as an import judges them
    (at the wall clock, their t= lay in the future for a clock before 05:27 UTC on the day they were made)."""
    return received_at(imported(delivered, variant)[1])


def dkim_results(delivered: Delivered, variant: str) -> list[DkimResult]:
    return asyncio.run(verify_dkim(delivered.messages[variant], resolver(delivered), receipt(delivered, variant)))


def arc_result(delivered: Delivered, variant: str) -> ArcResult:
    return asyncio.run(verify_arc(delivered.messages[variant], resolver(delivered), receipt(delivered, variant)))


def spf_and_dmarc(delivered: Delivered, variant: str, hop: Hop) -> tuple[SpfMessageResult, DmarcMessageResult]:
    """SPF as the MX saw it (the hop into mx.kunde.test), then DMARC with our DKIM verdicts."""
    headers, _hops = imported(delivered, variant)
    dns = resolver(delivered)

    async def run() -> tuple[SpfMessageResult, DmarcMessageResult]:
        assert hop.from_ip and headers.envelope_sender is not None and headers.from_domain
        spf = await check_spf(hop.from_ip, headers.envelope_sender, hop.helo or "", dns)
        dkim_list = await verify_dkim(delivered.messages[variant], dns, receipt(delivered, variant))
        return spf, await check_dmarc(headers.from_domain, spf, dkim_list, dns)

    return asyncio.run(run())


def assert_tls(hop: Hop) -> None:
    """Postfix's "(using TLSv1.3 with cipher ...)" comment was read: a version and a cipher."""
    assert hop.tls is not None and re.fullmatch(r"TLSv1\.[23]", hop.tls), hop.raw
    assert hop.cipher, hop.raw


# -- loopback only (no servers needed) -------------------------------------------------------------


def test_every_address_of_the_flow_is_loopback() -> None:
    assert all(ipaddress.ip_address(ip) in LOOPBACK for ip in ADDRESSES.values())
    assert all(ipaddress.ip_address(ip) in LOOPBACK for _name, ip, _port in listeners())


def test_the_signer_routes_only_to_bracketed_loopback_next_hops() -> None:
    """Bracketed: Postfix then connects to the address as written, no MX lookup, no DNS at all."""
    for nexthop in _signer_transports().values():
        match = re.fullmatch(r"[\w-]+:\[([\d.]+)\]:(\d+)", nexthop)
        assert match, nexthop
        assert ipaddress.ip_address(match.group(1)) in LOOPBACK


def test_the_flow_does_not_share_a_listener_with_the_services_lab() -> None:
    """Both labs may run in one session: no address/port pair of ours is one of lab.mailservers'."""
    ours = {(ip, port) for _name, ip, port in listeners()}
    theirs = {(ip, port) for _name, ip, port in lab_listeners()}
    assert not ours & theirs
    assert not set(PORTS.values()) & {port for _name, _ip, port in lab_listeners()}


# -- the running servers ---------------------------------------------------------------------------


def test_the_written_configs_name_only_loopback_addresses(flow: MailFlow) -> None:
    found = configured_addresses(flow.config_files())
    assert all(found.values()), found  # every file names at least one address: the scan works
    outside = {path: ips for path, ips in found.items() if any(ipaddress.ip_address(ip) not in LOOPBACK for ip in ips)}
    assert not outside


def test_no_postfix_of_the_flow_can_send_elsewhere(flow: MailFlow) -> None:
    """No relayhost, and whatever is not routed explicitly bounces (``error:`` transport)."""
    postconf = find_tool("postconf") or "postconf"
    for name, pf in flow.postfix.items():
        out = subprocess.run([postconf, "-c", str(pf.etc), "-h", "relayhost", "default_transport"],
                             capture_output=True, text=True, check=True).stdout.splitlines()
        assert out[0] == "", name
        assert out[1].startswith("error:"), name


def test_the_flow_starts_in_a_few_seconds(flow: MailFlow) -> None:
    assert flow.startup_seconds["total"] < MAX_START_SECONDS, flow.startup_seconds


def test_every_variant_was_delivered_to_its_mailbox(delivered: Delivered) -> None:
    assert set(delivered.messages) == set(VARIANTS)
    for variant, raw in delivered.messages.items():
        headers = read_message(raw)
        assert headers.from_address == SENDER
        delivered_to = [v for k, v in headers.fields if k.lower() == "delivered-to"]
        assert delivered_to[0] == MAILBOXES[variant]  # the topmost: this delivery's


# -- signed: authenticated submission with STARTTLS, OpenDKIM, TLS relay ---------------------------


def test_signed_the_hop_chain_is_submission_then_relay(delivered: Delivered) -> None:
    _headers, hops = imported(delivered, "signed")
    submission, relay = hops
    assert (submission.from_ip, submission.helo, submission.by, submission.protocol) == (
        ADDRESSES["client"], HOSTNAMES["client"], HOSTNAMES["signer"], "ESMTPSA")
    assert_tls(submission)
    assert (relay.from_ip, relay.helo, relay.by, relay.protocol) == (
        ADDRESSES["signer"], HOSTNAMES["signer"], HOSTNAMES["mx"], "ESMTPS")
    assert_tls(relay)
    assert relay.delay is not None and 0 <= relay.delay < 60


def test_signed_dkim_passes_with_the_2048_bit_key_from_bind(delivered: Delivered) -> None:
    [result] = dkim_results(delivered, "signed")
    assert (result.domain, result.selector, result.algorithm, result.result, result.reason) == (
        SENDER_DOMAIN, DKIM_SELECTOR, "rsa-sha256", "pass", "")
    assert result.key_bits == KEY_BITS
    assert result.answers[0].name == f"{DKIM_SELECTOR}._domainkey.{SENDER_DOMAIN}"


def test_signed_spf_and_dmarc_pass_and_align(delivered: Delivered) -> None:
    _headers, hops = imported(delivered, "signed")
    spf, dmarc = spf_and_dmarc(delivered, "signed", hops[-1])
    assert (spf.result, spf.domain, spf.sender) == ("pass", SENDER_DOMAIN, SENDER)
    assert (dmarc.result, dmarc.policy, dmarc.spf_aligned, dmarc.dkim_aligned) == ("pass", "reject", True, True)


def test_signed_has_no_arc_chain(delivered: Delivered) -> None:
    assert arc_result(delivered, "signed").result == "none"


# -- body_rewritten: the gateway converts 8bit to quoted-printable after signing --------------------


def test_body_rewritten_passed_the_gateway(delivered: Delivered) -> None:
    headers, hops = imported(delivered, "body_rewritten")
    assert [h.by for h in hops] == [HOSTNAMES["signer"], HOSTNAMES["gateway"], HOSTNAMES["mx"]]
    assert hops[2].from_ip == ADDRESSES["gateway"] and hops[2].helo == HOSTNAMES["gateway"]
    assert all(h.tls for h in hops)
    # Postfix's MIME output conversion, the change that breaks the signature:
    assert b"Content-Transfer-Encoding: quoted-printable" in headers.header_block
    assert b"f=C3=BCr" in delivered.messages["body_rewritten"]


def test_body_rewritten_dkim_fails_on_the_body_hash(delivered: Delivered) -> None:
    [result] = dkim_results(delivered, "body_rewritten")
    assert (result.domain, result.result) == (SENDER_DOMAIN, "fail")
    assert result.reason.startswith("body hash mismatch")
    assert result.key_bits == KEY_BITS


def test_body_rewritten_spf_fails_for_the_gateway_and_dmarc_fails(delivered: Delivered) -> None:
    """The MX saw the gateway's address, which firma.test's SPF does not list: nothing aligns."""
    _headers, hops = imported(delivered, "body_rewritten")
    spf, dmarc = spf_and_dmarc(delivered, "body_rewritten", hops[-1])
    assert (spf.ip, spf.result) == (ADDRESSES["gateway"], "fail")
    assert (dmarc.result, dmarc.policy, dmarc.spf_aligned, dmarc.dkim_aligned) == ("fail", "reject", False, False)


# -- plain_submission: no TLS, no AUTH -------------------------------------------------------------


def test_plain_submission_first_hop_records_no_tls(delivered: Delivered) -> None:
    _headers, hops = imported(delivered, "plain_submission")
    submission, relay = hops
    assert (submission.from_ip, submission.by, submission.protocol) == (
        ADDRESSES["client"], HOSTNAMES["signer"], "ESMTP")
    assert submission.tls is None and submission.cipher is None
    assert "using" not in submission.raw
    assert relay.protocol == "ESMTPS"
    assert_tls(relay)


def test_plain_submission_is_signed_for_the_internal_host(delivered: Delivered) -> None:
    """OpenDKIM signs mail from its InternalHosts without AUTH: the signature says nothing about TLS."""
    [result] = dkim_results(delivered, "plain_submission")
    assert (result.result, result.key_bits) == ("pass", KEY_BITS)


# -- local_helo: the signer announces mail.firma.local ---------------------------------------------


def test_local_helo_is_recorded_by_the_receiver(delivered: Delivered) -> None:
    _headers, hops = imported(delivered, "local_helo")
    relay = hops[-1]
    assert relay.raw.startswith(f"from {LOCAL_HELO} (unknown [{ADDRESSES['signer']}])")
    assert (relay.helo, relay.from_ip, relay.by) == (LOCAL_HELO, ADDRESSES["signer"], HOSTNAMES["mx"])
    # Postfix wrote "unknown" for the reverse name; the parser then reports the HELO as the name.
    assert relay.from_name == LOCAL_HELO
    assert_tls(relay)


def test_local_helo_leaves_dkim_and_spf_intact(delivered: Delivered) -> None:
    """The HELO name is not an identity DKIM or (with an envelope sender) SPF looks at."""
    _headers, hops = imported(delivered, "local_helo")
    [result] = dkim_results(delivered, "local_helo")
    spf, dmarc = spf_and_dmarc(delivered, "local_helo", hops[-1])
    assert (result.result, spf.result, dmarc.result) == ("pass", "pass", "pass")


# -- arc_forwarded: dkimpy seals, Postfix delivers again -------------------------------------------


def test_arc_forwarded_arc_passes_with_one_instance(delivered: Delivered) -> None:
    arc = arc_result(delivered, "arc_forwarded")
    assert (arc.result, arc.instances, arc.reason) == ("pass", 1, "")
    assert {a.name for a in arc.answers} == {f"{ARC_SELECTOR}._domainkey.{FORWARDER_DOMAIN}"}
    [answer] = arc.answers
    _pk, bits, _ktag, _tlsrpt = dkim.evaluate_pk(answer.name.encode(), "".join(answer.texts).encode())
    assert bits == KEY_BITS


def test_arc_forwarded_keeps_the_original_signature_and_adds_the_forwarder_hop(delivered: Delivered) -> None:
    headers, hops = imported(delivered, "arc_forwarded")
    [result] = dkim_results(delivered, "arc_forwarded")
    assert (result.domain, result.result) == (SENDER_DOMAIN, "pass")
    assert [h.by for h in hops] == [HOSTNAMES["signer"], HOSTNAMES["mx"], HOSTNAMES["mx"]]
    forward = hops[-1]
    assert (forward.from_ip, forward.helo, forward.protocol) == (
        ADDRESSES["forwarder"], HOSTNAMES["forwarder"], "ESMTPS")
    assert len(headers.arc_seals) == len(headers.arc_message_signatures) == 1
    [own] = [r for r in parse_authentication_results(headers.authentication_results) if r.method == "dkim"]
    assert (own.authserv_id, own.result) == (HOSTNAMES["forwarder"], "pass")


def test_arc_forwarded_dmarc_passes_on_dkim_alone(delivered: Delivered) -> None:
    """SPF now checks the forwarder's own envelope domain: it passes but does not align."""
    _headers, hops = imported(delivered, "arc_forwarded")
    spf, dmarc = spf_and_dmarc(delivered, "arc_forwarded", hops[-1])
    assert (spf.result, spf.domain) == ("pass", FORWARDER_DOMAIN)
    assert (dmarc.result, dmarc.spf_aligned, dmarc.dkim_aligned) == ("pass", False, True)


# -- the MSG-* rules on what the servers delivered ------------------------------------------------

#: variant -> the rules' (status, outcome) where it differs from "pass". Every variant's hand-over is
#: mail.firma.test's hop (for arc_forwarded too: the forwarder's hop is newer), whose HELO resolves
#: to its address and is its PTR name (the lab's reverse zone).
EXPECTED_RULES: dict[str, dict[str, tuple[str, str]]] = {
    "signed": {},
    "body_rewritten": {"MSG-DKIM-INVALID": ("fail", "body_changed")},
    "plain_submission": {"MSG-SUBMISSION-PLAIN": ("fail", "plain")},
    "local_helo": {"MSG-HELO-MISMATCH": ("fail", "not_fqdn"), "MSG-INTERNAL-LEAK": ("fail", "leaked")},
    "arc_forwarded": {"MSG-ARC-BROKEN": ("pass", "pass"),
                      # The Return-Path is the forwarder's (SRS): the hand-over's envelope is unknown.
                      "MSG-SPF-FAIL": ("not_tested", "not_tested")},
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_msg_rules_on_the_delivered_message(delivered: Delivered, variant: str) -> None:
    from auditapp.audit.messages import judge_message
    from auditapp.message.evidence import examine

    ev = asyncio.run(examine(f"{variant}.eml", delivered.messages[variant], resolver(delivered),
                             allow_internal=True))
    assert ev.sending is not None and ev.sending.from_ip == "127.0.0.61"
    got = {f.rule: (f.status.value, f.outcome) for f in judge_message(ev, SENDER_DOMAIN, allow_internal=True)}
    expected = {rule: ("pass", "pass") for rule in got}
    expected["MSG-ARC-BROKEN"] = ("not_applicable", "none")
    expected.update(EXPECTED_RULES[variant])
    assert got == expected
