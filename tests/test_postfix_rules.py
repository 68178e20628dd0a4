"""Every PF-* rule on real configuration texts: at least one pass and one fail each, plus not_tested.

The configurations are written the way admins write them (main.cf and master.cf text) and go
through the real parser; the checks then run through the registry exactly as in an audit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import auditapp.checks.postfix  # noqa: F401  (registers the PF-* checks; the lead adds it to checks/__init__)
from auditapp.catalog import catalog
from auditapp.catalog.wording import render_finding
from auditapp.checks import registered
from auditapp.checks.registry import run_check
from auditapp.collectors.facts import Facts
from auditapp.core.model import Finding, Severity, Status
from auditapp.core.target import AuditTarget
from auditapp.postfix import (
    PostfixConfig,
    PostfixConfigError,
    PostfixLoadFailure,
    load_postfix_config,
    parse_postfix_text,
)

GOOD_MAIN = """\
# main.cf of a well-configured server
compatibility_level = 3.6
mail_version = 3.9.1
myhostname = mail.example.test
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_tls_cert_file = /etc/ssl/mail.pem
smtpd_tls_key_file = /etc/ssl/mail.key
smtpd_tls_security_level = may
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_auth_only = yes
smtp_tls_security_level = may
delay_warning_time = 4h
bounce_queue_lifetime = 1d
"""

GOOD_MASTER = """\
# master.cf
smtp       inet  n  -  y  -  -  smtpd
submission inet  n  -  y  -  -  smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o content_filter=smtp-amavis:[127.0.0.1]:10024
submissions inet n  -  y  -  -  smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }
  -o content_filter=smtp-amavis:[127.0.0.1]:10024
smtp       unix  -  -  y  -  -  smtp
relay      unix  -  -  y  -  -  smtp
smtp-amavis unix -  -  n  -  2  smtp
  -o smtp_data_done_timeout=1200
  -o smtp_send_xforward_command=yes
  -o disable_dns_lookups=yes
127.0.0.1:10025 inet n - n - - smtpd
  -o content_filter=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters
  -o smtpd_client_restrictions=permit_mynetworks,reject
  -o mynetworks=127.0.0.0/8
