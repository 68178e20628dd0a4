"""The report as plain data: one :class:`ReportDocument` per (run, language), built before rendering.

Why a model first: the PDF renderer (reportlab), a future HTML export and the GUI preview all
show the same content, and plain frozen dataclasses can be compared and snapshot-tested without
any toolkit (architecture.md §E7). Every decision about *what* the report says — order of
sections, grade, which results count, how actions are ranked, all words in both languages — is
made here; the renderer only decides *how it looks*.

Escaping rule. All strings are raw, unescaped text. Strings that came (even partly) from the
network or from a person — DNS answers, banners, certificate subjects, host names, the client
name, justifications, finding details with such values filled in — are :class:`Untrusted`
instances (a ``str`` subclass, so they behave as text). A renderer must escape *every* string,
and for :class:`Untrusted` ones must additionally expect anything: markup-like text such as
``<font>`` or ``&`` that has to appear literally, control characters, and kilobytes without a
space that must wrap anywhere. String operations on an :class:`Untrusted` (``+``, f-strings,
``join``) return a plain ``str`` and drop the mark, so the model never combines them and a
renderer should not either before escaping. Plain ``str`` fields come from the rule catalog or
``reports/boilerplate/report.toml`` and are ours.

Sections (:attr:`ReportDocument.sections`) come in the order of issue #5: management summary,
scope and method, findings by category (the five technical categories), policy and legal (the
``policy_legal`` category, with the legal background and the "not legal advice" note), action
plan, accepted risks, appendix. The cover is separate (:attr:`ReportDocument.cover`) because it
has no title in the table of contents.
"""

from __future__ import annotations

import string
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from auditapp.catalog import CATEGORIES, Catalog, Rule, catalog
from auditapp.catalog.wording import render_finding, render_reason, severity_label, status_label
from auditapp.core.compare import ComparedResult, compare_runs
from auditapp.core.model import Finding, Run, Severity, Status
from auditapp.core.review_layer import ReviewLayer, RunSummary, run_day, run_summary
from auditapp.core.validation import display_domain
from auditapp.report.document import (
    BLOCK_EVIDENCE_LINES,
    AcceptedRow,
    AcceptedSection,
    ActionPlan,
    ActionRow,
    Appendix,
    CategoryLight,
    CategorySection,
    Cover,
    Delta,
    DeltaItem,
    EvidenceEntry,
    Fact,
    FindingBlock,
    FindingsSection,
    GlossaryEntry,
    GradingRow,
    HostRow,
    ManagementSummary,
    NotTestedItem,
    PassedItem,
    PolicySection,
    ReportDocument,
    RuleIndexRow,
    ScopeMethod,
    Section,
    SeverityCount,
    TlsScanRow,
    TopAction,
    Untrusted,
)
from auditapp.report.grading import GRADE_TABLE, Grade, effort_for, light_for
from auditapp.report.hosting import hosting_label, hosting_sentence
from auditapp.report.inputs import AcceptedRisk, ReportMeta, ReviewNote
from auditapp.report.message_texts import with_message_texts
from auditapp.report.messages import judged, learned_values, message_section
from auditapp.report.texts import (
    ReportTexts,
    format_date,
    format_datetime,
    format_number,
    placeholders,
    texts,
)
from auditapp.report.untested import group_not_tested

#: The categories with their own block in "findings by category"; policy_legal has its own section.
TECHNICAL_CATEGORIES = tuple(c for c in CATEGORIES if c != "policy_legal")
SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)
TOP_ACTIONS = 5
#: The status shown for a failed result covered by a valid accepted-risk entry.
ACCEPTED = "accepted"


def _u(value: Any) -> Untrusted:
    return Untrusted("" if value is None else str(value))


#: Characters of a subject shown in headings and table cells, and of a justification in the
#: register table. Longer texts are cut with an ellipsis (the run's JSON keeps them whole): a
#: subject of some thousand characters otherwise ran a table row over eight pages (issue 12).
SUBJECT_SHOWN = 200
JUSTIFICATION_SHOWN = 600


