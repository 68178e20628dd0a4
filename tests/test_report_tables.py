"""The "not tested" table and the action plan look finished (issue 14, report details).

Identical reasons are one row; rule IDs and host names are never broken inside a word (a
rule ID only at one of its hyphens, and only where it cannot fit); titles that do not fit a
narrow column break at word boundaries and at German hyphenation points, never in the middle
of a syllable as reportlab's character splitting did.
"""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

import pdfplumber
import pytest
from pypdf import PdfReader
from reportlab.lib.styles import ParagraphStyle

from auditapp.core.model import Run
from auditapp.report import build_report
from auditapp.report.pdf import render_pdf
from auditapp.report.pdf.render import render_bytes
from auditapp.report.pdf.text import hyphenate
from auditapp.report.theme import load_theme

SOFT = "\u00ad"


@pytest.fixture(scope="module")
def dns_only_run() -> Run:
    """The demo zones audited without service probes: twenty-odd rules "not probed in this run"."""
    from auditapp.audit.engine import EngineConfig, audit
    from auditapp.core.target import AuditTarget
    from auditapp.dnsclient import DnsClient, Nameserver
    from auditapp.lab.demo import DEMO_DNSBL, DEMO_DOMAIN, DEMO_IPS, DEMO_SELECTOR, DEMO_ZONES
    from auditapp.lab.dnsserver import LabDnsServer, RecordSet

    target = AuditTarget(domain=DEMO_DOMAIN, server_ips=DEMO_IPS, dkim_selectors=(DEMO_SELECTOR,),
                         dnsbl_zones=(DEMO_DNSBL,), services=False)
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES)) as server:
        client = DnsClient([Nameserver(server.host, server.port)], timeout=2.0)
        return asyncio.run(audit(target, client, EngineConfig(timeout=2.0, smtp_probe=False)))


def test_identical_reasons_are_one_row(dns_only_run: Run) -> None:
    scope = build_report(dns_only_run, lang="de").section("scope").body
    assert {r for g in scope.not_tested_groups for r in g.rules} == {i.rule for i in scope.not_tested}
    assert sum(int(g.count_label.split()[0]) for g in scope.not_tested_groups) == len(scope.not_tested)
    biggest = scope.not_tested_groups[0]
    assert len(biggest.rules) >= 15
    assert biggest.count_label == f"{len(biggest.rules)} Prüfungen"
    assert "nicht geprüft (nur DNS)" in biggest.reason
    reasons = [(g.status, str(g.reason)) for g in scope.not_tested_groups]
    assert len(reasons) == len(set(reasons))  # no reason twice
    assert [len(g.rules) for g in scope.not_tested_groups] == sorted((len(g.rules) for g in
                                                                     scope.not_tested_groups), reverse=True)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_rule_ids_and_names_are_never_broken_inside_a_word(dns_only_run: Run, lang: str) -> None:
    doc = build_report(dns_only_run, lang=lang, project_name="Beispiel GmbH")
    scope, plan = doc.section("scope").body, doc.section("actions").body
    data = render_bytes(doc, load_theme("default"))
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        lines = [line for page in pdf.pages for line in (page.extract_text() or "").splitlines()]
    words = {w for line in lines for w in re.split(r"[\s,]+", line) if w}
    # every rule ID of the not-tested table and every subject host name is printed whole
    for group in scope.not_tested_groups:
        for rule in group.rules:
            assert rule in words, rule
    for name in ("beispiel-gmbh.example", "dnsbl.demo.example"):
        assert any(name in line for line in lines), name
        assert not any(re.search(re.escape(name[:-2]) + r"$", line) for line in lines), f"{name} broken"
    # an action plan rule ID is whole, or split only after one of its hyphens
    text = "\n".join(lines)
    for row in plan.rows:
        assert row.rule in words or any(
            re.search(re.escape(row.rule[:i + 1]) + r"\s*\n(?:.*\n){0,3}?.*" + re.escape(row.rule[i + 1:]), text)
            for i, ch in enumerate(row.rule) if ch == "-"), row.rule


def test_hyphenation_touches_only_words_that_do_not_fit() -> None:
    def fits(word: str) -> bool:
        return len(word.replace(SOFT, "")) <= 12

    out = hyphenate("Keine Betriebsvereinbarung zu Mailsystemen (POL-WORKS-AGREEMENT-MISSING)", "de", fits)
    assert out.startswith("Keine Be")
    assert "Be\u00adtriebs\u00adver\u00adein\u00adba\u00adrung" in out
    assert "Mailsystemen" in out and "POL-WORKS-AGREEMENT-MISSING" in out  # fits, or not a word
    assert out.replace(SOFT, "") == "Keine Betriebsvereinbarung zu Mailsystemen (POL-WORKS-AGREEMENT-MISSING)"


def test_a_long_german_word_breaks_at_a_hyphenation_point() -> None:
    from reportlab.platypus import Paragraph

    from auditapp.report.pdf.flowables import make_styles
    from auditapp.report.pdf.tables import titled
    from auditapp.report.theme import register_fonts

    theme = load_theme("default")
    st = make_styles(theme, register_fonts(theme))
    style = ParagraphStyle("narrow", parent=st.cell, fontSize=9)
    para = titled(st, "Betriebsvereinbarungsentwurf fehlt", "de", style, 70)
    assert isinstance(para, Paragraph)
    para.wrap(70, 1000)
    lines = ["".join(str(w) for w in line[1]) if isinstance(line[1], list) else str(line[1])
             for line in para.blPara.lines]
    broken = [line for line in lines if line.endswith("-")]
    assert broken, lines
    heads = {"Be-", "Betriebs-", "Betriebsver-", "Betriebsverein-", "Betriebsvereinba-", "Betriebsvereinbarungs-"}
    assert all(any(line.replace(SOFT, "").endswith(h) for h in heads) or line.count("-") == 1
               for line in broken), lines


def test_degraded_watermark_and_draft_render_together(dns_only_run: Run, tmp_path: Path) -> None:
    from dataclasses import replace

    from auditapp.core.model import Reason

    run = replace(dns_only_run, degraded=True,
                  degraded_reason=Reason("run.degraded", {"resolver": "127.0.0.1:5353", "failed": 40, "asked": 44,
                                                          "outcome": "timeout"}))
    path = tmp_path / "degraded.pdf"
    render_pdf(build_report(run, lang="en"), load_theme("default"), path, draft=True)
    pages = PdfReader(path).pages
    first = pages[0].extract_text()
    summary = " ".join(" ".join(page.extract_text().split()) for page in pages[:4])
    for mark in ("No valid result", "the resolver did not answer", "DRAFT"):
        assert mark in first, mark
    assert "40 of 44 DNS questions" in summary
