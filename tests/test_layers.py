"""The layer rules of docs/architecture.md, enforced: plugins build on the public surface only, and the public
contract (``sebframe.types``, ``sebframe.hookspecs``) is written without the core's internal types."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Plugins may import the package itself (``from sebframe import hookimpl``) and these two trees.
PUBLIC_FOR_PLUGINS = ("sebframe.types", "sebframe.testing")
CONTRACT = ("sebframe.types", "sebframe.hookspecs")


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every absolute module a file imports; ``from x import y`` counts as x and as x.y (y may be a module)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def _allowed(module: str, trees: tuple[str, ...]) -> bool:
    if module == "sebframe" or any(module == tree or module.startswith(f"{tree}.") for tree in trees):
        return True
    # "sebframe.hookimpl" from ``from sebframe import hookimpl`` is a name the package exports, not a module
    parts = module.split(".")
    package = ROOT / "sebframe" / parts[1]
    return len(parts) == 2 and not package.exists() and not package.with_suffix(".py").exists()


def _violations(files: Iterator[Path], trees: tuple[str, ...]) -> list[str]:
    found = []
    for path in files:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        found += [f"{shown}:{line} imports {module}" for line, module in _imports(path)
                  if (module == "sebframe" or module.startswith("sebframe.")) and not _allowed(module, trees)]
    return found


def test_plugins_import_only_the_public_surface() -> None:
    files = (path for path in (ROOT / "plugins").glob("*/**/*.py") if ".venv" not in path.parts)
    assert _violations(files, PUBLIC_FOR_PLUGINS) == []


def test_the_plugin_contract_does_not_depend_on_the_core() -> None:
    files = iter([ROOT / "sebframe" / "types.py", *(ROOT / "sebframe" / "hookspecs").glob("*.py")])
    assert _violations(files, CONTRACT) == []


def test_the_rule_catches_a_core_import(tmp_path: Path) -> None:
    sample = tmp_path / "plugin.py"
    sample.write_text("from sebframe.core.accounts.actor import Actor\nimport sebframe.web.menu\n"
                      "from sebframe import hookimpl\nfrom sebframe.types import Role\n"
                      "from sebframe.testing import registry_with\n")
    assert _violations(iter([sample]), PUBLIC_FOR_PLUGINS) == [
        "plugin.py:1 imports sebframe.core.accounts.actor",
        "plugin.py:1 imports sebframe.core.accounts.actor.Actor",
        "plugin.py:2 imports sebframe.web.menu",
    ]
