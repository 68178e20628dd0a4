"""Input validation for everything a user types: domains, IPs, host names, selectors, resolvers,
ports, the test account and the trust-anchor file.

Every front end (command line, GUI fields, project files, :mod:`auditapp.audit.request`) checks
with these functions and no others, so a value one of them accepts the others accept too
(issue 13). Input errors are reported before any query is sent (CLI exit code 2, a message
beside the field in the GUI). A HELO name is the exception: a broken HELO is what a
misconfigured server really sends, so it is audited and reported, not refused as input.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping

import idna

from auditapp.core.text import ascii_digits

_LDH = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SELECTOR = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9_])?$")


class InputError(ValueError):
    """A value the user typed cannot be used; the message says why in one line.

    ``code`` names the kind of problem (``label_too_long``) and ``params`` its values, so the
    GUI can say the same thing in German beside the field; the message is the CLI's English.
    """

    def __init__(self, message: str, code: str = "invalid", **params: object) -> None:
        super().__init__(message)
        self.code, self.params = code, params


def _no_stray_whitespace(text: str, what: str) -> None:
    if text != text.strip():
        raise InputError(f"{what} {text!r} has leading or trailing whitespace", "whitespace_edges")
    if not text:
        raise InputError(f"{what} is empty", "empty")
    if any(c.isspace() for c in text):
        raise InputError(f"{what} {text!r} contains whitespace", "whitespace")


def normalize_domain(text: str, what: str = "domain") -> str:
    """Return the A-label form (``xn--bcher-kva.example``) of a domain typed as U- or A-label."""
    _no_stray_whitespace(text, what)
    name = text[:-1] if text.endswith(".") else text
    if "@" in name or "/" in name or ":" in name:
        raise InputError(f"{what} {text!r} is not a domain name (did you paste an address or URL?)", "not_domain")
    _check_label_lengths(name, what, text)
    try:
        alabel = idna.encode(name, uts46=True, transitional=False).decode("ascii")
    except UnicodeError as exc:  # idna.IDNAError is one
        code, params = _idna_code(exc)
        raise InputError(f"{what} {text!r} is not a valid domain name: {exc}", code, **params) from None
    labels = alabel.split(".")
    for label in labels:
        if len(label) > 63:
            raise InputError(f"{what} {text!r}: label {label[:20]!r}... is {len(label)} octets long (63 allowed)",
                             "label_too_long", length=len(label))
        if not _LDH.match(label):
            raise InputError(f"{what} {text!r}: label {label!r} is not a valid host name label", "bad_label",
                             label=label)
    if len(alabel) > 253:
        raise InputError(f"{what} {text!r} is {len(alabel)} octets long (253 allowed)", "name_too_long",
                         length=len(alabel))
    if len(labels) < 2:
        raise InputError(f"{what} {text!r} needs at least two labels (e.g. example.com)", "one_label")
    if ascii_digits(labels[-1]):
        raise InputError(f"{what} {text!r} looks like an IP address, not a domain", "ip_not_domain")
    return alabel


#: idna's error codes (idna 3.11 and newer) mapped to ours, so the window can say in German what
#: idna only says in English ("Empty Label" reached German forms verbatim, issue 14).
_IDNA_CODES = {
    "empty_label": "empty_label", "empty_domain": "empty_label",
    "hyphen_start_end": "hyphen_edge", "hyphen_3_4": "hyphen_34", "invalid_alabel": "bad_alabel",
    "non_canonical_alabel": "bad_alabel", "invalid_ascii": "bad_alabel",
    "disallowed_codepoint": "bad_char", "contextj": "bad_char", "contexto": "bad_char",
    "leading_combiner": "bad_char",
}


def _check_label_lengths(name: str, what: str, text: str) -> None:
    """Empty labels, labels over 63 octets and names over 253, counted in the form DNS carries.

    Checked here rather than left to idna, whose English "Empty Label" / "Label too long" had no
    length and reached German forms verbatim (issue 14). A U-label counts as its ``xn--`` form
    after UTS 46 mapping (58 times ``ü`` is 64 octets, a fullwidth ``ａ`` counts as ``a``), as
    the 253-octet limit of the whole name is counted. The CLI's English messages stay as they were.
    """
    try:
        mapped = idna.uts46_remap(name, std3_rules=False, transitional=False)
    except UnicodeError:
        return  # idna.encode reports it with its code
    total = -1
    for label in mapped.split("."):
        if not label:
            raise InputError(f"{what} {text!r} is not a valid domain name: Empty Label", "empty_label")
        try:
            octets = len(label) if label.isascii() else len("xn--") + len(label.encode("punycode"))
        except UnicodeError:
            return
        if octets > 63:
            raise InputError(f"{what} {text!r}: label {label[:20]!r}... is {octets} octets long (63 allowed)",
                             "label_too_long", length=octets)
        total += octets + 1
    if total > 253:
        raise InputError(f"{what} {text!r} is {total} octets long (253 allowed)", "name_too_long", length=total)


def _idna_code(exc: UnicodeError) -> tuple[str, dict[str, object]]:
    """Our message code and parameters for an idna error (the character and its position where idna names them)."""
    idna_code = str(getattr(exc, "code", "") or "")
    if idna_code.startswith("bidi"):
        return "bidi", {}
    code = _IDNA_CODES.get(idna_code, "idna")
    codepoint = getattr(exc, "codepoint", None)
    if code == "bad_char" and isinstance(codepoint, int):
        return code, {"char": chr(codepoint), "codepoint": f"U+{codepoint:04X}",
                      "position": getattr(exc, "position", None) or "?"}
    if code == "bad_char":
        return "idna", {}
    return code, {}


def display_domain(alabel: str) -> str:
    """The U-label form for people; falls back to the A-label if it cannot be decoded."""
    try:
        return idna.decode(alabel)
    except (idna.IDNAError, UnicodeError):
        return alabel


def parse_ip(text: str, what: str = "IP address") -> str:
    """Return the canonical text form of an IPv4 or IPv6 address."""
    _no_stray_whitespace(text, what)
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    glued = re.match(r"^(\d{1,3}(?:\.\d{1,3}){3}):(\d+)$", text, re.ASCII) or re.match(
        r"^\[([0-9a-fA-F:.]+)\]:(\d+)$", text, re.ASCII)
    if glued:
        raise InputError(
            f"{what} {text!r} has a port glued on; give the address alone "
            f"and the port with --port SERVICE={glued.group(2)}",
            "port_glued", port=glued.group(2),
        )
    if text.startswith("[") and text.endswith("]"):
        raise InputError(f"{what} {text!r}: write IPv6 addresses without brackets", "ipv6_brackets")
    raise InputError(f"{what} {text!r} is not an IPv4 or IPv6 address", "not_ip")


def validate_helo(text: str) -> str:
    """Accept any single token a server could send; only emptiness and whitespace are input errors."""
    _no_stray_whitespace(text, "HELO name")
    if len(text) > 255:
        raise InputError("HELO name is longer than 255 characters", "helo_too_long")
    if not text.isprintable():
        raise InputError(f"HELO name {text!r} contains control characters", "control_chars")
    return text


#: The longest wait per DNS question or dialogue step anyone can mean (ten minutes); the same
#: limit for the command line, projects and the GUI (issue 13: they differed).
MAX_TIMEOUT_S = 600.0


def validate_timeout(seconds: float, what: str = "timeout") -> float:
    """A finite number of seconds above 0 and at most :data:`MAX_TIMEOUT_S`."""
    if not isinstance(seconds, int | float) or seconds != seconds or not 0 < seconds <= MAX_TIMEOUT_S:
        raise InputError(f"{what} must be a number of seconds above 0 and at most {MAX_TIMEOUT_S:g}", "timeout",
                         limit=MAX_TIMEOUT_S)
    return float(seconds)


#: The longest pause between connections to one server: at 60 s an audit already takes ~40 minutes
#: per server (30-40 connections); more is a typo.
MAX_CONNECT_INTERVAL_S = 60.0


def validate_connect_interval(seconds: float, what: str = "connect interval") -> float:
    """A finite number of seconds from 0 (no pause) to :data:`MAX_CONNECT_INTERVAL_S`."""
    if (isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds != seconds
            or not 0 <= seconds <= MAX_CONNECT_INTERVAL_S):
        raise InputError(f"{what} must be a number of seconds from 0 to {MAX_CONNECT_INTERVAL_S:g}",
                         "connect_interval", limit=MAX_CONNECT_INTERVAL_S)
    return float(seconds)


def validate_nameserver(text: str) -> tuple[str, int]:
    """A resolver address as ``(address, port)``: ``IP``, ``IP:PORT``, ``[IPv6]:PORT`` or a bare IPv6 address.

    The one rule for every place a resolver is typed or stored (``--nameserver``, the settings,
    the target page, project files): they parsed it through four wrappers that disagreed on
    whitespace and on their messages (issue 13). Surrounding whitespace is refused as for every
    other input; the messages keep the words ``invalid nameserver`` the CLI always printed.
    """
    _no_stray_whitespace(text, "nameserver")
    port = 53
    host = text
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise InputError(f"invalid nameserver {text!r}: missing ']'")
        host, rest = text[1:end], text[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise InputError(f"invalid nameserver {text!r}")
            port = _nameserver_port(rest[1:], text)
    elif text.count(":") == 1:
        host, _, digits = text.partition(":")
        port = _nameserver_port(digits, text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise InputError(f"invalid nameserver {text!r}: not an IP address", "not_ip") from None
    return host, port


def _nameserver_port(value: str, whole: str) -> int:
    if not ascii_digits(value) or not 0 < int(value) < 65536:
        raise InputError(f"invalid nameserver {whole!r}: bad port {value!r}")
    return int(value)


def parse_nameservers(texts: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """Every resolver of a list, in order; the first bad one raises (an empty list: the system's resolvers)."""
    return tuple(validate_nameserver(t) for t in texts)


def validate_ca_file(path: str, what: str = "CA file") -> str:
    """An extra trust-anchor file must exist and hold PEM certificates.

    Checked before the audit, because a file that cannot be loaded would otherwise turn every
    TLS check into a certificate finding that is really a setup error.
    """
    import ssl
    from pathlib import Path

    if not Path(path).is_file():
        raise InputError(f"{what} {path}: no such file", "no_file")
    try:
        ssl.create_default_context().load_verify_locations(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        raise InputError(f"{what} {path}: not a PEM file with certificates ({exc})", "not_pem") from None
    return path


def check_distinct_ports(ports: Mapping[str, int], what: str = "ports") -> None:
    """Each mail service needs its own port (HTTPS for MTA-STS may share one): two on one port
    would be probed as one server and reported twice."""
    mail = [port for service, port in ports.items() if service != "https"]
    shared = sorted({port for port in mail if mail.count(port) > 1})
    if shared:
        raise InputError(f"{what}: two services share port {shared[0]}; each mail service needs its own port",
                         "shared_port", port=shared[0])


def in_domain(name: str, domain: str) -> bool:
    """``name`` is ``domain`` or a name under it (label-wise: ``evilbeispiel.de`` is not under ``beispiel.de``)."""
    name, domain = name.rstrip(".").lower(), domain.rstrip(".").lower()
    return bool(domain) and (name == domain or name.endswith("." + domain))


#: A plain user name as mail systems know it: letters, digits and a few punctuation marks.
_PLAIN_USER = re.compile(r"[A-Za-z0-9._+=-]{1,64}")


def validate_account(text: str) -> str:
    """The test account: ``user@domain`` or a plain user name, and nothing that could name another secret.

    Keyring entries are keyed by audited domain and account (``domain:account``); an account
    name with ``:`` or ``/`` (such as ``report:victim.test``) could otherwise address a
    different entry, so such names are refused (issue 12).
    """
    _no_stray_whitespace(text, "test account")
    if len(text) > 320:
        raise InputError("test account is longer than 320 characters", "account_too_long")
    local, at, domain = text.rpartition("@")
    if not at:
        if not _PLAIN_USER.fullmatch(text):
            raise InputError(f"test account {text!r} must be user@domain or a plain user name "
                             "(letters, digits, . _ + = -)", "bad_account")
        return text
    if not local or not _PLAIN_USER.fullmatch(local):
        raise InputError(f"test account {text!r}: the part before @ must be letters, digits or . _ + = -",
                         "bad_account")
    try:
        normalize_domain(domain, "domain of the test account")
    except InputError:
        raise InputError(f"test account {text!r}: {domain!r} after @ is not a domain", "bad_account") from None
    return text


def validate_selector(text: str) -> str:
    """A DKIM selector is one or more DNS labels (RFC 6376 §3.1)."""
    _no_stray_whitespace(text, "DKIM selector")
    if not _SELECTOR.match(text) or ".." in text:
        raise InputError(f"DKIM selector {text!r} is not a valid selector (letters, digits, '-', '_', '.')",
                         "bad_selector")
    return text


def parse_port_override(text: str) -> tuple[str, int]:
    """``SERVICE=PORT`` as in ``--port smtp=2525``."""
    services = ("smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s", "https")
    if "=" not in text:
        raise InputError(f"port override {text!r} must look like SERVICE=PORT, e.g. smtp=2525")
    service, _, port = text.partition("=")
    service = service.strip().lower()
    if service not in services:
        raise InputError(f"port override {text!r}: unknown service {service!r} (one of {', '.join(services)})")
    if not ascii_digits(port) or not 0 < int(port) < 65536:
        raise InputError(f"port override {text!r}: {port!r} is not a port number")
    return service, int(port)
