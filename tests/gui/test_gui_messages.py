"""Message evidence on the target page (issue 15): import, paste, drop, list, remove, the hop diagram, learned values.

The messages are signed by dkimpy with a real RSA key whose public half the lab's DNS server
serves, with the SPF and DMARC records; the project's resolver is that server, so the import
goes through the page exactly as a user's does (a task, ``examine`` with the project's
resolvers) and the verdicts are real.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gui_helpers import run_modal
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from auditapp.core.project import Project
from auditapp.lab.dnsserver import LabDnsServer, RecordSet
from auditapp.message.hops import Hop
from auditapp.message.verify import dkim_clock

DOMAIN = "firma.test"
OUT_IP = "192.0.2.10"
_KEY = rsa.generate_private_key(65537, 2048)
PRIVATE = _KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _records() -> RecordSet:
    der = _KEY.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    rs = RecordSet()
    rs.add("test", "SOA", "ns. h. 1 2 3 4 5")
    rs.add(f"sel._domainkey.{DOMAIN}", "TXT", "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode())
    rs.add(DOMAIN, "TXT", f"v=spf1 ip4:{OUT_IP} -all")
    rs.add(f"_dmarc.{DOMAIN}", "TXT", "v=DMARC1; p=reject")
    rs.add(f"mail.{DOMAIN}", "A", OUT_IP)
    rs.add("10.2.0.192.in-addr.arpa", "PTR", f"mail.{DOMAIN}.")
    return rs


#: The test messages' Date: (tests/test_message_rules.py says why they must be signed then).
SIGNED_AT = datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC).timestamp()


def signed_message(n: int = 1, *, tls: bool = True) -> bytes:
    """A message as Postfix delivers it: submission, the relay to the receiver's MX, LMTP; DKIM-signed."""
    body = "Hello Bob,\r\n\r\nthe figures are attached.\r\n"
    head = (f"From: Alice <alice@{DOMAIN}>\r\nTo: bob@receiver.test\r\nSubject: Figures {n}\r\n"
            f"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{n}@{DOMAIN}>\r\n"
            f"Received: from [198.51.100.77] (dyn.isp.test [198.51.100.77]) by mail.{DOMAIN} (Postfix) with "
            f"ESMTPSA id A{n}\r\n\tfor <bob@receiver.test>; Sun, 06 Dec 2026 10:00:01 +0000\r\n")
    raw = (head + "\r\n" + body).encode()
    with dkim_clock(SIGNED_AT):  # signed when the message says; it is judged at its receipt
        raw = dkim.sign(raw, b"sel", DOMAIN.encode(), PRIVATE,
                        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"]) + raw
    cipher = "(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) " if tls else ""
    relay = (f"Received: from mail.{DOMAIN} (mail.{DOMAIN} [{OUT_IP}])\r\n\t{cipher}by mx.receiver.test (Postfix) "
             f"with {'ESMTPS' if tls else 'ESMTP'} id R{n}\r\n\tfor <bob@receiver.test>; "
             f"Sun, 06 Dec 2026 10:00:03 +0000\r\n")
    results = (f"Authentication-Results: mx.receiver.test; dkim=pass header.d={DOMAIN}; "
               f"spf=pass smtp.mailfrom={DOMAIN}; dmarc=pass header.from={DOMAIN}\r\n")
    lmtp = ("Received: from mx.receiver.test\r\n\tby imap.receiver.test (Dovecot) with LMTP id L1\r\n"
            "\tfor <bob@receiver.test>; Sun, 06 Dec 2026 10:00:04 +0000\r\n")
    return (lmtp + results + f"Return-Path: <bounce@{DOMAIN}>\r\n" + relay).encode() + raw


@pytest.fixture(scope="module")
def lab() -> Iterator[LabDnsServer]:
    with LabDnsServer(_records()) as server:
        yield server


@pytest.fixture
def page(window, ctx, lab):
    ctx.session.new(Project(name="Firma", domain=DOMAIN, nameservers=[lab.address]))
    window.go("target")
    return window.pages["target"]


def _import(page, qtbot, paths: list[Path]) -> None:
    page.import_files(paths)
    qtbot.waitUntil(lambda: not page.importing, timeout=20000)


def _entries(page) -> list[str]:
    return [page.message_list.item(r).text() for r in range(page.message_list.count())]


def test_a_signed_message_is_imported_once_and_listed_with_its_verdicts(page, ctx, qtbot, tmp_path: Path) -> None:
    path = tmp_path / "figures.eml"
    path.write_bytes(signed_message())
    ctx.session.save(tmp_path / "p.auditproj")
    _import(page, qtbot, [path])
    project = ctx.session.project
    assert len(project.messages) == 1
    stored = project.messages[0]
    assert stored.name == "figures.eml"  # the file's name, never its folder
    assert b"the figures are attached" not in stored.header_bytes  # no body
    assert ctx.session.modified
    [entry] = _entries(page)
    assert entry.splitlines()[0].startswith(f"<1@{DOMAIN}> · {DOMAIN} · ")
    assert entry.splitlines()[1] == "DKIM bestanden · SPF bestanden · DMARC bestanden · TLS 1.3"
    assert "1 Mail(s) gespeichert" in page.message_note.text()

    # The same file again, this time dropped onto the page: still one message.
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    page.dropEvent(drop)
    assert page.importing
    qtbot.waitUntil(lambda: not page.importing, timeout=20000)
    assert len(project.messages) == 1 and page.message_list.count() == 1
    assert "figures.eml: schon gespeichert" in page.message_note.text()


def test_a_file_that_is_no_message_is_reported_and_the_others_are_kept(page, ctx, qtbot, tmp_path: Path) -> None:
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    ctx.session.save(tmp_path / "p.auditproj")
    _import(page, qtbot, [pdf])
    assert ctx.session.project.messages == [] and page.message_list.count() == 0
    assert not ctx.session.modified
    assert "invoice.pdf: nicht importiert (not a message" in page.message_note.text()
    # In one batch with a good file and a missing one: each is answered on its own line.
    good = tmp_path / "good.eml"
    good.write_bytes(signed_message(2))
    _import(page, qtbot, [pdf, tmp_path / "gone.eml", good])
    assert [m.name for m in ctx.session.project.messages] == ["good.eml"]
    note = page.message_note.text().splitlines()
    assert note[0] == "1 Mail(s) gespeichert."
    assert note[1].startswith("invoice.pdf: nicht importiert") and note[2].startswith("gone.eml: nicht importiert")


def test_remove_asks_first_then_removes_and_marks_modified(page, ctx, qtbot, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "figures.eml"
    path.write_bytes(signed_message())
    _import(page, qtbot, [path])
    saved = tmp_path / "p.auditproj"
    ctx.session.save(saved)
    assert len(json.loads(saved.read_text(encoding="utf-8"))["project"]["messages"]) == 1
    page.message_list.setCurrentRow(0)
    assert page.remove_button.isEnabled()
    asked: list[str] = []
    monkeypatch.setattr(page, "confirm", lambda title, text: asked.append(text) or False)
    page.remove_button.click()
    assert asked and f"<1@{DOMAIN}>" in asked[0]
    assert len(ctx.session.project.messages) == 1 and not ctx.session.modified
    monkeypatch.setattr(page, "confirm", lambda title, text: True)
    page.remove_button.click()
    assert ctx.session.project.messages == [] and page.message_list.count() == 0
    assert ctx.session.modified
    ctx.session.save()
    assert "messages" not in json.loads(saved.read_text(encoding="utf-8"))["project"]
    assert not page.remove_button.isEnabled()


def test_pasted_headers_are_stored_without_a_body(page, ctx, qtbot) -> None:
    block = signed_message(3).split(b"\r\n\r\n", 1)[0].decode()

    def fill(dialog) -> None:
        dialog.text.setPlainText(block.replace("\r\n", "\n"))
        dialog.accept()

    run_modal(qtbot, page.paste_button.click, fill)
    qtbot.waitUntil(lambda: not page.importing, timeout=20000)
    [stored] = ctx.session.project.messages
    assert stored.name == "pasted" and stored.body_sha256 is None
    [entry] = _entries(page)
    assert "nur Kopfzeilen" in entry and "SPF bestanden" in entry and "DKIM neutral" in entry


def test_the_evidence_dialog_shows_the_chain_and_both_verdicts(page, qtbot, tmp_path: Path) -> None:
    path = tmp_path / "figures.eml"
    path.write_bytes(signed_message(4, tls=False))
    _import(page, qtbot, [path])
    page.message_list.setCurrentRow(0)
    assert "ohne TLS" in _entries(page)[0]
    seen = {}

    def look(dialog) -> None:
        seen["hosts"] = [h.name for h in dialog.view.diagram.hosts]
        seen["sides"] = [h.side for h in dialog.view.diagram.hosts]
        seen["rows"] = dialog.view.rows()
        seen["verified"] = dialog.view.verified.text()
        seen["arrow"] = dialog.view.diagram.arrow_texts(1)
        dialog.reject()

    run_modal(qtbot, page.show_selected, look)
    assert seen["hosts"] == ["dyn.isp.test", f"mail.{DOMAIN}", "mx.receiver.test", "imap.receiver.test"]
    assert seen["sides"] == ["sender", "sender", "receiver", "receiver"]
    assert seen["arrow"] == ("ESMTP · ohne TLS", "+2 s", False)
    rows = {row[0].split(" ")[0]: row for row in seen["rows"]}
    assert rows["DKIM"][1] == "bestanden" and rows["DKIM"][2] == "bestanden (mx.receiver.test)"
    assert rows["SPF"][1] == "bestanden" and OUT_IP in rows["SPF"][3]
    assert rows["DMARC"][1] == "bestanden" and rows["ARC"][2] == "–"
    assert seen["verified"].startswith("Beim Import geprüft am ")


def _hop(n: int, name: str = "", tls: str | None = "TLSv1.3") -> Hop:
    return Hop(from_name=name or f"relay{n}.example.net", from_ip=f"192.0.2.{n + 1}", helo=None,
               by=f"relay{n + 1}.example.net", protocol="ESMTPS" if tls else "ESMTP", tls=tls,
               time=None, raw=f"from relay{n} by relay{n + 1}", delay=float(n) if n else None, index=n)


@pytest.mark.parametrize("count", [1, 3, 12])
def test_the_diagram_paints_short_and_long_chains(qapp, count: int) -> None:
    from auditapp.gui.widgets.hop_diagram import HopDiagram

    diagram = HopDiagram()
    try:
        diagram.set_hops([_hop(n, tls=None if n == 1 else "TLSv1.2") for n in range(count)], count - 1)
        image = diagram.grab()
        assert not image.isNull() and image.width() == diagram.sizeHint().width()
        assert len(diagram.hosts) == count + 1
        assert [h.side for h in diagram.hosts][-1] == "receiver"
    finally:
        diagram.deleteLater()


def test_the_diagram_grows_with_its_hops_and_shows_names_literally(qapp) -> None:
    from auditapp.gui.widgets.hop_diagram import HopDiagram

    diagram = HopDiagram()
    try:
        widths = []
        for count in (1, 3, 12):
            diagram.set_hops([_hop(n) for n in range(count)], None)
            widths.append(diagram.sizeHint().width())
        assert widths[0] < widths[1] < widths[2]
        diagram.set_hops([_hop(0, name="<b>x</b>")], 0)
        diagram.grab()
        assert diagram.hosts[0].name == "<b>x</b>"
        tip = diagram.tooltip_at(diagram.box_rect(0).center())
        assert "&lt;b&gt;x&lt;/b&gt;" in tip and "<b>" not in tip
        assert diagram.tooltip_at(QPoint(-5, -5)) == ""
        assert "Hop 1" in diagram.tooltip_at(diagram.arrow_rect(0).center())
    finally:
        diagram.deleteLater()


def test_the_list_shows_markup_from_a_header_as_text(page, ctx, qtbot) -> None:
    block = ("From: <b>Chef</b> <chef@firma.test>\nMessage-ID: <<b>x</b>@firma.test>\n"
             "Received: from <b>x</b> ([192.0.2.10]) by mx.receiver.test with ESMTP; Sun, 06 Dec 2026 10:00:03 +0000\n")

    def fill(dialog) -> None:
        dialog.text.setPlainText(block)
        dialog.accept()

    run_modal(qtbot, page.paste_button.click, fill)
    qtbot.waitUntil(lambda: not page.importing, timeout=20000)
    assert len(ctx.session.project.messages) == 1
    item = page.message_list.item(0)
    assert "<b>x</b>" in item.text()  # a list item is plain text
    assert "<b>" not in item.toolTip().replace("<br>", "")


def test_learned_values_show_under_empty_fields_until_one_is_typed(page, ctx, qtbot, tmp_path: Path) -> None:
    hint = page.server_ips_learned
    assert not hint.isVisibleTo(page)
    path = tmp_path / "figures.eml"
    path.write_bytes(signed_message())
    _import(page, qtbot, [path])
    assert hint.isVisibleTo(page)
    assert hint.text() == f"Aus Mail <1@{DOMAIN}>, Hop 2: {OUT_IP}"
    assert page.helo_learned.text() == f"Aus Mail <1@{DOMAIN}>, Hop 2: mail.{DOMAIN}"
    assert page.dkim_selectors_learned.text() == f"Aus Mail <1@{DOMAIN}>: sel"
    assert "Vorrang" in hint.toolTip()
    assert ctx.session.project.server_ips == []  # shown, not copied into the project
    page.server_ips.edit.setPlainText("192.0.2.99")
    assert not hint.isVisibleTo(page) and ctx.session.project.server_ips == ["192.0.2.99"]
    page.server_ips.edit.setPlainText("")
    assert hint.isVisibleTo(page)
    page.message_list.setCurrentRow(0)
    page.confirm = lambda title, text: True
    page.remove_selected()
    assert not hint.isVisibleTo(page) and not page.helo_learned.isVisibleTo(page)


def test_english_texts(window, ctx, qtbot, lab, tmp_path: Path) -> None:
    window.set_language("en")
    try:
        ctx.session.new(Project(name="Firma", domain=DOMAIN, nameservers=[lab.address]))
        window.go("target")
        page = window.pages["target"]
        path = tmp_path / "figures.eml"
        path.write_bytes(signed_message())
        _import(page, qtbot, [path])
        assert _entries(page)[0].splitlines()[1] == "DKIM pass · SPF pass · DMARC pass · TLS 1.3"
        assert page.server_ips_learned.text() == f"From message <1@{DOMAIN}>, hop 2: {OUT_IP}"
        assert page.messages_box.title() == "Message evidence"
    finally:
        window.set_language("de")


def test_the_evidence_and_paste_dialogs_speak_german(page, ctx, qtbot, qapp, tmp_path: Path) -> None:
    from screen_texts import english_words, screen_texts

    from auditapp.gui.app import install_translators
    from auditapp.gui.dialogs.message_dialogs import MessageEvidenceDialog, PasteHeadersDialog

    paths = []
    for n, tls in ((5, True), (6, False)):
        paths.append(tmp_path / f"m{n}.eml")
        paths[-1].write_bytes(signed_message(n, tls=tls).replace(b"the figures", b"a changed body"))
    _import(page, qtbot, paths)
    project = ctx.session.project
    values: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, str):
            values.add(node)  # header values and the verifier's reasons: the message's words, not ours
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk([m.to_json() for m in project.messages])
    install_translators(qapp, "de")
    try:
        dialogs = [MessageEvidenceDialog(page._evidence[m.id], page) for m in project.messages]
        dialogs.append(PasteHeadersDialog(page))
        found = []
        for dialog in dialogs:
            dialog.show()
            qtbot.wait(10)
            found += [(str(t), english_words(t.text, values)) for t in screen_texts(dialog)]
            dialog.close()
            dialog.deleteLater()
    finally:
        install_translators(qapp, "en")
    assert [f for f in found if f[1]] == []
    assert any("Inhalt nach dem Signieren verändert" in text for text, _ in found)


def test_over_the_limit_a_message_is_refused_with_the_reason(page, ctx, qtbot, tmp_path: Path, monkeypatch) -> None:
    import auditapp.gui.pages.target_messages as target_messages

    monkeypatch.setattr(target_messages, "MAX_MESSAGES", 2)
    paths = []
    for n in (7, 8, 9):
        paths.append(tmp_path / f"m{n}.eml")
        paths[-1].write_bytes(signed_message(n))
    _import(page, qtbot, paths)
    assert [m.name for m in ctx.session.project.messages] == ["m7.eml", "m8.eml"]
    assert "m9.eml: nicht gespeichert, ein Projekt hält höchstens 2 Mails" in page.message_note.text()


def _drag_enter(mime: QMimeData):
    import warnings

    from PySide6.QtGui import QDragEnterEvent

    with warnings.catch_warnings():  # PySide marks Qt 6's only constructor deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        return QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                               Qt.KeyboardModifier.NoModifier)


def test_files_dragged_over_the_page_are_accepted(page, tmp_path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "a.eml"))])
    enter = _drag_enter(mime)
    page.dragEnterEvent(enter)
    assert enter.isAccepted()
    text = QMimeData()
    text.setText("just text")
    enter = _drag_enter(text)
    page.dragEnterEvent(enter)
    assert not enter.isAccepted()
