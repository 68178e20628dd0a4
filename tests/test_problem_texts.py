"""German reports do not switch to English for the probes' problem texts.

A probe stores its problem as English evidence and, beside it, the message key it was made
from (:class:`auditapp.core.problem.Problem`); reports write the key's text in their language.
The tests check the catalog against the code (every key exists, its English is the evidence
word for word), run the hostile responders and render every problem they produce in German,
and show that runs keep their shape: the English text where it always was, the keys added.
"""

from __future__ import annotations

import ast
import asyncio
import copy
import json
import pickle
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditapp.catalog import catalog
from auditapp.catalog.text import placeholders as _placeholders
from auditapp.catalog.wording import render_problem, render_reason
from auditapp.checks.registry import CheckContext
from auditapp.collectors.facts import Facts
from auditapp.collectors.netguard import refusal
from auditapp.collectors.probes import probe_endpoint
from auditapp.collectors.probes.session import ProbeState, run_probe
from auditapp.collectors.service_facts import EndpointProbe
from auditapp.core.model import Finding, Reason, Severity, Status
from auditapp.core.problem import Problem, joined, labelled
from auditapp.core.target import AuditTarget
from auditapp.lab.mailresponder import DEFAULT_ACCOUNTS, Behaviour, MailResponder

ROOT = Path(__file__).resolve().parent.parent / "auditapp"
USER, PASSWORD = next(iter(DEFAULT_ACCOUNTS.items()))

#: Keys that only put values side by side; their German template is the English one on purpose.
COMPOSITIONS = {"problem.labelled", "problem.with_note", "problem.joined", "problem.dnssec.query_failed",
                "problem.dnssec.rrset"}
#: English words that must not be left in a German problem once the values are taken out.
ENGLISH = re.compile(r"\b(the|within|while|not|no|failed|refused|reply|connection|greeting|after|without|could|"
                     r"did|sent|server|closed|reset|lost|timed|probe|tested|learned|address)\b")


# -- the catalog matches the code ------------------------------------------------------------------


def _problem_calls() -> Iterator[tuple[str, ast.Call]]:
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Problem":
                yield f"{path.relative_to(ROOT)}:{node.lineno}", node


def test_every_problem_key_in_the_code_is_in_the_catalog_with_the_same_english() -> None:
    messages = catalog().messages
    calls = list(_problem_calls())
    assert len(calls) > 60  # the scan found the probes
    for where, call in calls:
        key, english = call.args[:2] if len(call.args) >= 2 else (None, None)
        assert isinstance(key, ast.Constant) and isinstance(english, ast.Constant), (
            f"{where}: Problem() needs a literal key and English text, so this test can check them")
        assert key.value in messages, f"{where}: {key.value} is not in the catalog"
        assert messages[key.value].en == english.value, f"{where}: the catalog's English differs from the evidence"
        assert {k.arg for k in call.keywords} == _placeholders(english.value), f"{where}: parameters"


def test_every_problem_key_in_the_catalog_is_used() -> None:
    """Keys no Problem() writes are for texts a check writes as plain strings (they have no values)."""
    written = {call.args[0].value for _, call in _problem_calls()}  # type: ignore[attr-defined]
    source = "\n".join(p.read_text("utf-8") for p in ROOT.rglob("*.py"))
    for key, text in catalog().messages.items():
        if key.startswith("problem.") and key not in written:
            assert not text.placeholders() and f'"{text.en}"' in source, f"{key} is used nowhere"


def test_german_problem_texts_are_german() -> None:
    for key, text in catalog().messages.items():
        if key.startswith("problem.") and key not in COMPOSITIONS:
            assert text.de != text.en, key
            assert not ENGLISH.search(_without_values(text.de)), f"{key}: {text.de}"


def _without_values(template: str) -> str:
    return re.sub(r"\{[^}]*\}|'[^']*'", "…", template)


# -- every problem the probes produce renders in German ----------------------------------------------


def _masked(problem: Problem) -> Problem:
    """The same problem with its plain values (server replies, OpenSSL reasons) blanked out."""
    params = {k: _masked(v) if isinstance(v, Problem) else "…" for k, v in problem.params.items()}
    return Problem.restore(str(problem), problem.key, params)


