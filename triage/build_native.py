"""Build the triage engine's compiled modules: ``python -m triage.build_native`` (run by `make install`).

See triage/native.py for what is compiled and when the compiled modules are used.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from triage.native import GROUP, HERE, MANIFEST, MODULES, _compiled_files, _digest


def build() -> str:
    """Compile the modules in place and write the manifest; on failure remove what was half-built."""
    for stale in _compiled_files():
        stale.unlink()
    sources = {name: _digest(name) for name in MODULES}
    root = HERE.parent
    cwd = Path.cwd()
    try:
        from mypyc.build import mypycify
        from setuptools import setup  # type: ignore[import-untyped]

        os.chdir(root)
        setup(
            name="careline-triage-native",
            ext_modules=mypycify([f"triage/{name}.py" for name in MODULES], group_name=GROUP, opt_level="3"),
            script_args=["--quiet", "build_ext", "--inplace", "--build-temp", "build/native"],
        )
    except (Exception, SystemExit) as exc:  # setuptools reports a failed compiler with SystemExit
        for half in _compiled_files():
            half.unlink()
        error = f"{type(exc).__name__}: {exc}".strip()[:300]
        MANIFEST.write_text(json.dumps({"compiled": False, "error": error}, indent=1) + "\n")
        return f"pure Python (build failed: {error})"
    finally:
        os.chdir(cwd)
    MANIFEST.write_text(json.dumps({"compiled": True, "sources": sources}, indent=1) + "\n")
    return "compiled"


def main() -> None:
    print(f"triage engine: {build()}")


if __name__ == "__main__":
    main()
