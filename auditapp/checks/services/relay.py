"""Who may send through the servers: the open-relay test on port 25, relaying and sender spoofing on submission."""

from __future__ import annotations

from collections.abc import Iterator

from auditapp.checks.registry import CheckContext, check
from auditapp.checks.services.base import (
    MX_PORTS,
    NEEDS,
    SUBMISSION_PORTS,
    dialogue_not_tested,
    per_endpoint,
    probe_evidence,
    probe_params,
    relay_problem,
)
from auditapp.collectors.service_facts import EndpointProbe
from auditapp.core.model import Finding, Reason


@check("SUBMISSION-NO-AUTH-RELAY", needs=NEEDS)
@per_endpoint(SUBMISSION_PORTS)
def submission_no_auth_relay(ctx: CheckContext, p: EndpointProbe) -> Finding:
    relay = p.relay
    if relay is None or relay.accepted is None:
        return dialogue_not_tested(ctx, p, relay_problem(p))
    if relay.accepted:
        return ctx.fail(p.endpoint, "accepted", probe_evidence(p),
                        **probe_params(p, rcpt=relay.rcpt_to, reply=relay.reply))
    return ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p, rcpt=relay.rcpt_to, reply=relay.reply))


@check("OPEN-RELAY", needs=NEEDS)
@per_endpoint(MX_PORTS)
def open_relay(ctx: CheckContext, p: EndpointProbe) -> Finding:
    relay = p.relay
    if not ctx.target.relay_test:
        return ctx.not_tested(p.endpoint, Reason("reason.relay_test_off"), probe_evidence(p)[:2])
    if relay is None or relay.accepted is None:
        return dialogue_not_tested(ctx, p, relay_problem(p))
    if relay.accepted:
        return ctx.fail(p.endpoint, "accepted", probe_evidence(p), **probe_params(
            p, rcpt=relay.rcpt_to, mail_from=relay.mail_from, reply=relay.reply))
    return ctx.passed(p.endpoint, probe_evidence(p), **probe_params(p, reply=relay.reply))


@check("SUBMISSION-SENDER-SPOOFING", needs=NEEDS)
def submission_sender_spoofing(ctx: CheckContext) -> Iterator[Finding]:
    if not ctx.target.account:
        yield ctx.not_applicable(ctx.domain)
        return
    yield from SUBMISSION_PORTS.each(ctx, _spoofing_verdict)


def _spoofing_verdict(ctx: CheckContext, p: EndpointProbe) -> Finding:
    """After a login with the test account: is a MAIL FROM of someone else refused?"""
    auth = p.auth
    params = probe_params(p, user=ctx.target.account)
    if auth is None and p.problem:
        return dialogue_not_tested(ctx, p)
    if auth is None:
        return ctx.not_tested(p.endpoint, Reason("reason.no_password", {"user": ctx.target.account}),
                              probe_evidence(p))
    if auth.login_ok is False:
        return ctx.not_tested(p.endpoint, Reason("reason.login_failed", {
            "user": auth.username, "reply": auth.login_reply or auth.problem or "-"}), probe_evidence(p))
    if auth.login_ok is None:
        # Not attempted (credentials are only sent over verified TLS) or undetermined.
        return dialogue_not_tested(ctx, p, auth.problem or "login not attempted")
    if auth.foreign_sender_accepted is None:
        return dialogue_not_tested(ctx, p, auth.problem or "-")
    if auth.foreign_sender_accepted:
        return ctx.fail(p.endpoint, "accepted", probe_evidence(p), sender=auth.foreign_sender,
                        reply=auth.foreign_reply, **params)
    return ctx.passed(p.endpoint, probe_evidence(p), sender=auth.foreign_sender, reply=auth.foreign_reply, **params)
