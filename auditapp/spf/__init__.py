"""RFC 7208 SPF: parsing, check_host() evaluation and a static audit walk of a domain's tree.

Our own implementation rather than pyspf, because every DNS question must go through the
injected asynchronous :class:`~auditapp.dnsclient.DnsClient` (shared cache, concurrency,
timeouts kept apart from "no record"), and because an audit needs more than a verdict: the
look-up and void counts, the trace and the DNS evidence behind the result.
"""

from __future__ import annotations

from auditapp.spf.errors import SpfSyntaxError
from auditapp.spf.evaluate import MAX_DNS_TERMS, MAX_VOID_LOOKUPS, check_host
from auditapp.spf.macros import MacroValues, expand, expand_domain
from auditapp.spf.record import (
    DNS_MECHANISMS,
    MECHANISMS,
    Mechanism,
    Modifier,
    SpfRecord,
    Term,
    is_spf_record,
    parse_record,
    select_spf_records,
)
from auditapp.spf.result import SpfEvaluation, SpfResult
from auditapp.spf.walk import SpfNode, SpfTree, walk_spf

__all__ = [
    "DNS_MECHANISMS",
    "MAX_DNS_TERMS",
    "MAX_VOID_LOOKUPS",
    "MECHANISMS",
    "MacroValues",
    "Mechanism",
    "Modifier",
    "SpfEvaluation",
    "SpfNode",
    "SpfRecord",
    "SpfResult",
    "SpfSyntaxError",
    "SpfTree",
    "Term",
    "check_host",
    "expand",
    "expand_domain",
    "is_spf_record",
    "parse_record",
    "select_spf_records",
    "walk_spf",
]
