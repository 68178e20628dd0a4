"""A probe's problem text that is English evidence and a message key at the same time.

Probes describe what went wrong while it happens ("no reply within 5 s", "connection reset
by the server"). That English text is evidence: runs, transcripts and exports keep it as it
was written, and it is what an admin pastes into a search engine. A German report still must
not switch language mid-sentence, so a :class:`Problem` also carries the catalog message key
(``problem.*`` in ``catalog/data/_messages.toml``) and the parameters the text was made
from, and the renderer writes it in the report's language from those.

A :class:`Problem` *is* the English text (a ``str`` subclass): every place that stores,
compares, logs or exports a problem keeps working without knowing about keys, and only the
renderer and the run file ask for them. Composed texts ("STARTTLS: connection closed by the
server") are a key whose parameter is another :class:`Problem`; plain-string parameters are
values from the network or the system (a server's reply, an OpenSSL reason) and stay as they are.

Every ``Problem(...)`` call names its key and its English template as literals, so a test can
check them against the catalog without running a probe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Nesting a stored problem may have; deeper data in a project file is not a problem we wrote.
MAX_DEPTH = 8


class Problem(str):
    """The English text of a problem, with the message key and parameters it was made from."""

    key: str
    #: Values are plain strings (shown as they are) or nested :class:`Problem` texts (translated).
    params: dict[str, str]

    def __new__(cls, key: str, english: str, /, **params: str) -> Problem:
        """``Problem("problem.no_reply", "no reply within {seconds} s", seconds="5")``."""
        return cls.restore(english.format_map(params), key, params)

    @classmethod
    def restore(cls, text: str, key: str, params: Mapping[str, str]) -> Problem:
        """A problem whose English text is already written (read back from a file, unpickled)."""
        obj = str.__new__(cls, text)
        obj.key = key
        obj.params = dict(params)
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        # str's own pickling would call __new__ with the text alone and lose the key.
        return (Problem.restore, (str(self), self.key, self.params))

    def to_json(self) -> dict[str, Any]:
        return {"text": str(self), "key": self.key,
                "params": {k: v.to_json() if isinstance(v, Problem) else str(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: object, depth: int = 0) -> Problem | None:
        """The problem :meth:`to_json` wrote, or None for anything else (a damaged or hostile file)."""
        if depth > MAX_DEPTH or not isinstance(data, dict):
            return None
        text, key, raw = data.get("text"), data.get("key"), data.get("params")
        if not isinstance(text, str) or not isinstance(key, str) or not isinstance(raw, dict):
            return None
        params: dict[str, str] = {}
        for name, value in raw.items():
            nested = cls.from_json(value, depth + 1) if isinstance(value, dict) else None
            if nested is not None:
                params[str(name)] = nested
            elif isinstance(value, str):
                params[str(name)] = value
            else:
                return None
        return cls.restore(text, key, params)


def labelled(label: str, problem: str) -> Problem:
    """``"STARTTLS: connection closed by the server"``: a command, step or endpoint before a problem."""
    return Problem("problem.labelled", "{label}: {problem}", label=label, problem=problem)


def with_note(problem: str, note: str) -> Problem:
    """``"<problem> (<note>)"``: a problem with a detail that explains it."""
    return Problem("problem.with_note", "{problem} ({note})", problem=problem, note=note)


def joined(problems: Sequence[str]) -> str:
    """Several problems as one text, ``"; "`` between them; each keeps its key."""
    if not problems:
        return ""
    first, *rest = problems
    if not rest:
        return first
    return Problem("problem.joined", "{first}; {rest}", first=first, rest=joined(rest))


def problems_to_json(params: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of the :class:`Problem` values among ``params``, for a run file (empty if none)."""
    return {name: value.to_json() for name, value in params.items() if isinstance(value, Problem)}


def with_problems(params: Mapping[str, Any], stored: object) -> dict[str, Any]:
    """``params`` with the problems :func:`problems_to_json` stored turned back into :class:`Problem`.

    A stored problem counts only when its text is still the parameter's text: the English
    evidence is what the run file says, and a key that no longer matches it is dropped.
    """
    out = dict(params)
    if not isinstance(stored, dict):
        return out
    for name, data in stored.items():
        problem = Problem.from_json(data)
        if problem is not None and isinstance(out.get(name), str) and out[name] == problem:
            out[name] = problem
    return out
