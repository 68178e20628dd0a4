"""TLS scan of every mail endpoint: versions, cipher suites, groups, certificate key, OCSP stapling.

Why not sslyze (issue 16): sslyze 6.3.1, the newest release, pins ``cryptography>=43,<47``; this
project pins cryptography 51.0.1, and the releases before 50 carry the high-severity
CVE-2026-69247 (sslyze issues #726, #728, still open). Installing sslyze would mean shipping a
cryptography with a known hole in every bundle, so it is not used. nassl alone (sslyze's engine)
would bring statically linked OpenSSL 1.0.2 and 1.1.1 builds, both past their end of life, into
the bundle just to *offer* what a server accepts.

What the scan needs is only the server's answer to a ClientHello, so it speaks the first flight
of the handshake itself, as testssl.sh does in its socket mode: a ClientHello for one version
and a list of suites, and the ServerHello (and, up to TLS 1.2, the clear-text Certificate,
CertificateStatus and ServerKeyExchange) that comes back. No key is ever computed and no
session established; the connection is closed after the server's first flight. That covers
SSLv2 and SSLv3 too, which the local OpenSSL cannot speak any more. The dialogue checks keep
using the probe (collectors/probes); this module does not replace it.

Suites are enumerated per version by elimination (offer all, remove the one the server picked,
repeat), in four parallel chains (forward secret or not, AEAD or not), every version asked at once
and at most ``ENDPOINT_CONNECTIONS`` connections open per endpoint: 30-31 connections for the lab's
Postfixes; bench/bench_transport.py measures probes and scan together against the probes alone
with 20 ms round trips. Every
network wait is bounded by the run's timeout and the whole endpoint by the same budget as a
probe (``PROBE_BUDGET_FACTOR`` timeouts); what ran out of time is ``timed_out``.
One more hello per endpoint, beside the enumeration, offers compression [DEFLATE, null] with the
renegotiation SCSV and extended_master_secret at the newest version up to TLS 1.2: its ServerHello
decides compression (CRIME), secure renegotiation (RFC 5746) and the extended master secret (RFC 7627).
Two more, also beside the enumeration (internet.nl's "Cipher order" and "Hash function for key
exchange"): the first version hello's suite list reversed, at the same version as the extra hello
(the server that picks the same suite both times enforces its own order); and a TLS 1.2 hello with
only (EC)DHE suites and only SHA-2 signature schemes, whose ServerKeyExchange shows the scheme the
server signs the key exchange with (RFC 9155).
Two questions need a finished handshake (internet.nl's "Client-initiated renegotiation" and
"0-RTT"): collectors/tls_session.py asks them on one connection each, beside the enumeration.
Only endpoints the network guard lets the probes touch are scanned (collectors/netguard.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from auditapp.collectors import pacing
from auditapp.collectors.netguard import blocked
from auditapp.collectors.probes.session import PROBE_BUDGET_FACTOR
from auditapp.collectors.service_facts import IMPLICIT_TLS, SERVICES, Discovery
from auditapp.collectors.services import sni_for, typed_addresses
from auditapp.collectors.tls_connection import (
    ConnectFailed,
    Endpoint,
    NoStarttls,
    hello,
    tls13_chain,
)
from auditapp.collectors.tls_session import EarlyData, Renegotiation, client_renegotiation, zero_rtt
from auditapp.collectors.tls_wire import (
    EC_GROUPS,
    GROUPS,
    SHA2_SIGALGS,
    STARTTLS,
    TLS13_EXTRA_GROUPS,
    VERSIONS,
    Answer,
    sigalg_is_sha2,
    sigalg_name,
)
from auditapp.core.problem import Problem
from auditapp.core.target import AuditTarget
from auditapp.data.tls_ciphers import CLASSES, suite_codes, suite_verdict

#: The most elimination rounds per chunk: a bound, not a limit any real server reaches.
_MAX_ROUNDS = 64
#: Groups asked one by one (TLS 1.3): x25519, P-256, P-384, P-521, x448, ffdhe2048/3072, the hybrid
#: X25519MLKEM768 and brainpoolP256r1 (BSI). The rest a server would only offer beside these, and
#: every question is a connection (the speed budget of issue 16).
_PROBED_GROUPS = (0x001D, 0x0017, 0x0018, 0x0019, 0x001E, 0x0100, 0x0101, 0x11EC, 0x001F)

TLS_HANDSHAKE = Problem("problem.step.tls_handshake", "TLS handshake")


@dataclass(frozen=True)
class SuiteOffer:
    """One cipher suite a server accepted for one version."""

    version: str
    name: str  # IANA name, or "0xNNNN" for a code our table does not know
    forward_secrecy: bool
    #: DH prime size or EC group the server chose with this suite, where the handshake showed it.
    kx_detail: str = ""


@dataclass(frozen=True)
class TlsScan:
    """What the TLS scan of one (address, port) found."""

    address: str
    port: int
    service: str
    #: Versions the server accepted (VERSIONS order) and those that could be asked at all.
    versions: tuple[str, ...] = ()
    versions_tested: tuple[str, ...] = ()
    suites: tuple[SuiteOffer, ...] = ()
    #: Whether every accepted version's suites were enumerated to the end.
    suites_complete: bool = False
    #: Key-exchange groups the server accepted (TLS 1.3, else TLS 1.2 ECDHE), and finite-field DH sizes seen.
    groups: tuple[str, ...] = ()
    dh_bits: tuple[int, ...] = ()
    key_type: str = ""  # RSA, EC, Ed25519, Ed448, DSA
    key_bits: int | None = None
    key_curve: str = ""
    signature_algorithm: str = ""  # e.g. sha256WithRSAEncryption
    signature_hash: str = ""  # sha256, sha1, ed25519 ...
    #: True: a stapled OCSP response came; False: asked and none came; None: could not be seen (TLS 1.3 only).
    ocsp_stapling: bool | None = None
    #: The certificate chain as sent, DER, leaf first (DANE checks match DANE-TA records against it).
    certificate_chain: tuple[bytes, ...] = ()
    #: From the ServerHello to one extra hello (the newest version up to TLS 1.2, compression offered,
    #: the renegotiation SCSV and the extended_master_secret extension): the server chose DEFLATE
    #: (CRIME), answered with renegotiation_info (RFC 5746), echoed extended_master_secret (RFC 7627).
    #: None: not determined (no TLS up to 1.2, or no ServerHello came: ``extras_error`` says why).
    compression: bool | None = None
    secure_renegotiation: bool | None = None
    extended_master_secret: bool | None = None
    extras_error: str = ""
    #: Cipher order (the extra hello's version): the suite the server chose from all suites in table
    #: order, and from the same list reversed. Equal with two or more suites accepted: the server
    #: enforces its own order. Empty: not determined (``order_error`` says why).
    order_version: str = ""
    order_choices: tuple[str, ...] = ()
    order_error: str = ""
    #: Per class of the table (good, sufficient, phase out): the server's choice from that class's suites
    #: and every lower class's, offered lower first ("" when it accepted none); see ``_class_order``.
    class_choices: tuple[tuple[str, str], ...] = ()
    #: Key-exchange signature (TLS 1.2, (EC)DHE): True: a hello offering only SHA-2 signature schemes
    #: got a ServerKeyExchange signed with SHA-2 (``kex_signature`` names the scheme); False: the server
    #: refused it (or signed with SHA-1 anyway) though it accepts (EC)DHE with the scan's SHA-1-including
    #: list (``kex_signature_default`` is the scheme it chose then), or it has (EC)DHE only up to TLS 1.1,
    #: which signs with MD5+SHA-1. None: not determined or no (EC)DHE (``kex_error``).
    kex_sha2: bool | None = None
    kex_signature: str = ""
    kex_signature_default: str = ""
    kex_error: str = ""
    #: Client-initiated renegotiation (a TLS 1.2 session, then a new ClientHello in it; tls_session.py):
    #: True: the server renegotiated; False: it refused; None: not determined or no TLS 1.2
    #: (``renegotiation_detail`` says which).
    client_renegotiation: bool | None = None
    renegotiation_detail: str = ""
    #: 0-RTT (TLS 1.3): True: a session ticket allowed early data (``max_early_data`` bytes); False: no
    #: ticket allowed it; None: not determined or no TLS 1.3 (``zero_rtt_detail``).
    zero_rtt: bool | None = None
    max_early_data: int = 0
    zero_rtt_detail: str = ""
    error: str = ""
    timed_out: bool = False
    duration_s: float = 0.0
    #: Connections the scan opened (the politeness budget, for the report's method section).
    connections: int = 0

    @property
    def endpoint(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"

    @property
    def complete(self) -> bool:
        return not self.error and not self.timed_out

    def suites_for(self, version: str) -> tuple[SuiteOffer, ...]:
        return tuple(s for s in self.suites if s.version == version)


# -- one endpoint ------------------------------------------------------------------------------------


def _chain(name: str) -> tuple[bool, bool]:
    """Which elimination chain a suite joins: (forward secret, AEAD).

    Four chains per version: a server with many suites is not enumerated one after the other,
    and one without a kind costs one refused hello, not one per key-exchange family (eight chains
    cost 39 connections on the weak lab Postfix, four cost 31, and 20 % less time).
    """
    return name.startswith(("TLS_ECDHE_", "TLS_DHE_")), any(x in name for x in ("GCM", "CCM", "CHACHA"))


def _offer(code: int, version: str, answer: Answer) -> SuiteOffer:
    name = suite_codes().get(code)
    detail = answer.group or (f"DH {answer.dh_bits}" if answer.dh_bits else "")
    if name is None:
        return SuiteOffer(version, f"0x{code:04X}", False, detail)
    return SuiteOffer(version, name, suite_verdict(name).forward_secrecy, detail)


class _Builder:
    def __init__(self) -> None:
        self.versions: set[str] = set()
        self.tested: set[str] = set()
        self.suites: list[SuiteOffer] = []
        self.suites_complete = False
        self.groups: set[str] = set()
        self.dh_bits: set[int] = set()
        self.chain: tuple[bytes, ...] = ()
        self.chain_version = ""
        self.ocsp: bool | None = None
        self.compression: bool | None = None
        self.secure_renegotiation: bool | None = None
        self.extended_master_secret: bool | None = None
        self.extras_error = ""
        self.order_version = ""
        self.order_choices: tuple[str, ...] = ()
        self.order_error = ""
        self.class_choices: tuple[tuple[str, str], ...] = ()
        self.kex_answer: Answer | None = None
        self.kex_default = ""
        self.renegotiation: Renegotiation | None = None
        self.early_data: EarlyData | None = None

    def learn(self, version: str, answer: Answer) -> None:
        if answer.kex_sigalg is not None and version == "TLSv1.2" and not self.kex_default:
            self.kex_default = sigalg_name(answer.kex_sigalg)
        if answer.chain and (not self.chain or VERSIONS.index(version) > VERSIONS.index(self.chain_version)):
            self.chain, self.chain_version, self.ocsp = answer.chain, version, answer.ocsp
        if answer.dh_bits:
            self.dh_bits.add(answer.dh_bits)


def _candidates(version: str) -> list[int]:
    """The table's suites that ``version`` can negotiate (no AEAD or SHA-2 MACs before TLS 1.2)."""
    codes = suite_codes()
    tls13 = version == "TLSv1.3"
    candidates = [c for c in codes if (c >> 8 == 0x13) == tls13]
    if version in ("SSLv3", "TLSv1", "TLSv1.1"):
        candidates = [c for c in candidates if not any(x in codes[c] for x in ("GCM", "CCM", "CHACHA", "SHA256",
                                                                                "SHA384"))]
    return candidates


