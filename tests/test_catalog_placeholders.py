"""The engine's own results render for every rule: 'nothing to check' and the not-tested reasons.

The engine writes ``not_applicable``/``not_tested`` results with only ``{domain}`` as parameter
(audit/engine.py), so those outcome texts must not name anything else (a rule without a
``not_applicable`` text shows the reason instead); a rule whose ``not_applicable`` text named
``{endpoint}`` once printed the braces (issue 16).
"""

from __future__ import annotations

import pytest

from auditapp.catalog import catalog
from auditapp.catalog.wording import render_finding
from auditapp.core.model import Finding, Reason, Status


@pytest.mark.parametrize("rule_id", sorted(catalog().rules))
@pytest.mark.parametrize("lang", ["de", "en"])
def test_engine_results_render_without_placeholders(rule_id: str, lang: str) -> None:
    rule = catalog()[rule_id]
    for status, outcome, reason in (
            (Status.NOT_APPLICABLE, "not_applicable", Reason("reason.nothing_to_check")),
            (Status.NOT_TESTED, "not_tested", Reason("reason.services_off"))):
        finding = Finding(rule_id, status, rule.severity, "example.org", outcome, params={"domain": "example.org"},
                          reason=reason)
        shown = render_finding(finding, lang)
        for key in ("detail", "explanation", "reason"):
            assert "{" not in shown[key], f"{rule_id} ({lang}) {key}: {shown[key]}"
