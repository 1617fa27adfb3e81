"""Every text the paging path sends, in English and Spanish. No PHI: no patient names, numbers or symptoms.

Pure. Each function takes the language ('en' or 'es'; anything else, or a region tag like 'es-MX', is
normalised, falling back to English) and, where relevant, the practice's name and phone.

Texts to staff (pages, replies, the out-of-steps alert) are ASCII (Spanish ones are worded so that dropping
the accents changes no meaning), drawn from the GSM-7 basic alphabet and
fit one 160-character SMS segment whatever the escalation number or practice name: the optional parts
(practice name, extra reply codes) are dropped before that limit is crossed. Texts to patients are proper
Spanish with accents, which Twilio sends as UCS-2; use `sms_segments` to see what they cost.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from typing import Literal

import phonenumbers

Language = Literal["en", "es"]
Severity = Literal["urgent", "emergency"]

BRAND = "Careline"
SMS_SEGMENT = 160
"""Characters in one GSM-7 segment."""

_GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = "^{}\\[~]|€\f"
_GSM7_BASIC_SET = frozenset(_GSM7_BASIC)
_GSM7_EXTENSION_SET = frozenset(_GSM7_EXTENSION)
_STAFF_SAFE = frozenset(c for c in _GSM7_BASIC if " " <= c <= "~")
"""Printable ASCII that costs one GSM-7 character: what staff texts may contain."""

_PRACTICE_IN_PAGE_MAX = 30


# --- encoding helpers ---------------------------------------------------------------------------------------


def language_of(language: str | None) -> Language:
    """'es', 'ES', 'es-MX', 'es_US' -> 'es'; everything else -> 'en'."""
    if language and language.strip().lower().replace("_", "-").split("-")[0] == "es":
        return "es"
    return "en"


def is_gsm7(text: str) -> bool:
    """Whether `text` can be sent in the GSM-7 alphabet (basic plus extension table)."""
    return all(c in _GSM7_BASIC_SET or c in _GSM7_EXTENSION_SET for c in text)


def gsm7_length(text: str) -> int:
    """Septets `text` needs in GSM-7 (extension characters take two). ValueError if not GSM-7."""
    if not is_gsm7(text):
        raise ValueError("text is not GSM-7")
    return sum(2 if c in _GSM7_EXTENSION_SET else 1 for c in text)


def sms_segments(text: str) -> int:
    """How many SMS segments `text` is sent as: GSM-7 160/153 per segment, otherwise UCS-2 70/67."""
    if is_gsm7(text):
        n = gsm7_length(text)
        return 1 if n <= SMS_SEGMENT else math.ceil(n / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def to_staff_ascii(text: str) -> str:
    """`text` reduced to printable ASCII that is also one-septet GSM-7: accents dropped ("Clínica" ->
    "Clinica"), typographic quotes and dashes made plain, anything else removed, whitespace collapsed."""
    plain = (
        text.replace("\u2018", "'")
        .replace("\u2019", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
        .replace("\u2013", "-")
        .replace("\u2014", "-")
    )
    decomposed = unicodedata.normalize("NFKD", plain)
    kept = "".join(c if c in _STAFF_SAFE else " " if c.isspace() else "" for c in decomposed)
    return " ".join(kept.split())


def display_phone(phone: str) -> str:
    """A phone number as a patient would dial it: (617) 555-0123 for US numbers, +44 20 ... otherwise.

    Returns `phone` unchanged if it does not parse.
    """
    try:
        parsed = phonenumbers.parse(phone, "US")
    except phonenumbers.NumberParseException:
        return phone
    if parsed.country_code == 1:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _check_id(escalation_id: int) -> None:
    if isinstance(escalation_id, bool) or not isinstance(escalation_id, int) or escalation_id < 1:
        raise ValueError(f"escalation_id must be a positive integer, got {escalation_id!r}")


def _fit(candidates: Sequence[str]) -> str:
    """The first candidate that, made staff-safe, fits one segment. The last one must always fit."""
    for candidate in candidates:
        text = to_staff_ascii(candidate)
        if len(text) <= SMS_SEGMENT:
            return text
    raise ValueError("no wording fits one SMS segment")  # pragma: no cover - guarded by tests


def _practice_tag(practice_name: str | None) -> str:
    name = to_staff_ascii(practice_name or "")
    if len(name) > _PRACTICE_IN_PAGE_MAX:
        name = name[: _PRACTICE_IN_PAGE_MAX - 3].rstrip() + "..."
    return f" ({name})" if name else ""


# --- pages to nurses ----------------------------------------------------------------------------------------

_SEVERITY_WORD: dict[Language, dict[Severity, str]] = {
    "en": {"urgent": "URGENT", "emergency": "EMERGENCY"},
    "es": {"urgent": "URGENTE", "emergency": "EMERGENCIA"},
}

_PAGE_BODY: dict[Language, dict[Severity, str]] = {
    "en": {
        "urgent": "patient callback needed.",
        "emergency": "patient told to call 911; call them back now.",
    },
    "es": {
        "urgent": "paciente necesita llamada.",
        "emergency": "al paciente se le dijo que llame al 911; llamelo ya.",
    },
}

_PAGE_CODES: dict[Language, tuple[str, str]] = {
    # (short, long); {n} is the escalation number
    "en": ("Reply {n}A to take it.", "Reply {n}A to take it, {n}E to escalate, {n}C to close."),
    "es": ("Responda {n}A para tomarlo.", "Responda {n}A para tomarlo, {n}E para escalar, {n}C para cerrar."),
}


def _severity(severity: Severity) -> Severity:
    if severity not in ("urgent", "emergency"):
        raise ValueError(f"severity must be 'urgent' or 'emergency', got {severity!r}")
    return severity


def nurse_page_sms(
    escalation_id: int,
    severity: Severity,
    language: str = "en",
    practice_name: str | None = None,
) -> str:
    """The page SMS: "Careline URGENT #42: patient callback needed. Reply 42A to take it, 42E to escalate,
    42C to close." ASCII, one segment; the practice name and the E/C codes are dropped if they don't fit."""
    _check_id(escalation_id)
    lang = language_of(language)
    sev = _SEVERITY_WORD[lang][_severity(severity)]
    body = _PAGE_BODY[lang][severity]
    short, long = (c.format(n=escalation_id) for c in _PAGE_CODES[lang])
    tag = _practice_tag(practice_name)
    head = f"{BRAND}{{tag}} {sev} #{escalation_id}: {body}"
    return _fit(
        [
            f"{head.format(tag=tag)} {long}",
            f"{head.format(tag=tag)} {short}",
            f"{head.format(tag='')} {long}",
            f"{head.format(tag='')} {short}",
        ]
    )


