"""Dependencies point one way: no import cycle among idp's modules, and a leaf loads only what it imports.

`make lint` runs the import-linter contracts of pyproject.toml (the layers, the independent slices); these tests
hold what a contract cannot say: that grimp, which also counts the imports inside functions, finds no cycle at
all, so a new one fails CI even between two modules of one layer or one package.
"""

import json
import subprocess
import sys

import grimp
import pytest

pytestmark = pytest.mark.once


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("idp", cache_dir=None)


def _cycles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, imported = work[-1]
            for other in imported:
                if other not in index:
                    index[other] = low[other] = len(index)
                    stack.append(other)
                    on_stack.add(other)
                    work.append((other, iter(sorted(graph.find_modules_directly_imported_by(other)))))
                    break
                if other in on_stack:
                    low[module] = min(low[module], index[other])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    """The check below is only as good as the finder: a graph with a cycle (through a function-level import,
    as grimp sees it) and a chain beside it."""
    made = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b", "p.c", "p.d"):
        made.add_module(module)
    made.add_import(importer="p.a", imported="p.b")
    made.add_import(importer="p.b", imported="p.a")
    made.add_import(importer="p.c", imported="p.d")
    assert _cycles(made) == [["p.a", "p.b"]]


def test_no_import_cycles(graph):
    """Zero cycles, the imports inside functions included: lower modules never reach back up, even lazily."""
    assert _cycles(graph) == []


#: leaf -> how many idp modules importing it alone may load (the package `idp` and its parents included)
LEAVES = {
    "idp.clock": 5,
    "idp.crypto": 4,
    "idp.errors": 5,
    "idp.inputs": 6,
    "idp.urls": 5,
    "idp.passwords": 5,
    "idp.cache": 6,
    "idp.claims_once": 5,
    "idp.oidc.scopes": 6,
    "idp.oidc.naming": 10,
    "idp.oidc.entra_errors": 8,
    "idp.telephony.base": 6,
    "idp.methods.oath.totp": 9,
    "idp.kit.graph_permissions": 33,
}


@pytest.mark.parametrize("leaf, limit", LEAVES.items())
def test_leaf_loads_only_what_it_imports(graph, leaf, limit):
    """Imported alone, a leaf loads its own imports (and the `idp` package's), nothing more: an import at module
    level that grimp cannot see, or a registry filled on import, would load more than the static closure; and
    the count is held, so a new dependency of a leaf is a visible change here."""
    code = f"import sys, json, {leaf}; print(json.dumps(sorted(m for m in sys.modules if m.startswith('idp'))))"
    loaded = set(
        json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    )
    expected: set[str] = set()
    todo = {leaf}
    while todo:  # what it imports, and the packages of each (Python imports a module's packages first)
        module = todo.pop()
        expected.add(module)
        parts = module.split(".")
        todo |= ({".".join(parts[:n]) for n in range(1, len(parts))} | graph.find_upstream_modules(module)) - expected
    assert loaded <= expected, sorted(loaded - expected)
    assert len(loaded) <= limit, sorted(loaded)
    assert "idp.console" not in loaded and "idp.signin.flow" not in loaded and "idp.wiring" not in loaded
