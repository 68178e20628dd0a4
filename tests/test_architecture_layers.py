"""The folders follow the audit pipeline, and imports only go down it (issue 13).

Layers, lowest first (a module belongs to the layer of the longest prefix that names it):

0. foundation: the model of results, problems, input rules, names, atomic files;
1. catalog: the rule catalog, every two-language text, the questionnaire, the data files;
2. core services: projects and reviews, the DNS client, credentials, Postfix, SPF;
3. collectors: network I/O that gathers facts;
4. checks: pure verdicts over facts; and the message package (a received message: its headers and hops,
   and its verification, which asks DNS and reuses the DMARC parser of the checks);
5. audit (request, prepare, engine) and report (document model, PDF);
6. lab: the loopback servers for the demo and the tests;
7. front ends: the command line and the window.

A module may import its own layer or a lower one, never a higher one, and no set of modules
imports each other in a circle. Imports inside functions count (they run); imports only for
type checkers (``if TYPE_CHECKING:``) do not.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "auditapp"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("auditapp", "auditapp.paths", "auditapp.core.model", "auditapp.core.problem", "auditapp.core.text",
     "auditapp.core.validation", "auditapp.core.atomic", "auditapp.core.safe_read", "auditapp.core.run_shapes",
     "auditapp.core.dnsnames", "auditapp.core.times"),
    ("auditapp.catalog", "auditapp.data", "auditapp.questionnaire"),
    ("auditapp.core", "auditapp.dnsclient", "auditapp.credentials", "auditapp.postfix", "auditapp.spf",
     "auditapp.dnssec", "auditapp.collectors.dnssec_types", "auditapp.rpki"),
    ("auditapp.collectors",),
    ("auditapp.checks", "auditapp.message"),
    ("auditapp.audit", "auditapp.report"),
    ("auditapp.lab",),
    ("auditapp.cli", "auditapp.gui", "auditapp.__main__"),
)


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str:
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    typing_only = {id(node) for block in ast.walk(tree)
                   if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
                   for stmt in block.body for node in ast.walk(stmt)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("auditapp"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in MODULES else _resolve(node.module))
        elif isinstance(node, ast.Import):
            found.update(_resolve(a.name) for a in node.names if a.name.startswith("auditapp"))
    return found


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def layer_of(module: str) -> int:
    best, layer = -1, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, layer = len(prefix), index
    assert layer >= 0, f"{module} is in no layer: add it to LAYERS"
    return layer


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_no_module_imports_a_higher_layer() -> None:
    upward = [f"{m} (layer {layer_of(m)}) imports {t} (layer {layer_of(t)})"
              for m, targets in sorted(GRAPH.items()) for t in sorted(targets)
              if t != "auditapp" and layer_of(t) > layer_of(m)]
    assert not upward, "\n".join(upward)


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(GRAPH):
        if root in index:
            continue
        work = [(root, iter(sorted(GRAPH[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in GRAPH:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(GRAPH[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles() -> None:
    assert _cycles() == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a made-up circle through three modules is found."""
    saved = dict(GRAPH)
    try:
        GRAPH.update({"auditapp.core.model": {"auditapp.catalog.rules"}})  # rules imports model: a circle
        assert ["auditapp.catalog.rules", "auditapp.core.model"] in _cycles()
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


def test_the_catalog_sits_below_the_checks_and_collectors_below_the_checks() -> None:
    assert layer_of("auditapp.catalog.rules") < layer_of("auditapp.checks.registry")
    assert layer_of("auditapp.collectors.dns_facts") < layer_of("auditapp.checks.identity")
    assert not any(t.startswith("auditapp.checks") for m, ts in GRAPH.items() if m.startswith("auditapp.collectors")
                   for t in ts)