async def _enumerate(ep: Endpoint, version: str, first: Answer, b: _Builder) -> None:
    """Every suite ``version`` accepts, by elimination, one family of key exchange at a time in parallel."""
    codes = suite_codes()
    tls13 = version == "TLSv1.3"
    candidates = _candidates(version)
    found: dict[int, SuiteOffer] = {}
    if first.suite is not None:
        found[first.suite] = _offer(first.suite, version, first)

    async def family(members: list[int]) -> None:
        left = [c for c in members if c not in found]
        for _ in range(_MAX_ROUNDS):
            if not left:
                return
            answer = await hello(ep, version, left)
            if not answer.accepted or answer.version != version or answer.suite not in left:
                return
            found[answer.suite] = _offer(answer.suite, version, answer)
            b.learn(version, answer)
            left.remove(answer.suite)

    if tls13:
        await family(candidates)
    else:
        # Elimination per chain (forward secret or not x AEAD or not), the chains in parallel: a chain
        # the server lacks costs one connection, and the sequential depth is the most suites one
        # chain accepts.
        groups: dict[tuple[bool, bool], list[int]] = {}
        for c in candidates:
            groups.setdefault(_chain(codes[c]), []).append(c)
        await asyncio.gather(*(family(m) for m in groups.values()))
    b.suites += [found[c] for c in codes if c in found] + [o for c, o in found.items() if c not in codes]


