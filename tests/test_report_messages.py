"""The report's "Message evidence" section (issue 15): model, privacy, escaping, diagram, PDF, demo."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from pypdf import PdfReader

from auditapp.audit.messages import judge_messages
from auditapp.catalog import catalog
from auditapp.core.model import Finding, Run
from auditapp.dnsclient import DnsClient, Nameserver
from auditapp.lab.demo import DEMO_DOMAIN, DEMO_ZONES
from auditapp.lab.demo_messages import demo_messages, examined_demo_messages
from auditapp.lab.dnsserver import LabDnsServer, RecordSet
from auditapp.message.evidence import MessageEvidence, examine, from_stored
from auditapp.report import Untrusted, build_report
from auditapp.report.document import HopLink, HostNode, MessageSection, ReportDocument
from auditapp.report.pdf import render_pdf
from auditapp.report.pdf.flowables import make_styles
from auditapp.report.pdf.hopdiagram import hop_diagram
from auditapp.report.theme import load_theme, register_fonts

RECEIVER = "kunde.example"
DATE = "Sun, 06 Dec 2026 10:00:{:02d} +0000"
TITLES = {"de": "Belege aus empfangenen Mails", "en": "Message evidence"}


def received(sender: str, ip: str, by: str, second: int, *, helo: str | None = None, tls: bool = True,
             recipient: str = f"p.meier@{RECEIVER}") -> str:
    using = " (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))" if tls else ""
    return (f"Received: from {helo or sender} ({sender} [{ip}]){using} by {by} (Postfix) with "
            f"{'ESMTPS' if tls else 'ESMTP'} id X{second} for <{recipient}>; {DATE.format(second)}\r\n")


def header_block(*, from_addr: str, envelope: str, message_id: str, hops: Sequence[str],
                 auth: str = "") -> bytes:
    """A header block only (pasted headers: DKIM is then neutral, never "body changed")."""
    text = f"Return-Path: <{envelope}>\r\n"
    text += "".join(reversed(hops))  # newest first, as receivers prepend
    if auth:
        text += f"Authentication-Results: mx01.{RECEIVER}; {auth}\r\n"
    text += (f"From: <{from_addr}>\r\nTo: <p.meier@{RECEIVER}>\r\nSubject: Test\r\n"
             f"Message-ID: <{message_id}>\r\nDate: {DATE.format(0)}\r\n")
    return text.encode()


@pytest.fixture(scope="module")
def lab() -> Iterator[DnsClient]:
    with LabDnsServer(RecordSet.from_zone_text(DEMO_ZONES)) as server:
        yield DnsClient([Nameserver(server.host, server.port)], timeout=2.0)


def examine_all(dns: DnsClient, raws: Sequence[tuple[str, bytes]]) -> list[MessageEvidence]:
    async def go() -> list[MessageEvidence]:
        return [await examine(name, raw, dns) for name, raw in raws]

    return asyncio.run(go())


def run_for(evidence: Sequence[MessageEvidence], target: dict[str, Any] | None = None) -> Run:
    """A run whose only results are the MSG-* rules over ``evidence`` (as an audit judges them)."""
    findings: list[Finding] = [f for per in judge_messages(evidence) for f in per]
    return Run(id="r1", started="2026-12-06T10:05:00+00:00", finished="2026-12-06T10:05:02+00:00",
               tool_version="0.1.0", catalog_version=catalog().version, resolver="127.0.0.1:53",
               target=target or {"domain": DEMO_DOMAIN, "server_ips": ["192.0.2.10"]}, findings=findings,
               duration_s=2.0, inventory={})


def section(doc: ReportDocument) -> MessageSection:
    body = doc.section("messages").body
    assert isinstance(body, MessageSection)
    return body


def strings(value: Any) -> Iterator[str]:
    """Every string in the document (dataclass fields, tuples, mappings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from strings(getattr(value, f.name))
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, tuple | list):
        for v in value:
            yield from strings(v)
    elif isinstance(value, str):
        yield value


