"""The import contract: layers point one way (docs/ARCHITECTURE.md), checked over every import statement with ast.

A module may import modules of its own layer group or of a lower layer, never a higher one, and never a
sibling group of its own layer (siblings are independent). Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BASE = (
    "core.limits core.messages core.result core.local_rules core.tensorjson core.gcpause core.timing core.i18n "
    "core.examples core.lessons core.pitfalls core.links core.numfmt"
).split()
BASE.append("core=")  # the package itself

# Top to bottom. Each layer is a list of independent groups; a group is a list of module prefixes ("x=": x only,
# not its submodules: a new core module must be placed here on purpose).
LAYERS: list[list[list[str]]] = [
    [["app", "pages"]],  # Streamlit entry point and the thin page scripts
    [["ui"]],  # Streamlit helpers shared by the pages
    [["core.__main__", "core.cli_run"], ["core.export"]],  # the command line; export: programs and runs as files
    [["core.training"]],  # datasets, models, the Trainer; its uploads and admission go through the sandbox
    [
        ["core.sandbox"],  # the sandbox: reading, guarded compilation, budgets, workers, uploads, gradcheck
        ["core.render"],  # drawing: graph JSON -> DOT/SVG; depends on the graph's JSON, never the reverse
    ],
    [["core.trace", "core.graph", "core.backward"]],  # the autograd modules
    [BASE],  # constants, JSON helpers, texts and content: import nothing above them
]

# Known exceptions, each with its reason: (importer, imported), allowed only inside a function (at call time).
DEFERRED_OK = {
    # Graph.to_dot is the benchmarks' API (DESIGN.md); it imports render inside the method, at call time.
    ("core.graph", "core.render"),
}

FORBIDDEN_IN_CORE = ("streamlit",)  # core is pure Python + torch: testable, usable from the CLI


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    files = [ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("ui/**/*.py"), *ROOT.glob("core/**/*.py")]
    return {_module_name(p): p for p in files}


MODULES = _sources()


def _imports(name: str, path: Path) -> dict[str, bool]:
    """Every module `name` imports -> whether it is imported at import time (not only inside a function).

    `from core import render` counts as core.render."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: dict[str, bool] = {}
    stack: list[tuple[ast.AST, bool]] = [(ast.parse(path.read_text(encoding="utf-8")), True)]
    while stack:
        node, top = stack.pop()
        top = top and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        stack.extend((child, top) for child in ast.iter_child_nodes(node))
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
        for t in targets:
            found[t] = found.get(t, False) or top
    return found


def _place(module: str) -> tuple[int, int] | None:
    """(layer, group) of the longest matching prefix; None for modules outside the app (torch, stdlib)."""
    best: tuple[int, int, int] | None = None
    for li, layer in enumerate(LAYERS):
        for gi, group in enumerate(layer):
            for prefix in group:
                exact = prefix.endswith("=")
                prefix = prefix.rstrip("=")
                matches = module == prefix or not exact and module.startswith(prefix + ".")
                if matches and (best is None or len(prefix) > best[2]):
                    best = (li, gi, len(prefix))
    return None if best is None else best[:2]


def _violations(edges: dict[str, dict[str, bool]]) -> list[str]:
    bad = []
    for importer, imported in sorted(edges.items()):
        src = _place(importer)
        for target, at_import_time in sorted(imported.items()):
            dst = _place(target)
            if src is None or dst is None or (importer, target) in DEFERRED_OK and not at_import_time:
                continue
            if dst[0] < src[0]:
                bad.append(f"{importer} imports {target}, a higher layer")
            elif dst[0] == src[0] and dst[1] != src[1]:
                bad.append(f"{importer} imports {target}, an independent sibling")
    return bad


def test_every_module_has_a_layer():
    assert "core.graph" in MODULES and "pages.graph" in MODULES
    assert [m for m in MODULES if _place(m) is None] == []


def test_layers_point_one_way():
    edges = {name: _imports(name, path) for name, path in MODULES.items()}
    assert _violations(edges) == []


def test_core_never_imports_streamlit():
    bad = [
        (name, mod)
        for name, path in MODULES.items()
        if name == "core" or name.startswith("core.")
        for mod in _imports(name, path)
        if mod.split(".")[0] in FORBIDDEN_IN_CORE
    ]
    assert bad == []


@pytest.mark.parametrize(
    ("importer", "imported", "ok"),
    [
        ("pages.graph", "ui.graph_view", True),
        ("ui.graph_view", "pages.graph", False),
        ("core.sandbox.session", "core.graph", True),
        ("core.graph", "core.sandbox.session", False),
        ("core.trace", "core.render", False),  # the autograd modules never draw
        ("core.render", "core.graph", True),
        ("core.training.inspect", "core.backward", True),
        ("core.sandbox.worker", "core.training", False),  # the sandbox never reaches up into training
        ("core.sandbox", "core.render", False),  # siblings are independent
        ("core.graph", "core.render", False),  # the listed exception holds only inside a function
    ],
)
def test_the_contract_can_fail(importer, imported, ok):
    assert (_violations({importer: {imported: True}}) == []) == ok


def test_graph_draws_only_at_call_time():
    assert _violations({"core.graph": {"core.render": False}}) == []
    assert _imports("core.graph", MODULES["core.graph"])["core.render"] is False
