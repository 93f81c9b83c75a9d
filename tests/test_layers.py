"""The import layers of docs/architecture.md ("Layers"), checked statically.

Every ``.py`` of the six packages is parsed (``ast``, nothing is imported, ~0.3 s) and each
``import`` is recorded with its file, line and whether it runs at import time (module level) or
only when a function is called (function level; so do imports under ``if __name__ ==
"__main__":``, run only as a script). Imports under ``if TYPE_CHECKING:`` never run: they count
only for the bans on frameworks. The rules:

* which project package may import which (``MAY_IMPORT``; palmkit.demo, the CLI glue that runs
  every stage, may import any of them inside its functions);
* pipelines/** never imports JAX, Flax, Optax or Orbax; trainer/** and model_stub/** never import
  Apache Beam;
* palmkit core, mixtures/ and tokenizer/ import neither Beam nor JAX at module level, directly or
  through the project modules they import at module level (palmkit core and mixtures/ not even
  inside functions);
* no import cycle among the project's modules, counting function-level imports too: a lazy
  import that closes a loop still tangles two modules (and ``python -m pipelines.corpus`` that
  imports ``corpus_cli``, which imports ``pipelines.corpus``, runs the job's file twice).

A failure names the file, the line and the import.
"""

from __future__ import annotations

import ast
import dataclasses
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("palmkit", "mixtures", "tokenizer", "pipelines", "model_stub", "trainer")
BEAM = ("apache_beam",)
JAX = ("jax", "jaxlib", "flax", "optax", "orbax")

#: Project packages each package may import (besides itself).
MAY_IMPORT = {
    "palmkit": set(),
    "mixtures": {"palmkit"},
    "tokenizer": {"palmkit", "mixtures"},
    "pipelines": {"palmkit", "mixtures", "tokenizer"},
    "model_stub": {"palmkit"},
    "trainer": {"palmkit", "model_stub", "tokenizer"},
}
#: Modules that run several stages and so import them, only inside functions.
GLUE = {"palmkit.demo"}


@dataclasses.dataclass(frozen=True)
class Import:
    importer: str  # module name, e.g. "pipelines.pack"
    path: str  # file, relative to the repository
    line: int
    target: str  # imported module, e.g. "apache_beam.io" or "palmkit.manifest"
    module_level: bool  # runs when the module is imported
    runs: bool = True  # False under `if TYPE_CHECKING:`

    def __str__(self) -> str:
        where = "" if self.module_level else " (not at import time)" if self.runs else \
            " (under TYPE_CHECKING)"
        return f"{self.path}:{self.line}: imports {self.target}{where}"


def _module_name(rel: str) -> str:
    name = rel[: -len(".py")].replace(os.sep, ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def _is_main(node: ast.If) -> bool:
    test = node.test
    return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and \
        test.left.id == "__name__"


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports_of(rel: str, modules: set[str]) -> list[Import]:
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=rel)
    importer = _module_name(rel)
    package = importer if rel.endswith("__init__.py") else importer.rpartition(".")[0]
    out: list[Import] = []

    def add(node, target: str, module_level: bool, runs: bool):
        out.append(Import(importer, rel, node.lineno, target, module_level, runs))

    def visit(node, module_level: bool, runs: bool):
        for child in ast.iter_child_nodes(node):
            here, does = module_level and not isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)), runs
            if isinstance(child, ast.If) and _is_main(child):
                here = False
            if isinstance(child, ast.If) and _is_type_checking(child):
                here, does = False, False
            if isinstance(child, ast.Import):
                for alias in child.names:
                    add(child, alias.name, here, does)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: from . import x, from ..a import b
                    parts = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(parts + ([child.module] if child.module else []))
                for alias in child.names:  # `from pkg import submodule` imports the submodule
                    sub = f"{base}.{alias.name}"
                    add(child, sub if sub in modules else base, here, does)
            visit(child, here, does)

    visit(tree, True, True)
    return out


