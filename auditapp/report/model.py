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

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from auditapp.catalog import CATEGORIES, catalog
from auditapp.catalog.wording import render_reason, severity_label, status_label
from auditapp.core.compare import ComparedResult, compare_runs
from auditapp.core.model import Run, Status
from auditapp.core.review_layer import ReviewLayer, RunSummary, run_day, run_summary
from auditapp.core.validation import display_domain
from auditapp.report.builder import (
    ACCEPTED,
    JUSTIFICATION_SHOWN,
    SEVERITY_ORDER,
    SUBJECT_SHOWN,
    TECHNICAL_CATEGORIES,
    TOP_ACTIONS,
    Builder,
    Item,
    by_category,
    cut,
    status_text,
    untrusted,
)
from auditapp.report.document import (
    BLOCK_EVIDENCE_LINES,
    AcceptedRow,
    AcceptedSection,
    ActionPlan,
    ActionRow,
    Appendix,
    CategoryLight,
    Cover,
    Delta,
    DeltaItem,
    EvidenceEntry,
    Fact,
    FindingsSection,
    GlossaryEntry,
    GradingRow,
    HostRow,
    ManagementSummary,
    NotTestedItem,
    PolicySection,
    ReportDocument,
    RuleIndexRow,
    ScopeMethod,
    Section,
    SeverityCount,
    TopAction,
)
from auditapp.report.grading import GRADE_TABLE, Grade, effort_for
from auditapp.report.hosting import hosting_label, hosting_sentence
from auditapp.report.inputs import AcceptedRisk, ReportMeta, ReviewNote
from auditapp.report.message_texts import with_message_texts
from auditapp.report.messages import judged, learned_values, message_section
from auditapp.report.texts import (
    format_date,
    format_datetime,
    format_number,
    texts,
)
from auditapp.report.untested import group_not_tested


#: The categories with their own block in "findings by category"; policy_legal has its own section.
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
    b = Builder(lang, catalog(), tx, ReviewLayer(tuple(accepted), tuple(reviews)))
    meta = meta or ReportMeta()
    items = b.items(run)
    grouped = by_category(items)
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


def _degraded_note(b: Builder, run: Run) -> str:
    """The sentence that says a degraded run's numbers mean nothing (empty for a healthy run)."""
    if not run.degraded:
        return ""
    reason = render_reason(run.degraded_reason, b.lang, b.cat) if run.degraded_reason else ""
    return " ".join(b.t("summary.degraded", reason=reason).split())


def _unicode_domain(run: Run) -> str:
    """The U-label (``bücher.example``) people read; older runs stored only the A-label."""
    domain = str(run.target.get("domain", ""))
    return str(run.target.get("domain_unicode") or (display_domain(domain) if domain else ""))


def _cover(b: Builder, run: Run, meta: ReportMeta, project_name: str) -> Cover:
    domain = _unicode_domain(run)
    return Cover(
        title=untrusted(meta.title or b.t("cover.title_default")),
        client=untrusted(meta.client or project_name),
        consultant=untrusted(meta.consultant), author=untrusted(meta.author),
        date=format_date(meta.date or run.finished or run.started, b.lang),
        version=untrusted(meta.version or b.t("cover.version_default")),
        classification=untrusted(meta.classification or b.t("cover.classification_default")),
        domain=untrusted(domain), consultant_logo=meta.consultant_logo, client_logo=meta.client_logo,
    )


