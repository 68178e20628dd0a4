"""Who runs the audited domain's mail, in the words of the report (summary note and scope table).

Said once, in the management summary, so that no reader blames the customer for a hosted
provider's servers; the data comes from the run's inventory (the ``hosting`` fact).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditapp.core.model import Run

Translate = Callable[..., str]


def _hosting(run: Run) -> dict[str, Any] | None:
    h = run.inventory.get("hosting") if isinstance(run.inventory, dict) else None
    return h if isinstance(h, dict) else None


def hosting_sentence(t: Translate, run: Run) -> str:
    """The summary note for a hosted domain or a filtering gateway; "" for self-run mail."""
    h = _hosting(run)
    if not h or not h.get("hosted") or not h.get("name"):
        return ""
    key = "summary.gateway" if h.get("kind") == "gateway" else "summary.hosted"
    return t(key, provider=str(h["name"]), mx=", ".join(str(m) for m in h.get("mx_hosts", ())))


def hosting_label(t: Translate, run: Run) -> str:
    """The scope table's "mail hosting" value: provider, mixed, or own servers."""
    h = _hosting(run)
    if not h:
        return "-"
    if h.get("hosted"):
        return f"{h.get('name')} ({h.get('documentation')})"
    if h.get("name") and h.get("matched"):
        return t("scope.hosting_partial", provider=str(h["name"]), matched=", ".join(h["matched"]),
                 unmatched=", ".join(h.get("unmatched", ())))
    return t("scope.self_hosted")
