"""`careline triage ...`: assess one message, or a JSON-lines file of messages.

    careline triage "my temp is 38,4 and i have chills"
    careline triage --treatment immunotherapy --days-since-dose 9 --anticoagulant "..."
    careline triage --jsonl IN [--out OUT]

JSONL input lines are {"id", "text"[, "lang"]}; output lines are {"id", "level", "symptoms", "explanation"} in
the same order. A malformed line is reported on stderr with its line number and skipped; the exit code is then 2
(0 when every line was assessed). Message text is never written to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from triage.engine import PatientContext, Treatment, TriageEngine, TriageSettings

__all__ = ["main"]

EXIT_MALFORMED = 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="careline triage", description="Triage a patient message.")
    p.add_argument("text", nargs="*", help="the message (quote it)")
    p.add_argument("--jsonl", metavar="IN", help="read {id, text[, lang]} lines from IN ('-' for stdin)")
    p.add_argument("--out", metavar="OUT", help="write JSONL results to OUT (default stdout)")
    p.add_argument("--treatment", choices=[t.value for t in Treatment], help="current treatment")
    p.add_argument("--days-since-dose", type=int, metavar="N", help="days since the last dose")
    anticoag = p.add_mutually_exclusive_group()
    anticoag.add_argument("--anticoagulant", dest="anticoagulant", action="store_true", default=None)
    anticoag.add_argument("--no-anticoagulant", dest="anticoagulant", action="store_false")
    p.add_argument("--lang", help="message language (en, es)")
    p.add_argument("--fever-threshold-c", type=float, default=38.0, help="fever threshold in °C (UKONS: 37.5)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    return p


@contextmanager
def _open_in(path: str) -> Iterator[TextIO]:
    if path == "-":
        yield sys.stdin
    else:
        with Path(path).open(encoding="utf-8") as fh:
            yield fh


@contextmanager
def _open_out(path: str | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
    else:
        with Path(path).open("w", encoding="utf-8") as fh:
            yield fh


def _run_jsonl(engine: TriageEngine, base: PatientContext, src: str, out: str | None) -> int:
    malformed = 0
    with _open_in(src) as fin, _open_out(out) as fout:
        for lineno, line in enumerate(fin, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                malformed += 1
                sys.stderr.write(f"line {lineno}: malformed JSON ({exc.msg} at column {exc.colno})\n")
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or "id" not in obj:
                malformed += 1
                sys.stderr.write(f"line {lineno}: expected an object with 'id' and a string 'text'\n")
                continue
            lang = obj.get("lang")
            ctx = PatientContext(
                treatment=base.treatment,
                days_since_dose=base.days_since_dose,
                on_anticoagulant=base.on_anticoagulant,
                language=lang if isinstance(lang, str) else base.language,
            )
            result = engine.assess(obj["text"], ctx)
            record = {
                "id": obj["id"],
                "level": result.level.value,
                "symptoms": result.symptoms,
                "explanation": result.explain(),
            }
            fout.write(json.dumps(record, ensure_ascii=False) + "\n")
    if malformed:
        sys.stderr.write(f"{malformed} malformed line(s) skipped\n")
        return EXIT_MALFORMED
    return 0


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    engine = TriageEngine(TriageSettings(fever_threshold_c=args.fever_threshold_c))
    ctx = PatientContext(
        treatment=Treatment(args.treatment) if args.treatment else None,
        days_since_dose=args.days_since_dose,
        on_anticoagulant=args.anticoagulant,
        language=args.lang,
    )
    if args.jsonl:
        return _run_jsonl(engine, ctx, args.jsonl, args.out)
    if not args.text:
        sys.stderr.write("give a message to triage, or --jsonl IN\n")
        return 1
    result = engine.assess(" ".join(args.text), ctx)
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(result.explain() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
