"""Twilio webhooks at the edge: verify the signature over every field received, parse to frozen types.

Nothing here touches the database or knows about flows (RapidPro's courier: verify, parse, dedupe, store).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import parse_qsl

from multidict import MultiDict
from twilio.request_validator import RequestValidator

from channels.phone import normalize_sender
from channels.types import Channel, DeliveryStatus, InboundMessage

MAX_BODY_BYTES = 64 * 1024
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class WebhookError(ValueError):
    """A malformed webhook. The message is safe to log and to return: it names fields, never values."""


def parse_form(body: bytes) -> MultiDict[str]:
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookError("body is not a valid form-encoded UTF-8 payload") from exc
    return MultiDict(pairs)


def signature_valid(auth_token: str, url: str, params: MultiDict[str], signature: str | None) -> bool:
    """Twilio's HMAC-SHA1 over the full public URL (raw path and query) and every received field."""
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def _required(form: MultiDict[str], names: Iterable[str]) -> None:
    missing = [name for name in names if not form.get(name, "").strip()]
    if missing:
        raise WebhookError(f"missing required field(s): {', '.join(missing)}")


def parse_inbound_sms(form: MultiDict[str], received_at: datetime) -> InboundMessage:
    _required(form, ("MessageSid", "From"))
    sid = form["MessageSid"].strip()
    if len(sid) > 64:
        raise WebhookError("MessageSid is too long")
    try:
        num_media = int(form.get("NumMedia", "0") or 0)
        num_segments = int(form.get("NumSegments", "1") or 1)
    except ValueError as exc:
        raise WebhookError("NumMedia and NumSegments must be integers") from exc
    media = tuple(form[f"MediaUrl{i}"] for i in range(min(num_media, 10)) if f"MediaUrl{i}" in form)
    return InboundMessage(
        channel=Channel.SMS,
        external_id=sid,
        sender=normalize_sender(form["From"]),
        recipient=normalize_sender(form.get("To", "")),
        text=form.get("Body", ""),
        received_at=received_at,
        media_urls=media,
        num_segments=max(num_segments, 1),
        opt_out_type=(form.get("OptOutType") or None),
        messaging_service_sid=(form.get("MessagingServiceSid") or None),
    )


def parse_status_callback(form: MultiDict[str], received_at: datetime) -> DeliveryStatus:
    _required(form, ("MessageSid",))
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not status:
        raise WebhookError("missing required field(s): MessageStatus")
    code_raw = form.get("ErrorCode", "").strip()
    try:
        code = int(code_raw) if code_raw else None
    except ValueError as exc:
        raise WebhookError("ErrorCode must be an integer") from exc
    return DeliveryStatus(sid=form["MessageSid"].strip(), status=status, error_code=code, received_at=received_at)