def pdf_text(doc: ReportDocument, only: str = "") -> str:
    """The PDF's text; with ``only`` (a chapter title) just that chapter's pages."""
    buf = io.BytesIO()
    render_pdf(doc, load_theme("default"), buf)
    reader = PdfReader(io.BytesIO(buf.getvalue()))
    pages = range(len(reader.pages))
    if only:
        top = [item for item in reader.outline if not isinstance(item, list)]
        starts = [reader.get_destination_page_number(item) for item in top]
        at = next(i for i, item in enumerate(top) if item.title == only)
        pages = range(starts[at], starts[at + 1])
    return "\n".join(reader.pages[n].extract_text() or "" for n in pages)


@pytest.fixture(scope="module")
def demo_evidence() -> list[MessageEvidence]:
    return [from_stored(m) for m in examined_demo_messages(DEMO_DOMAIN, DEMO_ZONES)]


# --- the model ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_section_shows_hops_the_hand_over_and_both_verdicts(demo_evidence, lang: str) -> None:
    doc = build_report(run_for(demo_evidence), lang=lang, messages=demo_evidence)
    keys = [s.key for s in doc.sections]
    assert keys[-3:] == ["accepted", "messages", "appendix"]
    assert doc.section("messages").title == TITLES[lang]
    good, bad = section(doc).messages
    assert good.message_id == demo_evidence[0].label
    # three hops, four servers; hop 2 (index 1) is the hand-over the receiver judged
    assert [row.number for row in good.hops] == [1, 2, 3]
    assert [row.handover for row in good.hops] == [False, True, False]
    assert [row.sender for row in good.hops] == [True, True, False]
    assert [n.side for n in good.nodes] == ["sender", "sender", "receiver", "receiver"]
    assert good.nodes[1].name == f"mail.{DEMO_DOMAIN}" and good.nodes[1].ip == "192.0.2.10"
    links = [link for link in good.links if link is not None]
    assert [link.handover for link in links] == [False, True, False]
    assert [row.method for row in good.verdicts] == ["DKIM", "ARC", "SPF", "DMARC"]
    dkim = good.verdicts[0]
    assert dkim.result == "pass" and dkim.receiver == "pass" and not dkim.differs
    assert "s=s2026" in dkim.detail and "2048" in dkim.detail
    assert good.findings == ()
    # the invoice: the hand-over without TLS, DKIM broken by the footer, DMARC through SPF
    assert bad.links[1] is not None and bad.links[1].handover and bad.links[1].no_tls
    assert bad.verdicts[0].result == "fail" and bad.verdicts[0].receiver == "fail"
    assert {f.split(" ")[0] for f in bad.findings} >= {"MSG-DKIM-INVALID", "MSG-HELO-MISMATCH", "MSG-INTERNAL-LEAK",
                                                       "MSG-NO-TLS-HOP"}
    assert bad.verdicts[3].result == "pass"
    assert "127.0.0.1:" in good.verified


def test_a_receiver_verdict_that_differs_is_noted(lab: DnsClient) -> None:
    raw = header_block(from_addr=f"a@{DEMO_DOMAIN}", envelope=f"a@{DEMO_DOMAIN}", message_id="differs@test",
                       hops=[received(f"mail.{DEMO_DOMAIN}", "192.0.2.10", f"mx01.{RECEIVER}", 1)],
                       auth=f"spf=fail smtp.mailfrom=a@{DEMO_DOMAIN}; dmarc=pass header.from={DEMO_DOMAIN}")
    evidence = examine_all(lab, [("x.eml", raw)])
    entry = section(build_report(run_for(evidence), lang="en", messages=evidence)).messages[0]
    spf = next(r for r in entry.verdicts if r.method == "SPF")
    assert spf.result == "pass" and spf.receiver == "fail" and spf.differs
    assert 'the receiver said "fail", the import "pass"' in spf.note
    arc = next(r for r in entry.verdicts if r.method == "ARC")
    assert arc.receiver == "not reported" and not arc.differs


