"""Triage engine throughput on one core, beside a baseline measured in the same run.

    .venv/bin/python bench/triage.py [--messages 20000] [--seed 7]

Workload: a varied mix built from a seeded generator: short texts (median ~80 characters) in English, Spanish
and Spanglish with random numbers, names, typos and emoji, and one fifth long voicemail-style transcripts
(1-2k characters). The baseline is one compiled regex of every lexicon phrase run over the same texts.
Run by `make bench`, not by pytest.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from triage.engine import TriageEngine
from triage.ruleset import load_ruleset

NAMES = ["maria", "john", "linda", "carlos", "dorothy", "frank", "rosa", "kevin", "ana", "george", "mei", "ahmed"]
WHO = ["i", "my mom", "my husband", "my wife", "dad", "mi mama", "mi esposo", "she", "he", "my daughter"]
SYMPTOMS = [
    "has a fever of {t}",
    "temp is {t}",
    "threw up {n} times",
    "{n} loose stools today",
    "chills all night",
    "gums bleeding",
    "no fever but feels tired",
    "mouth sores, can still eat",
    "pain is {p}/10",
    "short of breath walking",
    "diarrea {n} veces",
    "tiene fiebre de {tc}",
    "me falta el aire",
    "cough since yesterday",
    "rash on arms",
    "feaver and chils",
    "N/V after chemo",
    "chest feels tight",
    "constipated {n} days",
    "nosebleed stopped quickly",
    "temprature {t}",
    "dolor {p} de 10",
    "feeling dizzy",
    "no appetite",
    "blood in urine",
    "tired all the time",
    "hiccups",
    "legs swollen",
    "can't keep water down",
    "ya no tengo fiebre",
    "had a fever last week fine now",
    "bp {bp}",
    "🤒 {t}",
]
ADMIN = [
    "can i move my appointment to {day}",
    "is my refill ready",
    "what time is my appt",
    "thanks so much",
    "question about the ${money} copay",
    "running {n} min late",
    "necesito cambiar mi cita del {day}",
    "gracias",
    "ok see you {day}",
    "room {room} or {room2}?",
    "STOP",
    "do you take aetna",
    "👍",
]
FILLER = [
    "um so",
    "she had her treatment on {day} and",
    "we went to the store and",
    "the pharmacy called and",
    "she ate a little soup",
    "he watched tv for a while",
    "i know the nurse said to call",
    "uh",
    "my sister came over",
    "we checked the calendar",
    "it's cycle {n} day {n2}",
    "my number is 555 {room} {phone}",
    "i'm not sure if it matters but",
    "anyway",
    "pues la verdad",
    "she's been sleeping a lot",
    "the doctor said things look good",
    "we have an appointment on the {n2}th",
]
OPENERS = [
    "hi",
    "hello this is {name},",
    "good evening,",
    "sorry to bother you",
    "hola, soy {name}.",
    "quick question,",
]
CLOSERS = [" please call me back", " thanks!", ". gracias", " when you get a chance", " thx", ". is that normal?"]
DAYS = ["monday", "tuesday", "thursday", "friday", "lunes", "jueves"]


def _fill(rng: random.Random, template: str) -> str:
    return template.format(
        name=rng.choice(NAMES),
        t=f"{rng.uniform(97.0, 104.0):.1f}",
        tc=f"{rng.uniform(36.0, 40.0):.1f}".replace(".", rng.choice([".", ","])),
        n=rng.randint(1, 12),
        n2=rng.randint(1, 28),
        p=rng.randint(1, 10),
        bp=f"{rng.randint(90, 150)}/{rng.randint(55, 95)}",
        day=rng.choice(DAYS),
        money=f"{rng.randint(10, 400)}.{rng.randint(0, 99):02d}",
        room=rng.randint(100, 999),
        room2=rng.randint(100, 999),
        phone=rng.randint(1000, 9999),
    )


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 6 or rng.random() > 0.3:
        return text
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1 :]


def workload(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(n):
        if rng.random() < 0.2:
            parts = [f"hi this is {rng.choice(NAMES)} calling about {rng.choice(WHO)}"]
            target = rng.randint(1000, 2000)
            while sum(len(p) + 1 for p in parts) < target:
                parts.append(_typo(rng, _fill(rng, rng.choice(FILLER))))
            parts.append(_fill(rng, rng.choice(SYMPTOMS)))
            out.append(" ".join(parts))
        else:
            k = rng.choice((2, 3, 3, 3, 4))
            bits = [_typo(rng, _fill(rng, rng.choice(SYMPTOMS if rng.random() < 0.6 else ADMIN))) for _ in range(k)]
            prefix = _fill(rng, rng.choice(OPENERS)) + " " if rng.random() < 0.6 else ""
            prefix += rng.choice(WHO) + " " if rng.random() < 0.3 else ""
            closer = rng.choice(CLOSERS) if rng.random() < 0.5 else rng.choice(["", ".", "?"])
            out.append(prefix + ", ".join(bits) + closer)
    return out


def baseline_regex() -> re.Pattern[str]:
    rs = load_ruleset()
    words = sorted(rs.lexicon.phrase_terms, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    texts = workload(args.messages, args.seed)
    lengths = sorted(len(t) for t in texts)
    long_share = sum(1 for t in texts if len(t) >= 1000) / len(texts)
    short = [n for n in lengths if n < 1000]
    print(
        f"workload: {len(texts)} messages, {len(set(texts))} distinct, median {statistics.median(lengths):.0f} "
        f"chars (short ones {statistics.median(short):.0f}), {100 * long_share:.0f}% long transcripts"
    )

    engine = TriageEngine()
    pattern = baseline_regex()

    # cold: first pass over text the fuzzy cache has never seen
    t0 = time.perf_counter()
    for t in texts:
        engine.assess(t)
    cold = len(texts) / (time.perf_counter() - t0)

    best_engine = 0.0
    best_base = 0.0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for t in texts:
            engine.assess(t)
        best_engine = max(best_engine, len(texts) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for t in texts:
            pattern.findall(t.lower())
        best_base = max(best_base, len(texts) / (time.perf_counter() - t0))

    # per kind of message (printed only; the figures above are the benchmark)
    per_kind: dict[str, float] = {}
    for kind, group in (("short", [t for t in texts if len(t) < 1000]), ("long", [t for t in texts if len(t) >= 1000])):
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for t in group:
                engine.assess(t)
            best = min(best, (time.perf_counter() - t0) / max(1, len(group)))
        per_kind[kind] = best * 1e6

    compiled = Path(sys.modules[TriageEngine.__module__].__file__ or "").suffix != ".py"
    print(f"python {sys.version.split()[0]}, triage modules {'compiled' if compiled else 'pure Python'}, one core")
    print(f"engine   (cold cache): {cold:>10,.0f} msgs/s  (first pass: fuzzy cache empty)")
    print(f"engine   (warm)      : {best_engine:>10,.0f} msgs/s  (best of {args.repeat})")
    print(f"baseline (one regex) : {best_base:>10,.0f} msgs/s  (best of {args.repeat})")
    print(f"ratio engine/baseline: {best_engine / best_base:.2f}")
    print(f"per message (warm)   : short {per_kind['short']:.1f} us, long transcripts {per_kind['long']:.1f} us")
    print(f"goal >= 20,000 msgs/s: {'met' if best_engine >= 20000 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
