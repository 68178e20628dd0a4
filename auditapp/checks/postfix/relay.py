"""Who may send through Postfix: relay control, submission login, AUTH placement (knowledge base B8, R10, B15)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from auditapp.checks.postfix.base import (
    NEEDS,
    Scope,
    cites,
    fix_service,
    fix_where,
    group_main_cf,
    kinds_of,
    no_master,
    not_applicable_service,
    scopes,
    with_config,
    with_services,
    worst,
)
from auditapp.checks.registry import CheckContext, check
from auditapp.core.model import Finding, Reason
from auditapp.postfix import MasterService, Param, PostfixConfig
from auditapp.postfix.analysis import (
    Restriction,
    auth_required_verdict,
    is_implicit_tls_port,
    judge_mynetworks,
    mynetworks_local_only,
    restriction_params,
    restrictions,
    server_tls,
    stranger_relay_verdict,
    uses_permit_mynetworks,
)
from auditapp.postfix.roles import Kind, auth_enabled, front_proxy, mynetworks_only

RELAY_FIX = "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination"
#: smtpd_check_init (src/smtpd/smtpd_check.c): without one of these in the relay or recipient
#: restrictions, smtpd refuses to start ("specify at least one working instance of ...").
START_DENIALS = frozenset({"reject_unauth_destination", "defer_unauth_destination", "reject", "defer",
                           "defer_if_permit", "check_relay_domains"})
#: The stock submission stanza of Postfix's master.cf, for setups that have none.
SUBMISSION_STANZA = ("submission inet n - - - - smtpd -o syslog_name=postfix/submission "
                     "-o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes "
                     "-o smtpd_client_restrictions=permit_sasl_authenticated,reject")


def with_classes(cfg: PostfixConfig, svc: MasterService | None, value: str,
                 seen: tuple[str, ...] = ()) -> list[Restriction]:
    """A restriction list with its restriction classes (smtpd_restriction_classes) written out."""
    classes = set(cfg.get("smtpd_restriction_classes", svc).words())
    out: list[Restriction] = []
    for r in restrictions(value):
        if r.name in classes and r.name not in seen:
            out += with_classes(cfg, svc, cfg.get(r.name, svc).expanded, (*seen, r.name))
        else:
            out.append(r)
    return out


def has_required(rlist: list[Restriction]) -> bool:
    """What smtpd checks before it starts (has_required() in src/smtpd/smtpd_check.c).

    A denial counts only where it can work: not after an unconditional ``permit`` (smtpd
    ignores what follows), not as the argument of ``warn_if_reject``. Restriction classes are
    looked into. Verified against the real smtpd with the corpus' Sovereign configuration.
    """
    skip = False
    for r in rlist:
        if skip:
            skip = False
            continue
        if r.name == "warn_if_reject":
            skip = True
        elif r.name == "permit":
            return False
        elif r.name in START_DENIALS:
            return True
    return False


def _relay_fix(scope: Scope) -> str:
    return fix_where(scope, "smtpd_relay_restrictions", RELAY_FIX)


def _text(de: str, en: str) -> dict[str, str]:
    return {"de": de, "en": en}


def _mynetworks_outcome(cfg: PostfixConfig, scope: Scope) -> tuple[str | None, dict[str, object], tuple[str, ...]]:
    """Judge what permit_mynetworks trusts: (outcome or None, params, evidence).

    The fix must not break what relies on mynetworks: internal services that admit only
    mynetworks (a container stack's quarantine, BCC or webmail ports) would stop working if
    mynetworks shrank to loopback. Then no command is printed, only what to do.
    """
    mn, style = scope.get("mynetworks"), scope.get("mynetworks_style")
    relies = [f"{s.key}" for s in cfg.smtpd_services() if mynetworks_only(cfg, s) and not s.loopback_only]
    loopback = "127.0.0.0/8 [::1]/128"
    if relies:
        fix: object = _text(
            f"mynetworks ausdrücklich auf Loopback und die Netze setzen, die {', '.join(relies)} brauchen "
            f"(z. B. postconf -e 'mynetworks = {loopback} 172.22.1.0/24' mit dem tatsächlichen Container-Netz); "
            f"nur {loopback} würde diese Dienste abschneiden",
            f"set mynetworks explicitly to loopback plus the networks {', '.join(relies)} need "
            f"(e.g. postconf -e 'mynetworks = {loopback} 172.22.1.0/24' with the real container network); "
            f"{loopback} alone would cut these services off")
    elif not cfg.has_master:
        # Without master.cf nobody can tell which internal services rely on mynetworks.
        command = fix_where(scope, "mynetworks", loopback)
        fix = _text(f"{command} – vorher prüfen, ob interne Dienste (Webmail, Filter-Rückgabe, Container) über "
                    f"mynetworks einliefern; master.cf wurde nicht importiert",
                    f"{command} – first check whether internal services (webmail, filter return, containers) "
                    f"submit through mynetworks; master.cf was not imported")
    else:
        fix = fix_where(scope, "mynetworks", loopback)
    if not mn.is_default:
        rep = judge_mynetworks(mn.expanded)
        wide = rep.any_address + rep.large_public
        evidence = (mn.cite(), *(f"not evaluated (file or table): {e}" for e in rep.unevaluated))
        return ("mynetworks_wide" if wide else None), {"setting": mn.cite(), "networks": wide, "fix": fix}, evidence
    kind = style.expanded.strip().lower()
    outcome = {"class": "style_class", "subnet": "style_subnet"}.get(kind)
    return outcome, {"setting": style.cite(), "fix": fix}, (mn.cite(), style.cite())


def _relay_scopes(cfg: PostfixConfig) -> list[Scope]:
    if not cfg.has_master:
        return [Scope(cfg, None)]
    return [Scope(cfg, k.svc) for k in kinds_of(cfg, Kind.MX, Kind.SUBMISSION, Kind.OTHER, Kind.INTERNAL)
            if not k.svc.loopback_only]


@check("PF-OPEN-RELAY-CONFIG", needs=NEEDS)
@with_services
def open_relay_config(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    judged = _relay_scopes(cfg)
    if not judged:
        yield ctx.not_applicable("postfix", [f"{s.key} [{s.source}]" for s in cfg.smtpd_services()])
        return
    results: list[Finding] = []
    for scope in judged:
        lists = restriction_params(cfg, scope.svc)
        evidence = tuple(p.cite() for p in lists)
        relay_lists = [p for p in lists if p.name in ("smtpd_relay_restrictions", "smtpd_recipient_restrictions")]
        if not any(has_required(with_classes(cfg, scope.svc, p.expanded)) for p in relay_lists):
            # smtpd exits at start: no mail is received at all on this service (not an open relay).
            results.append(ctx.fail(scope.subject, "refuses_start", evidence, service=scope.label,
                                    setting=cites(*relay_lists), fix=_relay_fix(scope)))
            continue
        denial = None
        for p in lists:
            verdict = stranger_relay_verdict(with_classes(cfg, scope.svc, p.expanded))
            if verdict.denies:
                denial = f"{verdict.decided_by} ({p.name})"
                evidence += tuple(f"not evaluated (may permit): {u}" for u in verdict.unevaluated)
                break
        if denial is None:
            # Since the start check mirrors smtpd's has_required(), a service that starts always has a
            # reachable denial; kept in case the two ever disagree (an open relay must never pass).
            results.append(ctx.fail(scope.subject, "open_relay", evidence, service=scope.label,
                                    setting=cites(*relay_lists), fix=_relay_fix(scope)))
            continue
        if uses_permit_mynetworks(lists):
            outcome, params, more = _mynetworks_outcome(cfg, scope)
        else:
            outcome, params, more = None, {"setting": "permit_mynetworks not used"}, ()
        params.update(service=scope.label, denial=denial)
        if outcome:
            results.append(ctx.fail(scope.subject, outcome, evidence + more, **params))
        else:
            results.append(ctx.passed(scope.subject, evidence + more, **params))
    yield from group_main_cf(ctx, cfg, _group_mynetworks(results), "smtpd_relay_restrictions")


def _group_mynetworks(results: list[Finding]) -> list[Finding]:
    """One mynetworks setting, many services: one finding that names them all.

    Services that take mynetworks from the same place (one main.cf line, or the default)
    share one cause and one fix; nine identical findings would hide that.
    """
    by_setting: dict[tuple[str, str], list[Finding]] = {}
    for f in results:
        if f.outcome in ("mynetworks_wide", "style_class", "style_subnet"):
            by_setting.setdefault((f.outcome, str(f.params.get("setting"))), []).append(f)
    out = [f for f in results if all(f not in g for g in by_setting.values() if len(g) > 1)]
    for group in by_setting.values():
        if len(group) < 2:
            continue
        first = group[0]
        evidence = tuple(dict.fromkeys(e for f in group for e in f.evidence))
        out.append(replace(first, subject="postfix", evidence=evidence,
                           params={**first.params, "service": ", ".join(str(f.params["service"]) for f in group)}))
    return out


# -- submission: authentication and TLS (R10) -----------------------------------------------

def _tls_fix(svc: MasterService) -> tuple[str, str]:
    return ("smtpd_tls_wrappermode", "yes") if is_implicit_tls_port(svc) else ("smtpd_tls_security_level", "encrypt")


def _auth_state(cfg: PostfixConfig, svc: MasterService) -> tuple[Param | None, list[str], Param | None]:
    """(list that makes AUTH mandatory, exemptions of the best partial list, that partial list)."""
    partial: tuple[Param, list[str]] | None = None
    for p in restriction_params(cfg, svc):
        verdict = auth_required_verdict(restrictions(p.expanded))
        if not verdict.denies:
            continue
        exemptions = [e for e in verdict.exemptions
                      if not (e == "permit_mynetworks" and mynetworks_local_only(cfg, svc))]
        if not exemptions:
            return p, [], None
        if partial is None:
            partial = (p, exemptions)
    return None, (partial[1] if partial else []), (partial[0] if partial else None)


def _stranger_can_relay(cfg: PostfixConfig, svc: MasterService) -> bool:
    return not any(stranger_relay_verdict(restrictions(p.expanded)).denies for p in restriction_params(cfg, svc))


@check("PF-SUBMISSION-NO-AUTH", needs=NEEDS)
@with_config
def submission_no_auth(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    if not cfg.has_master:
        yield no_master(ctx, cfg)
        return
    subs = kinds_of(cfg, Kind.SUBMISSION)
    if not subs:
        yield ctx.not_applicable("postfix", [f"{s.key} [{s.source}]" for s in cfg.smtpd_services()])
        return
    for k in subs:
        svc = k.svc
        scope = Scope(cfg, svc)
        sasl, auth_only = svc.effective("smtpd_sasl_auth_enable"), svc.effective("smtpd_tls_auth_only")
        required, exemptions, partial = _auth_state(cfg, svc)
        tls = server_tls(cfg, svc)
        relay = svc.effective("smtpd_relay_restrictions")
        problems: list[str] = []
        fixes: list[tuple[str, str]] = []
        if required is None and partial is None:
            # Severity follows the effect: with reject_unauth_destination a stranger reaches only
            # local recipients (like on port 25); without it, the port relays for anyone.
            problems.append("no_auth" if _stranger_can_relay(cfg, svc) else "no_auth_local")
            fixes += [("smtpd_sasl_auth_enable", "yes"),
                      ("smtpd_client_restrictions", "permit_sasl_authenticated,reject")]
        elif required is None:
            problems.append("auth_exempt")
            fixes.append((partial.name if partial else "smtpd_relay_restrictions", "permit_sasl_authenticated,reject"))
        elif not sasl.flag():
            problems.append("sasl_disabled")
        if problems and not sasl.flag() and ("smtpd_sasl_auth_enable", "yes") not in fixes:
            fixes.insert(0, ("smtpd_sasl_auth_enable", "yes"))
        if not tls.mandatory:
            problems.append("tls_optional" if auth_only.flag() else "tls_optional_clear")
            fixes.append(_tls_fix(svc))
        shown = [sasl, required or partial or relay, tls.deciding]
        evidence = tuple(p.cite() for p in (sasl, *restriction_params(cfg, svc), tls.deciding, auth_only))
        backend = cfg.get("smtpd_sasl_path", svc)
        params = {"service": scope.label, "setting": cites(*shown), "exemptions": exemptions,
                  "fix": fix_service(svc, *fixes) if fixes else "-", "sasl_backend": backend.cite()}
        if problems:
            yield ctx.fail(scope.subject, worst(ctx, problems), evidence, **params)
        else:
            yield ctx.passed(scope.subject, evidence, **params)


@check("PF-AUTH-WITHOUT-TLS", needs=NEEDS)
@with_services
def auth_without_tls(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    if cfg.has_master:
        kinds = [k for k in kinds_of(cfg, *Kind) if auth_enabled(cfg, k.svc)]
        if not kinds:
            yield ctx.not_applicable("postfix")
            return
    elif cfg.get("smtpd_sasl_auth_enable").flag():
        kinds = []
    else:
        yield no_master(ctx, cfg, (cfg.get("smtpd_sasl_auth_enable").cite(),))
        return
    results: list[Finding] = []
    judged = [(Scope(cfg, k.svc), k.kind) for k in kinds if k.kind not in (Kind.INTERNAL, Kind.UNUSED)]
    results += [not_applicable_service(ctx, k) for k in kinds if k.kind in (Kind.INTERNAL, Kind.UNUSED)]
    if not cfg.has_master:
        judged = [(Scope(cfg, None), Kind.SUBMISSION)]
    for scope, kind in judged:
        sasl, auth_only = scope.get("smtpd_sasl_auth_enable"), scope.get("smtpd_tls_auth_only")
        tls = server_tls(cfg, scope.svc)
        evidence = (sasl.cite(), auth_only.cite(), tls.deciding.cite())
        params = {"service": scope.label, "fix": fix_where(scope, "smtpd_tls_auth_only", "yes")}
        proxy = front_proxy(cfg, scope.svc)
        if proxy and not tls.offered:
            results.append(ctx.not_tested(scope.subject, Reason("reason.postfix_front_proxy", {
                "service": scope.label, "setting": proxy}), (*evidence, proxy)))
        elif tls.mandatory:
            results.append(ctx.passed(scope.subject, evidence, setting=tls.deciding.cite(), **params))
        elif auth_only.flag():
            results.append(ctx.passed(scope.subject, evidence, setting=auth_only.cite(), **params))
        else:
            outcome = "auth_in_clear_other" if kind is Kind.OTHER else "auth_in_clear"
            if kind is Kind.OTHER and scope.svc is not None and "smtpd_tls_auth_only" in scope.svc.overrides:
                # Switched off on purpose for this port (mailcow's 588 for its webmail): flipping it would
                # cut that client off. Say what to check instead.
                port = scope.svc.key
                params["fix"] = _text(
                    f"{port} setzt smtpd_tls_auth_only ausdrücklich auf no, vermutlich für einen internen Client "
                    f"ohne TLS (z. B. Webmail); nicht umstellen, sondern sicherstellen, dass der Port von außen nicht "
                    f"erreichbar ist (Firewall, Container-Port nicht veröffentlichen). Nur wenn er öffentlich sein "
                    f"soll: postconf -P '{port}/smtpd_tls_auth_only=yes'",
                    f"{port} sets smtpd_tls_auth_only to no on purpose, probably for an internal client without TLS "
                    f"(e.g. webmail); do not flip it, make sure the port cannot be reached from outside (firewall, "
                    f"container port not published). Only if it is meant to be public: "
                    f"postconf -P '{port}/smtpd_tls_auth_only=yes'")
            results.append(ctx.fail(scope.subject, outcome, evidence, setting=cites(sasl, auth_only, tls.deciding),
                                    **params))
    yield from group_main_cf(ctx, cfg, results, "smtpd_tls_auth_only")


@check("PF-AUTH-ON-PORT25", needs=NEEDS)
@with_config
def auth_on_port25(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    """AUTH on the MX port: clients should submit on 587/465, where their own rules apply (R10, R11)."""
    if not cfg.has_master:
        yield no_master(ctx, cfg, (cfg.get("smtpd_sasl_auth_enable").cite(),))
        return
    mx = kinds_of(cfg, Kind.MX)
    if not mx:
        yield ctx.not_applicable("postfix", [f"{s.key} [{s.source}]" for s in cfg.smtpd_services()])
        return
    submission = [k.svc for k in kinds_of(cfg, Kind.SUBMISSION) if auth_enabled(cfg, k.svc)]
    for k in mx:
        scope = Scope(cfg, k.svc)
        sasl = scope.get("smtpd_sasl_auth_enable")
        params = {"service": scope.label, "setting": sasl.cite(),
                  "submission": ", ".join(s.key for s in submission) or "-"}
        if not sasl.flag():
            yield ctx.passed(scope.subject, (sasl.cite(),), **params)
        elif submission:
            # Switching AUTH off per service leaves main.cf (and with it the submission ports) alone.
            yield ctx.fail(scope.subject, "offered", (sasl.cite(),),
                           fix=fix_service(k.svc, ("smtpd_sasl_auth_enable", "no")), **params)
        else:
            # Clients log in on port 25 today: switching AUTH off first would cut them off.
            yield ctx.fail(scope.subject, "only_path", (sasl.cite(),), stanza=SUBMISSION_STANZA,
                           fix=fix_service(k.svc, ("smtpd_sasl_auth_enable", "no")), **params)


# -- own domain as sender from outside, backscatter, ETRN ------------------------------------

#: Restrictions that refuse an unauthenticated client whose MAIL FROM belongs to a local user:
#: on port 25 they reject forwarded mail and mailing-list posts of the company's own people.
LOGIN_MISMATCH = ("reject_sender_login_mismatch", "reject_unauthenticated_sender_login_mismatch",
                  "reject_known_sender_login_mismatch")


def _mx_scopes(cfg: PostfixConfig) -> list[Scope]:
    return scopes(cfg, [k.svc for k in kinds_of(cfg, Kind.MX)]) if cfg.has_master else [Scope(cfg, None)]


@check("PF-OWN-DOMAIN-SENDER-REJECT", needs=NEEDS)
@with_services
def own_domain_sender_reject(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    mx = _mx_scopes(cfg)
    if not mx:
        yield ctx.not_applicable("postfix", outcome="no_mx")
        return
    for scope in mx:
        lists = restriction_params(cfg, scope.svc)
        found = [(p, r) for p in lists for r in restrictions(p.expanded) if r.name in LOGIN_MISMATCH]
        tables = [(p, r) for p in lists for r in restrictions(p.expanded) if r.name == "check_sender_access"]
        evidence = tuple(p.cite() for p in lists)
        params = {"service": scope.label}
        if found:
            p, r = found[0]
            keep = [str(x) for x in restrictions(p.expanded) if x.name not in LOGIN_MISMATCH]
            yield ctx.fail(scope.subject, "login_mismatch", evidence, setting=p.cite(), restriction=r.name,
                           fix=fix_where(scope, p.name, ", ".join(keep)), **params)
        elif tables:
            # The table's content was not imported: whether it lists the own domains is unknown.
            yield ctx.not_tested(scope.subject, Reason("reason.postfix_table_unknown", {
                "table": ", ".join(r.arg for _, r in tables), "service": scope.label}), evidence)
        else:
            yield ctx.passed(scope.subject, evidence, setting=cites(*lists[2:4]), **params)


def _table_or_names(value: str, mydestination: set[str]) -> tuple[list[str], list[str]]:
    """A domain list split into literal names (minus mydestination) and lookup tables/files."""
    names, tables = [], []
    for word in value.replace(",", " ").split():
        if ":" in word or word.startswith("/"):
            tables.append(word)
        elif word.lower().rstrip(".") not in mydestination:
            names.append(word)
    return names, tables


def _verifies_recipients(cfg: PostfixConfig, scope: Scope) -> bool:
    """reject_unverified_recipient asks the next hop during the dialogue: unknown relay recipients are refused."""
    return any(r.name == "reject_unverified_recipient"
               for p in restriction_params(cfg, scope.svc) for r in with_classes(cfg, scope.svc, p.expanded))


@check("PF-BACKSCATTER", needs=NEEDS)
@with_services
def backscatter(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    """Unknown recipients must be refused in the SMTP dialogue, not bounced later (knowledge base B15)."""
    mx = _mx_scopes(cfg)
    if not mx:
        yield ctx.not_applicable("postfix", outcome="no_mx")
        return
    for scope in mx:
        unlisted = scope.get("smtpd_reject_unlisted_recipient")
        local_maps = scope.get("local_recipient_maps")
        relay_domains, relay_maps = scope.get("relay_domains"), scope.get("relay_recipient_maps")
        mydest = {d.lower().rstrip(".") for d in scope.get("mydestination").words()}
        names, tables = _table_or_names(relay_domains.expanded, mydest)
        evidence = (unlisted.cite(), local_maps.cite(), relay_domains.cite(), relay_maps.cite())
        params = {"service": scope.label}
        if not unlisted.flag():
            yield ctx.fail(scope.subject, "unlisted_off", evidence, setting=unlisted.cite(),
                           fix=fix_where(scope, "smtpd_reject_unlisted_recipient", "yes"), **params)
        elif not local_maps.is_default and not local_maps.expanded.strip() and mydest:
            yield ctx.fail(scope.subject, "local_maps_empty", evidence, setting=local_maps.cite(), fix="-", **params)
        elif (names or tables) and not relay_maps.expanded.strip() and not _verifies_recipients(cfg, scope):
            outcome = "relay_no_recipients" if names else "relay_table_no_recipients"
            yield ctx.fail(scope.subject, outcome, evidence, setting=cites(relay_domains, relay_maps),
                           domains=", ".join(names + tables), fix="-", **params)
        else:
            yield ctx.passed(scope.subject, evidence, setting=cites(unlisted, relay_domains, relay_maps), **params)


@check("PF-ETRN", needs=NEEDS)
@with_services
def etrn(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    """ETRN lets any client trigger queue runs; the 2009 article recommends refusing it (a note today)."""
    results = []
    for scope in _mx_scopes(cfg) or [Scope(cfg, None)]:
        p = scope.get("smtpd_etrn_restrictions")
        names = [r.name for r in restrictions(p.expanded)]
        params = {"service": scope.label, "setting": p.cite()}
        flush = scope.get("fast_flush_domains")
        if not flush.expanded.strip() and not flush.unknown:
            # Without fast-flush domains Postfix answers every ETRN with 459: it has no effect.
            results.append(ctx.passed(scope.subject, (p.cite(), flush.cite()), outcome="no_effect",
                                      flush=flush.cite(), **params))
        elif names and names[-1] in ("reject", "defer") and "permit" not in names:
            results.append(ctx.passed(scope.subject, (p.cite(),), **params))
        else:
            results.append(ctx.fail(scope.subject, "open", (p.cite(),),
                                    fix=fix_where(scope, "smtpd_etrn_restrictions", "reject"), **params))
    yield from group_main_cf(ctx, cfg, results, "smtpd_etrn_restrictions")

