"""Judging received messages outside an audit: the MSG-* rules over examined messages alone.

``auditapp message`` has no audited domain; each message is judged as its own sender's (the
From domain is the target), with the same checks and catalog an audit uses, so a verdict never
depends on which command produced it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from auditapp.catalog import Catalog, catalog
from auditapp.checks import registered
from auditapp.checks.registry import run_check
from auditapp.collectors.facts import Facts
from auditapp.core.model import Finding
from auditapp.core.target import AuditTarget
from auditapp.message.evidence import MessageEvidence

#: The family of the rules that read messages (catalog/data/message.toml).
FAMILY = "message"


def message_rules(cat: Catalog | None = None) -> list[str]:
    cat = cat or catalog()
    return [rule_id for rule_id, rule in cat.rules.items() if rule.family == FAMILY]


def judge_message(evidence: MessageEvidence, domain: str | None = None, cat: Catalog | None = None,
                  now: datetime | None = None, allow_internal: bool = False) -> list[Finding]:
    """Every MSG-* result for one message, judged as ``domain``'s (default: its From domain).

    ``allow_internal``: the messages went through internal servers only (a lab), so a client on a
    loopback or private address submitted over the network rather than on the server itself.
    """
    cat = cat or catalog()
    facts = Facts(messages=(evidence,), done={"messages"})
    target = AuditTarget(domain=domain or evidence.headers.from_domain or "invalid", services=False,
                         allow_internal=allow_internal)
    regs = registered()
    findings: list[Finding] = []
    for rule_id in message_rules(cat):
        findings.extend(run_check(regs[rule_id], cat, facts, target, now or datetime.now(UTC)))
    return findings


def judge_messages(evidence: Sequence[MessageEvidence], cat: Catalog | None = None,
                   allow_internal: bool = False) -> list[list[Finding]]:
    """:func:`judge_message` for each message, in order."""
    cat = cat or catalog()
    return [judge_message(ev, cat=cat, allow_internal=allow_internal) for ev in evidence]
