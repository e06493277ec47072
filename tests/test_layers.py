"""The layers import downwards only, and nothing of ours imports in a cycle."""

from __future__ import annotations

import subprocess
import sys

from tests.architecture import LAYERS, ROOT, cycles, imports, layer_graph, modules


def test_no_module_imports_another_in_a_cycle() -> None:
    assert cycles(imports()) == []


def test_each_layer_imports_only_the_layers_below_it() -> None:
    known = modules()
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in imports().items()
        for target in targets
        if known[target].layer != known[name].layer
        and known[target].layer not in LAYERS[known[name].layer]
    )
    assert wrong == []
    assert cycles(layer_graph(imports())) == []


def test_the_checks_see_a_cycle_and_a_wrong_way_import() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    graph = imports()
    assert "bot.domain._queries" in graph["bot.domain.links"]
    assert "handlers.slack.runtime" in graph["handlers.slack.links"]
    assert {"bot.domain", "bot.common"} >= layer_graph(graph)["handlers"]


def test_the_domain_loads_no_http_web_or_slack_library() -> None:
    check = (
        "import sys, bot.domain, bot.domain.links, bot.domain.consent;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'httpx', 'authlib', 'starlette', 'slack_sdk', 'slack_bolt', 'jinja2'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_domain_says_nothing_of_slack() -> None:
    """Where a link is reported is the front door's business: the domain keeps a reference."""
    speaking = [
        f"{module.path.relative_to(ROOT)}:{number}"
        for module in modules().values()
        if module.layer == "bot.domain"
        for number, line in enumerate(module.path.read_text().splitlines(), start=1)
        if "slack" in line.lower()
    ]
    assert speaking == []
