"""Unit tests of the SPF record parser and of macro expansion (RFC 7208 §4.5, §4.6, §7)."""

from __future__ import annotations

import ipaddress

import pytest

from auditapp.spf import (
    MacroValues,
    Mechanism,
    Modifier,
    SpfSyntaxError,
    expand,
    expand_domain,
    is_spf_record,
    parse_record,
    select_spf_records,
)
from auditapp.spf.macros import ip_nibbles

# -- record selection (§4.5) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v=spf1", True),
        ("v=spf1 -all", True),
        ("V=SpF1 ~all", True),
        ("v=spf10", False),
        ("v=spf1mx", False),  # two TXT strings glued without a space
        ("v=spf2.0/pra -all", False),
        (" v=spf1 -all", False),
        ("spf1 -all", False),
        ("", False),
    ],
)
def test_is_spf_record(text: str, expected: bool) -> None:
    assert is_spf_record(text) is expected


def test_select_spf_records_keeps_only_spf_texts() -> None:
    texts = ["google-site-verification=abc", "v=spf1 -all", "v=spf10 +all", "V=SPF1 +all"]
    assert select_spf_records(texts) == ("v=spf1 -all", "V=SPF1 +all")


# -- valid records -----------------------------------------------------------------------


def test_terms_in_order_with_qualifiers() -> None:
    record = parse_record("v=spf1 +a -mx ~ptr ?exists:%{i}.bl.example.com include:_spf.example.com all")
    assert [(t.qualifier, t.name) for t in record.mechanisms] == [
        ("+", "a"), ("-", "mx"), ("~", "ptr"), ("?", "exists"), ("+", "include"), ("+", "all"),
    ]
    assert record.mechanisms[3].domain_spec == "%{i}.bl.example.com"
    assert record.mechanisms[3].has_macros
    assert record.mechanisms[4].domain_spec == "_spf.example.com"
    assert not record.mechanisms[4].has_macros
    assert [str(t) for t in record.terms][-1] == "all"


def test_names_are_case_insensitive() -> None:
    record = parse_record("v=spf1 A MX:Example.COM Include:x.example.com REDIRECT=r.example.com")
    assert [t.name for t in record.terms] == ["a", "mx", "include", "redirect"]
    assert record.mechanisms[1].domain_spec == "Example.COM"


def test_dual_cidr_and_ip_networks() -> None:
    record = parse_record("v=spf1 a/24//64 mx:mail.example.com//0 ip4:192.0.2.7/24 ip6:2001:DB8::1/32 "
                          "ip6:::ffff:1.2.3.4 a:foo.example.com/0")
    a, mx, ip4, ip6, mapped, a0 = record.mechanisms
    assert (a.domain_spec, a.cidr4, a.cidr6) == (None, 24, 64)
    assert (mx.domain_spec, mx.cidr4, mx.cidr6) == ("mail.example.com", None, 0)
    assert ip4.network == ipaddress.ip_network("192.0.2.0/24")
    assert ip6.network == ipaddress.ip_network("2001:db8::/32")
    assert mapped.network == ipaddress.ip_network("::ffff:1.2.3.4/128")
    assert (a0.domain_spec, a0.cidr4) == ("foo.example.com", 0)


def test_domain_spec_may_hold_any_visible_character() -> None:
    mech = parse_record("v=spf1 a:foo:bar/baz.example.com").mechanisms[0]
    assert mech.domain_spec == "foo:bar/baz.example.com"
    assert mech.cidr4 is None


def test_modifiers_redirect_exp_and_unknown() -> None:
    record = parse_record("v=spf1 mx moo.cow-far_out=man:dog/cat exp=explain._spf.%{d} redirect=_spf.example.com")
    assert isinstance(record.terms[1], Modifier)
    assert (record.terms[1].name, record.terms[1].value) == ("moo.cow-far_out", "man:dog/cat")
    assert record.exp is not None and record.exp.value == "explain._spf.%{d}"
    assert record.redirect is not None and record.redirect.value == "_spf.example.com"
    assert record.effective_redirect is record.redirect
    assert [str(t) for t in record.dns_terms] == ["mx", "redirect=_spf.example.com"]


def test_all_disables_redirect() -> None:
    record = parse_record("v=spf1 redirect=_spf.example.com ~all")
    assert record.redirect is not None
    assert record.effective_redirect is None
    assert record.dns_terms == ()