def nurse_page_voice(
    escalation_id: int,
    severity: Severity,
    language: str = "en",
    practice_name: str | None = None,
) -> str:
    """What the voice page says (text-to-speech), ending with "press 1 to acknowledge"."""
    _check_id(escalation_id)
    lang = language_of(language)
    practice = (practice_name or "").strip()
    if lang == "es":
        who = f"Le llama {BRAND}" + (f", de {practice}" if practice else "") + "."
        what = {
            "urgent": (f"Aviso urgente, número {escalation_id}: un paciente necesita que le devuelvan la llamada."),
            "emergency": (
                f"Aviso de emergencia, número {escalation_id}: se le indicó al paciente llamar al 9 1 1. Llámelo ahora."
            ),
        }[_severity(severity)]
        return f"{who} {what} Presione 1 para aceptar el aviso."
    who = f"This is {BRAND}" + (f" for {practice}" if practice else "") + "."
    what = {
        "urgent": f"Urgent page, number {escalation_id}: a patient needs a call back.",
        "emergency": (
            f"Emergency page, number {escalation_id}: the patient was told to call 9 1 1. Please call them now."
        ),
    }[_severity(severity)]
    return f"{who} {what} Press 1 to acknowledge."


def out_of_steps_alert(
    escalation_id: int,
    severity: Severity,
    language: str = "en",
    practice_name: str | None = None,
) -> str:
    """SMS to the practice's fallback number when every step of the policy was paged and nobody acked."""
    _check_id(escalation_id)
    lang = language_of(language)
    sev = _SEVERITY_WORD[lang][_severity(severity)]
    tag = _practice_tag(practice_name)
    if lang == "es":
        body = "sin respuesta tras todos los avisos. Un paciente sigue esperando llamada; revise Careline ya."
    else:
        body = "no one acknowledged after every paging step. A patient still needs a callback; check Careline now."
    return _fit([f"{BRAND}{tag} {sev} #{escalation_id}: {body}", f"{BRAND} {sev} #{escalation_id}: {body}"])


