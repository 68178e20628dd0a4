"""The "Message evidence" section and the "learned from message" notes of the scope table (issue 15).

Plain data only (no reportlab): the route of each message as nodes and links for the diagram,
a hop table with the full names, and the verification table, our verdict of the import beside
the receiving server's own ``Authentication-Results``.

Privacy: an e-mail address (From, envelope sender) is shown only where its domain is the
audited domain or below it; any other becomes ``…@domain``. ``Received:`` lines are never
printed raw (their ``for <recipient>`` clauses name people), only the parsed host facts.

Which messages: those the run judged, i.e. whose label (Message-ID) is the subject of an MSG-*
result of the run. A message imported after the run, or a run from before messages existed,
shows no section, so a report never presents evidence its findings did not rest on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from auditapp.core.model import Run
from auditapp.message.evidence import MessageEvidence, from_stored
from auditapp.message.headers import MessageError
from auditapp.message.hops import Hop
from auditapp.message.traits import dkim_problem
from auditapp.message.verify import ReceiverResult
from auditapp.report.document import (
    HopLink,
    HopRow,
    HostNode,
    MessageEntry,
    MessageSection,
    Untrusted,
    VerdictRow,
)
from auditapp.report.texts import format_datetime, format_number

Translate = Callable[..., str]
#: The rule family's prefix: an MSG-* result's subject is a message's label.
RULE_PREFIX = "MSG-"
#: The DKIM problems with words of their own in both languages (message_texts.py).
_DKIM_WORDED = frozenset({"body_changed", "key_missing", "key_too_short", "expired", "sha1", "signature_mismatch",
                          "bad_key", "malformed", "lookup_failed", "unsupported", "headers_only", "unparsable"})
#: Characters of a Message-ID shown in a heading (the hop table and findings keep whole values).
ID_SHOWN = 160


def _u(value: object) -> Untrusted:
    return Untrusted("" if value is None else str(value))


def judged(run: Run, messages: Sequence[Any]) -> list[MessageEvidence]:
    """The messages (stored or examined) the run's MSG-* rules judged, in the order given.

    A stored message that no longer reads is left out: the project loader checked it, and the
    report is no place to fail over one damaged record.
    """
    subjects = {f.subject for f in run.findings if f.rule.startswith(RULE_PREFIX)}
    if not subjects:
        return []
    out = []
    for item in messages:
        if isinstance(item, MessageEvidence):
            ev = item
        else:
            try:
                ev = from_stored(item)
            except MessageError:
                continue
        if ev.label in subjects:
            out.append(ev)
    return out


def own_domain(domain: str, audited: str) -> bool:
    d, a = domain.rstrip(".").lower(), audited.rstrip(".").lower()
    return bool(d and a) and (d == a or d.endswith("." + a))


def shown_address(address: str | None, audited: str) -> Untrusted:
    """The address in full when it is the audited domain's, else only ``…@domain`` ("-" for none)."""
    if not address:
        return _u("-")
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at:
        return _u("…") if local or domain else _u("-")
    return _u(f"{local}@{domain}" if own_domain(domain, audited) else f"…@{domain}")


