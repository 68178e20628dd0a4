"""The project file: every field survives a round trip, old files migrate, bad files stay untouched.

A project file holds a client's history; losing or corrupting it is the worst thing the
tool can do. So the tests here check the promises of :mod:`auditapp.core.project_io`
byte for byte: loading never writes, a refused file is left exactly as it was, a save is
atomic even under SIGKILL, and the previous version survives as ``FILE.bak``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import pytest

from auditapp.core.model import Finding, Reason, Run, Severity, Status
from auditapp.core.project import Project, ProjectError
from auditapp.core.project_io import FORMAT, MIGRATIONS, SCHEMA_VERSION, load_project, save_project
from auditapp.core.review_layer import AcceptedRisk, Review
from auditapp.core.stored_message import StoredMessage, message_id_of
from auditapp.core.target import DEFAULT_PORTS

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "projects"
REPO = Path(__file__).resolve().parent.parent
DOMAIN = "xn--bckerei-mller-bfb28a.example"  # bäckerei-müller.example


def full_project() -> Project:
    """A project in which every field differs from its default (see the guard test below)."""
    run = Run(
        id="a1b2c3d4e5f6", started="2026-03-02T09:15:04+00:00", finished="2026-03-02T09:15:06+00:00",
        tool_version="0.1.0", catalog_version="2026.1", resolver="127.0.0.1:5353",
        target={"domain": DOMAIN, "server_ips": ["192.0.2.10"], "ports": {"smtp": 25}},
        findings=[
            Finding("DMARC-POLICY-NONE", Status.FAIL, Severity.LOW, DOMAIN, "none",
                    {"domain": DOMAIN, "policy": "none", "where": f"_dmarc.{DOMAIN}", "n": 3, "ok": True},
                    (f'_dmarc.{DOMAIN} TXT "v=DMARC1; p=none"', "second line")),
            Finding("PTR-MISSING", Status.NOT_TESTED, Severity.HIGH, "192.0.2.10", "not_tested",
                    reason=Reason("reason.dialogue", {"endpoint": "192.0.2.10:25", "problem": "no reply within 5 s"})),
            Finding("SPF-MISSING", Status.PASS, Severity.HIGH, DOMAIN, "pass"),
        ],
        cancelled=True, duration_s=1.842,
    )
    second = Run(id="ffffeeee0000", started="2026-04-01T08:00:00+00:00", finished="2026-04-01T08:00:01+00:00",
                 tool_version="0.1.1", catalog_version="2026.2", resolver="", target={}, findings=[])
    return Project(
        name="Bäckerei Müller GmbH & Co. KG",
        domain=DOMAIN,
        server_ips=["192.0.2.10", "2001:db8::25"],
        helo=f"mail.{DOMAIN}",
        mx_hosts=["mx1.provider.example", f"mx2.{DOMAIN}"],
        client_hosts=[f"webmail.{DOMAIN}", f"imap.{DOMAIN}"],
        dkim_selectors=["mail", "s2026._v2"],
        dnsbl_zones=["zen.spamhaus.org"],
        nameservers=["192.0.2.53", "127.0.0.1:5353", "[2001:db8::53]:5353"],
        ports={"smtp": 2525, "imaps": 10993},
        relay_test=True,
        allow_internal=True,
        answers={"q.backup_mx": True, "q.staff": 12, "q.share": 0.25, "q.notes": "Fritz!Box vor dem Server\n2. Zeile",
                 "q.services": ["imap", "smtp"], "q.contract": None, "q.nested": {"a": [1, {"b": "ü"}]}},
        branding={"company": "Prüf & Partner", "color": "#1a4d8f", "logo": {"path": "logo.png", "width_mm": 40}},
        test_account=f"audit-test@{DOMAIN}",
        runs=[run, second],
        postfix_config={"origin": "/etc/postfix", "files": {"main.cf": "myhostname = mail.example\n",
                                                            "master.cf": "smtp inet n - y - - smtpd\n"}},
        accepted_risks=[AcceptedRisk("DKIM-WEAK-KEY", "*", "Tausch geplant", "E. Muster",
                                     "2026-11-28T10:00:00+00:00", "2027-03-31")],
        probe_services=False,
        demo=True,
        reviews=[Review("SPF-MISSING", "*", "comment", "Mit IT besprochen <b>", "E. Muster",
                        "2026-11-28T10:05:00+00:00"),
                 Review("DMARC-POLICY-NONE", "xn--bckerei-mller-bfb28a.example", "severity", "Monitoring-Phase bis Q1",
                        "E. Muster", "2026-11-28T10:06:00+00:00", Severity.LOW)],
        messages=[sample_message()],
        trust_anchor="/etc/auditapp/lab-root.key",
        rpki_vrps="/var/lib/rpki/vrps.json",
        connect_interval=2.5,
    )


SAMPLE_HEADERS = ("Received: from mail.xn--bckerei-mller-bfb28a.example (mail.xn--bckerei-mller-bfb28a.example "
                  "[192.0.2.10])\r\n\tby mx.receiver.example (Postfix) with ESMTPS id R1; "
                  "Sun, 06 Dec 2026 10:00:03 +0000\r\n"
                  "From: Anna M\u00fcller <anna@xn--bckerei-mller-bfb28a.example>\r\n"
                  "Message-ID: <1@xn--bckerei-mller-bfb28a.example>\r\n")


def sample_message() -> StoredMessage:
    """A stored message as an import writes it (header block only, verdicts of the import)."""
    verified = {"verified_at": "2026-12-06T10:05:00+00:00", "resolver": "127.0.0.1:53", "sending_index": 0,
                "dkim": [{"domain": "xn--bckerei-mller-bfb28a.example", "selector": "s1", "algorithm": "rsa-sha256",
                          "key_bits": 2048, "result": "pass", "reason": ""}],
                "arc": {"result": "none", "instances": 0, "reason": ""},
                "spf": {"ip": "192.0.2.10", "sender": "anna@xn--bckerei-mller-bfb28a.example", "result": "pass",
                        "domain": "xn--bckerei-mller-bfb28a.example", "problem": ""},
                "dmarc": {"result": "pass", "policy": "reject", "spf_aligned": True, "dkim_aligned": True,
                          "record_name": "_dmarc.xn--bckerei-mller-bfb28a.example",
                          "org_domain": "xn--bckerei-mller-bfb28a.example", "reason": ""},
                "names": {"helo": "mail.xn--bckerei-mller-bfb28a.example", "helo_addresses": ["192.0.2.10"],
                          "helo_outcome": "ok", "ptr_names": [], "ptr_outcome": "nxdomain"}}
    return StoredMessage(id=message_id_of(SAMPLE_HEADERS.encode()), name="test.eml", added="2026-12-06T10:05:00+00:00",
                         headers=SAMPLE_HEADERS, encoding="utf-8", body_sha256="0" * 64, body_bytes=120,
                         verified=verified)


def listing(directory: Path) -> dict[str, bytes]:
    """Every file in ``directory`` with its bytes: "unchanged" means this is equal before and after."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def document(project: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    doc = {"format": FORMAT, "schema_version": SCHEMA_VERSION, "saved_by": "auditapp test", "project": project}
    doc.update(envelope)
    return doc


