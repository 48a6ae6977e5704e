"""The house rules on kiln's imports, checked on the source with `ast` (nothing is imported).

1. No cycle between modules of different packages (nor between packages).
2. Packages import downward only, in the layer order of `RANKS` below.
3. No import statement inside a function body.

Each failure names the file:line and the rule it breaks.
"""

from __future__ import annotations

import ast
import pathlib

SRC = pathlib.Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / "kiln"

# Layer order, bottom first. A module may import from its own rank or below, never above.
# "ground" is every `kiln._*` module plus kiln.utils (pure helpers) and the facades
# kiln.config / kiln.backend, which only re-export ground modules.
RANKS: list[tuple[str, ...]] = [
    ("ground", "utils", "datasets", "config", "backend", "dtype_policies", "tree"),
    ("activations", "initializers", "regularizers", "constraints", "ops", "distribution",
     "random", "preprocessing"),
    ("layers", "losses", "metrics", "optimizers"),
    ("callbacks", "training", "saving", "mixed_precision"),
    ("models", "applications", "wrappers"),
    ("kiln",),  # kiln: the public kiln/__init__.py
]
RANK = {pkg: i for i, group in enumerate(RANKS) for pkg in group}


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def package_of(module: str) -> str:
    """`kiln.layers._core` -> `layers`; `kiln._scope` -> `ground`; `kiln` -> `kiln`."""
    parts = module.split(".")
    if len(parts) == 1:
        return "kiln"
    return "ground" if parts[1].startswith("_") else parts[1]


def _is_module(name: str) -> bool:
    rel = pathlib.Path(*name.split("."))
    return (SRC / rel).with_suffix(".py").exists() or (SRC / rel / "__init__.py").exists()


def targets(module: str, is_pkg: bool, node: ast.AST) -> list[str]:
    """The kiln modules an import statement loads."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "kiln"]
    assert isinstance(node, ast.ImportFrom)
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".") if is_pkg else module.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    if base.split(".")[0] != "kiln":
        return []
    out = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        out.append(sub if _is_module(sub) else base)
    return out


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Ids of imports under `if TYPE_CHECKING:`, which never run."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for b in node.body for n in ast.walk(b)}
    return skip


def scan() -> tuple[dict[str, dict[str, str]], list[str]]:
    """`({module: {imported module: "file:line"}}, [import-inside-a-function failures])`."""
    graph: dict[str, dict[str, str]] = {}
    in_functions: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        module = module_name(path)
        tree = ast.parse(path.read_text(), filename=str(path))
        where = lambda n: f"{path.relative_to(SRC.parent)}:{n.lineno}"
        funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        inner = {id(n) for f in funcs for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
        skip = _type_checking_only(tree)
        edges = graph.setdefault(module, {})
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            if id(node) in inner:
                in_functions.append(f"{where(node)}: import inside a function body "
                                    f"({ast.unparse(node)}); move it to the top of the module")
            if id(node) in skip:
                continue
            for target in targets(module, path.name == "__init__.py", node):
                if target != module:
                    edges.setdefault(target, where(node))
    return graph, in_functions


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components with more than one node (iterative: no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


GRAPH, IN_FUNCTIONS = scan()


def test_scan_sees_the_package():
    assert "kiln.layers._layer" in GRAPH and "kiln._scope" in GRAPH["kiln._variables"]
    assert set(map(package_of, GRAPH)) <= set(RANK), (
        f"packages without a rank in RANKS: {sorted(set(map(package_of, GRAPH)) - set(RANK))}; "
        "add them to the layer order")


def test_no_import_inside_a_function():
    assert not IN_FUNCTIONS, "\n".join(IN_FUNCTIONS)


def test_no_upward_import():
    failures = []
    for module, edges in GRAPH.items():
        src = package_of(module)
        for target, where in edges.items():
            dst = package_of(target)
            if RANK.get(dst, -1) > RANK.get(src, -1):
                failures.append(f"{where}: upward import: {module} ({src}, rank {RANK.get(src)}) "
                                f"imports {target} ({dst}, rank {RANK.get(dst)})")
    assert not failures, "\n".join(failures)


def test_no_cycle_between_modules_of_different_packages():
    graph = {m: set(e) for m, e in GRAPH.items()}
    failures = []
    for comp in strongly_connected(graph):
        packages = sorted({package_of(m) for m in comp})
        if len(packages) > 1:
            members = set(comp)
            links = [f"{GRAPH[a][b]}: {a} -> {b}" for a in comp for b in GRAPH[a] if b in members]
            failures.append(f"import cycle across packages {packages}:\n  " + "\n  ".join(links))
    assert not failures, "\n".join(failures)


def test_no_cycle_between_packages():
    packages: dict[str, set[str]] = {}
    where: dict[tuple[str, str], str] = {}
    for module, edges in GRAPH.items():
        for target, line in edges.items():
            a, b = package_of(module), package_of(target)
            if a != b and "kiln" not in (a, b):
                packages.setdefault(a, set()).add(b)
                where.setdefault((a, b), line)
    failures = []
    for comp in strongly_connected(packages):
        links = [f"{where[a, b]}: {a} -> {b}" for a in comp for b in packages.get(a, ())
                 if b in comp]
        failures.append(f"package cycle {comp}:\n  " + "\n  ".join(links))
    assert not failures, "\n".join(failures)


def test_the_helpers_classify_and_find_cycles():
    assert package_of("kiln._scope") == "ground" and package_of("kiln.layers._core") == "layers"
    assert package_of("kiln") == "kiln"
    assert strongly_connected({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
