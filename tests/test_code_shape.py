"""The shape of the package, measured (issues #21, #32): no import cycles between cqqa's modules
(function-level imports included: a lazy import is still a dependency), no module imports from a
stage above its own (LAYERS), no module over 300 lines, no function over 60 lines unless
LONG_FUNCTIONS names it and says why, and no module below the edges (cli/, serve/) reads the
environment: config.py does, once, for all.

    .venv/bin/python -m pytest tests/test_code_shape.py -q
"""

from __future__ import annotations

import pytest

import ast
from pathlib import Path

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "cqqa"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
LONG_FUNCTIONS: dict[str, str] = {}
# The stages in the order the data flows, lowest first. A module may import from its own stage and
# from the layers below it, never from a layer above nor from another stage of its own layer.
LAYERS: list[set[str]] = [
    {"errors", "config", "textnorm", "cedict", "registry"},  # the primitives every stage shares
    {"ingest", "models"},  # read the sources; run the models
    {"index"},
    {"retrieve"},
    {"answer"},
    {"evaluation", "serve"},  # the edges: scoring and the web app
    {"cli", ""},  # the command line, and the package's own lazy exports (cqqa/__init__.py)
]
SHARED = LAYERS[0]
# The modules that may read the environment: config.py, and the edges (a flag's default, a child's env).
READS_ENVIRONMENT = ("cqqa.config", "cqqa.cli", "cqqa.serve")


def modules() -> dict[str, Path]:
    return {".".join(("cqqa",) + p.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__"): p
            for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The cqqa modules `name` imports, anywhere in its file."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in known and m != name}


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    # a package's __init__ is not a dependency of its submodules: Python imports it first anyway
    return {name: imports(name, path, known) - {"cqqa"} for name, path in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def long_functions() -> dict[str, int]:
    out = {}
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    out[f"{name}.{node.name}"] = length
    return out


def stage(module: str) -> str:
    """cqqa.index.stores.local -> index; cqqa.textnorm -> textnorm; cqqa -> ""."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer(module: str) -> int:
    return next(i for i, stages in enumerate(LAYERS) if stage(module) in stages)


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    """Imports from a higher layer, or across two stages of one layer (the shared primitives aside)."""
    found = []
    for module, imported in sorted(edges.items()):
        for other in sorted(imported):
            same_stage = stage(module) == stage(other) or {stage(module), stage(other)} <= SHARED
            if layer(other) > layer(module) or (layer(other) == layer(module) and not same_stage):
                found.append(f"{module} -> {other}")
    return found


def environment_reads(sources: dict[str, str] | None = None) -> list[str]:
    """Where a module outside READS_ENVIRONMENT touches os.environ or os.getenv."""
    found = []
    if sources is None:
        sources = {name: path.read_text(encoding="utf-8") for name, path in modules().items()}
    for name, source in sources.items():
        if name.startswith(READS_ENVIRONMENT):
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv", "unsetenv"):
                found.append(f"{name}:{node.lineno}")
            elif isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                    a.name in ("environ", "getenv") for a in node.names):
                found.append(f"{name}:{node.lineno}")
    return found


def test_every_module_belongs_to_a_stage():
    assert [m for m in modules() if not any(stage(m) in stages for stages in LAYERS)] == []


def test_no_module_imports_from_a_stage_above_its_own():
    assert upward_imports(graph()) == []


def test_the_layer_check_finds_an_upward_and_a_sideways_import():
    edges = {"cqqa.models.local_reader": {"cqqa.answer.reader", "cqqa.config"},
             "cqqa.ingest.sources": {"cqqa.models.files", "cqqa.textnorm"},
             "cqqa.config": {"cqqa.errors"}, "cqqa.answer.reader": {"cqqa.index.names"}}
    assert upward_imports(edges) == ["cqqa.ingest.sources -> cqqa.models.files",
                                     "cqqa.models.local_reader -> cqqa.answer.reader"]


def test_only_config_and_the_edges_read_the_environment():
    assert environment_reads() == []
    planted = {"cqqa.models.server_embedding": "import os\nx = os.environ.get('CQQA_EMBED_QUERY_PREFIX')\n",
               "cqqa.index.build": "from os import getenv\n", "cqqa.config": "import os\nos.environ['A'] = '1'\n",
               "cqqa.cli.serve": "import os\nos.getenv('CQQA_ALLOWED_HOSTS')\n"}
    assert environment_reads(planted) == ["cqqa.models.server_embedding:2", "cqqa.index.build:1"]


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_no_module_over_300_lines():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_no_function_over_60_lines_unless_it_says_why():
    assert {name: n for name, n in long_functions().items() if name not in LONG_FUNCTIONS} == {}


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