# --- replies to nurses --------------------------------------------------------------------------------------


def nurse_help(language: str = "en") -> str:
    """How to reply to a page. Sent in answer to anything unrecognised."""
    if language_of(language) == "es":
        return _fit(
            [
                f"{BRAND}: responda 42A para tomar el aviso #42, 42C para cerrarlo, 42E para escalarlo ya. "
                "Solo A toma su único aviso abierto."
            ]
        )
    return _fit(
        [
            f"{BRAND}: reply 42A to take page #42, 42C to close it, 42E to escalate it now. "
            "A alone takes your only open page."
        ]
    )


def _reply(en: str, es: str) -> Callable[[int, str], str]:
    def render(escalation_id: int, language: str = "en") -> str:
        _check_id(escalation_id)
        template = es if language_of(language) == "es" else en
        return _fit([f"{BRAND}: " + template.format(n=escalation_id)])

    return render


_acked = _reply(
    "#{n} is yours; paging stopped. Reply {n}C to close it when done.",
    "el #{n} es suyo; se detuvieron los avisos. Responda {n}C para cerrarlo al terminar.",
)
_not_yours = _reply(
    "#{n} is not assigned to you, so nothing changed.",
    "el #{n} no está asignado a usted; no se cambió nada.",
)
_not_found = _reply(
    "there is no open page #{n}. Check the number; nothing changed.",
    "no hay un aviso abierto #{n}. Revise el número; no se cambió nada.",
)
_closed = _reply("#{n} closed. Thank you.", "#{n} cerrado. Gracias.")
_escalated = _reply(
    "#{n} escalated; the next on-call step is being paged now.",
    "#{n} escalado; se está avisando al siguiente nivel de guardia.",
)


def nurse_reply_acked(escalation_id: int, language: str = "en") -> str:
    """Ack succeeded: the page is theirs and paging stopped."""
    return _acked(escalation_id, language)


def nurse_reply_already_taken(escalation_id: int, language: str = "en", taken_by: str | None = None) -> str:
    """Someone else acked first. `taken_by` (a staff display name, not PHI) is included if it fits."""
    _check_id(escalation_id)
    who = to_staff_ascii(taken_by or "")[:40].strip()
    if language_of(language) == "es":
        base = f"{BRAND}: el #{escalation_id} ya fue tomado por otra enfermera"
        end = " No tiene que hacer nada."
        return _fit(([f"{base} ({who}).{end}"] if who else []) + [f"{base}.{end}"])
    base = f"{BRAND}: #{escalation_id} was already taken by another nurse"
    end = " No action needed."
    return _fit(([f"{base} ({who}).{end}"] if who else []) + [f"{base}.{end}"])


def nurse_reply_not_yours(escalation_id: int, language: str = "en") -> str:
    """The sender was not paged for this escalation."""
    return _not_yours(escalation_id, language)


def nurse_reply_not_found(escalation_id: int, language: str = "en") -> str:
    """No open escalation with that number (unknown, or already closed)."""
    return _not_found(escalation_id, language)


def nurse_reply_closed(escalation_id: int, language: str = "en") -> str:
    """The escalation is closed."""
    return _closed(escalation_id, language)


def nurse_reply_escalated(escalation_id: int, language: str = "en") -> str:
    """The next step is being paged now."""
    return _escalated(escalation_id, language)


