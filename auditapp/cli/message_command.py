"""``auditapp message FILE.eml ...``: what the receivers of real messages saw, verified offline.

Per message: the hop chain from the ``Received:`` headers, the sending hop (the one a receiving
MX judged), DKIM and ARC verified with dkimpy against our resolver, SPF for the real sending IP
and envelope sender with our RFC 7208 evaluator, DMARC with alignment, the receiver's own
``Authentication-Results`` beside ours, and the MSG-* rules' results. Every message goes through
:func:`auditapp.message.evidence.examine`, the same path ``audit --message`` and the window take.
The JSON format is ``auditapp.message/1``.

Nothing is written but the JSON file asked for: a message's body is read to verify DKIM and
then dropped; the output names header facts only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from auditapp.audit.messages import judge_message
from auditapp.audit.prepare import PreparedAudit
from auditapp.catalog import catalog
from auditapp.catalog.wording import render_finding, status_label
from auditapp.cli.errors import EXIT_CANNOT_RUN, EXIT_INPUT, EXIT_OK, UsageError
from auditapp.cli.inputs import make_client
from auditapp.core.atomic import write_atomic
from auditapp.core.model import Finding, Status
from auditapp.core.safe_read import read_regular_file
from auditapp.dnsclient import DnsClient
from auditapp.message.evidence import MessageEvidence, examine
from auditapp.message.headers import MAX_FILE_BYTES, MessageError
from auditapp.message.hops import Hop
from auditapp.message.verify import DkimResult

FORMAT = "auditapp.message/1"
#: A received message, attachments included, is rarely larger; a bigger file is not what was meant.
MAX_MESSAGE_BYTES = MAX_FILE_BYTES


def add_parser(sub: Any, resolver_args: Any) -> None:
    """The ``message`` subcommand's arguments (called by :func:`auditapp.cli.main.build_parser`)."""
    m = sub.add_parser("message", help="verify received messages: hops, DKIM, ARC, SPF, DMARC (offline)")
    m.add_argument("files", nargs="+", metavar="FILE.eml", help="received messages (.eml) or their raw headers")
    resolver_args(m)
    m.add_argument("--allow-internal", action="store_true",
                   help="the messages went through internal servers only (a lab): private and loopback "
                        "addresses may be the sending hop")
    m.add_argument("--lang", choices=("de", "en"), default=None)
    m.add_argument("--json", metavar="FILE", help="write the evidence as JSON (auditapp.message/1)")


def _hop_json(hop: Hop) -> dict[str, Any]:
    return {"from_name": hop.from_name, "from_ip": hop.from_ip, "helo": hop.helo, "by": hop.by,
            "by_ip": hop.by_ip, "protocol": hop.protocol, "tls": hop.tls, "cipher": hop.cipher, "time": hop.time,
            "delay_s": hop.delay}


def _dkim_json(r: DkimResult) -> dict[str, Any]:
    return {"domain": r.domain, "selector": r.selector, "algorithm": r.algorithm, "key_bits": r.key_bits,
            "result": r.result, "reason": r.reason}


def message_json(path: str, ev: MessageEvidence, findings: Sequence[Finding], lang: str) -> dict[str, Any]:
    """One entry of ``auditapp.message/1`` (the issue's contract; fields are only ever added)."""
    headers, hop, spf, dmarc, arc = ev.headers, ev.sending, ev.spf, ev.dmarc, ev.arc
    cat = catalog()
    return {
        "file": path,
        "message_id": headers.message_id,
        "from_domain": headers.from_domain,
        "hops": [_hop_json(h) for h in ev.hops],
        "sending_ip": hop.from_ip if hop is not None else None,
        "sending_hop": hop.index + 1 if hop is not None else None,
        "helo": hop.helo if hop is not None else None,
        "envelope_sender": headers.envelope_sender,
        "dkim": [_dkim_json(r) for r in ev.dkim],
        "arc": {"result": arc.result, "instances": arc.instances, "reason": arc.reason},
        "spf": {"ip": spf.ip, "sender": spf.sender, "result": spf.result, "domain": spf.domain} if spf is not None
        else {"ip": None, "sender": headers.envelope_sender, "result": "none", "domain": None},
        "dmarc": {"result": dmarc.result, "policy": dmarc.policy, "spf_aligned": dmarc.spf_aligned,
                  "dkim_aligned": dmarc.dkim_aligned, "org_domain": dmarc.org_domain} if dmarc is not None
        else {"result": "none", "policy": None, "spf_aligned": False, "dkim_aligned": False, "org_domain": None},
        "receiver_results": [asdict(r) for r in ev.receiver],
        "results": [render_finding(f, lang, cat) for f in findings],
        "headers_only": ev.headers_only,
        "body_sha256": headers.body_sha256,
        "verified_at": ev.added,
    }


_LABELS = {
    "de": {"hop": "Hop", "sending": "Sende-IP (vom ersten Empfänger außerhalb des Absenders geprüft)",
           "not_found": "nicht gefunden", "no_tls": "kein TLS vermerkt", "no_signature": "keine Signatur",
           "bits": "Bit", "instances": "Instanzen", "policy": "Richtlinie", "spf_aligned": "SPF passend",
           "dkim_aligned": "DKIM passend", "receiver": "Empfänger", "results": "Regeln", "yes": "ja", "no": "nein",
           "headers_only": "nur Kopfzeilen: DKIM braucht den Text"},
    "en": {"hop": "hop", "sending": "sending IP (judged by the first receiver outside the sender)",
           "not_found": "not found", "no_tls": "no TLS recorded", "no_signature": "no signature", "bits": "bits",
           "instances": "instances", "policy": "policy", "spf_aligned": "SPF aligned", "dkim_aligned": "DKIM aligned",
           "receiver": "receiver", "results": "rules", "yes": "yes", "no": "no",
           "headers_only": "headers only: DKIM needs the body"},
}


