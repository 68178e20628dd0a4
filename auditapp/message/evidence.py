"""A received message examined once: its hops, the verdicts, and what an audit may learn from it.

:func:`examine` is the one place that verifies a message (the ``message`` command, ``audit
--message`` and the window all call it), so all three agree on every verdict. The result,
:class:`MessageEvidence`, is what the MSG-* checks read, what the report draws, and what a project
stores (:func:`to_stored`, :func:`from_stored`: the header block plus the import's verdicts).

Why the verdicts are kept from the import rather than re-verified at each audit: DKIM needs the
body, which is never stored. A message is evidence of one moment (the day it was received); the
audit's own rules judge today's DNS for the addresses and names learned from it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from auditapp.core.stored_message import StoredMessage, header_text, message_id_of
from auditapp.core.target import AuditTarget, LearnedValue
from auditapp.dnsclient import DnsAnswer, DnsClient
from auditapp.message.headers import MessageHeaders, read_message
from auditapp.message.hops import Hop, organisation, parse_hops, sending_hop
from auditapp.message.traits import ENVELOPE_UNKNOWN, HEADERS_ONLY, aligned, literal_ip
from auditapp.message.verify import (
    ArcResult,
    DkimResult,
    DmarcMessageResult,
    ReceiverResult,
    SpfMessageResult,
    check_dmarc,
    check_spf,
    parse_authentication_results,
    verify_arc,
    verify_dkim,
)


@dataclass(frozen=True)
class NameCheck:
    """The sending hop's HELO name and the sending IP's reverse name, as DNS answers them now.

    ``*_outcome`` is ``ok``, ``nxdomain``, ``nodata``, a failure word (``timeout``...) or ``""``
    when the question was not asked (no HELO recorded, an address literal, no sending IP).
    """

    helo: str = ""
    helo_addresses: tuple[str, ...] = ()
    helo_outcome: str = ""
    ptr_names: tuple[str, ...] = ()
    ptr_outcome: str = ""
    answers: tuple[DnsAnswer, ...] = ()


@dataclass(frozen=True)
class MessageEvidence:
    """One message's header facts and verdicts (body never included)."""

    id: str
    name: str
    added: str
    headers: MessageHeaders
    hops: tuple[Hop, ...]
    #: Index into :attr:`hops` of the hop a receiving MX judged (issue 15's ``sending_ip``).
    sending_index: int | None
    dkim: tuple[DkimResult, ...]
    arc: ArcResult
    spf: SpfMessageResult | None
    dmarc: DmarcMessageResult | None
    receiver: tuple[ReceiverResult, ...]
    names: NameCheck
    resolver: str = ""

    @property
    def sending(self) -> Hop | None:
        return self.hops[self.sending_index] if self.sending_index is not None else None

    @property
    def sender_hops(self) -> tuple[Hop, ...]:
        """The hops the sender's own servers made, up to and including the hand-over to the receiver.

        Without a known sending hop, none: the split between sender and receiver is unknown.
        """
        return self.hops[: self.sending_index + 1] if self.sending_index is not None else ()

    @property
    def label(self) -> str:
        """How the message is named to people: its Message-ID, else the file name."""
        return self.headers.message_id or self.name

    @property
    def headers_only(self) -> bool:
        return self.headers.body_sha256 is None

    def concerns(self, domain: str) -> bool:
        """Whether the message was sent by ``domain`` (its From domain is the domain or below it)."""
        d = domain.rstrip(".").lower()
        return any(f == d or f.endswith("." + d) for f in self.headers.from_domains or ()) or (
            (self.headers.from_domain or "") == d)


# --- examining ----------------------------------------------------------------------------------


async def examine(name: str, raw: bytes, dns: DnsClient, *, receiver_domains: Iterable[str] | None = None,
                  allow_internal: bool = False, now: datetime | None = None) -> MessageEvidence:
    """Read and verify one message; raises :class:`~auditapp.message.headers.MessageError` for non-messages.

    ``raw`` may be a whole message or only its header block (pasted headers): DKIM then keeps the
    signatures' key facts but says it could not check the body, never "body changed".
    """
    headers = read_message(raw)
    hops = parse_hops(headers.received)
    senders = [d for d in (headers.from_domain, headers.envelope_domain) if d]
    hop = sending_hop(hops, receiver_domains, allow_internal, senders)
    receipt = received_at(hops)
    dkim_results, arc, names = await asyncio.gather(
        verify_dkim(raw, dns, receipt), verify_arc(raw, dns, receipt), _check_names(hop, dns))
    if headers.body_sha256 is None:
        dkim_results = [_headers_only(r) for r in dkim_results]
    receiver = tuple(parse_authentication_results(headers.authentication_results))
    spf = None
    if hop is not None and hop.from_ip:
        sender = hand_over_sender(headers, hop, receiver)
        if sender is None:
            spf = SpfMessageResult(hop.from_ip, "", "none", "", ENVELOPE_UNKNOWN)
        else:
            spf = await check_spf(hop.from_ip, sender, hop.helo or hop.from_name or "", dns)
    dmarc = await check_dmarc(headers.from_domain, spf, dkim_results, dns) if headers.from_domain else None
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    return MessageEvidence(
        id=message_id_of(headers.header_block), name=name, added=stamp, headers=headers, hops=hops,
        sending_index=hop.index if hop is not None else None, dkim=tuple(dkim_results), arc=arc, spf=spf,
        dmarc=dmarc, receiver=receiver, names=names, resolver=dns.describe())


