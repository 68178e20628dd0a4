"""Reading received messages and their hop chains (issue 15, the foundation under verification).

Every sample below is written by hand after the documented ``Received:`` layouts of Postfix
(smtpd's ``smtpd_received_header``), Exim (``received_header_text``), Exchange Online and Gmail,
with documentation addresses (RFC 5737, RFC 3849) and example names (RFC 2606): no real message.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from auditapp.message.headers import (
    MAX_HEADER_BYTES,
    MessageError,
    ascii_domain,
    read_file,
    read_message,
    read_text,
    split_message,
)
from auditapp.message.hops import Hop, is_public, organisation, parse_hops, parse_received, sending_hop

POSTFIX_TLS = (
    "from mail.example.com (mail.example.com [192.0.2.1])\r\n"
    "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n"
    "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\r\n"
    "\t(No client certificate requested)\r\n"
    "\tby mx.example.net (Postfix) with ESMTPS id 4XyZ1234abcd\r\n"
    "\tfor <bob@example.net>; Tue,  5 Nov 2024 10:00:05 +0100 (CET)"
)
POSTFIX_HELO_DIFFERS = ("from helo.example.org (unknown [198.51.100.7]) by mx.example.net (Postfix) "
                        "with ESMTP id 4AbC; Tue, 5 Nov 2024 09:00:00 +0000")
EXIM_LITERAL = ("from [203.0.113.9] (helo=mail.firma.local) by mx.example.org with esmtps (TLS1.3) "
                "tls TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <a@example.de>) id 1tABC-000123-4X "
                "for x@example.org; Tue, 05 Nov 2024 10:00:01 +0000")
EXIM_RDNS = ("from mail.example.com ([192.0.2.1] helo=smtp.example.com) by mx.example.org with esmtpsa "
             "(TLS1.2) tls TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <a@example.com>) "
             "id 1tABC-000124-5Y; Tue, 05 Nov 2024 10:00:01 +0000")
M365 = ("from EUR05-DB8-obe.outbound.protection.outlook.com (40.107.1.2) by\r\n"
        " AM0PR01MB1234.eurprd01.prod.outlook.com (2603:10a6:20b:3d::5) with Microsoft\r\n"
        " SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id\r\n"
        " 15.20.8137.12 via Frontend Transport; Tue, 5 Nov 2024 10:00:02 +0000")
GMAIL = ("from mail.example.com (mail.example.com. [192.0.2.1])\r\n"
         "        by mx.google.com with ESMTPS id d2e1a72fcca58-71e5a3c3d2esi1234567b3a.123.2024.11.05.01.00.00\r\n"
         "        for <recipient@gmail.com>\r\n"
         "        (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\r\n"
         "        Tue, 05 Nov 2024 01:00:00 -0800 (PST)")
LMTP = ("from mx.example.net by imap.example.net with LMTP id AbCdEf (envelope-from <alice@example.com>) "
        "for <bob@example.net>; Tue, 5 Nov 2024 10:00:07 +0100")
IPV6 = ("from [IPv6:2001:db8::1] (unknown [IPv6:2001:db8::1]) by mx.example.net (Postfix) with ESMTPSA "
        "id 4Q; Tue, 5 Nov 2024 09:00:00 +0000")


def message(*received: str, body: bytes = b"Hello Bob,\r\n\r\nsee you.\r\n", extra: str = "") -> bytes:
    """A message with ``received`` newest first, as a mailbox stores it."""
    lines = ["Return-Path: <bounces+123@example.com>"]
    lines += [f"Received: {value}" for value in received]
    lines += [
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel2024;\r\n"
        "\th=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
        "\tb=AAAA",
        "Authentication-Results: mx.example.net; dkim=pass header.d=example.com header.s=sel2024;\r\n"
        " spf=pass smtp.mailfrom=example.com; dmarc=pass header.from=example.com",
        "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.net; s=arc; t=1730797205; b=BBBB",
        "ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=arc; h=from; bh=x; b=CCCC",
        "ARC-Authentication-Results: i=1; mx.example.net; dkim=pass header.d=example.com",
        'From: "Alice Example" <Alice@Example.COM>',
        "To: Bob <bob@example.net>",
        "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=",
        "Date: Tue, 5 Nov 2024 10:00:00 +0100",
        "Message-ID: <20241105090000.1234@mail.example.com>",
        "MIME-Version: 1.0",
    ]
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --- headers -------------------------------------------------------------------------------------


def test_reads_the_facts_and_keeps_only_the_header_block() -> None:
    body = b"Hello Bob,\r\n\r\nsee you.\r\n"
    data = message(LMTP, POSTFIX_TLS, body=body)
    found = read_message(data)
    assert found.message_id == "<20241105090000.1234@mail.example.com>"
    assert found.from_address == "Alice@Example.COM"
    assert found.from_domain == "example.com"
    assert found.envelope_sender == "bounces+123@example.com"
    assert found.envelope_domain == "example.com"
    assert len(found.received) == 2 and found.received[0].startswith("from mx.example.net by imap")
    assert "\r" not in found.received[1] and "  " not in found.received[1]
    assert found.authentication_results[0].startswith("mx.example.net; dkim=pass")
    assert found.dkim_signatures[0].lstrip().startswith("v=1; a=rsa-sha256")
    assert "\r\n\th=from" in found.dkim_signatures[0]  # raw: folding kept for the verifier
    assert len(found.arc_seals) == len(found.arc_message_signatures) == len(found.arc_authentication_results) == 1
    assert found.body_sha256 == hashlib.sha256(body).hexdigest() and found.body_bytes == len(body)
    assert b"Hello Bob" not in found.header_block and found.header_block.endswith(b"MIME-Version: 1.0\r\n")
    assert "Hello" not in repr(found)


def test_pasted_headers_without_a_body() -> None:
    text = "\n\n" + message(POSTFIX_TLS).decode().split("\r\n\r\n")[0].replace("\r\n", "\n") + "\n"
    found = read_text(text)
    assert found.body_sha256 is None and found.body_bytes is None
    assert found.from_domain == "example.com" and len(found.received) == 1


def test_pasted_text_with_a_lone_surrogate() -> None:
    assert read_text("From: a@example.com\nSubject: \ud800\n").from_domain == "example.com"


def test_mbox_line_bom_and_lf_only() -> None:
    data = b"\xef\xbb\xbfFrom alice@example.com Tue Nov  5 10:00:00 2024\n" + message(POSTFIX_TLS).replace(
        b"\r\n", b"\n")
    found = read_message(data)
    assert found.message_id and found.received and found.body_bytes is not None


def test_encoded_and_folded_headers() -> None:
    found = read_message(message(extra="From: =?utf-8?q?J=C3=BCrgen?=\r\n <j@B\xc3\xbccher.example>"
                                 .encode("latin-1").decode("utf-8")))
    # two From fields: both domains in order, the first wins
    assert found.from_domains[0] == "example.com"
    assert found.from_domains[1] == "xn--bcher-kva.example"
    folded = read_message(b"Received: from a.example.com (a.example.com [192.0.2.3])\r\n"
                          b"\tby\r\n mx.example.net\r\n with ESMTP; Tue, 5 Nov 2024\r\n 10:00:00 +0000\r\n"
                          b"Subject: =?iso-8859-1?q?=E4?=\r\n\r\n")
    hop = parse_hops(folded.received)[0]
    assert hop.by == "mx.example.net" and hop.time == "2024-11-05T10:00:00+00:00"


def test_ascii_domain() -> None:
    assert ascii_domain("Bücher.Example.") == "xn--bcher-kva.example"
    assert ascii_domain("[192.0.2.1]") is None
    assert ascii_domain("") is None
    assert ascii_domain("EXAMPLE.com") == "example.com"


def test_raw_bytes_that_are_not_utf8_do_not_crash() -> None:
    found = read_message(b"Received: from h\xe4st.example (x [192.0.2.1]) by mx.example.net; x\r\n"
                         b"From: a@b\xff.example\r\n\r\n")
    assert "\ufffd" in found.received[0]


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty"),
    (b"\r\n\r\n", "empty"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "header field"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NUL"),
    (b"From: a@example.com\r\nSubject: x\x00y\r\n\r\nbody", "NUL"),
    (b"Hello Bob,\nthis is just a letter.\n", "header field"),
    (b"Note: buy milk\n", "none of From"),
    (b" continued: line first\n", "header field"),
])
def test_not_a_message(data: bytes, reason: str) -> None:
    with pytest.raises(MessageError) as caught:
        read_message(data)
    assert reason in str(caught.value) and "\n" not in str(caught.value)


def test_nul_in_the_body_is_only_hashed() -> None:
    found = read_message(message(POSTFIX_TLS, body=b"\x00\x01binary"))
    assert found.body_bytes == 8


def test_a_10_mb_header_block_is_refused_quickly() -> None:
    data = b"Received: from a (b [192.0.2.1]) by c; x\r\n" + b"X-Junk: " + b"a" * (10 * 1024 * 1024) + b"\r\n"
    start = time.perf_counter()
    with pytest.raises(MessageError, match="header block is larger"):
        read_message(data)
    with pytest.raises(MessageError, match="header block is larger"):
        read_message(data + b"\r\nbody")
    assert time.perf_counter() - start < 2


def test_a_header_block_just_under_the_limit_is_read() -> None:
    head = b"From: a@example.com\r\nX-Pad: " + b"a" * (MAX_HEADER_BYTES - 100) + b"\r\n"
    assert read_message(head + b"\r\nbody").from_domain == "example.com"


def test_files_over_20_mib_and_non_files_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.eml"
    with big.open("wb") as out:
        out.write(message(POSTFIX_TLS))
        out.truncate(21 * 1024 * 1024)
    with pytest.raises(MessageError, match="MiB"):
        read_file(big)
    with pytest.raises(MessageError):
        read_message(b"From: a@example.com\r\n\r\n" + b"x" * (21 * 1024 * 1024))
    with pytest.raises(MessageError, match="not a file"):
        read_file(tmp_path)
    with pytest.raises(MessageError):
        read_file(tmp_path / "missing.eml")
    good = tmp_path / "good.eml"
    good.write_bytes(message(POSTFIX_TLS))
    assert read_file(good).message_id


def test_split_message() -> None:
    assert split_message(b"A: 1\r\nB: 2\r\n\r\nbody\r\n\r\nmore") == (b"A: 1\r\nB: 2\r\n", b"body\r\n\r\nmore")
    assert split_message(b"A: 1\nB: 2") == (b"A: 1\nB: 2\n", None)
    assert split_message(b"A: 1\n\n") == (b"A: 1\n", b"")


# --- hops ----------------------------------------------------------------------------------------


def test_postfix_with_tls_details() -> None:
    hop = parse_received(POSTFIX_TLS)
    assert (hop.from_name, hop.from_ip, hop.helo, hop.by) == (
        "mail.example.com", "192.0.2.1", "mail.example.com", "mx.example.net")
    assert (hop.protocol, hop.tls, hop.cipher) == ("ESMTPS", "TLSv1.3", "TLS_AES_256_GCM_SHA384")
    assert hop.time == "2024-11-05T10:00:05+01:00"
    assert "\r" not in hop.raw


def test_postfix_helo_differs_from_unknown_reverse_name() -> None:
    hop = parse_received(POSTFIX_HELO_DIFFERS)
    assert (hop.from_ip, hop.helo, hop.from_name, hop.protocol, hop.tls) == (
        "198.51.100.7", "helo.example.org", "helo.example.org", "ESMTP", None)
    hop = parse_received("from helo.example.org (rdns.example.com [198.51.100.7]) by mx.example.net "
                         "(Postfix) with ESMTP id 1; Tue, 5 Nov 2024 09:00:00 +0000")
    assert (hop.helo, hop.from_name) == ("helo.example.org", "rdns.example.com")


def test_exim() -> None:
    hop = parse_received(EXIM_LITERAL)
    assert (hop.from_name, hop.from_ip, hop.helo, hop.by) == (None, "203.0.113.9", "mail.firma.local", "mx.example.org")
    assert (hop.protocol, hop.tls, hop.cipher) == ("esmtps", "TLSv1.3", "TLS_AES_256_GCM_SHA384")
    hop = parse_received(EXIM_RDNS)
    assert (hop.from_name, hop.from_ip, hop.helo, hop.protocol, hop.tls) == (
        "mail.example.com", "192.0.2.1", "smtp.example.com", "esmtpsa", "TLSv1.2")
    hop = parse_received("from mail.example.com ([192.0.2.1]) by mx.example.org with esmtp (Exim 4.96) "
                         "id 1; Tue, 05 Nov 2024 10:00:01 +0000")
    assert (hop.from_name, hop.helo, hop.tls) == ("mail.example.com", "mail.example.com", None)


def test_microsoft_365() -> None:
    hop = parse_received(M365)
    assert hop.from_ip == "40.107.1.2" and hop.by_ip == "2603:10a6:20b:3d::5"
    assert hop.helo == "EUR05-DB8-obe.outbound.protection.outlook.com"
    assert hop.by == "am0pr01mb1234.eurprd01.prod.outlook.com"
    assert (hop.protocol, hop.tls, hop.cipher) == (
        "Microsoft SMTP Server", "TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
    internal = parse_received("from AM0PR01MB1234.eurprd01.prod.outlook.com (2603:10a6:20b:3d::5) by "
                              "AM0PR01MB5678.eurprd01.prod.outlook.com with HTTPS; Tue, 5 Nov 2024 10:00:03 +0000")
    assert (internal.from_ip, internal.protocol, internal.tls) == ("2603:10a6:20b:3d::5", "HTTPS", None)


def test_gmail() -> None:
    hop = parse_received(GMAIL)
    assert (hop.from_name, hop.from_ip, hop.helo, hop.by) == (
        "mail.example.com", "192.0.2.1", "mail.example.com", "mx.google.com")
    assert (hop.protocol, hop.tls, hop.cipher) == ("ESMTPS", "TLSv1.3", "TLS_AES_256_GCM_SHA384")
    assert hop.time == "2024-11-05T01:00:00-08:00"
    internal = parse_received("by 2002:a05:6a10:a0c9:b0:5c8:1234:5678 with SMTP id abc; "
                              "Tue, 5 Nov 2024 01:00:01 -0800 (PST)")
    assert (internal.from_ip, internal.by, internal.protocol) == (None, "2002:a05:6a10:a0c9:b0:5c8:1234:5678", "SMTP")


def test_lmtp_ipv6_and_local_pickup() -> None:
    hop = parse_received(LMTP)
    assert (hop.from_name, hop.from_ip, hop.by, hop.protocol, hop.tls) == (
        "mx.example.net", None, "imap.example.net", "LMTP", None)
    hop = parse_received(IPV6)
    assert (hop.from_ip, hop.helo, hop.from_name, hop.protocol, hop.tls) == (
        "2001:db8::1", "[IPv6:2001:db8::1]", None, "ESMTPSA", "tls")
    hop = parse_received("by mx.example.net (Postfix, from userid 1000) id 4Z; Tue, 5 Nov 2024 09:00:00 +0000")
    assert (hop.from_ip, hop.helo, hop.by, hop.protocol) == (None, None, "mx.example.net", None)


def test_tls_words_in_host_names_are_not_versions() -> None:
    hop = parse_received("from tls1.example.com (tls1.example.com [192.0.2.5]) by mx.example.net with SMTP; "
                         "Tue, 5 Nov 2024 10:00:03 +0000")
    assert hop.tls is None and hop.protocol == "SMTP"


@pytest.mark.parametrize("date", ["", "garbage", "Tue, 45 Foo 2024 99:99:99 +0000", "Tue, 5 Nov 99999 10:00 +0000",
                                  "Tue, 5 Nov 2024 10:00:00 +9999", "(no date)"])
def test_malformed_dates_give_none(date: str) -> None:
    hop = parse_received(f"from a.example.com (a.example.com [192.0.2.1]) by mx.example.net with ESMTP; {date}")
    assert hop.time is None and hop.by == "mx.example.net"


@pytest.mark.parametrize("value", ["", ";", "((((((", "from", "from (", "by ) (", "from [IPv6:zzzz]", "x" * 5000,
                                   "from a (b [999.1.1.1]) by c", "with with with", "(" * 20000 + ")" * 100])
def test_garbage_received_values_do_not_crash(value: str) -> None:
    hop = parse_received(value)
    assert isinstance(hop, Hop) and hop.from_ip is None


def test_hops_are_in_transport_order_with_delays() -> None:
    received = (LMTP, POSTFIX_TLS, "from client.example.com (client.example.com [10.1.2.3]) by mail.example.com "
                "(Postfix) with ESMTPSA id 1; Tue, 5 Nov 2024 09:59:58 +0100")
    hops = parse_hops(received)
    assert [hop.by for hop in hops] == ["mail.example.com", "mx.example.net", "imap.example.net"]
    assert [hop.index for hop in hops] == [0, 1, 2]
    assert [hop.delay for hop in hops] == [None, 7.0, 2.0]
    broken = parse_hops(("from x by y; garbage", POSTFIX_TLS))
    assert [hop.delay for hop in broken] == [None, None]


def test_500_received_headers_parse_fast() -> None:
    received = [f"from relay{i}.example.com (relay{i}.example.com [192.0.2.{i % 250 + 1}]) by "
                f"relay{i + 1}.example.com (Postfix) with ESMTPS id {i}; Tue, 5 Nov 2024 10:{i % 60:02d}:00 +0000"
                for i in range(500)]
    data = message(*received)
    start = time.perf_counter()
    found = read_message(data)
    hops = parse_hops(found.received)
    elapsed = time.perf_counter() - start
    assert len(hops) == 500 and hops[0].from_name == "relay499.example.com"
    assert elapsed < 2, elapsed
    double = message(*(received * 4))
    start = time.perf_counter()
    assert len(parse_hops(read_message(double).received)) == 2000
    assert time.perf_counter() - start < 8 * max(elapsed, 0.05)  # linear, not quadratic


# --- the sending hop -----------------------------------------------------------------------------


def test_is_public() -> None:
    assert is_public("192.0.2.1") and is_public("2001:db8::1") and is_public("40.107.1.2")
    for address in ("10.0.0.1", "172.16.5.5", "192.168.1.1", "127.0.0.1", "::1", "fe80::1", "fd00::1",
                    "100.64.0.1", "0.0.0.0", "::ffff:10.0.0.1", None, "", "not-an-ip"):
        assert not is_public(address), address


def test_organisation() -> None:
    assert organisation("mail.example.com.") == "example.com"
    assert organisation("MX1.Mail.Example.co.uk") == "example.co.uk"
    assert organisation("example.co.uk") == "example.co.uk"
    assert organisation("localhost") is None and organisation("192.0.2.1") is None and organisation(None) is None


def test_sending_hop_skips_the_receivers_own_hops() -> None:
    received = (
        LMTP,
        "from mx.example.net (mx-in.example.net [192.0.2.200]) by filter.example.net with ESMTP; "
        "Tue, 5 Nov 2024 10:00:06 +0100",
        POSTFIX_TLS,
        "from client.firma.local (client.firma.local [10.1.2.3]) by mail.example.com (Postfix) with ESMTPSA id 1; "
        "Tue, 5 Nov 2024 09:59:58 +0100",
    )
    hops = parse_hops(received)
    chosen = sending_hop(hops)
    assert chosen is not None and (chosen.from_ip, chosen.by, chosen.index) == ("192.0.2.1", "mx.example.net", 1)
    assert sending_hop(hops, ["example.net"]) == chosen


def test_sending_hop_microsoft_outbound_to_gmail() -> None:
    received = (
        GMAIL.replace("mail.example.com (mail.example.com. [192.0.2.1])",
                      "EUR05-DB8-obe.outbound.protection.outlook.com (mail-db8eur05on2040.outbound.protection."
                      "outlook.com. [40.107.1.2])"),
        M365,
    )
    chosen = sending_hop(parse_hops(received))
    assert chosen is not None and (chosen.from_ip, chosen.by) == ("40.107.1.2", "mx.google.com")


def test_sending_hop_with_receiver_domains_and_fallbacks() -> None:
    # a receiver whose relays are named after another organisation: only receiver_domains tells
    received = (
        "from relay.hosting.example (relay.hosting.example [198.51.100.20]) by mx.example.net with ESMTPS; "
        "Tue, 5 Nov 2024 10:00:06 +0100",
        "from mail.example.com (mail.example.com [192.0.2.1]) by relay.hosting.example with ESMTPS; "
        "Tue, 5 Nov 2024 10:00:05 +0100",
    )
    hops = parse_hops(received)
    assert sending_hop(hops).from_ip == "198.51.100.20"  # type: ignore[union-attr]
    assert sending_hop(hops, ["example.net", "hosting.example"]).from_ip == "192.0.2.1"  # type: ignore[union-attr]
    # every hop inside one organisation: the oldest public one
    same = parse_hops(("from b.example.com (b.example.com [192.0.2.9]) by c.example.com with ESMTP; x",
                       "from a.example.com (a.example.com [192.0.2.8]) by b.example.com with ESMTP; x"))
    assert sending_hop(same).from_ip == "192.0.2.8"  # type: ignore[union-attr]
    assert sending_hop(parse_hops((LMTP,))) is None
    assert sending_hop(()) is None
