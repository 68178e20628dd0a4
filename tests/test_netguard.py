"""Issue 12, item 4: internal addresses learned from DNS are not probed unless the user says so.

The decision for every internal range is tested as a pure function (no packet goes to a
private or public address). The end-to-end tests use the hostile lab zone ``intranet.test``,
whose hosts all point at loopback servers of the lab, with the suite's loopback-only switch
lifted so that the product's own rule is what stops the probes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli_services import lab_args, results

from auditapp.cli.main import main
from auditapp.collectors.netguard import ENV, internal_kind, refusal

# -- the decision, as a pure function -----------------------------------------------------------


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("::1", "loopback"),
    ("10.0.0.1", "private (RFC 1918)"), ("172.16.0.1", "private (RFC 1918)"), ("172.31.255.254", "private (RFC 1918)"),
    ("192.168.178.1", "private (RFC 1918)"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("febf::1", "link-local"),
    ("fc00::1", "unique local (RFC 4193)"), ("fd12:3456::1", "unique local (RFC 4193)"),
    ("100.64.0.1", "shared (CGNAT, RFC 6598)"), ("100.127.255.254", "shared (CGNAT, RFC 6598)"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("::ffff:10.1.2.3", "private (RFC 1918)"), ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:169.254.1.1", "link-local"),
])
def test_internal_ranges(address: str, kind: str) -> None:
    assert internal_kind(address) == kind
    why = refusal(address, learned=True, allow_internal=False)
    assert why.startswith(f"not probed: {address} is") and kind in why and "--allow-internal" in why
    # Typed by the user, or an internal audit: allowed.
    assert refusal(address, learned=False, allow_internal=False) == ""
    assert refusal(address, learned=True, allow_internal=True) == ""


@pytest.mark.parametrize("address", [
    "8.8.8.8", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1", "192.0.2.10", "198.51.100.7",
    "2001:db8::10", "2a00:1450::1", "fec0::1", "not-an-address",
])
def test_public_and_documentation_addresses_are_not_internal(address: str) -> None:
    assert internal_kind(address) == ""
    assert refusal(address, learned=True, allow_internal=False) == ""


def test_the_loopback_only_switch_of_the_tests_refuses_everything_else() -> None:
    assert refusal("127.0.0.2", learned=True, allow_internal=False, loopback_only_mode=True) == ""
    assert "allows loopback only" in refusal("10.0.0.1", learned=False, allow_internal=True,
                                             loopback_only_mode=True)
    assert "allows loopback only" in refusal("192.0.2.1", learned=False, allow_internal=False,
                                             loopback_only_mode=True)


# -- against the lab ------------------------------------------------------------------------------

BANNER = "mx.svc.test"  # the GOOD Postfix's greeting; the intranet.test zone never names it


def _audit(bind_lab, mail_lab, tmp_path: Path, name: str, *extra: str) -> tuple[Path, str]:
    out = tmp_path / f"{name}.json"
    pdf = tmp_path / f"{name}.pdf"
    assert main(["audit", "intranet.test", *lab_args(bind_lab, mail_lab, out), "--pdf", str(pdf), "--lang", "en",
                 *extra]) == 0
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    return out, text


@pytest.mark.lab
def test_loopback_hosts_from_dns_are_not_probed_and_nothing_of_them_reaches_the_report(
        bind_lab, mail_lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV)  # the product's rule, not the suite's switch, must stop the probes
    out, pdf_text = _audit(bind_lab, mail_lab, tmp_path, "default")
    raw = out.read_text("utf-8")
    assert BANNER not in raw and "LabMail" not in raw and "LabMail" not in pdf_text
    by_key = results(out)
    endpoints = {k: r for k, r in by_key.items() if k[1].startswith("127.0.0.2:")}
    assert endpoints, sorted(by_key)
    for key, result in endpoints.items():
        assert result["status"] in ("not_tested", "not_applicable"), (key, result)
    tls = by_key[("STARTTLS-MISSING", "127.0.0.2:2525")]
    assert tls["status"] == "not_tested" and "was not probed: 127.0.0.2 is a loopback address learned from DNS" \
        in json.dumps(tls), tls
    policy = by_key[("MTA-STS-POLICY", "intranet.test")]
    assert policy["status"] == "not_tested" and "127.0.0.8 is a loopback address" in json.dumps(policy), policy
    assert json.loads(raw)["target"]["allow_internal"] is False
    assert "not probed when they came from DNS" in pdf_text


@pytest.mark.lab
def test_an_internal_audit_probes_them_and_says_so_in_the_scope(
        bind_lab, mail_lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV)
    out, pdf_text = _audit(bind_lab, mail_lab, tmp_path, "internal", "--allow-internal")
    assert results(out)[("STARTTLS-MISSING", "127.0.0.2:2525")]["status"] == "pass"
    assert BANNER in out.read_text("utf-8")
    assert "internal audit" in pdf_text


@pytest.mark.lab
def test_a_host_the_user_typed_is_probed(bind_lab, mail_lab, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV)
    out = tmp_path / "typed.json"
    assert main(["audit", "intranet.test", "--mx", "mx.intranet.test", *lab_args(bind_lab, mail_lab, out)]) == 0
    assert results(out)[("STARTTLS-MISSING", "127.0.0.2:2525")]["status"] == "pass"
