"""The shape of the code: no import cycles, imports that respect the layers, modules kept small.

The import graph is read from the source with `ast`, so it sees every import a module can make:
top-level ones, those inside functions or under `if TYPE_CHECKING:`, and
`importlib.import_module("a.literal")` calls. `from pkg import name` is an edge to the submodule
`pkg.name` when there is one, else to `pkg`. Importing a module also runs its parent packages'
`__init__`, so those are edges too, except the importer's own parents: Python imports them before
the importer runs, so that edge is never an import the importer makes.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.repo import REPO_ROOT

PACKAGES = ("pipeline", "crawlers", "dags")
MAX_LINES = 450
MAX_TOP_LEVEL_MODULES = 12


@dataclass(frozen=True)
class Import:
    """One import statement (or import_module call) of ours: where it is and what it names."""

    source: str  # the importing module
    target: str  # the module imported
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    """Every module of ours, by dotted name (dags/ files as `dags.NAME`)."""
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
    }


def _parents(module: str) -> list[str]:
    """`a.b.c` -> [`a`, `a.b`]."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _package_of(module: str, path: Path) -> str:
    """The package a relative import in `module` starts from."""
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _resolve_relative(name: str, level: int, package: str) -> str:
    base = package.split(".")
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _is_import_module(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute):
        return (func.attr == "import_module" and isinstance(func.value, ast.Name)
                and func.value.id == "importlib")
    return isinstance(func, ast.Name) and func.id == "import_module"