"""

SUB = "postfix:submission/inet"
SUBS = "postfix:submissions/inet"
MX = "postfix:smtp/inet"


def config(main: str = "", master: str | None = GOOD_MASTER, base: str = GOOD_MAIN) -> PostfixConfig:
    """The good configuration with ``main`` appended (later settings win) and ``master`` as master.cf."""
    return parse_postfix_text(base + main + (master or ""))


def run(rule_id: str, cfg: object) -> list[Finding]:
    reg = registered()[rule_id]
    return list(run_check(reg, catalog(), Facts(postfix=cfg), AuditTarget(domain="example.test")))


def one(rule_id: str, cfg: object, subject: str = "postfix") -> Finding:
    found = [f for f in run(rule_id, cfg) if f.subject == subject]
    assert len(found) == 1, [(f.subject, f.status, f.outcome) for f in run(rule_id, cfg)]
    return found[0]


@dataclass(frozen=True)
class Case:
    rule: str
    name: str
    main: str
    status: Status
    outcome: str
    subject: str = "postfix"
    master: str | None = GOOD_MASTER
    base: str = GOOD_MAIN
    severity: Severity | None = None


P, F, NA, NT = Status.PASS, Status.FAIL, Status.NOT_APPLICABLE, Status.NOT_TESTED
NO_MN = GOOD_MAIN.replace("mynetworks = 127.0.0.0/8 [::1]/128\n", "")
NO_VERSION = GOOD_MAIN.replace("mail_version = 3.9.1\n", "")
SUB_PLAIN = "submission inet n - y - - smtpd\n"
SUB_OPEN = GOOD_MASTER.replace("  -o smtpd_sasl_auth_enable=yes\n  -o smtpd_relay_restrictions=permit_sasl_"
                               "authenticated,reject\n", "", 1)
POSTSCREEN = GOOD_MASTER.replace("smtp       inet  n  -  y  -  -  smtpd\n",
                                 "smtp inet n - y - 1 postscreen\nsmtpd pass - - y - - smtpd\n")

CASES = [
    # R8: queue lifetimes
    Case("PF-QUEUE-LIFETIME", "default", "", F, "default", severity=Severity.INFO),
    Case("PF-QUEUE-LIFETIME", "explicit 5d", "maximal_queue_lifetime = 5d\n", P, "pass"),
    Case("PF-QUEUE-LIFETIME", "bare number in days", "maximal_queue_lifetime = 7\n", P, "pass"),
    # knowledge base R8 (revised 2026-12-06): 2d to under 4d is a note, 1d to under 2d low, under 1d medium.
    Case("PF-QUEUE-LIFETIME", "seed 3d", "maximal_queue_lifetime = 3d\n", F, "short", severity=Severity.INFO),
    Case("PF-QUEUE-LIFETIME", "2d", "maximal_queue_lifetime = 2d\n", F, "short", severity=Severity.INFO),
    Case("PF-QUEUE-LIFETIME", "36h", "maximal_queue_lifetime = 36h\n", F, "one_day", severity=Severity.LOW),
    Case("PF-QUEUE-LIFETIME", "1d", "maximal_queue_lifetime = 1d\n", F, "one_day", severity=Severity.LOW),
    Case("PF-QUEUE-LIFETIME", "12h", "maximal_queue_lifetime = 12h\n", F, "very_short", severity=Severity.MEDIUM),
    Case("PF-QUEUE-LIFETIME", "invalid", "maximal_queue_lifetime = 5x\n", NT, "not_tested"),
    Case("PF-BOUNCE-LIFETIME", "1d", "", P, "pass"),
    Case("PF-BOUNCE-LIFETIME", "default 5d", "", F, "long_default", base=GOOD_MAIN.replace(
        "bounce_queue_lifetime = 1d\n", ""), severity=Severity.INFO),
    Case("PF-BOUNCE-LIFETIME", "2d", "bounce_queue_lifetime = 2d\n", F, "long", severity=Severity.INFO),
    Case("PF-DELAY-WARNING", "4h", "", P, "pass"),
    Case("PF-DELAY-WARNING", "default off", "", F, "off", base=GOOD_MAIN.replace("delay_warning_time = 4h\n", ""),
         severity=Severity.LOW),
    Case("PF-COMPAT-LEVEL", "3.6 on 3.9", "", P, "pass"),
    Case("PF-COMPAT-LEVEL", "no version", "", P, "pass_no_version", base=NO_VERSION),
    Case("PF-COMPAT-LEVEL", "3.6 on 3.11", "mail_version = 3.11.6\n", F, "below", severity=Severity.LOW),
    Case("PF-COMPAT-LEVEL", "unset, no version", "", F, "legacy",
         base=NO_VERSION.replace("compatibility_level = 3.6\n", "")),
    Case("PF-SMTPUTF8", "default yes", "", P, "pass"),
    Case("PF-SMTPUTF8", "off", "smtputf8_enable = no\n", F, "disabled", severity=Severity.INFO),
    Case("PF-SMTPUTF8", "level 0 default", "compatibility_level = 0\n", F, "disabled"),
    # R2: HELO
    Case("PF-HELO-NAME", "public name", "", P, "pass"),
    Case("PF-HELO-NAME", ".local", "myhostname = mail.firma.local\n", F, "not_fqdn", severity=Severity.MEDIUM),
    Case("PF-HELO-NAME", "bare label", "smtp_helo_name = mailserver\n", F, "not_fqdn"),
    Case("PF-HELO-NAME", "IP", "smtp_helo_name = 192.0.2.1\n", F, "not_fqdn"),
    Case("PF-HELO-NAME", "per service", "", F, "not_fqdn", subject="postfix:relay/unix",
         master=GOOD_MASTER.replace("relay      unix  -  -  y  -  -  smtp\n",
                                    "relay unix - - y - - smtp -o smtp_helo_name=localhost\n")),
    Case("PF-HELO-NAME", "myhostname unknown", "", NT, "not_tested",
         base=GOOD_MAIN.replace("myhostname = mail.example.test\n", "")),
    # B8: relay
    Case("PF-OPEN-RELAY-CONFIG", "safe", "", P, "pass", subject=MX),
    Case("PF-OPEN-RELAY-CONFIG", "internal /8", "mynetworks = 10.0.0.0/8\n", P, "pass", subject=MX),
    # Issue 11: without any relay denial smtpd refuses to start: no mail at all, not an open relay.
    Case("PF-OPEN-RELAY-CONFIG", "no denial", "smtpd_relay_restrictions = permit_mynetworks, "
         "permit_sasl_authenticated\n", F, "refuses_start", subject="postfix", severity=Severity.CRITICAL),
    # smtpd's has_required(): a denial after "permit", or behind warn_if_reject, does not count (checked
    # with the real smtpd 3.7.11); one inside a restriction class does.
    Case("PF-OPEN-RELAY-CONFIG", "permit before the denial", "smtpd_relay_restrictions = permit_mynetworks, "
         "permit, reject_unauth_destination\n", F, "refuses_start", subject="postfix", severity=Severity.CRITICAL),
    Case("PF-OPEN-RELAY-CONFIG", "warn_if_reject", "smtpd_relay_restrictions = permit_mynetworks, "
         "warn_if_reject reject_unauth_destination\n", F, "refuses_start", subject="postfix"),
    Case("PF-OPEN-RELAY-CONFIG", "restriction class", "smtpd_restriction_classes = relaycheck\n"
         "relaycheck = reject_unauth_destination\nsmtpd_relay_restrictions = permit_mynetworks, relaycheck\n", P,
         "pass", subject=MX),
    Case("PF-OPEN-RELAY-CONFIG", "a class that permits everyone", "smtpd_restriction_classes = everyone\n"
         "everyone = permit\nsmtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"
         "smtpd_client_restrictions = everyone\nsmtpd_recipient_restrictions = everyone\n", P, "pass", subject=MX),
    Case("PF-OPEN-RELAY-CONFIG", "permit first", "smtpd_relay_restrictions = permit, reject_unauth_destination\n",
         F, "refuses_start", subject="postfix"),
    Case("PF-OPEN-RELAY-CONFIG", "recipient list denies", "smtpd_relay_restrictions =\nsmtpd_recipient_restrictions"
         " = permit_mynetworks, reject_unauth_destination\n", P, "pass", subject=MX),
    Case("PF-OPEN-RELAY-CONFIG", "0/0", "mynetworks = 127.0.0.0/8 0.0.0.0/0\n", F, "mynetworks_wide", subject="postfix",
         severity=Severity.HIGH),
    Case("PF-OPEN-RELAY-CONFIG", "provider /16", "mynetworks = 198.51.0.0/16\n", F, "mynetworks_wide",
         subject="postfix"),
    Case("PF-OPEN-RELAY-CONFIG", "style subnet at level 1", "compatibility_level = 1\n", F, "style_subnet",
         subject="postfix", base=NO_MN, severity=Severity.MEDIUM),
    Case("PF-OPEN-RELAY-CONFIG", "style class", "mynetworks_style = class\n", F, "style_class", subject="postfix",
         base=NO_MN, severity=Severity.HIGH),
    Case("PF-OPEN-RELAY-CONFIG", "style host default", "", P, "pass", subject=MX, base=NO_MN),
    Case("PF-OPEN-RELAY-CONFIG", "main.cf only", "", P, "pass", master=None),
    Case("PF-OPEN-RELAY-CONFIG", "loopback only", "smtpd_relay_restrictions = permit\n", NA, "not_applicable",
         master="127.0.0.1:10025 inet n - n - - smtpd\n"),
    # R10: submission
    Case("PF-SUBMISSION-NO-AUTH", "587 good", "", P, "pass", subject=SUB),
    Case("PF-SUBMISSION-NO-AUTH", "465 good", "", P, "pass", subject=SUBS),
    # Issue 11: severity follows effect. The default relay restrictions stop relaying, so an
    # unauthenticated client reaches only local recipients (high); with nothing stopping it, critical.
    Case("PF-SUBMISSION-NO-AUTH", "no auth", "", F, "no_auth_local", subject=SUB, master=SUB_OPEN,
         severity=Severity.HIGH),
    Case("PF-SUBMISSION-NO-AUTH", "no auth, relays", "", F, "no_auth", subject=SUB,
         master=SUB_OPEN.replace("  -o syslog_name=postfix/submission\n", "  -o syslog_name=postfix/submission\n"
                                 "  -o smtpd_relay_restrictions=permit,reject_unauth_destination\n", 1),
         severity=Severity.CRITICAL),
    Case("PF-SUBMISSION-NO-AUTH", "sasl off", "", F, "sasl_disabled", subject=SUB,
         master=GOOD_MASTER.replace("  -o smtpd_sasl_auth_enable=yes\n", "", 1)),
    Case("PF-SUBMISSION-NO-AUTH", "mynetworks exempt", "mynetworks = 10.0.0.0/8\n", F, "auth_exempt", subject=SUB,
         master=GOOD_MASTER.replace("relay_restrictions=permit_sasl", "relay_restrictions=permit_mynetworks,"
                                    "permit_sasl"), severity=Severity.MEDIUM),
    Case("PF-SUBMISSION-NO-AUTH", "localhost exempt is fine", "", P, "pass", subject=SUB,
         master=GOOD_MASTER.replace("relay_restrictions=permit_sasl", "relay_restrictions=permit_mynetworks,"
                                    "permit_sasl")),
    Case("PF-SUBMISSION-NO-AUTH", "tls optional, auth only", "", F, "tls_optional", subject=SUB,
         master=GOOD_MASTER.replace("  -o smtpd_tls_security_level=encrypt\n", ""), severity=Severity.LOW),
    Case("PF-SUBMISSION-NO-AUTH", "tls optional, auth in clear", "smtpd_tls_auth_only = no\n", F,
         "tls_optional_clear", subject=SUB, master=GOOD_MASTER.replace("  -o smtpd_tls_security_level=encrypt\n",
                                                                       ""), severity=Severity.HIGH),
    Case("PF-SUBMISSION-NO-AUTH", "port 587 by number", "", F, "no_auth_local",
         subject="postfix:192.0.2.1:587/inet",
         master="192.0.2.1:587 inet n - n - - smtpd\n"),
    Case("PF-SUBMISSION-NO-AUTH", "no submission service", "", NA, "not_applicable",
         master="smtp inet n - y - - smtpd\n"),
    Case("PF-SUBMISSION-NO-AUTH", "no master.cf", "", NT, "not_tested", master=None),
    Case("PF-AUTH-WITHOUT-TLS", "auth only", "", P, "pass", subject=SUB),
    Case("PF-AUTH-WITHOUT-TLS", "sasl on port 25 in clear", "smtpd_sasl_auth_enable = yes\n"
         "smtpd_tls_auth_only = no\n", F, "auth_in_clear", subject=MX, severity=Severity.HIGH),
    Case("PF-AUTH-WITHOUT-TLS", "no sasl anywhere", "", NA, "not_applicable", master="smtp inet n - y - - smtpd\n"),
    Case("PF-AUTH-WITHOUT-TLS", "main.cf only, sasl in main", "smtpd_sasl_auth_enable = yes\n"
         "smtpd_tls_auth_only = no\n", F, "auth_in_clear", master=None),
    # R9/R11: filters for authenticated mail
    Case("PF-NO-OUTBOUND-FILTER", "amavis after queue", "", P, "pass", subject=SUB),
    Case("PF-NO-OUTBOUND-FILTER", "no filter", "", F, "none", subject=SUB, severity=Severity.MEDIUM,
         master=GOOD_MASTER.replace("  -o content_filter=smtp-amavis:[127.0.0.1]:10024\n", "", 1)),
    Case("PF-NO-OUTBOUND-FILTER", "global filter switched off per service", "content_filter = amavis:[::1]:10024\n",
         F, "none", subject=SUB, master=GOOD_MASTER.replace("content_filter=smtp-amavis:[127.0.0.1]:10024",
                                                           "content_filter=", 1)),
    Case("PF-NO-OUTBOUND-FILTER", "dkim only", "smtpd_milters = inet:127.0.0.1:8891\n", F, "signing_only",
         subject=SUB, master=GOOD_MASTER.replace("  -o content_filter=smtp-amavis:[127.0.0.1]:10024\n", "", 1)),
    Case("PF-NO-OUTBOUND-FILTER", "milters switched off", "smtpd_milters = inet:127.0.0.1:11332\n", F, "none",
         subject=SUB, master=GOOD_MASTER.replace("  -o content_filter=smtp-amavis:[127.0.0.1]:10024\n",
                                                 "  -o receive_override_options=no_milters\n", 1)),
    Case("PF-NO-OUTBOUND-FILTER", "rspamd milter", "smtpd_milters = inet:localhost:11332\n", P, "pass",
         subject=SUB, master=GOOD_MASTER.replace("  -o content_filter=smtp-amavis:[127.0.0.1]:10024\n", "", 1)),
    Case("PF-NO-OUTBOUND-FILTER", "no master.cf", "", NT, "not_tested", master=None),
    Case("PF-PREQUEUE-FOR-AUTH", "after queue", "smtpd_milters = inet:127.0.0.1:8891\n", P, "pass", subject=SUB),
    Case("PF-PREQUEUE-FOR-AUTH", "proxy", "", F, "proxy", subject=SUB, severity=Severity.LOW,
         master=GOOD_MASTER.replace("  -o content_filter=smtp-amavis:[127.0.0.1]:10024\n",
                                    "  -o smtpd_proxy_filter=127.0.0.1:10025\n", 1)),
    # Issue 11: rspamd on submission is the outbound filter (and DKIM signer), never a finding.
    Case("PF-PREQUEUE-FOR-AUTH", "rspamd milter", "smtpd_milters = inet:127.0.0.1:8891, inet:localhost:11332\n",
         P, "pass", subject=SUB),
    Case("PF-PREQUEUE-FOR-AUTH", "no auth service", "", NA, "not_applicable", master="smtp inet n - y - - smtpd\n"),
    # B7: protocols
    Case("PF-TLS-PROTOCOLS", "submission 1.2+", "", P, "pass", subject=SUB),
    Case("PF-TLS-PROTOCOLS", "mx 1.2+", "", P, "pass", subject=MX),
    Case("PF-TLS-PROTOCOLS", "default on submission", "smtpd_tls_mandatory_protocols = >=TLSv1\n", F,
         "legacy_client", subject=SUB, severity=Severity.MEDIUM),
    Case("PF-TLS-PROTOCOLS", "implicit TLS uses the mandatory list", "smtpd_tls_mandatory_protocols = !SSLv2, "
         "!SSLv3\n", F, "legacy_client", subject=SUBS),
    Case("PF-TLS-PROTOCOLS", "default on mx", "smtpd_tls_protocols = >=TLSv1\n", F, "legacy_mx", subject=MX,
         severity=Severity.LOW),
    Case("PF-TLS-PROTOCOLS", "sslv3", "smtpd_tls_protocols = !SSLv2\n", F, "sslv3", subject=MX,
         severity=Severity.HIGH),
    Case("PF-TLS-PROTOCOLS", "old inclusion syntax", "smtpd_tls_protocols = TLSv1.2 TLSv1.3\n", P, "pass",
         subject=MX),
    Case("PF-TLS-PROTOCOLS", "no TLS on mx", "smtpd_tls_security_level = none\n", NA, "no_tls",
         subject=MX),
    Case("PF-TLS-PROTOCOLS", "no client or mx service", "", NA, "no_services",
         master="127.0.0.1:10025 inet n - n - - smtpd\n"),
    Case("PF-TLS-PROTOCOLS", "main.cf only", "", P, "pass", master=None),
    # B9: smuggling
    Case("PF-SMUGGLING", "3.9 default", "", P, "pass", subject=MX),
    Case("PF-SMUGGLING", "explicit no", "smtpd_forbid_bare_newline = no\n", F, "disabled", subject=MX,
         severity=Severity.HIGH),
    Case("PF-SMUGGLING", "3.7 unset", "mail_version = 3.7.11\n", F, "old_default", subject=MX),
    Case("PF-SMUGGLING", "3.7 set", "mail_version = 3.7.11\nsmtpd_forbid_bare_newline = normalize\n", P, "pass",
         subject=MX),
    Case("PF-SMUGGLING", "version unknown", "", NT, "not_tested", subject=MX, base=NO_VERSION),
    Case("PF-SMUGGLING", "no port 25", "", NA, "not_applicable", master=SUB_PLAIN),
    Case("PF-SMUGGLING", "behind postscreen", "smtpd_forbid_bare_newline = no\n", F, "disabled",
         subject="postfix:smtpd/pass", master=POSTSCREEN),
    # B6: TLS
    Case("PF-OUTBOUND-TLS", "may", "", P, "pass"),
    Case("PF-OUTBOUND-TLS", "default below 3.11", "", F, "off", severity=Severity.HIGH,
         base=GOOD_MAIN.replace("smtp_tls_security_level = may\n", "")),
    Case("PF-OUTBOUND-TLS", "default at 3.11", "compatibility_level = 3.11\nmail_version = 3.11.6\n", P, "pass",
         base=GOOD_MAIN.replace("smtp_tls_security_level = may\n", "")),
    Case("PF-OUTBOUND-TLS", "legacy smtp_use_tls", "smtp_use_tls = yes\n", P, "pass",
         base=GOOD_MAIN.replace("smtp_tls_security_level = may\n", "")),
    Case("PF-OUTBOUND-TLS", "relay override none", "", F, "off", subject="postfix:relay/unix",
         master=GOOD_MASTER.replace("relay      unix  -  -  y  -  -  smtp\n",
                                    "relay unix - - y - - smtp\n  -o smtp_tls_security_level=none\n")),
    # Issue 16: outbound DANE needs level dane, smtp_dns_support_level = dnssec (and a validating resolver).
    Case("PF-OUTBOUND-DANE", "dane with dnssec", "smtp_tls_security_level = dane\nsmtp_dns_support_level = dnssec\n",
         P, "pass"),
    Case("PF-OUTBOUND-DANE", "may", "", F, "off", severity=Severity.INFO),
    Case("PF-OUTBOUND-DANE", "dane without dnssec", "smtp_tls_security_level = dane\n", F, "no_dnssec",
         severity=Severity.LOW),
    Case("PF-OUTBOUND-DANE", "dnssec without dane", "smtp_dns_support_level = dnssec\n", F, "dnssec_no_dane",
         severity=Severity.INFO),
    Case("PF-OUTBOUND-DANE", "mandatory TLS", "smtp_tls_security_level = encrypt\n", F, "mandatory"),
    Case("PF-OUTBOUND-DANE", "no outbound TLS", "", NA, "no_tls",
         base=GOOD_MAIN.replace("smtp_tls_security_level = may\n", "")),
    Case("PF-INBOUND-TLS", "may with cert", "", P, "pass", subject=MX),
    Case("PF-INBOUND-TLS", "off", "smtpd_tls_security_level =\n", F, "off", subject=MX, severity=Severity.MEDIUM),
    Case("PF-INBOUND-TLS", "no cert", "smtpd_tls_cert_file =\n", F, "no_cert", subject=MX),
    Case("PF-INBOUND-TLS", "encrypt on 25", "smtpd_tls_security_level = encrypt\n", F, "mx_requires_tls",
         subject=MX),
    Case("PF-INBOUND-TLS", "no port 25", "", NA, "not_applicable", master=SUB_PLAIN),
    # Issue 11: delay warnings under an hour fire for every greylisted message.
    Case("PF-DELAY-WARNING", "5 minutes", "delay_warning_time = 5m\n", F, "too_short", severity=Severity.LOW),
    # Issue 11: AUTH on port 25 is its own (low) finding; the fix switches it off there only.
    Case("PF-AUTH-ON-PORT25", "no auth on 25", "", P, "pass", subject=MX),
    Case("PF-AUTH-ON-PORT25", "sasl in main.cf", "smtpd_sasl_auth_enable = yes\n", F, "offered", subject=MX,
         severity=Severity.LOW),
    Case("PF-AUTH-ON-PORT25", "clients only have 25", "smtpd_sasl_auth_enable = yes\n", F, "only_path", subject=MX,
         master="smtp inet n - y - - smtpd\n", severity=Severity.MEDIUM),
    Case("PF-AUTH-ON-PORT25", "no master.cf", "", NT, "not_tested", master=None),
    # Issue 11 seed topics: own domain as sender from outside, backscatter, ETRN.
    Case("PF-OWN-DOMAIN-SENDER-REJECT", "nothing", "", P, "pass", subject=MX),
    Case("PF-OWN-DOMAIN-SENDER-REJECT", "login mismatch on 25", "smtpd_sender_restrictions = "
         "reject_non_fqdn_sender, reject_sender_login_mismatch\n", F, "login_mismatch", subject=MX,
         severity=Severity.LOW),
    Case("PF-OWN-DOMAIN-SENDER-REJECT", "only for authenticated users", "smtpd_sender_restrictions = "
         "reject_authenticated_sender_login_mismatch\n", P, "pass", subject=MX),
    Case("PF-OWN-DOMAIN-SENDER-REJECT", "access table unknown", "smtpd_sender_restrictions = "
         "check_sender_access hash:/etc/postfix/sender_access\n", NT, "not_tested", subject=MX),
    Case("PF-OWN-DOMAIN-SENDER-REJECT", "no port 25", "", NA, "no_mx", master=SUB_PLAIN),
    Case("PF-BACKSCATTER", "defaults", "", P, "pass", subject=MX),
    Case("PF-BACKSCATTER", "unlisted off", "smtpd_reject_unlisted_recipient = no\n", F, "unlisted_off", subject=MX,
         severity=Severity.MEDIUM),
    Case("PF-BACKSCATTER", "local maps emptied", "local_recipient_maps =\n", F, "local_maps_empty", subject=MX),
    Case("PF-BACKSCATTER", "relay domain without recipients", "relay_domains = kunde.example\n", F,
         "relay_no_recipients", subject=MX, severity=Severity.MEDIUM),
    Case("PF-BACKSCATTER", "relay table without recipients", "relay_domains = hash:/etc/postfix/relay_domains\n", F,
         "relay_table_no_recipients", subject=MX, severity=Severity.LOW),
    Case("PF-BACKSCATTER", "recipients verified in the dialogue", "relay_domains = hash:/etc/postfix/relay_domains\n"
         "smtpd_recipient_restrictions = reject_unauth_destination, reject_unverified_recipient\n", P, "pass",
         subject=MX),
    Case("PF-BACKSCATTER", "relay domain with recipients", "relay_domains = kunde.example\n"
         "relay_recipient_maps = hash:/etc/postfix/relay_recipients\n", P, "pass", subject=MX),
    Case("PF-BACKSCATTER", "legacy relay_domains = $mydestination", "compatibility_level = 0\n", P, "pass",
         subject=MX),
    Case("PF-BACKSCATTER", "no port 25", "", NA, "no_mx", master=SUB_PLAIN),
    Case("PF-ETRN", "default", "relay_domains = kunde.example\nrelay_recipient_maps = hash:/x\n", F, "open",
         subject=MX, severity=Severity.INFO),
    # Issue 11 review: without fast-flush domains Postfix answers ETRN with 459; nothing to note.
    Case("PF-ETRN", "no fast-flush domains", "", P, "no_effect", subject=MX),
    Case("PF-ETRN", "reject", "relay_domains = kunde.example\nrelay_recipient_maps = hash:/x\n"
         "smtpd_etrn_restrictions = reject\n", P, "pass", subject=MX),
    # Issue 11: internal ports are not submission paths.
    Case("PF-AUTH-WITHOUT-TLS", "reinjection port inherits SASL", "smtpd_sasl_auth_enable = yes\n", NA, "internal",
         subject="postfix:127.0.0.1:10025/inet"),
    Case("PF-AUTH-WITHOUT-TLS", "other port in clear", "smtpd_sasl_auth_enable = yes\nsmtpd_tls_auth_only = no\n",
         F, "auth_in_clear_other", subject="postfix:588/inet", severity=Severity.LOW,
         master=GOOD_MASTER + "588 inet n - n - - smtpd\n"),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule}:{c.name}" for c in CASES])
def test_rule_case(case: Case) -> None:
    cfg = config(case.main, case.master, case.base)
    finding = one(case.rule, cfg, case.subject)
    assert (finding.status, finding.outcome) == (case.status, case.outcome), finding
    if case.severity is not None:
        assert finding.severity is case.severity
    if finding.status in (Status.PASS, Status.FAIL):
        # every result cites the parameter, its value and where it came from
        assert "[" in str(finding.params.get("setting", "")) or finding.params.get("setting") == \
            "permit_mynetworks not used", finding.params
        assert finding.evidence
    if finding.status is Status.FAIL:
        fix = finding.params["fix"]
        # A command to paste, or (where no safe command exists) what to do, in both languages, naming the command.
        assert str(fix).startswith("postconf -") or fix == "-" or (
            isinstance(fix, dict) and all("postconf -" in fix[lang] for lang in ("de", "en"))), finding.params
    for lang in ("de", "en"):
        rendered = render_finding(finding, lang)
        leftover = re.findall(r"\{[a-z_]+\}", rendered["detail"] + rendered["remediation"])
        assert not leftover, (lang, leftover, rendered)


def test_good_configuration_has_no_failures() -> None:
    """Nothing above info: the good configuration may still carry notes (the 5d default)."""
    cfg = config()
    for rule_id in pf_rules():
        for f in run(rule_id, cfg):
            assert not (f.status is Status.FAIL and f.severity is not Severity.INFO), f
            assert f.status is not Status.ERROR, f


def pf_rules() -> list[str]:
    return [rid for rid, rule in catalog().rules.items() if rule.family == "postfix"]


def test_every_postfix_rule_has_a_pass_and_a_fail_case() -> None:
    covered = {(c.rule, c.status) for c in CASES}
    for rule_id in pf_rules():
        assert (rule_id, Status.PASS) in covered, rule_id
        assert (rule_id, Status.FAIL) in covered, rule_id


def test_every_outcome_of_every_rule_is_exercised() -> None:
    used = {(c.rule, c.outcome) for c in CASES}
    # Outcomes no configuration produces any more, kept so that older recorded runs still render.
    retired = {("PF-OPEN-RELAY-CONFIG", "open_relay"), ("PF-PREQUEUE-FOR-AUTH", "scanning_milter")}
    for rule_id in pf_rules():
        for outcome in catalog()[rule_id].outcomes:
            if outcome in ("not_applicable", "no_services") or (rule_id, outcome) in retired:
                continue
            assert (rule_id, outcome) in used, (rule_id, outcome)


@pytest.mark.parametrize("rule_id", [r for r in sorted(registered()) if r.startswith("PF-")])
def test_without_configuration_everything_is_not_tested(rule_id: str) -> None:
    findings = run(rule_id, None)
    assert [(f.status, f.subject, f.reason.key if f.reason else None) for f in findings] == [
        (Status.NOT_TESTED, "example.test", "reason.no_postfix_config")]


@pytest.mark.parametrize("failure", [PostfixLoadFailure("main.cf, line 3: missing '='"),
                                     PostfixConfigError("main.cf", 3, "missing '='")])
def test_load_failure_is_not_tested_with_the_error(failure: object) -> None:
    for rule_id in pf_rules():
        findings = run(rule_id, failure)
        assert len(findings) == 1 and findings[0].status is Status.NOT_TESTED
        reason = findings[0].reason
        assert reason is not None and reason.key == "reason.postfix_config_error"
        assert "line 3" in reason.params["error"]


def test_registry_covers_the_postfix_catalog() -> None:
    pf_registered = {r for r in registered() if r.startswith("PF-")}
    assert pf_registered == set(pf_rules())
    for rule_id in pf_rules():
        assert registered()[rule_id].needs == ("postfix",)


def test_fix_commands_are_exact() -> None:
    f = one("PF-SUBMISSION-NO-AUTH", config(master=SUB_OPEN), SUB)
    assert f.params["fix"] == ("postconf -P 'submission/inet/smtpd_sasl_auth_enable=yes' "
                               "'submission/inet/smtpd_client_restrictions=permit_sasl_authenticated,reject'")
    f = one("PF-QUEUE-LIFETIME", config("maximal_queue_lifetime = 2d\n"))
    assert f.params["fix"] == "postconf -e 'maximal_queue_lifetime = 5d'"
    assert f.params["setting"].startswith("maximal_queue_lifetime = 2d [main.cf line ")
    f = one("PF-HELO-NAME", config("myhostname = mail.firma.local\n"))
    assert f.params["fix"] == "postconf -e 'myhostname = mail.example.test'"


SEED_DEMO = Path(__file__).parent / "fixtures" / "postfix" / "seed-demo"


def test_seed_demo_findings() -> None:
    """The seed's Postfix findings in the demo configuration (issue 4, "Done when")."""
    demo = load_postfix_config(SEED_DEMO)
    outcomes = {(f.rule, f.subject): (f.status, f.outcome) for rid in pf_rules() for f in run(rid, demo)}
    assert outcomes[("PF-QUEUE-LIFETIME", "postfix")] == (Status.FAIL, "default")  # 5d: a note (info) only
    assert outcomes[("PF-BOUNCE-LIFETIME", "postfix")] == (Status.FAIL, "long_default")
    assert outcomes[("PF-NO-OUTBOUND-FILTER", SUB)] == (Status.FAIL, "signing_only")
    assert outcomes[("PF-HELO-NAME", "postfix")] == (Status.FAIL, "not_fqdn")
    assert outcomes[("PF-DELAY-WARNING", "postfix")] == (Status.FAIL, "off")
    assert outcomes[("PF-SMUGGLING", MX)] == (Status.FAIL, "old_default")
    assert outcomes[("PF-SUBMISSION-NO-AUTH", SUB)] == (Status.PASS, "pass")
    assert outcomes[("PF-OPEN-RELAY-CONFIG", MX)] == (Status.PASS, "pass")
    assert all(status is not Status.ERROR for status, _ in outcomes.values())
