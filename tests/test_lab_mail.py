"""Smoke tests of the mail-services lab: each instance behaves as the audit tests assume.

The audit's own integration tests rely on these servers showing one defect each (module
docstring of ``tests/lab/mailservers.py``). If an upgrade of Postfix, Dovecot or OpenSSL
changes that, these tests say which server drifted, instead of an audit test failing for
a reason that looks like an audit bug.

Every connection comes from the default source address 127.0.0.1, as the audit's would.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.message
import imaplib
import poplib
import shutil
import smtplib
import socket
import ssl
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import dns.resolver
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from lab.bind import BindServer
from lab.certs import CA_NAME, SOON_DAYS
from lab.mailservers import MailLab
from lab.mtasts import fetch_policy

pytestmark = pytest.mark.lab

TIMEOUT = 10.0


# -- client helpers ----------------------------------------------------------------------------


def trusting(lab: MailLab) -> ssl.SSLContext:
    """A client context that trusts only the lab CA and checks host names (the audit's view).

    imaplib and poplib check the address they connect to; the good certificate carries the
    GOOD servers' IP addresses for that, and the names are checked where a name is given.
    """
    return ssl.create_default_context(cafile=str(lab.ca_file))


def blind() -> ssl.SSLContext:
    """A client context that accepts any certificate, to look at what a server presents."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def legacy(version: ssl.TLSVersion) -> ssl.SSLContext:
    """Exactly one old TLS version, with OpenSSL's security level 0 (else 1.0/1.1 never work)."""
    ctx = blind()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "ssl.TLSVersion.TLSv1 is deprecated"
        ctx.minimum_version = ctx.maximum_version = version
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


@contextmanager
def smtp(ip: str, port: int, server_name: str) -> Iterator[tuple[smtplib.SMTP, str]]:
    """A connected, EHLO'd client and the banner text.

    ``_host`` is set before ``connect()`` so a later ``starttls()`` checks ``server_name``
    (Python 3.11 smtplib does not take it from ``connect``; reference 5.4 #7).
    """
    client = smtplib.SMTP(timeout=TIMEOUT)
    client._host = server_name  # type: ignore[attr-defined]
    try:
        _, banner = client.connect(ip, port)
        client.ehlo("auditor.example")
        yield client, banner.decode()
    finally:
        client.close()


@contextmanager
def smtps(ip: str, port: int, server_name: str, ctx: ssl.SSLContext) -> Iterator[smtplib.SMTP_SSL]:
    """Implicit TLS (port 465 style) to ``ip`` while verifying against ``server_name``."""
    client = smtplib.SMTP_SSL(timeout=TIMEOUT, context=ctx)
    client._host = server_name  # type: ignore[attr-defined]
    try:
        client.connect(ip, port)
        client.ehlo("auditor.example")
        yield client
    finally:
        client.close()


def presented_cert(ip: str, port: int, mode: str) -> x509.Certificate:
    """The leaf a server presents, without judging it; ``mode`` is ``smtp`` (STARTTLS) or ``tls``."""
    if mode == "smtp":
        with smtp(ip, port, "unused.invalid") as (client, _):
            client.starttls(context=blind())
            der = client.sock.getpeercert(binary_form=True)  # type: ignore[union-attr]
    else:
        with socket.create_connection((ip, port), timeout=TIMEOUT) as raw, \
                blind().wrap_socket(raw) as tls:
            der = tls.getpeercert(binary_form=True)
    assert der
    return x509.load_der_x509_certificate(der)


def verify_error(ip: str, port: int, mode: str, name: str, ctx: ssl.SSLContext) -> str | None:
    """``None`` when the certificate verifies for ``name``, otherwise OpenSSL's reason."""
    try:
        if mode == "smtp":
            with smtp(ip, port, name) as (client, _):
                client.starttls(context=ctx)
        else:
            with smtps(ip, port, name, ctx):
                pass
    except ssl.SSLCertVerificationError as exc:
        return str(exc.verify_message)
    return None


def dns_names(cert: x509.Certificate) -> list[str]:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName)


