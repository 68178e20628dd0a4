"""Every rule, made to pass and made to fail, by auditing real zones served by BIND 9.

The table below is the contract "each rule has a test that passes it and one that fails it";
``test_every_rule_has_a_pass_and_a_fail_case`` keeps it complete when rules are added.
The zones live in tests/lab/zones/ (good.test is right, bad.test and the others are wrong on
purpose).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from auditapp.audit.engine import EngineConfig, audit
from auditapp.catalog import catalog
from auditapp.core.model import Run, Status
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsClient, Nameserver

DKIM_SELECTORS = ("sel2048", "ed", "old", "weak", "tiny")


@dataclass(frozen=True)
class Case:
    domain: str
    subject: str | None = None  # defaults to the first IP, else the domain
    ips: tuple[str, ...] = ()
    helo: str | None = None
    selectors: tuple[str, ...] = DKIM_SELECTORS
    outcome: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    zones: tuple[str, ...] = ("dnsbl.test",)
    severity: str | None = None


GOOD_IP = "192.0.2.10"
ZEN = "zen.spamhaus.org"
P, F = Status.PASS, Status.FAIL

# rule -> [(expected status, case), ...]; at least one PASS and one FAIL each.
CASES: dict[str, list[tuple[Status, Case]]] = {
    "PTR-MISSING": [
        (P, Case("good.test", ips=(GOOD_IP,))),
        (P, Case("good.test", ips=("2001:db8::10",))),
        (F, Case("good.test", ips=("192.0.2.40",), outcome="missing")),
    ],
    "PTR-FCRDNS": [
        (P, Case("good.test", ips=(GOOD_IP,))),
        (P, Case("good.test", ips=("2001:db8::10",))),
        (P, Case("good.test", ips=("192.0.2.70",))),  # two PTRs, one confirms
        (F, Case("good.test", ips=("192.0.2.20",), outcome="other_addresses")),
        (F, Case("good.test", ips=("192.0.2.50",), outcome="nonpublic")),
        (F, Case("good.test", ips=("192.0.2.60",), outcome="nxdomain")),
    ],
    "PTR-GENERIC": [
        (P, Case("good.test", ips=(GOOD_IP,))),
        # Issue 11: "dynamics", "custom" and "client" as ordinary words are not provider defaults.
        (P, Case("good.test", ips=("192.0.2.31",))),
        (P, Case("good.test", ips=("192.0.2.32",))),
        (P, Case("good.test", ips=("192.0.2.33",))),
        (F, Case("good.test", ips=("192.0.2.30",), outcome="generic")),
        (F, Case("good.test", ips=("192.0.2.34",), outcome="generic")),  # keyword tokens next to a number
        (F, Case("good.test", ips=("192.0.2.35",), outcome="generic")),  # the address in hex (c0000222)
    ],
    "HELO-INVALID": [
        (P, Case("good.test", ips=(GOOD_IP,), helo="mail.good.test")),
        (P, Case("good.test", ips=(GOOD_IP,), helo="[192.0.2.10]", outcome="literal")),
        (F, Case("good.test", ips=(GOOD_IP,), helo="mail.firma.local", outcome="not_fqdn")),
        (F, Case("good.test", ips=(GOOD_IP,), helo="localhost", outcome="not_fqdn")),
        (F, Case("good.test", ips=(GOOD_IP,), helo="mailserver", outcome="not_fqdn")),
        (F, Case("good.test", ips=(GOOD_IP,), helo="192.0.2.10", outcome="not_fqdn")),
        (F, Case("good.test", ips=(GOOD_IP,), helo="nohost.good.test", outcome="nxdomain")),
        (F, Case("good.test", ips=(GOOD_IP,), helo="good.test", outcome="no_address")),
    ],
    "HELO-IP-MISMATCH": [
        (P, Case("good.test", ips=(GOOD_IP,), helo="mail.good.test")),
        (F, Case("good.test", ips=("192.0.2.20",), helo="mail.good.test", outcome="mismatch")),
        (Status.NOT_APPLICABLE, Case("good.test", ips=(GOOD_IP,), helo="mail.firma.local")),
    ],
    "HELO-PTR-MISMATCH": [
        (P, Case("good.test", ips=(GOOD_IP,), helo="mail.good.test")),
        (F, Case("good.test", ips=("192.0.2.20",), helo="mail.good.test", outcome="mismatch")),
    ],
    "SPF-MISSING": [
        (P, Case("good.test")),
        (F, Case("nospf.test", outcome="missing")),
    ],
    "SPF-MULTIPLE": [
        (P, Case("good.test")),
        (F, Case("multi.test", outcome="multiple")),
    ],
    "SPF-SYNTAX": [
        (P, Case("good.test")),
        (F, Case("syntax.test", outcome="invalid")),
    ],
    "SPF-LOOKUP-LIMIT": [
        (P, Case("good.test")),
        (F, Case("lookups.test", outcome="exceeded")),
    ],
    "SPF-VOID-LIMIT": [
        (P, Case("good.test")),
        (F, Case("void.test", outcome="exceeded")),
    ],
    "SPF-PASS-ALL": [
        (P, Case("good.test")),
        (F, Case("bad.test", outcome="pass_all")),
    ],
    "SPF-NEUTRAL-ALL": [
        (P, Case("good.test")),
        (P, Case("redirect.test")),
        (F, Case("neutral.test", outcome="neutral_all")),
        (F, Case("noall.test", outcome="no_all")),
    ],
    "SPF-HARDFAIL-ALL": [
        (P, Case("good.test")),
        (F, Case("hardfail.test", outcome="without_dkim")),
    ],
    "SPF-PTR-MECHANISM": [
        (P, Case("good.test")),
        (F, Case("hardfail.test", outcome="uses_ptr")),
    ],
    "SPF-SENDER-NOT-AUTHORIZED": [
        (P, Case("good.test", ips=(GOOD_IP,))),
        (P, Case("good.test", ips=("2001:db8::10",))),
        (P, Case("redirect.test", ips=(GOOD_IP,))),
        (F, Case("good.test", ips=("192.0.2.20",), outcome="not_authorized")),
    ],
    "SPF-HELO-MISSING": [
        (P, Case("good.test", subject="mail.good.test", ips=(GOOD_IP,), helo="mail.good.test")),
        (F, Case("good.test", subject="mx2.bad.test", ips=(GOOD_IP,), helo="mx2.bad.test", outcome="missing")),
    ],
    "DKIM-NO-KEY": [
        (P, Case("good.test", selectors=("sel2048", "ed"))),
        (P, Case("good.test", selectors=("sel2048",))),
        (F, Case("good.test", selectors=("sel2048", "nosuch"), outcome="missing")),
        (F, Case("good.test", selectors=("old",), outcome="revoked_only")),
        (F, Case("nospf.test", selectors=("default",), outcome="missing")),
        # Issue 11: without a known selector, no key at the common ones proves nothing.
        (Status.NOT_TESTED, Case("nospf.test", selectors=())),
    ],
    "DKIM-WEAK-KEY": [
        (P, Case("good.test", subject="sel2048._domainkey.good.test")),
        (P, Case("good.test", subject="ed._domainkey.good.test")),
        (F, Case("bad.test", subject="weak._domainkey.bad.test", outcome="weak")),
        (F, Case("bad.test", subject="tiny._domainkey.bad.test", outcome="too_short")),
    ],
    "DKIM-TESTING": [
        (P, Case("good.test", subject="sel2048._domainkey.good.test")),
        (F, Case("bad.test", subject="weak._domainkey.bad.test", outcome="testing")),
    ],
    "ADSP-RECORD": [
        (P, Case("good.test")),
        (F, Case("bad.test", outcome="discardable")),
    ],
    "DMARC-MISSING": [
        (P, Case("good.test")),
        (P, Case("sub.good.test")),  # RFC 9989 tree walk: covered by good.test's record
        (F, Case("nospf.test", outcome="missing")),
    ],
    "DMARC-SYNTAX": [
        (P, Case("good.test", subject="_dmarc.good.test")),
        (F, Case("syntax.test", subject="_dmarc.syntax.test", outcome="invalid")),
        (F, Case("multi.test", subject="_dmarc.multi.test", outcome="multiple")),
        (F, Case("bad.test", subject="_dmarc.bad.test", outcome="removed_tags")),
    ],
    "DMARC-POLICY-NONE": [
        (P, Case("good.test")),
        (F, Case("bad.test", outcome="none")),
        (F, Case("dmarctest.test", outcome="testing")),  # p=reject with t=y is not enforced
    ],
    "DMARC-SUBDOMAIN-NONE": [
        (P, Case("good.test", subject="_dmarc.good.test")),
        (F, Case("spnone.test", subject="_dmarc.spnone.test", outcome="sp_none")),
        (F, Case("npnone.test", subject="_dmarc.npnone.test", outcome="np_none")),
        (Status.NOT_APPLICABLE, Case("bad.test")),  # p=none: nothing enforced to exempt from
    ],
    "DMARC-NO-REPORTING": [
        (P, Case("good.test")),
        (F, Case("bad.test", outcome="no_rua")),
    ],
    "DMARC-REJECT-RISK": [
        (P, Case("good.test")),
        (F, Case("hardfail.test", selectors=("default",), outcome="spf_only")),
        # Issue 11: with no selector known, whether the domain signs is unknown: not "high".
        (Status.NOT_TESTED, Case("hardfail.test", selectors=())),
        (Status.NOT_APPLICABLE, Case("bad.test")),
    ],
    "MTA-STS-MISSING": [
        (P, Case("good.test")),
        (F, Case("nospf.test", outcome="missing")),
    ],
    "TLSRPT-MISSING": [
        (P, Case("good.test")),
        (F, Case("nospf.test", outcome="missing")),
    ],
    "DNSBL-LISTED": [
        (P, Case("good.test", subject=f"{GOOD_IP} @ dnsbl.test", ips=(GOOD_IP,))),
        (F, Case("good.test", subject="192.0.2.30 @ dnsbl.test", ips=("192.0.2.30",), outcome="listed")),
        (Status.NOT_TESTED, Case("good.test", subject="192.0.2.20 @ dnsbl.test", ips=("192.0.2.20",))),
        # Issue 11: each return code with its own meaning and severity (auditapp/data/dnsbl_zones.toml).
        (F, Case("good.test", subject=f"192.0.2.40 @ {ZEN}", ips=("192.0.2.40",), zones=(ZEN,), outcome="listed",
                 severity="high")),
        (F, Case("good.test", subject=f"192.0.2.41 @ {ZEN}", ips=("192.0.2.41",), zones=(ZEN,), outcome="listed",
                 severity="high")),
        (F, Case("good.test", subject=f"192.0.2.42 @ {ZEN}", ips=("192.0.2.42",), zones=(ZEN,),
                 outcome="listed_medium", severity="medium")),
        (Status.NOT_TESTED, Case("good.test", subject=f"192.0.2.43 @ {ZEN}", ips=("192.0.2.43",), zones=(ZEN,))),
        (F, Case("good.test", subject=f"192.0.2.47 @ {ZEN}", ips=("192.0.2.47",), zones=(ZEN,), outcome="listed",
                 severity="high")),
        (F, Case("good.test", subject="192.0.2.44 @ dnsbl-3.uceprotect.net", ips=("192.0.2.44",),
                 zones=("dnsbl-3.uceprotect.net",), outcome="listed_low", severity="low")),
        (Status.NOT_APPLICABLE, Case("good.test", subject="192.0.2.45 @ dnsbl.sorbs.net", ips=("192.0.2.45",),
                                     zones=("dnsbl.sorbs.net",), outcome="closed")),
        (P, Case("good.test", subject="192.0.2.46 @ rep.mailspike.net", ips=("192.0.2.46",),
                 zones=("rep.mailspike.net",), outcome="rated")),
    ],
    # Issue 16 (internet.nl parity): CAA of the MX hosts, found by climbing from the host (caa.test zone).
    "CAA-MISSING": [
        (P, Case("good.caa.test", subject="mx.good.caa.test")),
        (P, Case("own.caa.test", subject="mx.own.caa.test")),  # at the host itself; ";" = nobody may issue
        (F, Case("none.caa.test", subject="mx.none.caa.test", outcome="missing", severity="low")),
        (F, Case("noissue.caa.test", subject="mx.noissue.caa.test", outcome="no_issue")),
        (F, Case("bad.caa.test", subject="mx.bad.caa.test", outcome="invalid")),
        (F, Case("crit.caa.test", subject="mx.crit.caa.test", outcome="critical_unknown", severity="medium")),
    ],
    # RFC 9990 external report destinations: dmarcsink.test authorises ok.ruaext.test, not bad.ruaext.test.
    "DMARC-REPORT-UNAUTHORISED": [
        (P, Case("ok.ruaext.test", subject="ok.ruaext.test._report._dmarc.reports.dmarcsink.test")),
        (F, Case("bad.ruaext.test", subject="bad.ruaext.test._report._dmarc.reports.dmarcsink.test",
                 outcome="unauthorised", severity="low")),
    ],
}


# Issue 16 (IPv6 parity): every per-IP rule again with an IPv6 sending address (zones v6.test,
# 6.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa and dnsbl6.test). Appended, so the ids above stay as they are.
V6 = "2001:db8:6::"
for _rule, _cases in {
    "PTR-MISSING": [
        (P, Case("v6.test", ips=(f"{V6}10",))),
        # The most common reason for Gmail rejections (knowledge base B10): IPv6 without PTR.
        (F, Case("v6.test", ips=(f"{V6}40",), outcome="missing", severity="high")),
    ],
    "PTR-FCRDNS": [
        (P, Case("v6.test", ips=(f"{V6}10",))),
        (P, Case("v6.test", ips=(f"{V6}11",))),  # the name has only an AAAA record
        (F, Case("v6.test", ips=(f"{V6}20",), outcome="other_addresses")),
        (F, Case("v6.test", ips=(f"{V6}70",), outcome="other_addresses")),  # the name has only an A record
        (F, Case("v6.test", ips=(f"{V6}50",), outcome="nonpublic")),
        (F, Case("v6.test", ips=(f"{V6}60",), outcome="nxdomain")),
        (P, Case("good.test", ips=("::ffff:c000:20a",))),  # IPv4-mapped (::ffff:192.0.2.10) is IPv4
    ],
    "PTR-GENERIC": [
        (P, Case("v6.test", ips=(f"{V6}10",))),
        (F, Case("v6.test", ips=(f"{V6}30",), outcome="generic")),
        (F, Case("v6.test", ips=(f"{V6}31",), outcome="generic")),  # the address's nibbles in the name
        (F, Case("v6.test", ips=(f"{V6}32",), outcome="generic")),  # 2001-db8-6--32: colons as dashes
    ],
    "HELO-INVALID": [
        (P, Case("v6.test", ips=(f"{V6}10",), helo="mail.v6.test")),
        (P, Case("v6.test", ips=(f"{V6}11",), helo="out6.v6.test")),  # AAAA only is an address too
        (P, Case("v6.test", ips=(f"{V6}10",), helo=f"[IPv6:{V6}10]", outcome="literal")),
        (F, Case("v6.test", ips=(f"{V6}10",), helo="nohost.v6.test", outcome="nxdomain")),
        (F, Case("v6.test", ips=(f"{V6}10",), helo=f"{V6}10", outcome="not_fqdn")),
    ],
    "HELO-IP-MISMATCH": [
        (P, Case("v6.test", ips=(f"{V6}10",), helo="mail.v6.test")),
        (P, Case("v6.test", ips=(f"{V6}11",), helo="out6.v6.test")),
        (P, Case("v6.test", ips=(f"{V6}10",), helo=f"[IPv6:{V6}10]")),
        (P, Case("good.test", ips=("::ffff:c000:20a",), helo="mail.good.test")),  # IPv4-mapped
        (F, Case("v6.test", ips=(f"{V6}10",), helo="v4only.v6.test", outcome="mismatch")),  # A only
        (F, Case("v6.test", ips=(f"{V6}20",), helo="mail.v6.test", outcome="mismatch")),
        (F, Case("v6.test", ips=(f"{V6}20",), helo=f"[IPv6:{V6}10]", outcome="mismatch")),
    ],
    "HELO-PTR-MISMATCH": [
        (P, Case("v6.test", ips=(f"{V6}10",), helo="mail.v6.test")),
        (P, Case("v6.test", ips=(f"{V6}10",), helo="MAIL.v6.test.")),
        (F, Case("v6.test", ips=(f"{V6}20",), helo="mail.v6.test", outcome="mismatch")),
    ],
    "SPF-SENDER-NOT-AUTHORIZED": [
        (P, Case("v6.test", ips=(f"{V6}10",))),  # ip6:
        (P, Case("v6.test", ips=(f"{V6}11",))),  # a:out6.v6.test (AAAA)
        (P, Case("v6.test", ips=(f"{V6}12",))),  # mx (the MX host's AAAA)
        (F, Case("v6.test", ips=(f"{V6}20",), outcome="not_authorized")),
        (F, Case("v6.test", ips=("2001:db8:7::10",), outcome="not_authorized")),
    ],
    "SPF-HELO-MISSING": [
        (P, Case("v6.test", subject="mail.v6.test", ips=(f"{V6}10",), helo="mail.v6.test")),
        (F, Case("v6.test", subject="out6.v6.test", ips=(f"{V6}11",), helo="out6.v6.test", outcome="missing")),
    ],
    "DNSBL-LISTED": [
        (P, Case("v6.test", subject=f"{V6}10 @ dnsbl6.test", ips=(f"{V6}10",), zones=("dnsbl6.test",))),
        (F, Case("v6.test", subject=f"{V6}30 @ dnsbl6.test", ips=(f"{V6}30",), zones=("dnsbl6.test",),
                 outcome="listed")),
        (Status.NOT_TESTED, Case("v6.test", subject=f"{V6}20 @ dnsbl6.test", ips=(f"{V6}20",),
                                 zones=("dnsbl6.test",))),
    ],
}.items():
    CASES[_rule] = [*CASES.get(_rule, []), *_cases]


def run_case(port: int, case: Case) -> Run:
    target = AuditTarget(domain=case.domain, server_ips=case.ips, helo=case.helo, dkim_selectors=case.selectors,
                         dnsbl_zones=case.zones, services=False)
    client = DnsClient([Nameserver("127.0.0.1", port)], timeout=2.0)
    return asyncio.run(audit(target, client, EngineConfig(timeout=2.0, smtp_probe=False)))


def test_every_rule_has_a_pass_and_a_fail_case() -> None:
    """DNS-side families here; the service families have their table in test_services_lab.py."""
    elsewhere = ("services", "tls", "layout", "policy", "postfix", "message", "dane")  # tested in their own tables
    elsewhere = (*elsewhere, "dnssec")  # DNSSEC: tests/test_dnssec_lab.py, on its own signed lab tree
    elsewhere = (*elsewhere, "rpki")  # RPKI: tests/test_rpki_lab.py, with VRP files beside rpki.test
    for rule_id in (r.id for r in catalog().rules.values() if r.family not in elsewhere):
        statuses = {status for status, _ in CASES.get(rule_id, [])}
        assert {Status.PASS, Status.FAIL} <= statuses, f"{rule_id} needs a PASS and a FAIL case in CASES"


PARAMS = [
    pytest.param(rule, status, case, id=f"{rule}-{status.value}-{i}")
    for rule, cases in CASES.items()
    for i, (status, case) in enumerate(cases)
]


@pytest.mark.lab
@pytest.mark.parametrize(("rule", "status", "case"), PARAMS)
def test_rule_against_bind(bind_lab, rule: str, status: Status, case: Case) -> None:
    run = run_case(bind_lab.port, case)
    subject = case.subject or (case.ips[0] if case.ips else case.domain)
    found = [f for f in run.findings if f.rule == rule and f.subject == subject]
    assert found, f"no {rule} result for {subject}: {[(f.rule, f.subject) for f in run.findings if f.rule == rule]}"
    got = found[0]
    assert got.status is status, f"{rule} on {subject}: {got.status} ({got.outcome}, {got.reason}); {got.evidence}"
    if case.outcome:
        assert got.outcome == case.outcome
    if case.severity:
        assert got.severity.value == case.severity
    if status is Status.FAIL:
        assert got.evidence, "a failed result must show the evidence that led to it"
    # No check may crash on any scenario.
    assert not [f for f in run.findings if f.status is Status.ERROR], "a check crashed"
