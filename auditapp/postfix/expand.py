"""Postfix ``$parameter`` expansion (mac_expand), tolerant and loop-safe.

Supported forms, as in postconf(5): ``$name``, ``${name}``, ``$(name)``, ``$$`` (a literal
dollar), ``${name?value}`` / ``${name:value}`` (value if ``$name`` is non-empty / empty; the
value may be written ``{value}``, Postfix >= 3.0), and the Postfix >= 3.0 conditional
``${{text} == {text} ? {then} : {else}}`` with ``==``, ``!=``, the numeric ``<``, ``<=``, ``>``,
``>=`` and the ``<level``-style comparisons Postfix uses for ``compatibility_level``.

Where Postfix would stop with "macro processing error" (a loop, ``${`` without ``}``, an empty
name) this module keeps the text unexpanded and reports the problem: a check must be able to
say "this value cannot be evaluated" instead of crashing. A reference to a parameter whose
value is unknowable offline (``$myhostname`` when unset) stays as written and marks the
result as unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from auditapp.core.problem import Problem
from auditapp.postfix.defaults import parse_level

#: Postfix parameter names in macros: letters, digits, underscore.
_NAME = re.compile(r"[A-Za-z0-9_]+")
_MAX_DEPTH = 100  # Postfix gives up at this nesting too ("unreasonable macro call nesting")
#: Bounds of one top-level expansion. A hostile paste of a few lines of nested references
#: ("p1 = $p0 $p0 ...", nine levels) otherwise grows exponentially: 98 s and 2.7 GB were
#: measured before these caps. Real configurations stay far below both.
MAX_EXPANDED = 64 * 1024
MAX_STEPS = 20_000


@dataclass(frozen=True)
class Lookup:
    """What a macro name resolves to: a raw value, or unknown, or undefined."""

    value: str | None  # None: undefined (expands to "", as in Postfix)
    unknown: bool = False


@dataclass
class Expansion:
    text: str = ""
    unknown: bool = False
    problems: list[str] = field(default_factory=list)


Resolver = Callable[[str], Lookup]


@dataclass
class _Budget:
    """Work and size shared by one top-level expansion and all its nested ones.

    ``memo`` keeps each parameter's expansion, so a value referenced a thousand times is
    expanded once (loop detection still runs first: the stack decides, not the cache).
    """

    steps: int = 0
    memo: dict[str, Expansion] = field(default_factory=dict)
    exceeded: bool = False

    def spend(self, out: Expansion, size: int) -> bool:
        """Count one step; False (and the problem noted once) when a bound is passed."""
        self.steps += 1
        if self.steps <= MAX_STEPS and size <= MAX_EXPANDED:
            return True
        if not self.exceeded:
            self.exceeded = True
            out.problems.append(Problem("problem.postfix.expansion_too_big", "expansion exceeds {kib} KiB or {steps} "
                                        "steps; the value is cut off and cannot be evaluated",
                                        kib=str(MAX_EXPANDED // 1024), steps=str(MAX_STEPS)))
        return False


def expand(value: str, resolve: Resolver, *, stack: tuple[str, ...] = (), budget: _Budget | None = None) -> Expansion:
    """Expand every macro in ``value``; never raises. ``stack``: the parameters being expanded (loop guard)."""
    budget = budget if budget is not None else _Budget()
    out = Expansion()
    parts: list[str] = []
    size = 0
    i, n = 0, len(value)
    while i < n and budget.spend(out, size):
        ch = value[i]
        if ch != "$":
            j = value.find("$", i)
            j = n if j < 0 else j
            piece, i = value[i:j], j
        elif i + 1 < n and value[i + 1] == "$":
            piece, i = "$", i + 2
        elif i + 1 < n and value[i + 1] in "{(":
            close = _matching(value, i + 1)
            if close < 0:
                out.problems.append(Problem("problem.postfix.truncated_macro", "truncated macro reference {text}",
                                            text=repr(value[i:i + 40])))
                parts.append(value[i:])
                break
            piece = _braced(value[i + 2:close], value[i:close + 1], resolve, stack, out, budget)
            i = close + 1
        else:
            m = _NAME.match(value, i + 1)
            if not m:
                out.problems.append(Problem("problem.postfix.empty_macro", "empty macro name at {text}",
                                            text=repr(value[i:i + 20])))
                piece, i = "$", i + 1
            else:
                piece = _lookup(m.group(0), value[i:m.end()], resolve, stack, out, budget)
                i = m.end()
        parts.append(piece)
        size += len(piece)
    text = "".join(parts)
    if size > MAX_EXPANDED:
        text = text[:MAX_EXPANDED]
        budget.spend(out, size)  # records the problem if this is where the bound was passed
    out.text = text
    return out


def _matching(text: str, open_at: int) -> int:
    """Index of the bracket closing the one at ``open_at`` (same kind, nesting counted), or -1."""
    opener = text[open_at]
    closer = "}" if opener == "{" else ")"
    depth = 0
    for k in range(open_at, len(text)):
        if text[k] == opener:
            depth += 1
        elif text[k] == closer:
            depth -= 1
            if depth == 0:
                return k
    return -1


def _lookup(name: str, literal: str, resolve: Resolver, stack: tuple[str, ...], out: Expansion,
            budget: _Budget) -> str:
    """The recursively expanded value of parameter ``name``."""
    if name in stack or len(stack) >= _MAX_DEPTH:
        out.problems.append(Problem("problem.postfix.self_reference", "${name} refers to itself ({chain})", name=name,
                                    chain=" -> ".join((*stack, name))))
        return literal
    sub = budget.memo.get(name)
    if sub is None:
        found = resolve(name)
        if found.unknown:
            out.unknown = True
            return literal
        if found.value is None:
            return ""
        sub = expand(found.value, resolve, stack=(*stack, name), budget=budget)
        budget.memo[name] = sub
    out.unknown |= sub.unknown
    out.problems.extend(p for p in sub.problems if p not in out.problems)
    return sub.text


def _strip_braces(text: str) -> str:
    t = text.strip()
    if t.startswith("{") and _matching(t, 0) == len(t) - 1:
        return t[1:-1].strip()
    return text


def _braced(inner: str, literal: str, resolve: Resolver, stack: tuple[str, ...], out: Expansion,
            budget: _Budget) -> str:
    stripped = inner.strip()
    if stripped.startswith("{"):
        return _conditional(stripped, literal, resolve, stack, out, budget)
    m = _NAME.match(inner)
    if not m:
        out.problems.append(Problem("problem.postfix.bad_macro_name", "invalid macro name in {text}",
                                    text=repr(literal[:40])))
        return literal
    name, rest = m.group(0), inner[m.end():]
    if not rest:
        return _lookup(name, literal, resolve, stack, out, budget)
    if rest[0] not in "?:":
        out.problems.append(Problem("problem.postfix.bad_macro_syntax", "invalid macro syntax in {text}",
                                    text=repr(literal[:40])))
        return literal
    probe = Expansion()
    current = _lookup(name, "$" + name, resolve, stack, probe, budget)
    out.problems.extend(probe.problems)
    if probe.unknown:
        out.unknown = True
        return literal
    wanted = bool(current) if rest[0] == "?" else not current
    if not wanted:
        return ""
    sub = expand(_strip_braces(rest[1:]), resolve, stack=stack, budget=budget)
    out.unknown |= sub.unknown
    out.problems.extend(sub.problems)
    return sub.text


_OPS = ("==", "!=", "<=level", ">=level", "<level", ">level", "<=", ">=", "<", ">")


def _groups(text: str) -> list[str] | None:
    """``{a} == {b} ? {c} : {d}`` -> ["a", "==", "b", "?", "c", ":", "d"]; None if malformed."""
    items: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif text[i] == "{":
            close = _matching(text, i)
            if close < 0:
                return None
            items.append(text[i + 1:close].strip())
            i = close + 1
        else:
            for op in (*_OPS, "?", ":"):
                if text.startswith(op, i):
                    items.append(op)
                    i += len(op)
                    break
            else:
                return None
    return items


def _compare(left: str, op: str, right: str) -> bool | None:
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op.endswith("level"):
        a, b = parse_level(left), parse_level(right)
        if a is None or b is None:
            return None
        op = op.removesuffix("level")
    else:
        try:
            a, b = (int(left),), (int(right),)
        except ValueError:
            return None
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _conditional(text: str, literal: str, resolve: Resolver, stack: tuple[str, ...], out: Expansion,
                 budget: _Budget) -> str:
    items = _groups(text)
    if (items is None or len(items) not in (5, 7) or items[1] not in _OPS or items[3] != "?"
            or (len(items) == 7 and items[5] != ":")):
        out.problems.append(Problem("problem.postfix.unsupported_expression", "unsupported macro expression {text}",
                                    text=repr(literal[:60])))
        return literal
    left = expand(items[0], resolve, stack=stack, budget=budget)
    right = expand(items[2], resolve, stack=stack, budget=budget)
    out.problems.extend(left.problems + right.problems)
    if left.unknown or right.unknown:
        out.unknown = True
        return literal
    verdict = _compare(left.text, items[1], right.text)
    if verdict is None:
        out.problems.append(Problem("problem.postfix.cannot_compare", "cannot compare {left} {op} {right}",
                                    left=repr(left.text), op=items[1], right=repr(right.text)))
        return literal
    chosen = items[4] if verdict else (items[6] if len(items) == 7 else "")
    sub = expand(chosen, resolve, stack=stack, budget=budget)
    out.unknown |= sub.unknown
    out.problems.extend(sub.problems)
    return sub.text
