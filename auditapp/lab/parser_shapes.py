"""Adversarial input shapes for the parsers of network input, at any size (issue 12, item 6).

Used by ``tests/test_parser_scaling.py`` (6 kB against 60 kB must scale about linearly) and
``bench/bench_parsers.py`` (prints the times and ratios). Each shape is the kind of input a
hostile zone, policy server or paste could send: many terms, one endless token, runs of the
separator a parser splits on, deep nesting.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from auditapp.checks.dmarc import parse_dmarc
from auditapp.checks.tags import TagError
from auditapp.collectors.autoconfig import parse_autoconfig
from auditapp.collectors.mta_sts import parse_policy
from auditapp.postfix import PostfixConfigError, parse_postfix_text
from auditapp.spf.record import SpfSyntaxError, parse_record


def quiet(parse: Callable[[str], object]) -> Callable[[str], object]:
    def run(text: str) -> object:
        try:
            return parse(text)
        except (SpfSyntaxError, TagError, PostfixConfigError, ValueError):
            return None
    return run


SHAPES: dict[str, tuple[Callable[[str], object], Callable[[int], str]]] = {
    "spf mechanisms": (parse_record, lambda n: "v=spf1 " + " ".join(f"ip4:192.0.2.{i % 256}" for i in range(n // 15))),
    "spf macros": (parse_record, lambda n: "v=spf1 exists:" + "%{ir}." * (n // 6) + "x.example"),
    "spf percent signs": (parse_record, lambda n: "v=spf1 exists:" + "%" * n),
    "spf one long token": (parse_record, lambda n: "v=spf1 include:" + "a" * n),
    "dmarc tags": (lambda s: parse_dmarc("x", s), lambda n: "v=DMARC1; p=none; " + "; ".join(
        f"x{i}=y" for i in range(n // 10))),
    "dmarc semicolons": (lambda s: parse_dmarc("x", s), lambda n: "v=DMARC1;" + ";" * n),
    "mta-sts mx lines": (parse_policy, lambda n: "version: STSv1\nmode: enforce\nmax_age: 86400\n" +
                         "mx: a.example\n" * (n // 14)),
    "mta-sts colons": (parse_policy, lambda n: "version: STSv1\n" + ":" * n),
    "autoconfig servers": (lambda s: parse_autoconfig(s.encode()), lambda n: (
        "<clientConfig><emailProvider>" + "<incomingServer type='imap'><hostname>h</hostname><port>993</port>"
        "</incomingServer>" * (n // 80) + "</emailProvider></clientConfig>")),
    "autoconfig nesting": (lambda s: parse_autoconfig(s.encode()), lambda n: "<a>" * (n // 7) + "</a>" * (n // 7)),
    "postfix chain of $": (parse_postfix_text, lambda n: "".join(
        f"p{i} = $p{i - 1} x\n" if i else "p0 = x\n" for i in range(n // 14))),
    "postfix continuations": (parse_postfix_text, lambda n: "a = b\n" + " c\n" * (n // 3)),
    "master.cf -o lines": (parse_postfix_text, lambda n: "smtp inet n - y - - smtpd\n" + "  -o a=b\n" * (n // 9)),
}


def best_of(parse: Callable[[str], object], text: str, runs: int = 5) -> float:
    """The fastest of ``runs`` parses, in seconds (at least 10 µs: below that the clock says nothing)."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        parse(text)
        best = min(best, time.perf_counter() - start)
    return max(best, 1e-5)
