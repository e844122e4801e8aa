"""The architecture's import rules as code: who may import whom, and where SQL and the web
framework may appear. ``tests/test_import_rules.py`` runs them on Meadhall and proves each
one able to fail on a small package written for the purpose.

The rules (``ARCHITECTURE.md``, "Import rules"):

- ``framework-in-service``: a service module (``service.py``, or any module of a ``service``
  package) imports nothing from ``fastapi`` or ``starlette``, not even for type hints.
- ``sql-outside-repository``: SQL is built and run only in repositories (``repository.py``, or
  a ``repository`` package) and in the database machinery (the ``platform.db`` package, any
  ``migrations`` folder, ``models.py`` or a ``models`` package). SQL means a call of one of
  SQLAlchemy's statement builders (:data:`SQL_BUILDERS`, such as ``select()``, ``insert()``,
  ``text()``, also from ``sqlalchemy.dialects.*``), of any ``func.<name>()``, or of
  ``execute``/``scalar``/``scalars``/``stream``/``stream_scalars`` on a ``session``,
  ``*_session``, ``conn``, ``connection`` or ``cursor``. The unit-of-work calls on objects
  (``session.add``, ``get``, ``delete``, ``flush``, ``refresh``) are not SQL here: services
  change the rows they loaded through them.
- ``platform-imports-wing``: no module of the platform (``platform`` and the shared web shell
  ``web``; a wing's own pages in ``web.<wing>`` count as the wing) imports a wing, directly or
  through modules outside the platform.
- ``wing-internals``: a wing imports of another wing only its public face, the module
  ``<wing>.public``.
- ``import-cycle``: no two modules import each other, however indirectly. Imports under
  ``if TYPE_CHECKING:`` do not count (they never run); imports inside functions do.

The import rules read the graph built by grimp (the engine of import-linter); the usage rules
read each module's syntax tree.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import grimp

WINGS = ("library", "table", "maps", "hall")
PLATFORM = ("platform", "web")
PUBLIC_FACE = "public"

SQL_BUILDERS = frozenset(
    {
        "select",
        "insert",
        "update",
        "delete",
        "text",
        "exists",
        "literal_column",
        "union",
        "union_all",
        "intersect",
        "intersect_all",
        "except_",
        "except_all",
        "values",
        "lambda_stmt",
    }
)
SQL_RUNNERS = frozenset({"execute", "scalar", "scalars", "stream", "stream_scalars"})
SQL_RECEIVERS = frozenset({"session", "conn", "connection", "cursor"})
FRAMEWORKS = frozenset({"fastapi", "starlette"})


@dataclass(frozen=True, order=True)
class Violation:
    """One broken rule: which module broke it and how."""

    module: str
    rule: str
    how: str

    def __str__(self) -> str:
        return f"{self.module} breaks {self.rule}: {self.how}"


def report(violations: Iterable[Violation]) -> str:
    """Violations one per line, for an assertion message."""
    return "\n".join(str(v) for v in sorted(violations)) or "(none)"


# Modules and their files -------------------------------------------------------------------


@dataclass(frozen=True)
class SourceModule:
    name: str
    path: Path

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.name.split("."))


def source_modules(package: str) -> list[SourceModule]:
    """Every module of an importable package with its file (``__init__`` as the package)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise LookupError(f"cannot find the package {package!r}")
    root = Path(spec.origin).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).with_suffix("").parts
        if relative[-1] == "__init__":
            relative = relative[:-1]
        found.append(SourceModule(".".join((package, *relative)), path))
    return found


def _tree(module: SourceModule) -> ast.Module:
    return ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))


# framework-in-service ---------------------------------------------------------------------


def is_service(module: SourceModule) -> bool:
    return "service" in module.parts[1:]