def received_at(hops: Sequence[Hop]) -> datetime | None:
    """When the final receiver took the message (the newest hop's date), if it wrote a readable one."""
    for hop in reversed(hops):
        if hop.time:
            try:
                return datetime.fromisoformat(hop.time)
            except ValueError:
                return None
    return None


def hand_over_sender(headers: MessageHeaders, hop: Hop, receiver: Sequence[ReceiverResult]) -> str | None:
    """The MAIL FROM of the sending hop, or None when the headers do not tell it.

    ``Return-Path`` is the envelope of the *last* delivery. A message forwarded after it left the
    sender carries the forwarder's envelope there (SRS: ``fwd+alice=kunde.test@weiter.test``), and
    checking the sender's IP against the forwarder's SPF would accuse the sender of a failure
    nobody saw. So when the envelope belongs neither to the From domain's nor to the sending host's
    organisation, the ``smtp.mailfrom`` a receiver recorded for the From organisation is used, and
    without one the envelope is unknown.
    """
    envelope = headers.envelope_sender or ""
    domain = headers.envelope_domain
    if not domain:
        return envelope
    env_org = organisation(domain)
    own = {organisation(headers.from_domain), organisation(hop.from_name), organisation(hop.helo)} - {None}
    if env_org in own:
        return envelope
    for result in receiver:
        if result.method == "spf":
            for key, value in result.properties:
                if key == "smtp.mailfrom" and organisation(value.rpartition("@")[2]) in own:
                    return value if "@" in value else f"postmaster@{value}"
    return None


def _headers_only(result: DkimResult) -> DkimResult:
    """Without the body only the key facts hold; anything about the signature itself is unknown."""
    if result.result in ("temperror", "permerror") or result.reason.startswith(("key too short", "rsa-sha1",
                                                                                 "signature expired")):
        return result
    return replace(result, result="neutral", reason=HEADERS_ONLY)


async def _check_names(hop: Hop | None, dns: DnsClient) -> NameCheck:
    if hop is None or not hop.from_ip:
        return NameCheck(helo=(hop.helo or "") if hop else "")
    helo = (hop.helo or "").rstrip(".").lower()
    ask_helo = bool(helo) and "." in helo and not helo.startswith("[") and literal_ip(helo) is None
    ptr = await dns.reverse(hop.from_ip)
    answers = [ptr]
    addresses: tuple[str, ...] = ()
    helo_outcome = ""
    if ask_helo:
        a, aaaa = await dns.addresses(helo)
        answers += [a, aaaa]
        addresses = a.records + aaaa.records
        asked = aaaa if ":" in hop.from_ip else a
        helo_outcome = "ok" if addresses else asked.outcome.value
        if not addresses and (a.outcome.is_failure or aaaa.outcome.is_failure):
            helo_outcome = (a if a.outcome.is_failure else aaaa).outcome.value
    return NameCheck(helo=helo, helo_addresses=tuple(_canonical(x) for x in addresses), helo_outcome=helo_outcome,
                     ptr_names=tuple(r.rstrip(".").lower() for r in ptr.records), ptr_outcome=ptr.outcome.value,
                     answers=tuple(answers))


def _canonical(text: str) -> str:
    return literal_ip(text) or text


# --- storing -------------------------------------------------------------------------------------


def to_stored(evidence: MessageEvidence) -> StoredMessage:
    """The project's record: header block and import verdicts (no DNS evidence, no body)."""
    text, encoding = header_text(evidence.headers.header_block)
    spf, dmarc, n = evidence.spf, evidence.dmarc, evidence.names
    verified: dict[str, Any] = {
        "verified_at": evidence.added,
        "resolver": evidence.resolver,
        "sending_index": evidence.sending_index,
        "dkim": [{"domain": r.domain, "selector": r.selector, "algorithm": r.algorithm, "key_bits": r.key_bits,
                  "result": r.result, "reason": r.reason} for r in evidence.dkim],
        "arc": {"result": evidence.arc.result, "instances": evidence.arc.instances, "reason": evidence.arc.reason},
        "spf": None if spf is None else {"ip": spf.ip, "sender": spf.sender, "result": spf.result,
                                         "domain": spf.domain, "problem": spf.problem},
        "dmarc": None if dmarc is None else {
            "result": dmarc.result, "policy": dmarc.policy, "spf_aligned": dmarc.spf_aligned,
            "dkim_aligned": dmarc.dkim_aligned, "record_name": dmarc.record_name, "org_domain": dmarc.org_domain,
            "reason": dmarc.reason},
        "names": {"helo": n.helo, "helo_addresses": list(n.helo_addresses), "helo_outcome": n.helo_outcome,
                  "ptr_names": list(n.ptr_names), "ptr_outcome": n.ptr_outcome},
    }
    return StoredMessage(id=evidence.id, name=evidence.name, added=evidence.added, headers=text, encoding=encoding,
                         body_sha256=evidence.headers.body_sha256, body_bytes=evidence.headers.body_bytes,
                         verified=verified)


