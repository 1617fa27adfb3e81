"""The compiled engine (mypyc, triage/native.py) gives the same results as the sources, and is never used once
its sources have changed."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import triage
from triage import native
from triage.engine import PatientContext, Treatment, TriageSettings, assess

ROOT = Path(__file__).resolve().parents[3]
LABELLED = ROOT / "tests" / "data" / "triage" / "labelled.jsonl"
EXT = importlib.machinery.EXTENSION_SUFFIXES[0]

DUMP = """
import json, sys
sys.path.insert(0, sys.argv[1])
import triage, triage.engine as e
texts = json.loads(sys.stdin.read())
contexts = [None, e.PatientContext(treatment=e.Treatment.IMMUNOTHERAPY, days_since_dose=9, on_anticoagulant=False)]
ukons = e.TriageSettings(fever_threshold_c=37.5)
out = [[e.assess(t, c).to_dict() for c in contexts] + [e.assess(t, None, ukons).to_dict()] for t in texts]
print(json.dumps({"status": triage.NATIVE_STATUS, "file": e.__file__, "results": out}))
"""


def _texts() -> list[str]:
    """The labelled set and 1,500 messages of the benchmark's generator (another seed than the benchmark's)."""
    texts = [json.loads(line)["text"] for line in LABELLED.read_text().splitlines() if line.strip()]
    spec = importlib.util.spec_from_file_location("bench_triage", ROOT / "bench" / "triage.py")
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return texts + list(bench.workload(1500, 11))


def _dump(root: Path, texts: list[str], **env: str) -> dict[str, object]:
    run_env = {k: v for k, v in os.environ.items() if k != native.PURE_ENV} | env
    out = subprocess.run(
        [sys.executable, "-c", DUMP, str(root)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        env=run_env,
        check=True,
        timeout=300,
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_the_compiled_engine_and_the_sources_agree_on_every_text() -> None:
    texts = _texts()
    pure = _dump(ROOT, texts, CARELINE_TRIAGE_PURE="1")
    assert str(pure["file"]).endswith("engine.py")
    here = triage.NATIVE_STATUS
    contexts = [None, PatientContext(treatment=Treatment.IMMUNOTHERAPY, days_since_dose=9, on_anticoagulant=False)]
    ukons = TriageSettings(fever_threshold_c=37.5)
    mine = [[assess(t, c).to_dict() for c in contexts] + [assess(t, None, ukons).to_dict()] for t in texts]
    assert len(mine) == len(texts) > 2000
    assert mine == pure["results"], f"this process runs {here}"


def test_compiled_modules_are_used_only_while_they_match_their_sources() -> None:
    status = triage.NATIVE_STATUS
    import triage.engine as engine

    if status == "compiled":
        assert not str(engine.__file__).endswith(".py")
        manifest = json.loads(native.MANIFEST.read_text())
        assert set(manifest["sources"]) == set(native.MODULES)
    else:
        assert status.startswith("pure Python")
        assert str(engine.__file__).endswith("engine.py")


def test_a_changed_source_is_imported_instead_of_its_stale_compiled_module(tmp_path: Path) -> None:
    copy = tmp_path / "triage"
    shutil.copytree(ROOT / "triage", copy, ignore=shutil.ignore_patterns("__pycache__"))
    # A compiled engine that does not match its source (here: not even a real extension: importing it fails).
    for name in native.MODULES:
        (copy / f"{name}{EXT}").write_bytes(b"stale")
    sources = {name: "0" * 64 for name in native.MODULES}
    (copy / "_native.json").write_text(json.dumps({"compiled": True, "sources": sources}))
    result = _dump(tmp_path, ["temp 101.2 and chills"])
    assert str(result["file"]) == str(copy / "engine.py")
    assert "changed since it was compiled" in str(result["status"])
    assert result["results"][0][0]["level"] == "urgent"  # type: ignore[index]


def test_after_a_failed_build_the_sources_run(tmp_path: Path) -> None:
    copy = tmp_path / "triage"
    shutil.copytree(ROOT / "triage", copy, ignore=shutil.ignore_patterns("__pycache__", f"*{EXT}", "_native.json"))
    (copy / "_native.json").write_text(json.dumps({"compiled": False, "error": "CompileError: no gcc"}))
    result = _dump(tmp_path, ["no fever"])
    assert str(result["file"]) == str(copy / "engine.py")
    assert str(result["status"]).startswith("pure Python")
