"""Phone numbers: parse to E.164 at the edge (phonenumbers), and mask them for logs."""

from __future__ import annotations

import functools

import phonenumbers


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(raw: str, region: str = "US") -> str:
    """Strictly parse a number a person typed or a file holds. Raises InvalidPhoneNumber."""
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=65_536)
def normalize_sender(raw: str, region: str = "US") -> str:
    """Normalise an address Twilio gave us. Short codes and alphanumeric senders are kept as they are.

    Cached: parsing costs ~100 µs on the webhook's hot path, and the same numbers come back again and again
    (our own `To`, each patient's `From`)."""
    raw = raw.strip()
    try:
        return to_e164(raw, region)
    except InvalidPhoneNumber:
        return raw


def mask(phone: str) -> str:
    """`+15551234567` -> `+1******4567`: enough to tell two numbers apart in a log, not enough to dial."""
    if len(phone) <= 4:
        return "*" * len(phone)
    head = 2 if phone.startswith("+") else 0
    return phone[:head] + "*" * max(len(phone) - head - 4, 0) + phone[-4:]


def region_timezone(phone: str, default: str) -> str:
    """A best guess of a number's IANA zone (used when the patient record has none)."""
    from phonenumbers import timezone as pn_timezone

    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return default
    zones = pn_timezone.time_zones_for_number(parsed)
    return zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else default
