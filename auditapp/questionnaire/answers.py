"""Answers to the questionnaire: validation against the catalog, and the answers file (JSON).

The catalog model lives in :mod:`auditapp.questionnaire.schema`; an answers file is
``{"format": "auditapp.answers", "version": 1, "meta": {...}, "answers": {question id: value}}``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from auditapp.core.atomic import write_atomic
from auditapp.core.safe_read import UnsafeFileError, read_regular_file
from auditapp.questionnaire.schema import (
    ANSWERS_FORMAT,
    ANSWERS_VERSION,
    MAX_ANSWERS_FILE,
    AnswersError,
    Questionnaire,
    _show,
    questionnaire,
)


def validate_answers(data: Mapping[str, Any], q: Questionnaire | None = None) -> dict[str, Any]:
    """Check answers ``{question id: value}`` against the questionnaire and return them normalised.

    Normalised means: renamed ids mapped to their current id, deleted ids and unanswered entries
    (``None``, empty text) dropped, multi-choice lists in catalog order, whole numbers as ``int``,
    and keys in catalog order. Raises :class:`AnswersError` with one line naming the question.
    """
    q = q or questionnaire()
    if not isinstance(data, Mapping):
        raise AnswersError(f"answers must be an object of question id to value, got {_show(data)}")
    out: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for raw_id, value in data.items():
        if not isinstance(raw_id, str):
            raise AnswersError(f"question id {raw_id!r} is not a string")
        if raw_id in q.deleted:
            continue
        qid = q.renamed.get(raw_id, raw_id)
        if qid not in q.questions:
            hint = difflib.get_close_matches(raw_id, list(q.questions), n=1)
            more = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise AnswersError(f"unknown question id {raw_id!r}{more}")
        if qid in origin:
            raise AnswersError(f"question {qid} is answered twice (as {origin[qid]!r} and {raw_id!r})")
        origin[qid] = raw_id
        if value is None:
            continue
        norm = q.questions[qid].check(value)
        if norm == "" and q.questions[qid].type == "text":
            continue
        out[qid] = norm
    return {k: out[k] for k in q.questions if k in out}


def answers_document(answers: Mapping[str, Any], meta: Mapping[str, Any] | None = None,
                     q: Questionnaire | None = None) -> dict[str, Any]:
    """The JSON object of an answers file, validated."""
    doc: dict[str, Any] = {
        "format": ANSWERS_FORMAT,
        "version": ANSWERS_VERSION,
        "answers": validate_answers(answers, q),
    }
    if meta:
        doc["meta"] = dict(meta)
    return doc


def dump_answers(answers: Mapping[str, Any], meta: Mapping[str, Any] | None = None,
                 q: Questionnaire | None = None) -> str:
    """Serialise answers as the text of an answers file (stable order, readable diff)."""
    return json.dumps(answers_document(answers, meta, q), ensure_ascii=False, indent=2) + "\n"


def save_answers_file(path: Path, answers: Mapping[str, Any], meta: Mapping[str, Any] | None = None,
                      q: Questionnaire | None = None) -> None:
    """Validate and write an answers file atomically (a crash leaves the old file intact)."""

    write_atomic(Path(path), dump_answers(answers, meta, q).encode("utf-8"))


def _reject_duplicates(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise AnswersError(f"key {key!r} appears twice")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise AnswersError(f"{name} is not a valid JSON number")


def parse_answers(text: str, q: Questionnaire | None = None) -> dict[str, Any]:
    """Parse the text of an answers file and return the validated answers."""
    try:
        doc = json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise AnswersError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    foreign = f"not an auditapp answers file (expected a JSON object with \"format\": \"{ANSWERS_FORMAT}\")"
    if not isinstance(doc, dict):
        raise AnswersError(foreign)
    fmt = doc.get("format")
    if fmt != ANSWERS_FORMAT:
        found = f"; found format {fmt!r}" if isinstance(fmt, str) else ""
        raise AnswersError(foreign + found)
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise AnswersError(f"'version' must be a positive whole number, got {_show(version)}")
    if version > ANSWERS_VERSION:
        raise AnswersError(
            f"written by a newer auditapp (answers version {version}; this one reads version {ANSWERS_VERSION})"
        )
    unknown = set(doc) - {"format", "version", "answers", "meta"}
    if unknown:
        raise AnswersError(f"unknown top-level keys {sorted(unknown)} (allowed: format, version, answers, meta)")
    if "answers" not in doc:
        raise AnswersError("the 'answers' object is missing")
    if not isinstance(doc["answers"], dict):
        raise AnswersError(f"'answers' must be an object of question id to value, got {_show(doc['answers'])}")
    if "meta" in doc and not isinstance(doc["meta"], dict):
        raise AnswersError("'meta' must be an object")
    return validate_answers(doc["answers"], q)


def load_answers_file(path: Path | str, q: Questionnaire | None = None) -> dict[str, Any]:
    """Read and validate an answers file; errors start with the file name and fit on one line."""
    path = Path(path)
    try:
        raw = read_regular_file(path, MAX_ANSWERS_FILE)  # no FIFO, device or giant file (issue 12)
    except UnsafeFileError as exc:
        what = "far too large for an answers file" if "larger than" in str(exc) else "not an answers file"
        raise AnswersError(f"{exc}; {what}") from None
    except OSError as exc:
        raise AnswersError(f"{path}: cannot read the answers file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AnswersError(f"{path}: not UTF-8 text; not an auditapp answers file") from None
    try:
        return parse_answers(text, q)
    except AnswersError as exc:
        raise AnswersError(f"{path}: {exc}") from None
