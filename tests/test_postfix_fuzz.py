"""Fuzzing the Postfix parsers: garbage in, PostfixConfigError (with a line number) or a config out.

Beyond parsing, every configuration that parses is run through the expansion of every
parameter the checks read and through every PF-* check: none of them may crash (a crash
would turn into an ``error`` result in a client's report).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import auditapp.checks.postfix  # noqa: F401  (registers the PF-* checks)
from auditapp.catalog import catalog
from auditapp.checks import registered
from auditapp.checks.registry import run_check
from auditapp.collectors.facts import Facts
from auditapp.core.model import Status
from auditapp.core.target import AuditTarget
from auditapp.postfix import PostfixConfig, PostfixConfigError, parse_postfix_text
from auditapp.postfix.config import PostfixConfig as _Config
from auditapp.postfix.parser import parse_main_cf, parse_master_cf

#: The same 300 examples on every run: CI decides whether a submission lands, and a crash found by
#: chance on one run and not the next says nothing about the change under test (test_parser_scaling.py
#: does the same). ``HYPOTHESIS_RANDOM=1`` varies them, for a session spent hunting crashes.
FUZZ = settings(max_examples=300, deadline=None, derandomize=not os.environ.get("HYPOTHESIS_RANDOM"),
                suppress_health_check=[HealthCheck.too_slow])

NAMES = ["myhostname", "mydomain", "smtp_helo_name", "mynetworks", "mynetworks_style", "compatibility_level",
         "smtpd_relay_restrictions", "smtpd_recipient_restrictions", "maximal_queue_lifetime",
         "bounce_queue_lifetime", "delay_warning_time", "smtpd_tls_protocols", "smtpd_sasl_auth_enable",
         "smtpd_milters", "content_filter", "smtpd_tls_security_level", "smtp_tls_security_level", "mail_version",
         "smtpd_forbid_bare_newline", "a", "b"]
VALUES = ["$myhostname", "${a}", "$(b)", "${a?{x}}", "${b:y}", "$$", "$", "${", "${{$a} == {x} ? {1} : {2}}",
          "${{$compatibility_level} <level {2} ? {a} : {b}}", "{", "}", "{ a = b }", "5d", "0", "-1", "3.6", "x.y",
          "permit", "reject_unauth_destination", "permit_sasl_authenticated, reject", "0.0.0.0/0", "[::]/0",
          ">=TLSv1.2", "!SSLv3", "TLSv9", "inet:127.0.0.1:8891", "rspamd", "yes", "no", "encrypt", "may", "3.7.11",
          "\t", " ", "\\", "\u00e4\u00df", "\u2028", "\x0c"]
SERVICES = ["smtp", "submission", "submissions", "127.0.0.1:2525", "[::1]:587", "[::1", "a:b:c", "pass", "-"]
TYPES = ["inet", "unix", "unix-dgram", "fifo", "pass", "bogus"]
FIELDS = ["n", "y", "-", "x", "60", "1000?", "?", "0"]

value = st.one_of(st.sampled_from(VALUES), st.text(max_size=40),
                  st.lists(st.sampled_from(VALUES), max_size=6).map(" ".join))
main_line = st.one_of(
    st.builds(lambda n, v: f"{n} = {v}", st.sampled_from(NAMES), value),
    st.builds(lambda n, v: f"{n}={v}", st.sampled_from(NAMES), value),
    value.map(lambda v: "    " + v),
    st.just("# comment"), st.just(""), st.just("   "), st.just("= x"), st.just("no equals"),
)
option = st.one_of(
    st.builds(lambda n, v: f"-o {n}={v}", st.sampled_from(NAMES), value),
    st.builds(lambda n, v: f"-o {{ {n} = {v} }}", st.sampled_from(NAMES), value),
    st.builds(lambda n, v: f"-o{n}={v}", st.sampled_from(NAMES), value),
    st.sampled_from(["-o", "-v", "-o {", "{", "}", "{ -o a=b }", "-o {a=b}x", "--", "-t unix", "positional"]),
)
COMMANDS = ["smtpd", "smtp", "postscreen", "/usr/lib/postfix/smtpd", "pipe"]
YN = st.sampled_from(["n", "y", "-"])
TIMES = st.sampled_from(["-", "60", "1000?", "0"])
valid_service = st.builds(
    lambda s, t, a, b, c, w, m, cmd, opts: " ".join([s, t, a, b, c, w, m, cmd, *opts]),
    st.sampled_from(SERVICES), st.sampled_from(TYPES[:5]), YN, YN, YN, TIMES, st.sampled_from(["-", "1", "0"]),
    st.sampled_from(COMMANDS), st.lists(option, max_size=5))
broken_service = st.builds(
    lambda s, t, f, c, opts: " ".join([s, t, *f, c, *opts]),
    st.sampled_from(SERVICES), st.sampled_from(TYPES), st.lists(st.sampled_from(FIELDS), max_size=6),
    st.sampled_from(COMMANDS), st.lists(option, max_size=5))
master_line = st.one_of(valid_service, valid_service, option.map(lambda o: "  " + o), broken_service,
                        st.just("# comment"), st.just(""))
p_line = st.builds(lambda s, t, n, v: f"{s}/{t}/{n} = {v}", st.sampled_from(SERVICES), st.sampled_from(TYPES[:5]),
                   st.sampled_from(NAMES), value)
garbage = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
    st.text(alphabet=st.sampled_from("{}$=\\#\t \n\r\x00-o:/[]"), max_size=200),
    st.builds(lambda n: "x = " + "y" * n, st.integers(min_value=1000, max_value=100_000)),
)
line_end = st.sampled_from(["\n", "\r\n"])


def joined(lines: st.SearchStrategy[list[str]]) -> st.SearchStrategy[str]:
    return st.builds(lambda ls, end: end.join(ls), lines, line_end)


main_text = joined(st.lists(main_line, max_size=25))
master_text = joined(st.lists(master_line, max_size=20))
mixed_text = joined(st.lists(st.one_of(main_line, master_line, p_line, garbage), max_size=25))


def assert_clean_error(err: PostfixConfigError) -> None:
    assert err.line is not None and err.line >= 1, str(err)
    assert f"line {err.line}" in str(err)
    assert "\n" not in str(err), "one-line reasons only"


def exercise(cfg: PostfixConfig) -> None:
    """Everything a check could ask must work on whatever parsed."""
    for name in NAMES:
        p = cfg.get(name)
        p.cite()
        p.words()
    for svc in cfg.services:
        _ = (svc.host, svc.port, svc.port_number, svc.loopback_only, svc.key)
        for name in NAMES:
            svc.effective(name).cite()
    cfg.helo_name()
    cat = catalog()
    facts = Facts(postfix=cfg)
    target = AuditTarget(domain="example.test")
    for rule_id, reg in registered().items():
        if rule_id.startswith("PF-"):
            for finding in run_check(reg, cat, facts, target):
                assert finding.status is not Status.ERROR, (rule_id, finding.reason)


@FUZZ
@given(main_text)
def test_main_cf_parser(text: str) -> None:
    try:
        parsed = parse_main_cf(text)
    except PostfixConfigError as err:
        assert_clean_error(err)
        return
    exercise(_Config(parsed, "main.cf", has_master=False))


@FUZZ
@given(master_text)
def test_master_cf_parser(text: str) -> None:
    try:
        parsed = parse_master_cf(text)
    except PostfixConfigError as err:
        assert_clean_error(err)
        return
    exercise(_Config(parsed, "master.cf", has_master=True))


@FUZZ
@given(mixed_text)
def test_pasted_text_parser(text: str) -> None:
    try:
        cfg = parse_postfix_text(text)
    except PostfixConfigError as err:
        assert_clean_error(err)
        return
    exercise(cfg)


@FUZZ
@given(garbage)
def test_garbage(text: str) -> None:
    for parse in (parse_main_cf, parse_master_cf):
        try:
            parse(text)
        except PostfixConfigError as err:
            assert_clean_error(err)
    try:
        exercise(parse_postfix_text(text))
    except PostfixConfigError as err:
        assert_clean_error(err)


@pytest.mark.parametrize("text", ["a = 1\n\x00", "\x00", "smtp inet n - n - - smtpd -o {\x00}\n"])
def test_nul_bytes_are_refused_with_a_line(text: str) -> None:
    with pytest.raises(PostfixConfigError) as err:
        parse_postfix_text(text)
    assert_clean_error(err.value)