def framework_in_services(package: str) -> list[Violation]:
    """Service modules that import FastAPI or Starlette."""
    found = []
    for module in source_modules(package):
        if not is_service(module):
            continue
        for node in ast.walk(_tree(module)):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                if name.split(".")[0] in FRAMEWORKS:
                    found.append(
                        Violation(
                            module.name,
                            "framework-in-service",
                            f"imports {name} (line {node.lineno}); services know nothing of "
                            "HTTP, routers translate",
                        )
                    )
    return found


# sql-outside-repository -------------------------------------------------------------------


def may_hold_sql(module: SourceModule) -> bool:
    """Repositories and the database machinery (see the module docstring)."""
    # A migrations folder has no ``__init__``, but its files still have module names here.
    parts = module.parts[1:]
    if parts[:2] == ("platform", "db"):
        return True
    return any(part in {"repository", "models", "migrations"} for part in parts)


def _sqlalchemy_names(tree: ast.Module) -> dict[str, str]:
    """Local names bound to SQLAlchemy objects: ``{"select": "sqlalchemy.select", ...}``."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sqlalchemy":
                    local = alias.asname or alias.name.split(".")[0]
                    names[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "sqlalchemy":
                continue
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.expr) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]``; ``None`` for anything but names and attributes."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def _receiver_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_session(name: str | None) -> bool:
    if name is None:
        return False
    bare = name.lstrip("_")
    return bare in SQL_RECEIVERS or bare.endswith("_session")


def sql_calls(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """``(line, what)`` of every SQL building or running call in a module."""
    imported = _sqlalchemy_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in SQL_RUNNERS:
            receiver = _receiver_name(func.value)
            if _is_session(receiver):
                yield node.lineno, f"{receiver}.{func.attr}()"
                continue
        dotted = _dotted(func)
        if not dotted or dotted[0] not in imported:
            continue
        qualified = [*imported[dotted[0]].split("."), *dotted[1:]]
        if qualified[-1] in SQL_BUILDERS or "func" in qualified[1:-1]:
            yield node.lineno, f"{'.'.join(dotted)}() ({'.'.join(qualified)})"


def sql_outside_repositories(
    package: str, *, exceptions: Mapping[str, str] | None = None
) -> list[Violation]:
    """Modules that build or run SQL but are neither repositories nor database machinery.

    ``exceptions`` maps module names that may anyway to the reason why.
    """
    allowed = exceptions or {}
    found = []
    for module in source_modules(package):
        if may_hold_sql(module) or module.name in allowed:
            continue
        calls = sorted(sql_calls(_tree(module)))
        if calls:
            listed = ", ".join(f"{what} at line {line}" for line, what in calls[:5])
            more = f" and {len(calls) - 5} more" if len(calls) > 5 else ""
            found.append(
                Violation(
                    module.name,
                    "sql-outside-repository",
                    f"{listed}{more}; move the queries into a repository module",
                )
            )
    return found


# Import graph rules -----------------------------------------------------------------------


def build_graph(package: str) -> grimp.ImportGraph:
    """The package's imports, without those under ``if TYPE_CHECKING:`` (they never run)."""
    return grimp.build_graph(package, exclude_type_checking_imports=True, cache_dir=None)