def refuses(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


# -- the lab itself ----------------------------------------------------------------------------


def test_lab_api(mail_lab: MailLab) -> None:
    assert mail_lab.ports == {"smtp": 2525, "submission": 2587, "submissions": 2465, "imap": 1143,
                              "imaps": 1993, "pop3": 1110, "pop3s": 1995}
    assert mail_lab.account == "alice@svc.test" and mail_lab.password == "S3cret-pw"
    assert mail_lab.addresses["smtp_good"] == "127.0.0.2" and mail_lab.addresses["imap_good"] == "127.0.0.3"
    assert (mail_lab.root.stat().st_mode & 0o777) == 0o755
    ca = x509.load_pem_x509_certificate(mail_lab.ca_file.read_bytes())
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == CA_NAME
    assert (mail_lab.certs.good.key.stat().st_mode & 0o777) == 0o600


# -- GOOD Postfix, 127.0.0.2 -------------------------------------------------------------------


def test_good_mx_offers_starttls_and_no_auth(mail_lab: MailLab) -> None:
    ip, port = mail_lab.addresses["smtp_good"], mail_lab.ports["smtp"]
    with smtp(ip, port, "mx.svc.test") as (client, banner):
        assert banner.startswith("mx.svc.test ESMTP")
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")
        client.starttls(context=trusting(mail_lab))  # verifies the chain and "mx.svc.test"
        assert client.sock.version() in ("TLSv1.2", "TLSv1.3")  # type: ignore[union-attr]
        client.ehlo("auditor.example")
        assert not client.has_extn("auth"), "the MX port never offers AUTH"


def test_good_mx_denies_relay_but_takes_local_mail(mail_lab: MailLab) -> None:
    with smtp(mail_lab.addresses["smtp_good"], mail_lab.ports["smtp"], "mx.svc.test") as (client, _):
        assert client.mail("probe@auditor.example")[0] == 250
        code, text = client.rcpt("victim@example.com")
        assert (code, b"Relay access denied" in text) == (554, True)
        assert client.rcpt("alice@svc.test")[0] == 250


def test_good_mx_refuses_tls_1_0(mail_lab: MailLab) -> None:
    ip, port = mail_lab.addresses["smtp_good"], mail_lab.ports["smtp"]
    with smtp(ip, port, "mx.svc.test") as (client, _), pytest.raises(ssl.SSLError):
        client.starttls(context=legacy(ssl.TLSVersion.TLSv1))


def test_good_submission_requires_tls_then_authenticates(mail_lab: MailLab) -> None:
    ip, port = mail_lab.addresses["smtp_good"], mail_lab.ports["submission"]
    with smtp(ip, port, "smtp.svc.test") as (client, _):
        assert client.has_extn("starttls") and not client.has_extn("auth")
        assert client.mail("alice@svc.test")[0] == 530  # 5.7.0 Must issue a STARTTLS command first
        client.starttls(context=trusting(mail_lab))
        client.ehlo("auditor.example")
        assert set(client.esmtp_features["auth"].split()) == {"PLAIN", "LOGIN"}
        wrong = base64.b64encode(f"\0{mail_lab.account}\0wrong-password".encode()).decode()
        assert client.docmd("AUTH", f"PLAIN {wrong}")[0] == 535
        assert client.login(mail_lab.account, mail_lab.password)[0] == 235


def test_good_submission_relays_only_for_the_login_owner(mail_lab: MailLab) -> None:
    ip, port = mail_lab.addresses["smtp_good"], mail_lab.ports["submission"]
    with smtp(ip, port, "smtp.svc.test") as (client, _):
        client.starttls(context=trusting(mail_lab))
        client.ehlo("auditor.example")
        client.login(mail_lab.account, mail_lab.password)
        assert client.mail(mail_lab.account)[0] == 250
        # Authenticated relay passes the relay check; the lab's error: transport then stops it.
        code, text = client.rcpt("someone@example.com")
        assert (code, b"outbound mail disabled" in text) == (550, True)
        assert client.rcpt("alice@svc.test")[0] == 250
        client.rset()
        assert client.mail("bob@svc.test")[0] == 250
        code, text = client.rcpt("alice@svc.test")  # sender restrictions are applied at RCPT
        assert (code, b"not owned by user alice@svc.test" in text) == (553, True)


def test_good_submissions_is_implicit_tls(mail_lab: MailLab) -> None:
    ip, port = mail_lab.addresses["smtp_good"], mail_lab.ports["submissions"]
    with smtps(ip, port, "smtp.svc.test", trusting(mail_lab)) as client:
        assert client.sock.version() in ("TLSv1.2", "TLSv1.3")  # type: ignore[union-attr]
        assert client.has_extn("auth")
        assert client.login(mail_lab.account, mail_lab.password)[0] == 235


def test_good_mail_reaches_the_good_imap_mailbox(mail_lab: MailLab) -> None:
    """MX delivery and Dovecot read the same mailbox: the lab is one coherent mail system."""
    marker = f"lab-smoke-{time.time_ns()}"
    msg = email.message.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "probe@auditor.example", mail_lab.account, marker
    msg.set_content("hello from the lab smoke test\n")
    with smtp(mail_lab.addresses["smtp_good"], mail_lab.ports["smtp"], "mx.svc.test") as (client, _):
        client.starttls(context=trusting(mail_lab))
        client.ehlo("auditor.example")
        client.send_message(msg)
    imap = imaplib.IMAP4_SSL(mail_lab.addresses["imap_good"], mail_lab.ports["imaps"],
                             ssl_context=trusting(mail_lab), timeout=TIMEOUT)
    try:
        imap.login(mail_lab.account, mail_lab.password)
        deadline = time.monotonic() + 10
        while True:
            imap.select("INBOX")
            _, found = imap.search(None, "SUBJECT", f'"{marker}"')
            if found[0]:
                break
            assert time.monotonic() < deadline, "the message never arrived in alice's INBOX"
            time.sleep(0.1)
    finally:
        imap.logout()


# -- GOOD Dovecot, 127.0.0.3 -------------------------------------------------------------------


def test_good_imap_disables_login_before_starttls(mail_lab: MailLab) -> None:
    imap = imaplib.IMAP4(mail_lab.addresses["imap_good"], mail_lab.ports["imap"], timeout=TIMEOUT)
    try:
        caps = set(imap.capabilities)
        assert {"STARTTLS", "LOGINDISABLED"} <= caps
        assert not any(c.startswith("AUTH=") for c in caps)
        imap.starttls(ssl_context=trusting(mail_lab))
        assert "LOGINDISABLED" not in imap.capabilities and "AUTH=PLAIN" in imap.capabilities
        assert imap.login(mail_lab.account, mail_lab.password)[0] == "OK"
    finally:
        imap.logout()


def test_good_pop3_offers_stls_and_no_user_before_it(mail_lab: MailLab) -> None:
    pop = poplib.POP3(mail_lab.addresses["imap_good"], mail_lab.ports["pop3"], timeout=TIMEOUT)
    try:
        caps = pop.capa()
        assert "STLS" in caps and "USER" not in caps and not caps.get("SASL")
        pop.stls(context=trusting(mail_lab))
        assert "USER" in pop.capa()
        pop.user(mail_lab.account)
        assert pop.pass_(mail_lab.password).startswith(b"+OK")
    finally:
        pop.quit()


@pytest.mark.parametrize(("service", "name"), [("imaps", "imap.svc.test"), ("pop3s", "pop.svc.test")])
def test_good_dovecot_implicit_tls_certificate(mail_lab: MailLab, service: str, name: str) -> None:
    ip, port = mail_lab.addresses["imap_good"], mail_lab.ports[service]
    with socket.create_connection((ip, port), timeout=TIMEOUT) as raw, \
            trusting(mail_lab).wrap_socket(raw, server_hostname=name) as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
        assert tls.recv(64).startswith(b"* OK" if service == "imaps" else b"+OK")
    with socket.create_connection((ip, port), timeout=TIMEOUT) as raw, pytest.raises(ssl.SSLError):
        legacy(ssl.TLSVersion.TLSv1_1).wrap_socket(raw)  # ssl_min_protocol = TLSv1.2


# -- BAD Postfix, 127.0.0.4 --------------------------------------------------------------------


def test_bad_mx_has_no_tls_offers_auth_in_clear_and_relays(mail_lab: MailLab) -> None:
    with smtp(mail_lab.addresses["smtp_bad"], mail_lab.ports["smtp"], "mx.badsvc.test") as (client, banner):
        assert banner.startswith("mx.badsvc.test ESMTP")
        assert not client.has_extn("starttls")
        assert set(client.esmtp_features["auth"].split()) == {"PLAIN", "LOGIN"}
        assert client.mail("probe@auditor.example")[0] == 250
        assert client.rcpt("victim@example.com")[0] == 250, "open relay"
        client.rset()
        assert client.login(mail_lab.account, mail_lab.password)[0] == 235  # password sent in clear


def test_bad_submission_relays_without_auth_or_tls(mail_lab: MailLab) -> None:
    ip = mail_lab.addresses["smtp_bad"]
    with smtp(ip, mail_lab.ports["submission"], "mx.badsvc.test") as (client, _):
        assert not client.has_extn("starttls")
        assert client.mail("probe@auditor.example")[0] == 250
        assert client.rcpt("victim@example.com")[0] == 250
    assert refuses(ip, mail_lab.ports["submissions"])


# -- BAD Dovecot, 127.0.0.7 --------------------------------------------------------------------


def test_bad_imap_takes_plaintext_login(mail_lab: MailLab) -> None:
    imap = imaplib.IMAP4(mail_lab.addresses["imap_bad"], mail_lab.ports["imap"], timeout=TIMEOUT)
    try:
        caps = set(imap.capabilities)
        assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps
        assert {"AUTH=PLAIN", "AUTH=LOGIN"} <= caps
        assert imap.login(mail_lab.account, mail_lab.password)[0] == "OK"
    finally:
        imap.logout()


def test_bad_pop3_takes_plaintext_login(mail_lab: MailLab) -> None:
    ip = mail_lab.addresses["imap_bad"]
    pop = poplib.POP3(ip, mail_lab.ports["pop3"], timeout=TIMEOUT)
    try:
        caps = pop.capa()
        assert "STLS" not in caps and "USER" in caps
        pop.user(mail_lab.account)
        assert pop.pass_(mail_lab.password).startswith(b"+OK")
    finally:
        pop.quit()
    assert refuses(ip, mail_lab.ports["imaps"]) and refuses(ip, mail_lab.ports["pop3s"])


# -- certificate instances: CERTS (expired), WRONGNAME, SELFSIGNED, SOON -------------------------

CERT_CASES = [
    # instance address key, name the audit would check, expected verification error
    ("smtp_certs", "mx.expired.test", "certificate has expired"),
    ("smtp_wrongname", "mx.wrongname.test", "Hostname mismatch"),
    ("smtp_selfsigned", "mx.selfsigned.test", "self-signed certificate"),
    ("smtp_soon", "mx.soon.test", None),
]
PORT_MODES = [("smtp", "smtp"), ("submission", "smtp"), ("submissions", "tls")]


@pytest.mark.parametrize(("service", "mode"), PORT_MODES)
@pytest.mark.parametrize(("instance", "name", "error"), CERT_CASES)
def test_certificate_verification(mail_lab: MailLab, instance: str, name: str, error: str | None,
                                  service: str, mode: str) -> None:
    got = verify_error(mail_lab.addresses[instance], mail_lab.ports[service], mode, name, trusting(mail_lab))
    if error is None:
        assert got is None
    else:
        assert got is not None and error in got


@pytest.mark.parametrize(("service", "mode"), PORT_MODES)
def test_presented_certificates(mail_lab: MailLab, service: str, mode: str) -> None:
    port = mail_lab.ports[service]
    now = dt.datetime.now(dt.UTC)
    expired = presented_cert(mail_lab.addresses["smtp_certs"], port, mode)
    assert expired.not_valid_after_utc < now and "mx.expired.test" in dns_names(expired)
    assert dns_names(presented_cert(mail_lab.addresses["smtp_wrongname"], port, mode)) == ["other.example"]
    selfsigned = presented_cert(mail_lab.addresses["smtp_selfsigned"], port, mode)
    assert selfsigned.issuer == selfsigned.subject and "mx.selfsigned.test" in dns_names(selfsigned)
    soon = presented_cert(mail_lab.addresses["smtp_soon"], port, mode)
    left = soon.not_valid_after_utc - now
    assert dt.timedelta(days=SOON_DAYS - 1) < left <= dt.timedelta(days=SOON_DAYS)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
@pytest.mark.parametrize(("service", "mode"), PORT_MODES)
def test_certs_instance_accepts_legacy_tls(mail_lab: MailLab, version: ssl.TLSVersion, service: str,
                                           mode: str) -> None:
    ip, port = mail_lab.addresses["smtp_certs"], mail_lab.ports[service]
    expected = {ssl.TLSVersion.TLSv1: "TLSv1", ssl.TLSVersion.TLSv1_1: "TLSv1.1"}[version]
    if mode == "smtp":
        with smtp(ip, port, "mx.expired.test") as (client, _):
            client.starttls(context=legacy(version))
            assert client.sock.version() == expected  # type: ignore[union-attr]
    else:
        with socket.create_connection((ip, port), timeout=TIMEOUT) as raw, legacy(version).wrap_socket(raw) as tls:
            assert tls.version() == expected


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl command not installed")
def test_certs_instance_tls_1_0_with_openssl_s_client(mail_lab: MailLab) -> None:
    """The same with OpenSSL's own client, the tool an admin would use to double-check."""
    result = subprocess.run(
        ["openssl", "s_client", "-connect", f"{mail_lab.addresses['smtp_certs']}:{mail_lab.ports['smtp']}",
         "-starttls", "smtp", "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0", "-CAfile", str(mail_lab.ca_file)],
        input="QUIT\n", capture_output=True, text=True, timeout=30, check=False)
    assert "Protocol  : TLSv1\n" in result.stdout, result.stdout + result.stderr
    assert "certificate has expired" in result.stdout


# -- MTA-STS policy server, 127.0.0.8:8443 -----------------------------------------------------


def test_mtasts_policy_for_svc(mail_lab: MailLab) -> None:
    status, ctype, body = fetch_policy(mail_lab.addresses["mtasts"], mail_lab.mtasts_port, "svc.test",
                                       trusting(mail_lab))
    assert (status, ctype) == (200, "text/plain")
    assert body == "version: STSv1\r\nmode: enforce\r\nmx: mx.svc.test\r\nmax_age: 604800\r\n"


def test_mtasts_policy_for_wrongmx_does_not_cover_its_mx(mail_lab: MailLab) -> None:
    status, _, body = fetch_policy(mail_lab.addresses["mtasts"], mail_lab.mtasts_port, "wrongmx.test",
                                   trusting(mail_lab))
    assert status == 200
    assert "mx: other.example\r\n" in body and "mx.svc.test" not in body


def test_mtasts_policy_missing_for_badsvc(mail_lab: MailLab) -> None:
    status, _, _ = fetch_policy(mail_lab.addresses["mtasts"], mail_lab.mtasts_port, "badsvc.test",
                                trusting(mail_lab))
    assert status == 404


# -- the lab's DNS (tests/lab/zones, served by the session BIND) --------------------------------


@pytest.mark.parametrize(("name", "rdtype", "expected"), [
    ("svc.test", "MX", "10 mx.svc.test."),
    ("mx.svc.test", "A", "127.0.0.2"),
    ("imap.svc.test", "A", "127.0.0.3"),
    ("_submission._tcp.svc.test", "SRV", "0 1 587 smtp.svc.test."),
    ("_imaps._tcp.svc.test", "SRV", "0 1 993 imap.svc.test."),
    ("_mta-sts.svc.test", "TXT", '"v=STSv1; id=2026112801"'),
    ("mta-sts.svc.test", "A", "127.0.0.8"),
    ("badsvc.test", "MX", "10 mx.badsvc.test."),
    ("mx.badsvc.test", "A", "127.0.0.4"),
    ("pop.badsvc.test", "A", "127.0.0.7"),
    ("smtp.expired.test", "A", "127.0.0.5"),
    ("mx.wrongname.test", "A", "127.0.0.6"),
    ("mx.selfsigned.test", "A", "127.0.0.9"),
    ("mx.soon.test", "A", "127.0.0.10"),
    ("wrongmx.test", "MX", "10 mx.svc.test."),
    ("smtp.shared.test", "A", "127.0.0.2"),
])
def test_lab_dns(bind_lab: BindServer, name: str, rdtype: str, expected: str) -> None:
    """The names the audit follows lead to the lab servers above."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port, resolver.lifetime = [bind_lab.host], bind_lab.port, 5.0
    assert [rr.to_text() for rr in resolver.resolve(name, rdtype)] == [expected]