class _Entry:
    """Builds one :class:`MessageEntry`; ``t`` is the report's translate function."""

    def __init__(self, t: Translate, lang: str, audited: str) -> None:
        self.t, self.lang, self.audited = t, lang, audited

    def tls_text(self, hop: Hop) -> str:
        if not hop.tls:
            return self.t("messages.no_tls")
        return "TLS" if hop.tls == "tls" else hop.tls

    def delay_text(self, hop: Hop) -> str:
        if hop.delay is None:
            return ""
        return self.t("messages.delay_value", seconds=format_number(max(hop.delay, 0.0), self.lang))

    def host_name(self, *names: str | None) -> str:
        for name in names:
            if name and name.lower() != "unknown":
                return name
        return self.t("messages.unknown_host")

    def route(self, ev: MessageEvidence) -> tuple[tuple[HostNode, ...], tuple[HopLink | None, ...]]:
        """Nodes left to right and the hop (or a gap) between each pair.

        Hop ``i``'s receiving host is hop ``i+1``'s sender when the names or addresses agree
        (Postfix's ``by`` is its HELO name); otherwise the chain has a gap (a server that wrote
        no ``Received:`` line) and both are drawn, unjoined.
        """
        hops, handover = ev.hops, ev.sending_index
        if not hops:
            return (), ()
        nodes: list[tuple[str, str, str]] = []
        links: list[HopLink | None] = []
        handover_node = -1
        for i, hop in enumerate(hops):
            if i > 0 and _same_host(hops[i - 1], hop):
                name, ip, _ = nodes[-1]
                nodes[-1] = (name, hop.from_ip or ip, _helo_shown(hop, name))
            else:
                if i > 0:
                    links.append(None)
                name = self.host_name(hop.from_name, hop.helo)
                nodes.append((name, hop.from_ip or "", _helo_shown(hop, name)))
            if handover == i:
                handover_node = len(nodes) - 1
            nodes.append((self.host_name(hop.by), hop.by_ip or "", ""))
            links.append(HopLink(
                number=i + 1, protocol=_u(hop.protocol or ""), tls=_u(self.tls_text(hop)), no_tls=not hop.tls,
                delay=self.delay_text(hop), handover=handover == i,
                sender=handover is not None and i <= handover,
            ))

        def side(k: int) -> str:
            if handover is None:
                return "unknown"
            return "sender" if k <= handover_node else "receiver"

        return (tuple(HostNode(_u(n), _u(ip), _u(h), side(k)) for k, (n, ip, h) in enumerate(nodes)),
                tuple(links))

    def hop_rows(self, ev: MessageEvidence) -> tuple[HopRow, ...]:
        rows = []
        for i, hop in enumerate(ev.hops):
            name = self.host_name(hop.from_name, hop.helo)
            sender = name + (f" [{hop.from_ip}]" if hop.from_ip else "")
            if hop.helo and _norm(hop.helo) != _norm(name):
                sender += f"\nHELO {hop.helo}"
            by = self.host_name(hop.by) + (f" [{hop.by_ip}]" if hop.by_ip else "")
            transport = " · ".join(x for x in (hop.protocol or "", self.tls_text(hop)) if x)
            if hop.cipher:
                transport += f"\n{hop.cipher}"
            rows.append(HopRow(
                number=i + 1, from_text=_u(sender), by=_u(by), transport=_u(transport),
                delay=self.delay_text(hop), handover=ev.sending_index == i,
                sender=ev.sending_index is not None and i <= ev.sending_index, no_tls=not hop.tls,
            ))
        return tuple(rows)

    # --- verdicts ------------------------------------------------------------------------

    def row(self, method: str, detail: str, result: str, reason: str,
            theirs: ReceiverResult | None) -> VerdictRow:
        if theirs is None:
            return VerdictRow(method, _u(detail), result, _u(reason), _u(self.t("messages.not_reported")), False,
                              _u(""))
        receiver = theirs.result + (f" ({theirs.reason})" if theirs.reason else "")
        differs = theirs.result != result
        note = self.t("messages.differs", theirs=theirs.result, ours=result) if differs else ""
        return VerdictRow(method, _u(detail), result, _u(reason), _u(receiver), differs, _u(note))

    def verdicts(self, ev: MessageEvidence) -> tuple[VerdictRow, ...]:
        t, theirs = self.t, _receiver_verdicts(ev.receiver)
        rows = []
        dkim_theirs = theirs.get("dkim", [])
        if not ev.dkim:
            rows.append(self.row("DKIM", t("messages.no_signature"), "none", "",
                                 dkim_theirs[0] if dkim_theirs else None))
        for sig in ev.dkim:
            detail = t("messages.dkim_detail", domain=sig.domain or "-", selector=sig.selector or "-",
                       algorithm=sig.algorithm or "-")
            if sig.key_bits:
                detail += ", " + t("messages.bits", bits=sig.key_bits)
            problem = dkim_problem(sig)
            reason = t(f"messages.dkim_problem.{problem}") if problem in _DKIM_WORDED else sig.reason
            rows.append(self.row("DKIM", detail, sig.result, reason, _match_dkim(dkim_theirs, sig.domain,
                                                                               sig.selector, len(ev.dkim))))
        arc_theirs = theirs.get("arc", [])
        # "no ARC sets" says nothing the count beside it does not.
        arc_reason = "" if ev.arc.instances == 0 and ev.arc.result == "none" else ev.arc.reason
        rows.append(self.row("ARC", t("messages.arc_detail", count=ev.arc.instances), ev.arc.result, arc_reason,
                             arc_theirs[0] if arc_theirs else None))
        spf_theirs = theirs.get("spf", [])
        if ev.spf is None:
            rows.append(self.row("SPF", t("messages.spf_missing"), "none", "", spf_theirs[0] if spf_theirs else None))
        else:
            domain = ev.spf.domain or (ev.spf.sender.rpartition("@")[2] if ev.spf.sender else "") or "-"
            rows.append(self.row("SPF", t("messages.spf_detail", ip=ev.spf.ip or "-", domain=domain), ev.spf.result,
                                 ev.spf.problem, spf_theirs[0] if spf_theirs else None))
        dmarc_theirs = theirs.get("dmarc", [])
        if ev.dmarc is None:
            rows.append(self.row("DMARC", t("messages.dmarc_missing"), "none", "",
                                 dmarc_theirs[0] if dmarc_theirs else None))
        else:
            d = ev.dmarc
            yes, no = t("messages.yes"), t("messages.no")
            detail = t("messages.dmarc_detail", policy=d.policy or "-", spf=yes if d.spf_aligned else no,
                       dkim=yes if d.dkim_aligned else no)
            rows.append(self.row("DMARC", detail, d.result, d.reason, dmarc_theirs[0] if dmarc_theirs else None))
        return tuple(rows)

    def entry(self, ev: MessageEvidence, number: int, findings: Sequence[str] = ()) -> MessageEntry:
        t = self.t
        nodes, links = self.route(ev)
        notes = []
        if not ev.hops:
            notes.append(t("messages.no_hops"))
        elif ev.sending_index is None:
            notes.append(t("messages.no_handover"))
        if ev.headers_only:
            notes.append(t("messages.headers_only"))
        last = next((h.time for h in reversed(ev.hops) if h.time), None)
        verified_at = format_datetime(ev.added, self.lang)
        label = ev.label
        return MessageEntry(
            anchor=f"m{number}", message_id=_u(label if len(label) <= ID_SHOWN else label[: ID_SHOWN - 1] + "…"),
            from_text=shown_address(ev.headers.from_address, self.audited),
            envelope=shown_address(ev.headers.envelope_sender, self.audited),
            received=format_datetime(last, self.lang) if last else "-",
            verified=_u(t("messages.verified", date=verified_at, resolver=ev.resolver or "-")),
            nodes=nodes, links=links, hops=self.hop_rows(ev), verdicts=self.verdicts(ev), notes=tuple(notes),
            findings=tuple(findings),
        )


