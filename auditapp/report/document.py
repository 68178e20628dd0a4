"""The report document: the frozen dataclasses a renderer reads (built by :mod:`auditapp.report.model`).

Kept apart from the building code so a renderer, the GUI preview and tests can see the whole
shape of a report in one place. The escaping rule of :class:`Untrusted` is explained in
:mod:`auditapp.report.model`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from auditapp.core.model import Severity, Status
from auditapp.report.grading import Effort, Grade, Light

if TYPE_CHECKING:  # the inputs a finding block quotes (report/inputs.py imports Untrusted from here)
    from auditapp.report.inputs import AcceptedRisk, ReviewNote

#: Evidence lines a finding block shows; longer evidence is printed in full in the appendix.
BLOCK_EVIDENCE_LINES = 8


class Untrusted(str):
    """Text that came from the network or a person: render literally, escape, wrap anywhere."""

    __slots__ = ()



# --- document ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cover:
    title: Untrusted
    client: Untrusted
    consultant: Untrusted
    author: Untrusted
    date: str
    version: Untrusted
    classification: Untrusted
    domain: Untrusted
    consultant_logo: str
    client_logo: str


@dataclass(frozen=True)
class CategoryLight:
    """One traffic light of the management summary."""

    category: str
    label: str
    grade: Grade
    grade_label: str
    light: Light
    light_label: str
    failed: int
    passed: int
    not_tested: int
    accepted: int


@dataclass(frozen=True)
class SeverityCount:
    severity: Severity
    label: str
    count: int


@dataclass(frozen=True)
class TopAction:
    """One line of "most important actions": the rule's title and how many subjects it affects."""

    rule: str
    severity: Severity
    severity_label: str
    text: str


@dataclass(frozen=True)
class DeltaItem:
    rule: str
    subject: Untrusted
    title: str
    severity: Severity
    severity_label: str
    previous_severity: Severity | None = None
    previous_severity_label: str = ""


@dataclass(frozen=True)
class Delta:
    """Comparison with the previous run by (rule, subject), counting open (failed, not accepted) results.

    ``fixed`` needs a pass or "not applicable" now; a previously open result that is now not
    tested, errored or gone is ``unverified``, because "not tested" must never read as "fixed".
    """

    previous_grade: Grade
    previous_grade_label: str
    previous_date: str
    text: str
    new: tuple[DeltaItem, ...]
    fixed: tuple[DeltaItem, ...]
    unchanged: tuple[DeltaItem, ...]
    changed: tuple[DeltaItem, ...]
    unverified: tuple[DeltaItem, ...]
    #: Why the difference says nothing (either run degraded: the resolver did not answer), in the
    #: report's language; empty for a comparison of two healthy runs. Printed instead of a trend.
    caveat: str = ""


@dataclass(frozen=True)
class ManagementSummary:
    grade: Grade
    grade_label: str
    grade_text: str
    worst_category: str | None
    lights: tuple[CategoryLight, ...]
    severity_counts: tuple[SeverityCount, ...]
    top_actions: tuple[TopAction, ...]
    notes: tuple[str, ...]
    delta: Delta | None
    #: The sentence a degraded run's summary opens with (which resolver, how many questions
    #: failed, that the numbers mean nothing); empty for a healthy run.
    degraded_note: str = ""
    #: What stands where there are no top actions: "no action is needed", or, where the run
    #: could test (almost) nothing, that nothing can be said.
    no_actions: str = ""


@dataclass(frozen=True)
class Fact:
    """A label/value row (scope table)."""

    label: str
    value: str


@dataclass(frozen=True)
class HostRow:
    name: Untrusted
    roles: tuple[str, ...]
    sources: tuple[Untrusted, ...]
    addresses: tuple[Untrusted, ...]


@dataclass(frozen=True)
class NotTestedItem:
    rule: str
    title: str
    category_label: str
    subject: Untrusted
    status: Status
    status_label: str
    reason: Untrusted


@dataclass(frozen=True)
class NotTestedGroup:
    """Results that were not tested for one and the same reason, shown as one row of the scope table.

    Twenty-two service rules "not probed in this run" are one fact, not twenty-two rows
    (issue 14). ``rules`` are in report order; ``titles`` belong to them (the renderer shows a
    title where a group has a single rule); ``count_label`` is "22 checks" in the language.
    """

    rules: tuple[str, ...]
    titles: tuple[str, ...]
    subjects: tuple[Untrusted, ...]
    status: Status
    status_label: str
    reason: Untrusted
    count_label: str


