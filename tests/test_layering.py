"""The package's imports follow ../shared/ARCHITECTURE.md §1: data flows one way, so no
stage imports one to its right, and the faces (api, cli, web) and the lineage record,
which read every stage, are imported by no stage."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "cift"
ORDER = {
    # the foundation every stage stands on
    "core": 0, "model": 0, "db": 0, "identity": 0, "audit": 0,
    # the stages, left to right
    "data": 1, "features": 2, "ml": 3, "strategy": 4, "backtest": 5, "execution": 6,
    # what reads them all
    "lineage": 7, "api": 8, "cli": 8, "web": 8,
}  # fmt: skip
FACES = {"api", "cli", "web"}


def imports(path: Path) -> set[str]:
    """The ``cift`` packages a module imports (at any depth of its code)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("cift.")}
    return found


def test_every_package_has_a_place_in_the_order() -> None:
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert packages == set(ORDER)


def test_no_stage_imports_one_to_its_right() -> None:
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        owner = path.relative_to(SRC).parts[0]
        if owner not in ORDER or owner in FACES:
            continue
        for imported in imports(path) - {owner}:
            if ORDER.get(imported, 0) > ORDER[owner]:
                wrong.append(f"{path.relative_to(SRC)} imports cift.{imported}")
    assert wrong == []


def _module_name(path: Path) -> tuple[str, list[str]]:
    """A source file's module name, and the package its relative imports start from."""
    parts = ["cift", *path.relative_to(SRC).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts = parts[:-1]
        return ".".join(parts), parts
    return ".".join(parts), parts[:-1]


def module_graph() -> dict[str, set[str]]:
    """Each module and the modules it imports, relative and type-only imports included
    (a module's import of its own enclosing package is left out: that is how a package
    exposes its parts)."""
    modules = {_module_name(path)[0]: path for path in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = _module_name(path)[1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                found |= {module, *(f"{module}.{alias.name}" for alias in node.names)}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[name] = {m for m in found & modules.keys() if not name.startswith(f"{m}.")} - {name}
    return graph


def test_no_modules_import_each_other_in_a_circle() -> None:
    sorter = graphlib.TopologicalSorter(module_graph())
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"modules import each other in a circle: {exc.args[1]}") from None


def test_the_graph_sees_relative_and_type_only_imports() -> None:
    graph = module_graph()
    assert "cift.api.deps" in graph["cift.api.app"]  # from .deps import ...
    assert "cift.data.store.embedded.catalog" in graph["cift.data.store.embedded.maintenance"]
    assert "cift.core.settings" in graph["cift.core.logging"]  # under TYPE_CHECKING only
