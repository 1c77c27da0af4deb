"""The package's shape, checked from its source with ``ast`` (no imports are executed).

* Imports run one way: every ``sogni_sync`` module belongs to a layer, and a module may import
  only from its own package or from a lower layer (design/architecture.md §1). Imports inside
  functions and under ``TYPE_CHECKING`` count too: a lazy import still runs back up.
* The module import graph has no cycle at run time (imports under ``TYPE_CHECKING`` never run, so
  they may point sideways inside a package; they still obey the layers).
* No module writes another module's private attributes: ``obj._name = ...``, ``del obj._name``,
  ``obj._name[k] = ...`` or ``obj._name.append(...)`` (and other mutating calls) on an object
  that is not ``self``/``cls``, unless ``_name`` belongs to a class defined in the same module.
  Calling another module's private method (``project._finish()``) is a write by the back door
  and counts too.
"""

from __future__ import annotations

import ast
import itertools
import pathlib
from collections.abc import Iterator

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "sogni_sync"

#: top-level part of the package → layer. A module may import its own part or lower layers.
LAYERS: dict[str, int] = {
    "errors": 0, "_version": 0, "_wire": 0, "_logs": 0, "_argtypes": 0, "_js": 0,
    "_config": 1, "_convert": 1, "_sync": 1,
    "_transport": 2,
    "_auth": 3,
    "account": 4, "catalog": 4, "creative_workflows": 4,
    "projects": 5,
    "chat": 6,
    "batch": 7,
    "_client": 8,
    "local": 9,
    "cli": 10,
    "__init__": 11,
}
#: the emulator is a separate world: it shares names (the wire constants), never logic.
TESTING_MAY_IMPORT = {"testing", "_wire", "errors", "_version", "_argtypes"}
#: the pytest plugin's client fixture builds a client (lazily, inside the fixture).
TESTING_EXCEPTIONS = {("sogni_sync.testing.pytest_plugin", "sogni_sync._client")}
#: private writes into third-party objects, each with its reason
FOREIGN_WRITES_ALLOWED = {
    # a raw http.client body handed back as a requests.Response (no public setter exists)
    "sogni_sync/_transport/keepalive.py: response._content",
    # the stdlib's own (documented) way to build the context behind verify=False
    "sogni_sync/_transport/keepalive.py: ssl._create_unverified_context",
}

