"""The PDF renderer: read the demo report back (pypdf, pdfplumber) and check order, outline, page numbers,
metadata, fonts, escaping of hostile strings, wrapping inside the page, encryption, draft, and sizes."""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from auditapp.catalog import catalog
from auditapp.core.model import Finding, Reason, Run, Severity, Status
from auditapp.report import AcceptedRisk, ReportMeta, build_report
from auditapp.report.pdf import render_pdf
from auditapp.report.pdf.text import mono_text, normalize, para_text
from auditapp.report.theme import load_theme

HOSTILE_MARKUP = "<font color=red>&amp;</font><br/>"
LONG_TOKEN = "v=DKIM1;p=" + "A" * 4096
SECTION_TITLES = {
    "de": ["Inhalt", "Management-Zusammenfassung", "Umfang und Methode", "Ergebnisse nach Bereich",
           "Richtlinien und Recht", "Maßnahmenplan", "Akzeptierte Risiken", "Anhang"],
    "en": ["Contents", "Management summary", "Scope and method", "Findings by category", "Policy and legal",
           "Action plan", "Accepted risks", "Appendix"],
}
PAGE_RE = {"de": re.compile(r"Seite (\d+) von (\d+)"), "en": re.compile(r"Page (\d+) of (\d+)")}


@pytest.fixture(scope="module")
def demo_run() -> Run:
    """The demo audit, run through the engine against the lab DNS server, as ``auditapp demo`` does."""
    from auditapp.audit.engine import EngineConfig, audit
    from auditapp.core.target import AuditTarget
    from auditapp.dnsclient import DnsClient, Nameserver
    from auditapp.lab.demo import DEMO_DATA, DEMO_DNSBL, DEMO_DOMAIN, DEMO_IPS, DEMO_SELECTOR, DEMO_ZONES
    from auditapp.lab.dnsserver import LabDnsServer, RecordSet
    from auditapp.postfix import load_postfix_config
    from auditapp.questionnaire import load_answers_file

    target = AuditTarget(domain=DEMO_DOMAIN, server_ips=DEMO_IPS, dkim_selectors=(DEMO_SELECTOR,),
                         dnsbl_zones=(DEMO_DNSBL,), services=False,
                         answers=load_answers_file(DEMO_DATA / "answers.json"), postfix_origin="demo")
    postfix = load_postfix_config(DEMO_DATA / "postfix")
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES)) as server:
        client = DnsClient([Nameserver(server.host, server.port)], timeout=2.0)
        return asyncio.run(audit(target, client, EngineConfig(timeout=2.0, postfix=postfix)))


@pytest.fixture(scope="module")
def theme():
    return load_theme("default")


META = ReportMeta(client="Beispiel GmbH", consultant="Muster & Partner", author="Erika Musterfrau")


@pytest.fixture(scope="module", params=["de", "en"])
def demo_pdf(request, demo_run, theme, tmp_path_factory) -> tuple[str, Path]:
    lang = request.param
    path = tmp_path_factory.mktemp("pdf") / f"demo-{lang}.pdf"
    render_pdf(build_report(demo_run, lang=lang, project_name="Beispiel GmbH", meta=META), theme, path)
    return lang, path


def page_texts(reader: PdfReader) -> list[str]:
    return [page.extract_text() or "" for page in reader.pages]


def squash(text: str) -> str:
    return "".join(text.split())


def make_run(findings: list[Finding]) -> Run:
    return Run(id="r1", started="2026-11-28T22:54:00+00:00", finished="2026-11-28T22:54:02+00:00",
               tool_version="0.1.0", catalog_version=catalog().version, resolver="127.0.0.1:53",
               target={"domain": "xn--bcher-kva.example", "domain_unicode": "bücher.example",
                       "server_ips": ["192.0.2.10"], "helo": "mail.bücher.example"},
               findings=findings, duration_s=1.5, inventory={})


def many_findings(n: int, evidence: tuple[str, ...] = ("dig +short TXT example.org", "\"v=spf1 -all\"")) -> list:
    rules = list(catalog().rules.values())
    statuses = [Status.FAIL, Status.FAIL, Status.PASS, Status.NOT_TESTED]
    out = []
    for i in range(n):
        status = statuses[i % len(statuses)]
        reason = Reason("reason.services_off") if status is Status.NOT_TESTED else None
        out.append(Finding(rules[i % len(rules)].id, status, list(Severity)[i % 5], f"host{i}.example.org",
                           "x", {}, evidence, reason))
    return out


def render_bytes(doc, theme, **kw) -> bytes:
    buf = io.BytesIO()
    render_pdf(doc, theme, buf, **kw)
    return buf.getvalue()