async def _groups(ep: Endpoint, b: _Builder) -> None:
    """Which key-exchange groups the server accepts: per group a TLS 1.3 hello, else a TLS 1.2 ECDHE hello."""
    codes = suite_codes()
    if "TLSv1.3" in b.versions:
        tls13 = [c for c in codes if c >> 8 == 0x13]
        asked = list(_PROBED_GROUPS)
        answers = await asyncio.gather(*(hello(ep, "TLSv1.3", tls13, groups=(g,), ocsp=False) for g in asked))
        for g, a in zip(asked, answers, strict=True):
            if a.accepted and a.version == "TLSv1.3":
                b.groups.add(GROUPS.get(g) or TLS13_EXTRA_GROUPS[g])
    elif "TLSv1.2" in b.versions:
        ecdhe = [c for c, n in codes.items() if n.startswith("TLS_ECDHE_")]
        answers = await asyncio.gather(*(hello(ep, "TLSv1.2", ecdhe, groups=(g,), ocsp=False) for g in EC_GROUPS))
        for g, a in zip(EC_GROUPS, answers, strict=True):
            if a.accepted and a.version == "TLSv1.2" and a.suite in ecdhe:
                b.groups.add(GROUPS[g])


#: The versions the extra hello may use, newest first (TLS 1.3 has neither compression nor renegotiation,
#: and its key schedule always binds the handshake: RFC 8446 §1.2).
_EXTRAS_VERSIONS = ("TLSv1.2", "TLSv1.1", "TLSv1")


