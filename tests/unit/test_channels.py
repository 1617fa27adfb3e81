"""Edge parsing: phone numbers, segments, webhook forms, signatures, consent keywords."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from channels.phone import InvalidPhoneNumber, mask, normalize_sender, to_e164
from channels.segments import count_segments
from channels.twilio.webhook import (
    WebhookError,
    parse_form,
    parse_inbound_sms,
    parse_status_callback,
    signature_valid,
)
from flows.consent import ConsentAction, classify_consent, is_bare_keyword

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [("+1 (555) 555-0123", "+15555550123"), ("555.555.0123", "+15555550123"), ("+52 55 1234 5678", "+525512345678")],
)
def test_numbers_are_parsed_to_e164(raw: str, e164: str) -> None:
    assert to_e164(raw) == e164


@pytest.mark.parametrize("raw", ["", "hello", "12"])
def test_things_that_are_not_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        to_e164(raw)


def test_short_codes_and_alphanumeric_senders_are_kept_as_they_are() -> None:
    assert normalize_sender("72345") == "72345"
    assert normalize_sender("CARELINE") == "CARELINE"


def test_mask_keeps_only_the_country_code_and_last_four_digits() -> None:
    assert mask("+15551234567") == "+1******4567"
    assert "1234" not in mask("+15551234567")


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", "GSM-7", 1),
        ("x" * 160, "GSM-7", 1),
        ("x" * 161, "GSM-7", 2),
        ("x" * 306, "GSM-7", 2),
        ("x" * 307, "GSM-7", 3),
        ("{" * 80, "GSM-7", 1),  # extension characters take two septets
        ("{" * 81, "GSM-7", 2),
        ("ñ" * 70, "GSM-7", 1),  # ñ is in the GSM-7 basic set
        ("á" * 70, "UCS-2", 1),  # á is not
        ("á" * 71, "UCS-2", 2),
        ("😀" * 35, "UCS-2", 1),  # an emoji is two UTF-16 code units
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_segments(text: str, encoding: str, segments: int) -> None:
    info = count_segments(text)
    assert (info.encoding, info.segments) == (encoding, segments)


def test_a_form_that_is_not_utf8_is_a_webhook_error() -> None:
    with pytest.raises(WebhookError):
        parse_form(b"Body=%FF%FE&From=%2B15555550123")


def test_inbound_form_keeps_media_and_advanced_opt_out_fields() -> None:
    form = MultiDict(
        {
            "MessageSid": "MM123",
            "From": "+15555550123",
            "To": "+15550001000",
            "Body": "",
            "NumMedia": "2",
            "MediaUrl0": "https://api.twilio.com/m/0",
            "MediaUrl1": "https://api.twilio.com/m/1",
            "OptOutType": "STOP",
        }
    )
    msg = parse_inbound_sms(form, NOW)
    assert msg.media_urls == ("https://api.twilio.com/m/0", "https://api.twilio.com/m/1")
    assert msg.opt_out_type == "STOP"
    assert msg.received_at == NOW


@pytest.mark.parametrize("field", ["NumMedia", "NumSegments"])
def test_non_integer_counts_are_webhook_errors(field: str) -> None:
    form = MultiDict({"MessageSid": "SM1", "From": "+15555550123", field: "lots"})
    with pytest.raises(WebhookError, match=field):
        parse_inbound_sms(form, NOW)


def test_status_callback_needs_a_status_and_an_integer_error_code() -> None:
    with pytest.raises(WebhookError, match="MessageStatus"):
        parse_status_callback(MultiDict({"MessageSid": "SM1"}), NOW)
    with pytest.raises(WebhookError, match="ErrorCode"):
        parse_status_callback(MultiDict({"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "x"}), NOW)
    status = parse_status_callback(MultiDict({"MessageSid": "SM1", "SmsStatus": "Delivered"}), NOW)
    assert status.status == "delivered"


def test_signature_check_accepts_twilio_vector_and_refuses_a_missing_header() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = MultiDict(
        {
            "CallSid": "CA1234567890ABCDE",
            "Caller": "+14158675309",
            "Digits": "1234",
            "From": "+14158675309",
            "To": "+18005551212",
        }
    )
    assert signature_valid("12345", url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not signature_valid("12345", url, params, None)
    assert not signature_valid("12345", url.replace("https", "http"), params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert RequestValidator("12345").compute_signature(url, dict(params)) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("STOP", ConsentAction.OPT_OUT),
        ("  stop!! ", ConsentAction.OPT_OUT),
        ("Unsubscribe", ConsentAction.OPT_OUT),
        ("alto", ConsentAction.OPT_OUT),
        ("stop texting me", ConsentAction.OPT_OUT),
        ("Please don't send me any more messages", ConsentAction.OPT_OUT),
        ("no mas mensajes", ConsentAction.OPT_OUT),
        ("Ya no quiero recibir mensajes", ConsentAction.OPT_OUT),
        ("START", ConsentAction.OPT_IN),
        ("unstop", ConsentAction.OPT_IN),
        ("yes", ConsentAction.OPT_IN),
        ("HELP", ConsentAction.HELP),
        ("info", ConsentAction.HELP),
        ("cancel my appointment", None),
        ("stop by the pharmacy later", None),
        ("the bleeding won't stop", None),
        ("yes I have a fever", None),
        ("end of cycle 3, feeling ok", None),
    ],
)
def test_consent_keywords(text: str, action: ConsentAction | None) -> None:
    assert classify_consent(text) is action


def test_bare_keyword_detection() -> None:
    assert is_bare_keyword("STOP.")
    assert not is_bare_keyword("stop texting me")