def test_spaces_version_only_and_trailing_space() -> None:
    assert parse_record("v=spf1").terms == ()
    assert len(parse_record("v=spf1  a   -all ").terms) == 2


def test_unknown_modifier_may_be_empty_and_use_any_macro() -> None:
    record = parse_record("v=spf1 foo= bar=%{c}%{r}%{t} -all")
    assert [t.name for t in record.terms if isinstance(t, Modifier)] == ["foo", "bar"]


def test_domain_spec_may_end_in_a_macro_or_escape() -> None:
    for spec in ("%{d}", "%{d2}", "example.%{o}", "foo.%-", "example.com.", "a-b.xn--zckzah"):
        mech = parse_record(f"v=spf1 include:{spec}").mechanisms[0]
        assert isinstance(mech, Mechanism) and mech.domain_spec == spec


# -- syntax errors (§4.6: a permerror wherever they are) -----------------------------------


@pytest.mark.parametrize(
    ("record", "fragment"),
    [
        ("v=spf1 ip4:1.2.3.4 -all moo", "unknown mechanism"),
        ("v=spf1 redirect:example.com", "unknown mechanism"),
        ("v=spf1 moo.cow/far_out=man:dog/cat", "unknown mechanism"),
        ("v=spf1 =all", "invalid term"),
        ("v=spf1 1up=foo", "invalid term"),
        ("v=spf1 -all.", "takes no argument"),
        ("v=spf1 -all:foobar", "takes no argument"),
        ("v=spf1 -all/8", "takes no argument"),
        ("v=spf1 include", "needs ':domain'"),
        ("v=spf1 include:", "empty domain-spec"),
        ("v=spf1 include:ip5.example.com/24", "top-level label"),
        ("v=spf1 exists", "needs ':domain'"),
        ("v=spf1 exists:mail.example.com/24", "top-level label"),
        ("v=spf1 ptr/0", "only ':domain'"),
        ("v=spf1 ptr:", "empty domain-spec"),
        ("v=spf1 a:", "empty domain-spec"),
        ("v=spf1 a/33", "CIDR"),
        ("v=spf1 a//129", "CIDR"),
        ("v=spf1 a/24/64", "CIDR"),
        ("v=spf1 mx/033", "CIDR"),
        ("v=spf1 ip4:1.2.3.4/33", "CIDR"),
        ("v=spf1 ip4:1.2.3.4/032", "CIDR"),
        ("v=spf1 ip4:1.2.3.4//32", "ip4"),
        ("v=spf1 ip4:1.2.3", "ip4"),
        ("v=spf1 ip4:1.2.3.4:8080", "ip4"),
        ("v=spf1 ip4:01.2.3.4", "ip4"),
        ("v=spf1 ip4:256.2.3.4", "ip4"),
        ("v=spf1 ip4", "ip4"),
        ("v=spf1 ip6", "ip6"),
        ("v=spf1 ip6::CAFE::BABE", "ip6"),
        ("v=spf1 ip6:::1/129", "CIDR"),
        ("v=spf1 ip6:::1.1.1.1//33", "ip6"),
        ("v=spf1 ip6:fe80::1%eth0", "ip6"),
        ("v=spf1 a:foo-bar", "must end in"),
        ("v=spf1 a:museum", "must end in"),
        ("v=spf1 a:museum.", "must end in"),
        ("v=spf1 a:111.222.33.44", "IP address belongs"),
        ("v=spf1 a:abc.123", "top-level label"),
        ("v=spf1 a:example.-com", "top-level label"),
        ("v=spf1 a:example.com:8080", "top-level label"),
        ("v=spf1 a:%{d}.", "must end in"),
        ("v=spf1 exists:%(ir).sbl.example.com", "invalid macro"),
        ("v=spf1 exists:foo%.sbl.example.com", "invalid macro"),
        ("v=spf1 exists:foo.sbl.example.com%", "invalid macro"),
        ("v=spf1 exists:%{ir.sbl.example.com", "unterminated"),
        ("v=spf1 a:%{a}.example.com", "not allowed"),
        ("v=spf1 a:%{d0}.example.com", "zero parts"),
        ("v=spf1 a:%{d2x}.example.com", "invalid macro"),
        ("v=spf1 exp=%{r}.example.com", "not allowed"),
        ("v=spf1 exp=%{c}.example.com", "not allowed"),
        ("v=spf1 -all foo=%abc", "invalid macro-string"),
        ("v=spf1 exp=", "empty domain-spec"),
        ("v=spf1 exp=-all", "must end in"),
        ("v=spf1 redirect=", "empty domain-spec"),
        ("v=spf1 redirect=-all ?all", "must end in"),
        ("v=spf1 redirect=a.example.com redirect=b.example.com", "more than once"),
        ("v=spf1 exp=a.example.com -all exp=b.example.com", "more than once"),
        ("v=spf1 a:\u00efgarbage.example.net -all", "non-ASCII"),
        ("v=spf1 a:example.net \u2013all", "non-ASCII"),
        ("v=spf1 a:ctrl.example.com\rptr -all", "control character"),
        ("v=spf1 ip4:192.0.2.5\n include:x.example.com", "control character"),
        ("v=spf1 a:foo.example.com\0", "control character"),
        ("v=spf1\t-all", "not an SPF record"),
        ("v=spf10 -all", "not an SPF record"),
    ],
)
def test_syntax_errors(record: str, fragment: str) -> None:
    with pytest.raises(SpfSyntaxError) as info:
        parse_record(record)
    assert fragment in info.value.message


