"""Consent keywords and natural revocations (pure).

Twilio's keywords count only as the whole message ("STOP", not "stop by tomorrow"). Consent may also be revoked
"by any reasonable means" (FCC 24-18), so natural phrasings in English and Spanish revoke too. "Cancel my
appointment" is a scheduling request, not an opt-out: only a bare CANCEL opts out.
"""

from __future__ import annotations

import enum
import re
import unicodedata


class ConsentAction(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


OPT_OUT_KEYWORDS = frozenset(
    {
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "revoke",
        "optout",
        "alto",
        "parar",
        "detener",
    }
)
OPT_IN_KEYWORDS = frozenset({"start", "yes", "unstop", "subscribe", "iniciar"})
HELP_KEYWORDS = frozenset({"help", "info", "ayuda"})

_NATURAL_OPT_OUT = re.compile(
    r"""
    \b(?:
        stop\s+(?:texting|messaging|sending|contacting)(?:\s+me)?
      | (?:please\s+)?(?:no|don'?t\s+send(?:\s+me)?\s+any)\s+more\s+(?:texts?|messages?|sms)
      | unsubscribe\s+me
      | (?:take|remove)\s+me\s+off\s+(?:the\s+|your\s+)?(?:list|texts?)
      | opt\s*(?:me\s+)?out
      | i\s+don'?t\s+want\s+(?:any\s+more\s+|these\s+|your\s+)?(?:texts?|messages?)
      | no\s+mas\s+(?:mensajes|textos)
      | (?:dejen|deja|dejar)\s+de\s+(?:mandarme|enviarme|escribirme|mandar|enviar)
      | no\s+(?:me\s+)?(?:manden|envien|mande|envie)\s+mas\s+(?:mensajes|textos)
      | ya\s+no\s+quiero\s+(?:recibir\s+)?(?:mensajes|textos)
    )\b
    """,
    re.VERBOSE,
)


def _fold(text: str) -> str:
    """Lower-case, strip accents, curly quotes to straight ones."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def classify_consent(text: str) -> ConsentAction | None:
    folded = _fold(text).strip()
    bare = re.sub(r"[\s.!¡?¿,;:\"'()*]+", "", folded)
    if bare in OPT_OUT_KEYWORDS:
        return ConsentAction.OPT_OUT
    if bare in OPT_IN_KEYWORDS:
        return ConsentAction.OPT_IN
    if bare in HELP_KEYWORDS:
        return ConsentAction.HELP
    if _NATURAL_OPT_OUT.search(folded):
        return ConsentAction.OPT_OUT
    return None


def is_bare_keyword(text: str) -> bool:
    """True when the whole message is a consent keyword (nothing else in it to triage)."""
    bare = re.sub(r"[\s.!¡?¿,;:\"'()*]+", "", _fold(text))
    return bare in OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS | HELP_KEYWORDS


def is_ambiguous_opt_in(text: str) -> bool:
    """YES opts back in only when the number is opted out; otherwise it answers a question."""
    return re.sub(r"[\s.!¡?¿,;:\"'()*]+", "", _fold(text)) in {"yes"}


def opt_out_confirmation(practice: str, lang: str) -> str:
    if lang == "es":
        return f"{practice}: ya no recibirá mensajes de texto. Responda START para volver a recibirlos."
    return f"{practice}: You are unsubscribed and will get no more texts. Reply START to resubscribe."


def opt_in_confirmation(practice: str, lang: str) -> str:
    if lang == "es":
        return f"{practice}: volverá a recibir mensajes. Responda STOP para dejar de recibirlos."
    return f"{practice}: You are subscribed again. Reply STOP to opt out."


def help_text(practice: str, phone: str, lang: str) -> str:
    if lang == "es":
        return f"{practice}: para ayuda llame al {phone}. Emergencias: 911. Responda STOP para no recibir más mensajes."
    return f"{practice}: for help call {phone}. Emergencies: call 911. Reply STOP to opt out."
