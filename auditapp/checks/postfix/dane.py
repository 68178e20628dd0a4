"""Outbound DANE: does this Postfix validate the receivers' TLSA records when it sends (knowledge base B5)?

Postfix authenticates a receiving MX with DANE only when three things hold (postconf(5),
TLS_README "Mandatory server certificate verification" / DANE): ``smtp_tls_security_level =
dane`` (or ``dane-only``), ``smtp_dns_support_level = dnssec``, and a DNSSEC-validating resolver
in ``/etc/resolv.conf`` (best on 127.0.0.1, so the AD bit cannot be forged on the way). With
``dane`` but without ``dnssec`` Postfix quietly downgrades the level to ``may``. The resolver is
not part of main.cf, so the import cannot see it: the results say so, and no fix switches
``dnssec`` on without first saying that the resolver must validate (otherwise every lookup would
just lose its AD bit and nothing would be gained, or a non-validating resolver would be trusted).
"""

from __future__ import annotations

from collections.abc import Iterator

from auditapp.checks.postfix.base import NEEDS, cites, fix_main, with_config
from auditapp.checks.registry import CheckContext, check
from auditapp.core.model import Finding
from auditapp.postfix import PostfixConfig
from auditapp.postfix.analysis import client_tls_level

DANE_LEVELS = ("dane", "dane-only")


def _resolver_first(command: str) -> dict[str, str]:
    """A fix whose first step is outside Postfix: a validating resolver, then the command."""
    return {
        "de": "Zuerst einen DNSSEC-validierenden Resolver auf dem Server einrichten (z. B. unbound auf "
              f"127.0.0.1) und in /etc/resolv.conf eintragen; danach {command}",
        "en": "First set up a DNSSEC-validating resolver on the server (e.g. unbound on 127.0.0.1) and put it "
              f"in /etc/resolv.conf; then {command}",
    }


@check("PF-OUTBOUND-DANE", needs=NEEDS)
@with_config
def outbound_dane(ctx: CheckContext, cfg: PostfixConfig) -> Iterator[Finding]:
    level, deciding = client_tls_level(cfg, None)
    support = cfg.get("smtp_dns_support_level")
    dnssec = support.expanded.strip().lower() == "dnssec"
    policy = cfg.get("smtp_tls_policy_maps")
    params = {"service": "main.cf", "setting": cites(*deciding, support), "level": level or "-"}
    evidence = (*(p.cite() for p in deciding), support.cite(), policy.cite())
    if level in ("none", ""):
        # No TLS at all: PF-OUTBOUND-TLS's (high) finding; DANE is the step after it.
        yield ctx.not_applicable("postfix", evidence, outcome="no_tls", **params)
    elif level != "may" and level not in DANE_LEVELS:
        # encrypt, verify, secure: TLS is mandatory for every destination. "dane" would make it
        # opportunistic where no TLSA exists, so no command is safe to paste: it is a decision.
        yield ctx.fail("postfix", "mandatory", evidence, fix="-", **params)
    elif level in DANE_LEVELS and dnssec:
        yield ctx.passed("postfix", evidence, **params)
    elif level in DANE_LEVELS:
        yield ctx.fail("postfix", "no_dnssec", evidence,
                       fix=_resolver_first(fix_main(("smtp_dns_support_level", "dnssec"))), **params)
    elif dnssec:
        yield ctx.fail("postfix", "dnssec_no_dane", evidence,
                       fix=fix_main(("smtp_tls_security_level", "dane")), **params)
    else:
        yield ctx.fail("postfix", "off", evidence, fix=_resolver_first(fix_main(
            ("smtp_dns_support_level", "dnssec"), ("smtp_tls_security_level", "dane"))), **params)
