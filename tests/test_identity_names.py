"""PTR names: what is a provider default and what is just a word (issue 11, verdict 6)."""

from __future__ import annotations

import pytest

from auditapp.checks.identity import generic_why


@pytest.mark.parametrize(("name", "ip"), [
    ("mail.dynamics.example.de", "192.0.2.10"),
    ("mx.custom.example.com", "192.0.2.10"),
    ("smtp.client.example.net", "192.0.2.10"),
    ("dynamics.example", "192.0.2.10"),
    ("custom.example", "192.0.2.10"),
    ("client.example", "192.0.2.10"),
    ("mail.pooltechnik.example.de", "192.0.2.10"),
    ("static.mail.example.de", "192.0.2.10"),   # "static" alone is not conclusive (knowledge base R1)
    ("mx2024.example.de", "192.0.2.10"),        # a number without a keyword
    ("mail.example.de", "2001:db8::10"),
])
def test_ordinary_names_are_not_generic(name: str, ip: str) -> None:
    assert generic_why(name, ip) == ""


@pytest.mark.parametrize(("name", "ip", "why"), [
    ("30.2.0.192.dyn.isp.example", "192.0.2.30", "why.ip_embedded"),
    ("192-0-2-30.static.isp.example", "192.0.2.30", "why.ip_embedded"),
    ("p5b0c1234.dip0.t-ipconnect.example", "91.12.18.52", "why.ip_hex"),
    ("p5b0c9999.dip0.t-ipconnect.example", "91.12.18.52", "why.keyword|dip"),
    ("c000021e.isp.example", "192.0.2.30", "why.ip_hex"),
    ("host192000002030.isp.example", "192.0.2.30", "why.ip_embedded"),
    ("dsl-dyn-4711.isp.example", "192.0.2.34", "why.keyword|dsl"),
    ("client-17.cable.isp.example", "192.0.2.34", "why.keyword|client"),
    ("ppp4711.isp.example", "192.0.2.34", "why.keyword|ppp"),
])
def test_provider_defaults_are_generic(name: str, ip: str, why: str) -> None:
    assert generic_why(name, ip) == why


@pytest.mark.parametrize(("helo", "address", "why"), [
    ("[192.0.2.1]", "192.0.2.1", None),
    ("[IPv6:2001:db8::1]", "2001:db8::1", None),
    ("[ipv6:2001:db8::1]", "2001:db8::1", None),  # ABNF strings are case-insensitive (RFC 5234 §2.3)
    ("[2001:db8::1]", None, "why.literal_tag"),   # RFC 5321 §4.1.3: an IPv6 literal needs "IPv6:"
    ("[IPv6:192.0.2.1]", None, "why.literal_tag"),
    ("[1.2.3]", None, "why.invalid_name"),
])
def test_address_literals_follow_rfc5321(helo: str, address: str | None, why: str | None) -> None:
    from auditapp.core.dnsnames import address_literal, helo_syntax_problem

    assert address_literal(helo) == address
    if why is not None:
        assert helo_syntax_problem(helo) == why