async def _extras(ep: Endpoint, version: str, b: _Builder) -> None:
    """Compression, secure renegotiation and EMS from the ServerHello to one more hello of ``version``.

    The hello offers compression methods [DEFLATE, null], the renegotiation SCSV and the
    extended_master_secret extension (client_hello); the server's choice and its extensions decide.
    """
    answer = await hello(ep, version, [c for c in suite_codes() if c >> 8 != 0x13], ocsp=False, compression=True)
    if not (answer.accepted and answer.version == version):
        how = ("no answer" if answer.silent else f"alert {answer.alert}" if answer.alert is not None
               else "no ServerHello")
        b.extras_error = Problem("problem.tls_failed", "TLS handshake failed: {reason}",
                                 reason=f"{version} hello with compression offered: {how}")
        return
    b.compression = answer.compression not in (None, 0)
    b.secure_renegotiation = 0xFF01 in answer.extensions
    b.extended_master_secret = 0x0017 in answer.extensions


def _failed(version: str, what: str, answer: Answer) -> str:
    how = ("no answer" if answer.silent else f"alert {answer.alert}" if answer.alert is not None
           else "no ServerHello")
    return Problem("problem.tls_failed", "TLS handshake failed: {reason}", reason=f"{version} {what}: {how}")


def _name(code: int | None) -> str:
    return suite_codes().get(code, f"0x{code:04X}") if code is not None else ""


async def _order(ep: Endpoint, version: str, first: Answer, b: _Builder) -> None:
    """Cipher order: the first hello's suites (table order) once more, reversed; the server's two choices.

    A server that enforces its preference picks the same suite both times; one that follows the
    client picks the first suite it accepts from each list (different ones if it accepts two or more).
    """
    b.order_version = version
    forward = [c for c in suite_codes() if c >> 8 != 0x13]
    answer = await hello(ep, version, list(reversed(forward)), ocsp=False)
    if not (answer.accepted and answer.version == version and first.accepted and first.version == version):
        b.order_error = _failed(version, "hello with the suites in reversed order", answer)
        return
    b.order_choices = (_name(first.suite), _name(answer.suite))


