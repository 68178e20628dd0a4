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

from auditapp.postfix.defaults import parse_level

#: Postfix parameter names in macros: letters, digits, underscore.
_NAME = re.compile(r"[A-Za-z0-9_]+")
_MAX_DEPTH = 100  # Postfix gives up at this nesting too ("unreasonable macro call nesting")


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


def expand(value: str, resolve: Resolver, *, stack: tuple[str, ...] = ()) -> Expansion:
    """Expand every macro in ``value``; never raises. ``stack``: the parameters being expanded (loop guard)."""
    out = Expansion()
    parts: list[str] = []
    i, n = 0, len(value)
    while i < n:
        ch = value[i]
        if ch != "$":
            j = value.find("$", i)
            j = n if j < 0 else j
            parts.append(value[i:j])
            i = j
            continue
        if i + 1 < n and value[i + 1] == "$":
            parts.append("$")
            i += 2
            continue
        if i + 1 < n and value[i + 1] in "{(":
            close = _matching(value, i + 1)
            if close < 0:
                out.problems.append(f"truncated macro reference {value[i:i + 40]!r}")
                parts.append(value[i:])
                break
            inner = value[i + 2:close]
            parts.append(_braced(inner, value[i:close + 1], resolve, stack, out))
            i = close + 1
            continue
        m = _NAME.match(value, i + 1)
        if not m:
            out.problems.append(f"empty macro name at {value[i:i + 20]!r}")
            parts.append("$")
            i += 1
            continue
        parts.append(_lookup(m.group(0), value[i:m.end()], resolve, stack, out))
        i = m.end()
    out.text = "".join(parts)
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


def _lookup(name: str, literal: str, resolve: Resolver, stack: tuple[str, ...], out: Expansion) -> str:
    """The recursively expanded value of parameter ``name``."""
    if name in stack or len(stack) >= _MAX_DEPTH:
        out.problems.append(f"${name} refers to itself ({' -> '.join((*stack, name))})")
        return literal
    found = resolve(name)
    if found.unknown:
        out.unknown = True
        return literal
    if found.value is None:
        return ""
    sub = expand(found.value, resolve, stack=(*stack, name))
    out.unknown |= sub.unknown
    out.problems.extend(sub.problems)
    return sub.text


def _strip_braces(text: str) -> str:
    t = text.strip()
    if t.startswith("{") and _matching(t, 0) == len(t) - 1:
        return t[1:-1].strip()
    return text


def _braced(inner: str, literal: str, resolve: Resolver, stack: tuple[str, ...], out: Expansion) -> str:
    stripped = inner.strip()
    if stripped.startswith("{"):
        return _conditional(stripped, literal, resolve, stack, out)
    m = _NAME.match(inner)
    if not m:
        out.problems.append(f"invalid macro name in {literal[:40]!r}")
        return literal
    name, rest = m.group(0), inner[m.end():]
    if not rest:
        return _lookup(name, literal, resolve, stack, out)
    if rest[0] not in "?:":
        out.problems.append(f"invalid macro syntax in {literal[:40]!r}")
        return literal
    probe = Expansion()
    current = _lookup(name, "$" + name, resolve, stack, probe)
    out.problems.extend(probe.problems)
    if probe.unknown:
        out.unknown = True
        return literal
    wanted = bool(current) if rest[0] == "?" else not current
    if not wanted:
        return ""
    sub = expand(_strip_braces(rest[1:]), resolve, stack=stack)
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


def _conditional(text: str, literal: str, resolve: Resolver, stack: tuple[str, ...], out: Expansion) -> str:
    items = _groups(text)
    if (items is None or len(items) not in (5, 7) or items[1] not in _OPS or items[3] != "?"
            or (len(items) == 7 and items[5] != ":")):
        out.problems.append(f"unsupported macro expression {literal[:60]!r}")
        return literal
    left, right = expand(items[0], resolve, stack=stack), expand(items[2], resolve, stack=stack)
    out.problems.extend(left.problems + right.problems)
    if left.unknown or right.unknown:
        out.unknown = True
        return literal
    verdict = _compare(left.text, items[1], right.text)
    if verdict is None:
        out.problems.append(f"cannot compare {left.text!r} {items[1]} {right.text!r}")
        return literal
    chosen = items[4] if verdict else (items[6] if len(items) == 7 else "")
    sub = expand(chosen, resolve, stack=stack)
    out.unknown |= sub.unknown
    out.problems.extend(sub.problems)
    return sub.text
