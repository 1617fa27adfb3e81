"""Compile the triage engine's hot modules with mypyc, and decide at import whether the compiled ones may be used.

`make install` runs ``python -m triage.build_native``: mypyc (shipped with mypy) turns the modules below into C
extensions next to their sources, and a manifest records the SHA-256 of each source compiled. The engine is
the same code either way and gives the same results (tests/unit/triage/test_native.py compares them);
compiled, it runs about 1.5x faster.

A compiled module found beside a source that has changed since would silently run old code, so
``triage/__init__.py`` calls :func:`guard` first: unless every source matches the manifest, the pure-Python
sources are imported instead (so are they when ``CARELINE_TRIAGE_PURE=1``). If the compiler is missing or fails,
the build says so and Careline runs pure Python.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
MODULES = ("numbers", "lexicon", "scanner", "ruleset", "engine")  # triage.<name>, compiled as one group
MANIFEST = HERE / "_native.json"
GROUP = "triage._native"  # the group's shared library: triage/_native__mypyc.*.so
PURE_ENV = "CARELINE_TRIAGE_PURE"


def _digest(name: str) -> str:
    return hashlib.sha256((HERE / f"{name}.py").read_bytes()).hexdigest()


def _compiled_files() -> list[Path]:
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return [p for p in HERE.iterdir() if p.name.endswith(suffixes)]


def status() -> str:
    """'compiled' when the compiled modules are current and in use, else why not."""
    if os.environ.get(PURE_ENV):
        return f"pure Python ({PURE_ENV} is set)"
    if not _compiled_files():
        return "pure Python (not compiled: run make install)"
    try:
        manifest = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return "pure Python (no build manifest)"
    if manifest.get("compiled") is not True:
        return f"pure Python (build failed: {manifest.get('error', 'unknown')})"
    for name in MODULES:
        if manifest.get("sources", {}).get(name) != _digest(name):
            return f"pure Python (triage/{name}.py changed since it was compiled: run make install)"
    return "compiled"


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds triage's compiled modules' .py sources ahead of the extensions beside them."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != "triage" or name not in MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, HERE / f"{name}.py")


def guard() -> str:
    """Called by triage/__init__.py before any engine module is imported: use the sources unless compiled."""
    current = status()
    stale = current != "compiled" and bool(_compiled_files())
    if stale and not any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFinder())
    return current
