"""A plain-data summary of what an audit looked at, for the run record and the reports."""

from __future__ import annotations

from typing import Any

from auditapp.collectors.facts import Facts


def build_inventory(facts: Facts) -> dict[str, Any]:
    """Hosts with roles, sources and addresses; every endpoint with its state and TLS facts."""
    inv: dict[str, Any] = {}
    if facts.hosting is not None and not facts.hosting.unknown:
        match = facts.hosting.match
        p = match.provider
        inv["hosting"] = {
            "hosted": match.hosted, "provider": p.id if p else None, "name": p.name if p else None,
            "kind": p.kind if p else None, "documentation": p.documentation if p else None,
            "mx_hosts": list(facts.hosting.mx_hosts), "matched": list(match.matched),
            "unmatched": list(match.unmatched),
        }
    if facts.discovery is not None:
        inv["hosts"] = [
            {"name": h.name, "roles": [r.value for r in h.roles], "sources": list(h.sources),
             "addresses": list(h.addresses)}
            for h in facts.discovery.hosts
        ]
    if facts.services:
        rows = []
        for (address, port, _service), p in sorted(facts.services.items()):
            row: dict[str, Any] = {"address": address, "port": port, "service": p.service, "state": p.state.value}
            if p.greeting:
                row["greeting"] = p.greeting[:120]
            if p.greeting_ms is not None:
                row["greeting_ms"] = round(p.greeting_ms)
            if p.tls is not None and p.tls.ok:
                row["tls"] = p.tls.version
                if p.tls.cert:
                    row["cert_not_after"] = p.tls.cert.not_after
                    if p.tls.cert.spki_sha256:
                        # The key the server presented: the next run's DANE-NO-ROLLOVER compares it.
                        row["spki_sha256"] = p.tls.cert.spki_sha256
            if p.problem:
                row["problem"] = p.problem
            rows.append(row)
        inv["endpoints"] = rows
    return inv