def write_json(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


# -- round trip ---------------------------------------------------------------------------


def test_sample_project_sets_every_field() -> None:
    """Guard: a field added to Project later must be added to ``full_project`` and so be round-tripped."""
    sample = full_project()
    for f in fields(Project):
        if f.default is not MISSING:
            default = f.default
        elif f.default_factory is not MISSING:
            default = f.default_factory()
        else:
            continue
        assert getattr(sample, f.name) != default, f"full_project() leaves {f.name} at its default"


def test_round_trip_every_field(tmp_path: Path) -> None:
    path = tmp_path / "client.auditproj"
    project = full_project()
    save_project(project, path)
    loaded = load_project(path)
    assert loaded == project
    assert loaded.runs[0].findings[1].reason == Reason(
        "reason.dialogue", {"endpoint": "192.0.2.10:25", "problem": "no reply within 5 s"})
    # And again: a loaded project saves to the very same bytes (stable format, no drift).
    first = path.read_bytes()
    save_project(loaded, path)
    assert path.read_bytes() == first


def test_file_envelope(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    save_project(full_project(), path)
    doc = json.loads(path.read_text("utf-8"))
    assert list(doc) == ["format", "schema_version", "saved_by", "project"]
    assert doc["format"] == "auditapp.project"
    assert doc["schema_version"] == SCHEMA_VERSION == 1
    assert doc["saved_by"].startswith("auditapp ")
    assert "Bäckerei" in path.read_text("utf-8")  # readable UTF-8, not \\u escapes


def test_fixture_v1_loads_and_saves_unchanged(tmp_path: Path) -> None:
    """The checked-in v1 file is the format's reference: this version must read and write it as is."""
    fixture = FIXTURES / "v1.json"
    project = load_project(fixture)
    assert project.display_domain == "bäckerei-müller.example"
    assert project.runs[0].findings[0].rule == "DMARC-POLICY-NONE"
    out = tmp_path / "v1.json"
    save_project(project, out)
    written, reference = json.loads(out.read_text("utf-8")), json.loads(fixture.read_text("utf-8"))
    written.pop("saved_by")
    reference.pop("saved_by")
    assert written == reference


def test_to_target() -> None:
    target = full_project().to_target()
    assert target.domain == DOMAIN
    assert target.server_ips == ("192.0.2.10", "2001:db8::25")
    assert target.helo == f"mail.{DOMAIN}" and target.helo_source == "project"
    assert target.mx_hosts == ("mx1.provider.example", f"mx2.{DOMAIN}")
    assert target.dkim_selectors == ("mail", "s2026._v2")
    assert target.dnsbl_zones == ("zen.spamhaus.org",)
    assert target.ports == {**DEFAULT_PORTS, "smtp": 2525, "imaps": 10993}
    assert Project("x", "example.com", dnsbl_zones=[]).to_target().dnsbl_zones == ()


def test_load_normalises_like_the_cli(tmp_path: Path) -> None:
    path = write_json(tmp_path / "p.json", document({
        "name": "N", "domain": "Bäckerei-Müller.example.", "server_ips": ["2001:DB8:0::25"], "mx_hosts": ["MX.Example"],
    }))
    project = load_project(path)
    assert project.domain == DOMAIN
    assert project.server_ips == ["2001:db8::25"]
    assert project.mx_hosts == ["mx.example"]
    assert project.dnsbl_zones == ["zen.spamhaus.org", "bl.spamcop.net"]  # absent: the defaults


# -- migrations and versions --------------------------------------------------------------


def test_migration_registry_covers_every_old_version() -> None:
    assert set(MIGRATIONS) == set(range(SCHEMA_VERSION))


def test_v0_migration(tmp_path: Path) -> None:
    fixture = FIXTURES / "v0.json"
    before = fixture.read_bytes()
    project = load_project(fixture)
    assert fixture.read_bytes() == before  # loading migrates in memory only
    assert project.name == "Bäckerei Müller"
    assert project.domain == "xn--bckerei-mller-bfb28a.example"
    assert project.server_ips == ["192.0.2.10", "2001:db8::25"]
    assert project.runs == []

    copy = tmp_path / "old.json"
    copy.write_bytes(before)
    save_project(project, copy)
    assert json.loads(copy.read_text("utf-8"))["schema_version"] == SCHEMA_VERSION
    assert (tmp_path / "old.json.bak").read_bytes() == before  # the v0 original stays recoverable
    assert load_project(copy) == project


def test_v0_unknown_key_is_reported_by_name(tmp_path: Path) -> None:
    path = write_json(tmp_path / "p.json", {"schema": 0, "domain": "example.com", "ips": [], "colour": "red"})
    with pytest.raises(ProjectError, match="unknown field 'colour'"):
        load_project(path)


def test_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    doc = document(full_project().to_json(), schema_version=SCHEMA_VERSION + 1, saved_by="auditapp 9.0")
    doc["project"]["field_from_the_future"] = {"x": 1}
    path = write_json(tmp_path / "future.json", doc)
    before = listing(tmp_path)
    with pytest.raises(ProjectError) as info:
        load_project(path)
    message = str(info.value)
    assert f"written by a newer auditapp (schema {SCHEMA_VERSION + 1}" in message
    assert f"this version reads up to {SCHEMA_VERSION}" in message
    assert listing(tmp_path) == before


# -- damaged and foreign files ------------------------------------------------------------

_V1_TEXT = (FIXTURES / "v1.json").read_bytes()

DAMAGED: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "empty"),
    "whitespace": (b"  \n\t\n", "empty"),
    "truncated": (_V1_TEXT[: len(_V1_TEXT) // 2], "ends too early"),
    "truncated-one-byte": (_V1_TEXT.rstrip()[:-1], "ends too early"),
    "invalid-json": (b'{"format": "auditapp.project", "schema_version": 1,, }', "invalid JSON at line 1"),
    "not-json": (b"domain = example.com\n", "not JSON"),
    "binary-garbage": (bytes(range(256)) * 8, "binary"),
    "png": (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64), "binary"),
    "latin-1": ('{"name": "Bäckerei"}'.encode("latin-1"), "not UTF-8"),
    "nan": (b'{"format": "auditapp.project", "schema_version": 1, "project": {"x": NaN}}', "NaN is not valid JSON"),
    "duplicate-key": (b'{"format": "auditapp.project", "format": "x"}', "appears twice"),
    "deeply-nested": (b"{\"a\":" * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
    "package.json": (json.dumps({"name": "left-pad", "version": "1.3.0", "main": "index.js"}).encode(),
                     "not an auditapp project file"),
    "other-format": (json.dumps({"format": "auditapp.result/1", "results": []}).encode(), "'auditapp.result/1'"),
    "json-array": (b'["auditapp.project", 1]', "not an auditapp project file"),
    "json-string": (b'"auditapp.project"', "not an auditapp project file"),
    "no-version": (json.dumps({"format": FORMAT, "project": {}}).encode(), "schema_version"),
    "text-version": (json.dumps({"format": FORMAT, "schema_version": "1", "project": {}}).encode(), "schema_version"),
    "no-project": (json.dumps({"format": FORMAT, "schema_version": 1}).encode(), '"project" object is missing'),
    "extra-envelope": (json.dumps(document({"domain": "example.com"}, comment="x")).encode(),
                       "unknown top-level field 'comment'"),
    "project-not-object": (json.dumps(document([])).encode(), "must be a JSON object"),
}


@pytest.mark.parametrize("case", list(DAMAGED))
def test_damaged_or_foreign_file_is_refused_and_unchanged(tmp_path: Path, case: str) -> None:
    content, expected = DAMAGED[case]
    path = tmp_path / "client.auditproj"
    path.write_bytes(content)
    before = listing(tmp_path)
    with pytest.raises(ProjectError) as info:
        load_project(path)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message and str(path) in message
    assert listing(tmp_path) == before  # same bytes, no temp or backup files


def test_damaged_file_message_points_at_the_backup(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    save_project(full_project(), path)
    save_project(full_project(), path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ProjectError, match=r"previous version may be in .*p\.json\.bak"):
        load_project(path)


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_path(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "p.json"
    if kind == "directory":
        path.mkdir()
    with pytest.raises(ProjectError, match="no such file" if kind == "missing" else "is a directory"):
        load_project(path)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(document({"domain": "example.com"})).encode())
    assert load_project(path).domain == "example.com"


# -- field checks -------------------------------------------------------------------------

INVALID: list[tuple[str, object, str]] = [
    ("domain", "not a domain", "field domain"),
    ("domain", 42, "field domain must be a string, not a number"),
    ("name", ["x"], "field name must be a string"),
    ("name", "Line\nbreak", "field name contains control characters"),
    ("server_ips", "192.0.2.1", "field server_ips must be a list, not a string"),
    ("server_ips", ["192.0.2.1", "1.2.3"], "field server_ips[1] '1.2.3' is not an IPv4 or IPv6 address"),
    ("server_ips", ["192.0.2.1:25"], "port glued on"),
    ("helo", "", "field helo: HELO name is empty"),
    ("helo", 7, "field helo must be a string"),
    ("mx_hosts", [5], "field mx_hosts[0] must be a string"),
    ("mx_hosts", ["mx..example"], "field mx_hosts[0]"),
    ("client_hosts", ["https://webmail.example"], "field client_hosts[0]"),
    ("dkim_selectors", ["bad selector"], "field dkim_selectors[0]"),
    ("dnsbl_zones", None, "field dnsbl_zones must be a list, not null"),
    ("nameservers", ["dns.example"], "field nameservers[0]: invalid nameserver 'dns.example'"),
    ("nameservers", ["192.0.2.1:99999"], "bad port"),
    ("ports", {"ftp": 21}, "unknown service 'ftp'"),
    ("ports", {"smtp": 0}, "field ports.smtp: 0 is not a port number"),
    ("ports", {"smtp": "25"}, "field ports.smtp must be a whole number, not a string"),
    ("ports", {"smtp": True}, "field ports.smtp must be a whole number, not true/false"),
    ("ports", [], "field ports must be an object"),
    ("relay_test", "yes", "field relay_test must be true or false"),
    ("relay_test", 1, "field relay_test must be true or false"),
    ("answers", [], "field answers must be an object"),
    ("branding", "blue", "field branding must be an object"),
    ("test_account", "user pass", "field test_account"),
    ("test_account", {"user": "u"}, "field test_account must be a string"),
    ("runs", {}, "field runs must be a list"),
    ("runs", [{"id": "x"}], "field runs[0]: 'started' is missing"),
    ("runs", [{**full_project().runs[1].to_json(), "id": None}], "field runs[0].id must be a string, not null"),
    ("runs", [{**full_project().runs[1].to_json(), "findings": [{"rule": "R", "status": "maybe", "severity": "low",
                                                                 "subject": "s", "outcome": "o"}]}],
     "field runs[0].findings[0].status: unknown value 'maybe'"),
    ("runs", [{**full_project().runs[1].to_json(), "duration_s": "fast"}], "field runs[0].duration_s must be a number"),
    ("runs", [{**full_project().runs[1].to_json(), "extra": 1}], "unknown field 'extra'"),
    ("colour", "red", "unknown field 'colour'"),
]


@pytest.mark.parametrize(("field", "value", "expected"), INVALID,
                         ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(INVALID)])
def test_invalid_field_is_named(tmp_path: Path, field: str, value: object, expected: str) -> None:
    project = {"name": "N", "domain": "example.com", field: value}
    path = write_json(tmp_path / "p.json", document(project))
    before = listing(tmp_path)
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.field is not None and info.value.field.split(".")[0].split("[")[0] == field
    assert listing(tmp_path) == before


def test_missing_domain(tmp_path: Path) -> None:
    path = write_json(tmp_path / "p.json", document({"name": "N"}))
    with pytest.raises(ProjectError, match="field 'domain' is missing"):
        load_project(path)


def test_save_refuses_an_invalid_project_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    save_project(full_project(), path)
    before = listing(tmp_path)
    broken = full_project()
    broken.server_ips.append("999.1.1.1")
    with pytest.raises(ProjectError, match=r"server_ips\[2\]"):
        save_project(broken, path)
    not_json = full_project()
    not_json.answers["q.when"] = {1, 2}  # a set: not a JSON value
    with pytest.raises(ProjectError, match=r"answers\.q\.when"):
        save_project(not_json, path)
    assert listing(tmp_path) == before


# -- secrets ------------------------------------------------------------------------------


def _all_keys(value: object) -> list[str]:
    if isinstance(value, dict):
        return [k for k in value] + [k for v in value.values() for k in _all_keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in _all_keys(v)]
    return []


def test_saving_never_writes_a_password_or_secret(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    save_project(full_project(), path)
    raw = path.read_bytes()
    keys = [k.lower() for k in _all_keys(json.loads(raw))]
    assert keys and not [k for k in keys if "password" in k or "secret" in k or "passwd" in k]
    assert b"password" not in raw.lower() and b"secret" not in raw.lower()
    assert json.loads(raw)["project"]["test_account"] == f"audit-test@{DOMAIN}"  # the user name only


@pytest.mark.parametrize("where", ["answers", "branding", "nested"])
def test_a_secret_cannot_be_smuggled_in(tmp_path: Path, where: str) -> None:
    path = tmp_path / "p.json"
    project = full_project()
    if where == "answers":
        project.answers["smtp_password"] = "hunter2"
    elif where == "branding":
        project.branding["Secret"] = "x"
    else:
        project.answers["q.nested"] = {"account": [{"user": "u", "password": "hunter2"}]}
    with pytest.raises(ProjectError, match="system keyring"):
        save_project(project, path)
    assert not path.exists()


def test_a_question_about_password_policy_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    project = full_project()
    project.answers["password_policy_enforced"] = True
    save_project(project, path)
    assert load_project(path).answers["password_policy_enforced"] is True


@pytest.mark.parametrize("key", ["password", "test_password", "secret"])
def test_loading_a_file_with_a_password_field_is_refused(tmp_path: Path, key: str) -> None:
    path = write_json(tmp_path / "p.json", document({"domain": "example.com", "test_account": "u", key: "hunter2"}))
    with pytest.raises(ProjectError, match="system keyring"):
        load_project(path)


# -- backup and atomicity -----------------------------------------------------------------


def test_bak_keeps_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    first = full_project()
    save_project(first, path)
    assert not (tmp_path / "p.json.bak").exists()
    second = full_project()
    second.name = "Second"
    second.runs.append(Run("third", "s", "f", "0.1.0", "c", "r", {}, []))
    save_project(second, path)
    assert load_project(path) == second
    assert load_project(tmp_path / "p.json.bak") == first
    third = full_project()
    third.name = "Third"
    save_project(third, path)
    assert load_project(tmp_path / "p.json.bak") == second
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json", "p.json.bak"]  # no temp files left


def test_save_refuses_a_symlink_and_changes_nothing(tmp_path: Path) -> None:
    """Not followed since issue 12: a link planted under a project's name could redirect the save."""
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    save_project(full_project(), real)
    before = real.read_bytes()
    link.symlink_to(real)
    changed = full_project()
    changed.name = "Via link"
    with pytest.raises(ProjectError, match="symbolic link"):
        save_project(changed, link)
    assert link.is_symlink() and real.read_bytes() == before


_BUILDER = '''
from auditapp.core.model import Finding, Run, Severity, Status
from auditapp.core.project import Project


def make_big_project(n):
    """About 2 MB of JSON, so a kill lands inside a write rather than between two."""
    findings = [Finding("SPF-MISSING", Status.FAIL, Severity.HIGH, f"host{i}.example", "missing",
                        {"i": i, "pad": "x" * 300}, (f"evidence {i}",)) for i in range(400)]
    runs = [Run(f"run{r:04d}", "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:01+00:00", "0.1.0", "c", "r",
                {"domain": "kill.example"}, list(findings)) for r in range(10)]
    return Project(name=f"Kill test {n}", domain="kill.example", answers={"iteration": n}, runs=runs)
'''

_SAVER = _BUILDER + '''
import sys
from auditapp.core.project_io import save_project

project = make_big_project(0)
n = 0
while True:
    project.name, project.answers = f"Kill test {n}", {"iteration": n}
    save_project(project, sys.argv[1])
    n += 1
'''


@pytest.mark.parametrize("delay", [0.3, 0.37, 0.45])
def test_sigkill_while_saving_leaves_a_loadable_file(tmp_path: Path, delay: float) -> None:
    namespace: dict[str, Any] = {}
    exec(_BUILDER, namespace)
    make_big_project = namespace["make_big_project"]
    path = tmp_path / "big.json"
    proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], cwd=REPO)
    try:
        deadline = time.monotonic() + 30
        while not path.exists():
            assert proc.poll() is None, "the saver died before its first save"
            assert time.monotonic() < deadline, "the saver never saved"
            time.sleep(0.01)
        time.sleep(delay)
        assert proc.poll() is None, "the saver stopped on its own"
    finally:
        proc.kill()  # SIGKILL on POSIX: no cleanup handlers run
        proc.wait()
    loaded = load_project(path)
    n = loaded.answers["iteration"]
    assert loaded == make_big_project(n)
    bak = tmp_path / "big.json.bak"
    if bak.exists():
        previous = load_project(bak)
        assert previous == make_big_project(previous.answers["iteration"])
        # <=: a kill between linking the .bak and replacing the file leaves both equal (still consistent)
        assert previous.answers["iteration"] <= n


@pytest.mark.parametrize("entry", [
    {"rule": "DKIM-WEAK-KEY", "subject": "*", "accepted_by": "x", "accepted_at": "2026-11-28"},  # no justification
    {"rule": "DKIM-WEAK-KEY", "subject": "*", "justification": "j", "accepted_by": "x", "accepted_at": "gestern"},
    {"rule": "DKIM-WEAK-KEY", "subject": "*", "justification": "j", "accepted_by": "x", "accepted_at": "2026-11-28",
     "expires": "bald"},
    {"rule": "DKIM-WEAK-KEY", "subject": "*", "justification": "j", "accepted_by": "x", "accepted_at": "2026-11-28",
     "password": "no"},
])
def test_broken_accepted_risk_entries_are_refused(entry: dict) -> None:
    with pytest.raises(ProjectError) as exc:
        Project.from_json({"domain": "example.com", "accepted_risks": [entry]})
    assert "accepted_risks" in str(exc.value) or "password" in str(exc.value)


_REVIEW = {"rule": "SPF-MISSING", "subject": "*", "kind": "comment", "text": "t", "author": "a",
           "at": "2026-11-28T10:00:00+00:00"}


@pytest.mark.parametrize("change", [
    {"kind": "vote"},
    {"text": "  "},
    {"at": "neulich"},
    {"kind": "severity"},  # an override without a severity
    {"kind": "severity", "severity": "urgent"},
    {"severity": "low"},  # a comment with a severity
    {"secret": "x"},
])
def test_broken_review_entries_are_refused(change: dict) -> None:
    with pytest.raises(ProjectError) as exc:
        Project.from_json({"domain": "example.com", "reviews": [{**_REVIEW, **change}]})
    assert "reviews" in str(exc.value) or "secret" in str(exc.value)
