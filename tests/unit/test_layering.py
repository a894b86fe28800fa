"""The layers stay one-way (bot → handlers → provisioning → store) and no package has an import cycle."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from handlers import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "provisioning", "store")
# What each layer may import of ours: only the layers below it.
ALLOWED = {"bot": {"bot", "handlers", "provisioning", "store"}, "handlers": {"handlers", "provisioning"},
           "provisioning": {"provisioning", "store"}, "store": {"store"}}
SPEC_COMMANDS = ("help", "tenant", "leads", "upload", "import", "submit", "cancel", "template", "numbers", "status",
                 "digest")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of the file (lazy imports in functions count too)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def our_graph() -> dict[str, set[str]]:
    """Our modules and which of our modules each imports (`from pkg import module` counts as the module)."""
    files = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    graph = {}
    for name, path in files.items():
        found = {m for m in imports_of(path) if m in files and m != name}
        graph[name] = {m for m in found if not any(other.startswith(m + ".") for other in found)}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_import_cycles():
    assert cycles(our_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_each_layer_imports_only_the_layers_below_it():
    wrong = sorted(f"{name} imports {target}" for name, targets in our_graph().items() for target in targets
                   if target.split(".")[0] not in ALLOWED[name.split(".")[0]])
    assert wrong == []


def test_handlers_never_touch_the_database_or_webex_themselves():
    """Handlers parse, call the domain and render: no store, SQLAlchemy, Flask or SDK imports."""
    forbidden = ("store", "sqlalchemy", "flask", "webexpythonsdk", "requests", "bot")
    wrong = sorted(f"{path.relative_to(ROOT)} imports {module}" for path in (ROOT / "handlers").rglob("*.py")
                   for module in imports_of(path) if module.split(".")[0] in forbidden)
    assert wrong == []


def test_provisioning_imports_no_transport_modules():
    code = ("import sys, pkgutil, importlib, provisioning\n"
            "for m in pkgutil.walk_packages(provisioning.__path__, 'provisioning.'): importlib.import_module(m.name)\n"
            "bad = [n for n in sys.modules if n.split('.')[0] in ('flask', 'webexpythonsdk', 'bot', 'handlers')]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_handlers_import_no_transport_modules():
    code = ("import sys, handlers\n"
            "bad = [n for n in sys.modules if n.split('.')[0] in ('flask', 'webexpythonsdk', 'bot')]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_spec_command_is_registered_with_usage_and_examples():
    for name in SPEC_COMMANDS:
        command = REGISTRY.get(name)
        assert command is not None, name
        assert command.usage.startswith(name) and command.summary and command.examples, name


def test_one_module_per_command_and_help_in_the_registry_order():
    modules = [command.run.__module__ for command in REGISTRY.ordered]
    assert len(set(modules)) == len(modules) and all(m.startswith("handlers.") for m in modules)
    assert [c.name for c in REGISTRY.ordered][:3] == ["help", "tenant", "leads"]
