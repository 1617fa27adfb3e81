"""The `careline` command as a user runs it: db upgrade, seed-demo, serve (what `make run` does), chat."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CARELINE = str(Path(sys.executable).with_name("careline"))


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARELINE_", "TWILIO_"))}
    env["CARELINE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'careline.db'}"
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_upgrade_seed_and_serve_answer_healthz(tmp_path: Path) -> None:
    env = _env(tmp_path)
    subprocess.run([CARELINE, "db", "upgrade"], env=env, check=True, timeout=60)
    subprocess.run([CARELINE, "db", "upgrade"], env=env, check=True, timeout=60)  # twice: no-op
    out = subprocess.run([CARELINE, "seed-demo"], env=env, check=True, timeout=60, capture_output=True, text=True)
    assert "demo practice ready" in out.stdout
    again = subprocess.run([CARELINE, "seed-demo"], env=env, check=True, timeout=60, capture_output=True, text=True)
    assert "(0 records added)" in again.stdout
    port = _free_port()
    server = subprocess.Popen([CARELINE, "serve", "--port", str(port)], env=env)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as resp:
            assert resp.status == 200
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_chat_is_a_terminal_phone(tmp_path: Path) -> None:
    env = _env(tmp_path)
    subprocess.run([CARELINE, "db", "upgrade"], env=env, check=True, timeout=60)
    out = subprocess.run(
        [CARELINE, "chat", "--from", "+15555550123"],
        env=env,
        input="HELP\nSTOP\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("Careline")]
    assert len(lines) == 2
    assert "for help call" in lines[0]
    assert "unsubscribed" in lines[1]


def test_chat_rejects_a_number_that_is_not_one(tmp_path: Path) -> None:
    out = subprocess.run(
        [CARELINE, "chat", "--from", "not a number"], env=_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2
    assert "--from" in out.stderr


def test_triage_explains_rule_words_value_unit_and_ruleset_version(tmp_path: Path) -> None:
    out = subprocess.run(
        [CARELINE, "triage", "my temp is 38,4 and i have chills"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    text = out.stdout
    assert text.upper().startswith("URGENT")
    assert "temperature_fever" in text  # the rule
    assert "'38,4'" in text  # the matched words
    assert "38.4 °C" in text  # the parsed value and unit
    assert "chills" in text
    from triage.engine import RULESET_VERSION

    assert RULESET_VERSION in text


def test_triage_jsonl_keeps_order_and_reports_bad_lines_by_number(tmp_path: Path) -> None:
    import json

    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id": "a", "text": "101.8 and shaking"}\n'
        "not json\n"
        '{"id": "b", "text": "can I move my appointment to friday?"}\n'
        '{"id": "c", "text": "tengo fiebre de 39", "lang": "es"}\n'
    )
    dest = tmp_path / "out.jsonl"
    out = subprocess.run(
        [CARELINE, "triage", "--jsonl", str(src), "--out", str(dest)],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "line 2" in out.stderr
    rows = [json.loads(line) for line in dest.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert [r["level"] for r in rows] == ["urgent", "non_clinical", "urgent"]
    assert all(set(r) == {"id", "level", "symptoms", "explanation"} for r in rows)


def test_chat_answers_an_urgent_text_while_the_escalation_timer_waits(tmp_path: Path) -> None:
    """Regression: chat waited for every queued job, the next escalation step's timer included, and died."""
    env = _env(tmp_path)
    subprocess.run([CARELINE, "db", "upgrade"], env=env, check=True, timeout=60)
    subprocess.run([CARELINE, "seed-demo"], env=env, check=True, timeout=60, capture_output=True)
    out = subprocess.run(
        [CARELINE, "chat", "--from", "+15555550124"],
        env=env,
        input="101.8 and shaking, day 10 of my cycle\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    replies = [line for line in out.stdout.splitlines() if line.startswith("Careline")]
    assert len(replies) == 1
    assert "nurse has been paged" in replies[0]