MUTATORS = {"append", "extend", "insert", "remove", "pop", "popleft", "clear", "update", "add",
            "discard", "setdefault", "appendleft", "sort", "reverse"}


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _target(name: str) -> str | None:
    """The longest known module that ``name`` denotes (``a.b.c`` may be a name in ``a.b``)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes inside ``if TYPE_CHECKING:`` blocks."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                found.update(id(sub) for sub in ast.walk(stmt))
    return found


def _imports(module: str, *, runtime_only: bool = False) -> Iterator[str]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    typing_only = _type_checking_nodes(tree) if runtime_only else set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node)
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            target = _target(name)
            if target is not None and target != module and target.startswith("sogni_sync"):
                yield target


GRAPH = {module: sorted(set(_imports(module))) for module in MODULES}
RUNTIME_GRAPH = {module: sorted(set(_imports(module, runtime_only=True))) for module in MODULES}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_part_has_a_layer() -> None:
    parts = {_part(m) for m in MODULES} - {"testing"}
    assert parts <= set(LAYERS), f"give these a layer: {sorted(parts - set(LAYERS))}"


def test_imports_never_run_back_up() -> None:
    bad = []
    for module, targets in GRAPH.items():
        src = _part(module)
        for target in targets:
            dst = _part(target)
            if src == dst:
                continue
            if src == "testing":
                ok = dst in TESTING_MAY_IMPORT or (module, target) in TESTING_EXCEPTIONS
            elif dst == "testing":
                ok = src in ("local", "cli", "__init__")  # the emulator-backed entry points
            else:
                ok = LAYERS[dst] < LAYERS[src]
            if not ok:
                bad.append(f"{module} -> {target}")
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_import_graph_has_no_cycle() -> None:
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []
    cycles: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in RUNTIME_GRAPH.get(node, ()):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(RUNTIME_GRAPH):
        if module not in state:
            visit(module)
    # a package's __init__ importing its own submodules is how re-exports work, not a cycle
    real = [c for c in cycles if not _only_package_reexport(c)]
    assert not real, "import cycles:\n" + "\n".join(real)


def _only_package_reexport(cycle: str) -> bool:
    nodes = cycle.split(" -> ")
    return any(
        MODULES[a].name == "__init__.py" and b.startswith(a + ".")
        for a, b in itertools.pairwise(nodes)
    ) and all(_part(n) == _part(nodes[0]) for n in nodes)


def _own_private_attributes(tree: ast.AST) -> set[str]:
    """``_names`` assigned on ``self``/``cls`` (or declared in class bodies) in this module."""
    own: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and (
                node.value.id in ("self", "cls")) and isinstance(node.ctx, ast.Store):
            own.add(node.attr)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    own.add(item.target.id)
                elif isinstance(item, ast.Assign):
                    own.update(t.id for t in item.targets if isinstance(t, ast.Name))
                elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    own.add(item.name)
            slots = [i for i in node.body if isinstance(i, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__slots__" for t in i.targets)]
            for item in slots:
                for const in ast.walk(item.value):
                    if isinstance(const, ast.Constant) and isinstance(const.value, str):
                        own.add(const.value)
    return own


def _foreign_private(node: ast.AST, own: set[str]) -> str | None:
    if not isinstance(node, ast.Attribute):
        return None
    name = node.attr
    if not name.startswith("_") or name.startswith("__") or name in own:
        return None
    if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
        return None
    return ast.unparse(node)


def _private_writes(module: str) -> Iterator[str]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    own = _own_private_attributes(tree)
    for node in ast.walk(tree):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = list(node.targets)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in MUTATORS:
                targets = [node.func.value]
            elif node.func.attr.startswith("_"):
                targets = [node.func]  # another object's private method
        for target in targets:
            while isinstance(target, ast.Subscript):
                target = target.value
            for sub in ast.walk(target) if isinstance(target, ast.Tuple) else [target]:
                hit = _foreign_private(sub, own)
                if hit is not None:
                    where = path.relative_to(ROOT.parent)
                    if f"{where}: {hit}" not in FOREIGN_WRITES_ALLOWED:
                        yield f"{where}:{getattr(node, 'lineno', '?')}: {hit}"


def test_no_module_writes_another_modules_private_attributes() -> None:
    bad = [hit for module in sorted(MODULES) for hit in _private_writes(module)]
    assert not bad, "writes of another module's private state:\n" + "\n".join(bad)


@pytest.mark.parametrize("source, expected", [
    ("other._x = 1", 1),
    ("other._x += 1", 1),
    ("other._x[k] = 1", 1),
    ("del other._x", 1),
    ("other._x.append(1)", 1),
    ("self._x = 1\nother._x = 2", 0),  # the module's own attribute
    ("self._y = 1", 0),
    ("other.x = 1", 0),
    ("a.b._z = 1", 1),
    ("project._finish('failed')", 1),
    ("self._finish('failed')", 0),
    ("project._cond.notify_all()", 0),  # a read of another object's attribute
])
def test_the_private_write_scan_itself(source: str, expected: int, tmp_path: pathlib.Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "probe.py"
    path.write_text(source)
    monkeypatch.setitem(MODULES, "probe", path)
    monkeypatch.setattr(pathlib.Path, "relative_to", lambda self, other: self)
    assert len(list(_private_writes("probe"))) == expected


def test_the_layer_check_sees_lazy_imports(tmp_path: pathlib.Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "api.py"
    path.write_text("def f():\n    from sogni_sync.projects._validate import x\n")
    monkeypatch.setitem(MODULES, "sogni_sync.catalog.probe", path)
    assert "sogni_sync.projects._validate" in set(_imports("sogni_sync.catalog.probe"))