def _problems(p: EndpointProbe) -> list[str]:
    texts = [p.problem, p.state_detail]
    if p.tls:  # not chain_error: that is OpenSSL's own text, a value like a server's reply
        texts += [p.tls.error, p.tls.legacy_problem]
    texts += [p.relay.problem] if p.relay else []
    texts += [p.auth.problem] if p.auth else []
    return [t for t in texts if t]


def _probe(r: MailResponder, service: str = "smtp", timeout: float = 0.5, **kw: object) -> EndpointProbe:
    coro = probe_endpoint(r.host, r.port, service, sni="mail.lab.test", timeout=timeout, **kw)  # type: ignore[arg-type]
    return asyncio.run(asyncio.wait_for(coro, 20))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hostile_problems() -> list[str]:
    found: list[str] = []
    for behaviour, service in ((Behaviour.SILENT, "smtp"), (Behaviour.SILENT, "imap"), (Behaviour.SILENT, "pop3"),
                               (Behaviour.GARBAGE, "smtp"), (Behaviour.HUGE_BANNER, "smtp"),
                               (Behaviour.NO_CRLF, "smtp"), (Behaviour.RESET, "smtp"),
                               (Behaviour.RESET_ON_CONNECT, "smtp"), (Behaviour.TLS_STALL, "smtp"),
                               (Behaviour.IMAP_PLAIN, "imaps"), (Behaviour.SMTP, "smtp")):
        with MailResponder(behaviour) as r:
            found += _problems(_probe(r, service))
    with MailResponder(Behaviour.SMTP) as r:
        found += _problems(_probe(r, "submission", account=(USER, PASSWORD)))
    with MailResponder(Behaviour.SLOW_GREETING) as r:
        found += _problems(_probe(r, "submission", timeout=2.0, account=(USER, PASSWORD)))
    found += _problems(asyncio.run(probe_endpoint("127.0.0.1", _closed_port(), "imap", sni="x", timeout=0.5)))

    async def forever() -> None:
        await asyncio.sleep(3600)

    found += _problems(asyncio.run(run_probe(ProbeState("192.0.2.1", 25, "smtp", timeout=0.02), forever)))
    found += [refusal("10.0.0.5", learned=True, allow_internal=False),
              refusal("192.0.2.1", learned=True, allow_internal=False, loopback_only_mode=True)]
    return found


def test_every_problem_of_the_hostile_responders_renders_in_german_and_unchanged_in_english() -> None:
    problems = _hostile_problems()
    assert len(problems) > 15
    keys = set()
    for problem in problems:
        assert isinstance(problem, Problem), f"no message key: {problem!r}"
        keys.add(problem.key)
        assert render_problem(problem, "en") == problem  # English reports show the evidence as it is
        german = render_problem(_masked(problem), "de")
        assert not ENGLISH.search(german), f"{problem!r} -> {german!r}"
    assert {"problem.no_greeting", "problem.greeting", "problem.labelled", "problem.tls_timeout",
            "problem.budget", "problem.not_probed", "problem.connect_refused"} <= keys


@pytest.mark.parametrize(("problem", "german"), [
    (Problem("problem.no_reply", "no reply within {seconds} s", seconds="5"), "keine Antwort innerhalb von 5 s"),
    (labelled("STARTTLS", Problem("problem.closed", "connection closed by the server")),
     "STARTTLS: Verbindung vom Server geschlossen"),
    (labelled(Problem("problem.step.ehlo_after_starttls", "EHLO after STARTTLS"),
              Problem("problem.no_reply", "no reply within {seconds} s", seconds="2.5")),
     "EHLO nach STARTTLS: keine Antwort innerhalb von 2.5 s"),
    (Problem("problem.connect_timed_out", "connection timed out: {reason}", reason="Connection timed out"),
     "Zeitüberschreitung beim Verbindungsaufbau: Connection timed out"),
    (Problem("problem.binary_reply", "binary data instead of a text reply: '{shown}'", shown="<font>"),
     "Binärdaten statt einer Textantwort: '<font>'"),
    (joined([labelled("TLSv1", Problem("problem.no_tls_session", "no TLS session")),
             labelled("TLSv1.1", "the server said no")]),
     "TLSv1: keine TLS-Sitzung; TLSv1.1: the server said no"),
])
def test_keys_become_german_and_values_stay(problem: Problem, german: str) -> None:
    assert render_problem(problem, "de") == german