def from_stored(stored: StoredMessage) -> MessageEvidence:
    """A stored message as evidence again: the header block re-parsed, the verdicts as imported.

    Raises :class:`~auditapp.message.headers.MessageError` when the stored block is no longer a
    message (a file edited by hand); the shape of ``verified`` was checked when the project loaded.
    """
    headers = read_message(stored.header_bytes + b"\r\n")
    headers = replace(headers, body_sha256=stored.body_sha256, body_bytes=stored.body_bytes)
    hops = parse_hops(headers.received)
    v = stored.verified
    index = v.get("sending_index")
    if index is not None and index >= len(hops):
        index = None
    spf, dmarc, names = v.get("spf"), v.get("dmarc"), v.get("names") or {}
    arc = v["arc"]
    return MessageEvidence(
        id=stored.id, name=stored.name, added=stored.added, headers=headers, hops=hops, sending_index=index,
        dkim=tuple(DkimResult(d.get("domain", ""), d.get("selector", ""), d.get("algorithm", ""),
                              d.get("key_bits", 0), d["result"], d.get("reason", "")) for d in v["dkim"]),
        arc=ArcResult(arc["result"], arc.get("instances", 0), arc.get("reason", "")),
        spf=None if spf is None else SpfMessageResult(spf.get("ip", ""), spf.get("sender", ""), spf["result"],
                                                      spf.get("domain", ""), spf.get("problem", "")),
        dmarc=None if dmarc is None else DmarcMessageResult(
            dmarc["result"], dmarc.get("policy") or "", dmarc["spf_aligned"], dmarc["dkim_aligned"],
            dmarc.get("record_name") or "", dmarc.get("org_domain") or "", dmarc.get("reason") or ""),
        receiver=tuple(parse_authentication_results(headers.authentication_results)),
        names=NameCheck(names.get("helo") or "", tuple(names.get("helo_addresses", [])),
                        names.get("helo_outcome") or "", tuple(names.get("ptr_names", [])),
                        names.get("ptr_outcome") or ""),
        resolver=v.get("resolver", ""))


# --- what an audit learns ------------------------------------------------------------------------


def learn(evidence: Sequence[MessageEvidence], domain: str) -> list[LearnedValue]:
    """The sending IPs, HELO names and DKIM selectors the domain's own messages show.

    Only messages whose From domain is the audited domain count, only their sending hop (the
    address a receiver judged, not an internal relay), and only signatures of the domain itself.
    """
    found: list[LearnedValue] = []
    seen: set[tuple[str, str, str | None]] = set()

    def add(item: LearnedValue) -> None:
        key = (item.field, item.value, item.ip)
        if key not in seen and not (item.field == "helo" and any(
                x.field == "helo" and x.ip == item.ip for x in found)):
            seen.add(key)
            found.append(item)

    for ev in evidence:
        if not ev.concerns(domain):
            continue
        hop = ev.sending
        if hop is not None and hop.from_ip:
            add(LearnedValue("server_ips", hop.from_ip, ev.label, hop.index + 1))
            helo = (hop.helo or "").rstrip(".").lower()
            if helo and not helo.startswith("[") and literal_ip(helo) is None:
                add(LearnedValue("helo", helo, ev.label, hop.index + 1, ip=hop.from_ip))
        org = ev.dmarc.org_domain if ev.dmarc is not None else ""
        for sig in ev.dkim:
            if sig.selector and aligned(sig.domain, domain, org):
                add(LearnedValue("dkim_selectors", sig.selector, ev.label))
    return found


def apply_learned(target: AuditTarget, evidence: Sequence[MessageEvidence]) -> AuditTarget:
    """``target`` with what the messages taught, where the user gave nothing: given values win.

    Sending IPs, HELO names and DKIM selectors each come from the messages only when the target
    has none of its own, so a typed ``--server-ip`` is never mixed with guesses.
    """
    learned = learn(evidence, target.domain)
    used: list[LearnedValue] = []
    changes: dict[str, Any] = {}
    ips = [x for x in learned if x.field == "server_ips"]
    if ips and not target.server_ips:
        changes["server_ips"] = tuple(x.value for x in ips)
        used += ips
    # A HELO belongs to the server that announced it: each is used for its own sending address
    # (the port-25 probe still asks the others), and only while no HELO was given for all.
    ip_set = set(changes.get("server_ips", target.server_ips))
    if target.helo is None:
        used += [x for x in learned if x.field == "helo" and x.ip in ip_set]
    selectors = [x for x in learned if x.field == "dkim_selectors"]
    if selectors and not target.dkim_selectors:
        changes["dkim_selectors"] = tuple(x.value for x in selectors)
        used += selectors
    return replace(target, learned=(*target.learned, *used), **changes) if used else target
