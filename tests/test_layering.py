"""Imports flow app -> sims -> dgpo, never back; dgpo imports only torch and the standard library."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STDLIB = set(sys.stdlib_module_names)


def _imports(package: str) -> dict[Path, set[str]]:
    out = {}
    for path in (ROOT / package).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        out[path] = names
    return out


def test_dgpo_core_imports_only_torch_and_stdlib():
    for path, names in _imports("dgpo").items():
        if "integrations" in path.parts:
            continue  # the TRL/verl plug-ins import their engines, and are never imported by the core
        assert names <= STDLIB | {"torch", "dgpo", "__future__"}, (path, names - STDLIB)


def test_sims_never_import_the_app_or_ui_libraries():
    for path, names in _imports("sims").items():
        assert not names & {"app", "streamlit", "plotly"}, (path, names)


def test_core_never_imports_sims_or_app():
    for path, names in _imports("dgpo").items():
        assert not names & {"sims", "app", "streamlit"}, path


def test_core_never_syncs_with_item():
    """Metrics stay tensors in the core; conversion happens at the edge (the TRL/verl plug-ins)."""
    for path in (ROOT / "dgpo").glob("*.py"):
        assert ".item()" not in path.read_text(), path