async def _class_order(ep: Endpoint, version: str, b: _Builder) -> None:
    """Per accepted class below the best: a hello with its suites and those of the lower classes, lower first.

    A server that enforces its order answers with its own first choice among them; a suite of a
    lower class means it ranks a weaker class above a stronger one (NCSC-NL 2.1 B2-5, internet.nl's
    "prescribed order"). The best class needs no hello (the first version hello offered everything:
    TLS-CIPHER-ORDER's "weak first"), so this runs only after the enumeration, and only for a server
    that accepts three classes or more: none of the lab's Postfixes does, and it costs them nothing.
    """
    codes = suite_codes()
    offers = [s for s in b.suites if s.version == version]
    accepted = sorted({suite_verdict(s.name).klass for s in offers}, key=CLASSES.index)
    if len(accepted) < 3:
        return
    by_class: dict[str, list[int]] = {}
    for c in _candidates(version):
        by_class.setdefault(suite_verdict(codes[c]).klass, []).append(c)
    asked = []
    for klass in accepted[1:-1]:
        lower = [c for k in CLASSES[CLASSES.index(klass) + 1:] for c in by_class.get(k, [])]
        asked.append((klass, lower + by_class.get(klass, [])))
    answers = await asyncio.gather(*(hello(ep, version, offered, ocsp=False) for _k, offered in asked))
    b.class_choices = tuple((klass, _name(a.suite) if a.accepted and a.version == version else "")
                            for (klass, _o), a in zip(asked, answers, strict=True))


def _is_ecdhe_or_dhe(name: str) -> bool:
    return name.startswith(("TLS_ECDHE_", "TLS_DHE_"))


async def _kex_hash(ep: Endpoint, b: _Builder) -> None:
    """One TLS 1.2 hello with only (EC)DHE suites and only SHA-2 signature schemes (RFC 9155)."""
    kex = [c for c, n in suite_codes().items() if c >> 8 != 0x13 and _is_ecdhe_or_dhe(n)]
    b.kex_answer = await hello(ep, "TLSv1.2", kex, ocsp=False, sigalgs=SHA2_SIGALGS)


def _kex_verdict(b: _Builder) -> tuple[bool | None, str, str]:
    """(kex_sha2, kex_signature, kex_error) from the SHA-2-only hello and what the enumeration found."""
    dhe = {s.version for s in b.suites if _is_ecdhe_or_dhe(s.name) and s.version != "TLSv1.3"}
    if not dhe:
        return None, "", "no (EC)DHE suite up to TLS 1.2"
    if "TLSv1.2" not in dhe:
        return False, "md5_sha1 (TLS 1.0/1.1)", ""  # before TLS 1.2 the signature is MD5+SHA-1 (RFC 4346 §7.4.3)
    answer = b.kex_answer
    if answer is None:
        return None, "", ""
    if not (answer.accepted and answer.version == "TLSv1.2"):
        if answer.silent:
            return None, "", _failed("TLSv1.2", "hello with SHA-2 signature schemes only", answer)
        return False, "", ""  # (EC)DHE works with the scan's list (which has SHA-1), not with SHA-2 alone
    if answer.kex_sigalg is None:
        return None, "", Problem("problem.tls_failed", "TLS handshake failed: {reason}",
                                 reason="TLSv1.2 hello with SHA-2 signature schemes only: no ServerKeyExchange")
    return sigalg_is_sha2(answer.kex_sigalg), sigalg_name(answer.kex_sigalg), ""


async def _sessions(ep: Endpoint, b: _Builder) -> None:
    """The two questions that need a finished handshake (tls_session.py), beside the enumeration."""
    async def renegotiation() -> None:
        if "TLSv1.2" in b.versions:
            b.renegotiation = await client_renegotiation(ep)
        elif b.versions & {"SSLv3", "TLSv1", "TLSv1.1"}:
            b.renegotiation = Renegotiation(None, Problem(
                "problem.tls_failed", "TLS handshake failed: {reason}",
                reason="the renegotiation test needs TLS 1.2, the server offers only older versions"))

    async def early() -> None:
        if "TLSv1.3" in b.versions:
            b.early_data = await zero_rtt(ep)

    await asyncio.gather(renegotiation(), early())