# --- text helpers ----------------------------------------------------------------------------


def test_text_is_escaped_normalised_and_controls_are_visible() -> None:
    assert para_text("<b>&amp;</b>") == "&lt;b&gt;&amp;amp;&lt;/b&gt;"
    assert para_text("a\nb") == "a<br/>b"
    assert normalize("ﬁ\x07") == "fi<0x07>"  # NFKC ligature, BEL shown visibly
    assert normalize("a\u200bb") == "a<U+200B>b"
    assert mono_text("  x  y") == "\u00a0\u00a0x\u00a0 y"


# --- the demo report -------------------------------------------------------------------------


def test_demo_report_sections_in_order_with_outline_and_page_numbers(demo_pdf) -> None:
    lang, path = demo_pdf
    reader = PdfReader(path)
    pages = page_texts(reader)
    n = len(reader.pages)
    # outline mirrors the sections in the order of issue #5, categories nested below "findings"
    top = [item for item in reader.outline if not isinstance(item, list)]
    assert [item.title for item in top] == SECTION_TITLES[lang]
    nested = [item for item in reader.outline if isinstance(item, list)]
    assert any(len(group) >= 5 for group in nested)
    # each bookmark points to the page that starts with that title, pages in increasing order
    starts = [reader.get_destination_page_number(item) for item in top]
    assert starts == sorted(starts) and starts[0] == 1
    for item, start in zip(top, starts, strict=True):
        assert item.title in pages[start].split("\n"), (item.title, start)
    # "Page X of Y" on every page, X counting up, Y the real page count
    for number, text in enumerate(pages, start=1):
        found = PAGE_RE[lang].findall(text)
        assert (str(number), str(n)) in found, (number, found)
    # the table of contents lists sections with their page numbers
    toc = pages[1]
    numbers = set(re.findall(r"\.\s*(\d+)\s*$", toc, re.MULTILINE))
    for title, start in zip(SECTION_TITLES[lang][1:], starts[1:], strict=True):
        assert title in toc
        assert str(start + 1) in numbers, (title, start + 1, numbers)


def test_demo_report_metadata_and_fonts(demo_pdf) -> None:
    lang, path = demo_pdf
    reader = PdfReader(path)
    meta = reader.metadata
    assert meta.title == ("Prüfbericht E-Mail-Infrastruktur" if lang == "de" else "E-mail infrastructure audit report")
    assert meta.author == "Erika Musterfrau"
    assert "Beispiel GmbH" in meta.subject
    assert "DMARC" in meta.get("/Keywords", "")
    assert meta.creator.startswith("auditapp ")
    assert meta.creation_date is not None
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = out.splitlines()[2:]
    assert rows
    for row in rows:
        assert "Helvetica" not in row
        assert row.split()[-5] == "yes", row  # the "emb" column
    assert len(reader.pages) >= 10


def test_demo_report_cover_and_summary(demo_pdf) -> None:
    lang, path = demo_pdf
    pages = page_texts(PdfReader(path))
    cover = pages[0]
    for text in ("Beispiel GmbH", "Muster & Partner", "Erika Musterfrau", "beispiel-gmbh.example"):
        assert text in cover
    summary = next(t for t in pages if ("Gesamtnote" if lang == "de" else "Overall grade") in t)
    assert ("Die wichtigsten Maßnahmen" if lang == "de" else "Most important actions") in summary


# --- robustness ------------------------------------------------------------------------------


def hostile_report(theme, lang="en"):
    rule = next(r.id for r in catalog().rules.values() if r.category == "dns_identity")
    evil = HOSTILE_MARKUP + " " + LONG_TOKEN
    findings = [Finding(rule, Status.FAIL, Severity.HIGH, HOSTILE_MARKUP, "x", {}, (evil, "ctrl:\x07\x1b end"),
                        None)]
    meta = ReportMeta(client=HOSTILE_MARKUP, author="A & B <x>")
    return build_report(make_run(findings), lang=lang, meta=meta)


def test_hostile_strings_appear_literally_and_stay_inside_the_page(theme, tmp_path: Path) -> None:
    pdfplumber = pytest.importorskip("pdfplumber")
    path = tmp_path / "hostile.pdf"
    render_pdf(hostile_report(theme), theme, path)
    reader = PdfReader(path)
    text = squash("".join(page_texts(reader)))
    assert squash(HOSTILE_MARKUP) in text
    assert "A&B<x>" in text
    assert "<0x07><0x1B>" in text
    assert "A" * 1000 in text  # the 4 kB token is wrapped, not cut
    assert text.count("A" * 4096) >= 1 or text.count("A") >= 4096
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            for ch in page.chars:
                assert ch["x0"] >= 0 and ch["x1"] <= page.width, (page.page_number, ch["text"], ch["x1"])
                assert ch["top"] >= 0 and ch["bottom"] <= page.height
            # body text stays inside the margins too (20 mm = 56.7 pt), except the cover band
            if page.page_number > 1:
                xs = [ch["x1"] for ch in page.chars]
                assert max(xs) <= page.width - 56, page.page_number


