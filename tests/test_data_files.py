"""The data files in auditapp/data: strict loading, sources named, both languages present."""

from __future__ import annotations

import ipaddress
import itertools
import tomllib

import pytest

from auditapp.data._toml import DATA_DIR, DataError
from auditapp.data.blocklists import _data, blocklist_for, meaning_of
from auditapp.data.dkim_selectors import common_selectors
from auditapp.data.providers import _provider, match_mx


def test_every_data_file_parses() -> None:
    for path in DATA_DIR.glob("*.toml"):
        tomllib.loads(path.read_text("utf-8"))


def test_common_selectors_include_the_issue_list_and_say_dated_ones_cannot_be_guessed() -> None:
    sel = common_selectors()
    assert {"selector1", "selector2", "google", "default", "dkim", "mail", "s1", "s2", "k1"} <= set(sel.names)
    assert "20230601" in sel.dated_note.de and "20230601" in sel.dated_note.en


def test_blocklist_codes_never_overlap_within_a_zone_and_the_default_covers_127_8() -> None:
    lists, default = _data()
    for bl in lists:
        spans = sorted(r for cm in bl.codes for r in cm.ranges)
        for (_, a_hi), (b_lo, _) in itertools.pairwise(spans):
            assert a_hi < b_lo, f"{bl.id}: overlapping codes"
        assert bl.delisting
    for n in (0, 2, 255 * 65536, 0xFFFFFF):
        code = str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("127.0.0.0")) + n))
        assert any(cm.covers(code) for cm in default), code


@pytest.mark.parametrize(("zone", "code", "klass", "severity"), [
    ("zen.spamhaus.org", "127.0.0.2", "spam_source", "high"),
    ("zen.spamhaus.org", "127.0.0.4", "compromised", "high"),
    ("zen.spamhaus.org", "127.0.0.11", "policy_enduser", "medium"),
    ("zen.spamhaus.org", "127.255.255.254", "refused", None),
    ("zen.spamhaus.org", "127.255.255.255", "refused", None),
    ("KEY123.zen.dq.spamhaus.net", "127.0.0.3", "spam_source", "high"),
    ("dnsbl-2.uceprotect.net", "127.0.0.2", "provider_range", "low"),
    ("dnsbl-3.uceprotect.net", "127.0.0.2", "provider_range", "low"),
    ("unknown.example", "127.0.0.2", "other", "high"),
    ("unknown.example", "127.255.255.252", "refused", None),
])
def test_return_codes_mean_what_the_operators_say(zone: str, code: str, klass: str, severity: str | None) -> None:
    m = meaning_of(zone, code)
    assert m.klass == klass
    assert (m.severity.value if m.severity else None) == severity
    assert m.meaning.de and m.meaning.en and m.remediation.de


def test_closed_lists_are_marked() -> None:
    for zone in ("dnsbl.sorbs.net", "ix.dnsbl.manitu.net"):
        bl = blocklist_for(zone)
        assert bl is not None and bl.closed


def test_provider_loader_refuses_bad_entries() -> None:
    good = {"name": "X", "kind": "mailbox", "mx_suffixes": ["mx.example"], "dkim_note": {"de": "a", "en": "b"},
            "documentation": "https://example.org/", "sources": ["https://example.org/"], "verified": "S"}
    assert _provider("x", good).mx_suffixes == ("mx.example",)
    for broken in ({**good, "kind": "hosting"}, {**good, "mx_suffixes": []}, {**good, "surprise": 1},
                   {**good, "documentation": "http://example.org/"}, {**good, "submission_hosts": ["{tenant}.x"]}):
        with pytest.raises(DataError):
            _provider("x", broken)


def test_mx_matching_is_by_whole_labels() -> None:
    assert match_mx(["contoso-com.mail.protection.outlook.com"]).hosted
    assert not match_mx(["mail.protection.outlook.com.attacker.example"]).hosted
    assert not match_mx(["evilmail.protection.outlook.com.example"]).hosted
    assert match_mx(["w0123456.kasserver.com"]).provider.client_hosts("submission", ["w0123456.kasserver.com"]) == (
        "w0123456.kasserver.com",)