def _print(entry: dict[str, Any], lang: str) -> None:
    t = _LABELS[lang]
    print(f"{entry['file']}: Message-ID {entry['message_id'] or '-'}, From {entry['from_domain'] or '-'}")
    for n, hop in enumerate(entry["hops"], 1):
        delay = f", +{hop['delay_s']:.0f} s" if hop["delay_s"] is not None else ""
        mark = " *" if n == entry["sending_hop"] else ""
        when = f" {hop['time']}" if hop["time"] else ""
        print(f"  {t['hop']} {n}{mark}: {hop['from_name'] or '?'} [{hop['from_ip'] or '?'}] helo={hop['helo'] or '-'} "
              f"-> {hop['by'] or '?'} {hop['protocol'] or ''} {hop['tls'] or t['no_tls']}{when}{delay}")
    print(f"  * {t['sending']}: {entry['sending_ip'] or t['not_found']}")
    if entry["headers_only"]:
        print(f"  ({t['headers_only']})")
    for d in entry["dkim"] or [{"domain": "-", "selector": "-", "result": "none", "reason": t["no_signature"],
                                 "algorithm": "", "key_bits": None}]:
        bits = f", {d['key_bits']} {t['bits']}" if d["key_bits"] else ""
        print(f"  DKIM d={d['domain']} s={d['selector']} {d['algorithm']}{bits}: {d['result']}"
              + (f" ({d['reason']})" if d["reason"] else ""))
    print(f"  ARC: {entry['arc']['result']} ({entry['arc']['instances']} {t['instances']})")
    spf, dmarc = entry["spf"], entry["dmarc"]
    print(f"  SPF {spf['ip'] or '-'} / {spf['sender'] or '<>'}: {spf['result']}")
    yes = {True: t["yes"], False: t["no"]}
    print(f"  DMARC: {dmarc['result']} ({t['policy']} {dmarc['policy'] or '-'}, {t['spf_aligned']} "
          f"{yes[dmarc['spf_aligned']]}, {t['dkim_aligned']} {yes[dmarc['dkim_aligned']]})")
    for r in entry["receiver_results"]:
        print(f"  {t['receiver']} {r['authserv_id'] or '?'}: {r['method']}={r['result']}")
    print(f"  {t['results']}:")
    for r in entry["results"]:
        label = status_label(Status(r["status"]), lang)
        print(f"    {r['rule']:<22} {label:<14} {r['detail'] or r['reason']}")


def read_messages(names: Sequence[str]) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The files that could be read (name, bytes), and one line for each that could not."""
    read: list[tuple[str, bytes]] = []
    problems: list[str] = []
    for name in names:
        try:
            read.append((name, read_regular_file(Path(name), MAX_MESSAGE_BYTES)))
        except (OSError, ValueError) as exc:
            problems.append(f"{name}: {exc}")
    return read, problems


async def examine_all(read: Sequence[tuple[str, bytes]], dns: DnsClient, *, allow_internal: bool = False
                      ) -> tuple[list[tuple[str, MessageEvidence]], list[str]]:
    """Every message at once through one client, so a key or policy several messages need is asked once.

    A file that is not a message gives a problem line; the others are still examined.
    """

    async def one(name: str, data: bytes) -> tuple[str, MessageEvidence] | str:
        try:
            return name, await examine(Path(name).name, data, dns, allow_internal=allow_internal)
        except MessageError as exc:
            return f"{name}: {exc}"

    results = await asyncio.gather(*(one(name, data) for name, data in read))
    return [r for r in results if not isinstance(r, str)], [r for r in results if isinstance(r, str)]


def cmd_message(args: argparse.Namespace) -> int:
    client = make_client(args.nameserver, args.timeout)
    read, problems = read_messages(args.files)
    examined, more = asyncio.run(examine_all(read, client, allow_internal=args.allow_internal))
    del read  # the bodies are not kept beyond DKIM verification
    for line in (*problems, *more):
        print(f"auditapp: {line}", file=sys.stderr)
    messages = [message_json(name, ev, judge_message(ev, allow_internal=args.allow_internal), args.lang)
                for name, ev in examined]
    for entry in messages:
        _print(entry, args.lang)
    if args.json:
        text = json.dumps({"format": FORMAT, "messages": messages}, ensure_ascii=False, indent=2) + "\n"
        try:
            write_atomic(Path(args.json), text.encode("utf-8"))
        except OSError as exc:
            print(f"auditapp: cannot write {args.json}: {exc}", file=sys.stderr)
            return EXIT_CANNOT_RUN
    if (problems or more) and not messages:
        return EXIT_INPUT
    return EXIT_OK


def examine_message_files(files: Sequence[str], prepared: PreparedAudit) -> list[MessageEvidence]:
    """``--message`` files examined with the audit's resolver; any that cannot be used is exit 2, before the audit."""
    read, problems = read_messages(files)
    examined, more = asyncio.run(examine_all(read, prepared.make_dns(),
                                             allow_internal=prepared.target.allow_internal))
    if problems or more:
        raise UsageError("--message: " + "; ".join((*problems, *more)))
    return [ev for _name, ev in examined]