def _helo_shown(hop: Hop, name: str) -> str:
    """The HELO name where it says something the node's name does not."""
    helo = hop.helo or ""
    return "" if not helo or _norm(helo) == _norm(name) else helo


def _norm(name: str | None) -> str:
    return (name or "").strip().rstrip(".").lower()


def _same_host(previous: Hop, hop: Hop) -> bool:
    """Whether ``hop`` was sent by the host that received ``previous`` (by name or address)."""
    by = _norm(previous.by)
    if by and by in (_norm(hop.from_name), _norm(hop.helo)):
        return True
    return bool(previous.by_ip) and previous.by_ip == hop.from_ip


def _receiver_verdicts(results: Sequence[ReceiverResult]) -> dict[str, list[ReceiverResult]]:
    """The receiver's verdicts by method, from its topmost ``Authentication-Results`` server only.

    Several such fields can be present (internal relays, or one a sender forged); the newest
    one (header order) is the final receiver's, which is whose verdict the table compares.
    """
    if not results:
        return {}
    first = results[0].authserv_id
    out: dict[str, list[ReceiverResult]] = {}
    for r in results:
        if r.authserv_id == first:
            out.setdefault(r.method, []).append(r)
    return out


def _match_dkim(theirs: Sequence[ReceiverResult], domain: str, selector: str, signatures: int) -> ReceiverResult | None:
    """The receiver's ``dkim=`` result for the signature ``d=domain s=selector`` (by header.d/header.s)."""
    for r in theirs:
        props = dict(r.properties)
        d, s = _norm(props.get("header.d") or props.get("header.i", "").rpartition("@")[2]), props.get("header.s")
        if d == _norm(domain) and (s is None or s == selector):
            return r
    if signatures == 1 and len(theirs) == 1 and not dict(theirs[0].properties).get("header.d"):
        return theirs[0]
    return None


def message_section(t: Translate, lang: str, audited: str, evidence: Sequence[MessageEvidence],
                    findings: Mapping[str, Sequence[str]] | None = None) -> MessageSection:
    """The section for ``evidence`` (non-empty: the caller leaves the section out otherwise).

    ``findings`` maps a message's label to its failed MSG-* results ("rule – title"), so the
    admin reading a message's evidence sees which findings rest on it.
    """
    builder = _Entry(t, lang, audited)
    found = findings or {}
    return MessageSection(intro=t("messages.intro"), messages=tuple(
        builder.entry(ev, n, found.get(ev.label, ())) for n, ev in enumerate(evidence, start=1)))


# --- learned values in the scope table -------------------------------------------------------


def learned_values(t: Translate, target: dict[str, Any], field: str, values: Sequence[str]) -> str:
    """``values`` joined by commas, each one a message taught marked with its message and hop."""
    learned = target.get("learned") or ()
    out = []
    for value in values:
        source = next((x for x in learned if isinstance(x, dict) and x.get("field") == field
                       and str(x.get("value")) == str(value)), None)
        if source is None:
            out.append(str(value))
            continue
        message = str(source.get("message") or "-")
        if source.get("source") == "postfix":  # issue 16: the imported configuration's bind address
            out.append(f"{value} ({t('messages.learned_postfix', setting=message)})")
            continue
        hop = source.get("hop")
        note = (t("messages.learned", message=message, hop=hop) if hop is not None
                else t("messages.learned_signature", message=message))
        out.append(f"{value} ({note})")
    return ", ".join(out)