@dataclass(frozen=True)
class GradingRow:
    grade: Grade
    text: str


@dataclass(frozen=True)
class ScopeMethod:
    position: str
    facts: tuple[Fact, ...]
    hosts: tuple[HostRow, ...]
    cancelled_note: str
    method: tuple[str, ...]
    grading_table: tuple[GradingRow, ...]
    effort_note: str
    not_tested: tuple[NotTestedItem, ...]
    #: ``not_tested`` merged by reason (what the PDF prints), largest group first.
    not_tested_groups: tuple[NotTestedGroup, ...] = ()
    #: The degraded-run sentence again, beside the resolver it names; empty for a healthy run.
    degraded_note: str = ""


@dataclass(frozen=True)
class FindingBlock:
    """One open, accepted or untested result with everything an admin needs to act on it."""

    anchor: str  # unique within the document, for links between a block and its evidence
    rule: str
    title: str
    category: str
    severity: Severity
    severity_label: str
    status: str  # a Status value or ACCEPTED
    status_label: str
    subject: Untrusted
    detail: Untrusted
    business_meaning: str  # the rule's rationale; in the policy section, the legal background
    remediation: Untrusted
    references: tuple[str, ...]
    evidence: tuple[Untrusted, ...]
    reason: Untrusted
    accepted: AcceptedRisk | None = None
    #: Reviewer comments, oldest first, and the severity override in force (its note and the
    #: catalog's severity label, so the reader sees both).
    comments: tuple[ReviewNote, ...] = ()
    override: ReviewNote | None = None
    catalog_severity_label: str = ""
    #: The rationale is legal background (catalog ``extra.legal``), not a technical explanation.
    legal: bool = False


@dataclass(frozen=True)
class PassedItem:
    rule: str
    title: str
    subject: Untrusted


@dataclass(frozen=True)
class TlsScanRow:
    """One TLS endpoint in the transport-security section's compact scan table (issue 16)."""

    endpoint: Untrusted
    service: str
    versions: str
    #: Best and worst suite class, in the report language ("gut" … "unzureichend").
    best: str
    worst: str
    forward_secrecy: str
    key: str
    ocsp: str


@dataclass(frozen=True)
class CategorySection:
    category: str
    title: str
    grade: Grade
    grade_label: str
    light: Light
    findings: tuple[FindingBlock, ...]
    passed: tuple[PassedItem, ...]
    not_applicable: tuple[PassedItem, ...]
    not_tested_count: int
    #: transport_security only: the TLS scan per endpoint, and the note on port 25 below it.
    tls_scan: tuple[TlsScanRow, ...] = ()
    tls_scan_note: str = ""
    #: A short explanation for managers under the heading ("" for none).
    explainer: str = ""


@dataclass(frozen=True)
class FindingsSection:
    intro: str
    categories: tuple[CategorySection, ...]


@dataclass(frozen=True)
class PolicySection:
    intro: str
    disclaimer: str
    category: CategorySection
    untested: tuple[FindingBlock, ...]


@dataclass(frozen=True)
class ActionRow:
    number: int
    rule: str
    title: str
    severity: Severity
    severity_label: str
    effort: Effort
    effort_label: str
    subjects: tuple[Untrusted, ...]
    subjects_text: str
    remediation: tuple[Untrusted, ...]
    owner: str = ""
    due: str = ""


@dataclass(frozen=True)
class ActionPlan:
    intro: str
    effort_note: str
    rows: tuple[ActionRow, ...]
    #: The sentence for an empty plan (see :attr:`ManagementSummary.no_actions`).
    none_text: str = ""


@dataclass(frozen=True)
class AcceptedRow:
    rule: str
    title: str
    subject: Untrusted
    justification: Untrusted
    accepted_by: Untrusted
    accepted_at: str
    expires: str
    state: str  # "active", "expired" or "unmatched"
    state_label: str
    results: int  # failed results this entry covers in the run


@dataclass(frozen=True)
class AcceptedSection:
    intro: str
    rows: tuple[AcceptedRow, ...]


