"""Every MSG-* rule made to pass and made to fail, on messages signed with real keys (issue 15).

dkimpy signs (DKIM and ARC) with a real RSA key whose public half is served over the wire by
the lab's DNS responder with the SPF, DMARC, PTR and HELO records; each message then goes
through :func:`auditapp.message.evidence.examine` and the registered checks, as in
``auditapp message``. The Received chains are those of Postfix (submission, relay with TLS,
Dovecot LMTP); tests/test_message_lab.py runs the same code on messages real servers delivered.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from auditapp.audit.messages import judge_message, message_rules
from auditapp.catalog import catalog
from auditapp.core.model import Status
from auditapp.core.project import Project
from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.lab.dnsserver import Fault, LabDnsServer, RecordSet
from auditapp.message.evidence import MessageEvidence, examine, from_stored, learn, to_stored
from auditapp.message.verify import dkim_clock

DOMAIN = "firma.test"
OUT_IP = "192.0.2.10"
OTHER_IP = "198.51.100.200"
CLIENT_IP = "198.51.100.77"
_KEY = rsa.generate_private_key(65537, 2048)
PRIVATE = _KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())
_IDS = itertools.count(1)


def _public_record() -> str:
    der = _KEY.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def records() -> RecordSet:
    rs = RecordSet()
    rs.add("test", "SOA", "ns. h. 1 2 3 4 5")
    for name in (f"sel._domainkey.{DOMAIN}", "sel._domainkey.provider.test", "arc._domainkey.forwarder.test"):
        rs.add(name, "TXT", _public_record())
    rs.add(DOMAIN, "TXT", f"v=spf1 ip4:{OUT_IP} -all")
    rs.add(f"_dmarc.{DOMAIN}", "TXT", "v=DMARC1; p=reject")
    rs.add("provider.test", "TXT", "v=spf1 -all")
    rs.add("nodmarc.test", "TXT", f"v=spf1 ip4:{OUT_IP} ~all")
    rs.add(f"mail.{DOMAIN}", "A", OUT_IP)
    rs.add(f"other.{DOMAIN}", "A", "192.0.2.99")
    rs.add(f"relay.{DOMAIN}", "A", OUT_IP)
    rs.add("10.2.0.192.in-addr.arpa", "PTR", f"mail.{DOMAIN}.")
    rs.add("200.100.51.198.in-addr.arpa", "PTR", f"mail.{DOMAIN}.")
    return rs


@pytest.fixture(scope="module")
def lab() -> Iterator[LabDnsServer]:
    faults = {f"slow.{DOMAIN}": Fault.TIMEOUT}
    with LabDnsServer(records(), faults=faults) as server:
        yield server


def client(lab: LabDnsServer) -> DnsClient:
    return DnsClient([Nameserver(lab.host, lab.port)], timeout=0.5)


@dataclass(frozen=True)
class Msg:
    """A message as Postfix would deliver it: submission hop, relay hop to the receiver, LMTP."""

    from_domain: str = DOMAIN
    sign: str | None = DOMAIN
    selector: str = "sel"
    ip: str = OUT_IP
    helo: str = f"mail.{DOMAIN}"
    relay_tls: bool = True
    relay_protocol: str = "ESMTPS"
    submission: str = f"from [{CLIENT_IP}] (dyn.isp.test [{CLIENT_IP}]) by mail.{DOMAIN} (Postfix) with ESMTPSA"
    change_body: bool = False
    arc: str = ""  # "", "pass" or "broken"
    extra_received: tuple[str, ...] = field(default_factory=tuple)


#: When the test messages say they were written (their Date:). Their receipt is a few seconds later
#: and they are judged then, so they must be signed then too: with the wall clock, t= lay beyond
#: dkimpy's 10 h leeway from 20:00 UTC on the day of these dates, and every signature was "malformed".
SIGNED_AT = datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC).timestamp()


def build(m: Msg) -> bytes:
    n = next(_IDS)
    body = "Hello Bob,\r\n\r\nthe figures are attached.\r\n"
    tls = "(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) " if m.relay_tls else ""
    head = (f"From: Alice <alice@{m.from_domain}>\r\nTo: bob@receiver.test\r\nSubject: Figures {n}\r\n"
            f"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{n}@{m.from_domain}>\r\n"
            f"Received: {m.submission} id A{n}\r\n\tfor <bob@receiver.test>; Sun, 06 Dec 2026 10:00:01 +0000\r\n")
    raw = (head + "\r\n" + body).encode()
    if m.sign:
        with dkim_clock(SIGNED_AT):  # signed when the message says, not at the wall clock
            raw = dkim.sign(raw, m.selector.encode(), m.sign.encode(), PRIVATE,
                            include_headers=[b"from", b"to", b"subject", b"date", b"message-id"]) + raw
    relay = (f"Received: from {m.helo} ({m.helo} [{m.ip}])\r\n\t{tls}by mx.receiver.test (Postfix) with "
             f"{m.relay_protocol} id R{n}\r\n\tfor <bob@receiver.test>; Sun, 06 Dec 2026 10:00:03 +0000\r\n")
    raw = (f"Return-Path: <bounce@{m.from_domain}>\r\n" + relay).encode() + raw
    for line in m.extra_received:
        raw = f"Received: {line}\r\n".encode() + raw
    if m.change_body:
        raw = raw.replace(b"figures are attached", b"figures are attached. -- Disclaimer")
    if m.arc:
        raw = (b"Authentication-Results: fwd.forwarder.test; dkim=pass header.d=" + DOMAIN.encode() + b"\r\n"
               + raw)
        with dkim_clock(SIGNED_AT + 2):
            seal = dkim.arc_sign(raw, b"arc", b"forwarder.test", PRIVATE, b"fwd.forwarder.test",
                                 include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
        raw = b"".join(seal) + raw
        if m.arc == "broken":
            raw = raw.replace(b"Bob,", b"Bob (forwarded),")
    lmtp = (f"Received: from mx.receiver.test\r\n\tby imap.receiver.test (Dovecot) with LMTP id L{n}\r\n"
            f"\tfor <bob@receiver.test>; Sun, 06 Dec 2026 10:00:04 +0000\r\n").encode()
    return lmtp + raw


def evidence_of(lab: LabDnsServer, m: Msg) -> MessageEvidence:
    return asyncio.run(examine("test.eml", build(m), client(lab)))


P, F, NA, NT = Status.PASS, Status.FAIL, Status.NOT_APPLICABLE, Status.NOT_TESTED
PLAIN_SUBMISSION = f"from [{CLIENT_IP}] (dyn.isp.test [{CLIENT_IP}]) by mail.{DOMAIN} (Postfix) with ESMTP"

# rule -> [(status, outcome, message)]; at least one PASS and one FAIL each.
CASES: dict[str, list[tuple[Status, str, Msg]]] = {
    "MSG-DKIM-MISSING": [
        (P, "pass", Msg()),
        (F, "missing", Msg(sign=None)),
        (F, "foreign_only", Msg(sign="provider.test")),
        (NA, "other_domain", Msg(from_domain="provider.test", sign="provider.test")),
    ],
    "MSG-DKIM-INVALID": [
        (P, "pass", Msg()),
        (F, "body_changed", Msg(change_body=True)),
        (F, "key_missing", Msg(selector="gone")),
        (NA, "unsigned", Msg(sign=None)),
    ],
    "MSG-DMARC-FAIL": [
        (P, "pass", Msg()),
        (P, "pass", Msg(ip=OTHER_IP)),  # DKIM alone carries DMARC
        (F, "fail", Msg(sign=None, ip=OTHER_IP)),
        (F, "fail", Msg(sign="provider.test", ip=OTHER_IP)),
    ],
    "MSG-SPF-FAIL": [
        (P, "pass", Msg()),
        (F, "fail", Msg(ip=OTHER_IP)),
    ],
    "MSG-HELO-MISMATCH": [
        (P, "pass", Msg()),
        (F, "not_fqdn", Msg(helo="mail.firma.local")),
        (F, "unresolvable", Msg(helo=f"ghost.{DOMAIN}")),
        (F, "other_address", Msg(helo=f"other.{DOMAIN}")),
        (F, "ptr_differs", Msg(helo=f"relay.{DOMAIN}")),
        (F, "literal", Msg(helo=f"[{OUT_IP}]")),
    ],
    "MSG-INTERNAL-LEAK": [
        (P, "pass", Msg()),
        (F, "leaked", Msg(helo="mail.firma.local")),
        (F, "leaked", Msg(submission=f"from laptop.firma.lan (unknown [10.1.2.3]) by mail.{DOMAIN} "
                                     "(Postfix) with ESMTPSA")),
    ],
    "MSG-NO-TLS-HOP": [
        (P, "pass", Msg()),
        (F, "plain", Msg(relay_tls=False, relay_protocol="ESMTP")),
    ],
    "MSG-ARC-BROKEN": [
        (P, "pass", Msg(arc="pass")),
        (F, "fail", Msg(arc="broken")),
        (NA, "none", Msg()),
    ],
    "MSG-SUBMISSION-PLAIN": [
        (P, "pass", Msg()),
        (F, "plain", Msg(submission=PLAIN_SUBMISSION)),
        (F, "no_tls", Msg(submission=PLAIN_SUBMISSION + "A")),
        (F, "no_auth", Msg(submission=PLAIN_SUBMISSION + "S")),
        (NA, "local", Msg(submission=f"by mail.{DOMAIN} (Postfix, from userid 33)")),
    ],
}


def test_every_message_rule_has_a_pass_and_a_fail_case() -> None:
    assert set(CASES) == set(message_rules())
    for rule, cases in CASES.items():
        assert {P, F} <= {status for status, _o, _m in cases}, rule


PARAMS = [pytest.param(rule, status, outcome, m, id=f"{rule}-{outcome}-{i}")
          for rule, cases in CASES.items() for i, (status, outcome, m) in enumerate(cases)]


@pytest.mark.parametrize(("rule", "status", "outcome", "m"), PARAMS)
def test_rule_on_a_signed_message(lab: LabDnsServer, rule: str, status: Status, outcome: str, m: Msg) -> None:
    ev = evidence_of(lab, m)
    findings = judge_message(ev, DOMAIN)
    assert not [f for f in findings if f.status is Status.ERROR], [f.reason for f in findings]
    [got] = [f for f in findings if f.rule == rule]
    assert (got.status, got.outcome) == (status, outcome), (got.params, got.evidence, got.reason)
    assert got.subject == ev.headers.message_id
    if status is F:
        assert got.evidence
        for lang in ("de", "en"):  # every parameter the text names is filled in
            text = catalog()[rule].outcomes[outcome].text.get(lang)
            text.format(**got.params)


def test_a_dns_timeout_is_not_tested_never_a_failure(lab: LabDnsServer) -> None:
    ev = evidence_of(lab, Msg(helo=f"slow.{DOMAIN}"))
    [helo] = [f for f in judge_message(ev, DOMAIN) if f.rule == "MSG-HELO-MISMATCH"]
    assert helo.status is NT and helo.reason.key == "reason.message_lookup_failed"


def test_pasted_headers_keep_dkim_facts_but_never_claim_a_changed_body(lab: LabDnsServer) -> None:
    raw = build(Msg())
    head = raw.split(b"\r\n\r\n", 1)[0]
    ev = asyncio.run(examine("pasted", head, client(lab)))
    assert ev.headers_only
    findings = {f.rule: f for f in judge_message(ev, DOMAIN)}
    assert findings["MSG-DKIM-MISSING"].status is P
    assert findings["MSG-DKIM-INVALID"].status is NT
    assert findings["MSG-DKIM-INVALID"].reason.key == "reason.message_headers_only"


def test_the_sending_hop_is_the_hand_over_to_the_receiver(lab: LabDnsServer) -> None:
    ev = evidence_of(lab, Msg())
    assert ev.sending is not None and ev.sending.from_ip == OUT_IP and ev.sending.index == 1
    assert [h.index for h in ev.sender_hops] == [0, 1]


def test_a_message_survives_storing_in_a_project(lab: LabDnsServer) -> None:
    ev = evidence_of(lab, Msg(helo="mail.firma.local", change_body=True))
    project = Project(name="p", domain=DOMAIN, messages=[to_stored(ev)])
    loaded = Project.from_json(project.to_json())
    again = from_stored(loaded.messages[0])
    assert again.id == ev.id and again.sending_index == ev.sending_index
    assert "Hello" not in loaded.messages[0].headers  # the body is never stored
    before = [(f.rule, f.status, f.outcome) for f in judge_message(ev, DOMAIN)]
    after = [(f.rule, f.status, f.outcome) for f in judge_message(again, DOMAIN)]
    assert before == after


def test_learned_facts_name_their_message_and_hop(lab: LabDnsServer) -> None:
    ev = evidence_of(lab, Msg())
    learned = {(x.field, x.value): x for x in learn([ev], DOMAIN)}
    assert set(learned) == {("server_ips", OUT_IP), ("helo", f"mail.{DOMAIN}"), ("dkim_selectors", "sel")}
    assert learned[("server_ips", OUT_IP)].hop == 2
    assert learned[("server_ips", OUT_IP)].message == ev.headers.message_id
    assert learn([ev], "elsewhere.test") == []


@pytest.mark.parametrize(("path", "value", "field"), [
    (("id",), "0" * 16, "messages[0].id"),
    (("headers",), "From: a@b.test\r\n", "messages[0].id"),
    (("verified", "dkim", 0, "result"), "great", "messages[0].verified.dkim[0].result"),
    (("verified", "dmarc", "spf_aligned"), "yes", "messages[0].verified.dmarc.spf_aligned"),
    (("verified", "sending_index"), -1, "messages[0].verified.sending_index"),
    (("body_sha256",), "not-a-hash", "messages[0].body_sha256"),
    (("surprise",), 1, "messages[0].surprise"),
])
def test_a_damaged_stored_message_is_refused_with_its_field(lab: LabDnsServer, path: tuple, value: object,
                                                           field: str) -> None:
    from auditapp.core.project import ProjectError

    data = Project(name="p", domain=DOMAIN, messages=[to_stored(evidence_of(lab, Msg()))]).to_json()
    node = data["messages"][0]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ProjectError) as info:
        Project.from_json(data)
    assert info.value.field == field


def test_hostile_messages_give_results_never_a_crash(lab: LabDnsServer) -> None:
    """500 hops, malformed dates, encoded and folded fields, garbage Received values: every rule answers."""
    hops = "".join(f"Received: from h{i}.relay.test (h{i}.relay.test [192.0.2.{i % 250 + 1}])\r\n"
                   f"\tby h{i + 1}.relay.test with ESMTP id X{i}; not a date {i}\r\n" for i in range(500))
    garbage = "Received: ((((( [[[ ;;; by by by from\r\nReceived: =?utf-8?q?=E2=80=AE?= from\r\n"
    raw = (hops + garbage + "From: =?utf-8?b?w4Rsw7Z0?= <a@firma.test>\r\nSubject: x\r\n"
           "DKIM-Signature: v=1; a=rsa-sha256; d=firma.test; s=sel; b=!!!; bh=???\r\n"
           "Message-ID: <h@firma.test>\r\n\r\nbody\r\n").encode()
    ev = asyncio.run(examine("hostile.eml", raw, client(lab)))
    assert len(ev.hops) == 502
    findings = judge_message(ev, DOMAIN)
    assert {f.rule for f in findings} == set(message_rules())
    assert not [f for f in findings if f.status is Status.ERROR]
    stored = to_stored(ev)
    assert Project.from_json(Project(name="p", domain=DOMAIN, messages=[stored]).to_json()).messages == [stored]


@pytest.mark.parametrize("data", [b"", b"\x00\x01\x02", b"%PDF-1.7\n", b"just some text without fields\r\n"])
def test_not_a_message_is_a_clear_error(lab: LabDnsServer, data: bytes) -> None:
    from auditapp.message.headers import MessageError

    with pytest.raises(MessageError) as info:
        asyncio.run(examine("x.eml", data, client(lab)))
    assert "\n" not in str(info.value) and str(info.value)


def test_results_show_only_the_audited_domains_addresses(lab: LabDnsServer) -> None:
    """Recipients in Received lines and a foreign envelope appear as …@domain in every result."""
    ev = evidence_of(lab, Msg(submission=PLAIN_SUBMISSION))
    findings = judge_message(ev, DOMAIN)
    text = " ".join([*(line for f in findings for line in f.evidence),
                     *(str(v) for f in findings for v in f.params.values())])
    assert "bob@receiver.test" not in text and "…@receiver.test" in text
    assert f"bounce@{DOMAIN}" in text  # the audited domain's own envelope stays readable


def test_an_expiry_is_judged_at_receipt_not_today(lab: LabDnsServer) -> None:
    """x= one day after the delivery in the Received line: valid when received, long past today."""
    from datetime import datetime as dt

    from auditapp.message.verify import verify_dkim

    received = dt(2026, 12, 6, 10, 0, 4, tzinfo=UTC).timestamp()
    raw = build(Msg(sign=None))
    expiry = int(received) + 86400

    class WithExpiry(dkim.DKIM):
        """dkimpy signs without x=; this signer adds it before b= is computed (a valid signature)."""

        def gen_header(self, fields, include_headers, canon_policy, header_name, pk, standardize=False):
            fields = [(k, str(int(received) - 60).encode()) if k == b"t" else (k, v) for k, v in fields]
            fields.insert(len(fields) - 1, (b"x", str(expiry).encode()))  # b= stays last
            return super().gen_header(fields, include_headers, canon_policy, header_name, pk, standardize)

    message = WithExpiry(raw).sign(b"sel", DOMAIN.encode(), PRIVATE, include_headers=[b"from", b"subject"]) + raw
    assert f"x={expiry}".encode() in message
    [now] = asyncio.run(verify_dkim(message, client(lab)))  # judged today (later than x=)?
    [then] = asyncio.run(verify_dkim(message, client(lab), dt.fromtimestamp(received, UTC)))
    assert then.result == "pass"
    if time.time() > received + 86400:
        assert now.result == "fail" and now.reason.startswith("signature expired")
    ev = asyncio.run(examine("x.eml", message, client(lab)))
    assert ev.dkim[0].result == "pass"  # examine judges at the newest Received date
