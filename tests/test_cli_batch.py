"""``auditapp batch``: many domains, one loop, one shared DNS cache, one JSON per domain plus a CSV.

Runs :func:`auditapp.cli.main.main` in-process against a :class:`LabDnsServer` that serves
a handful of generated zones (zone-file text, as :mod:`auditapp.lab.demo` writes them).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditapp.cli.batch import CSV_COLUMNS, ProgressBar, read_domains
from auditapp.cli.main import UsageError, main
from auditapp.lab.dnsserver import Fault, LabDnsServer, RecordSet

PROVIDER = "provider.example"
KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1" + "A" * 300 + "IDAQAB"


def zone(origin: str, body: str) -> tuple[str, str]:
    head = f"$TTL 300\n@ IN SOA ns1.{PROVIDER}. hostmaster.{PROVIDER}. 1 3600 600 86400 300\n  IN NS ns1.{PROVIDER}.\n"
    return origin, head + body


def good_zone(domain: str) -> tuple[str, str]:
    """A domain with everything a DNS-only audit looks for."""
    return zone(domain, f"""
     IN MX  10 mail
     IN TXT "v=spf1 mx include:_spf.{PROVIDER} -all"
mail IN A   192.0.2.10
_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@{domain}"
default._domainkey IN TXT ( "v=DKIM1; k=rsa; " "p={KEY[:200]}" "{KEY[200:]}" )
""")


ZONES = [
    zone(PROVIDER, 'ns1 IN A 192.0.2.53\n_spf IN TXT "v=spf1 ip4:203.0.113.0/24 ~all"\n'),
    good_zone("good.example"),
    good_zone("also-good.example"),
    good_zone("xn--bcher-kva.example"),  # bücher.example
    zone("nospf.example", '     IN MX 10 mail\nmail IN A 192.0.2.20\n_dmarc IN TXT "v=DMARC1; p=none"\n'),
    zone("slow.example", '     IN MX 10 mail\n     IN TXT "v=spf1 -all"\nmail IN A 192.0.2.30\n'),
]

#: slow.example answers everything but its own TXT, which never comes back.
FAULTS: dict[str | tuple[str, str], Fault] = {("slow.example", "TXT"): Fault.TIMEOUT}


@pytest.fixture(scope="module")
def server() -> Iterator[LabDnsServer]:
    with LabDnsServer(RecordSet.from_zone_text(ZONES), faults=FAULTS) as srv:
        yield srv


def batch(server: LabDnsServer, listing: Path, out: Path, *extra: str) -> int:
    return main(["batch", str(listing), "--out", str(out), "--nameserver", server.address,
                 "--timeout", "0.5", "--lang", "en", *extra])


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        return {row["domain"]: row for row in reader}


def results(path: Path) -> dict[str, dict[str, object]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema"] == "auditapp.result/1"
    return {r["rule"]: r for r in data["results"]}


@pytest.fixture(scope="module")
def finished(server: LabDnsServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, list[tuple]]:
    """One batch over every zone, with duplicates, comments and a U-label; shared by the tests below."""
    tmp = tmp_path_factory.mktemp("batch")
    listing = tmp / "domains.txt"
    listing.write_text(
        "\ufeff# customer list\n"
        "good.example\n"
        "\n"
        "nospf.example   # no SPF record\n"
        "GOOD.example.\n"          # the same domain again: audited once
        "bücher.example\n"
        "slow.example\n"
        "also-good.example\n"
        "xn--bcher-kva.example\n",  # bücher.example again, as A-label
        encoding="utf-8",
    )
    before = len(server.log)
    rc = batch(server, listing, tmp / "out")
    return rc, tmp / "out", list(server.log[before:])


def test_writes_one_json_per_domain_and_a_csv(finished: tuple[int, Path, list[tuple]]) -> None:
    rc, out, _ = finished
    assert rc == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["good.example.json", "also-good.example.json", "nospf.example.json",
                            "slow.example.json", "xn--bcher-kva.example.json", "summary.csv"])
    rows = read_csv(out / "summary.csv")
    assert list(rows) == ["good.example", "nospf.example", "xn--bcher-kva.example", "slow.example",
                          "also-good.example"]  # input order, duplicates dropped
    for domain, row in rows.items():
        found = results(out / f"{domain}.json")
        failed = [r for r in found.values() if r["status"] == "fail"]
        for sev in ("critical", "high", "medium", "low", "info"):
            assert int(row[f"failed_{sev}"]) == sum(1 for r in failed if r["severity"] == sev)
        assert int(row["passed"]) == sum(1 for r in found.values() if r["status"] == "pass")
        assert float(row["duration_s"]) >= 0


def test_missing_spf_is_failed(finished: tuple[int, Path, list[tuple]]) -> None:
    _, out, _ = finished
    assert results(out / "nospf.example.json")["SPF-MISSING"]["status"] == "fail"
    assert results(out / "good.example.json")["SPF-MISSING"]["status"] == "pass"
    row = read_csv(out / "summary.csv")["nospf.example"]
    assert int(row["failed_high"]) >= 1
    assert row["worst_failed_rule"] != ""


def test_timeout_is_not_tested_never_missing(finished: tuple[int, Path, list[tuple]]) -> None:
    _, out, _ = finished
    spf = results(out / "slow.example.json")["SPF-MISSING"]
    assert spf["status"] == "not_tested"
    assert "timeout" in str(spf["reason"]).lower() or "time" in str(spf["reason"]).lower()
    row = read_csv(out / "summary.csv")["slow.example"]
    assert row["worst_failed_rule"] != "SPF-MISSING"
    assert int(row["not_tested"]) >= 1


def test_per_ip_rules_are_not_tested_without_ips(finished: tuple[int, Path, list[tuple]]) -> None:
    _, out, _ = finished
    found = results(out / "good.example.json")
    for rule in ("PTR-MISSING", "SPF-SENDER-NOT-AUTHORIZED", "DNSBL-LISTED"):
        assert found[rule]["status"] == "not_tested"
        assert found[rule]["reason"]


def test_u_label_is_audited_under_its_a_label(finished: tuple[int, Path, list[tuple]]) -> None:
    _, out, _ = finished
    row = read_csv(out / "summary.csv")["xn--bcher-kva.example"]
    assert row["domain_unicode"] == "bücher.example"
    data = json.loads((out / "xn--bcher-kva.example.json").read_text(encoding="utf-8"))
    assert data["target"]["domain_unicode"] == "bücher.example"
    assert results(out / "xn--bcher-kva.example.json")["SPF-MISSING"]["status"] == "pass"


def test_duplicates_and_shared_names_are_asked_once(finished: tuple[int, Path, list[tuple]]) -> None:
    """One client for the whole batch: a duplicate line and a provider include cost one question."""
    _, _, log = finished
    asked = [(name, rtype) for name, rtype, _ in log]
    assert asked.count(("good.example", "TXT")) == 1
    assert asked.count(("xn--bcher-kva.example", "TXT")) == 1
    assert asked.count((f"_spf.{PROVIDER}", "TXT")) == 1  # included by three domains


def test_invalid_line_exits_2_before_any_query(server: LabDnsServer, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    listing = tmp_path / "domains.txt"
    listing.write_text("good.example\n# fine\nnot a domain\nnospf.example\n", encoding="utf-8")
    before = server.queries
    rc = batch(server, listing, tmp_path / "out")
    err = capsys.readouterr().err
    assert rc == 2
    assert "line 3" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
    assert server.queries == before


@pytest.mark.parametrize("text", ["", "# only a comment\n\n", "http://example.com/\n", "user@example.com\n"])
def test_read_domains_rejects(tmp_path: Path, text: str) -> None:
    listing = tmp_path / "d.txt"
    listing.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError):
        read_domains(str(listing))


def test_missing_file_is_input_error(server: LabDnsServer, tmp_path: Path) -> None:
    assert batch(server, tmp_path / "nope.txt", tmp_path / "out") == 2


def test_out_dir_that_cannot_be_created_exits_3(server: LabDnsServer, tmp_path: Path) -> None:
    listing = tmp_path / "domains.txt"
    listing.write_text("good.example\n", encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert batch(server, listing, blocker / "out") == 3


def test_progress_only_on_a_terminal(server: LabDnsServer, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    listing = tmp_path / "domains.txt"
    listing.write_text("good.example\nnospf.example\n", encoding="utf-8")
    assert batch(server, listing, tmp_path / "out") == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # stderr is not a TTY under pytest: nothing noisy
    assert "summary.csv" in captured.out


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_format() -> None:
    stream = _Tty()
    bar = ProgressBar(4, stream, width=8)
    for name in ("a.example", "b.example", "c.example", "d.example"):
        bar._last = -1.0  # no redraw throttling in the test
        bar.step(name)
    bar.close()
    text = stream.getvalue()
    assert "\r[##------] 1/4 a.example" in text
    assert "\r[########] 4/4 d.example" in text
    assert text.endswith("\n")
    silent = io.StringIO()
    quiet = ProgressBar(2, silent)
    quiet.step("a.example")
    quiet.close()
    assert silent.getvalue() == ""
