"""DNSSEC (issue 16): auditapp's own validation against a real, signed BIND tree on loopback.

The tree (tests/lab/dnssec_lab.py) has its own root; its KSK file is the trust anchor. Every
rule passes and fails here (the table below; tests/test_rules_lab.py leaves the family to this
file), timeouts and SERVFAIL come from a forwarding LabDnsServer with faults, and a resolver
that sets the AD bit is shown to change nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import pytest
from lab.dnssec_lab import DnssecLab, tools_available
from lab.fixtures import require_named

from auditapp.audit.engine import EngineConfig, audit
from auditapp.audit.prepare import PrepareError, prepare
from auditapp.audit.request import AuditRequest
from auditapp.catalog import catalog
from auditapp.collectors.dnssec_collect import collect_dnssec
from auditapp.collectors.dnssec_types import DnssecFacts, Security
from auditapp.core.model import Run, Severity, Status
from auditapp.core.target import AuditTarget
from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.dnssec import TrustAnchorError, Validator, iana_root, load_anchor_file, parse_anchor_text
from auditapp.lab.dnsserver import Fault, LabDnsServer, RecordSet

P, F, NA, NT = Status.PASS, Status.FAIL, Status.NOT_APPLICABLE, Status.NOT_TESTED


@pytest.fixture(scope="module")
def seclab() -> Iterator[DnssecLab]:
    require_named()
    missing = tools_available()
    if missing:
        pytest.skip(missing)
    lab = DnssecLab().start()
    try:
        yield lab
    finally:
        lab.stop()


def _client(port: int, timeout: float = 2.0) -> DnsClient:
    return DnsClient([Nameserver("127.0.0.1", port)], timeout=timeout, per_try=min(timeout, 1.0))


def _facts(lab: DnssecLab, domain: str, port: int | None = None, timeout: float = 2.0) -> DnssecFacts:
    assert lab.server is not None
    target = AuditTarget(domain=domain, services=False, trust_anchor=str(lab.anchor_file))
    return asyncio.run(collect_dnssec(_client(port or lab.server.port, timeout), target))


def _run(lab: DnssecLab, domain: str) -> Run:
    assert lab.server is not None
    target = AuditTarget(domain=domain, services=False, dnsbl_zones=(), trust_anchor=str(lab.anchor_file))
    return asyncio.run(audit(target, _client(lab.server.port), EngineConfig(timeout=2.0, smtp_probe=False)))


# -- the validator, RRset by RRset ----------------------------------------------------------------

@pytest.mark.parametrize(("name", "rdtype", "security", "reason"), [
    ("signed.seclab", "MX", Security.SECURE, ""),
    ("signed.seclab", "SOA", Security.SECURE, ""),
    ("_dmarc.signed.seclab", "TXT", Security.SECURE, ""),
    ("_mta-sts.signed.seclab", "TXT", Security.SECURE, ""),
    ("_smtp._tls.signed.seclab", "TXT", Security.SECURE, ""),
    ("mx.signed.seclab", "A", Security.SECURE, ""),
    ("_25._tcp.mx.signed.seclab", "TLSA", Security.SECURE, ""),
    ("unsigned.seclab", "MX", Security.INSECURE, "no DS for unsigned.seclab."),
    ("_25._tcp.mx.unsigned.seclab", "TLSA", Security.INSECURE, "no DS for unsigned.seclab."),
    ("expired.seclab", "MX", Security.BOGUS, "expired"),
    ("wrongds.seclab", "MX", Security.BOGUS, "DS/DNSKEY mismatch"),
    ("sha1.seclab", "MX", Security.SECURE, ""),
    ("rsa1024.seclab", "MX", Security.SECURE, ""),
    ("mx.nsec3.seclab", "A", Security.SECURE, ""),
    ("island.nsec3.seclab", "MX", Security.INSECURE, "no DS for island.nsec3.seclab."),
    ("_25._tcp.mx.island.nsec3.seclab", "TLSA", Security.INSECURE, "no DS for island.nsec3.seclab."),
    ("_25._tcp.mx.optout.seclab", "TLSA", Security.SECURE, ""),
    ("mx.island.optout.seclab", "A", Security.INSECURE, "opt-out NSEC3 at optout.seclab."),
])
def test_validation_of_each_rrset(seclab: DnssecLab, name: str, rdtype: str, security: Security,
                                  reason: str) -> None:
    assert seclab.server is not None and seclab.anchor_file is not None
    validator = Validator(_client(seclab.server.port), load_anchor_file(seclab.anchor_file))
    result = asyncio.run(validator.validate(name, rdtype))
    assert result.security is security, result
    assert reason in result.reason
    assert result.evidence[0].startswith("validated by auditapp from trust anchor trust anchor file ")
    if reason.startswith("no DS for "):  # the insecure delegation is named
        assert result.insecure_at == reason.removeprefix("no DS for ").rstrip(".")


def test_nonexistence_is_proven_by_nsec(seclab: DnssecLab) -> None:
    """NODATA (no AAAA), NXDOMAIN and the empty non-terminal _tcp are secure non-existence."""
    facts = _facts(seclab, "signed.seclab")
    aaaa = facts.status("mx.signed.seclab", "AAAA")
    assert aaaa is not None and aaaa.security is Security.SECURE and aaaa.nonexistent == "nodata"
    assert seclab.server is not None and seclab.anchor_file is not None
    validator = Validator(_client(seclab.server.port), load_anchor_file(seclab.anchor_file))
    nx = asyncio.run(validator.validate("nothing.signed.seclab", "TXT"))
    assert nx.security is Security.SECURE and nx.nonexistent == "nxdomain"
    ent = asyncio.run(validator.validate("_tcp.mx.signed.seclab", "TXT"))
    assert ent.security is Security.SECURE and ent.nonexistent == "nodata"


@pytest.mark.parametrize(("name", "rdtype", "nonexistent", "proof"), [
    ("mx.nsec3.seclab", "AAAA", "nodata", "NSEC3 at "),
    # NXDOMAIN two labels below the closest encloser: the next closer name _tcp.mx is covered.
    ("_25._tcp.mx.nsec3.seclab", "TLSA", "nxdomain", "covers _tcp.mx.nsec3.seclab. below the closest encloser"),
    ("nothing.nsec3.seclab", "TXT", "nxdomain", "below the closest encloser nsec3.seclab."),
])
def test_nonexistence_is_proven_by_nsec3(seclab: DnssecLab, name: str, rdtype: str, nonexistent: str,
                                         proof: str) -> None:
    assert seclab.server is not None and seclab.anchor_file is not None
    validator = Validator(_client(seclab.server.port), load_anchor_file(seclab.anchor_file))
    result = asyncio.run(validator.validate(name, rdtype))
    assert (result.security, result.nonexistent) == (Security.SECURE, nonexistent), result
    assert proof in result.evidence[-1]


def test_opt_out_nxdomain_is_insecure_not_secure(seclab: DnssecLab) -> None:
    assert seclab.server is not None and seclab.anchor_file is not None
    validator = Validator(_client(seclab.server.port), load_anchor_file(seclab.anchor_file))
    result = asyncio.run(validator.validate("nx.optout.seclab", "A"))
    assert result.security is Security.INSECURE and "RFC 5155" in result.reason


def test_collector_validates_every_record_the_verdicts_rest_on(seclab: DnssecLab) -> None:
    facts = _facts(seclab, "signed.seclab")
    assert facts.method == "validated by auditapp"
    assert "lab-root.key" in facts.anchor
    expected = {("signed.seclab", "SOA"), ("signed.seclab", "MX"), ("_dmarc.signed.seclab", "TXT"),
                ("_mta-sts.signed.seclab", "TXT"), ("_smtp._tls.signed.seclab", "TXT"), ("mx.signed.seclab", "A"),
                ("mx.signed.seclab", "AAAA"), ("_25._tcp.mx.signed.seclab", "TLSA")}
    assert set(facts.names) == expected
    assert all(ns.security is Security.SECURE for ns in facts.names.values())
    # What the DANE checks read:
    tlsa = facts.status("_25._tcp.MX.signed.seclab.", "tlsa")
    assert tlsa is not None and tlsa.security is Security.SECURE and tlsa.zone == "signed.seclab"


def test_weak_algorithms_are_recorded_for_the_zone_only(seclab: DnssecLab) -> None:
    sha1 = _facts(seclab, "sha1.seclab").status("sha1.seclab", "MX")
    assert sha1 is not None and sha1.zone_algorithms == (5,) and sha1.zone_min_rsa_bits == 1024
    assert 13 in sha1.algorithms  # the lab root and TLD on the chain
    good = _facts(seclab, "signed.seclab").status("signed.seclab", "MX")
    assert good is not None and good.zone_algorithms == (13,) and good.zone_min_rsa_bits == 0


# -- the rules, pass and fail ---------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    domain: str
    status: Status
    outcome: str
    subject: str | None = None


CASES: dict[str, list[Case]] = {
    "DNSSEC-MISSING": [
        Case("signed.seclab", P, "pass"),
        Case("unsigned.seclab", F, "domain_unsigned"),
        Case("mixed.seclab", P, "pass", "mixed.seclab"),
        Case("mixed.seclab", F, "mx_unsigned", "mx.unsigned.seclab"),
        Case("expired.seclab", NA, "bogus"),
    ],
    "DNSSEC-BOGUS": [
        Case("signed.seclab", P, "pass"),
        Case("sha1.seclab", P, "pass"),
        Case("expired.seclab", F, "bogus", "expired.seclab/MX"),
        Case("wrongds.seclab", F, "bogus", "wrongds.seclab/MX"),
        Case("unsigned.seclab", NA, "unsigned"),
    ],
    "DNSSEC-WEAK-ALGORITHM": [
        Case("signed.seclab", P, "pass", "signed.seclab"),
        Case("sha1.seclab", F, "sha1", "sha1.seclab"),
        Case("rsa1024.seclab", F, "short_rsa", "rsa1024.seclab"),
        Case("unsigned.seclab", NA, "not_applicable"),
    ],
}


@pytest.fixture(scope="module")
def runs(seclab: DnssecLab) -> dict[str, Run]:
    domains = {c.domain for cases in CASES.values() for c in cases}
    return {d: _run(seclab, d) for d in sorted(domains)}


@pytest.mark.parametrize(("rule", "case"), [(r, c) for r, cases in CASES.items() for c in cases],
                         ids=lambda v: v if isinstance(v, str) else f"{v.domain}-{v.outcome}")
def test_rule(runs: dict[str, Run], rule: str, case: Case) -> None:
    findings = [f for f in runs[case.domain].findings if f.rule == rule]
    subject = case.subject or case.domain
    mine = [f for f in findings if f.subject == subject]
    assert mine, f"{rule}: no result for {subject}: {[(f.subject, f.status, f.outcome) for f in findings]}"
    assert (mine[0].status, mine[0].outcome) == (case.status, case.outcome), mine[0]


def test_every_dnssec_rule_has_a_pass_and_a_fail_case() -> None:
    rules = [r.id for r in catalog().rules.values() if r.family == "dnssec"]
    assert sorted(rules) == sorted(CASES)
    for rule in rules:
        assert {P, F} <= {c.status for c in CASES[rule]}, rule


def test_severities_follow_knowledge_base_b5(runs: dict[str, Run]) -> None:
    bogus = next(f for f in runs["expired.seclab"].findings if f.rule == "DNSSEC-BOGUS" and f.status is F)
    assert bogus.severity is Severity.CRITICAL
    assert "expired" in bogus.params["reason"]
    missing = next(f for f in runs["unsigned.seclab"].findings if f.rule == "DNSSEC-MISSING" and f.status is F)
    assert missing.severity is Severity.LOW
    assert any("validated by auditapp from trust anchor" in line for line in bogus.evidence)


# -- not tested: timeouts, SERVFAIL, no DNSSEC data, and the AD bit -------------------------------

@dataclass
class Forwarder(LabDnsServer):
    """Passes questions on to the lab BIND, except those with a fault; can set AD and strip DNSSEC records."""

    upstream: int = 0
    set_ad: bool = False
    strip_dnssec: bool = False

    def answer(self, wire: bytes, over_tcp: bool) -> bytes | None:
        query = dns.message.from_wire(wire)
        q = query.question[0]
        if self.fault_for(q.name.to_text().rstrip(".").lower(), dns.rdatatype.to_text(q.rdtype)):
            return super().answer(wire, over_tcp)
        resp = dns.query.tcp(query, "127.0.0.1", port=self.upstream, timeout=2)
        if self.strip_dnssec:
            drop = (dns.rdatatype.RRSIG, dns.rdatatype.NSEC, dns.rdatatype.NSEC3)
            resp.answer = [rr for rr in resp.answer if rr.rdtype not in drop]
            resp.authority = [rr for rr in resp.authority if rr.rdtype not in drop]
        if self.set_ad:
            resp.flags |= dns.flags.AD
        return resp.to_wire(max_size=65535 if over_tcp else 1232)


def _forwarder(lab: DnssecLab, **kwargs: object) -> Forwarder:
    assert lab.server is not None
    return Forwarder(RecordSet(), upstream=lab.server.port, **kwargs).start()  # type: ignore[arg-type]


def test_timeout_during_validation_is_not_tested(seclab: DnssecLab) -> None:
    with _forwarder(seclab, faults={("signed.seclab", "DNSKEY"): Fault.TIMEOUT}) as fwd:
        facts = _facts(seclab, "signed.seclab", port=fwd.port, timeout=0.6)
    mx = facts.status("signed.seclab", "MX")
    assert mx is not None and mx.security is Security.NOT_TESTED
    assert "no answer in time (timeout)" in mx.reason
    # The reason is the catalogue's, so a German report says it in German (issue 16 follow-up).
    from auditapp.catalog.wording import render_problem

    assert "keine Antwort in der vorgegebenen Zeit" in render_problem(mx.reason, "de")


def test_servfail_during_validation_is_not_tested_never_bogus(seclab: DnssecLab) -> None:
    with _forwarder(seclab, faults={("signed.seclab", "DS"): Fault.SERVFAIL,
                                    ("_25._tcp.mx.sha1.seclab", "TLSA"): Fault.SERVFAIL}) as fwd:
        facts = _facts(seclab, "signed.seclab", port=fwd.port)
        sha1 = _facts(seclab, "sha1.seclab", port=fwd.port)
    assert {ns.security for ns in facts.names.values()} == {Security.NOT_TESTED}
    assert "SERVFAIL" in facts.status("signed.seclab", "MX").reason  # type: ignore[union-attr]
    tlsa = sha1.status("_25._tcp.mx.sha1.seclab", "TLSA")
    assert tlsa is not None and tlsa.security is Security.NOT_TESTED and "SERVFAIL" in tlsa.reason
    assert sha1.status("sha1.seclab", "MX").security is Security.SECURE  # type: ignore[union-attr]


def test_servfail_everywhere_makes_every_rule_not_tested(seclab: DnssecLab) -> None:
    with LabDnsServer(RecordSet(), faults={"": Fault.SERVFAIL}) as lab:
        lab.faults = {name: Fault.SERVFAIL for name in ("signed.seclab", ".", "")}
        target = AuditTarget(domain="signed.seclab", services=False, dnsbl_zones=(),
                             trust_anchor=str(seclab.anchor_file))
        run = asyncio.run(audit(target, _client(lab.port, 0.5), EngineConfig(timeout=0.5, smtp_probe=False)))
    for rule in CASES:
        statuses = {f.status for f in run.findings if f.rule == rule}
        assert statuses == {NT}, (rule, statuses)


def test_ad_bit_of_the_resolver_is_ignored(seclab: DnssecLab) -> None:
    """AD without signatures makes nothing secure, and AD on bogus data changes nothing."""
    with _forwarder(seclab, set_ad=True, strip_dnssec=True) as fwd:
        stripped = _facts(seclab, "signed.seclab", port=fwd.port)
    mx = stripped.status("signed.seclab", "MX")
    assert mx is not None and mx.security is Security.NOT_TESTED
    assert "no DNSSEC data" in mx.reason and "AD bit is not trusted" in mx.reason
    with _forwarder(seclab, set_ad=True) as fwd:
        expired = _facts(seclab, "expired.seclab", port=fwd.port)
    assert expired.status("expired.seclab", "MX").security is Security.BOGUS  # type: ignore[union-attr]


def test_wrong_trust_anchor_is_not_tested_not_bogus(seclab: DnssecLab, tmp_path: Path) -> None:
    anchor = tmp_path / "other.key"
    anchor.write_text(". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n")
    assert seclab.server is not None
    target = AuditTarget(domain="signed.seclab", services=False, trust_anchor=str(anchor))
    facts = asyncio.run(collect_dnssec(_client(seclab.server.port), target))
    mx = facts.status("signed.seclab", "MX")
    assert mx is not None and mx.security is Security.NOT_TESTED and "matches the trust anchor" in mx.reason


# -- trust anchors ----------------------------------------------------------------------------------

def test_builtin_iana_root_anchors() -> None:
    anchor = iana_root()
    assert sorted(ds.key_tag for _, ds in anchor.ds) == [20326, 38696]
    assert all(ds.algorithm == 8 and ds.digest_type == 2 for _, ds in anchor.ds)
    assert anchor.label == "IANA root KSK 20326, 38696"


def test_anchor_file_formats(seclab: DnssecLab) -> None:
    assert seclab.anchor_file is not None
    key = load_anchor_file(seclab.anchor_file)  # dnssec-keygen's .key: comments and one DNSKEY
    assert len(key.dnskeys) == 1 and not key.ds
    dig = parse_anchor_text(".\t\t\t172800\tIN\tDNSKEY\t257 3 13 " + key.dnskeys[0][1].to_text().split(" ", 3)[3])
    assert dig.dnskeys[0][1] == key.dnskeys[0][1]
    unbound = parse_anchor_text(
        "; autotrust trust anchor file\n;;id: . 1\n"
        ". 86400 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D ;;state=2\n")
    assert unbound.ds[0][1].key_tag == 20326


@pytest.mark.parametrize(("text", "message"), [
    ("", "no DS or DNSKEY record"),
    ("; only a comment\n", "no DS or DNSKEY record"),
    (". IN A 192.0.2.1\n", "line 1: record type 'A'"),
    (". IN DS 20326 8 2 nothex\n", "line 1: unreadable DS record"),
    ("\n. CH DS 1 8 2 00\n", "line 2: only class IN"),
    ("example..com DS 1 8 2 00\n", "bad owner name"),
])
def test_anchor_file_errors_are_one_line(text: str, message: str) -> None:
    with pytest.raises(TrustAnchorError, match=message) as err:
        parse_anchor_text(text, "trust anchor file x.key")
    assert "\n" not in str(err.value)


def test_prepare_refuses_a_bad_trust_anchor_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("this is not a key\n")
    base = AuditRequest(domain="example.com", nameservers=("127.0.0.1",), services=False)
    with pytest.raises(PrepareError, match="line 1") as err:
        prepare(replace(base, trust_anchor=str(bad)))
    assert err.value.input_error is not None
    with pytest.raises(PrepareError, match="cannot be read"):
        prepare(replace(base, trust_anchor=str(tmp_path / "missing.key")))
    good = tmp_path / "root.key"
    good.write_text(". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n")
    assert prepare(replace(base, trust_anchor=str(good))).target.trust_anchor == str(good)


def test_cli_bad_trust_anchor_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from auditapp.cli.main import main

    bad = tmp_path / "bad.key"
    bad.write_text(". IN TXT nope\n")
    assert main(["audit", "example.com", "--nameserver", "127.0.0.1", "--no-services",
                 "--trust-anchor", str(bad)]) == 2
    assert "--trust-anchor" in capsys.readouterr().err


def test_lab_needs_no_network_but_loopback(seclab: DnssecLab) -> None:
    assert seclab.server is not None and seclab.server.host.startswith("127.")


def test_every_dnssec_result_renders_without_placeholders(runs: dict[str, Run], seclab: DnssecLab) -> None:
    """Pass, fail, not_applicable and not_tested texts fill every {placeholder}, in German and English."""
    from auditapp.catalog.wording import render_finding

    with LabDnsServer(RecordSet(), faults={"": Fault.SERVFAIL}) as lab:
        target = AuditTarget(domain="signed.seclab", services=False, dnsbl_zones=(),
                             trust_anchor=str(seclab.anchor_file))
        failed = asyncio.run(audit(target, _client(lab.port, 0.5), EngineConfig(timeout=0.5, smtp_probe=False)))
    findings = [f for run in [*runs.values(), failed] for f in run.findings if f.rule.startswith("DNSSEC-")]
    assert {f.status for f in findings} == {P, F, NA, NT}
    for f in findings:
        for lang in ("de", "en"):
            text = render_finding(f, lang)
            assert "{" not in text["detail"] + text["remediation"] + text["explanation"], (f.rule, f.outcome, lang)


def test_signed_answers_are_cached_within_the_client_bound() -> None:
    """DO+CD answers share the client's single-flight cache and its bound (a batch asks millions)."""
    from auditapp.dnssec.signed_query import query_signed

    records = RecordSet()
    records.add("a.test", "A", "127.0.0.1")
    with LabDnsServer(records) as lab:
        client = DnsClient([Nameserver("127.0.0.1", lab.port)], timeout=1.0, max_cached=5)

        async def ask() -> None:
            first = await query_signed(client, "a.test", "A")
            again = await query_signed(client, "A.TEST.", "a")
            assert first is again and client.counter.cached == 1
            for i in range(20):
                await query_signed(client, f"n{i}.a.test", "A")

        asyncio.run(ask())
        assert len(client._signed_cache) == 5  # type: ignore[attr-defined]
        assert lab.queries == 21


def test_a_bogus_reason_is_german_in_a_german_report_also_after_saving(seclab: DnssecLab) -> None:
    """The validator's reasons are catalogue problems: the finding's {reason} renders per language, from a file too."""
    from auditapp.catalog.wording import render_finding
    from auditapp.core.model import Finding

    run = _run(seclab, "expired.seclab")
    bogus = [f for f in run.findings if f.rule == "DNSSEC-BOGUS" and f.status is F]
    assert bogus, [(f.rule, f.status, f.subject) for f in run.findings if f.rule.startswith("DNSSEC")]
    for finding in (bogus[0], Finding.from_json(bogus[0].to_json())):
        de, en = render_finding(finding, "de")["detail"], render_finding(finding, "en")["detail"]
        assert "RRSIG von" in de and "abgelaufen am" in de and "expired 20" not in de, de
        assert "RRSIG of" in en and "expired 20" in en, en