def _summary(b: Builder, run: Run, items: list[Item], numbers: RunSummary,
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


def _group_by_rule(b: Builder, open_items: list[Item]) -> list[list[Item]]:
    """Open results per rule, worst severity first, then in catalog order (stable between audits)."""
    groups: dict[str, list[Item]] = defaultdict(list)
    for item in open_items:
        groups[item.finding.rule].append(item)
    ordered = [sorted(g, key=b.sort_key) for g in groups.values()]
    return sorted(ordered, key=lambda g: b.sort_key(g[0]))


def _top_actions(b: Builder, open_items: list[Item]) -> tuple[TopAction, ...]:
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


def _delta(b: Builder, run: Run, previous: Run) -> Delta:
    """The management summary's "since the last audit", by the same rule as the GUI's history page.

    A result accepted since the previous run is left out here: it is listed in the risk register.
    """
    prev_grade = run_summary(previous, b.layer).grade
    diff = compare_runs(previous, run, layer=b.layer, rule_order=b.order)

    def entries(rows: tuple[ComparedResult, ...], *, with_previous: bool = False) -> tuple[DeltaItem, ...]:
        return tuple(DeltaItem(
            rule=r.rule, subject=cut(r.subject, SUBJECT_SHOWN), title=b.cat[r.rule].title.get(b.lang),
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


def _decimals(value: float) -> int:
    """As many decimals as the value has, up to two: 2 s, 0.5 s, 0.15 s (never "0.1 s" for 0.15)."""
    return next((d for d in (0, 1) if round(value, d) == value), 2)


def _scope(b: Builder, run: Run, items: list[Item]) -> ScopeMethod:
    target = run.target
    ips = learned_values(b.t, target, "server_ips", [str(ip) for ip in target.get("server_ips", ()) or ()])
    # A HELO learned from a message belongs to one sending address (the others were asked on port 25).
    helos = [str(target["helo"])] if target.get("helo") else list(dict.fromkeys(
        str(x.get("value")) for x in target.get("learned") or () if isinstance(x, dict) and x.get("field") == "helo"))
    helo = learned_values(b.t, target, "helo", helos)
    facts = [
        Fact(b.t("scope.domain"), untrusted(target.get("domain", ""))),
        Fact(b.t("scope.domain_unicode"), untrusted(_unicode_domain(run))),
        Fact(b.t("scope.server_ips"), untrusted(ips or "-")),
        Fact(b.t("scope.helo"), untrusted(helo or "-")),
        Fact(b.t("scope.hosting"), untrusted(hosting_label(b.t, run))),
        Fact(b.t("scope.resolver"), untrusted(run.resolver or "-")),
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
    interval = target.get("connect_interval")
    if target.get("services") and isinstance(interval, int | float) and interval > 0:
        # Why the run took minutes, and that the next run needs the same pause (collectors/pacing.py).
        facts.append(Fact(b.t("scope.connect_interval"), b.t(
            "scope.connect_interval_value", seconds=format_number(float(interval), b.lang, _decimals(interval)))))
    selectors = [str(s) for s in target.get("dkim_selectors", ()) or ()]
    if any(x.get("field") == "dkim_selectors" for x in target.get("learned", ()) or () if isinstance(x, dict)):
        # Only where messages taught them (the reader should see where they came from); a list
        # the user gave is the project's own input and was not shown before issue 15 either.
        facts.insert(4, Fact(b.t("messages.dkim_selectors"),
                             untrusted(learned_values(b.t, target, "dkim_selectors", selectors))))
    hosts = tuple(
        HostRow(
            name=untrusted(h.get("name", "")), roles=tuple(str(r) for r in h.get("roles", ())),
            sources=tuple(untrusted(s) for s in h.get("sources", ())),
            addresses=tuple(untrusted(a) for a in h.get("addresses", ())),
        )
        for h in run.inventory.get("hosts", ()) or ()
        if isinstance(h, dict)
    )
    untested = sorted((i for i in items if i.finding.status in (Status.NOT_TESTED, Status.ERROR)), key=b.report_order)
    not_tested = tuple(
        NotTestedItem(
            rule=i.finding.rule, title=i.text["title"], category_label=b.category_label(i.rule.category),
            subject=cut(i.finding.subject, SUBJECT_SHOWN), status=i.finding.status,
            status_label=status_label(i.finding.status, b.lang), reason=untrusted(i.text["reason"] or i.text["detail"]),
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


def _policy(b: Builder, items: list[Item], grade: Grade) -> PolicySection:
    untested = sorted((i for i in items if i.finding.status in (Status.NOT_TESTED, Status.ERROR)), key=b.sort_key)
    return PolicySection(
        intro=b.t("policy.intro"), disclaimer=b.t("policy.disclaimer"),
        category=b.category_section("policy_legal", items, grade),
        untested=tuple(b.block(i) for i in untested),
    )


def _actions(b: Builder, items: list[Item], unknown: bool) -> ActionPlan:
    groups = _group_by_rule(b, [i for i in items if i.is_open])
    groups.sort(key=lambda g: (-g[0].finding.severity.rank, effort_for(g[0].rule.family).rank,
                               b.order[g[0].finding.rule]))
    rows = []
    for n, group in enumerate(groups, start=1):
        first = group[0]
        effort = effort_for(first.rule.family)
        subjects = tuple(dict.fromkeys(cut(i.finding.subject, SUBJECT_SHOWN) for i in group))
        remediation = tuple(dict.fromkeys(untrusted(i.text["remediation"]) for i in group if i.text["remediation"]))
        rows.append(ActionRow(
            number=n, rule=first.finding.rule, title=first.text["title"], severity=first.finding.severity,
            severity_label=severity_label(first.finding.severity, b.lang), effort=effort,
            effort_label=b.t(f"effort.{effort.value}"), subjects=subjects,
            subjects_text=b.subjects_text(len(subjects)), remediation=remediation,
        ))
    return ActionPlan(intro=b.t("actions.intro"), effort_note=b.t("effort.explain"), rows=tuple(rows),
                      none_text=b.t("actions.none_unknown" if unknown else "actions.none"))


def _accepted(b: Builder, items: list[Item], day: date | None) -> AcceptedSection:
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
            subject=cut(b.t("accepted.any_subject") if risk.every_subject else risk.subject, SUBJECT_SHOWN),
            justification=cut(risk.justification, JUSTIFICATION_SHOWN), accepted_by=untrusted(risk.accepted_by),
            accepted_at=format_date(risk.accepted_at, b.lang),
            expires=format_date(risk.expires, b.lang) if risk.expires else b.t("accepted.no_expiry"),
            state=state, state_label=b.t(f"accepted.{state}"), results=covered,
        ))
    return AcceptedSection(intro=b.t("accepted.intro"), rows=tuple(rows))


def _appendix(b: Builder, items: list[Item]) -> Appendix:
    # Evidence of findings and of checks that could not be tested; passed checks keep theirs in
    # the JSON export (a 500-result audit would otherwise print hundreds of pages of "all fine").
    # A finding block already shows up to BLOCK_EVIDENCE_LINES lines; only longer evidence is
    # repeated here in full.
    def wanted(i: Item) -> bool:
        if not i.finding.evidence:
            return False
        if i.accepted or i.finding.status is Status.FAIL:
            return len(i.finding.evidence) > BLOCK_EVIDENCE_LINES
        return i.finding.status not in (Status.PASS, Status.NOT_APPLICABLE)

    with_evidence = sorted((i for i in items if wanted(i)), key=b.report_order)
    evidence = tuple(
        EvidenceEntry(
            anchor=i.anchor, rule=i.finding.rule, title=i.text["title"], subject=cut(i.finding.subject, SUBJECT_SHOWN),
            status_label=b.t("label.accepted") if i.accepted else b.status_text(i.finding),
            lines=tuple(untrusted(line) for line in i.finding.evidence),
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
            b.t("appendix.status_count", status=status_text(b, s), count=format_number(counts[s], b.lang))
            for s in status_order if s in counts
        )
        index.append(RuleIndexRow(rule_id, rule.title.get(b.lang), b.category_label(rule.category), summary))
    return Appendix(evidence=evidence, glossary=glossary, rule_index=tuple(index))