def _cut(value: Any, limit: int) -> Untrusted:
    text = "" if value is None else str(value)
    return Untrusted(text if len(text) <= limit else text[: limit - 1] + "…")


# --- building ----------------------------------------------------------------------------------


@dataclass
class _Item:
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


class _Builder:
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

    def items(self, run: Run) -> list[_Item]:
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
            out.append(_Item(f, self.cat[f.rule], render_finding(f, self.lang, self.cat), cover, f"r{i}",
                             comments, override, catalog_severity))
        return out

    def sort_key(self, item: _Item) -> tuple[int, int, str]:
        return (-item.finding.severity.rank, self.order[item.finding.rule], item.finding.subject)

    def report_order(self, item: _Item) -> tuple[int, int, str]:
        """Category in report order, then catalog order, then subject: how appendix lists read."""
        return (CATEGORIES.index(item.rule.category), self.order[item.finding.rule], item.finding.subject)

    # blocks

    def status_text(self, f: Finding) -> str:
        """A failed info-severity result is a note ("no action needed"), not "failed" (knowledge base §0.2)."""
        if f.status is Status.FAIL and f.severity is Severity.INFO:
            return self.t("label.note")
        return status_label(f.status, self.lang)

    def block(self, item: _Item) -> FindingBlock:
        f, text = item.finding, item.text
        label = self.t("label.accepted") if item.accepted else self.status_text(f)
        return FindingBlock(
            anchor=item.anchor, rule=f.rule, title=text["title"], category=item.rule.category,
            severity=f.severity, severity_label=severity_label(f.severity, self.lang), status=item.status,
            status_label=label, subject=_cut(f.subject, SUBJECT_SHOWN), detail=_u(text["detail"]),
            business_meaning=_meaning(text["explanation"], f), remediation=_u(text["remediation"]),
            references=tuple(text["references"]), evidence=tuple(_u(e) for e in f.evidence),
            reason=_u(text["reason"]), accepted=item.accepted, legal=bool(item.rule.extra.get("legal")),
            comments=tuple(self.shown(n) for n in item.comments),
            override=self.shown(item.override) if item.override else None,
            catalog_severity_label=severity_label(item.catalog_severity, self.lang) if item.catalog_severity else "",
        )

    def shown(self, note: ReviewNote) -> ReviewNote:
        """The note as the report prints it: a person's text marked untrusted, the date in the locale."""
        return replace(note, text=_u(note.text), author=_u(note.author), at=format_date(note.at, self.lang))

    def category_section(self, category: str, items: list[_Item], grade: Grade) -> CategorySection:
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

    def tls_scan(self, items: list[_Item]) -> dict[str, Any]:
        """The TLS scan as one row per endpoint, from the parameters TLS-WEAK-CIPHER carries (issue 16)."""
        rows = []
        for i in sorted(items, key=lambda i: i.finding.subject):
            params = i.finding.params
            if i.finding.rule != "TLS-WEAK-CIPHER" or not params.get("scan_versions"):
                continue
            cls = {c: self.t(f"tls_scan.class.{c}") for c in ("good", "sufficient", "phase_out", "insufficient")}
            rows.append(TlsScanRow(
                endpoint=_cut(i.finding.subject, SUBJECT_SHOWN), service=str(params.get("service", "")),
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

    def compact(self, items: list[_Item], status: Status) -> tuple[PassedItem, ...]:
        chosen = sorted((i for i in items if i.finding.status is status),
                        key=lambda i: (self.order[i.finding.rule], i.finding.subject))
        return tuple(PassedItem(i.finding.rule, i.text["title"], _cut(i.finding.subject, SUBJECT_SHOWN))
                     for i in chosen)


class _Filled(dict[str, str]):
    """Missing values show as "-": a rationale must never print a raw ``{name}`` to a client."""

    def __missing__(self, key: str) -> str:
        return "-"


def _meaning(rationale: str, f: Finding) -> str:
    """The rule's rationale with the finding's values filled in (a few name ``{domain}``).

    :func:`auditapp.catalog.wording.render_finding` returns rationales unformatted; filled-in values come
    from the network, so a filled text is :class:`Untrusted`.
    """
    if not placeholders(rationale):
        return rationale
    values = _Filled({k: ", ".join(map(str, v)) if isinstance(v, list | tuple) else str(v)
                      for k, v in f.params.items()})
    values.setdefault("subject", f.subject)
    return _u(string.Formatter().vformat(rationale, (), values))


def _by_category(items: list[_Item]) -> dict[str, list[_Item]]:
    grouped: dict[str, list[_Item]] = {c: [] for c in CATEGORIES}
    for item in items:
        grouped.setdefault(item.rule.category, []).append(item)
    return grouped


def build_report(
    run: Run,
    *,
    lang: str,
    project_name: str = "",
    previous: Run | None = None,
    accepted: Sequence[AcceptedRisk] = (),
    reviews: Sequence[ReviewNote] = (),
    meta: ReportMeta | None = None,
    messages: Sequence[Any] = (),
) -> ReportDocument:
    """Turn one run into the report's content in ``lang`` ("de" or "en").

    ``previous`` adds the comparison to the management summary; ``accepted`` is the project's
    accepted-risk register and ``reviews`` the reviewer's comments and severity overrides (both
    applied to both runs, so an override does not show up as a "changed severity"); ``meta`` fills the cover.
    ``messages`` (the project's stored messages, or examined ones) add the "Message evidence"
    section for those the run judged (:func:`auditapp.report.messages.judged`).
    """
    tx = with_message_texts(texts())
    if lang not in ("de", "en"):
        raise ValueError(f"unsupported report language {lang!r}")
    b = _Builder(lang, catalog(), tx, ReviewLayer(tuple(accepted), tuple(reviews)))
    meta = meta or ReportMeta()
    items = b.items(run)
    grouped = _by_category(items)
    # Every count and grade comes from the core's one summary (the window shows the same numbers).
    numbers = run_summary(run, b.layer)
    grades = {c: numbers.categories[c].grade for c in grouped}

    cover = _cover(b, run, meta, project_name)
    sections = [
        Section("summary", b.t("section.summary"), _summary(b, run, items, numbers, previous)),
        Section("scope", b.t("section.scope"), _scope(b, run, items)),
        Section("findings", b.t("section.findings"), FindingsSection(
            intro=b.t("findings.intro"),
            categories=tuple(b.category_section(c, grouped[c], grades[c]) for c in TECHNICAL_CATEGORIES),
        )),
        Section("policy", b.t("section.policy"), _policy(b, grouped["policy_legal"], grades["policy_legal"])),
        Section("actions", b.t("section.actions"), _actions(b, items, _unknown(run, numbers))),
        Section("accepted", b.t("section.accepted"), _accepted(b, items, run_day(run))),
    ]
    # Evidence for the admin who checks the MSG-* findings: after everything a manager reads
    # (summary to accepted risks), before the appendix, which it resembles (see messages.py).
    evidence = judged(run, messages)
    if evidence:
        failed: dict[str, list[str]] = defaultdict(list)
        for i in sorted(items, key=b.report_order):
            if i.finding.rule.startswith("MSG-") and i.finding.status is Status.FAIL:
                failed[i.finding.subject].append(f"{i.finding.rule} – {i.text['title']}")
        section = message_section(b.t, lang, str(run.target.get("domain", "")), evidence, failed)
        sections.append(Section("messages", b.t("messages.section"), section))
    sections.append(Section("appendix", b.t("section.appendix"), _appendix(b, items)))
    labels = {k: v[lang] for k, v in tx.entries.items() if "{" not in v[lang]}
    from auditapp import __version__

    footer = b.t("page.generated", tool="auditapp", version=run.tool_version or __version__,
                 catalog=run.catalog_version or b.cat.version)
    watermark = tuple(b.t("watermark.degraded").split(" – ")) if run.degraded else ()
    return ReportDocument(lang=lang, cover=cover, sections=tuple(sections), labels=labels,
                          tool_version=run.tool_version, catalog_version=run.catalog_version, footer=footer,
                          page_template=tx.entries["page.of"][lang], watermark=watermark)


def _degraded_note(b: _Builder, run: Run) -> str:
    """The sentence that says a degraded run's numbers mean nothing (empty for a healthy run)."""
    if not run.degraded:
        return ""
    reason = render_reason(run.degraded_reason, b.lang, b.cat) if run.degraded_reason else ""
    return " ".join(b.t("summary.degraded", reason=reason).split())


def _unicode_domain(run: Run) -> str:
    """The U-label (``bücher.example``) people read; older runs stored only the A-label."""
    domain = str(run.target.get("domain", ""))
    return str(run.target.get("domain_unicode") or (display_domain(domain) if domain else ""))


def _cover(b: _Builder, run: Run, meta: ReportMeta, project_name: str) -> Cover:
    domain = _unicode_domain(run)
    return Cover(
        title=_u(meta.title or b.t("cover.title_default")),
        client=_u(meta.client or project_name),
        consultant=_u(meta.consultant), author=_u(meta.author),
        date=format_date(meta.date or run.finished or run.started, b.lang),
        version=_u(meta.version or b.t("cover.version_default")),
        classification=_u(meta.classification or b.t("cover.classification_default")),
        domain=_u(domain), consultant_logo=meta.consultant_logo, client_logo=meta.client_logo,
    )


def _summary(b: _Builder, run: Run, items: list[_Item], numbers: RunSummary,
             previous: Run | None) -> ManagementSummary:
    lights = []
    for c in CATEGORIES:
        n = numbers.categories[c]
        lights.append(CategoryLight(
            category=c, label=b.category_label(c), grade=n.grade, grade_label=b.grade_label(n.grade),
            light=n.light, light_label=b.t(f"light.{n.light.value}"), failed=n.open, passed=n.passed,
            not_tested=n.untested, accepted=n.accepted,
        ))
    open_items = [i for i in items if i.is_open]
    counts = tuple(SeverityCount(s, severity_label(s, b.lang), numbers.open_by_severity[s]) for s in SEVERITY_ORDER)
    grade, worst = numbers.grade, numbers.worst_category
    if worst is None:
        grade_text = b.t("summary.grade_not_assessed")
    else:
        grade_text = b.t("summary.grade_explain", grade=b.grade_label(grade), category=b.category_label(worst))
    notes = []
    hosting = hosting_sentence(b.t, run)
    if hosting:
        notes.append(hosting)
    for key, count in (("summary.not_tested_note", numbers.untested), ("summary.accepted_note", numbers.accepted)):
        if count:
            notes.append(b.t(f"{key}_one") if count == 1 else b.t(key, count=format_number(count, b.lang)))
    notes.append(b.t("summary.limits", catalog=run.catalog_version or b.cat.version))
    delta = _delta(b, run, previous) if previous is not None else None
    return ManagementSummary(
        grade=grade, grade_label=b.grade_label(grade), grade_text=grade_text, worst_category=worst,
        lights=tuple(lights), severity_counts=counts, top_actions=_top_actions(b, open_items),
        notes=tuple(notes), delta=delta, degraded_note=_degraded_note(b, run),
        no_actions=b.t("summary.no_actions_unknown" if _unknown(run, numbers) else "summary.no_actions"),
    )


def _unknown(run: Run, numbers: RunSummary) -> bool:
    """Whether an empty action list means "nothing could be said" rather than "nothing to do"."""
    return run.degraded or numbers.nothing_tested


def _group_by_rule(b: _Builder, open_items: list[_Item]) -> list[list[_Item]]:
    """Open results per rule, worst severity first, then in catalog order (stable between audits)."""
    groups: dict[str, list[_Item]] = defaultdict(list)
    for item in open_items:
        groups[item.finding.rule].append(item)
    ordered = [sorted(g, key=b.sort_key) for g in groups.values()]
    return sorted(ordered, key=lambda g: b.sort_key(g[0]))


def _top_actions(b: _Builder, open_items: list[_Item]) -> tuple[TopAction, ...]:
    out = []
    for group in _group_by_rule(b, open_items)[:TOP_ACTIONS]:
        first = group[0]
        subjects = len({i.finding.subject for i in group})
        out.append(TopAction(
            rule=first.finding.rule, severity=first.finding.severity,
            severity_label=severity_label(first.finding.severity, b.lang),
            text=b.t("summary.action_line", title=first.text["title"], subjects=b.subjects_text(subjects)),
        ))
    return tuple(out)


def _delta(b: _Builder, run: Run, previous: Run) -> Delta:
    """The management summary's "since the last audit", by the same rule as the GUI's history page.

    A result accepted since the previous run is left out here: it is listed in the risk register.
    """
    prev_grade = run_summary(previous, b.layer).grade
    diff = compare_runs(previous, run, layer=b.layer, rule_order=b.order)

    def entries(rows: tuple[ComparedResult, ...], *, with_previous: bool = False) -> tuple[DeltaItem, ...]:
        return tuple(DeltaItem(
            rule=r.rule, subject=_cut(r.subject, SUBJECT_SHOWN), title=b.cat[r.rule].title.get(b.lang),
            severity=r.severity,
            severity_label=severity_label(r.severity, b.lang),
            previous_severity=r.previous_severity if with_previous else None,
            previous_severity_label=severity_label(r.previous_severity, b.lang)
            if with_previous and r.previous_severity else "",
        ) for r in rows)

    prev_date = format_date(previous.finished or previous.started, b.lang)
    return Delta(
        previous_grade=prev_grade, previous_grade_label=b.grade_label(prev_grade), previous_date=prev_date,
        text=b.t("summary.previous_grade", grade=b.grade_label(prev_grade), date=prev_date),
        new=entries(diff.new), fixed=entries(diff.fixed), unchanged=entries(diff.unchanged, with_previous=True),
        changed=entries(diff.changed, with_previous=True), unverified=entries(diff.not_retested),
        caveat=render_reason(diff.caveat, b.lang, b.cat) if diff.caveat else "",
    )


def _scope(b: _Builder, run: Run, items: list[_Item]) -> ScopeMethod:
    target = run.target
    ips = learned_values(b.t, target, "server_ips", [str(ip) for ip in target.get("server_ips", ()) or ()])
    # A HELO learned from a message belongs to one sending address (the others were asked on port 25).
    helos = [str(target["helo"])] if target.get("helo") else list(dict.fromkeys(
        str(x.get("value")) for x in target.get("learned") or () if isinstance(x, dict) and x.get("field") == "helo"))
    helo = learned_values(b.t, target, "helo", helos)
    facts = [
        Fact(b.t("scope.domain"), _u(target.get("domain", ""))),
        Fact(b.t("scope.domain_unicode"), _u(_unicode_domain(run))),
        Fact(b.t("scope.server_ips"), _u(ips or "-")),
        Fact(b.t("scope.helo"), _u(helo or "-")),
        Fact(b.t("scope.hosting"), _u(hosting_label(b.t, run))),
        Fact(b.t("scope.resolver"), _u(run.resolver or "-")),
        Fact(b.t("scope.tool_version"), f"auditapp {run.tool_version}"),
        Fact(b.t("scope.catalog_version"), run.catalog_version),
        Fact(b.t("scope.started"), format_datetime(run.started, b.lang)),
        Fact(b.t("scope.finished"), format_datetime(run.finished, b.lang)),
        Fact(b.t("scope.duration"), b.t("scope.duration_value", seconds=format_number(run.duration_s, b.lang, 1))),
    ]
    if target.get("services") and "allow_internal" in target:
        # Only where it applied: runs with service probes, recorded since the rule exists.
        facts.insert(6, Fact(b.t("scope.internal"), b.t(
            "scope.internal_allowed" if target.get("allow_internal") else "scope.internal_refused")))
    selectors = [str(s) for s in target.get("dkim_selectors", ()) or ()]
    if any(x.get("field") == "dkim_selectors" for x in target.get("learned", ()) or () if isinstance(x, dict)):
        # Only where messages taught them (the reader should see where they came from); a list
        # the user gave is the project's own input and was not shown before issue 15 either.
        facts.insert(4, Fact(b.t("messages.dkim_selectors"),
                             _u(learned_values(b.t, target, "dkim_selectors", selectors))))
    hosts = tuple(
        HostRow(
            name=_u(h.get("name", "")), roles=tuple(str(r) for r in h.get("roles", ())),
            sources=tuple(_u(s) for s in h.get("sources", ())), addresses=tuple(_u(a) for a in h.get("addresses", ())),
        )
        for h in run.inventory.get("hosts", ()) or ()
        if isinstance(h, dict)
    )
    untested = sorted((i for i in items if i.finding.status in (Status.NOT_TESTED, Status.ERROR)), key=b.report_order)
    not_tested = tuple(
        NotTestedItem(
            rule=i.finding.rule, title=i.text["title"], category_label=b.category_label(i.rule.category),
            subject=_cut(i.finding.subject, SUBJECT_SHOWN), status=i.finding.status,
            status_label=status_label(i.finding.status, b.lang), reason=_u(i.text["reason"] or i.text["detail"]),
        )
        for i in untested
    )
    return ScopeMethod(
        position=b.t("scope.position"), facts=tuple(facts), hosts=hosts,
        cancelled_note=b.t("scope.cancelled") if run.cancelled else "",
        method=(b.t("method.intro"), b.t("method.grading"), b.t("method.excluded"), b.t("method.overrides"),
                b.t("method.catalog_note")),
        grading_table=tuple(GradingRow(g, b.t(key)) for g, key in GRADE_TABLE),
        effort_note=b.t("effort.explain"), not_tested=not_tested, not_tested_groups=group_not_tested(
            not_tested, lambda n: b.t("scope.checks_count_one") if n == 1 else
            b.t("scope.checks_count", count=format_number(n, b.lang))),
        degraded_note=_degraded_note(b, run),
    )


def _policy(b: _Builder, items: list[_Item], grade: Grade) -> PolicySection:
    untested = sorted((i for i in items if i.finding.status in (Status.NOT_TESTED, Status.ERROR)), key=b.sort_key)
    return PolicySection(
        intro=b.t("policy.intro"), disclaimer=b.t("policy.disclaimer"),
        category=b.category_section("policy_legal", items, grade),
        untested=tuple(b.block(i) for i in untested),
    )


def _actions(b: _Builder, items: list[_Item], unknown: bool) -> ActionPlan:
    groups = _group_by_rule(b, [i for i in items if i.is_open])
    groups.sort(key=lambda g: (-g[0].finding.severity.rank, effort_for(g[0].rule.family).rank,
                               b.order[g[0].finding.rule]))
    rows = []
    for n, group in enumerate(groups, start=1):
        first = group[0]
        effort = effort_for(first.rule.family)
        subjects = tuple(dict.fromkeys(_cut(i.finding.subject, SUBJECT_SHOWN) for i in group))
        remediation = tuple(dict.fromkeys(_u(i.text["remediation"]) for i in group if i.text["remediation"]))
        rows.append(ActionRow(
            number=n, rule=first.finding.rule, title=first.text["title"], severity=first.finding.severity,
            severity_label=severity_label(first.finding.severity, b.lang), effort=effort,
            effort_label=b.t(f"effort.{effort.value}"), subjects=subjects,
            subjects_text=b.subjects_text(len(subjects)), remediation=remediation,
        ))
    return ActionPlan(intro=b.t("actions.intro"), effort_note=b.t("effort.explain"), rows=tuple(rows),
                      none_text=b.t("actions.none_unknown" if unknown else "actions.none"))


def _accepted(b: _Builder, items: list[_Item], day: date | None) -> AcceptedSection:
    rows = []
    for risk in b.layer.accepted_risks:
        covered = sum(i.accepted is risk for i in items)
        if risk.expired_on(day):
            state = "expired"
        elif covered:
            state = "active"
        else:
            state = "unmatched"
        rule = b.cat.rules.get(risk.rule)
        rows.append(AcceptedRow(
            rule=risk.rule, title=rule.title.get(b.lang) if rule else "",
            subject=_cut(b.t("accepted.any_subject") if risk.every_subject else risk.subject, SUBJECT_SHOWN),
            justification=_cut(risk.justification, JUSTIFICATION_SHOWN), accepted_by=_u(risk.accepted_by),
            accepted_at=format_date(risk.accepted_at, b.lang),
            expires=format_date(risk.expires, b.lang) if risk.expires else b.t("accepted.no_expiry"),
            state=state, state_label=b.t(f"accepted.{state}"), results=covered,
        ))
    return AcceptedSection(intro=b.t("accepted.intro"), rows=tuple(rows))


def _appendix(b: _Builder, items: list[_Item]) -> Appendix:
    # Evidence of findings and of checks that could not be tested; passed checks keep theirs in
    # the JSON export (a 500-result audit would otherwise print hundreds of pages of "all fine").
    # A finding block already shows up to BLOCK_EVIDENCE_LINES lines; only longer evidence is
    # repeated here in full.
    def wanted(i: _Item) -> bool:
        if not i.finding.evidence:
            return False
        if i.accepted or i.finding.status is Status.FAIL:
            return len(i.finding.evidence) > BLOCK_EVIDENCE_LINES
        return i.finding.status not in (Status.PASS, Status.NOT_APPLICABLE)

    with_evidence = sorted((i for i in items if wanted(i)), key=b.report_order)
    evidence = tuple(
        EvidenceEntry(
            anchor=i.anchor, rule=i.finding.rule, title=i.text["title"], subject=_cut(i.finding.subject, SUBJECT_SHOWN),
            status_label=b.t("label.accepted") if i.accepted else b.status_text(i.finding),
            lines=tuple(_u(line) for line in i.finding.evidence),
        )
        for i in with_evidence
    )
    glossary = tuple(
        GlossaryEntry(b.t(f"{prefix}.term"), b.t(f"{prefix}.text"))
        for prefix in dict.fromkeys(k.rsplit(".", 1)[0] for k in b.tx.keys_under("glossary"))
    )
    per_rule: dict[str, dict[str, int]] = {}
    for i in items:
        counts = per_rule.setdefault(i.finding.rule, {})
        counts[i.status] = counts.get(i.status, 0) + 1
    status_order = [*(s.value for s in Status), ACCEPTED]
    index = []
    for rule_id in sorted(per_rule, key=lambda r: (CATEGORIES.index(b.cat[r].category), b.order[r])):
        rule, counts = b.cat[rule_id], per_rule[rule_id]
        summary = " · ".join(
            b.t("appendix.status_count", status=_status_text(b, s), count=format_number(counts[s], b.lang))
            for s in status_order if s in counts
        )
        index.append(RuleIndexRow(rule_id, rule.title.get(b.lang), b.category_label(rule.category), summary))
    return Appendix(evidence=evidence, glossary=glossary, rule_index=tuple(index))


def _status_text(b: _Builder, status: str) -> str:
    return b.t("label.accepted") if status == ACCEPTED else status_label(Status(status), b.lang)
