"""Issue 12, item 6: the parsers of network input stay linear and never crash.

Two kinds of test:

* **Scaling.** The same adversarial shape at 6 kB and at 60 kB, best of five runs each; the
  ratio of the two times must stay far below the 100 that a quadratic parser shows (a
  master.cf entry with thousands of ``-o`` lines took 3 s at 60 kB before the fix: ratio 98).
  This is not a wall-clock bound: both sizes run on the same machine within the same second,
  so a slow or busy machine scales both alike. Absolute times are printed by
  ``bench/parsers.py``.
* **Fuzzing** with hypothesis: any text of the characters that matter to each grammar gives a
  result or the parser's own error, never another exception; a SIGALRM guard turns a hang
  into a failure instead of a stuck suite.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditapp.checks.dmarc import parse_dmarc
from auditapp.checks.tags import TagError, parse_tags
from auditapp.collectors.autoconfig import parse_autoconfig
from auditapp.collectors.mta_sts import MAX_POLICY_BYTES, parse_policy
from auditapp.lab.parser_shapes import SHAPES, best_of, quiet
from auditapp.spf.record import MAX_RECORD, SpfSyntaxError, parse_record

FUZZ = settings(max_examples=250, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

#: A parse that is linear scales by 10 from 6 to 60 kB; quadratic by 100. Generous margin for noise.
MAX_RATIO = 30


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_parsing_60_kb_costs_about_ten_times_6_kb(shape: str) -> None:
    parse, make = SHAPES[shape]
    run = quiet(parse)
    small, big = make(6_000), make(60_000)
    ratio = best_of(run, big) / best_of(run, small)
    assert ratio < MAX_RATIO, f"{shape}: 60 kB took {ratio:.0f} times as long as 6 kB (linear would be 10)"


def test_records_longer_than_dns_can_carry_are_refused_unparsed() -> None:
    with pytest.raises(SpfSyntaxError, match="longer than one DNS answer"):
        parse_record("v=spf1 " + "a " * MAX_RECORD)
    with pytest.raises(TagError, match="longer than one DNS answer"):
        parse_tags("v=DMARC1; p=none; x=" + "y" * 70_000)
    assert "longer than one DNS answer" in parse_dmarc("x", "v=DMARC1; p=" + "n" * 70_000).errors[0]
    fields, mx, errors = parse_policy("version: STSv1\n" + "mx: a.example\n" * (MAX_POLICY_BYTES // 10))
    assert not fields and not mx and "RFC 8461" in errors[0]


# -- fuzzing -------------------------------------------------------------------------------------------

@contextmanager
def _hang_guard(seconds: int = 10) -> Iterator[None]:
    """Fail instead of hanging: no input of these sizes may take seconds (a safety net, not a timing test)."""
    def alarm(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"a parse ran for {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _text(alphabet: str, max_size: int = 2000) -> st.SearchStrategy[str]:
    return st.text(alphabet=st.sampled_from(list(alphabet)) | st.characters(), max_size=max_size)


@FUZZ
@given(st.builds(lambda body: "v=spf1 " + body, _text(" :/%{}.-_=+?~ai4p6lxmeorvhdnc0123456789")))
def test_spf_fuzz(text: str) -> None:
    with _hang_guard():
        try:
            record = parse_record(text)
        except SpfSyntaxError:
            return
    assert record.text == text


@FUZZ
@given(_text("v=DMARC1;p nequarjtsfoadkimrufpctmailto:@,.!"))
def test_dmarc_fuzz(text: str) -> None:
    with _hang_guard():
        record = parse_dmarc("_dmarc.example", text)
    assert isinstance(record.errors, tuple)


@FUZZ
@given(_text("versionSTv1mode:enforctesinxa_g \r\n*.-0123456789²"))
def test_mta_sts_fuzz(text: str) -> None:
    with _hang_guard():
        fields, mx, errors = parse_policy(text)
    assert isinstance(fields, dict) and isinstance(mx, list) and isinstance(errors, list)


@FUZZ
@given(_text("<>/ =\"'clientConfigemailProviderincomingServerhostnameport0123456789²&;!-[]?"))
def test_autoconfig_fuzz(text: str) -> None:
    with _hang_guard():
        try:
            incoming, outgoing = parse_autoconfig(text.encode("utf-8", "surrogatepass"))
        except Exception as exc:  # only ElementTree's own parse error is allowed
            assert type(exc).__name__ == "ParseError", repr(exc)
            return
    for _kind, host, port in (*incoming, *outgoing):
        assert isinstance(host, str) and isinstance(port, int) and port >= 0
