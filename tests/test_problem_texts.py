"""German reports do not switch to English for the probes' technical problem texts."""

import pytest

from auditapp.core.model import Reason
from auditapp.problem_texts import localize_problem
from auditapp.render import render_reason


@pytest.mark.parametrize(("english", "german"), [
    ("no reply within 5 s", "keine Antwort innerhalb von 5 s"),
    ("STARTTLS: connection closed by the server", "STARTTLS: Verbindung vom Server geschlossen"),
    ("EHLO after STARTTLS: no reply within 2.5 s", "EHLO after STARTTLS: keine Antwort innerhalb von 2.5 s"),
    ("greeting: incomplete reply: no final line within 5 s",
     "Begrüßung: unvollständige Antwort: keine Schlusszeile innerhalb von 5 s"),
    ("connection timed out: [Errno 110] Connection timed out",
     "Zeitüberschreitung beim Verbindungsaufbau: [Errno 110] Connection timed out"),
    ("probe did not finish within 10 s (while connecting)",
     "Prüfung nicht innerhalb von 10 s beendet (Schritt: connecting)"),
    ("binary data instead of a text reply: '<font>'", "Binärdaten statt einer Textantwort: '<font>'"),
])
def test_known_phrases_become_german_and_values_stay(english: str, german: str) -> None:
    assert localize_problem(english, "de") == german


@pytest.mark.parametrize("text", ["something the server said", "550 5.7.1 Relaying denied", ""])
def test_unknown_text_and_server_replies_are_left_alone(text: str) -> None:
    assert localize_problem(text, "de") == text


def test_english_is_unchanged() -> None:
    assert localize_problem("no reply within 5 s", "en") == "no reply within 5 s"


def test_reason_parameters_are_localized_in_german_reports() -> None:
    reason = Reason("reason.dialogue", {"endpoint": "mx.example:25", "problem": "connection reset by the server"})
    assert "Verbindung vom Server zurückgesetzt" in render_reason(reason, "de")
    assert "connection reset by the server" in render_reason(reason, "en")


def test_postfix_prerequisites_are_message_keys_in_both_languages() -> None:
    reason = Reason("reason.dependency", {"what": "why.postfix_version_unknown"})
    assert "Postfix-Version unbekannt" in render_reason(reason, "de")
    assert "Postfix version is unknown" in render_reason(reason, "en")
    assert "why." not in render_reason(reason, "de")
