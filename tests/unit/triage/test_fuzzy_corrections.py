"""The fuzzy corrector both ways: ordinary words (and their inflections) stay as they are, real typos are read.

Regression: "Dejen de mandarme mensajes por favor" (an opt-out) was EMERGENCY suicide_active, "mandarme" (send
me) read as "matarme" (kill myself), two edits apart. Two edits are now allowed only for long words, and the
guard holds the inflected forms of Spanish verbs in use (clitics, conjugations, plurals), built by
triage/rules/build_fuzzy_guard.py.
"""

from __future__ import annotations

import pytest

from triage.engine import Level, TriageEngine

ENGINE = TriageEngine()


def test_spanish_opt_out_with_a_clitic_verb_is_not_an_emergency() -> None:
    result = ENGINE.assess("Dejen de mandarme mensajes por favor")
    assert result.level < Level.URGENT, result.explain()
    assert result.corrections == ()
    assert "call_911" not in result.flags


@pytest.mark.parametrize(
    "text",
    [
        "dejen de mandarme mensajes",  # mandar + me, not matarme
        "pueden llamarme manana",
        "quiero ahorrarme el viaje",  # ahorrar + me, not ahorcarme
        "espero que se sanara pronto",  # sanar, not sangra
        "mandame la receta",
        "dejenme saber",
        "tuvo dos accidentes en el carro",
        "mi esposo dice que roncas mucho",  # roncar, not ronchas
        "los ninos chillan mucho",  # chillar, not chills
        "abogando por ella",  # abogar, not ahogando
        "i never got the letter",
        "fewer questions this time",
    ],
)
def test_real_words_and_inflections_are_not_corrected_into_symptoms(text: str) -> None:
    result = ENGINE.assess(text)
    assert result.corrections == (), result.explain()
    assert result.level < Level.URGENT, result.explain()


@pytest.mark.parametrize(
    ("text", "symptom", "level"),
    [
        ("i have a feaver", "fever", Level.ROUTINE),
        ("temprature 101.3", "fever", Level.URGENT),
        ("tempature is 101.5", "fever", Level.URGENT),
        ("diarea since this morning", "diarrhea", Level.ROUTINE),
        ("diahrea all day", "diarrhea", Level.ROUTINE),
        ("vomitting all day", "vomiting", Level.ROUTINE),
        ("i feel sucidal", "suicide_risk", Level.EMERGENCY),
        ("gums bleding", "gum_bleeding", Level.URGENT),
        ("tengo dolor de pexho", "chest_pain", Level.EMERGENCY),
        ("dolr de pecho", "chest_pain", Level.EMERGENCY),
        ("quiero mattarme", "suicide_risk", Level.EMERGENCY),
        ("hemorage from my nose", "bleeding", Level.ROUTINE),
        ("he is confussed", "confusion", Level.URGENT),
    ],
)
def test_real_typos_are_still_corrected(text: str, symptom: str, level: Level) -> None:
    result = ENGINE.assess(text)
    assert result.corrections, result.explain()
    assert symptom in result.symptoms, result.explain()
    assert result.level >= level, result.explain()


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("tiene crisis convulsivas", Level.EMERGENCY),
        ("la encontramos desmayada", Level.EMERGENCY),
        ("esta muy confuso hoy", Level.URGENT),
        ("tiene delirios", Level.URGENT),
    ],
)
def test_spanish_symptom_words_once_caught_only_by_a_lucky_correction(text: str, level: Level) -> None:
    assert ENGINE.assess(text).level >= level
