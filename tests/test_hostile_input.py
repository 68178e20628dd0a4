"""Hostile input from the network or a paste (issue 12): it may be refused, never crash or fool the reader."""

from __future__ import annotations

import pytest

from auditapp.cli.main import main
from auditapp.collectors.autoconfig import parse_autoconfig
from auditapp.collectors.mta_sts import parse_policy
from auditapp.core.text import ascii_digits, printable
from auditapp.dnsclient import parse_nameserver
from auditapp.lab.dnsserver import LabDnsServer, RecordSet


@pytest.mark.parametrize("text", ["²", "٣", "12³", "", " 1", "1\n"])
def test_only_ascii_digits_are_digits(text: str) -> None:
    """Item 7: "²".isdigit() is true but int("²") fails; Arabic-Indic digits parse but are no port."""
    assert not ascii_digits(text)


def test_autoconfig_port_with_a_superscript_digit_is_ignored() -> None:
    xml = (b'<clientConfig version="1.1"><emailProvider id="x"><incomingServer type="imap">'
           b"<hostname>imap.example.test</hostname><port>\xc2\xb2</port></incomingServer>"
           b'<outgoingServer type="smtp"><hostname>smtp.example.test</hostname><port>587</port></outgoingServer>'
           b"</emailProvider></clientConfig>")
    incoming, outgoing = parse_autoconfig(xml)
    assert incoming == [("imap", "imap.example.test", 0)]
    assert outgoing == [("smtp", "smtp.example.test", 587)]


def test_mta_sts_max_age_with_a_superscript_digit_is_an_error_not_a_crash() -> None:
    _fields, mx, errors = parse_policy("version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: ²\r\n")
    assert mx == ["mx.example.test"] and any("max_age" in e for e in errors)


@pytest.mark.parametrize("text", ["127.0.0.1:²", "127.0.0.1:٥٣"])
def test_nameserver_port_must_be_ascii(text: str) -> None:
    with pytest.raises(ValueError):
        parse_nameserver(text)


def test_printable_escapes_terminal_controls() -> None:
    assert printable("\x1b[2Jok") == "\\x1b[2Jok"
    assert printable("a\u202eb") == "a\\u202eb"  # bidi override
    assert printable("line\nnext", keep="\n") == "line\nnext"


def test_escape_bytes_in_dns_records_never_reach_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    """Item 8: a TXT record could clear the screen and print "AUDIT PASSED" through the CLI summary."""
    evil = "v=DMARC1; p=none; rua=\x1b[2J\x1b[1;1HAUDIT PASSED\x07"
    rs = RecordSet()
    rs.add("evil.test", "TXT", "v=spf1 \x1b[31m-all")
    rs.add("_dmarc.evil.test", "TXT", evil)
    with LabDnsServer(rs) as dns:
        main(["audit", "evil.test", "--nameserver", f"{dns.host}:{dns.port}", "--no-services", "--timeout", "2"])
    out = capsys.readouterr()
    assert "\x1b" not in out.out + out.err and "\x07" not in out.out + out.err
    assert "\\x1b" in out.out  # shown, escaped