@pytest.mark.parametrize("count", [0, 1, 500])
def test_zero_one_and_many_findings_render(theme, count: int) -> None:
    findings = many_findings(count)
    data = render_bytes(build_report(make_run(findings), lang="de"), theme)
    reader = PdfReader(io.BytesIO(data))
    pages = page_texts(reader)
    n = len(pages)
    assert f"Seite {n} von {n}" in pages[-1]
    assert [item.title for item in reader.outline if not isinstance(item, list)] == SECTION_TITLES["de"]
    if count == 500:
        assert n > 50
        # the action-plan table repeats its header on every page it spans
        plan = [t for t in pages if "Maßnahmenplan" in t.split("\n")[:3] or "Nr.Maßnahme" in squash(t)]
        assert sum("Verantwortlich" in t for t in plan) >= 2


def test_delta_accepted_risks_and_client_logo(demo_run, theme) -> None:
    from auditapp.paths import asset_dir

    failed = next(f for f in demo_run.findings if f.status is Status.FAIL)
    risk = AcceptedRisk(failed.rule, failed.subject, "Provider <cannot> change it & knows", "Dr. Muster",
                        "2026-10-01", expires="2027-06-30")
    logo = str(asset_dir("reports") / "logos" / "muster-partner.png")
    previous = make_run(many_findings(20))
    doc = build_report(demo_run, lang="en", previous=previous, accepted=[risk],
                       meta=ReportMeta(client="Beispiel GmbH", client_logo=logo))
    reader = PdfReader(io.BytesIO(render_bytes(doc, theme)))
    pages = page_texts(reader)
    summary = next(t for t in pages if "Overall grade" in t)
    assert "Previous overall grade" in summary
    top = [item for item in reader.outline if not isinstance(item, list)]
    starts = {item.title: reader.get_destination_page_number(item) for item in top}
    assert starts["Scope and method"] - starts["Management summary"] == 1  # the summary fits on one page
    assert "Still open" in summary and "Fixed" in summary
    accepted = pages[starts["Accepted risks"]]
    assert "Justification" in accepted
    assert "Provider <cannot> change it & knows" in " ".join(accepted.split())
    assert len(reader.pages[0].images) >= 2  # consultant logo and client logo on the cover


def test_password_encrypts_with_aes256(demo_run, theme) -> None:
    doc = build_report(demo_run, lang="en")
    data = render_bytes(doc, theme, password="s3cret")
    reader = PdfReader(io.BytesIO(data))
    assert reader.is_encrypted
    assert "/AESV3" in str(reader.trailer["/Encrypt"]["/CF"])
    assert reader.decrypt("wrong") == 0
    reader = PdfReader(io.BytesIO(data))
    assert reader.decrypt("s3cret") != 0
    assert "Management summary" in reader.pages[2].extract_text()
    assert reader.metadata.title == "E-mail infrastructure audit report"


def test_draft_watermark(demo_run, theme) -> None:
    plain = render_bytes(build_report(demo_run, lang="de"), theme)
    draft = render_bytes(build_report(demo_run, lang="de"), theme, draft=True)
    assert "ENTWURF" not in PdfReader(io.BytesIO(plain)).pages[3].extract_text()
    for page in PdfReader(io.BytesIO(draft)).pages[:4]:
        assert "ENTWURF" in page.extract_text()
    en = render_bytes(build_report(demo_run, lang="en"), theme, draft=True)
    assert "DRAFT" in PdfReader(io.BytesIO(en)).pages[0].extract_text()


def test_path_output_is_atomic_and_second_theme_works(demo_run, tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"old")
    render_pdf(build_report(demo_run, lang="de"), load_theme("example-consultancy"), path)
    assert path.read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_the_action_plan_header_repeats_only_at_the_top_of_a_page(demo_pdf) -> None:
    """A row moved to the next page must not drag a second header into the middle of a page."""
    import re

    lang, path = demo_pdf
    header = {"de": r"Nr\.\s*Maßnahme\s*Schweregrad", "en": r"No\.\s*Action\s*Severity"}[lang]
    texts = page_texts(PdfReader(str(path)))
    pages_with_plan = [t for t in texts if re.search(header, t)]
    assert len(pages_with_plan) >= 2  # the demo's plan runs over more than one page
    assert all(len(re.findall(header, t)) == 1 for t in pages_with_plan)
