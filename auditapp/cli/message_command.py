"""``auditapp message FILE.eml ...``: what the receivers of real messages saw, verified offline.

Per message: the hop chain from the ``Received:`` headers, the sending hop (the one a receiving
MX judged), DKIM and ARC verified with dkimpy against our resolver, SPF for the real sending IP
and envelope sender with our RFC 7208 evaluator, DMARC with alignment, and the receiver's own
``Authentication-Results`` beside ours. The JSON format is ``auditapp.message/1``.

Nothing is written but the JSON file asked for: a message's body is read to verify DKIM and
then dropped; the output names header facts only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from auditapp.cli.errors import EXIT_CANNOT_RUN, EXIT_INPUT, EXIT_OK
from auditapp.cli.inputs import make_client
from auditapp.core.atomic import write_atomic
from auditapp.core.safe_read import read_regular_file
from auditapp.dnsclient import DnsClient
from auditapp.message.headers import MessageError, MessageHeaders, read_message
from auditapp.message.hops import Hop, parse_hops, sending_hop
from auditapp.message.verify import (
    ArcResult,
    DkimResult,
    DmarcMessageResult,
    SpfMessageResult,
    check_dmarc,
    check_spf,
    parse_authentication_results,
    verify_arc,
    verify_dkim,
)

FORMAT = "auditapp.message/1"
#: A received message, attachments included, is rarely larger; a bigger file is not what was meant.
MAX_MESSAGE_BYTES = 20 * 1024 * 1024


def add_parser(sub: Any, resolver_args: Any) -> None:
    """The ``message`` subcommand's arguments (called by :func:`auditapp.cli.main.build_parser`)."""
    m = sub.add_parser("message", help="verify received messages: hops, DKIM, ARC, SPF, DMARC (offline)")
    m.add_argument("files", nargs="+", metavar="FILE.eml", help="received messages (.eml) or their raw headers")
    resolver_args(m)
    m.add_argument("--json", metavar="FILE", help="write the evidence as JSON (auditapp.message/1)")


async def _verify(data: bytes, headers: MessageHeaders, hop: Hop | None, dns: DnsClient) -> dict[str, Any]:
    dkim, arc = await asyncio.gather(verify_dkim(data, dns), verify_arc(data, dns))
    sender = headers.envelope_sender or ""
    ip, helo = (hop.from_ip or "", hop.helo or hop.from_name or "") if hop is not None else ("", "")
    spf = await check_spf(ip, sender, helo, dns) if ip else None
    dmarc = await check_dmarc(headers.from_domain, spf, dkim, dns) if headers.from_domain else None
    return {"dkim": dkim, "arc": arc, "spf": spf, "dmarc": dmarc}


def _hop_json(hop: Hop) -> dict[str, Any]:
    return {"from_name": hop.from_name, "from_ip": hop.from_ip, "helo": hop.helo, "by": hop.by,
            "by_ip": hop.by_ip, "protocol": hop.protocol, "tls": hop.tls, "cipher": hop.cipher, "time": hop.time,
            "delay_s": hop.delay}


def _dkim_json(r: DkimResult) -> dict[str, Any]:
    return {"domain": r.domain, "selector": r.selector, "algorithm": r.algorithm, "key_bits": r.key_bits,
            "result": r.result, "reason": r.reason}


def _message_json(path: str, headers: MessageHeaders, hops: tuple[Hop, ...], hop: Hop | None,
                  checked: dict[str, Any], receiver: list[Any]) -> dict[str, Any]:
    spf: SpfMessageResult | None = checked["spf"]
    dmarc: DmarcMessageResult | None = checked["dmarc"]
    arc: ArcResult = checked["arc"]
    return {
        "file": path,
        "message_id": headers.message_id,
        "from_domain": headers.from_domain,
        "hops": [_hop_json(h) for h in hops],
        "sending_ip": hop.from_ip if hop is not None else None,
        "helo": hop.helo if hop is not None else None,
        "envelope_sender": headers.envelope_sender,
        "dkim": [_dkim_json(r) for r in checked["dkim"]],
        "arc": {"result": arc.result, "instances": arc.instances},
        "spf": {"ip": spf.ip, "sender": spf.sender, "result": spf.result} if spf is not None
        else {"ip": None, "sender": headers.envelope_sender, "result": "none"},
        "dmarc": {"result": dmarc.result, "policy": dmarc.policy, "spf_aligned": dmarc.spf_aligned,
                  "dkim_aligned": dmarc.dkim_aligned} if dmarc is not None
        else {"result": "none", "policy": None, "spf_aligned": False, "dkim_aligned": False},
        "receiver_results": [asdict(r) for r in receiver],
        "body_sha256": headers.body_sha256,
    }


