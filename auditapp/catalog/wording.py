"""Turn language-neutral findings into text in German or English."""

from __future__ import annotations

import string
from typing import Any

from auditapp.catalog import Catalog, catalog
from auditapp.core.model import Finding, Reason, Run, Severity, Status
from auditapp.core.problem import Problem

LANGS = ("de", "en")
#: Reason parameters that may hold a problem text without its key (see :func:`_problem`).
_PROBLEM_PARAMS = ("problem", "what", "why")


class _Params(dict[str, Any]):
    """Missing placeholders stay visible as ``{name}`` instead of crashing a report."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fmt(template: str, params: dict[str, Any]) -> str:
    values = _Params({k: _show(v) for k, v in params.items()})
    return string.Formatter().vformat(template, (), values)


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    return str(value)


def render_problem(value: str, lang: str, cat: Catalog | None = None) -> str:
    """A probe's problem (:class:`~auditapp.core.problem.Problem`, or an old text without key) in ``lang``."""
    return _problem(value, lang, cat or catalog())


def _problem(value: str, lang: str, cat: Catalog) -> str:
    """A probe's problem in ``lang``, written from its message key (:mod:`auditapp.core.problem`).

    Nested problems are written the same way; plain parameters (a server's reply, an OpenSSL
    reason) stay as they came. Text without a key (a run saved before problems had keys, a
    check's own fallback such as "no relay probe") is matched against the English texts of
    the ``problem.*`` messages without placeholders; anything else stays as it is.
    """
    if isinstance(value, Problem) and value.key in cat.messages:
        params = {k: _problem(v, lang, cat) for k, v in value.params.items()}
        return _fmt(cat.message(value.key).get(lang), params)
    key = _plain_problems(cat).get(str(value))
    return cat.message(key).get(lang) if key else str(value)


#: The last catalog seen, with its index English text -> key of the ``problem.*`` messages without placeholders.
_plain: tuple[Catalog, dict[str, str]] | None = None


def _plain_problems(cat: Catalog) -> dict[str, str]:
    global _plain
    if _plain is None or _plain[0] is not cat:
        _plain = (cat, {text.en: key for key, text in cat.messages.items()
                        if key.startswith("problem.") and not text.placeholders()})
    return _plain[1]


def _why(value: Any, lang: str, cat: Catalog) -> Any:
    """Translate a parameter: a ``why.*`` message key (``why.suffix|local``), a ``{de, en}`` text, a problem.

    Texts from the data files (a provider's DKIM convention, a blocklist code's meaning) are
    stored in both languages in the finding, so a report can be written in the other one.
    """
    if isinstance(value, Problem):
        return _problem(value, lang, cat)
    if isinstance(value, dict) and set(value) == {"de", "en"}:
        return value[lang]
    if isinstance(value, str) and value.startswith("why."):
        key, _, arg = value.partition("|")
        if key in cat.messages:
            return _fmt(cat.message(key).get(lang), {"arg": arg})
    return value


def render_reason(reason: Reason, lang: str, cat: Catalog | None = None) -> str:
    cat = cat or catalog()
    params = {k: _why(v, lang, cat) for k, v in reason.params.items()}
    for name in _PROBLEM_PARAMS:
        value = reason.params.get(name)
        if isinstance(value, str) and not isinstance(value, Problem) and not value.startswith("why."):
            params[name] = _problem(value, lang, cat)  # a text without its key
    if reason.key == "reason.dns_failure":
        params["what"] = cat.message(f"dns.{params.get('outcome', 'error')}").get(lang)
        if params.get("detail"):
            params["what"] += f" ({params['detail']})"
    if reason.key == "run.degraded":
        outcome = f"dns.{params.get('outcome', 'error')}"
        params["what"] = cat.message(outcome if outcome in cat.messages else "dns.error").get(lang)
    if reason.key == "reason.no_helo" and params.get("why", "") == "":
        params["why"] = "-"
    if reason.key == "reason.unanswered":
        from auditapp.questionnaire import questionnaire

        question = questionnaire().questions.get(params.get("id", ""))
        if question is not None:
            params["question"] = question.title.get(lang)
    return _fmt(cat.message(reason.key).get(lang), params)


def status_label(status: Status, lang: str) -> str:
    return catalog().message(f"status.{status.value}").get(lang)


def severity_label(severity: Severity, lang: str) -> str:
    return catalog().message(f"severity.{severity.value}").get(lang)


def render_finding(f: Finding, lang: str, cat: Catalog | None = None) -> dict[str, Any]:
    """The JSON shape of one result (schema auditapp.result/1)."""
    cat = cat or catalog()
    rule = cat[f.rule]
    params = {k: _why(v, lang, cat) for k, v in f.params.items()}
    if "source" in params:
        label = f"helo_source.{params['source']}"
        if label in cat.messages:
            params["source"] = cat.message(label).get(lang)
    spec = rule.outcomes.get(f.outcome)
    detail = _fmt(spec.text.get(lang), params) if spec else ""
    reason = render_reason(f.reason, lang, cat) if f.reason else ""
    if not detail and reason:
        detail = reason
    remediation = ""
    if f.status is Status.FAIL:
        rem = spec.remediation if spec and spec.remediation else rule.remediation
        remediation = _fmt(rem.get(lang), params)
    return {
        "rule": f.rule,
        "status": f.status.value,
        "severity": f.severity.value,
        "subject": f.subject,
        "title": rule.title.get(lang),
        "detail": detail,
        "explanation": _fmt(rule.rationale.get(lang), params),
        "remediation": remediation,
        "references": [ref.get(lang) for ref in rule.references],
        "evidence": list(f.evidence),
        "reason": reason,
        "category": rule.category,
    }


def _reason_json(reason: Reason | None, lang: str, cat: Catalog) -> dict[str, Any] | None:
    """A run-level reason for machines (key and parameters) and people (``text`` in ``lang``)."""
    if reason is None:
        return None
    return {**reason.to_json(), "text": render_reason(reason, lang, cat)}


def summarize(findings: list[Finding]) -> dict[str, Any]:
    by_status = {s.value: 0 for s in Status}
    failed_by_severity = {s.value: 0 for s in Severity}
    for f in findings:
        by_status[f.status.value] += 1
        if f.status is Status.FAIL:
            failed_by_severity[f.severity.value] += 1
    return {"total": len(findings), "by_status": by_status, "failed_by_severity": failed_by_severity}


def run_to_json(run: Run, lang: str) -> dict[str, Any]:
    """The documented machine-readable result (``auditapp.result/1``)."""
    from auditapp import __version__

    cat = catalog()
    return {
        "schema": "auditapp.result/1",
        "tool": {"name": "auditapp", "version": __version__, "catalog_version": run.catalog_version,
                 "resolver": run.resolver, "language": lang},
        "target": run.target,
        "started": run.started,
        "finished": run.finished,
        "cancelled": run.cancelled,
        # Added in issue 14 (the schema stays auditapp.result/1: fields are only ever added).
        "degraded": run.degraded,
        "degraded_reason": _reason_json(run.degraded_reason, lang, cat),
        "inventory": run.inventory,
        "results": [render_finding(f, lang, cat) for f in run.findings],
        "summary": summarize(run.findings),
    }
