"""The layout keeps its rules: dependencies point booking -> intake -> clinic, no two modules
import each other (directly or round a loop), no module reaches into another's private names,
and no module grows past MAX_LINES without saying why.

Read from the source with `ast`, lazy imports inside functions included (they are
dependencies too, only later), migrations left out. These tests fail on the import that breaks
a rule, naming it, so a new cycle is caught in the change that makes it.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("clinic", "intake", "booking")
# Which apps each app may import: booking -> intake -> clinic, never back.
MAY_IMPORT = {"clinic": set(), "intake": {"clinic"}, "booking": {"clinic", "intake"}}
MAX_LINES = 600
# A module longer than MAX_LINES says why in its opening docstring, with these words.
LONG_BECAUSE = "Long because"


@cache
def modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


@cache
def tree(name: str) -> ast.Module:
    return ast.parse(modules()[name].read_text(), filename=str(modules()[name]))


def _project_module(dotted: str) -> str | None:
    """The project module `dotted` names, or the package it is in; None outside the project."""
    while dotted and dotted not in modules():
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def _absolute(name: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = name.split(".")
    if modules()[name].name != "__init__.py":
        package = package[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def imports(name: str) -> list[tuple[str, int, str | None]]:
    """(module imported, line, name imported from it or None) for every import in `name`."""
    found = []
    for node in ast.walk(tree(name)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(name, node)
            for alias in node.names:
                # `from booking import services` imports a module; `from x import y` a name.
                submodule = f"{base}.{alias.name}"
                if submodule in modules():
                    found.append((submodule, node.lineno, None))
                else:
                    found.append((base, node.lineno, alias.name))
    return found


@cache
def graph() -> dict[str, set[str]]:
    edges = {name: set() for name in modules()}
    for name in modules():
        for imported, _, _ in imports(name):
            target = _project_module(imported)
            # A module importing its own package (or a package its own modules) is not an edge:
            # Python runs the package first either way.
            if target and target != name and not name.startswith(target + "."):
                edges[name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_loop_and_leaves_a_chain_alone():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_source_is_read_whole():
    # The rules below are only as good as what they read: every app, its packages, its lazy
    # imports.
    assert {"booking.services.slots", "booking.desk.grid", "intake.clinical.models"} <= set(
        modules()
    )
    lazy = [m for m, _, n in imports("booking.desk.panel") if m.startswith("intake")]
    assert lazy, "the lazy imports inside functions are read"


def test_dependencies_point_booking_to_intake_to_clinic():
    wrong = [
        f"{name}:{line} imports {imported}"
        for name in modules()
        for imported, line, _ in imports(name)
        if (target := _project_module(imported))
        and (app := name.split(".")[0]) != (other := target.split(".")[0])
        and other not in MAY_IMPORT[app]
    ]
    assert not wrong, "imports against booking -> intake -> clinic:\n" + "\n".join(wrong)


def test_no_two_modules_import_each_other():
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_no_module_reaches_into_another_modules_private_names():
    reached = []
    for name in modules():
        aliases = {}  # local name -> project module, for `module._private` below
        for imported, line, what in imports(name):
            target = _project_module(imported)
            if target is None or target == name:
                continue
            if what is None:
                aliases[imported.rpartition(".")[2]] = imported
            elif what.startswith("_") and not what.startswith("__"):
                reached.append(f"{name}:{line} imports {imported}.{what}")
        for node in ast.walk(tree(name)):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                reached.append(f"{name}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert not reached, "private names used from outside their module:\n" + "\n".join(reached)


def test_no_module_is_longer_than_it_says_it_has_to_be():
    long = [
        f"{name}: {lines} lines"
        for name, path in modules().items()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
        and LONG_BECAUSE not in (ast.get_docstring(tree(name)) or "")
    ]
    assert not long, (
        f"modules over {MAX_LINES} lines (split them, or say why in the opening docstring, "
        f"starting with {LONG_BECAUSE!r}):\n" + "\n".join(long)
    )


def module_map() -> str:
    """docs/architecture.txt: every module of the three apps, in its room, with the first line
    of what its docstring says it holds. Regenerate with
    `.venv/bin/python -m tests.test_architecture > docs/architecture.txt`."""
    lines = [
        "Every module of the three apps, room by room, with the first line of its docstring.",
        "Imports point booking -> intake -> clinic (tests/test_architecture.py checks it).",
        "Generated: .venv/bin/python -m tests.test_architecture > docs/architecture.txt",
    ]
    for app in APPS:
        lines.append("")
        for name in sorted(n for n in modules() if n.split(".")[0] == app):
            path = modules()[name]
            first = (ast.get_docstring(tree(name)) or "").strip().split("\n")[0]
            if path.name == "__init__.py" and not first:
                continue  # an empty package marker says nothing
            shown = str(path.relative_to(ROOT))
            depth = shown.count("/")
            lines.append(f"{'  ' * depth}{shown:<{52 - 2 * depth}} {first}".rstrip())
    return "\n".join(lines) + "\n"


def test_the_module_map_next_to_the_readme_is_current():
    written = (ROOT / "docs" / "architecture.txt").read_text()
    assert written == module_map(), (
        "docs/architecture.txt is out of date: "
        ".venv/bin/python -m tests.test_architecture > docs/architecture.txt"
    )


if __name__ == "__main__":
    print(module_map(), end="")
