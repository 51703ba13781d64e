"""The layout the Architecture page describes holds: who may import whom, no cycle, small modules."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "architecture.md"
LONGEST = 400


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


@cache
def modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text()) for p in sorted((ROOT / "audit").rglob("*.py"))}


def imported(body: list[ast.stmt], *, lazy: bool) -> Iterator[str]:
    """The audit modules `body` imports at run time (never the typing-only ones); with `lazy`, also
    those imported inside functions."""
    for node in body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and not lazy:
            continue
        for field in ("body", "orelse", "finalbody", "handlers"):
            child = getattr(node, field, None)
            if isinstance(child, list):
                yield from imported(child, lazy=lazy)


def edges(*, lazy: bool) -> dict[str, set[str]]:
    known = modules()
    return {
        name: {target for target in imported(tree.body, lazy=lazy) if target in known and target != name}
        for name, tree in known.items()
    }


def table() -> dict[str, tuple[tuple[str, ...], set[str]]]:
    """unit -> (its files and folders, the units it may import), from the page's table."""
    rows = {}
    for line in PAGE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[1].startswith("`audit/"):
            places = tuple(re.findall(r"`(audit/[^`]*)`", cells[1]))
            rows[cells[0].strip("`")] = (places, set(re.findall(r"`([a-z_]+)`", cells[3])))
    return rows


def unit(module: str, rows: dict[str, tuple[tuple[str, ...], set[str]]]) -> str:
    """The unit whose most specific place holds `module`."""
    path = module.replace(".", "/")
    best = max(
        (
            (len(place), name)
            for name, (places, _) in rows.items()
            for place in places
            if (path + "/").startswith(place) or f"{path}.py" == place or f"{path}/__init__.py" == place
        ),
        default=None,
    )
    assert best is not None, f"{module} is in no row of {PAGE.name}"
    return best[1]


def test_every_module_imports_only_what_the_architecture_page_allows():
    rows = table()
    assert rows, "the page has no layering table"
    wrong = []
    for module, targets in edges(lazy=True).items():
        mine = unit(module, rows)
        for target in targets:
            theirs = unit(target, rows)
            if theirs != mine and theirs not in rows[mine][1]:
                wrong.append(f"{module} ({mine}) imports {target} ({theirs})")
    assert not wrong, "\n".join(wrong)


def test_nothing_under_run_starts_the_emulator():
    for module, targets in edges(lazy=True).items():
        if module.startswith("audit.run."):
            assert not any(t.startswith("audit.emulator") for t in targets), module


def test_the_module_import_graph_has_no_cycle():
    graph = edges(lazy=False)
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                raise AssertionError(" -> ".join([*path[path.index(target) :], target]))
            if target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_modules_are_small_and_say_what_they_are():
    for path in sorted((ROOT / "audit").rglob("*.py")):
        lines = path.read_text().splitlines()
        assert len(lines) <= LONGEST, f"{path.relative_to(ROOT)}: {len(lines)} lines"
        docstring = ast.get_docstring(ast.parse("\n".join(lines)))
        assert docstring and "\n" not in docstring.strip().split("\n\n")[0], path


def test_no_unit_imports_a_unit_above_it():
    """The units' import graph, as the code has it, runs one way: no two units reach each other by
    any path (an arrow back up would)."""
    rows = table()
    graph: dict[str, set[str]] = {name: set() for name in rows}
    for module, targets in edges(lazy=True).items():
        mine = unit(module, rows)
        graph[mine] |= {theirs for theirs in (unit(t, rows) for t in targets) if theirs != mine}

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    back = sorted(f"{a} <-> {b}" for a in graph for b in graph[a] if a in reach(b))
    assert not back, back


def test_few_modules_stand_loose_at_the_top_of_the_package():
    loose = sorted(p.name for p in (ROOT / "audit").glob("*.py"))
    assert len(loose) <= 8, loose