async def _scan(ep: Endpoint, b: _Builder) -> None:
    all_12 = [c for c in suite_codes() if c >> 8 != 0x13]
    all_13 = [c for c in suite_codes() if c >> 8 == 0x13]
    # Every version at once (one connection each): a serial first question would add a whole
    # STARTTLS dialogue to the audit's critical path (the speed budget of issue 16).
    results = await asyncio.gather(*(hello(ep, v, all_13 if v == "TLSv1.3" else all_12) for v in VERSIONS),
                                   return_exceptions=True)
    failure = next((r for r in results if isinstance(r, BaseException)), None)
    if failure is not None:
        raise failure  # could not connect, no STARTTLS: the same for every version
    answers: dict[str, Answer] = dict(zip(VERSIONS, results, strict=True))  # type: ignore[arg-type]
    if answers["TLSv1.2"].silent and not any(a.accepted for a in answers.values()):
        raise TimeoutError  # not even an alert to a plain TLS 1.2 hello: the server stalls
    b.tested.update(VERSIONS)
    for version, answer in answers.items():
        if answer.accepted and answer.version == version:
            b.versions.add(version)
            b.learn(version, answer)
    # One more hello for compression, renegotiation and EMS, beside the enumeration (no extra depth).
    newest = next((v for v in _EXTRAS_VERSIONS if v in b.versions), None)
    extras = [_extras(ep, newest, b), _order(ep, newest, answers[newest], b)] if newest else []
    if "TLSv1.2" in b.versions:
        extras.append(_kex_hash(ep, b))
    extras.append(_sessions(ep, b))
    await asyncio.gather(*(_enumerate(ep, v, answers[v], b) for v in VERSIONS if v in b.versions and v != "SSLv2"),
                         _groups(ep, b), *extras)
    if newest:
        await _class_order(ep, newest, b)  # needs the enumeration; a hello only for three classes or more
    if not b.chain and "TLSv1.3" in b.versions:
        b.chain = await tls13_chain(ep)
        b.ocsp = None
    b.suites_complete = True


async def scan_endpoint(address: str, port: int, service: str, *, sni: str, timeout: float) -> TlsScan:
    """Scan one endpoint; never raises. Bounded by ``timeout`` per wait and the probe budget in all."""
    ep = Endpoint(address, port, service, sni, timeout)
    b = _Builder()
    started = time.monotonic()
    error, timed_out = "", False
    budget = timeout * PROBE_BUDGET_FACTOR
    try:
        async with pacing.budget(budget) as cm:
            await _scan(ep, b)
    except TimeoutError:
        timed_out = True
        error = (Problem("problem.budget", "probe did not finish within {seconds} s (while {step})",
                         seconds=f"{budget:g}", step=TLS_HANDSHAKE) if cm.expired()
                 else Problem("problem.step_timeout", "timeout while {step}", step=TLS_HANDSHAKE))
    except (ConnectFailed, NoStarttls) as exc:
        error = exc.problem
    except Exception as exc:  # the last net: a bug becomes a reason, never a crashed audit
        error = Problem("problem.internal_error", "internal error while {step}: {error}", step=TLS_HANDSHAKE,
                        error=f"{type(exc).__name__}: {exc}")
    return _result(ep, b, error, timed_out, time.monotonic() - started)