def test_addresses_are_shown_only_for_the_audited_domain(lab: DnsClient) -> None:
    own = header_block(from_addr=f"anna@{DEMO_DOMAIN}", envelope="bounce-77@mailer.other.example",
                       message_id="own@test",
                       hops=[received(f"mail.{DEMO_DOMAIN}", "192.0.2.10", f"mx01.{RECEIVER}", 1)])
    sub = header_block(from_addr=f"news@info.{DEMO_DOMAIN}", envelope=f"news@info.{DEMO_DOMAIN}",
                       message_id="sub@test",
                       hops=[received(f"mail.{DEMO_DOMAIN}", "192.0.2.10", f"mx01.{RECEIVER}", 1)])
    foreign = header_block(from_addr="max.mustermann@other.example", envelope="max.mustermann@other.example",
                           message_id="foreign@test",
                           hops=[received("mail.other.example", "203.0.113.9", f"mx01.{RECEIVER}", 1)])
    evidence = examine_all(lab, [("own.eml", own), ("sub.eml", sub), ("foreign.eml", foreign)])
    doc = build_report(run_for(evidence), lang="de", messages=evidence)
    own_entry, sub_entry, foreign_entry = section(doc).messages
    assert own_entry.from_text == f"anna@{DEMO_DOMAIN}"
    assert own_entry.envelope == "…@mailer.other.example"
    assert sub_entry.from_text == f"news@info.{DEMO_DOMAIN}" and sub_entry.envelope == sub_entry.from_text
    assert foreign_entry.from_text == "…@other.example" and foreign_entry.envelope == "…@other.example"
    # (The MSG-* findings' own texts are the catalog's; this checks what the section adds.)
    everything = "\n".join(strings(section(doc)))
    for hidden in ("bounce-77@", "max.mustermann", f"p.meier@{RECEIVER}", "for <"):
        assert hidden not in everything, hidden
    text = pdf_text(doc, only=TITLES["de"])
    assert f"anna@{DEMO_DOMAIN}" in text
    for hidden in ("bounce-77@", "max.mustermann", "p.meier"):
        assert hidden not in text, hidden


def test_markup_in_a_received_header_renders_as_text(lab: DnsClient) -> None:
    evil = "<b>evil</b>.example"
    raw = header_block(from_addr=f"a@{DEMO_DOMAIN}", envelope=f"a@{DEMO_DOMAIN}", message_id="<i>id</i>@test",
                       hops=[received(evil, "192.0.2.10", f"mx01.{RECEIVER}", 1, tls=False)])
    evidence = examine_all(lab, [("evil.eml", raw)])
    doc = build_report(run_for(evidence), lang="en", messages=evidence)
    entry = section(doc).messages[0]
    assert entry.nodes[0].name == evil and evil in entry.hops[0].from_text
    text = pdf_text(doc)
    assert evil in text  # the tags are printed, not applied
    assert "<i>id</i>@test" in text


def test_no_section_without_messages_or_without_their_results(demo_evidence) -> None:
    run = run_for(demo_evidence)
    assert "messages" not in [s.key for s in build_report(run, lang="de").sections]
    # messages the run did not judge (imported after it, or a run from before messages existed)
    older = dataclasses.replace(run, findings=[f for f in run.findings if not f.rule.startswith("MSG-")])
    assert "messages" not in [s.key for s in build_report(older, lang="en", messages=demo_evidence).sections]
    # stored messages work as well as examined ones
    stored = examined_demo_messages(DEMO_DOMAIN, DEMO_ZONES)
    assert len(section(build_report(run, lang="en", messages=stored)).messages) == 2


@pytest.mark.parametrize("lang, note", [("en", "learned from message <m1@test>, hop 2"),
                                        ("de", "aus Mail <m1@test> gelernt, Hop 2")])