def _named(module: str, path: Path, tree: ast.AST) -> Iterator[tuple[str, int]]:
    """(dotted name, line) for every import in `tree`; a name may be `module.attribute`."""
    package = _package_of(module, path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = (_resolve_relative(node.module or "", node.level, package) if node.level
                    else node.module or "")
            yield base, node.lineno
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno
        elif isinstance(node, ast.Call) and _is_import_module(node) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                name = first.value
                if name.startswith("."):
                    anchor = node.args[1] if len(node.args) > 1 else next(
                        (k.value for k in node.keywords if k.arg == "package"), None)
                    if not (isinstance(anchor, ast.Constant) and isinstance(anchor.value, str)):
                        continue
                    stripped = name.lstrip(".")
                    name = _resolve_relative(stripped, len(name) - len(stripped), anchor.value)
                yield name, node.lineno


def _imports(modules: dict[str, Path]) -> list[Import]:
    """The imports of ours each module makes, each resolved to the module it names."""
    found: set[Import] = set()
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, line in _named(module, path, tree):
            # `from pkg import attr`: `pkg.attr` is no module, `pkg` is (and yielded on its own).
            if name in modules and name != module:
                found.add(Import(module, name, line))
    return sorted(found, key=lambda i: (i.source, i.line, i.target))


def _graph(imports: list[Import], modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    """module -> {module it loads: line}: what it names plus those modules' parent packages."""
    graph: dict[str, dict[str, int]] = {module: {} for module in modules}
    for imp in imports:
        own = {imp.source, *_parents(imp.source)}
        for target in [*_parents(imp.target), imp.target]:
            if target in modules and target not in own:
                graph[imp.source].setdefault(target, imp.line)
    return graph


def _strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative, so depth is no limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
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
                components.append(sorted(component))
    return components


def _shortest_cycle(graph: dict[str, dict[str, int]], start: str, within: set[str]) -> list[str]:
    """The shortest path start -> ... -> start inside one component (breadth first)."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child not in within:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"{start} is in no cycle")


def cycles(graph: dict[str, dict[str, int]]) -> list[str]:
    """One line per cycle (strongly connected component): a shortest loop with import lines."""
    found = []
    for component in _strongly_connected(graph):
        if len(component) == 1 and component[0] not in graph[component[0]]:
            continue
        loop = _shortest_cycle(graph, component[0], set(component))
        steps = " -> ".join(
            f"{a} (line {graph[a][b]})" for a, b in itertools.pairwise(loop)
        )
        others = sorted(set(component) - set(loop))
        found.append(f"{steps} -> {loop[-1]}" + (f"; also in it: {', '.join(others)}"
                                                  if others else ""))
    return sorted(found)


@pytest.fixture(scope="module")
def modules() -> dict[str, Path]:
    return _modules()


@pytest.fixture(scope="module")
def imports(modules: dict[str, Path]) -> list[Import]:
    return _imports(modules)


def test_there_is_no_import_cycle(modules: dict[str, Path], imports: list[Import]) -> None:
    found = cycles(_graph(imports, modules))
    assert not found, "import cycles:\n" + "\n".join(found)


def test_pipeline_imports_neither_crawlers_nor_dags(imports: list[Import]) -> None:
    wrong = [i for i in imports if i.source.split(".")[0] == "pipeline"
             and i.target.split(".")[0] in ("crawlers", "dags")]
    assert not wrong, "\n".join(f"{i.source} line {i.line} imports {i.target}" for i in wrong)


def test_dags_import_only_pipeline_airflow(imports: list[Import]) -> None:
    wrong = [i for i in imports if i.source.startswith("dags.")
             and not (i.target == "pipeline.airflow" or i.target.startswith("pipeline.airflow."))]
    assert not wrong, "\n".join(f"{i.source} line {i.line} imports {i.target}" for i in wrong)


# pipeline's layers, bottom first (docs/architecture.md): a module imports only from its own
# package or the layers below it. Packages on one line are peers that do not import each other,
# except in the foundation layer (its modules are single files).
LAYERS = (
    ("pipeline", "pipeline.errors", "pipeline.article", "pipeline.atomic",
     "pipeline.subprocesses"),
    ("pipeline.text",),
    ("pipeline.db",),
    ("pipeline.sources",),
    ("pipeline.extraction",),
    ("pipeline.dedupe",),
    ("pipeline.processing",),
    ("pipeline.outputs",),
    ("pipeline.crawl", "pipeline.demo_site"),
    ("pipeline.airflow",),
    ("pipeline.cli",),
)


def home_of(module: str) -> tuple[int, str] | None:
    """(index in LAYERS, package name) of the deepest entry of LAYERS holding `module`."""
    found = [(len(name), index, name) for index, names in enumerate(LAYERS) for name in names
             if module == name or (module.startswith(name + ".") and name != "pipeline")]
    return max(found)[1:] if found else None


def test_pipeline_imports_only_go_down_the_layers(modules: dict[str, Path],
                                                   imports: list[Import]) -> None:
    unplaced = [m for m in modules if m.startswith("pipeline") and home_of(m) is None]
    assert not unplaced, f"modules in no layer (add them to LAYERS): {unplaced}"
    wrong = []
    for i in imports:
        if not (i.source.startswith("pipeline") and i.target.startswith("pipeline")):
            continue
        (source_layer, source_home), (target_layer, target_home) = (home_of(i.source),
                                                                    home_of(i.target))
        if target_layer > source_layer or (target_layer == source_layer != 0 \
                and target_home != source_home):
            wrong.append(f"{i.source} line {i.line} imports {i.target}: a higher layer or a peer")
    assert not wrong, "\n".join(wrong)


def test_no_module_is_over_450_lines(modules: dict[str, Path]) -> None:
    demo_site = REPO_ROOT / "pipeline" / "demo_site"
    over = {
        str(path.relative_to(REPO_ROOT)): lines
        for path in modules.values()
        if not path.is_relative_to(demo_site)
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not over, f"modules over {MAX_LINES} lines: {over}"


def test_pipeline_top_level_has_at_most_12_modules() -> None:
    top = sorted(path.name for path in (REPO_ROOT / "pipeline").glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, f"{len(top)} modules at pipeline/'s top level: {top}"


# --- the checker itself, on small handmade packages ---------------------------------------------


def _write(root: Path, files: dict[str, str]) -> dict[str, Path]:
    found = {}
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        parts = list(Path(relative).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def test_the_checker_finds_lazy_relative_and_importlib_cycles(tmp_path: Path) -> None:
    modules = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "def f():\n    from . import b\n",  # lazy, relative, `from pkg import mod`
        "pkg/b.py": "import importlib\nX = importlib.import_module('pkg.a')\n",
        "pkg/sub/__init__.py": "from pkg.sub import inner\n",  # a package importing its child
        "pkg/sub/inner.py": "from pkg.sub import sibling\nfrom ..c import thing\n",
        "pkg/sub/sibling.py": "",
        "pkg/c.py": "import typing\nif typing.TYPE_CHECKING:\n    import pkg.sub.sibling\n",
    })
    graph = _graph(_imports(modules), modules)
    assert graph["pkg.a"] == {"pkg.b": 2}
    assert graph["pkg.b"] == {"pkg.a": 2}
    assert graph["pkg.sub.inner"] == {"pkg.sub.sibling": 1, "pkg.c": 2}  # pkg.sub is its own
    # c loads pkg.sub's __init__ too, which loads inner, which loads c: a cycle
    assert graph["pkg.c"] == {"pkg.sub": 3, "pkg.sub.sibling": 3}
    assert cycles(graph) == [
        "pkg.a (line 2) -> pkg.b (line 2) -> pkg.a",
        "pkg.c (line 3) -> pkg.sub (line 1) -> pkg.sub.inner (line 2) -> pkg.c",
    ]


def test_the_checker_passes_a_layered_package(tmp_path: Path) -> None:
    modules = _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low.py": "import json\n",
        "pkg/high.py": "from pkg.low import dumps\nfrom pkg import low\n",
        "pkg/top/__init__.py": "from pkg.top.cmd import main\n",
        "pkg/top/cmd.py": "from pkg.top import helpers\nfrom . import helpers as h\n",
        "pkg/top/helpers.py": "from pkg import high\n",
    })
    assert cycles(_graph(_imports(modules), modules)) == []