def nurse_reply_which(open_ids: Sequence[int], language: str = "en") -> str:
    """A bare "A" (or C, E) while several escalations are open to the sender: list them."""
    ids = list(open_ids)
    if len(ids) < 2:
        raise ValueError("nurse_reply_which is for two or more open escalations")
    for i in ids:
        _check_id(i)
    es = language_of(language) == "es"
    candidates = []
    for shown in range(len(ids), 0, -1):
        listed = ", ".join(f"#{i}" for i in ids[:shown])
        more = len(ids) - shown
        if more:
            listed += f" (+{more} más)" if es else f" (+{more} more)"
        if es:
            candidates.append(
                f"{BRAND}: tiene {len(ids)} avisos abiertos: {listed}. Responda con el número, p. ej. {ids[0]}A."
            )
        else:
            candidates.append(
                f"{BRAND}: you have {len(ids)} open pages: {listed}. Reply with the number, e.g. {ids[0]}A."
            )
    return _fit(candidates)


def nurse_reply_none_open(language: str = "en") -> str:
    """A bare "A" (or C, E) while nothing is open to the sender."""
    if language_of(language) == "es":
        return _fit([f"{BRAND}: no tiene avisos abiertos; no se cambió nada."])
    return _fit([f"{BRAND}: you have no open pages, so nothing changed."])


# --- messages to patients -----------------------------------------------------------------------------------


def _name(practice_name: str) -> str:
    name = " ".join(practice_name.split())
    if not name:
        raise ValueError("practice_name must not be empty")
    return name


def patient_emergency(practice_name: str, language: str = "en", *, suicide_risk: bool = False) -> str:
    """Call 911 now (988 and 911 for suicide risk), and the care team was alerted."""
    name = _name(practice_name)
    if language_of(language) == "es":
        if suicide_risk:
            return (
                f"{name}: Llame o envíe un texto al 988 (Línea de Prevención del Suicidio y Crisis; oprima 2 "
                "para español) ahora mismo. Si está en peligro inmediato, llame al 911. "
                "Ya avisamos a su equipo de atención."
            )
        return f"{name}: Llame al 911 ahora mismo. Ya avisamos a su equipo de atención."
    if suicide_risk:
        return (
            f"{name}: Please call or text 988 (Suicide & Crisis Lifeline) now. "
            "If you are in immediate danger, call 911. We have alerted your care team."
        )
    return f"{name}: Please call 911 now. We have alerted your care team."


def patient_urgent(practice_name: str, practice_phone: str, minutes: int, language: str = "en") -> str:
    """A nurse was paged and will call within `minutes`; if it gets worse call 911."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
        raise ValueError(f"minutes must be a positive integer, got {minutes!r}")
    name = _name(practice_name)
    phone = display_phone(practice_phone)
    if language_of(language) == "es":
        return (
            f"{name}: Avisamos a una enfermera; le llamará en los próximos {minutes} minutos. "
            f"Si se siente peor, llame al 911. Si nadie le llama, llame al {phone}."
        )
    return (
        f"{name}: A nurse has been paged and will call you within {minutes} minutes. "
        f"If it gets worse, call 911. If no one calls, call {phone}."
    )


def patient_after_hours(practice_name: str, practice_phone: str, next_opening: str, language: str = "en") -> str:
    """Routine message after hours: when the care team will answer.

    `next_opening` is the next business-hours opening, already formatted in the practice's zone and the
    patient's language by the caller, e.g. "Monday at 8:00 AM" / "el lunes a las 8:00".
    """
    name = _name(practice_name)
    opening = " ".join(next_opening.split())
    if not opening:
        raise ValueError("next_opening must not be empty")
    phone = display_phone(practice_phone)
    if language_of(language) == "es":
        return (
            f"{name}: Recibimos su mensaje. La oficina está cerrada; su equipo de atención le responderá "
            f"{opening}. Si empeora o no puede esperar, llame al {phone}. En una emergencia, llame al 911."
        )
    return (
        f"{name}: We got your message. The office is closed; your care team will answer {opening}. "
        f"If it gets worse or can't wait, call {phone}. In an emergency, call 911."
    )