def _collect() -> tuple[set[str], list[Import]]:
    files = []
    for package in PACKAGES:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, package)):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            files += [os.path.relpath(os.path.join(dirpath, n), ROOT)
                      for n in sorted(filenames) if n.endswith(".py")]
    modules = {_module_name(rel) for rel in files}
    return modules, [imp for rel in files for imp in _imports_of(rel, modules)]


MODULES, IMPORTS = _collect()


def _top(name: str) -> str:
    return name.split(".")[0]


def _project_target(imp: Import) -> str | None:
    """The project module an import loads (None for third-party and standard modules)."""
    name = imp.target
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _report(bad: list[str], rule: str) -> None:
    assert not bad, f"{rule}:\n  " + "\n  ".join(bad)


def test_the_scan_sees_every_package_and_the_imports_that_matter():
    assert {_top(m) for m in MODULES} == set(PACKAGES)
    found = {(i.importer, i.target) for i in IMPORTS}
    assert ("pipelines.pack", "apache_beam") in found and ("trainer.step", "jax") in found
    assert any(i.importer == "pipelines.pack" and i.target == "tokenizer" and not i.module_level
               for i in IMPORTS)


def test_packages_import_only_the_layers_below_them():
    bad = []
    for imp in IMPORTS:
        src, dst = _top(imp.importer), _top(imp.target)
        if dst not in PACKAGES or dst == src or dst in MAY_IMPORT[src]:
            continue
        if imp.importer in GLUE and not imp.module_level:
            continue
        bad.append(f"{imp}: {src} may import only {sorted(MAY_IMPORT[src]) or 'itself'}")
    _report(bad, "layer violations (docs/architecture.md, Layers)")


@pytest.mark.parametrize("package, banned", [
    ("pipelines", JAX),
    ("trainer", BEAM),
    ("model_stub", BEAM),
    ("palmkit", BEAM + JAX),
    ("mixtures", BEAM + JAX),
])
def test_framework_never_imported(package, banned):
    bad = [str(i) for i in IMPORTS if _top(i.importer) == package and _top(i.target) in banned
           and not (i.importer in GLUE and not i.module_level)]
    _report(bad, f"{package} must not import {', '.join(banned)}")


def _module_level_closure(module: str) -> dict[str, list[Import]]:
    """Every import that runs when ``module`` is imported: target -> the chain of module-level
    imports that loads it (breadth first, so the shortest chain)."""
    chains: dict[str, list[Import]] = {}
    queue, visited = [(module, [])], {module}
    while queue:
        m, chain = queue.pop(0)
        for imp in IMPORTS:
            if imp.importer != m or not imp.module_level:
                continue
            chains.setdefault(imp.target, chain + [imp])
            target = _project_target(imp)
            if target and target not in visited:
                visited.add(target)
                queue.append((target, chain + [imp]))
    return chains


@pytest.mark.parametrize("package", ["palmkit", "mixtures", "tokenizer"])
def test_importing_the_shared_layers_loads_neither_beam_nor_jax(package):
    bad = []
    for module in sorted(m for m in MODULES if _top(m) == package):
        for target, chain in sorted(_module_level_closure(module).items()):
            if _top(target) in BEAM + JAX:
                bad.append(f"import {module} loads {target}: " + "; ".join(map(str, chain)))
    _report(bad, f"importing {package} must not load Beam or JAX")


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    where: dict[tuple[str, str], Import] = {}
    for imp in IMPORTS:
        target = _project_target(imp)
        if imp.runs and target and target != imp.importer:
            graph[imp.importer].add(target)
            where.setdefault((imp.importer, target), imp)
    cycles, state = [], {}  # state: 1 = on the current path, 2 = done

    def dfs(m: str, path: list[str]):
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                loop = path[path.index(n):] + [n]
                cycles.append(" -> ".join(loop) + ":\n    " + "\n    ".join(
                    str(where[(a, b)]) for a, b in zip(loop, loop[1:])))
            elif n not in state:
                dfs(n, path + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            dfs(m, [m])
    _report(cycles, "import cycles")
