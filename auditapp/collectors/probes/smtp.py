"""SMTP, submission and SMTPS probes: greeting, EHLO, STARTTLS, relay and login behaviour.

What the audit needs from port 25 (B6, B8) and from 587/465 (R10, R11, B16): the EHLO
keywords before and after TLS, the certificate, whether mail for a foreign domain is
accepted without login, and, with the test account, whether the login may use a sender
it does not own. The probe never sends DATA, so no mail is ever queued; every transaction
ends with RSET and the session with QUIT. Credentials are sent only inside TLS whose
certificate verifies and matches the name, and never appear in the transcript.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from auditapp.collectors.probes.dialogue import Dialogue, refused
from auditapp.collectors.probes.lines import Reply
from auditapp.collectors.probes.parsing import auth_mechanisms, has_capability, parse_ehlo, smtp_code, smtp_is_last
from auditapp.collectors.probes.session import Conn, ProbeState, run_probe
from auditapp.collectors.probes.tls import cert_matches_name
from auditapp.collectors.service_facts import AuthProbe, EndpointProbe, RelayProbe
from auditapp.collectors.smtp_greeting import CLIENT_NAME
from auditapp.core.problem import Problem, labelled

#: RFC 2606 names: a relay test must never be able to deliver anywhere real.
RELAY_RCPT = "auditapp-relay-test@example.com"
MX_RELAY_SENDER = "auditapp-probe@example.net"
FOREIGN_SENDER = "postmaster@example.org"

SUBMISSION_SERVICES = frozenset({"submission", "submissions"})

EHLO_AFTER_STARTTLS = Problem("problem.step.ehlo_after_starttls", "EHLO after STARTTLS")
RELAY_TEST = Problem("problem.step.relay_test", "relay test")
RELAY_TEST_NO_LOGIN = Problem("problem.step.relay_test_no_login", "relay test without login")
LOGIN = Problem("problem.step.login", "login with the test account")
NOT_SMTP = Problem("problem.not_smtp_reply", "not an SMTP reply")
TEMPORARY = Problem("problem.temporary_failure", "temporary failure")


async def probe_smtp(address: str, port: int, service: str, *, sni: str, timeout: float,
                     ca_file: str | None = None, domain: str = "", relay_test: bool = False,
                     account: tuple[str, str] | None = None) -> EndpointProbe:
    """Probe one SMTP endpoint (``service`` is ``smtp``, ``submission`` or ``submissions``). Never raises."""
    st = ProbeState(address, port, service, timeout)
    dialogue = _SmtpDialogue(st, sni=sni, ca_file=ca_file, domain=domain, relay_test=relay_test, account=account)
    return await run_probe(st, dialogue.run)


def _code(reply: Reply) -> int | None:
    return smtp_code(reply.lines) if reply.ok else None


class _SmtpDialogue(Dialogue):
    def __init__(self, st: ProbeState, *, sni: str, ca_file: str | None, domain: str, relay_test: bool,
                 account: tuple[str, str] | None) -> None:
        super().__init__(st, sni=sni, ca_file=ca_file)
        self.domain = domain.rstrip(".").lower()
        self.relay_test = relay_test
        self.account = account

    def goodbye(self) -> tuple[str, Callable[[str], bool]]:
        return "QUIT", smtp_is_last

    async def after_hello(self, conn: Conn) -> Conn | None:
        st = self.st
        if st.service in SUBMISSION_SERVICES:
            st.step = RELAY_TEST_NO_LOGIN
            st.learn(relay=await self._relay(conn, f"auditapp-probe@{self.domain or 'auditapp.invalid'}"))
        elif self.relay_test:
            st.step = RELAY_TEST
            st.learn(relay=await self._relay(conn, MX_RELAY_SENDER))
        if self.account and st.service in SUBMISSION_SERVICES and conn.alive:
            st.step = LOGIN
            st.learn(auth=await self._auth(conn))
        return conn

    async def hello(self, conn: Conn) -> tuple[str, ...] | None:
        """Greeting and EHLO (HELO if EHLO is refused) on the main connection; None after a problem."""
        caps, problem = await self._greet_and_ehlo(conn, record=True)
        if problem:
            self.st.fail(problem)
            return None
        return caps

    async def before_tls(self, conn: Conn) -> str:
        caps, problem = await self._greet_and_ehlo(conn, record=False)
        if problem:
            return problem
        if not has_capability(caps, "STARTTLS"):
            return Problem("problem.starttls_not_offered", "STARTTLS not offered on the new connection")
        return ""

    async def ask_for_tls(self, conn: Conn) -> tuple[Reply, str | None]:
        reply = await conn.command("STARTTLS", smtp_is_last)
        return reply, None if _code(reply) == 220 else reply.text

    async def capabilities_after_tls(self, conn: Conn) -> tuple[str, ...] | None:
        self.st.step = EHLO_AFTER_STARTTLS
        reply = await conn.command(f"EHLO {CLIENT_NAME}", smtp_is_last)
        if _code(reply) == 250:
            return parse_ehlo(reply.lines)
        self.st.fail(labelled(EHLO_AFTER_STARTTLS, reply.problem or reply.text))
        return None

    async def _greet_and_ehlo(self, conn: Conn, *, record: bool) -> tuple[tuple[str, ...], str]:
        """``(EHLO keywords, problem)``; ``record`` stores greeting and timing (main connection only)."""
        st = self.st
        greeting, problem = await self.read_greeting(conn, smtp_is_last, record=record)
        if problem:
            return (), problem
        code = _code(greeting)
        if code is None:
            return (), Problem("problem.not_smtp_greeting", "greeting is not an SMTP reply: '{line}'",
                               line=greeting.first[:80])
        if record:
            st.learn(greeting_ms=greeting.elapsed_ms)
        if code != 220:
            return (), self.refuses_service(greeting.text)
        st.step = "EHLO"
        ehlo = await conn.command(f"EHLO {CLIENT_NAME}", smtp_is_last)
        code = _code(ehlo)
        if code == 250:
            return parse_ehlo(ehlo.lines), ""
        if not ehlo.ok:
            return (), labelled("EHLO", ehlo.problem)
        if code is not None and 500 <= code < 600:
            helo = await conn.command(f"HELO {CLIENT_NAME}", smtp_is_last)
            if _code(helo) == 250:
                return (), ""
            return (), Problem("problem.ehlo_helo_refused", "EHLO and HELO refused: {reply}",
                               reply=helo.problem or helo.text)
        return (), refused("EHLO", ehlo.text)

    # -- relay and login -------------------------------------------------------------------

    async def _transaction(self, conn: Conn, mail_from: str, rcpt_to: str) -> tuple[bool | None, str, str]:
        """MAIL FROM, RCPT TO, RSET: ``(accepted, deciding reply, problem)``. Never DATA."""
        mail = await conn.command(f"MAIL FROM:<{mail_from}>", smtp_is_last)
        verdict, shown, problem = _judge("MAIL FROM", mail)
        if verdict is True:
            rcpt = await conn.command(f"RCPT TO:<{rcpt_to}>", smtp_is_last)
            verdict, shown, problem = _judge("RCPT TO", rcpt)
        if conn.alive:
            await conn.command("RSET", smtp_is_last)
        if not conn.alive and not problem:
            problem = Problem("problem.connection_lost", "connection lost")
        return verdict, shown, problem

    async def _relay(self, conn: Conn, mail_from: str) -> RelayProbe:
        accepted, reply, problem = await self._transaction(conn, mail_from, RELAY_RCPT)
        return RelayProbe(mail_from=mail_from, rcpt_to=RELAY_RCPT, accepted=accepted, reply=reply, problem=problem)

    async def _auth(self, conn: Conn) -> AuthProbe:
        user, password = self.account or ("", "")
        refusal = self._credential_gate(conn)
        if refusal:
            return AuthProbe(username=user, login_ok=None, problem=refusal)
        mechanisms = auth_mechanisms(self.st.facts.caps_tls)
        if "PLAIN" in mechanisms:
            token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
            reply = await conn.command(f"AUTH PLAIN {token}", smtp_is_last)
        elif "LOGIN" in mechanisms:
            reply = await self._auth_login(conn, user, password)
        elif mechanisms:
            return AuthProbe(username=user, login_ok=None, problem=Problem(
                "problem.auth_no_mechanism", "not tested: no supported mechanism (offered: {mechanisms})",
                mechanisms=" ".join(mechanisms)))
        else:
            return AuthProbe(username=user, login_ok=None, problem=Problem(
                "problem.auth_not_offered", "not tested: no AUTH offered after TLS"))
        code = _code(reply)
        if code == 334:  # the server wants more than we sent: cancel the exchange (RFC 4954 §4)
            reply = await conn.command("*", smtp_is_last)
            return AuthProbe(username=user, login_ok=None, login_reply=reply.text, problem=Problem(
                "problem.auth_more_data", "the server asked for more authentication data"))
        if code is None:
            return AuthProbe(username=user, login_ok=None, login_reply=reply.text,
                             problem=labelled("AUTH", reply.problem or NOT_SMTP))
        if code >= 400:
            return AuthProbe(username=user, login_ok=False if code >= 500 else None, login_reply=reply.text,
                             problem=TEMPORARY if code < 500 else "")
        # postmaster@ must exist at every mail domain (RFC 5321 §4.5.1), so the recipient is
        # deliverable here and a refusal can only be about the foreign sender.
        rcpt = f"postmaster@{self.domain}" if self.domain else user
        accepted, foreign_reply, problem = await self._transaction(conn, FOREIGN_SENDER, rcpt)
        if accepted is False and not _about_sender(foreign_reply, FOREIGN_SENDER):
            accepted, problem = None, Problem("problem.refused_not_sender",
                                              "refused for a reason other than the sender: {reply}",
                                              reply=foreign_reply)
        return AuthProbe(username=user, login_ok=True, login_reply=reply.text, foreign_sender=FOREIGN_SENDER,
                         foreign_sender_accepted=accepted, foreign_reply=foreign_reply, problem=problem)

    def _credential_gate(self, conn: Conn) -> str:
        """Why the password must not be sent here, or ``""``."""
        tls = self.st.tls
        if not conn.tls_active or tls is None or not tls.ok:
            return Problem("problem.credentials_no_tls",
                           "not tested: no TLS session, and credentials are never sent without TLS")
        if tls.chain_valid is not True:
            return Problem("problem.credentials_untrusted",
                           "not tested: the certificate chain is not valid, and credentials are only sent to a "
                           "verified server (a private CA can be given with --ca-file)")
        if tls.cert is None or not cert_matches_name(tls.cert, self.sni):
            name = self.sni or Problem("problem.the_host_name", "the host name")
            return Problem("problem.credentials_name_mismatch",
                           "not tested: the certificate does not match {name}, credentials withheld", name=name)
        return ""

    async def _auth_login(self, conn: Conn, user: str, password: str) -> Reply:
        reply = await conn.command("AUTH LOGIN", smtp_is_last)
        for secret in (user, password):
            if _code(reply) != 334:
                return reply
            reply = await conn.command(base64.b64encode(secret.encode()).decode(), smtp_is_last, secret=True)
        return reply


def _about_sender(shown: str, sender: str) -> bool:
    """Does a refusal concern the envelope sender (MAIL FROM, or a RCPT reply naming it)?

    Postfix evaluates sender restrictions at RCPT time by default (smtpd_delay_reject), so
    the refusal may come at either step; its text then names the sender or says "Sender".
    """
    text = shown.lower()
    return text.startswith("mail from") or sender.lower() in text or "sender" in text


def _judge(command: str, reply: Reply) -> tuple[bool | None, str, str]:
    """2xx accepted, 5xx refused, 4xx unknown ("temporary failure"), anything else a problem."""
    if not reply.ok:
        return None, "", labelled(command, reply.problem)
    code = smtp_code(reply.lines)
    shown = f"{command}: {reply.text}"
    if code is None:
        return None, shown, labelled(command, NOT_SMTP)
    if code < 300:
        return True, shown, ""
    if code < 400:
        unexpected = Problem("problem.unexpected_intermediate", "unexpected intermediate reply")
        return None, shown, labelled(command, unexpected)
    if code < 500:
        return None, shown, TEMPORARY
    return False, shown, ""