# -- macros (§7) -------------------------------------------------------------------------

# The worked examples of RFC 7208 §7.4.
V4 = MacroValues(
    sender="strong-bad@email.example.com", local="strong-bad", sender_domain="email.example.com",
    domain="email.example.com", ip="192.0.2.3", version="in-addr", helo="mx.example.org",
    client_ip="192.0.2.3", receiver="receiver.example.net", timestamp="1700000000",
)
V6 = MacroValues(
    sender="strong-bad@email.example.com", local="strong-bad", sender_domain="email.example.com",
    domain="email.example.com", ip=ip_nibbles(ipaddress.ip_address("2001:db8::cb01").packed),
    version="ip6", helo="mx.example.org", client_ip="2001:db8::cb01",
)


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
        ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
        ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
        ("%{h}", "mx.example.org"),
        ("%%%_%-", "% %20"),
        ("%{D2}", "example.com"),
        ("%{S}", "strong-bad%40email.example.com"),
    ],
)
def test_rfc_examples(macro: str, expected: str) -> None:
    assert expand(macro, V4) == expected


def test_ipv6_example() -> None:
    expanded = expand("%{ir}.%{v}._spf.%{d2}", V6)
    assert expanded.lower() == ("1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
                                ".ip6._spf.example.com")


def test_explanation_letters_and_spaces() -> None:
    text = "%{c} is not one of %{d}'s designated mail servers (see %{r}, %{t})."
    assert expand(text, V4, explanation=True) == (
        "192.0.2.3 is not one of email.example.com's designated mail servers "
        "(see receiver.example.net, 1700000000)."
    )
    assert expand("%{c}", V6, explanation=True) == "2001:db8::cb01"
    with pytest.raises(SpfSyntaxError):
        expand("%{c}", V4)  # not in a domain-spec
    with pytest.raises(SpfSyntaxError):
        expand("a b", V4)  # spaces only in explanations


def test_multiple_delimiters_and_url_escape() -> None:
    values = MacroValues(sender="", local="foo-bar+zip+quux", sender_domain="", domain="", ip="",
                         version="in-addr", helo="")
    assert expand("%{l2r+-}", values) == "bar.foo"
    escaped = MacroValues(sender="", local="~jack&jill=up-a_b3.c", sender_domain="", domain="", ip="",
                          version="in-addr", helo="")
    assert expand("%{L}", escaped) == "~jack%26jill%3Dup-a_b3.c"


def test_expanded_domain_is_truncated_from_the_left() -> None:
    long_domain = "somewhat.long.exp.example.com"
    values = MacroValues(sender="", local="", sender_domain=long_domain, domain="", ip="",
                         version="in-addr", helo="")
    name = expand_domain("foobar." + ".".join(["%{o}"] * 8) + ".example.com.", values)
    assert len(name) <= 253
    assert name == ".".join([long_domain] * 8) + ".example.com"


def test_p_macro_must_be_resolved_first() -> None:
    with pytest.raises(RuntimeError):
        expand("%{p}", V4)
    from dataclasses import replace

    assert expand("%{p}", replace(V4, ptr="mx.example.org")) == "mx.example.org"
