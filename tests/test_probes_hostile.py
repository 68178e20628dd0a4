"""The protocol probes against servers that misbehave on purpose, and against minimal fakes.

The promise under test (see :mod:`auditapp.collectors.probes`): whatever the peer does, a
probe ends inside its budget with an :class:`EndpointProbe` whose ``problem`` says what went
wrong, never with an exception or a hang. Assertions are on states and reasons, not on wall
clock time; the outer ``wait_for`` only turns a hang into a failure.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

import pytest

from auditapp.collectors.probes import PROBE_BUDGET_FACTOR, probe_endpoint
from auditapp.collectors.probes.session import ProbeState, run_probe
from auditapp.collectors.probes.tls import legacy_context
from auditapp.collectors.service_facts import EndpointProbe, PortState
from auditapp.lab.mailresponder import DEFAULT_ACCOUNTS, Behaviour, MailResponder

SNI = "mail.lab.test"
USER, PASSWORD = next(iter(DEFAULT_ACCOUNTS.items()))


def probe(host: str, port: int, service: str = "smtp", *, timeout: float = 1.0, **kw: object) -> EndpointProbe:
    coro = probe_endpoint(host, port, service, sni=SNI, timeout=timeout, **kw)  # type: ignore[arg-type]
    return asyncio.run(asyncio.wait_for(coro, timeout * (PROBE_BUDGET_FACTOR + 3)))


def _on(r: MailResponder, service: str = "smtp", **kw: object) -> EndpointProbe:
    return probe(r.host, r.port, service, **kw)


def _client_lines(p: EndpointProbe) -> list[str]:
    return [line for line in p.transcript if line.startswith("C: ")]


# -- hostile behaviours ------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["smtp", "submission", "imap", "pop3"])
def test_silent_server_is_reported_as_a_possible_tarpit(service: str) -> None:
    with MailResponder(Behaviour.SILENT) as r:
        p = _on(r, service)
    assert p.state is PortState.OPEN
    assert p.problem == "no greeting within 1 s (tarpit?)"
    assert p.greeting == "" and p.greeting_ms is None
    assert p.connect_ms is not None


def test_garbage_is_binary_data_not_a_reply() -> None:
    with MailResponder(Behaviour.GARBAGE) as r:
        p = _on(r)
    assert p.state is PortState.OPEN
    assert p.problem.startswith("greeting: binary data instead of a text reply")
    assert p.caps_plain == ()


def test_huge_banner_stops_at_the_line_limit_and_stays_short_in_the_transcript() -> None:
    with MailResponder(Behaviour.HUGE_BANNER) as r:
        p = _on(r)
    assert p.problem.startswith("greeting: line longer than 8192 bytes without CRLF (starts '220 xxx")
    assert max(len(line) for line in p.transcript) <= 3 + 300
    assert sum(len(line) for line in p.transcript) < 5000


def test_line_without_crlf_ends_at_the_deadline_and_shows_what_came() -> None:
    with MailResponder(Behaviour.NO_CRLF) as r:
        p = _on(r)
    assert p.problem == "greeting: incomplete line without CRLF after 1 s: '220 x'"
    assert "S: 220 x [no line end]" in p.transcript


def test_reset_during_ehlo() -> None:
    with MailResponder(Behaviour.RESET) as r:
        p = _on(r)
    assert p.greeting == "220 reset.lab.test ESMTP"
    assert p.problem == "EHLO: connection reset by the server"
    assert _client_lines(p) == ["C: EHLO auditapp.invalid"]  # no QUIT into a reset connection


def test_stalled_tls_handshake() -> None:
    with MailResponder(Behaviour.TLS_STALL) as r:
        p = _on(r)
    assert p.starttls_offered is True
    assert p.problem == "TLS handshake did not complete within 1 s"
    assert p.tls is not None and not p.tls.ok
    assert p.tls.error == "TLS handshake did not complete within 1 s"
    assert p.tls.chain_valid is None and p.tls.cert is None
    # the legacy handshakes stall as well: honest "could not test", not "refused"
    assert p.tls.legacy_tested is False
    assert not p.tls.legacy_tested and "timed out" in p.tls.legacy_problem  # not retried: one timeout


def test_slow_greeting_within_the_timeout_is_measured() -> None:
    with MailResponder(Behaviour.SLOW_GREETING, delay=0.3) as r:
        p = _on(r, timeout=3.0)
    assert p.problem == ""
    assert p.greeting_ms is not None and p.greeting_ms >= 250
    assert p.caps_plain == ("PIPELINING",)
    assert p.starttls_offered is False and p.tls is None
    assert _client_lines(p)[-1] == "C: QUIT"
    assert "S: 221 2.0.0 Bye" in p.transcript


def test_slow_greeting_beyond_the_timeout_is_a_tarpit() -> None:
    with MailResponder(Behaviour.SLOW_GREETING, delay=3.0) as r:
        p = _on(r, timeout=0.5)
    assert p.state is PortState.OPEN
    assert p.problem == "no greeting within 0.5 s (tarpit?)"


def _closed_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def test_refused_port_has_no_dialogue() -> None:
    port = _closed_port("127.0.0.1")
    p = probe("127.0.0.1", port, "submission")
    assert p.state is PortState.REFUSED
    assert "refused" in p.state_detail
    assert p.connect_ms is None and p.greeting == "" and p.tls is None and p.relay is None
    assert _client_lines(p) == []


def test_loopback_address_where_nothing_listens_is_refused() -> None:
    p = probe("127.0.0.99", _closed_port("127.0.0.1"), "imaps")
    assert p.state is PortState.REFUSED
    assert p.problem == ""


def test_unknown_service() -> None:
    p = probe("127.0.0.1", 1, "gopher")
    assert p.state is PortState.ERROR and "unknown service" in p.problem


def test_probe_budget_keeps_what_was_learned() -> None:
    async def body() -> None:
        st.learn(greeting="220 partial")
        st.step = "waiting forever"
        await asyncio.sleep(3600)

    st = ProbeState("192.0.2.1", 25, "smtp", timeout=0.05)
    p = asyncio.run(asyncio.wait_for(run_probe(st, body), 5))
    assert p.problem == f"probe did not finish within {0.05 * PROBE_BUDGET_FACTOR:g} s (while waiting forever)"
    assert p.greeting == "220 partial"


# -- IMAP and POP3 fakes -------------------------------------------------------------------------


def test_faulty_imap_offers_plain_auth_in_clear() -> None:
    with MailResponder(Behaviour.IMAP_PLAIN) as r:
        p = _on(r, "imap")
    assert p.problem == ""
    assert p.greeting == "* OK lab IMAP ready"
    assert p.caps_plain == ("IMAP4REV1", "ID", "AUTH=PLAIN")  # asked with CAPABILITY: none in the greeting
    assert "LOGINDISABLED" not in p.caps_plain
    assert p.starttls_offered is False and p.tls is None
    assert _client_lines(p) == ["C: a1 CAPABILITY", "C: a2 LOGOUT"]


def test_imap_with_starttls() -> None:
    with MailResponder(Behaviour.IMAP) as r:
        p = _on(r, "imap", ca_file=r.ca_file)
    assert p.problem == ""
    assert p.caps_plain == ("IMAP4REV1", "ID", "STARTTLS", "LOGINDISABLED")  # from the greeting's code
    assert p.caps_tls == ("IMAP4REV1", "ID", "AUTH=PLAIN")
    assert p.starttls_offered is True
    assert p.tls is not None and p.tls.ok and p.tls.chain_valid is True
    assert p.tls.version in ("TLSv1.2", "TLSv1.3")


def test_implicit_tls_port_speaking_plain_text() -> None:
    with MailResponder(Behaviour.IMAP_PLAIN) as r:
        p = _on(r, "imaps")
    assert p.state is PortState.OPEN
    # Depending on timing OpenSSL sees the greeting (WRONG_VERSION_NUMBER) or it was buffered before the
    # handshake (then it is quoted); either way the reason is the same.
    assert p.problem.startswith("TLS handshake failed: the server did not answer in TLS (")
    assert p.tls is not None and not p.tls.ok and p.caps_tls == ()


def test_imaps_implicit_tls() -> None:
    with MailResponder(Behaviour.IMAP, implicit_tls=True) as r:
        p = _on(r, "imaps", ca_file=r.ca_file)
    assert p.problem == ""
    assert p.caps_plain == () and p.starttls_offered is None
    assert p.caps_tls == ("IMAP4REV1", "ID", "AUTH=PLAIN")
    assert p.tls is not None and p.tls.ok and p.tls.chain_valid is True


def test_pop3_with_stls() -> None:
    with MailResponder(Behaviour.POP3) as r:
        p = _on(r, "pop3")
    assert p.problem == ""
    assert p.greeting == "+OK lab POP3 ready"
    assert p.caps_plain == ("TOP", "UIDL", "RESP-CODES", "STLS")
    assert p.caps_tls == ("TOP", "UIDL", "RESP-CODES", "USER", "SASL PLAIN LOGIN")
    assert p.tls is not None and p.tls.ok


def test_pop3s_implicit_tls() -> None:
    with MailResponder(Behaviour.POP3, implicit_tls=True) as r:
        p = _on(r, "pop3s")
    assert p.problem == ""
    assert "SASL PLAIN LOGIN" in p.caps_tls and p.caps_plain == ()


# -- SMTP fake: certificates, relay, login ----------------------------------------------------------


def test_untrusted_chain_is_recorded_and_the_dialogue_continues() -> None:
    with MailResponder(Behaviour.SMTP) as r:
        p = _on(r, "submission", domain="lab.test")
    assert p.problem == ""
    tls = p.tls
    assert tls is not None and tls.ok
    assert tls.chain_valid is False and tls.chain_error == "unable to get local issuer certificate"
    assert tls.sni == SNI
    cert = tls.cert
    assert cert is not None
    assert cert.subject == "CN=mail.lab.test" and cert.issuer == "CN=auditapp lab CA"
    assert cert.san_dns == ("mail.lab.test",) and cert.san_ip == ("127.0.0.1",)
    assert cert.not_before.endswith("Z") and cert.not_before < cert.not_after
    assert len(cert.fingerprint_sha256) == 32 * 3 - 1
    assert cert.self_signed is False
    assert "STARTTLS" in p.caps_plain and "AUTH PLAIN LOGIN" in p.caps_tls
    assert any(line.startswith("TLS: TLSv1.") and "sha256=" in line for line in p.transcript)


def test_plain_text_injected_before_the_handshake_is_discarded() -> None:
    with MailResponder(Behaviour.SMTP, inject=True) as r:
        p = _on(r, "submission", ca_file=r.ca_file)
    assert p.problem == ""
    assert any("discarded" in line and "before the TLS handshake" in line for line in p.transcript)
    assert "FORGED-BEFORE-TLS" not in p.caps_tls
    assert p.caps_tls[0] == "PIPELINING"  # the real EHLO reply, read over TLS


def test_self_signed_certificate() -> None:
    with MailResponder(Behaviour.SMTP, self_signed=True) as r:
        p = _on(r)
    assert p.tls is not None and p.tls.cert is not None
    assert p.tls.cert.self_signed is True
    assert p.tls.chain_valid is False and "self-signed" in p.tls.chain_error


def test_submission_refuses_relay_without_login() -> None:
    with MailResponder(Behaviour.SMTP) as r:
        p = _on(r, "submission", domain="lab.test", ca_file=r.ca_file)
    relay = p.relay
    assert relay is not None
    assert relay.mail_from == "auditapp-probe@lab.test" and relay.rcpt_to == "auditapp-relay-test@example.com"
    assert relay.accepted is False and relay.problem == ""
    assert relay.reply.startswith("RCPT TO: 554 5.7.1")
    assert all(tls for tls, line in r.received if line.startswith(("MAIL", "RCPT")))  # after STARTTLS
    assert not any(line.upper().startswith("DATA") for _, line in r.received)


def test_open_relay_is_seen_on_submission() -> None:
    with MailResponder(Behaviour.SMTP, open_relay=True) as r:
        p = _on(r, "submission", domain="lab.test")
    assert p.relay is not None and p.relay.accepted is True


def test_port_25_relay_test_only_on_request() -> None:
    with MailResponder(Behaviour.SMTP, open_relay=True) as r:
        without = _on(r, "smtp")
        with_test = _on(r, "smtp", relay_test=True)
    assert without.relay is None
    assert with_test.relay is not None and with_test.relay.accepted is True
    assert with_test.relay.mail_from == "auditapp-probe@example.net"


def test_login_and_foreign_sender_with_masked_credentials() -> None:
    with MailResponder(Behaviour.SMTP) as r:
        p = _on(r, "submission", domain="lab.test", ca_file=r.ca_file, account=(USER, PASSWORD))
    auth = p.auth
    assert auth is not None
    assert auth.login_ok is True and auth.login_reply.startswith("235")
    assert auth.foreign_sender == "postmaster@example.org"
    assert auth.foreign_sender_accepted is False
    assert auth.foreign_reply.startswith("RCPT TO: 553 5.7.1 <postmaster@example.org>")
    assert "C: AUTH PLAIN ****" in p.transcript
    text = "\n".join(p.transcript)
    assert PASSWORD not in text and "czNjcmV0" not in text  # no password, no base64 of it
    assert [tls for tls, line in r.received if line.startswith("AUTH")] == [True]
    assert not any(line.upper().startswith("DATA") for _, line in r.received)
    assert _client_lines(p)[-1] == "C: QUIT"


def test_login_failure() -> None:
    with MailResponder(Behaviour.SMTP) as r:
        p = _on(r, "submission", ca_file=r.ca_file, account=(USER, "wrong"))
    assert p.auth is not None and p.auth.login_ok is False and p.auth.login_reply.startswith("535")


def test_credentials_are_withheld_from_an_unverified_server() -> None:
    with MailResponder(Behaviour.SMTP) as r:
        p = _on(r, "submission", account=(USER, PASSWORD))  # no ca_file: the chain does not verify
    assert p.auth is not None and p.auth.login_ok is None
    assert "credentials are only sent to a verified server" in p.auth.problem
    assert not any(line.startswith("AUTH") for _, line in r.received)


def test_credentials_are_never_sent_without_tls() -> None:
    with MailResponder(Behaviour.SLOW_GREETING) as r:  # no STARTTLS offered
        p = _on(r, "submission", account=(USER, PASSWORD))
    assert p.auth is not None and p.auth.login_ok is None
    assert "never sent without TLS" in p.auth.problem
    assert not any(line.startswith("AUTH") for _, line in r.received)


def test_submissions_implicit_tls() -> None:
    with MailResponder(Behaviour.SMTP, implicit_tls=True) as r:
        p = _on(r, "submissions", domain="lab.test", ca_file=r.ca_file, account=(USER, PASSWORD))
    assert p.problem == ""
    assert p.caps_plain == () and p.starttls_offered is None
    assert "AUTH PLAIN LOGIN" in p.caps_tls and "STARTTLS" not in p.caps_tls
    assert p.tls is not None and p.tls.ok and p.tls.chain_valid is True
    assert p.greeting.startswith("220 mail.lab.test")
    assert p.auth is not None and p.auth.login_ok is True


def test_legacy_versions_refused_by_a_modern_server() -> None:
    with MailResponder(Behaviour.SMTP) as r:
        p = _on(r)
    assert p.tls is not None
    if legacy_context(ssl.TLSVersion.TLSv1)[0] is None:
        assert p.tls.legacy_tested is False and "local TLS library" in p.tls.legacy_problem
    else:
        assert p.tls.legacy_tested is True and p.tls.legacy_accepted == ()


def test_legacy_versions_accepted() -> None:
    if legacy_context(ssl.TLSVersion.TLSv1)[0] is None:
        pytest.skip("the local OpenSSL cannot offer TLS 1.0")
    with MailResponder(Behaviour.SMTP, legacy_tls=True) as r:
        p = _on(r, "submission")
    assert p.tls is not None and p.tls.ok
    assert p.tls.version == "TLSv1.3"  # the main handshake is a modern client's
    assert p.tls.legacy_tested is True
    assert p.tls.legacy_accepted == ("TLSv1", "TLSv1.1")