def test_not_probed_keeps_its_key_when_the_check_takes_the_reason_apart() -> None:
    rule = next(iter(catalog().rules.values()))
    ctx = CheckContext(rule, Facts(), AuditTarget(domain="example.com"))
    why = refusal("10.0.0.5", learned=True, allow_internal=False)
    f = ctx.not_tested("10.0.0.5:25", Reason("reason.dialogue", {"endpoint": "10.0.0.5:25", "problem": why}))
    assert f.reason is not None and f.reason.key == "reason.not_probed"
    text = render_reason(f.reason, "de")
    assert "10.0.0.5 ist eine private Adresse (RFC 1918) aus DNS" in text and "learned" not in text


# -- old texts, server words, runs on disk ----------------------------------------------------------


@pytest.mark.parametrize("text", ["something the server said", "550 5.7.1 Relaying denied", ""])
def test_text_without_key_passes_through(text: str) -> None:
    assert render_problem(text, "de") == text


def test_old_runs_without_keys_render_their_english_text_or_a_known_plain_one() -> None:
    reason = Reason("reason.dialogue", {"endpoint": "mx.example:25", "problem": "no reply within 5 s"})
    assert "no reply within 5 s" in render_reason(reason, "de")
    plain = Reason("reason.dialogue", {"endpoint": "mx.example:587", "problem": "no relay probe"})
    assert "kein Relay-Test gelaufen" in render_reason(plain, "de")
    assert "no relay probe" in render_reason(plain, "en")


def test_a_run_keeps_the_english_text_where_it_was_and_adds_the_keys() -> None:
    problem = labelled("STARTTLS", Problem("problem.reset", "connection reset by the server"))
    finding = Finding("SVC-X", Status.NOT_TESTED, Severity.INFO, "mx:25", "not_tested",
                      reason=Reason("reason.dialogue", {"endpoint": "mx:25", "problem": problem}))
    data = json.loads(json.dumps(finding.to_json()))
    assert data["reason"]["params"] == {"endpoint": "mx:25", "problem": "STARTTLS: connection reset by the server"}
    assert data["reason"]["problems"]["problem"]["key"] == "problem.labelled"
    back = Finding.from_json(data).reason
    assert back is not None and isinstance(back.params["problem"], Problem)
    assert back.to_json() == data["reason"]
    assert "STARTTLS: Verbindung vom Server zurückgesetzt" in render_reason(back, "de")


def test_reasons_without_problems_keep_their_json_shape() -> None:
    reason = Reason("reason.dialogue", {"endpoint": "mx:25", "problem": "no relay probe"})
    assert reason.to_json() == {"key": "reason.dialogue", "params": {"endpoint": "mx:25", "problem": "no relay probe"}}


@pytest.mark.parametrize("stored", [
    "garbage", {"problem": "x"}, {"problem": {"text": "other text", "key": "problem.reset", "params": {}}},
    {"problem": {"text": "t", "key": 5, "params": {}}}, {"problem": {"text": "t", "key": "k", "params": {"a": [1]}}},
    {"problem": {"text": "t", "key": "k", "params": {"a": {"text": "t", "key": "k", "params": {"a": {}}}}}},
])
def test_damaged_keys_in_a_run_file_leave_the_english_text(stored: object) -> None:
    reason = Reason.from_json({"key": "reason.dialogue", "params": {"endpoint": "e", "problem": "t"},
                               "problems": stored})
    assert reason.params["problem"] == "t" and not isinstance(reason.params["problem"], Problem)


def test_deeply_nested_keys_are_refused() -> None:
    data: dict[str, object] = {"text": "t", "key": "problem.reset", "params": {}}
    for _ in range(50):
        data = {"text": "t", "key": "problem.labelled", "params": {"label": "x", "problem": data}}
    assert Problem.from_json(data) is None


def test_a_problem_survives_copy_and_pickle_with_its_key() -> None:
    problem = labelled("EHLO", Problem("problem.no_reply", "no reply within {seconds} s", seconds="5"))
    for clone in (copy.deepcopy(problem), pickle.loads(pickle.dumps(problem))):
        assert clone == problem and isinstance(clone, Problem) and clone.to_json() == problem.to_json()


def test_postfix_prerequisites_are_message_keys_in_both_languages() -> None:
    reason = Reason("reason.dependency", {"what": "why.postfix_version_unknown"})
    assert "Postfix-Version unbekannt" in render_reason(reason, "de")
    assert "Postfix version is unknown" in render_reason(reason, "en")
    assert "why." not in render_reason(reason, "de")
