"""The questionnaire catalog and the answers to it: loading, strict validation, the answers file.

Half of a mail audit cannot be seen from the network (private-use rules, signatures, archiving).
Consultants answer those questions once per client; rules in ``auditapp.checks.policy`` turn the
answers into ordinary findings. Both the catalog and the answers are validated strictly when
loaded, so a typo in a question id or a damaged answers file fails loudly with one clear line
instead of quietly producing a "pass" in a client's report.

Answers file format (``auditapp.answers``, version 1)
------------------------------------------------------

A UTF-8 JSON document::

    {
      "format": "auditapp.answers",
      "version": 1,
      "answers": {
        "private_use.status": "tolerated",
        "private_use.policy": "none",
        "signature.legal_form": "gmbh",
        "signature.supervisory_board": false,
        "signature.details": ["firm_name", "legal_form", "seat"],
        "archive.retention_years": 10
      },
      "meta": {"answered_by": "J. Muster", "date": "2026-09-01"}
    }

- ``format`` must be ``"auditapp.answers"``; ``version`` must be ``1`` (a file from a newer
  auditapp is refused rather than misread).
- ``answers`` maps question ids (see ``auditapp/questionnaire/catalog/questions.toml``) to values:

  ========== ==========================================================
  yesno      ``true`` or ``false``
  choice     the choice key as a string, e.g. ``"tolerated"``
  multichoice a list of choice keys, e.g. ``["firm_name", "seat"]``;
             ``[]`` means "none of these"
  text       a string
  number     a number within the question's range (whole for integer questions)
  ========== ==========================================================

- A question that is missing (or ``null``, or an empty text) is *unanswered*: the rules it feeds
  report "not tested", never "pass".
- Answers to questions that are currently hidden by a ``show_if`` condition are kept but not used.
- ``meta`` is optional and free-form (who answered, when); auditapp does not interpret it.
- Question ids that were renamed in a later catalog are mapped to their new id; ids the catalog
  lists as deleted are dropped. Any other unknown id is an error.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from auditapp.catalog.text import Text, load_text

QUESTION_TYPES = ("yesno", "choice", "multichoice", "text", "number")
CATALOG_FILE = Path(__file__).with_name("catalog") / "questions.toml"
CATALOG_FORMAT = "auditapp.questionnaire"
CATALOG_VERSION = 1

ANSWERS_FORMAT = "auditapp.answers"
ANSWERS_VERSION = 1
#: An answers file is a few kilobytes; anything far larger is not one.
MAX_ANSWERS_FILE = 2 * 1024 * 1024
DEFAULT_TEXT_LENGTH = 2000

QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
KEY = re.compile(r"^[a-z][a-z0-9_]*$")
RULE_ID = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)+$")


class QuestionnaireError(ValueError):
    """The questionnaire catalog is inconsistent; the message names the file and the question."""


class AnswersError(ValueError):
    """Answers (or an answers file) do not fit the questionnaire; one line naming the question id."""


# -- model -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Topic:
    id: str
    title: Text
    intro: Text | None = None


@dataclass(frozen=True)
class Choice:
    key: str
    label: Text
    description: Text | None = None


@dataclass(frozen=True)
class ShowIf:
    """Show a question only when an earlier question has one of ``values`` as its answer.

    For a multi-choice question the condition holds when any selected key is in ``values``.
    An unanswered condition question hides the dependent question.
    """

    question: str
    values: tuple[Any, ...]

    def holds(self, answers: Mapping[str, Any]) -> bool:
        value = answers.get(self.question)
        if value is None:
            return False
        if isinstance(value, list | tuple):
            return any(_same(v, w) for v in value for w in self.values)
        return any(_same(value, w) for w in self.values)


def _same(a: Any, b: Any) -> bool:
    """Equality that does not let ``True == 1`` or ``"1" == 1`` match."""
    return type(a) is type(b) and a == b


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    topic: str
    title: Text
    help: Text
    feeds: tuple[str, ...]
    choices: tuple[Choice, ...] = ()
    show_if: ShowIf | None = None
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    max_length: int = DEFAULT_TEXT_LENGTH
    related: tuple[str, ...] = ()

    @property
    def choice_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.choices)

    def choice(self, key: str) -> Choice:
        for c in self.choices:
            if c.key == key:
                return c
        raise KeyError(f"{self.id}: no choice {key!r}")

    def check(self, value: Any) -> Any:
        """Return ``value`` normalised for this question, or raise :class:`AnswersError`.

        ``None`` is not accepted here: "unanswered" is the absence of a value and is handled
        by :func:`validate_answers`.
        """
        where = f"answer to {self.id}"
        if self.type == "yesno":
            if not isinstance(value, bool):
                raise AnswersError(f"{where}: expected true or false, got {_show(value)}")
            return value
        if self.type == "choice":
            if not isinstance(value, str):
                raise AnswersError(f"{where}: expected one of {_keys(self)}, got {_show(value)}")
            if value not in self.choice_keys:
                raise AnswersError(f"{where}: unknown choice {value!r}; expected one of {_keys(self)}")
            return value
        if self.type == "multichoice":
            if not isinstance(value, list | tuple):
                raise AnswersError(f"{where}: expected a list of choice keys ({_keys(self)}), got {_show(value)}")
            seen: set[str] = set()
            for item in value:
                if not isinstance(item, str) or item not in self.choice_keys:
                    raise AnswersError(f"{where}: unknown choice {_show(item)}; expected keys from {_keys(self)}")
                if item in seen:
                    raise AnswersError(f"{where}: choice {item!r} is listed twice")
                seen.add(item)
            return [k for k in self.choice_keys if k in seen]
        if self.type == "text":
            if not isinstance(value, str):
                raise AnswersError(f"{where}: expected text, got {_show(value)}")
            if len(value) > self.max_length:
                raise AnswersError(f"{where}: text is {len(value)} characters long; at most {self.max_length} allowed")
            return value.strip()
        # number
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise AnswersError(f"{where}: expected a number, got {_show(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise AnswersError(f"{where}: expected a finite number, got {value}")
        if self.integer and isinstance(value, float):
            if not value.is_integer():
                raise AnswersError(f"{where}: expected a whole number, got {value}")
            value = int(value)
        if self.minimum is not None and value < self.minimum:
            raise AnswersError(f"{where}: {value} is out of range; allowed {_range(self)}")
        if self.maximum is not None and value > self.maximum:
            raise AnswersError(f"{where}: {value} is out of range; allowed {_range(self)}")
        return value


def _keys(q: Question) -> str:
    return ", ".join(q.choice_keys)


def _range(q: Question) -> str:
    lo = "-inf" if q.minimum is None else f"{q.minimum:g}"
    hi = "inf" if q.maximum is None else f"{q.maximum:g}"
    return f"{lo} to {hi}"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if _jsonable(value) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Questionnaire:
    """The validated catalog: topics and questions in file order."""

    topics: dict[str, Topic]
    questions: dict[str, Question]
    #: Old question id → current id, so that answers saved with an older catalog still load.
    renamed: dict[str, str]
    #: Question ids that no longer exist; their answers are dropped on load.
    deleted: frozenset[str]
    #: Fingerprint of the catalog file, for tracing a changed verdict to a changed catalog.
    version: str = ""

    def __getitem__(self, question_id: str) -> Question:
        return self.questions[question_id]

    def feeding(self, rule_id: str) -> tuple[Question, ...]:
        """The questions whose answers rule ``rule_id`` evaluates, in catalog order."""
        return tuple(q for q in self.questions.values() if rule_id in q.feeds)

    def in_topic(self, topic_id: str) -> tuple[Question, ...]:
        return tuple(q for q in self.questions.values() if q.topic == topic_id)

    def visible(self, question_id: str, answers: Mapping[str, Any]) -> bool:
        """Whether the GUI shows the question, given the answers so far.

        A question is hidden when its ``show_if`` does not hold, or when the question its
        condition depends on is itself hidden (conditions chain).
        """
        q = self.questions[question_id]
        if q.show_if is None:
            return True
        return self.visible(q.show_if.question, answers) and q.show_if.holds(answers)


# -- loading the catalog ----------------------------------------------------------------------

_TOP_KEYS = {"format", "version", "topics", "questions", "renamed", "deleted"}
_TOPIC_KEYS = {"title", "intro"}
_QUESTION_KEYS = {
    "id", "type", "topic", "title", "help", "feeds", "choices", "show_if", "min", "max", "integer", "max_length",
    "related",
}
_CHOICE_KEYS = {"key", "label", "description"}


def _text(value: Any, where: str) -> Text:
    return load_text(value, where, QuestionnaireError, format_string=False)


def _string_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise QuestionnaireError(f"{where}: must be a list of strings")
    if len(set(value)) != len(value):
        raise QuestionnaireError(f"{where}: lists an entry twice")
    return list(value)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise QuestionnaireError(f"{where}: must be a number")
    return value


def _choice(data: Any, where: str) -> Choice:
    if not isinstance(data, dict):
        raise QuestionnaireError(f"{where}: each choice is a table")
    unknown = set(data) - _CHOICE_KEYS
    if unknown:
        raise QuestionnaireError(f"{where}: unknown keys {sorted(unknown)}")
    key = data.get("key")
    if not isinstance(key, str) or not KEY.match(key):
        raise QuestionnaireError(f"{where}: choice key {key!r} must be lower-case letters, digits and '_'")
    where = f"{where} {key}"
    if "label" not in data:
        raise QuestionnaireError(f"{where}: missing 'label'")
    desc = data.get("description")
    return Choice(key, _text(data["label"], where + ".label"),
                  _text(desc, where + ".description") if desc is not None else None)


def _show_if(data: Any, where: str, earlier: Mapping[str, Question]) -> ShowIf:
    if not isinstance(data, dict) or set(data) != {"question", "in"}:
        raise QuestionnaireError(f"{where}: show_if needs exactly 'question' and 'in'")
    ref = data["question"]
    if ref not in earlier:
        raise QuestionnaireError(
            f"{where}: show_if refers to {ref!r}, which is not a question defined before this one"
        )
    target = earlier[ref]
    values = data["in"]
    if not isinstance(values, list) or not values:
        raise QuestionnaireError(f"{where}: show_if 'in' must be a non-empty list")
    if target.type == "yesno":
        if not all(isinstance(v, bool) for v in values):
            raise QuestionnaireError(f"{where}: show_if on yes/no question {ref} takes true/false values")
    elif target.type in ("choice", "multichoice"):
        bad = [v for v in values if v not in target.choice_keys]
        if bad:
            raise QuestionnaireError(f"{where}: show_if values {bad} are not choices of {ref}")
    else:
        raise QuestionnaireError(f"{where}: show_if can only depend on yes/no or choice questions, not {ref}")
    return ShowIf(ref, tuple(values))


def _question(data: Any, index: int, topics: Mapping[str, Topic], earlier: Mapping[str, Question],
              rule_ids: Collection[str], source: str) -> Question:
    where = f"{source}: question #{index + 1}"
    if not isinstance(data, dict):
        raise QuestionnaireError(f"{where}: must be a table")
    qid = data.get("id")
    if not isinstance(qid, str) or not QUESTION_ID.match(qid):
        raise QuestionnaireError(f"{where}: id {qid!r} must look like 'topic.name' (lower case, dots)")
    where = f"{source}: {qid}"
    unknown = set(data) - _QUESTION_KEYS
    if unknown:
        raise QuestionnaireError(f"{where}: unknown keys {sorted(unknown)}")
    if qid in earlier:
        raise QuestionnaireError(f"{where}: id is defined twice")
    for key in ("type", "topic", "title", "help", "feeds"):
        if key not in data:
            raise QuestionnaireError(f"{where}: missing '{key}'")
    qtype = data["type"]
    if qtype not in QUESTION_TYPES:
        raise QuestionnaireError(f"{where}: type {qtype!r} is not one of {', '.join(QUESTION_TYPES)}")
    if data["topic"] not in topics:
        raise QuestionnaireError(f"{where}: unknown topic {data['topic']!r}")
    feeds = _string_list(data["feeds"], where + ".feeds")
    for rule in feeds:
        if rule not in rule_ids:
            raise QuestionnaireError(f"{where}: feeds unknown rule {rule!r}")
    related = _string_list(data.get("related", []), where + ".related")
    for rule in related:
        if not RULE_ID.match(rule):
            raise QuestionnaireError(f"{where}: related {rule!r} is not a rule ID")

    choices: tuple[Choice, ...] = ()
    if qtype in ("choice", "multichoice"):
        raw = data.get("choices")
        if not isinstance(raw, list) or len(raw) < 2:
            raise QuestionnaireError(f"{where}: a {qtype} question needs at least two choices")
        choices = tuple(_choice(c, f"{where}.choices") for c in raw)
        keys = [c.key for c in choices]
        if len(set(keys)) != len(keys):
            raise QuestionnaireError(f"{where}: duplicate choice keys")
    elif "choices" in data:
        raise QuestionnaireError(f"{where}: only choice and multichoice questions have choices")

    if qtype != "number" and any(k in data for k in ("min", "max", "integer")):
        raise QuestionnaireError(f"{where}: min/max/integer only apply to number questions")
    if qtype != "text" and "max_length" in data:
        raise QuestionnaireError(f"{where}: max_length only applies to text questions")
    minimum = _number(data["min"], where + ".min") if "min" in data else None
    maximum = _number(data["max"], where + ".max") if "max" in data else None
    if minimum is not None and maximum is not None and minimum > maximum:
        raise QuestionnaireError(f"{where}: min is greater than max")
    integer = data.get("integer", False)
    if not isinstance(integer, bool):
        raise QuestionnaireError(f"{where}: integer must be true or false")
    max_length = data.get("max_length", DEFAULT_TEXT_LENGTH)
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise QuestionnaireError(f"{where}: max_length must be a positive whole number")

    show_if = _show_if(data["show_if"], where, earlier) if "show_if" in data else None
    return Question(
        id=qid, type=qtype, topic=data["topic"],
        title=_text(data["title"], where + ".title"), help=_text(data["help"], where + ".help"),
        feeds=tuple(feeds), choices=choices, show_if=show_if,
        minimum=minimum, maximum=maximum, integer=integer, max_length=max_length, related=tuple(related),
    )


def _known_rule_ids() -> set[str]:
    # Imported here, not at module level: auditapp.checks imports auditapp.checks.policy, which
    # imports this module; a top-level import would be circular.
    from auditapp.catalog import catalog

    return set(catalog().rules)


def parse_questionnaire(text: str, rule_ids: Collection[str], source: str = "questions.toml") -> Questionnaire:
    """Validate catalog ``text``; every rule a question feeds must be in ``rule_ids``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise QuestionnaireError(f"{source}: {exc}") from exc
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise QuestionnaireError(f"{source}: unknown top-level keys {sorted(unknown)}")
    if data.get("format") != CATALOG_FORMAT or data.get("version") != CATALOG_VERSION:
        raise QuestionnaireError(f"{source}: expected format = {CATALOG_FORMAT!r} and version = {CATALOG_VERSION}")

    raw_topics = data.get("topics")
    if not isinstance(raw_topics, dict) or not raw_topics:
        raise QuestionnaireError(f"{source}: needs a [topics] table")
    topics: dict[str, Topic] = {}
    for tid, body in raw_topics.items():
        where = f"{source}: topic {tid}"
        if not KEY.match(tid):
            raise QuestionnaireError(f"{where}: topic ids are lower-case letters, digits and '_'")
        if not isinstance(body, dict):
            raise QuestionnaireError(f"{where}: must be a table")
        bad = set(body) - _TOPIC_KEYS
        if bad:
            raise QuestionnaireError(f"{where}: unknown keys {sorted(bad)}")
        if "title" not in body:
            raise QuestionnaireError(f"{where}: missing 'title'")
        intro = body.get("intro")
        topics[tid] = Topic(tid, _text(body["title"], where + ".title"),
                            _text(intro, where + ".intro") if intro is not None else None)

    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        raise QuestionnaireError(f"{source}: needs [[questions]]")
    questions: dict[str, Question] = {}
    for i, body in enumerate(raw_questions):
        q = _question(body, i, topics, questions, rule_ids, source)
        questions[q.id] = q
    empty = [t for t in topics if not any(q.topic == t for q in questions.values())]
    if empty:
        raise QuestionnaireError(f"{source}: topics without questions: {', '.join(empty)}")

    renamed = data.get("renamed", {})
    if not isinstance(renamed, dict):
        raise QuestionnaireError(f"{source}: renamed must be a table of old id = new id")
    for old, new in renamed.items():
        if old in questions:
            raise QuestionnaireError(f"{source}: renamed id {old!r} is still a current question")
        if new not in questions:
            raise QuestionnaireError(f"{source}: renamed {old!r} points to unknown question {new!r}")
    deleted = _string_list(data.get("deleted", []), f"{source}: deleted")
    for old in deleted:
        if old in questions or old in renamed:
            raise QuestionnaireError(f"{source}: deleted id {old!r} is still in use")
    version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return Questionnaire(topics, questions, dict(renamed), frozenset(deleted), version)


def load_questionnaire(path: Path = CATALOG_FILE, rule_ids: Collection[str] | None = None) -> Questionnaire:
    """Read and validate a catalog file; by default ``feeds`` are checked against the rule catalog."""
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionnaireError(f"{Path(path).name}: cannot read: {exc}") from exc
    return parse_questionnaire(text, _known_rule_ids() if rule_ids is None else rule_ids, Path(path).name)


@cache
def questionnaire() -> Questionnaire:
    """The shipped questionnaire, loaded and validated once per process."""
    return load_questionnaire()
