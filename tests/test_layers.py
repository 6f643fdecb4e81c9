"""The layers hold: which top-level package may import which, by statement or by string.

api → actors → persistence, actors → judge; persistence knows neither the actors nor HTTP;
judge knows only itself. The actor classes (room, session, pool) and the actor model under
them import no Ray, no HTTP and no SQL, not even through what they import.
docs/architecture.md draws the same map.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("actors", "api", "judge", "persistence")
DOTTED = re.compile(r"^(?P<top>actors|api|judge|persistence)(\.[A-Za-z_][A-Za-z0-9_]*)+(:[A-Za-z_][A-Za-z0-9_]*)?$")

FORBIDDEN = {
    "persistence": {"actors", "api"},
    "actors": {"api"},
    "judge": {"api", "actors", "persistence"},
}
PLAIN_ACTORS = ("actors/contest", "actors/collab", "actors/matching")
"""The actor classes' packages: their whole import closure stays free of these."""
PLAIN_FORBIDDEN = ("ray", "fastapi", "starlette", "uvicorn", "sqlalchemy", "redis", "httpx", "api", "persistence")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def statement_imports(path: Path) -> set[str]:
    """Absolute module names imported anywhere in the file (top level, functions, TYPE_CHECKING)."""
    names: set[str] = set()
    package = module_name(path).rpartition(".")[0] if path.name != "__init__.py" else module_name(path)
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def string_imports(path: Path) -> set[str]:
    """Dotted names of project modules written as strings (`"actors.kinds:judge_engine"`)."""
    return {
        node.value.partition(":")[0]
        for node in ast.walk(parsed(path))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and DOTTED.match(node.value)
    }


def sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def top(name: str) -> str:
    return name.partition(".")[0]


def violations(package: str) -> list[str]:
    found = []
    for path in sources(package):
        where = path.relative_to(ROOT)
        for name in sorted(statement_imports(path)):
            if top(name) in FORBIDDEN[package]:
                found.append(f"{where} imports {name}")
        for name in sorted(string_imports(path)):
            if top(name) in FORBIDDEN[package]:
                found.append(f"{where} names {name} in a string")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_only_the_layers_below_it(package):
    assert violations(package) == []


def project_file(name: str) -> Path | None:
    """The file of project module `name` (or of the module a `from x import y` name is in)."""
    for candidate in (name, name.rpartition(".")[0]):
        if not candidate or top(candidate) not in PACKAGES:
            continue
        base = ROOT.joinpath(*candidate.split("."))
        for path in (base.with_suffix(".py"), base / "__init__.py"):
            if path.is_file():
                return path
    return None


def closure(start: list[Path]) -> dict[Path, set[str]]:
    """Every project file reachable by import from `start`, with the names each imports."""
    seen: dict[Path, set[str]] = {}
    todo = list(start)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen[path] = statement_imports(path)
        todo.extend(found for name in seen[path] if (found := project_file(name)) is not None)
    return seen


def test_the_actor_classes_know_nothing_of_ray_http_or_sql():
    start = [path for folder in PLAIN_ACTORS for path in sources(folder)]
    assert start, "the actor packages moved: update PLAIN_ACTORS"
    leaks = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, names in sorted(closure(start).items())
        for name in sorted(names)
        if top(name) in PLAIN_FORBIDDEN
    ]
    assert leaks == []


def test_the_checks_see_a_violation():
    """The walkers find what they look for (a check that cannot fail is no check)."""
    sample = ROOT / "tests" / "test_layers.py"
    assert "ast" in statement_imports(sample) and "pytest" in statement_imports(sample)
    assert DOTTED.match("actors.kinds:judge_engine") and not DOTTED.match("actors are plain objects")
    assert project_file("actors.actor.Actor") == ROOT / "actors" / "actor.py"
