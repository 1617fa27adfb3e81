"""Paging texts: every staff text is ASCII, GSM-7 and one segment; patient texts say the right numbers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from triage import wording as w
from triage.wording import SMS_SEGMENT, Severity

IDS = [1, 42, 9999, 123456789, 999999999]
SEVERITIES: list[Severity] = ["urgent", "emergency"]
LANGUAGES = ["en", "es"]
PRACTICES = [
    None,
    "",
    "Mesa Oncology",
    "Clínica Oncológica «San José» — Hematología y Oncología del Valle de San Fernando, S.A.",
    "A" * 300,
    "`Back{tick}` [brackets] ~tilde~ ^caret^ | pipe \\ €",
]


def assert_staff_sms(text: str) -> None:
    assert text.isascii(), text
    assert w.is_gsm7(text), text
    assert w.gsm7_length(text) == len(text), text  # nothing from the GSM-7 extension table
    assert len(text) <= SMS_SEGMENT, (len(text), text)
    assert w.sms_segments(text) == 1
    assert text == text.strip()
    assert "  " not in text


def test_the_example_page() -> None:
    assert w.nurse_page_sms(42, "urgent") == (
        "Careline URGENT #42: patient callback needed. Reply 42A to take it, 42E to escalate, 42C to close."
    )


def test_emergency_page() -> None:
    text = w.nurse_page_sms(42, "emergency")
    assert text.startswith("Careline EMERGENCY #42: ")
    assert "Reply 42A to take it, 42E to escalate, 42C to close." in text


def test_spanish_page() -> None:
    text = w.nurse_page_sms(42, "urgent", "es")
    assert text.startswith("Careline URGENTE #42: ")
    assert "42A para tomarlo" in text


def test_practice_name_is_included_when_it_fits() -> None:
    text = w.nurse_page_sms(42, "urgent", practice_name="Clínica Mesa")
    assert text.startswith("Careline (Clinica Mesa) URGENT #42: ")


@pytest.mark.parametrize("escalation_id", IDS)
@pytest.mark.parametrize("severity", SEVERITIES)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("practice", PRACTICES)
def test_every_nurse_page_is_one_ascii_segment_with_the_ack_code(
    escalation_id: int, severity: Severity, language: str, practice: str | None
) -> None:
    text = w.nurse_page_sms(escalation_id, severity, language, practice)
    assert_staff_sms(text)
    assert f"{escalation_id}A " in text
    assert f"#{escalation_id}:" in text
    assert_staff_sms(w.out_of_steps_alert(escalation_id, severity, language, practice))


@pytest.mark.parametrize("escalation_id", IDS)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "reply",
    [
        w.nurse_reply_acked,
        w.nurse_reply_not_yours,
        w.nurse_reply_not_found,
        w.nurse_reply_closed,
        w.nurse_reply_escalated,
        w.nurse_reply_already_taken,
        lambda n, lang: w.nurse_reply_already_taken(n, lang, "Ana María de la Santísima Trinidad " * 5),
        lambda n, lang: w.nurse_reply_which([n, 7, 8], lang),
        lambda n, lang: w.nurse_reply_which([n] * 200, lang),
    ],
)
def test_every_reply_to_nurses_is_one_ascii_segment(
    escalation_id: int, language: str, reply: Callable[[int, str], str]
) -> None:
    text = reply(escalation_id, language)
    assert_staff_sms(text)
    assert f"#{escalation_id}" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_fixed_staff_texts(language: str) -> None:
    assert_staff_sms(w.nurse_help(language))
    assert_staff_sms(w.nurse_reply_none_open(language))


def test_reply_wording() -> None:
    assert w.nurse_reply_acked(42) == "Careline: #42 is yours; paging stopped. Reply 42C to close it when done."
    assert "another nurse (Ana Maria)" in w.nurse_reply_already_taken(42, "en", "Ana María")
    assert "another nurse." in w.nurse_reply_already_taken(42)
    assert "not assigned to you" in w.nurse_reply_not_yours(42)
    assert "no open page #42" in w.nurse_reply_not_found(42)
    assert w.nurse_reply_closed(42, "es") == "Careline: #42 cerrado. Gracias."
    assert "escalated" in w.nurse_reply_escalated(42)
    which = w.nurse_reply_which(list(range(100, 150)))
    assert which.startswith("Careline: you have 50 open pages: #100, #101")
    assert "more)" in which


def test_out_of_steps_alert() -> None:
    text = w.out_of_steps_alert(42, "emergency", practice_name="Mesa Oncology")
    assert text.startswith("Careline (Mesa Oncology) EMERGENCY #42: no one acknowledged")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("severity", SEVERITIES)
def test_voice_page_asks_for_a_keypress(language: str, severity: Severity) -> None:
    text = w.nurse_page_voice(42, severity, language, "Mesa Oncology")
    assert "42" in text
    assert "Mesa Oncology" in text
    assert ("Press 1 to acknowledge" if language == "en" else "Presione 1") in text
    if severity == "emergency":
        assert "9 1 1" in text  # spelled out so text-to-speech does not say "nine hundred eleven"


def test_patient_emergency() -> None:
    en = w.patient_emergency("Mesa Oncology")
    assert en == "Mesa Oncology: Please call 911 now. We have alerted your care team."
    es = w.patient_emergency("Mesa Oncology", "es")
    assert "Llame al 911 ahora" in es
    assert "equipo de atención" in es
    for text in (w.patient_emergency("Mesa", lang, suicide_risk=True) for lang in LANGUAGES):
        assert "988" in text
        assert "911" in text
    assert "oprima 2 para español" in w.patient_emergency("Mesa", "es", suicide_risk=True)
    assert "988" not in en


def test_patient_urgent() -> None:
    text = w.patient_urgent("Mesa Oncology", "+16175550123", 20)
    assert text == (
        "Mesa Oncology: A nurse has been paged and will call you within 20 minutes. "
        "If it gets worse, call 911. If no one calls, call (617) 555-0123."
    )
    es = w.patient_urgent("Mesa Oncology", "+16175550123", 15, "es-MX")
    assert "15 minutos" in es
    assert "911" in es
    with pytest.raises(ValueError, match="minutes"):
        w.patient_urgent("Mesa", "+16175550123", 0)


def test_patient_after_hours() -> None:
    text = w.patient_after_hours("Mesa Oncology", "+16175550123", "Monday at 8:00 AM")
    assert "your care team will answer Monday at 8:00 AM." in text
    assert "911" in text
    assert "(617) 555-0123" in text
    es = w.patient_after_hours("Mesa Oncology", "+16175550123", "el lunes a las 8:00", "es")
    assert "le responderá el lunes a las 8:00." in es
    with pytest.raises(ValueError, match="next_opening"):
        w.patient_after_hours("Mesa", "+16175550123", " ")


def test_patient_texts_carry_no_patient_data_arguments() -> None:
    """The signatures themselves keep PHI out: only practice data, numbers of minutes and the language."""
    import inspect

    for fn in (w.patient_emergency, w.patient_urgent, w.patient_after_hours):
        assert set(inspect.signature(fn).parameters) <= {
            "practice_name",
            "practice_phone",
            "minutes",
            "next_opening",
            "language",
            "suicide_risk",
        }


def test_language_fallback() -> None:
    assert w.language_of("es") == "es"
    assert w.language_of("ES_us") == "es"
    assert w.language_of("fr") == "en"
    assert w.language_of("") == "en"
    assert w.language_of(None) == "en"
    assert w.patient_emergency("Mesa", "pt") == w.patient_emergency("Mesa", "en")


def test_bad_arguments() -> None:
    for bad in (0, -1, True):
        with pytest.raises(ValueError, match="escalation_id"):
            w.nurse_page_sms(bad, "urgent")
    with pytest.raises(ValueError, match="severity"):
        w.nurse_page_sms(42, "routine")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="practice_name"):
        w.patient_emergency("  ")
    with pytest.raises(ValueError, match="two or more"):
        w.nurse_reply_which([42])


def test_segments() -> None:
    assert w.sms_segments("a" * 160) == 1
    assert w.sms_segments("a" * 161) == 2
    assert w.sms_segments("[" * 80) == 1
    assert w.sms_segments("[" * 81) == 2
    assert w.sms_segments("á" * 70) == 1  # not GSM-7: UCS-2
    assert w.sms_segments("á" * 71) == 2
    assert w.sms_segments("ñé" * 80) == 1  # ñ and é are GSM-7
    with pytest.raises(ValueError, match="GSM-7"):
        w.gsm7_length("á")


def test_display_phone() -> None:
    assert w.display_phone("+16175550123") == "(617) 555-0123"
    assert w.display_phone("+442079460958") == "+44 20 7946 0958"
    assert w.display_phone("not a number") == "not a number"