def _line(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    lines = ", ".join(sorted({str(d["line_number"]) for d in details}, key=int))
    return f"{importer} -> {imported} (line {lines})" if lines else f"{importer} -> {imported}"


def chain_text(graph: grimp.ImportGraph, chain: Sequence[str]) -> str:
    """An import chain with the line of each step."""
    return ", ".join(_line(graph, a, b) for a, b in itertools.pairwise(chain))


@dataclass(frozen=True)
class Layout:
    """Which top-level packages of ``package`` are the platform and which are wings."""

    package: str
    platform: Sequence[str] = PLATFORM
    wings: Sequence[str] = WINGS

    def wing_of(self, module: str) -> str | None:
        parts = module.split(".")
        if len(parts) > 1 and parts[1] in self.wings:
            return parts[1]
        # A wing's pages may live in the web layer, in a folder of their own.
        if len(parts) > 2 and parts[1] == "web" and parts[2] in self.wings:
            return parts[2]
        return None

    def in_platform(self, module: str) -> bool:
        parts = module.split(".")
        return len(parts) > 1 and parts[1] in self.platform and self.wing_of(module) is None


def platform_imports_wing(graph: grimp.ImportGraph, layout: Layout) -> list[Violation]:
    """Imports from the platform that lead to a wing, with the chain that gets there.

    Every such chain ends with an import that leaves the platform for good; each of those is
    reported once, with the shortest way from it to a wing module outside the platform.
    """
    found = []
    outside = {m for m in graph.modules if not layout.in_platform(m)}
    wing_modules = {m for m in outside if layout.wing_of(m) is not None}
    for importer in sorted(m for m in graph.modules if layout.in_platform(m)):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if imported not in outside:
                continue
            chain = _shortest_chain(graph, imported, wing_modules, through=outside)
            if chain is None:
                continue
            wing = layout.wing_of(chain[-1])
            found.append(
                Violation(
                    importer,
                    "platform-imports-wing",
                    f"reaches the {wing} wing: {chain_text(graph, (importer, *chain))}",
                )
            )
    return found


def _shortest_chain(
    graph: grimp.ImportGraph, start: str, wanted: set[str], *, through: set[str]
) -> tuple[str, ...] | None:
    """The shortest import chain from ``start`` to one of ``wanted``, only via ``through``."""
    if start in wanted:
        return (start,)
    came_from: dict[str, str] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        current = queue.popleft()
        for nxt in sorted(graph.find_modules_directly_imported_by(current)):
            if nxt in seen or nxt not in through:
                continue
            seen.add(nxt)
            came_from[nxt] = current
            if nxt in wanted:
                chain = [nxt]
                while chain[-1] != start:
                    chain.append(came_from[chain[-1]])
                return tuple(reversed(chain))
            queue.append(nxt)
    return None


def wing_internals(graph: grimp.ImportGraph, layout: Layout) -> list[Violation]:
    """Imports of another wing's modules other than its public face."""
    found = []
    for importer in sorted(graph.modules):
        own = layout.wing_of(importer)
        if own is None:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            other = layout.wing_of(imported)
            if other is None or other == own:
                continue
            face = f"{layout.package}.{other}.{PUBLIC_FACE}"
            if imported == face:
                continue
            found.append(
                Violation(
                    importer,
                    "wing-internals",
                    f"the {own} wing imports the {other} wing's internals: "
                    f"{_line(graph, importer, imported)}; import {face} instead",
                )
            )
    return found


def import_cycles(graph: grimp.ImportGraph) -> list[Violation]:
    """One violation per group of modules that import each other, with one cycle spelled out."""
    found = []
    for group in _strongly_connected(graph):
        start = min(group)
        cycle = _cycle_through(graph, start, group)
        found.append(
            Violation(
                start,
                "import-cycle",
                f"{len(group)} modules import each other ({', '.join(sorted(group))}); "
                f"one cycle: {chain_text(graph, cycle)}",
            )
        )
    return found


def _strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the graph may be deep); groups of two or more, and
    modules that import themselves."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    counter = 0
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = edges[node]
            if position < len(successors):
                work.append((node, position + 1))
                nxt = successors[position]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1 or node in edges[node]:
                    groups.append(group)
    return groups


def _cycle_through(graph: grimp.ImportGraph, start: str, group: set[str]) -> tuple[str, ...]:
    """The shortest cycle from ``start`` back to itself inside ``group``."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for nxt in sorted(graph.find_modules_directly_imported_by(current)):
            if nxt not in group:
                continue
            if nxt == start:
                chain = [current]
                while chain[-1] != start:
                    chain.append(came_from[chain[-1]])
                return (*reversed(chain), start)
            if nxt not in came_from:
                came_from[nxt] = current
                queue.append(nxt)
    raise AssertionError(f"{start} is in no cycle")  # pragma: no cover - groups are cycles
