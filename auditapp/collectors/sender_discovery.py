"""Sending addresses an audit can find by itself when none were given (issue 16: IPv6 senders).

Three sources, each recorded as a :class:`~auditapp.core.target.LearnedValue` with its ``source``
so the report can say where an address came from; given values always win (the rule of
:func:`~auditapp.message.evidence.apply_learned`):

- ``message``: the sending hop of the domain's own received messages (auditapp/message/evidence.py);
- ``postfix``: the imported configuration's ``smtp_bind_address6`` (main.cf, and the ``-o`` of each
  SMTP client service in master.cf), if ``inet_protocols`` lets Postfix use IPv6 at all (``all`` or
  a list with ``ipv6``; unset means Postfix's default ``all``). That address is what the MTA binds
  its outgoing connections to, so it is audited like a given one.
  Postfix that may send over IPv6 without a configured source address is a warning instead: the
  kernel picks the address, and only the admin knows which (knowledge base B10);
- ``spf``: single addresses (``ip6:`` with no prefix or ``/128``) in the audited domain's own SPF
  record. **These are candidates only, never audited.** An SPF term is an authorisation, not
  proof that the address sends: a record lists old servers, a provider's spare address, a
  colleague's test box. Auditing them would turn "no PTR" on an address that may never send into
  a high-severity PTR-MISSING a real sender would not deserve. They are listed as evidence of the
  per-IP rules that could not run (no sending IPs) and in the run's target, so the consultant can
  confirm one and give it with ``--server-ip``.

Where in the pipeline: the Postfix step needs no network and runs in
:func:`auditapp.audit.prepare.prepare`, where the configuration is known. The SPF step needs one
DNS question (the domain's TXT record, nothing followed); it is a small async step at the start of
the engine's run, only when the target has no sending IPs, because preparing never touches the
network and the candidates change no job of the run.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from auditapp.core.target import AuditTarget, LearnedValue
from auditapp.dnsclient import DnsClient
from auditapp.spf import SpfSyntaxError, parse_record, select_spf_records

#: The field of SPF candidates in ``AuditTarget.learned``: not ``server_ips``, they are not audited.
SPF_CANDIDATES = "sender_candidates"


def given_ips(target: AuditTarget) -> bool:
    """Whether the user gave sending IPs (learned ones do not count)."""
    return any(target.learned_from("server_ips", ip) is None for ip in target.server_ips)


def _uses_ipv6(config: Any) -> tuple[bool, str]:
    """Whether Postfix may use IPv6 (``inet_protocols``), and the setting as evidence."""
    p = config.get("inet_protocols")
    words = [w.lower() for w in p.words()] or ["all"]  # unset: Postfix's default is "all"
    cited = p.cite() if p.value else "inet_protocols = all (Postfix default)"
    return ("all" in words or "ipv6" in words), cited


def postfix_senders(config: Any) -> tuple[list[LearnedValue], list[str]]:
    """IPv6 sending addresses of a Postfix configuration, and warnings for what it leaves unknown."""
    from auditapp.postfix import PostfixConfig

    if not isinstance(config, PostfixConfig):
        return [], []
    ipv6, protocols = _uses_ipv6(config)
    if not ipv6:
        return [], []
    # main.cf, and each SMTP client service's own -o smtp_bind_address6 (a multi-address sender).
    binds = [config.get("smtp_bind_address6")]
    binds += [config.get("smtp_bind_address6", svc) for svc in config.smtp_client_services()]
    found: list[LearnedValue] = []
    for bind in binds:
        for word in bind.words() if not bind.unknown else []:
            try:
                addr = ipaddress.IPv6Address(word.strip("[]"))
            except ValueError:
                continue
            usable = not (addr.is_unspecified or addr.is_loopback or addr.is_link_local)
            if usable and str(addr) not in (x.value for x in found):
                found.append(LearnedValue("server_ips", str(addr), bind.cite(), source="postfix"))
    if found:
        return found, []
    return [], [f"Postfix may send over IPv6 ({protocols}) but smtp_bind_address6 names no address: the IPv6 "
                "sending address is unknown, so its PTR, FCrDNS, SPF and blocklist checks cannot run. Give it "
                "with --server-ip (or restrict outbound mail to IPv4: smtp_address_preference / inet_protocols)."]


def apply_postfix_senders(target: AuditTarget, config: Any) -> tuple[AuditTarget, list[str]]:
    """``target`` with the Postfix IPv6 senders added unless the user gave IPs; plus warnings.

    Addresses learned from messages stay: the bind address is added to them, since both are
    observations of the same server, not guesses to choose between.
    """
    found, warnings = postfix_senders(config)
    if given_ips(target):
        return target, []
    if any(":" in ip for ip in target.server_ips):
        warnings = []  # a message already showed an IPv6 sender
    new = [x for x in found if x.value not in target.server_ips]
    if not new:
        return target, warnings
    return replace(target, server_ips=(*target.server_ips, *(x.value for x in new)),
                   learned=(*target.learned, *new)), warnings


def spf_candidates(texts: Sequence[str], domain: str) -> list[LearnedValue]:
    """Single IPv6 addresses (``ip6:ADDR`` or ``/128``) of the domain's own SPF record, as candidates."""
    records = select_spf_records(texts)
    if len(records) != 1:
        return []
    try:
        record = parse_record(records[0])
    except SpfSyntaxError:
        return []
    out: list[LearnedValue] = []
    for m in record.mechanisms:
        net = m.network
        if m.name == "ip6" and m.qualifier == "+" and net is not None and net.prefixlen == 128:
            value = str(net.network_address)
            if value not in (x.value for x in out):
                out.append(LearnedValue(SPF_CANDIDATES, value, f"SPF {domain}: {m.text}", source="spf"))
    return out


async def with_spf_candidates(dns: DnsClient, target: AuditTarget) -> AuditTarget:
    """``target`` with its SPF record's single IPv6 addresses as candidates, if it has no sending IPs."""
    if target.server_ips:
        return target
    answer = await dns.query(target.domain, "TXT")
    found = spf_candidates(answer.texts, target.domain) if answer.ok else []
    return replace(target, learned=(*target.learned, *found)) if found else target


def candidate_evidence(target: AuditTarget) -> tuple[str, ...]:
    """Evidence lines naming the SPF candidates, for the per-IP rules that had no IPs to judge."""
    found = [x for x in target.learned if x.field == SPF_CANDIDATES]
    if not found:
        return ()
    return (f"IPv6 sender candidates from SPF, not audited (an SPF authorisation does not prove the address "
            f"sends; confirm one and give it with --server-ip): {', '.join(x.value for x in found)}",
            *(x.message for x in found))


def postfix_note(config: Any, target: AuditTarget) -> tuple[str, ...]:
    """The warning of :func:`postfix_senders` as evidence, while the target has no IPv6 sending address.

    The run carries it too (the per-IP rules that had no IPs to judge), so the command line and
    the report show it, not only the window's run page that lists the preparation's warnings.
    """
    if any(":" in ip for ip in target.server_ips):
        return ()
    return tuple(postfix_senders(config)[1])
