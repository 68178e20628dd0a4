"""Cipher suites, forward secrecy and keys of every TLS endpoint, judged by tls_ciphers.toml (issue 16).

The facts come from the TLS scan (collectors/tls_scan.py); the classes from the NCSC-NL 2.1 table
that internet.nl applies, with the BSI TR-02102-2 view in the evidence. A client port (587, 465,
IMAP, POP3) carries passwords and must be held to the table. Port 25 uses opportunistic TLS: a
sender that finds no suite it likes delivers in plain text, so weak-but-present encryption is
better than none there, and the severities are lower. A scan that timed out or could not
connect is ``not_tested`` with its reason, never a verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from auditapp.checks.registry import CheckContext, check
from auditapp.checks.services.base import NEEDS, discovery_of, expected_role, probes_of
from auditapp.collectors.service_facts import CLIENT_SERVICES, EndpointProbe, PortState
from auditapp.collectors.tls_scan import SuiteOffer, TlsScan
from auditapp.core.model import Finding, Reason
from auditapp.data.tls_ciphers import (
    CLASSES,
    group_verdict,
    key_verdict,
    signature_hash_verdict,
    suite_verdict,
    version_verdict,
    worst,
)
from auditapp.postfix import PostfixConfig

SCAN_NEEDS = (*NEEDS, "tls_scan")

#: Postfix parameters that decide what smtpd offers; shown as evidence when a configuration was imported.
POSTFIX_CIPHER_PARAMS = ("smtpd_tls_protocols", "smtpd_tls_mandatory_protocols", "smtpd_tls_ciphers",
                         "smtpd_tls_mandatory_ciphers", "smtpd_tls_exclude_ciphers", "tls_medium_cipherlist",
                         "tls_high_cipherlist", "smtpd_tls_dh1024_param_file", "smtpd_tls_eecdh_grade")


def is_client(p: EndpointProbe) -> bool:
    return p.service in CLIENT_SERVICES


def scanned_endpoints(ctx: CheckContext) -> Iterator[tuple[EndpointProbe, TlsScan | None]]:
    """Open endpoints in their role where TLS was attempted, each once, with its scan (None: not scanned)."""
    disc = discovery_of(ctx)
    scans = ctx.facts.tls_scan or {}
    seen: set[tuple[str, int]] = set()
    for p in sorted(probes_of(ctx).values(), key=lambda p: (p.address, p.port, p.service)):
        if (p.address, p.port) in seen or expected_role(disc, p) is None:
            continue
        if p.state is not PortState.OPEN or p.tls is None:
            continue  # no TLS here: the STARTTLS and MAILBOX-TLS rules say so
        seen.add((p.address, p.port))
        yield p, scans.get((p.address, p.port))


def scan_evidence(scan: TlsScan) -> list[str]:
    """The scan as a few evidence lines: versions, suites with their class, groups, key, OCSP."""
    lines = [f"{scan.endpoint} {scan.service}: TLS scan, {scan.connections} connections, {scan.duration_s:.2f} s"]
    lines.append("versions: " + (", ".join(f"{v} ({version_verdict(v).klass})" for v in scan.versions) or "-"))
    for version in reversed(scan.versions):
        offers = scan.suites_for(version)
        if offers:
            lines.append(f"{version}: " + ", ".join(_suite_text(s) for s in offers))
    if scan.groups:
        lines.append("groups: " + ", ".join(f"{g} ({group_verdict(g).klass})" for g in scan.groups))
    if scan.dh_bits:
        lines.append("DH: " + ", ".join(f"{b} bits" for b in scan.dh_bits))
    if scan.key_type:
        lines.append(f"certificate key: {key_text(scan)}, signature {scan.signature_algorithm or '-'}")
    lines.append("OCSP stapling: " + {True: "yes", False: "no", None: "not visible (TLS 1.3 only)"}[scan.ocsp_stapling])
    if scan.error:
        lines.append(f"scan stopped: {scan.error}")
    return lines


def _suite_text(s: SuiteOffer) -> str:
    v = suite_verdict(s.name)
    flags = [v.klass] + ([] if s.forward_secrecy else ["no FS"]) + (["BSI"] if v.bsi else [])
    return f"{s.name} ({', '.join(flags)})"


def key_text(scan: TlsScan) -> str:
    curve = f" {scan.key_curve}" if scan.key_curve else ""
    return f"{scan.key_type} {scan.key_bits or '?'}{curve}"


def postfix_evidence(ctx: CheckContext, p: EndpointProbe) -> list[str]:
    cfg = ctx.facts.postfix
    if not isinstance(cfg, PostfixConfig) or p.service not in ("smtp", "submission", "submissions"):
        return []
    return ["Postfix configuration (main.cf): " + cfg.get(name).cite() for name in POSTFIX_CIPHER_PARAMS]


def untested(ctx: CheckContext, p: EndpointProbe, scan: TlsScan | None, evidence: list[str],
             *why: str, **params: object) -> Finding:
    """``not_tested`` with the first reason given (the question's own, e.g. ``scan.kex_error``), else the scan's."""
    problem = next((w for w in why if w), "") or (scan.error if scan is not None and scan.error else "-")
    return ctx.not_tested(p.endpoint, Reason("reason.dialogue", {"endpoint": p.endpoint, "problem": problem}),
                          evidence, **params)


def _params(p: EndpointProbe, **more: object) -> dict[str, object]:
    return {"endpoint": p.endpoint, "service": p.service, **more}


#: Versions as the report's table prints them.
SHORT_VERSION = {"SSLv2": "SSL 2", "SSLv3": "SSL 3", "TLSv1": "1.0", "TLSv1.1": "1.1", "TLSv1.2": "1.2",
                 "TLSv1.3": "1.3"}


def table_params(scan: TlsScan | None) -> dict[str, str]:
    """The scan in one row (the report's compact table per endpoint reads these from TLS-WEAK-CIPHER)."""
    if scan is None or not scan.versions:
        return {}
    classes = [suite_verdict(s.name).klass for s in scan.suites]
    fs = [s.forward_secrecy for s in scan.suites]
    return {
        "scan_versions": ", ".join(SHORT_VERSION.get(v, v) for v in scan.versions),
        "scan_best": min(classes, key=CLASSES.index) if classes else "",
        "scan_worst": worst(*classes) if classes else "",
        "scan_fs": "all" if fs and all(fs) else "none" if not any(fs) else "partly",
        "scan_key": (key_text(scan) + (f", {scan.signature_hash}" if scan.signature_hash else "")
                     if scan.key_type else ""),
        "scan_ocsp": {True: "yes", False: "no", None: ""}[scan.ocsp_stapling],
        "scan_complete": "yes" if _usable(scan) else "no",
    }


def _usable(scan: TlsScan | None) -> bool:
    """The suites were enumerated to the end: a verdict about them is honest."""
    return scan is not None and scan.suites_complete and not scan.timed_out and bool(scan.versions)


@check("TLS-WEAK-CIPHER", needs=SCAN_NEEDS)
def tls_weak_cipher(ctx: CheckContext) -> Iterator[Finding]:
    for p, scan in scanned_endpoints(ctx):
        ev = (scan_evidence(scan) if scan else []) + postfix_evidence(ctx, p)
        row = table_params(scan)
        if not _usable(scan):
            yield untested(ctx, p, scan, ev, **row)
            continue
        assert scan is not None
        by_class: dict[str, list[str]] = {}
        for s in scan.suites:
            by_class.setdefault(suite_verdict(s.name).klass, []).append(f"{s.name} ({s.version})")
        role = "client" if is_client(p) else "mx"
        if by_class.get("insufficient"):
            yield ctx.fail(p.endpoint, f"insufficient_{role}", ev,
                           **_params(p, suites=", ".join(by_class["insufficient"][:8]),
                                     count=len(by_class["insufficient"]), **row))
        elif by_class.get("phase_out"):
            yield ctx.fail(p.endpoint, f"phase_out_{role}", ev,
                           **_params(p, suites=", ".join(by_class["phase_out"][:8]), count=len(by_class["phase_out"]),
                                     **row))
        else:
            worst_class = worst(*by_class) if by_class else "good"
            yield ctx.passed(p.endpoint, ev, **_params(p, count=len(scan.suites), worst=worst_class, **row))


@check("TLS-NO-FORWARD-SECRECY", needs=SCAN_NEEDS)
def tls_no_forward_secrecy(ctx: CheckContext) -> Iterator[Finding]:
    for p, scan in scanned_endpoints(ctx):
        ev = (scan_evidence(scan) if scan else []) + postfix_evidence(ctx, p)
        if not _usable(scan):
            yield untested(ctx, p, scan, ev)
            continue
        assert scan is not None
        without = [f"{s.name} ({s.version})" for s in scan.suites if not s.forward_secrecy]
        role = "client" if is_client(p) else "mx"
        if without and len(without) == len(scan.suites):
            yield ctx.fail(p.endpoint, f"none_{role}", ev, **_params(p, suites=", ".join(without[:8]),
                                                                    count=len(without)))
        elif without:
            yield ctx.fail(p.endpoint, f"partial_{role}", ev, **_params(p, suites=", ".join(without[:8]),
                                                                       count=len(without)))
        else:
            yield ctx.passed(p.endpoint, ev, **_params(p, count=len(scan.suites)))


def key_problems(scan: TlsScan) -> dict[str, list[str]]:
    """What is weak about the certificate key, its signature hash and the DH parameters, by class."""
    found: dict[str, list[str]] = {}
    key = key_verdict(scan.key_type, scan.key_bits)
    found.setdefault(key.klass, []).append(f"key {key_text(scan)}")
    if scan.signature_hash:
        sig = signature_hash_verdict(scan.signature_hash)
        found.setdefault(sig.klass, []).append(f"signature {scan.signature_algorithm or scan.signature_hash}")
    for bits in scan.dh_bits:
        dh = key_verdict("DH", bits)
        found.setdefault(dh.klass, []).append(f"DH {bits} bits")
    # A group is the client's choice among those offered: ffdhe2048 as OpenSSL's last fallback beside
    # x25519 costs no client anything. Weak groups count only when the server offers nothing better.
    if scan.groups and not any(group_verdict(g).klass in ("good", "sufficient") for g in scan.groups):
        for group in scan.groups:
            g = group_verdict(group)
            found.setdefault(g.klass, []).append(f"group {group}")
    return found


@check("TLS-WEAK-KEY", needs=SCAN_NEEDS)
def tls_weak_key(ctx: CheckContext) -> Iterator[Finding]:
    for p, scan in scanned_endpoints(ctx):
        ev = (scan_evidence(scan) if scan else []) + postfix_evidence(ctx, p)
        if scan is None or (not scan.key_type and (scan.error or scan.timed_out)):
            yield untested(ctx, p, scan, ev)
            continue
        if not scan.key_type:
            yield ctx.not_applicable(p.endpoint, ev, **_params(p))
            continue
        found = key_problems(scan)
        role = "client" if is_client(p) else "mx"
        if found.get("insufficient"):
            yield ctx.fail(p.endpoint, f"weak_{role}", ev, **_params(p, problems=", ".join(found["insufficient"])))
        elif found.get("phase_out"):
            yield ctx.fail(p.endpoint, f"phase_out_{role}", ev, **_params(p, problems=", ".join(found["phase_out"])))
        else:
            yield ctx.passed(p.endpoint, ev, **_params(p, key=key_text(scan),
                                                       signature=scan.signature_algorithm or "-"))


# -- what one extra hello shows: compression, secure renegotiation, extended master secret --------------


def extras_evidence(scan: TlsScan) -> list[str]:
    """The extra hello's findings as one evidence line."""
    def said(value: bool | None, yes: str, no: str) -> str:
        return "not determined" if value is None else yes if value else no

    return [f"{scan.endpoint}: extra hello (compression offered, renegotiation SCSV, extended_master_secret): "
            f"compression {said(scan.compression, 'DEFLATE chosen', 'none')}, "
            f"secure renegotiation {said(scan.secure_renegotiation, 'yes', 'no')}, "
            f"extended master secret {said(scan.extended_master_secret, 'yes', 'no')}"
            + (f" ({scan.extras_error})" if scan.extras_error else "")]


def _extras_check(ctx: CheckContext, fact: str, bad: bool, outcome: str) -> Iterator[Finding]:
    """Pass, fail (``outcome``_client / _mx when the fact equals ``bad``), not_applicable (TLS 1.3 only), not_tested."""
    for p, scan in scanned_endpoints(ctx):
        if scan is None:
            yield untested(ctx, p, scan, postfix_evidence(ctx, p))
            continue
        ev = scan_evidence(scan) + extras_evidence(scan) + postfix_evidence(ctx, p)
        value = getattr(scan, fact)
        if value is None and scan.versions and all(v == "TLSv1.3" for v in scan.versions):
            yield ctx.not_applicable(p.endpoint, ev, outcome="tls13_only", **_params(p))
        elif value is None:
            yield untested(ctx, p, scan, ev, scan.error, scan.extras_error)
        elif value is bad:
            yield ctx.fail(p.endpoint, f"{outcome}_{'client' if is_client(p) else 'mx'}", ev, **_params(p))
        else:
            yield ctx.passed(p.endpoint, ev, **_params(p))


@check("TLS-COMPRESSION", needs=SCAN_NEEDS)
def tls_compression(ctx: CheckContext) -> Iterator[Finding]:
    yield from _extras_check(ctx, "compression", True, "compressed")


@check("TLS-NO-SECURE-RENEGOTIATION", needs=SCAN_NEEDS)
def tls_no_secure_renegotiation(ctx: CheckContext) -> Iterator[Finding]:
    yield from _extras_check(ctx, "secure_renegotiation", False, "missing")


@check("TLS-NO-EXTENDED-MASTER-SECRET", needs=SCAN_NEEDS)
def tls_no_extended_master_secret(ctx: CheckContext) -> Iterator[Finding]:
    yield from _extras_check(ctx, "extended_master_secret", False, "missing")


# -- two more hellos: the server's cipher order, the hash that signs the key exchange ---------------------


def _tls13_only(scan: TlsScan) -> bool:
    return bool(scan.versions) and all(v == "TLSv1.3" for v in scan.versions)


def order_evidence(scan: TlsScan) -> list[str]:
    if scan.order_choices:
        first, reverse = scan.order_choices
        said = (f"chose {first} from the suites in table order and {reverse} from the same list reversed"
                + (" (its own order)" if first == reverse else " (the client's order)"))
    else:
        said = f"not determined ({scan.order_error or scan.error or '-'})"
    lines = [f"{scan.endpoint}: cipher order ({scan.order_version or '-'}): {said}"]
    if scan.class_choices:
        lines.append(f"{scan.endpoint}: per class, offered with every lower class (lower first): "
                     + "; ".join(f"{k}: {c or 'none accepted'}" for k, c in scan.class_choices))
    return lines


def _below_tls13(ctx: CheckContext, p: EndpointProbe, scan: TlsScan | None,
                 evidence: Callable[[TlsScan], list[str]]) -> tuple[Finding | None, list[str]]:
    """The evidence of a TLS ≤ 1.2 property, or the result when there is none to judge.

    Not scanned or unusable is ``not_tested``; a TLS 1.3-only endpoint is ``tls13_only``
    (the property belongs to older versions).
    """
    if scan is None:
        return untested(ctx, p, scan, postfix_evidence(ctx, p)), []
    ev = scan_evidence(scan) + evidence(scan) + postfix_evidence(ctx, p)
    if _tls13_only(scan):
        return ctx.not_applicable(p.endpoint, ev, outcome="tls13_only", **_params(p)), ev
    if not _usable(scan):
        return untested(ctx, p, scan, ev), ev
    return None, ev


@check("TLS-CIPHER-ORDER", needs=SCAN_NEEDS)
def tls_cipher_order(ctx: CheckContext) -> Iterator[Finding]:
    """internet.nl "Cipher order" (NCSC-NL 2.1 B4): the server enforces its order, stronger classes first."""
    for p, scan in scanned_endpoints(ctx):
        early, ev = _below_tls13(ctx, p, scan, order_evidence)
        if early is not None:
            yield early
            continue
        offers = scan.suites_for(scan.order_version) if scan.order_version else ()
        classes = {suite_verdict(s.name).klass for s in offers}
        role = "client" if is_client(p) else "mx"
        if len(classes) <= 1 and scan.order_version:
            yield ctx.passed(p.endpoint, ev, **_params(p, version=scan.order_version, how="one_class"))
        elif not scan.order_choices:
            yield untested(ctx, p, scan, ev, scan.order_error)
        elif scan.order_choices[0] != scan.order_choices[1]:
            yield ctx.fail(p.endpoint, f"client_order_{role}", ev,
                           **_params(p, version=scan.order_version, first=scan.order_choices[0],
                                     reverse=scan.order_choices[1]))
        else:
            best = min(classes, key=CLASSES.index)
            chosen = scan.order_choices[0]
            ranked = _class_inversion(scan, classes)
            if suite_verdict(chosen).klass != best:
                yield ctx.fail(p.endpoint, f"weak_first_{role}", ev,
                               **_params(p, version=scan.order_version, chosen=chosen,
                                         klass=suite_verdict(chosen).klass, best=best))
            elif ranked is not None:
                better, lower = ranked
                yield ctx.fail(p.endpoint, f"class_order_{role}", ev,
                               **_params(p, version=scan.order_version, chosen=lower,
                                         klass=suite_verdict(lower).klass, better=better))
            else:
                yield ctx.passed(p.endpoint, ev, **_params(p, version=scan.order_version, how=chosen))


def _class_inversion(scan: TlsScan, accepted: set[str]) -> tuple[str, str] | None:
    """(class, weaker suite) where the server, offered a class and the lower ones, chose a lower one
    although it accepts suites of that class; None when its order follows the classes."""
    for klass, chosen in scan.class_choices:
        if klass in accepted and chosen and CLASSES.index(suite_verdict(chosen).klass) > CLASSES.index(klass):
            return klass, chosen
    return None


def kex_evidence(scan: TlsScan) -> list[str]:
    said = {True: "SHA-2", False: "not SHA-2", None: "not determined"}[scan.kex_sha2]
    return [f"{scan.endpoint}: key-exchange signature (TLS 1.2 hello, (EC)DHE suites, SHA-2 schemes only): {said}"
            + (f", scheme {scan.kex_signature}" if scan.kex_signature else "")
            + (f"; with the scan's list (SHA-1 included): {scan.kex_signature_default}"
               if scan.kex_signature_default else "")
            + (f" ({scan.kex_error})" if scan.kex_error else "")]


@check("TLS-KEX-HASH", needs=SCAN_NEEDS)
def tls_kex_hash(ctx: CheckContext) -> Iterator[Finding]:
    """internet.nl "Hash function for key exchange" (RFC 9155): the server signs (EC)DHE with SHA-2."""
    for p, scan in scanned_endpoints(ctx):
        early, ev = _below_tls13(ctx, p, scan, kex_evidence)
        if early is not None:
            yield early
            continue
        if not any(s.version != "TLSv1.3" and s.name.startswith(("TLS_ECDHE_", "TLS_DHE_")) for s in scan.suites):
            yield ctx.not_applicable(p.endpoint, ev, outcome="no_ecdhe", **_params(p))
        elif scan.kex_sha2 is None:
            yield untested(ctx, p, scan, ev, scan.kex_error)
        elif scan.kex_sha2:
            yield ctx.passed(p.endpoint, ev, **_params(p, scheme=scan.kex_signature))
        else:
            yield ctx.fail(p.endpoint, f"sha1_{'client' if is_client(p) else 'mx'}", ev,
                           **_params(p, scheme=scan.kex_signature or scan.kex_signature_default or "-"))


# -- two questions after a finished handshake (collectors/tls_session.py) ---------------------------------


def session_evidence(scan: TlsScan) -> list[str]:
    def said(value: bool | None, yes: str, no: str, detail: str) -> str:
        word = "not determined" if value is None else yes if value else no
        return f"{word} ({detail})" if detail else word

    return [f"{scan.endpoint}: client-initiated renegotiation in a TLS 1.2 session: "
            + said(scan.client_renegotiation, "allowed", "refused", scan.renegotiation_detail),
            f"{scan.endpoint}: 0-RTT (TLS 1.3 session tickets): "
            + said(scan.zero_rtt, "early data accepted", "no early data", scan.zero_rtt_detail)]


@check("TLS-CLIENT-RENEGOTIATION", needs=SCAN_NEEDS)
def tls_client_renegotiation(ctx: CheckContext) -> Iterator[Finding]:
    """internet.nl "Client-initiated renegotiation" (NCSC-NL 2.1 B8-1): the server refuses it."""
    for p, scan in scanned_endpoints(ctx):
        early, ev = _below_tls13(ctx, p, scan, session_evidence)
        if early is not None:
            yield early
        elif scan.client_renegotiation is None:
            yield untested(ctx, p, scan, ev, scan.renegotiation_detail)
        elif scan.client_renegotiation:
            yield ctx.fail(p.endpoint, "allowed", ev, **_params(p))
        else:
            yield ctx.passed(p.endpoint, ev, **_params(p))


@check("TLS-ZERO-RTT", needs=SCAN_NEEDS)
def tls_zero_rtt(ctx: CheckContext) -> Iterator[Finding]:
    """internet.nl "0-RTT" (RFC 8446 §8): no session ticket lets a client send replayable early data."""
    for p, scan in scanned_endpoints(ctx):
        if scan is None:
            yield untested(ctx, p, scan, postfix_evidence(ctx, p))
            continue
        ev = scan_evidence(scan) + session_evidence(scan) + postfix_evidence(ctx, p)
        if scan.versions and "TLSv1.3" not in scan.versions and _usable(scan):
            yield ctx.not_applicable(p.endpoint, ev, outcome="no_tls13", **_params(p))
        elif scan.zero_rtt is None:
            yield untested(ctx, p, scan, ev, scan.zero_rtt_detail)
        elif scan.zero_rtt:
            yield ctx.fail(p.endpoint, f"accepted_{'client' if is_client(p) else 'mx'}", ev,
                           **_params(p, size=str(scan.max_early_data)))
        else:
            yield ctx.passed(p.endpoint, ev, **_params(p))
