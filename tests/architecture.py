"""The import graph of our packages, read from the source: what tests/test_layers.py checks.

`python -m tests.architecture` prints the figures: modules, the largest, import cycles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "storage", "sandbox")

LAYERS: dict[str, frozenset[str]] = {
    "storage": frozenset(),
    "bot.common": frozenset(),
    "bot.domain": frozenset({"storage", "bot.common"}),
    "bot.clients": frozenset({"bot.domain", "bot.common"}),
    "handlers": frozenset({"bot.domain", "bot.common"}),
    "sandbox": frozenset(),
    "bot": frozenset({"storage", "bot.common", "bot.domain", "bot.clients", "handlers", "sandbox"}),
}
"""Each layer and the layers it may import. `bot` is the composition root: the rest of bot/."""


@dataclass(frozen=True)
class Module:
    name: str
    path: Path

    @property
    def layer(self) -> str:
        for layer in sorted(LAYERS, key=len, reverse=True):
            if self.name == layer or self.name.startswith(f"{layer}."):
                return layer
        raise ValueError(f"{self.name} is in no layer")

    @property
    def lines(self) -> int:
        return len(self.path.read_text().splitlines())


def modules() -> dict[str, Module]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).with_suffix("")
            if "migrations" in relative.parts:
                continue
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            found[".".join(parts)] = Module(".".join(parts), path)
    return found


def imports() -> dict[str, set[str]]:
    """Every module's imports of ours, at any depth: inside functions and `TYPE_CHECKING`
    blocks too, since those are dependencies as well."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, module in known.items():
        package = name if module.path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(module.path.read_text())):
            for target in _targets(node, package, known):
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def _targets(node: ast.AST, package: str, known: dict[str, Module]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*parts, base] if base else parts)
        for alias in node.names:
            yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    known = modules()
    layers: dict[str, set[str]] = {layer: set() for layer in LAYERS}
    for name, targets in graph.items():
        layer = known[name].layer
        layers[layer] |= {known[t].layer for t in targets} - {layer}
    return layers


if __name__ == "__main__":
    known, graph = modules(), imports()
    product = [m for m in known.values() if m.layer != "sandbox"]
    largest = max(product, key=lambda m: m.lines)
    print(f"modules (without the sandbox): {len(product)}; with it: {len(known)}")
    print(f"largest: {largest.path.relative_to(ROOT)} ({largest.lines} lines)")
    print(f"module import cycles: {len(cycles(graph))}")
    print(f"layer import cycles: {len(cycles(layer_graph(graph)))}")
    for layer, targets in layer_graph(graph).items():
        print(f"  {layer} -> {', '.join(sorted(targets)) or '(nothing of ours)'}")