@dataclass(frozen=True)
class EvidenceEntry:
    anchor: str
    rule: str
    title: str
    subject: Untrusted
    status_label: str
    lines: tuple[Untrusted, ...]


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    text: str


@dataclass(frozen=True)
class RuleIndexRow:
    rule: str
    title: str
    category_label: str
    summary: str  # e.g. "fail: 2 · pass: 1"


@dataclass(frozen=True)
class Appendix:
    evidence: tuple[EvidenceEntry, ...]
    glossary: tuple[GlossaryEntry, ...]
    rule_index: tuple[RuleIndexRow, ...]


@dataclass(frozen=True)
class HostNode:
    """One server of a message's route as the diagram draws it (built by :mod:`auditapp.report.messages`).

    ``side`` is ``sender`` (the sender's own servers, up to the one that handed the message
    over), ``receiver``, or ``unknown`` when the hand-over hop is not known.
    """

    name: Untrusted
    ip: Untrusted
    helo: Untrusted
    side: str


@dataclass(frozen=True)
class HopLink:
    """One ``Received:`` hop between two neighbouring :class:`HostNode` s of the route."""

    number: int  # 1-based, oldest first (the hop table uses the same numbers)
    protocol: Untrusted
    tls: Untrusted  # "TLSv1.3", "TLS", or the words for "no TLS"
    no_tls: bool
    delay: str  # "2 s", "" when unknown
    handover: bool  # the hop the receiver judged (``MessageEvidence.sending_index``)
    sender: bool  # made by the sender's own servers


@dataclass(frozen=True)
class HopRow:
    """A hop of the table under the diagram: the full names the diagram may have shortened."""

    number: int
    from_text: Untrusted  # name, [IP], HELO
    by: Untrusted
    transport: Untrusted
    delay: str
    handover: bool
    sender: bool
    no_tls: bool


@dataclass(frozen=True)
class VerdictRow:
    """One line of a message's verification table: our verdict (of the import) beside the receiver's."""

    method: str  # DKIM, ARC, SPF, DMARC
    detail: Untrusted
    result: str  # RFC 8601 word
    reason: Untrusted
    receiver: Untrusted  # the receiver's word (and reason), or "not reported"
    differs: bool
    note: Untrusted  # the sentence on a difference, else ""


@dataclass(frozen=True)
class MessageEntry:
    """One message: heading facts, the route (``links[i]`` joins ``nodes[i]`` and ``nodes[i+1]``; None is a gap)."""

    anchor: str
    message_id: Untrusted
    from_text: Untrusted  # the full address only for the audited domain, else "…@domain"
    envelope: Untrusted
    received: str
    verified: Untrusted
    nodes: tuple[HostNode, ...]
    links: tuple[HopLink | None, ...]
    hops: tuple[HopRow, ...]
    verdicts: tuple[VerdictRow, ...]
    notes: tuple[str, ...] = ()
    #: The run's failed MSG-* results for this message, "rule – title", in catalog order.
    findings: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageSection:
    intro: str
    messages: tuple[MessageEntry, ...]


Body = (ManagementSummary | ScopeMethod | FindingsSection | PolicySection | ActionPlan | AcceptedSection
        | MessageSection | Appendix)


@dataclass(frozen=True)
class Section:
    key: str  # summary, scope, findings, policy, actions, accepted, messages (only with messages), appendix
    title: str
    body: Body


@dataclass(frozen=True)
class ReportDocument:
    """Everything a renderer needs; ``labels`` holds every fixed text of report.toml in ``lang``."""

    lang: str
    cover: Cover
    sections: tuple[Section, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    tool_version: str = ""
    catalog_version: str = ""
    footer: str = ""
    #: "Page {page} of {pages}" in ``lang``; only the renderer knows the numbers (see :meth:`page_label`).
    page_template: str = ""
    #: Lines of the diagonal mark on every page of a degraded run ("Ergebnis ohne Aussagekraft" /
    #: "Resolver antwortete nicht"); empty for a healthy run. The renderer's ``draft`` mark is separate.
    watermark: tuple[str, ...] = ()

    def page_label(self, page: int, pages: int) -> str:
        return self.page_template.format(page=page, pages=pages)

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)


SECTION_KEYS = ("summary", "scope", "findings", "policy", "actions", "accepted", "appendix")
