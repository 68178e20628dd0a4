"""What an SPF evaluation returns (RFC 7208 §2.6) and the evidence that backs it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from auditapp.dnsclient import DnsAnswer


class SpfResult(StrEnum):
    """The seven results of check_host() (§2.6)."""

    PASS = "pass"
    FAIL = "fail"
    SOFTFAIL = "softfail"
    NEUTRAL = "neutral"
    NONE = "none"
    PERMERROR = "permerror"
    TEMPERROR = "temperror"


#: §4.6.2: what a matching mechanism's qualifier yields.
QUALIFIER_RESULTS = {
    "+": SpfResult.PASS,
    "-": SpfResult.FAIL,
    "~": SpfResult.SOFTFAIL,
    "?": SpfResult.NEUTRAL,
}


@dataclass(frozen=True)
class SpfEvaluation:
    """The outcome of one check_host() call, with what an auditor needs to explain it."""

    result: SpfResult
    domain: str
    #: The top-level record that was evaluated (None when there was none, or several).
    record: str | None = None
    #: The expanded exp= text, only for ``fail`` (§6.2); empty when absent or unusable.
    explanation: str = ""
    #: Why the result is permerror or temperror, in words.
    problem: str = ""
    #: The term that decided the result, "default" when nothing matched, else "".
    mechanism: str = ""
    #: DNS-querying terms evaluated (§4.6.4; the limit is 10).
    lookups: int = 0
    #: Terms whose lookup found nothing (§4.6.4; the limit is 2).
    void_lookups: int = 0
    #: Readable steps: records fetched, terms that matched, include results.
    trace: tuple[str, ...] = ()
    #: Every DNS answer the evaluation used, as evidence.
    answers: tuple[DnsAnswer, ...] = ()
    #: Failed lookups (timeout, SERVFAIL...) that RFC 7208 §5.5 treats as "no match" rather
    #: than temperror: the PTR of the client and the address checks of its PTR names, for the
    #: ptr mechanism and %{p}. A result other than pass may then be an artefact of DNS.
    ignored_failures: tuple[DnsAnswer, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.result in (SpfResult.PERMERROR, SpfResult.TEMPERROR)