def _print(entry: dict[str, Any]) -> None:
    print(f"{entry['file']}: Message-ID {entry['message_id'] or '-'}, From domain {entry['from_domain'] or '-'}")
    for n, hop in enumerate(entry["hops"], 1):
        delay = f", +{hop['delay_s']:.0f} s" if hop["delay_s"] is not None else ""
        print(f"  hop {n}: {hop['from_name'] or '?'} [{hop['from_ip'] or '?'}] helo={hop['helo'] or '-'} "
              f"-> {hop['by'] or '?'} {hop['protocol'] or ''} {hop['tls'] or 'no TLS recorded'}{delay}")
    print(f"  sending IP (judged by the first receiver outside the sender): {entry['sending_ip'] or 'not found'}")
    for d in entry["dkim"] or [{"domain": "-", "selector": "-", "result": "none", "reason": "no signature",
                                 "algorithm": "", "key_bits": None}]:
        bits = f", {d['key_bits']} bits" if d["key_bits"] else ""
        print(f"  DKIM d={d['domain']} s={d['selector']} {d['algorithm']}{bits}: {d['result']}"
              + (f" ({d['reason']})" if d["reason"] else ""))
    print(f"  ARC: {entry['arc']['result']} ({entry['arc']['instances']} instances)")
    spf, dmarc = entry["spf"], entry["dmarc"]
    print(f"  SPF {spf['ip'] or '-'} / {spf['sender'] or '<>'}: {spf['result']}")
    print(f"  DMARC: {dmarc['result']} (policy {dmarc['policy'] or '-'}, SPF aligned {dmarc['spf_aligned']}, "
          f"DKIM aligned {dmarc['dkim_aligned']})")
    for r in entry["receiver_results"]:
        print(f"  receiver {r['authserv_id'] or '?'}: {r['method']}={r['result']}")


def read_messages(names: list[str]) -> tuple[list[tuple[str, bytes, MessageHeaders]], list[str]]:
    """The messages that could be read, and one line for each that could not."""
    read: list[tuple[str, bytes, MessageHeaders]] = []
    problems: list[str] = []
    for name in names:
        try:
            data = read_regular_file(Path(name), MAX_MESSAGE_BYTES)
            read.append((name, data, read_message(data)))
        except (MessageError, OSError, ValueError) as exc:
            problems.append(f"{name}: {exc}")
    return read, problems


async def verify_messages(read: list[tuple[str, bytes, MessageHeaders]], dns: DnsClient) -> list[dict[str, Any]]:
    """Every message at once: one client, so a key or policy several messages need is asked once."""

    async def one(name: str, data: bytes, headers: MessageHeaders) -> dict[str, Any]:
        hops = parse_hops(headers.received)
        hop = sending_hop(hops)
        checked = await _verify(data, headers, hop, dns)
        return _message_json(name, headers, hops, hop, checked,
                             parse_authentication_results(headers.authentication_results))

    return list(await asyncio.gather(*(one(*item) for item in read)))


def cmd_message(args: argparse.Namespace) -> int:
    client = make_client(args.nameserver, args.timeout)
    read, problems = read_messages(args.files)
    for line in problems:
        print(f"auditapp: {line}", file=sys.stderr)
    messages = asyncio.run(verify_messages(read, client))
    del read  # the bodies are not kept beyond DKIM verification
    for entry in messages:
        _print(entry)
    if args.json:
        text = json.dumps({"format": FORMAT, "messages": messages}, ensure_ascii=False, indent=2) + "\n"
        try:
            write_atomic(Path(args.json), text.encode("utf-8"))
        except OSError as exc:
            print(f"auditapp: cannot write {args.json}: {exc}", file=sys.stderr)
            return EXIT_CANNOT_RUN
    if problems and not messages:
        return EXIT_INPUT
    return EXIT_OK
