"""Organisational and legal rules over the questionnaire answers (knowledge base R3-R7b, R9-R12, B22).

These rules see no network and no configuration: the consultant's answers are their only facts.
A missing answer never becomes a pass. A rule reports ``not_tested`` naming the first question it
still needs (``reason.unanswered``); when the questionnaire was not part of the run at all
(``Facts.answers is None``), it names the first question that feeds it. Answers that make a rule
irrelevant (private use forbidden and the ban enforced, no archive, ...) give ``not_applicable``.
Every verdict carries the answers it rests on as evidence, so a reader of the report can see
which statement of the client led to it.

The rule bodies read answers only through :class:`Answers`, which refuses questions that do not
list the rule in ``feeds`` or that the questionnaire hides for the given answers. The catalog
therefore documents exactly what each rule depends on, and the GUI never hides a question a rule
is waiting for; the tests run every rule over all answer combinations to hold both promises.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from auditapp.checks.registry import CheckContext, check
from auditapp.core.model import Finding, Reason
from auditapp.questionnaire.schema import Question, Questionnaire, questionnaire

NEEDS = ("answers",)

#: What a written rule on private use must cover (knowledge base R7, first finding).
REQUIRED_POLICY_TOPICS = ("access", "deputies", "logging", "archiving")
#: Below these many years the archive misses § 257 HGB / § 147 AO (letters) and BEG IV (vouchers).
LETTERS_YEARS = 6
VOUCHERS_YEARS = 8
#: What a mailbox-access procedure must lay down (POL-MAILBOX-ACCESS-UNREGULATED), in catalog order.
ACCESS_PROCESS = ("written_procedure", "person_involved", "four_eyes", "logged", "private_excluded")
#: What a restore from a mailbox backup must follow (POL-BACKUP-PRIVATE-MAIL), in catalog order.
RESTORE_RULES = ("documented_request", "four_eyes", "logged", "owner_informed")


class Unanswered(Exception):
    """A rule needs an answer that is not there; the wrapper turns this into ``not_tested``."""

    def __init__(self, question_id: str) -> None:
        super().__init__(question_id)
        self.question_id = question_id


class Answers:
    """The answers as one rule may see them: checked, typed, and recorded as evidence."""

    def __init__(self, rule_id: str, raw: Mapping[str, Any], q: Questionnaire) -> None:
        self._rule_id = rule_id
        self._raw = raw
        self._q = q
        self.used: list[tuple[str, Any]] = []

    def get(self, question_id: str) -> Any:
        """The validated answer, or :class:`Unanswered`.

        Reading a question that does not feed this rule, or one that is hidden for the current
        answers, is a bug in the rule (the catalog would lie about the rule's inputs, or the GUI
        would hide a question the rule waits for) and raises ``LookupError``.
        """
        question = self._q[question_id]
        if self._rule_id not in question.feeds:
            raise LookupError(f"{self._rule_id} reads {question_id}, whose 'feeds' does not list it")
        if not self._q.visible(question_id, self._raw):
            raise LookupError(f"{self._rule_id} reads {question_id}, which is hidden for these answers")
        value = self._raw.get(question_id)
        if value is None or (question.type == "text" and isinstance(value, str) and not value.strip()):
            raise Unanswered(question_id)
        value = question.check(value)
        self.used.append((question_id, value))
        return value

    def visible(self, question_id: str) -> bool:
        """Whether ``question_id`` is shown for the current answers (a hidden question must not be read)."""
        return self._q.visible(question_id, self._raw)

    def evidence(self) -> tuple[str, ...]:
        return tuple(f"{qid} = {json.dumps(value, ensure_ascii=False)}" for qid, value in self.used)


PolicyFn = Callable[[CheckContext, Answers], Finding]


def unanswered(ctx: CheckContext, question: Question, evidence: Sequence[str] = ()) -> Finding:
    """``not_tested`` because ``question`` has no answer (the GUI renders de/en from the catalog)."""
    return ctx.not_tested(ctx.domain, Reason("reason.unanswered", {"question": question.title.en, "id": question.id}),
                          evidence)


def policy_check(rule_id: str) -> Callable[[PolicyFn], PolicyFn]:
    """Register ``fn(ctx, answers) -> Finding`` as the check of ``rule_id`` over the answers."""

    def deco(fn: PolicyFn) -> PolicyFn:
        def run(ctx: CheckContext) -> Iterator[Finding]:
            yield _evaluate(ctx, fn)

        run.__name__ = fn.__name__
        run.__doc__ = fn.__doc__
        check(rule_id, needs=NEEDS)(run)
        return fn

    return deco


def _evaluate(ctx: CheckContext, fn: PolicyFn) -> Finding:
    q = questionnaire()
    raw = ctx.facts.answers
    if raw is None:
        return unanswered(ctx, q.feeding(ctx.rule.id)[0])
    answers = Answers(ctx.rule.id, raw, q)
    try:
        finding = fn(ctx, answers)
    except Unanswered as exc:
        return unanswered(ctx, q[exc.question_id], answers.evidence())
    return replace(finding, evidence=answers.evidence() + finding.evidence)


def labelled(name: str, question_id: str, keys: Sequence[str]) -> dict[str, Any]:
    """Params for a list of choices that must read in the report's language.

    The catalog texts use ``{name_de}`` / ``{name_en}`` (see the note in policy.toml); the stable
    keys go along as ``name_keys`` for machine readers.
    """
    question = questionnaire()[question_id]
    labels = [question.choice(k).label for k in keys]
    return {
        f"{name}_de": ", ".join(t.de for t in labels),
        f"{name}_en": ", ".join(_in_sentence(t.en) for t in labels),
        f"{name}_keys": list(keys),
    }


def gap_list(ctx: CheckContext, name: str, keys: Sequence[str]) -> dict[str, Any]:
    """Like :func:`labelled`, for the missing elements a rule names in its ``extra.gaps`` table."""
    gaps = ctx.rule.extra["gaps"]
    return {
        f"{name}_de": ", ".join(gaps[k]["de"] for k in keys),
        f"{name}_en": ", ".join(gaps[k]["en"] for k in keys),
        f"{name}_keys": list(keys),
    }


def _in_sentence(label: str) -> str:
    """``"Deputies during absence"`` reads ``"deputies during absence"`` inside a sentence.

    Only a plain capitalised first word is lowered, so names such as ``GmbH`` stay intact. German
    labels are left alone: their capitals are nouns.
    """
    word = label.split(" ", 1)[0]
    if word[:1].isupper() and word[1:].islower():
        return label[:1].lower() + label[1:]
    return label


def no_private_mail(a: Answers) -> bool:
    """Private use is forbidden and the ban is enforced: no private mail is expected on the system."""
    return a.get("private_use.status") == "forbidden" and a.get("private_use.ban_enforced") is True


# -- private use (R7) -----------------------------------------------------------------------------

@policy_check("POL-PRIVATE-USE-UNREGULATED")
def private_use_unregulated(ctx: CheckContext, a: Answers) -> Finding:
    """R7: allowed or tolerated use needs a written rule on access, deputies, logging, archiving."""
    status = a.get("private_use.status")
    if status == "unregulated":
        return ctx.fail(ctx.domain, "no_decision")
    if status == "forbidden":
        if a.get("private_use.ban_enforced"):
            return ctx.passed(ctx.domain, outcome="forbidden")
        return ctx.fail(ctx.domain, "ban_not_enforced")
    if a.get("private_use.policy") == "none":
        return ctx.fail(ctx.domain, "no_rule")
    topics = a.get("private_use.policy_topics")
    missing = [t for t in REQUIRED_POLICY_TOPICS if t not in topics]
    if missing:
        return ctx.fail(ctx.domain, "incomplete", **labelled("missing", "private_use.policy_topics", missing))
    return ctx.passed(ctx.domain)


@policy_check("POL-PRIVATE-USE-SHARED-INFRA")
def private_use_shared_infra(ctx: CheckContext, a: Answers) -> Finding:
    """R7 (c) and R7b: private mail mixed into business mailboxes, unless a rule separates it."""
    status = a.get("private_use.status")
    if status == "forbidden":
        if a.get("private_use.ban_enforced"):
            return ctx.not_applicable(ctx.domain)
        return ctx.fail(ctx.domain, "ban_not_enforced")
    where = a.get("private_use.separate_infra")
    if where == "external_webmail":
        return ctx.passed(ctx.domain)
    if where == "separate_mailbox":
        return ctx.passed(ctx.domain, outcome="own_infra")
    # Private mail in the business mailbox: acceptable when the written rule separates it.
    separated = (
        status != "unregulated"
        and a.get("private_use.policy") != "none"
        and "separation" in a.get("private_use.policy_topics")
    )
    if separated:
        return ctx.passed(ctx.domain, outcome="separated_by_rule")
    return ctx.fail(ctx.domain, "shared")


@policy_check("POL-WORKS-AGREEMENT-MISSING")
def works_agreement_missing(ctx: CheckContext, a: Answers) -> Finding:
    """R7: co-determination (§ 87 Abs. 1 Nr. 6 BetrVG) for systems *suitable* for monitoring.

    The BAG asks whether a system is objectively suitable for monitoring individual employees, not
    whether anyone evaluates its data (1 ABR 20/74; 1 ABR 7/15): "we do not evaluate" never passes
    while logs, filters or an archive exist. Whether data is evaluated only chooses the wording.
    """
    if not a.get("private_use.works_council"):
        return ctx.not_applicable(ctx.domain)
    systems = a.get("private_use.monitoring_systems")
    if not systems:
        return ctx.not_applicable(ctx.domain, outcome="no_systems")
    if a.get("private_use.status") != "unregulated" and a.get("private_use.policy") == "works_agreement":
        return ctx.passed(ctx.domain)
    params = labelled("systems", "private_use.monitoring_systems", systems)
    return ctx.fail(ctx.domain, "missing" if a.get("private_use.monitoring") else "not_evaluated", **params)


@policy_check("POL-MAILBOX-ACCESS-UNREGULATED")
def mailbox_access_unregulated(ctx: CheckContext, a: Answers) -> Finding:
    """R7: deputies without opening mailboxes, a procedure for access without consent, and departure."""
    gaps: list[str] = []
    if not a.get("absence.deputies"):
        gaps.append("deputies")
    process = a.get("absence.access_process")
    gaps += [k for k in ACCESS_PROCESS if k not in process]
    departure = a.get("absence.departure")
    if departure == "none":
        gaps.append("departure")
    elif departure == "kept_open":
        gaps.append("departure_kept_open")
    if gaps:
        return ctx.fail(ctx.domain, "gaps", **gap_list(ctx, "gaps", gaps))
    return ctx.passed(ctx.domain)


# -- signature (R5) -------------------------------------------------------------------------------

@policy_check("POL-SIGNATURE-MANDATORY-DETAILS")
def signature_mandatory_details(ctx: CheckContext, a: Answers) -> Finding:
    """R5: the details the legal form requires, per the table in the rule's ``extra.legal_forms``.

    A condition whose question is hidden for these answers does not apply (outstanding contributions
    matter only when capital is stated at all).
    """
    form = a.get("signature.legal_form")
    if form == "other":
        return ctx.not_applicable(ctx.domain, outcome="other_form")
    row = ctx.rule.extra["legal_forms"][form]
    required = set(row["required"])
    for cond in row["conditional"]:
        if a.visible(cond["question"]) and a.get(cond["question"]):
            required |= set(cond["details"])
    present = set(a.get("signature.details"))
    order = questionnaire()["signature.details"].choice_keys
    missing = [k for k in order if k in required - present]
    params = {"legal_form": row["label"], "statute": row["statute"], "enforcement": row["enforcement"]}
    if missing:
        return ctx.fail(ctx.domain, "missing", **params, **labelled("missing", "signature.details", missing))
    return ctx.passed(ctx.domain, **params)


@policy_check("POL-SIGNATURE-ON-PRIVATE-MAIL")
def signature_on_private_mail(ctx: CheckContext, a: Answers) -> Finding:
    """R5: a business signature forced onto private mail creates an appearance of authority."""
    if no_private_mail(a):
        return ctx.not_applicable(ctx.domain)
    if a.get("signature.attachment") == "server_all":
        return ctx.fail(ctx.domain, "forced")
    return ctx.passed(ctx.domain)


# -- disclaimer (R6) ------------------------------------------------------------------------------

@policy_check("POL-DISCLAIMER-RELIANCE")
def disclaimer_reliance(ctx: CheckContext, a: Answers) -> Finding:
    """R6: a disclaimer on its own is no finding (pass); relying on it instead of encryption is."""
    if not a.get("disclaimer.used"):
        return ctx.not_applicable(ctx.domain)
    if a.get("disclaimer.relied_upon"):
        return ctx.fail(ctx.domain, "relied_upon")
    return ctx.passed(ctx.domain)


@policy_check("POL-SENSITIVE-MAIL-UNENCRYPTED")
def sensitive_mail_unencrypted(ctx: CheckContext, a: Answers) -> Finding:
    """R6/B22: content encryption (S/MIME, OpenPGP) for special categories and professional secrets.

    Enforced TLS is appropriate for confidential business information; for Art. 9 data and professional
    secrets only content encryption passes.
    """
    content = a.get("encryption.sensitive_content")
    if content == "none":
        return ctx.not_applicable(ctx.domain)
    special = content == "special_categories"
    method = a.get("encryption.method")
    if method == "end_to_end":
        return ctx.passed(ctx.domain)
    if method == "content_encryption":
        return ctx.passed(ctx.domain, outcome="content_encryption")
    if method == "enforced_tls":
        return ctx.fail(ctx.domain, "transport_only") if special else ctx.passed(ctx.domain, outcome="enforced_tls")
    if method == "opportunistic_tls":
        return ctx.fail(ctx.domain, "opportunistic_special" if special else "opportunistic_confidential")
    return ctx.fail(ctx.domain, "unknown")


# -- outbound mail and clients (R9-R12) -----------------------------------------------------------

def _yes_no_unknown(ctx: CheckContext, answer: str, no_outcome: str) -> Finding:
    if answer == "yes":
        return ctx.passed(ctx.domain)
    return ctx.fail(ctx.domain, no_outcome if answer == "no" else "unknown")


@policy_check("POL-NO-OUTBOUND-FILTER")
def no_outbound_filter(ctx: CheckContext, a: Answers) -> Finding:
    """R9: outgoing mail without spam/virus scanning (cross-check: PF-NO-OUTBOUND-FILTER)."""
    return _yes_no_unknown(ctx, a.get("outbound.filter"), "missing")


@policy_check("POL-OWN-DOMAIN-SENDER-REJECTED")
def own_domain_sender_rejected(ctx: CheckContext, a: Answers) -> Finding:
    """R3/R4: rejecting the own domain as sender from outside breaks forwarding and lists; SPF/DMARC do it."""
    answer = a.get("inbound.reject_own_domain")
    if answer == "no":
        return ctx.passed(ctx.domain)
    return ctx.fail(ctx.domain, "rejects" if answer == "yes" else "unknown")


@policy_check("POL-NO-RATE-LIMIT")
def no_rate_limit(ctx: CheckContext, a: Answers) -> Finding:
    """R9/R11: no per-user limit on submission."""
    return _yes_no_unknown(ctx, a.get("outbound.rate_limit"), "missing")


@policy_check("POL-PORT25-OPEN")
def port25_reachable(ctx: CheckContext, a: Answers) -> Finding:
    """R10: client networks can reach any MX on port 25."""
    return _yes_no_unknown(ctx, a.get("outbound.port25_blocked"), "open")


@policy_check("POL-CLIENTS-USE-IP")
def clients_use_ip(ctx: CheckContext, a: Answers) -> Finding:
    """R12: clients configured with IP addresses cannot validate certificates."""
    how = a.get("clients.server_address")
    if how == "hostnames":
        return ctx.passed(ctx.domain)
    return ctx.fail(ctx.domain, how)


@policy_check("POL-SUBMISSION-SHARED-HOST")
def submission_shared_host(ctx: CheckContext, a: Answers) -> Finding:
    """R11: MX and submission on one host is acceptable for small setups (info)."""
    if a.get("clients.separate_submission_host"):
        return ctx.passed(ctx.domain)
    return ctx.fail(ctx.domain, "shared")


# -- archive (R7b) --------------------------------------------------------------------------------

@policy_check("POL-ARCHIVE-MISSING")
def archive_missing(ctx: CheckContext, a: Answers) -> Finding:
    """R7b: business mail must be kept audit-proof (GoBD, § 147 AO, § 257 HGB)."""
    system = a.get("archive.system")
    if system == "gobd":
        return ctx.passed(ctx.domain)
    return ctx.fail(ctx.domain, "not_gobd" if system == "other" else "none")


@policy_check("POL-ARCHIVE-RETENTION")
def archive_retention(ctx: CheckContext, a: Answers) -> Finding:
    """R7b: 6 years for letters, 8 years for vouchers (invoices) unless those are kept elsewhere.

    The periods start at the end of the calendar year (§ 147 Abs. 4 AO, § 257 Abs. 5 HGB): an archive
    that deletes to the day after receipt needs one year more. Automatic deletion must be suspendable
    for the Ablaufhemmung (§ 147 Abs. 3 S. 5 AO) and legal holds.
    """
    if a.get("archive.system") == "none":
        return ctx.not_applicable(ctx.domain)
    years = a.get("archive.retention_years")
    if years < LETTERS_YEARS:
        return ctx.fail(ctx.domain, "below_six", years=years)
    deletion = a.get("archive.deletion")
    slack = 1 if deletion == "rolling" else 0
    if years < LETTERS_YEARS + slack:
        return ctx.fail(ctx.domain, "rolling_start", years=years, required=LETTERS_YEARS)
    outcome = "pass"
    if years < VOUCHERS_YEARS + slack:
        if a.get("archive.invoices_elsewhere"):
            outcome = "invoices_elsewhere"
        elif years < VOUCHERS_YEARS:
            return ctx.fail(ctx.domain, "below_eight", years=years)
        else:
            return ctx.fail(ctx.domain, "rolling_start", years=years, required=VOUCHERS_YEARS)
    if deletion != "none" and not a.get("archive.legal_hold"):
        return ctx.fail(ctx.domain, "no_hold", years=years)
    return ctx.passed(ctx.domain, outcome=outcome, years=years)


@policy_check("POL-ARCHIVE-PRIVATE-MAIL")
def archive_private_mail(ctx: CheckContext, a: Answers) -> Finding:
    """R7b: private mail in the archive is stored without a retention basis (DSGVO Art. 5, 17)."""
    if no_private_mail(a):
        return ctx.not_applicable(ctx.domain)
    if a.get("archive.system") == "none":
        return ctx.not_applicable(ctx.domain, outcome="no_archive")
    answer = a.get("archive.private_mail")
    if answer == "no":
        return ctx.passed(ctx.domain)
    return ctx.fail(ctx.domain, "archived" if answer == "yes" else "unknown")


@policy_check("POL-BACKUP-PRIVATE-MAIL")
def backup_private_mail(ctx: CheckContext, a: Answers) -> Finding:
    """R7/R7b: private mail survives in backups; a restore is access to it and needs a procedure."""
    if no_private_mail(a):
        return ctx.not_applicable(ctx.domain)
    if not a.get("backup.mailboxes"):
        return ctx.not_applicable(ctx.domain, outcome="no_backup")
    gaps = [] if a.get("backup.retention_defined") else ["retention"]
    rules = a.get("backup.restore_rules")
    gaps += [k for k in RESTORE_RULES if k not in rules]
    if gaps:
        return ctx.fail(ctx.domain, "gaps", **gap_list(ctx, "gaps", gaps))
    return ctx.passed(ctx.domain)


# -- NIS-2 (B22) ----------------------------------------------------------------------------------

@policy_check("POL-NIS2-UNDOCUMENTED")
def nis2_undocumented(ctx: CheckContext, a: Answers) -> Finding:
    """B22: an in-scope NIS-2 entity needs documented e-mail security measures."""
    scope = a.get("compliance.nis2")
    if scope == "not_in_scope":
        return ctx.not_applicable(ctx.domain)
    if scope == "unknown":
        return ctx.fail(ctx.domain, "scope_unknown")
    if a.get("compliance.nis2_documented"):
        return ctx.passed(ctx.domain)
    return ctx.fail(ctx.domain, "undocumented")
