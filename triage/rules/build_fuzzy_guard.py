"""Rebuild triage/rules/fuzzy_guard.json: ordinary words that must never be "corrected" into a lexicon word.

Run after changing the lexicon or the corrector (a developer tool, not used at run time):

    .venv/bin/python -m triage.rules.build_fuzzy_guard /usr/share/dict/american-english /usr/share/dict/spanish

It keeps only the words the fuzzy matcher would otherwise rewrite ("never" is not "fever", "fewer" is not
"fever"), so the shipped list stays small. The Spanish word list has lemmas only (infinitives, masculine
singulars), so the inflected forms patients actually type are generated here: regular conjugations of every
-ar/-er/-ir verb with the common stem changes and spelling changes, infinitives, gerunds and imperatives with
enclitic pronouns ("mandarme", "dejenme", "diciendole"), plurals and feminines. Verbs whose forms are lexicon
words ("matar", "vomitar", "sangrar") are symptom verbs and are left out: their forms must stay correctable.

    .venv/bin/python -m triage.rules.build_fuzzy_guard --sweep DICT... [--bare]

lists every dictionary word and generated form that the shipped corrector (or, with --bare, the corrector
without a guard) rewrites into a lexicon word, with the highest level that word can reach on its own.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path

from triage.engine import Level, TriageEngine
from triage.lexicon import FuzzyCorrector, normalize_phrase
from triage.ruleset import CompiledRuleset, load_ruleset

__all__ = ["build", "dictionary_words", "spanish_forms", "sweep"]

_CLITICS = ("me", "te", "se", "lo", "la", "le", "nos", "los", "las", "les")
_DOUBLE = tuple(a + b for a in ("me", "te", "se", "nos") for b in ("lo", "la", "los", "las"))


# A few frequent irregular forms the regular tables cannot produce (four letters and more: shorter ones are never
# corrected).
def _wordlist(words: str) -> tuple[str, ...]:
    return tuple(words.split())


_IRREGULAR = _wordlist(
    "tengo tienes tiene tienen tuve tuvo tuvieron tenia tenian estoy estas estan estuve estuvo estuvieron "
    "somos eres fueron fuimos iban ibamos vamos hago haces hace hacen hice hizo hicieron puedo puedes puede pueden "
    "pude pudo quiero quieres quiere quieren quise quiso digo dices dice dicen dije dijo dijeron doy dieron "
    "sabe saben supo pongo pone ponen puso vengo viene vienen vino vinieron veia salgo traigo trae traje trajo "
    "oigo oye oyes oyen hubo habia habian hemos sigo sigue siguen pienso piensa piensan pido pide piden pidio"
)
# Verbs whose stressed stem changes (pensar -> pienso, volver -> vuelvo, pedir -> pido), and their compounds
# (devolver, consentir). Applying the change to every verb would invent forms that are really typos ("mieo").
_STEM_CHANGING = _wordlist(
    "pensar cerrar empezar comenzar despertar sentar calentar negar regar acertar atravesar confesar gobernar "
    "helar manifestar merendar nevar quebrar recomendar temblar tropezar contar costar encontrar mostrar probar "
    "recordar sonar volar acostar almorzar colgar rogar soltar jugar querer entender perder defender encender "
    "extender tender poder volver mover llover morder oler resolver torcer cocer sentir mentir preferir "
    "advertir convertir divertir herir hervir dormir pedir servir repetir medir vestir seguir elegir corregir "
    "competir impedir despedir reir freir decir"
)


def _accentless(word: str) -> str:
    return normalize_phrase(word)


def _before_e(stem: str) -> str:
    """Spelling change of an -ar stem before e: busc-é -> busqué, pag-é -> pagué, empez-é -> empecé."""
    if stem.endswith("c"):
        return stem[:-1] + "qu"
    if stem.endswith("g"):
        return stem[:-1] + "gu"
    if stem.endswith("z"):
        return stem[:-1] + "c"
    return stem


def _before_ao(stem: str) -> str:
    """Spelling change of an -er/-ir stem before a or o: venc-o -> venzo, coj-o -> cojo, sig-o -> sigo."""
    if stem.endswith("gu"):
        return stem[:-1]
    if stem.endswith("c") and not stem.endswith("ec"):
        return stem[:-1] + "z"
    if stem.endswith("g"):
        return stem[:-1] + "j"
    return stem


def _stem_changes(stem: str, infinitive: str) -> list[str]:
    """The stem and, for a stem-changing verb, its e->ie, e->i, o->ue, u->ue variants on the last vowel."""
    out = [stem]
    if not any(infinitive.endswith(v) for v in _STEM_CHANGING):
        return out
    for i in range(len(stem) - 1, -1, -1):
        ch = stem[i]
        if ch in "aeiou":
            if ch == "e":
                out.append(stem[:i] + "ie" + stem[i + 1 :])
                if infinitive.endswith("ir"):  # pedir -> pido; regar is never rigo
                    out.append(stem[:i] + "i" + stem[i + 1 :])
            elif ch in "ou":
                out.append(stem[:i] + "ue" + stem[i + 1 :])
            break
    return out


def _with_clitics(base: str) -> Iterator[str]:
    for c in _CLITICS + _DOUBLE:
        yield base + c


def spanish_forms(lemma: str) -> set[str]:
    """Regular inflections of a Spanish lemma, accents stripped (over-generation is harmless here)."""
    w = _accentless(lemma)
    out: set[str] = {w}
    if not w.isalpha() or len(w) < 4:
        return out
    # nouns and adjectives: plural, feminine
    if w[-1] in "aeiou":
        out.add(w + "s")
    elif w.endswith("z"):
        out.add(w[:-1] + "ces")
    else:
        out.add(w + "es")
    if w.endswith("o"):
        out |= {w[:-1] + "a", w[:-1] + "as"}
    if w[-2:] not in ("ar", "er", "ir") or lemma[:-2] != _accentless(lemma[:-2]):
        return out  # not an infinitive: "vómer", "cáncer" and "líder" are stressed before the ending
    stem, kind = w[:-2], w[-2:]
    strong = _stem_changes(stem, w)  # stressed-stem forms: present 1s/2s/3s/3p, subjunctive, imperatives
    if kind == "ar":
        e_stem = _before_e(stem)
        e_strong = [_before_e(s) for s in strong]
        weak = [stem + x for x in ("amos", "ais", "aste", "asteis", "aron", "ado", "ada", "ados", "adas", "ando")]
        weak += [stem + x for x in ("aba", "abas", "abamos", "abais", "aban", "ara", "aras", "aramos", "aran")]
        weak += [stem + x for x in ("ase", "ases", "asen", "ad")]
        weak += [e_stem + x for x in ("e", "emos", "eis")]
        strong_forms = [s + x for s in strong for x in ("o", "as", "a", "an")]
        strong_forms += [s + x for s in e_strong for x in ("e", "es", "en")]
        imperatives = [*(s + "a" for s in strong), *(s + "e" for s in e_strong), *(s + "en" for s in e_strong)]
        imperatives.append(e_stem + "emos")
        gerund = stem + "ando"
    else:
        ao_stem = _before_ao(stem)
        ao_strong = [_before_ao(s) for s in strong]
        v = "e" if kind == "er" else "i"
        weak = [stem + x for x in (v + "mos", v + "is", "i", "iste", "io", "isteis", "ieron", "ido", "ida")]
        weak += [stem + x for x in ("idos", "idas", "iendo", "yendo", "yo", "yeron", "ia", "ias", "iamos", "ian")]
        weak += [stem + x for x in ("iera", "ieras", "ieramos", "ieran", "iese", "ieses", "iesen", v + "d")]
        weak += [ao_stem + x for x in ("amos", "ais")]
        strong_forms = [s + x for s in strong for x in ("es", "e", "en")]
        strong_forms += [s + x for s in ao_strong for x in ("o", "a", "as", "an")]
        strong_forms += [s + "zco" for s in strong if s.endswith("c")]  # conozco, parezco
        imperatives = [*(s + "e" for s in strong), *(s + "a" for s in ao_strong), *(s + "an" for s in ao_strong)]
        imperatives.append(ao_stem + "amos")
        gerund = stem + "iendo"
        if kind == "ir" and len(strong) > 1:  # pedir -> pidiendo, dormir -> durmiendo, decir -> diciendo
            i = max(stem.rfind("e"), stem.rfind("o"))
            weak.append(stem[:i] + ("i" if stem[i] == "e" else "u") + stem[i + 1 :] + "iendo")
    # future and conditional are built on the infinitive
    weak += [w + x for x in ("e", "as", "a", "emos", "eis", "an", "ia", "ias", "iamos", "iais", "ian")]
    out.update(weak)
    out.update(strong_forms)
    out.update(imperatives)
    gerunds = [g for g in weak if g.endswith("ndo")]
    for base in (w, gerund, *gerunds, *imperatives):
        out.update(_with_clitics(base))
    for base in imperatives:
        if base.endswith("mos"):
            out.add(base[:-1] + "nos")  # vamonos, sentemonos
    return out


def _lines(path: Path) -> Iterator[str]:
    for line in path.read_text(encoding="utf-8", errors="ignore").splitlines():
        word = line.strip()
        if word:
            yield word


def spanish_lemmas_in_use() -> frozenset[str]:
    """Spanish lemmas seen in real text: pyspellchecker's frequency list (from subtitles), above its floor of 50.

    Only these get generated inflections. The word list also holds lemmas nobody writes ("magar", "sagrar",
    "vomer"); their invented forms ("magarme", "sagrando", "vomio") are likelier typos of "matarme", "sangrando"
    and "vomito" than words, and must stay correctable. (pyspellchecker is a build-time tool only:
    `.venv/bin/pip install pyspellchecker`.)
    """
    try:
        data = resources.files("spellchecker").joinpath("resources", "es.json.gz").read_bytes()
    except ModuleNotFoundError as exc:  # pragma: no cover - developer tool
        raise SystemExit("build_fuzzy_guard needs pyspellchecker: .venv/bin/pip install pyspellchecker") from exc
    counts = json.loads(gzip.decompress(data))
    if not isinstance(counts, dict):  # pragma: no cover - the package's own data
        raise SystemExit("unexpected pyspellchecker data")
    return frozenset(_accentless(str(w)) for w, n in counts.items() if isinstance(n, int) and n > _FREQ_FLOOR)


_FREQ_FLOOR = 50


def dictionary_words(
    dictionaries: Iterable[Path], vocabulary: frozenset[str], *, every_lemma: bool = False
) -> set[str]:
    """Every word of the given lists, with generated inflections of the Spanish lemmas in use (of every lemma,
    for a sweep), minus the forms of symptom lemmas."""
    words: set[str] = set()
    in_use = frozenset() if every_lemma else spanish_lemmas_in_use()
    for path in dictionaries:
        spanish = "spanish" in path.name or path.name.startswith("es")
        for line in _lines(path):
            # the English list already holds inflected forms; the Spanish one has lemmas only
            plain = _accentless(line)
            forms = spanish_forms(line) if spanish and (every_lemma or plain in in_use) else {plain}
            if len(forms) > 1 and not forms.isdisjoint(vocabulary):
                # a symptom lemma ("vomitar", "bleed"): its other forms are to be read as the symptom
                words.add(_accentless(line))
                continue
            words |= forms
    words |= set(_IRREGULAR)
    return {w for w in words if len(w) >= 4 and w.isalpha() and w not in vocabulary}


def build(dictionaries: list[Path]) -> list[str]:
    rs = load_ruleset(guard={"words": []})
    bare = FuzzyCorrector(vocabulary=rs.fuzzy.vocabulary, known=rs.fuzzy.known)
    words = dictionary_words(dictionaries, rs.fuzzy.vocabulary)
    protected = {w for w in words if bare.correct_token(w) is not None}
    return sorted(protected)


def _phrase_levels(rs: CompiledRuleset) -> dict[str, str]:
    """For each lexicon word, the highest level a phrase containing it reaches as a message on its own."""
    engine = TriageEngine(ruleset=rs)
    best: dict[str, Level] = {}
    for phrase, terms in rs.lexicon.phrase_terms.items():
        if not terms:
            continue
        level = engine.assess(phrase).level
        for word in phrase.split():
            if word not in best or level > best[word]:
                best[word] = level
    return {w: lv.value for w, lv in best.items()}


def sweep(dictionaries: list[Path], *, bare: bool = False) -> list[tuple[str, str, str, str]]:
    """(word, correction, level of the word as a message on its own, highest level of a phrase using the
    correction) for every dictionary word or generated form that the corrector rewrites."""
    rs = load_ruleset(guard={"words": []}) if bare else load_ruleset()
    engine = TriageEngine(ruleset=rs)
    corrector = rs.fuzzy
    levels = _phrase_levels(rs)
    out: list[tuple[str, str, str, str]] = []
    for word in sorted(dictionary_words(dictionaries, corrector.vocabulary, every_lemma=True)):
        fixed = corrector.correct_token(word)
        if fixed is not None:
            out.append((word, fixed, engine.assess(word).level.value, levels.get(fixed, "none")))
    return out


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--sweep":
        args = [a for a in argv[1:] if a != "--bare"]
        rows = sweep([Path(a) for a in args], bare="--bare" in argv)
        alone: dict[str, int] = {}
        phrase: dict[str, int] = {}
        for word, fixed, level, reach in rows:
            alone[level] = alone.get(level, 0) + 1
            phrase[reach] = phrase.get(reach, 0) + 1
            sys.stdout.write(f"{level}\t{reach}\t{word}\t{fixed}\n")
        sys.stdout.write(f"# {len(rows)} corrected; level of the word alone: {dict(sorted(alone.items()))}\n")
        sys.stdout.write(f"# highest level of a phrase using the correction: {dict(sorted(phrase.items()))}\n")
        return 0
    words = build([Path(a) for a in argv])
    target = Path(__file__).with_name("fuzzy_guard.json")
    payload = {
        "description": "Dictionary words and generated inflections close to a lexicon word; "
        "generated by build_fuzzy_guard.py",
        "words": words,
    }
    target.write_text(json.dumps(payload, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    sys.stdout.write(f"{len(words)} protected words -> {target}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