def _result(ep: Endpoint, b: _Builder, error: str, timed_out: bool, seconds: float) -> TlsScan:
    key_type, key_bits, curve, sig, sig_hash = _leaf(b.chain[0]) if b.chain else ("", None, "", "", "")
    kex_sha2, kex_signature, kex_error = _kex_verdict(b) if b.suites_complete else (None, "", "")
    return TlsScan(
        address=ep.address, port=ep.port, service=ep.service,
        versions=tuple(v for v in VERSIONS if v in b.versions),
        versions_tested=tuple(v for v in VERSIONS if v in b.tested) if not error or b.versions else (),
        suites=tuple(b.suites), suites_complete=b.suites_complete and not error,
        groups=tuple(sorted(b.groups)), dh_bits=tuple(sorted(b.dh_bits)),
        key_type=key_type, key_bits=key_bits, key_curve=curve, signature_algorithm=sig, signature_hash=sig_hash,
        ocsp_stapling=b.ocsp, certificate_chain=b.chain, error=error, timed_out=timed_out,
        compression=b.compression, secure_renegotiation=b.secure_renegotiation,
        extended_master_secret=b.extended_master_secret, extras_error=b.extras_error,
        order_version=b.order_version, order_choices=b.order_choices, order_error=b.order_error,
        class_choices=b.class_choices,
        kex_sha2=kex_sha2, kex_signature=kex_signature, kex_signature_default=b.kex_default, kex_error=kex_error,
        client_renegotiation=b.renegotiation.allowed if b.renegotiation else None,
        renegotiation_detail=b.renegotiation.detail if b.renegotiation else "",
        zero_rtt=b.early_data.accepted if b.early_data else None,
        max_early_data=b.early_data.max_early_data if b.early_data else 0,
        zero_rtt_detail=b.early_data.detail if b.early_data else "",
        duration_s=round(seconds, 3), connections=ep.connections,
    )


def _leaf(der: bytes) -> tuple[str, int | None, str, str, str]:
    try:
        cert = x509.load_der_x509_certificate(der)
        key = cert.public_key()
    except Exception:
        return "", None, "", "", ""
    curve = ""
    if isinstance(key, rsa.RSAPublicKey):
        kind, bits = "RSA", key.key_size
    elif isinstance(key, ec.EllipticCurvePublicKey):
        kind, bits, curve = "EC", key.curve.key_size, key.curve.name
    elif isinstance(key, ed25519.Ed25519PublicKey):
        kind, bits = "Ed25519", 256
    elif isinstance(key, ed448.Ed448PublicKey):
        kind, bits = "Ed448", 456
    elif isinstance(key, dsa.DSAPublicKey):
        kind, bits = "DSA", key.key_size
    else:
        kind, bits = type(key).__name__, None
    try:
        sig = cert.signature_algorithm_oid._name  # e.g. sha256WithRSAEncryption
    except Exception:
        sig = cert.signature_algorithm_oid.dotted_string
    try:
        algo = cert.signature_hash_algorithm
    except Exception:  # an algorithm the library does not know (e.g. a PSS variant)
        algo = None
    sig_hash = algo.name if algo is not None else kind.lower() if kind in ("Ed25519", "Ed448") else ""
    return kind, bits, curve, sig, sig_hash


# -- all endpoints ------------------------------------------------------------------------------------


def tls_endpoints(discovery: Discovery, target: AuditTarget) -> list[tuple[str, int, str, str]]:
    """(address, port, service, SNI) of every TLS endpoint the probes may touch, as collect_services sees them."""
    typed = typed_addresses(discovery)
    out = []
    for address in sorted({a for h in discovery.hosts for a in h.addresses}):
        if blocked(address, learned=address not in typed, allow_internal=target.allow_internal):
            continue  # the network guard refused the probe: never scan what it may not touch
        for service in SERVICES:
            port = target.ports.get(service)
            if port is None or (service not in STARTTLS and service not in IMPLICIT_TLS):
                continue
            out.append((address, port, service, sni_for(discovery, address, service)))
    return out


async def scan_endpoints(discovery: Discovery, target: AuditTarget, timeout: float, *,
                         scan: Callable[..., Awaitable[TlsScan]] | None = None) -> dict[tuple[str, int], TlsScan]:
    """Scan every TLS endpoint concurrently; keyed by (address, port) like the DANE checks expect."""
    run = scan or scan_endpoint
    jobs = tls_endpoints(discovery, target)
    # One scan per (address, port): two services mapped onto one port (a lab) are one TLS endpoint.
    unique: dict[tuple[str, int], tuple[str, str]] = {}
    for address, port, service, sni in jobs:
        unique.setdefault((address, port), (service, sni))
    results = await asyncio.gather(*(run(a, p, s, sni=n, timeout=timeout) for (a, p), (s, n) in unique.items()))
    return {(r.address, r.port): r for r in results}
