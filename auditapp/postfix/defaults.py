"""Postfix defaults for the parameters the audit looks at.

An unset parameter is not "empty": Postfix uses its built-in default, and since Postfix 3.0
several defaults depend on ``compatibility_level`` (and a few on the Postfix version). The
values below are the Postfix 3.11 defaults from knowledge-2026.md R8 ("Other Postfix 3.11
defaults relevant to the audit", verified there against the v3.11.6 source:
``src/global/mail_params.h``, ``proto/postconf.proto``); where the knowledge base has no entry,
the comment cites ``postconf -d`` of the Postfix 3.7.11 used by the test lab, which the
parser tests compare against.

Some defaults cannot be known offline at all: ``myhostname`` is the machine's FQDN and
``mynetworks`` is computed from the network interfaces. Those are marked ``unknown``; the
checks say so instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Version = tuple[int, ...]

#: The Postfix release the default table describes.
BASIS = "3.11"
BASIS_VERSION: Version = (3, 11)


@dataclass(frozen=True)
class DefaultValue:
    """A default value and the note shown as its provenance."""

    value: str
    note: str
    #: The real value depends on the machine (host name, interfaces) and is unknown offline.
    unknown: bool = False


def parse_level(text: str) -> Version | None:
    """``"3.6"`` -> (3, 6); ``compatibility_level`` and ``mail_version`` share this form."""
    parts = text.strip().split(".")
    nums: list[int] = []
    for part in parts:
        digits = ""
        for ch in part:
            if not ch.isascii() or not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        nums.append(int(digits[:9]))
        if len(digits) != len(part):
            break  # "3.8-20230101" (a snapshot) -> (3, 8)
    return tuple(nums) if nums else None


def level_text(level: Version) -> str:
    return ".".join(str(p) for p in level)


def _at_level(minimum: Version, at: str, below: str) -> Callable[[Version, Version | None], tuple[str, str]]:
    """A default switched by ``compatibility_level`` (Postfix's ``<level`` comparison)."""

    def pick(compat: Version, version: Version | None) -> tuple[str, str]:
        value = at if compat >= minimum else below
        return value, f"Postfix {BASIS}, compatibility_level {level_text(compat)}"

    return pick


def _smtp_tls_level(compat: Version, version: Version | None) -> tuple[str, str]:
    # KB R8: "may when compatibility level >= 3.11 (new in 3.11); empty = none below that".
    # The level-dependent default exists only in Postfix >= 3.11 itself.
    if compat >= (3, 11) and (version is None or version >= (3, 11)):
        return "may", f"Postfix {BASIS}, compatibility_level {level_text(compat)}"
    return "", f"Postfix {BASIS}, compatibility_level {level_text(compat)}"


def _bare_newline(compat: Version, version: Version | None) -> tuple[str, str]:
    # KB R8/B9: "normalize (Postfix >= 3.9)"; older releases (patched ones have the
    # parameter) default to "no" -- postconf -d of Postfix 3.7.11 prints "no".
    if version is not None and version < (3, 9):
        return "no", f"Postfix {level_text(version)}"
    if version is None:
        return "normalize", "Postfix >= 3.9; older versions: no"
    return "normalize", f"Postfix {level_text(version)}"


def _unauth_pipelining(compat: Version, version: Version | None) -> tuple[str, str]:
    # KB R8: "smtpd_forbid_unauth_pipelining: yes" (3.11 table); postconf -d of Postfix 3.7.11
    # prints "no". Where between 3.7 and 3.11 it changed is not verified; no check reads it,
    # so the switch is placed at 3.9 with the bare-newline default.
    if version is not None and version < (3, 9):
        return "no", f"Postfix {level_text(version)}"
    return "yes", f"Postfix {BASIS}" if version is None else f"Postfix {level_text(version)}"


def _milter_action(compat: Version, version: Version | None) -> tuple[str, str]:
    # KB R8: "milter_default_action: shutdown (new in 3.11; previously tempfail)".
    if version is not None and version < (3, 11):
        return "tempfail", f"Postfix {level_text(version)}"
    return "shutdown", f"Postfix {BASIS}"


_Rule = str | Callable[[Version, Version | None], tuple[str, str]]

#: name -> fixed default or a function of (compatibility_level, version).
_TABLE: dict[str, _Rule] = {
    # KB R8 table: "compatibility_level: 0 in code".
    "compatibility_level": "0",
    # KB R8: maximal_queue_lifetime / bounce_queue_lifetime 5d / 5d (3.11.6 source).
    "maximal_queue_lifetime": "5d",
    "bounce_queue_lifetime": "5d",
    # KB R8: delay_warning_time 0h (off).
    "delay_warning_time": "0h",
    # KB R8: minimal_backoff_time / maximal_backoff_time / queue_run_delay 300s / 4000s / 300s.
    "minimal_backoff_time": "300s",
    "maximal_backoff_time": "4000s",
    "queue_run_delay": "300s",
    # KB R8: smtputf8_enable yes at compatibility level >= 1.
    "smtputf8_enable": _at_level((1,), "yes", "no"),
    # KB R8: smtp_tls_security_level "may" at level >= 3.11, else empty.
    "smtp_tls_security_level": _smtp_tls_level,
    # KB R8: smtpd_tls_security_level empty (no STARTTLS until configured).
    "smtpd_tls_security_level": "",
    # KB R8 / B7: all *_protocols ">=TLSv1".
    "smtpd_tls_protocols": ">=TLSv1",
    "smtpd_tls_mandatory_protocols": ">=TLSv1",
    "smtp_tls_protocols": ">=TLSv1",
    "smtp_tls_mandatory_protocols": ">=TLSv1",
    # KB R8: smtpd_tls_auth_only no.
    "smtpd_tls_auth_only": "no",
    # KB R8: smtpd_relay_restrictions safe default at level >= 1 (empty below: postconf -d 3.7.11).
    "smtpd_relay_restrictions": _at_level(
        (1,), "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination", ""),
    # KB R8: mynetworks_style host at level >= 2, subnet below.
    "mynetworks_style": _at_level((2,), "host", "subnet"),
    # KB R8: smtpd_helo_required no; disable_vrfy_command no.
    "smtpd_helo_required": "no",
    "disable_vrfy_command": "no",
    # KB R8/B9: smtpd_forbid_bare_newline normalize (>= 3.9).
    "smtpd_forbid_bare_newline": _bare_newline,
    # KB R8: smtpd_forbid_unauth_pipelining yes (3.11); no in 3.7.11.
    "smtpd_forbid_unauth_pipelining": _unauth_pipelining,
    # KB R8: message_size_limit 10240000.
    "message_size_limit": "10240000",
    # KB R8: milter_default_action shutdown (3.11).
    "milter_default_action": _milter_action,
    # postconf -d (3.7.11): the remaining parameters the checks read.
    "smtp_helo_name": "$myhostname",
    "myorigin": "$myhostname",
    "smtpd_banner": "$myhostname ESMTP $mail_name",
    "mail_name": "Postfix",
    "inet_interfaces": "all",
    "smtpd_recipient_restrictions": "",
    "smtpd_client_restrictions": "",
    "smtpd_helo_restrictions": "",
    "smtpd_sender_restrictions": "",
    "smtpd_sasl_auth_enable": "no",
    "smtpd_tls_wrappermode": "no",
    "smtpd_use_tls": "no",
    "smtpd_enforce_tls": "no",
    "smtp_use_tls": "no",
    "smtp_enforce_tls": "no",
    "smtpd_tls_cert_file": "",
    "smtpd_tls_key_file": "$smtpd_tls_cert_file",
    "smtpd_tls_eccert_file": "",
    "smtpd_tls_chain_files": "",
    "content_filter": "",
    "smtpd_milters": "",
    "non_smtpd_milters": "",
    "smtpd_proxy_filter": "",
    "receive_override_options": "",
    "syslog_name": "postfix",
    # Recipient validation and relay domains (PF-BACKSCATTER), ETRN, front proxies, SASL back end.
    "smtpd_reject_unlisted_recipient": "yes",
    "local_recipient_maps": "proxy:unix:passwd.byname $alias_maps",
    "alias_maps": "hash:/etc/aliases, nis:mail.aliases",
    "relay_recipient_maps": "",
    "relay_domains": _at_level((2,), "", "$mydestination"),
    "mydestination": "$myhostname, localhost.$mydomain, localhost",
    "smtpd_etrn_restrictions": "",
    "fast_flush_domains": "$relay_domains",
    "smtpd_restriction_classes": "",
    "smtpd_authorized_xclient_hosts": "",
    "smtpd_sasl_path": "smtpd",
    "smtpd_sasl_type": "cyrus",
    "smtp_send_xforward_command": "no",
    "disable_dns_lookups": "no",
    "smtp_dns_support_level": "",
}

#: Parameters whose default is the machine's own state, unknowable from the files.
_UNKNOWN: dict[str, str] = {
    "myhostname": "the system's host name (FQDN), unknown offline",
    "mydomain": "$myhostname without its first label, unknown offline",
    "mynetworks": "computed from mynetworks_style and the network interfaces, unknown offline",
    "mail_version": "the installed Postfix version, unknown offline",
}

#: Default unit of time parameters given as a bare number (postconf(5)).
TIME_UNITS: dict[str, str] = {
    "maximal_queue_lifetime": "d",
    "bounce_queue_lifetime": "d",
    "delay_warning_time": "h",
    "minimal_backoff_time": "s",
    "maximal_backoff_time": "s",
    "queue_run_delay": "s",
}


def default_for(name: str, compat: Version, version: Version | None) -> DefaultValue | None:
    """The default of ``name`` for this compatibility level and version, or None if not tabled."""
    if name in _UNKNOWN:
        return DefaultValue("", _UNKNOWN[name], unknown=True)
    rule = _TABLE.get(name)
    if rule is None:
        return None
    if isinstance(rule, str):
        return DefaultValue(rule, f"Postfix {BASIS}")
    value, note = rule(compat, version)
    return DefaultValue(value, note)


def known_names() -> tuple[str, ...]:
    return tuple(_TABLE) + tuple(_UNKNOWN)


_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_time(value: str, default_unit: str = "s") -> int:
    """A Postfix time value in seconds: ``5d``, ``3h``, ``1w``, ``300s``, or a bare number in ``default_unit``.

    Raises ValueError for anything Postfix's conv_time() would reject.
    """
    text = value.strip()
    if default_unit not in _SECONDS:
        raise ValueError(f"unknown time unit {default_unit!r}")
    unit = default_unit
    if text and text[-1] in _SECONDS:
        unit, text = text[-1], text[:-1]
    if not text or not text.isascii() or not text.isdigit() or len(text) > 12:
        raise ValueError(f"invalid time value {value!r} (expected a number with an optional unit s, m, h, d or w)")
    return int(text) * _SECONDS[unit]


def format_duration(seconds: int) -> str:
    """Seconds in the largest whole Postfix unit: 432000 -> "5d"."""
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _SECONDS[unit] == 0:
            return f"{seconds // _SECONDS[unit]}{unit}"
    return f"{seconds}s"