def test_learned_values_name_their_message_and_hop(demo_evidence, lang: str, note: str) -> None:
    target = {"domain": DEMO_DOMAIN, "server_ips": ["192.0.2.10", "192.0.2.20"], "helo": "mail.example",
              "dkim_selectors": ["s2026"],
              "learned": [{"field": "server_ips", "value": "192.0.2.10", "message": "<m1@test>", "hop": 2},
                          {"field": "dkim_selectors", "value": "s2026", "message": "<m1@test>", "hop": None}]}
    doc = build_report(run_for(demo_evidence, target), lang=lang)
    facts = {f.label: f.value for f in doc.section("scope").body.facts}
    ips = next(v for k, v in facts.items() if "IP" in k)
    assert ips == f"192.0.2.10 ({note}), 192.0.2.20"
    assert any("s2026 (" in v and "<m1@test>" in v for v in facts.values())
    helo = next(v for k, v in facts.items() if "HELO" in k)
    assert helo == "mail.example"  # given, not learned: no note


# --- the PDF -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_pdf_has_the_section_heading_and_the_message_ids(demo_evidence, lang: str) -> None:
    doc = build_report(run_for(demo_evidence), lang=lang, project_name="Beispiel GmbH", messages=demo_evidence)
    buf = io.BytesIO()
    render_pdf(doc, load_theme("default"), buf)
    reader = PdfReader(io.BytesIO(buf.getvalue()))
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert titles[-2:] == [TITLES[lang], {"de": "Anhang", "en": "Appendix"}[lang]]
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    assert TITLES[lang] in text
    for ev in demo_evidence:
        assert ev.label in text
    assert {"de": "Übergabe an den Empfänger", "en": "Hand-over to the receiver"}[lang] in text


def chain(count: int) -> tuple[tuple[HostNode, ...], tuple[HopLink | None, ...]]:
    names = [f"relay-{i:02d}.a-rather-long-subdomain-name.beispiel-gmbh.example" for i in range(count + 1)]
    nodes = tuple(HostNode(Untrusted(n), Untrusted(f"192.0.2.{i}"), Untrusted(f"helo-{i}.example" if i % 2 else ""),
                           "sender" if i <= count // 2 else "receiver") for i, n in enumerate(names))
    links = tuple(HopLink(i + 1, Untrusted("ESMTPS" if i % 3 else "Microsoft SMTP Server"),
                          Untrusted("TLSv1.3" if i % 3 else "no TLS"), i % 3 == 0, f"{i} s", i == count // 2,
                          i <= count // 2) for i in range(count))
    # with three hops or more, the last one is a gap in the recorded chain (drawn dashed)
    return nodes, ((*links[:-1], None) if count > 2 else links)


@pytest.mark.parametrize("hops", [1, 3, 10])
def test_the_hop_diagram_stays_inside_the_frame(hops: int) -> None:
    theme = load_theme("default")
    st = make_styles(theme, register_fonts(theme))
    width = 170 * 72 / 25.4  # the default theme's body frame (A4 less 20 mm margins)
    nodes, links = chain(hops)
    drawing = hop_diagram(st, nodes, links, width, ["Sender", "Receiver", "Hand-over", "no TLS"])
    assert drawing.width <= width
    x0, y0, x1, y1 = drawing.getBounds()
    assert x0 >= -3.5 and x1 <= width + 3.5 and y0 >= 0 and y1 <= drawing.height  # arrow heads' half width
    if hops == 10:
        assert drawing.height > 3 * 40  # wrapped into rows rather than squeezed into one


def test_the_demo_has_one_good_and_one_bad_message(demo_evidence) -> None:
    good, bad = judge_messages(demo_evidence)
    assert {f.status.value for f in good} <= {"pass", "not_applicable"}
    failed = {f.rule for f in bad if f.status.value == "fail"}
    assert {"MSG-DKIM-INVALID", "MSG-HELO-MISMATCH", "MSG-INTERNAL-LEAK", "MSG-NO-TLS-HOP"} <= failed
    assert all(m.body_sha256 is not None for m in examined_demo_messages(DEMO_DOMAIN, DEMO_ZONES))
    assert len(demo_messages(DEMO_DOMAIN)) == 2
