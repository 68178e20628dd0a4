"""What every part of the report model shares: the builder (language, catalog, texts, review layer), one
result with its review (:class:`Item`), and the marking of untrusted text.

Split from :mod:`auditapp.report.model` (which builds the sections) so the builder and its small
helpers can be read, and tested, apart from the section order.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, replace
from typing import Any

from auditapp.catalog import CATEGORIES, Catalog, Rule
from auditapp.catalog.wording import render_finding, severity_label, status_label
from auditapp.core.model import Finding, Run, Severity, Status
from auditapp.core.review_layer import ReviewLayer, run_day
from auditapp.report.document import (
    CategorySection,
    FindingBlock,
    PassedItem,
    TlsScanRow,
    Untrusted,
)
from auditapp.report.grading import Grade, light_for
from auditapp.report.inputs import AcceptedRisk, ReviewNote
from auditapp.report.texts import (
    ReportTexts,
    format_date,
    format_number,
    placeholders,
)

#: The categories with their own block in "findings by category"; policy_legal has its own section.

TECHNICAL_CATEGORIES = tuple(c for c in CATEGORIES if c != "policy_legal")
SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)
TOP_ACTIONS = 5
#: The status shown for a failed result covered by a valid accepted-risk entry.
ACCEPTED = "accepted"


def untrusted(value: Any) -> Untrusted:
    return Untrusted("" if value is None else str(value))


#: Characters of a subject shown in headings and table cells, and of a justification in the
#: register table. Longer texts are cut with an ellipsis (the run's JSON keeps them whole): a
#: subject of some thousand characters otherwise ran a table row over eight pages (issue 12).
SUBJECT_SHOWN = 200
JUSTIFICATION_SHOWN = 600


def cut(value: Any, limit: int) -> Untrusted:
    text = "" if value is None else str(value)
    return Untrusted(text if len(text) <= limit else text[: limit - 1] + "…")


# --- building ----------------------------------------------------------------------------------


@dataclass
class Item:
    """One finding with its rendered texts and the acceptance that covers it (if any)."""

    finding: Finding
    rule: Rule
    text: dict[str, Any]
    accepted: AcceptedRisk | None
    anchor: str = ""
    comments: tuple[ReviewNote, ...] = ()
    override: ReviewNote | None = None
    catalog_severity: Severity | None = None

    @property
    def status(self) -> str:
        return ACCEPTED if self.accepted else self.finding.status.value

    @property
    def is_open(self) -> bool:
        return self.finding.status is Status.FAIL and self.accepted is None


class Builder:
    def __init__(self, lang: str, cat: Catalog, tx: ReportTexts, layer: ReviewLayer) -> None:
        self.lang, self.cat, self.tx = lang, cat, tx
        self.order = {rule_id: i for i, rule_id in enumerate(cat.rules)}
        #: The project's review: which acceptance covers a result, which severity counts.
        self.layer = layer

    def t(self, key: str, **params: Any) -> str:
        return self.tx.get(key, self.lang, **params)

    def grade_label(self, grade: Grade) -> str:
        return self.t(f"grade.{grade.value}")

    def category_label(self, category: str) -> str:
        return self.t(f"category.{category}")

    def subjects_text(self, n: int) -> str:
        return self.t("count.subjects_one") if n == 1 else self.t("count.subjects_many", n=format_number(n, self.lang))

    def items(self, run: Run) -> list[Item]:
        day = run_day(run)
        out = []
        for i, f in enumerate(run.findings):
            if f.rule not in self.cat:
                raise ValueError(f"run {run.id}: rule {f.rule} is not in the catalog (version {self.cat.version})")
            cover = self.layer.acceptance_for(f, day)
            override = self.layer.override_for(f)
            severity = self.layer.effective_severity(f)
            catalog_severity = None
            if severity is not f.severity:
                catalog_severity = f.severity
                f = replace(f, severity=severity)
            comments = tuple(self.layer.comments_for(f))
            out.append(Item(f, self.cat[f.rule], render_finding(f, self.lang, self.cat), cover, f"r{i}",
                             comments, override, catalog_severity))
        return out

    def sort_key(self, item: Item) -> tuple[int, int, str]:
        return (-item.finding.severity.rank, self.order[item.finding.rule], item.finding.subject)

    def report_order(self, item: Item) -> tuple[int, int, str]:
        """Category in report order, then catalog order, then subject: how appendix lists read."""
        return (CATEGORIES.index(item.rule.category), self.order[item.finding.rule], item.finding.subject)

    # blocks

    def status_text(self, f: Finding) -> str:
        """A failed info-severity result is a note ("no action needed"), not "failed" (knowledge base §0.2)."""
        if f.status is Status.FAIL and f.severity is Severity.INFO:
            return self.t("label.note")
        return status_label(f.status, self.lang)

    def block(self, item: Item) -> FindingBlock:
        f, text = item.finding, item.text
        label = self.t("label.accepted") if item.accepted else self.status_text(f)
        return FindingBlock(
            anchor=item.anchor, rule=f.rule, title=text["title"], category=item.rule.category,
            severity=f.severity, severity_label=severity_label(f.severity, self.lang), status=item.status,
            status_label=label, subject=cut(f.subject, SUBJECT_SHOWN), detail=untrusted(text["detail"]),
            business_meaning=meaning(text["explanation"], f), remediation=untrusted(text["remediation"]),
            references=tuple(text["references"]), evidence=tuple(untrusted(e) for e in f.evidence),
            reason=untrusted(text["reason"]), accepted=item.accepted, legal=bool(item.rule.extra.get("legal")),
            comments=tuple(self.shown(n) for n in item.comments),
            override=self.shown(item.override) if item.override else None,
            catalog_severity_label=severity_label(item.catalog_severity, self.lang) if item.catalog_severity else "",
        )

    def shown(self, note: ReviewNote) -> ReviewNote:
        """The note as the report prints it: a person's text marked untrusted, the date in the locale."""
        return replace(note, text=untrusted(note.text), author=untrusted(note.author),
                       at=format_date(note.at, self.lang))

    def category_section(self, category: str, items: list[Item], grade: Grade) -> CategorySection:
        shown = sorted((i for i in items if i.finding.status is Status.FAIL), key=self.sort_key)
        return CategorySection(
            category=category, title=self.category_label(category), grade=grade,
            grade_label=self.grade_label(grade), light=light_for(grade),
            findings=tuple(self.block(i) for i in shown),
            passed=self.compact(items, Status.PASS), not_applicable=self.compact(items, Status.NOT_APPLICABLE),
            not_tested_count=sum(i.finding.status in (Status.NOT_TESTED, Status.ERROR) for i in items),
            **self.tls_scan(items),
            # A manager reads DNSSEC and DANE here first (issue 16): what they are, in two sentences.
            explainer=self.t("category_explainer.transport_security") if category == "transport_security" else "",
        )

    def tls_scan(self, items: list[Item]) -> dict[str, Any]:
        """The TLS scan as one row per endpoint, from the parameters TLS-WEAK-CIPHER carries (issue 16)."""
        rows = []
        for i in sorted(items, key=lambda i: i.finding.subject):
            params = i.finding.params
            if i.finding.rule != "TLS-WEAK-CIPHER" or not params.get("scan_versions"):
                continue
            cls = {c: self.t(f"tls_scan.class.{c}") for c in ("good", "sufficient", "phase_out", "insufficient")}
            rows.append(TlsScanRow(
                endpoint=cut(i.finding.subject, SUBJECT_SHOWN), service=str(params.get("service", "")),
                versions=str(params["scan_versions"]),
                best=cls.get(str(params.get("scan_best", "")), "–"),
                worst=cls.get(str(params.get("scan_worst", "")), "–"),
                forward_secrecy=self.t(f"tls_scan.fs.{params.get('scan_fs', 'none')}"),
                key=str(params.get("scan_key") or "–"),
                ocsp=self.t(f"tls_scan.ocsp.{params.get('scan_ocsp') or 'unknown'}"),
            ))
        if not rows:
            return {}
        return {"tls_scan": tuple(rows), "tls_scan_note": self.t("tls_scan.note")}

    def compact(self, items: list[Item], status: Status) -> tuple[PassedItem, ...]:
        chosen = sorted((i for i in items if i.finding.status is status),
                        key=lambda i: (self.order[i.finding.rule], i.finding.subject))
        return tuple(PassedItem(i.finding.rule, i.text["title"], cut(i.finding.subject, SUBJECT_SHOWN))
                     for i in chosen)


class Filled(dict[str, str]):
    """Missing values show as "-": a rationale must never print a raw ``{name}`` to a client."""

    def __missing__(self, key: str) -> str:
        return "-"


def meaning(rationale: str, f: Finding) -> str:
    """The rule's rationale with the finding's values filled in (a few name ``{domain}``).

    :func:`auditapp.catalog.wording.render_finding` returns rationales unformatted; filled-in values come
    from the network, so a filled text is :class:`Untrusted`.
    """
    if not placeholders(rationale):
        return rationale
    values = Filled({k: ", ".join(map(str, v)) if isinstance(v, list | tuple) else str(v)
                      for k, v in f.params.items()})
    values.setdefault("subject", f.subject)
    return untrusted(string.Formatter().vformat(rationale, (), values))


def by_category(items: list[Item]) -> dict[str, list[Item]]:
    grouped: dict[str, list[Item]] = {c: [] for c in CATEGORIES}
    for item in items:
        grouped.setdefault(item.rule.category, []).append(item)
    return grouped



def status_text(b: Builder, status: str) -> str:
    return b.t("label.accepted") if status == ACCEPTED else status_label(Status(status), b.lang)
