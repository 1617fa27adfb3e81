"""The Twilio fake, driven through the real twilio-python client built by channels.twilio.rest.

These tests pin both sides: that FakeTwilio speaks the wire format twilio-python 9.x parses, and how
twilio-python and our http client behave (error mapping, the timeout, the URL rewrite).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from channels.twilio.rest import (
    DEFAULT_API_URL,
    CarelineTwilioHttpClient,
    TwilioTimeout,
    close,
    make_client,
)

from .twilio_api import (
    DEFAULT_ACCOUNT_SID,
    Error,
    FakeTwilio,
    Hang,
    Http429,
    Http500,
    Ok,
    Unsubscribed,
    basic_auth_header,
    num_segments,
)

CLINIC = "+15005550006"
PATIENT = "+15551234567"
OTHER_PATIENT = "+15557654321"
CALLBACK = "https://careline.example.org/twilio/status"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as served:
        yield served


@pytest.fixture
async def api(fake: FakeTwilio) -> AsyncIterator[Client]:
    assert fake.base_url is not None
    client, http_client = make_client(fake.account_sid, fake.auth_token, fake.base_url, timeout_s=2.0)
    yield client
    await close(http_client)


def _status_and_code(exc: pytest.ExceptionInfo[TwilioRestException]) -> tuple[int, int]:
    return exc.value.status, exc.value.code


# ------------------------------------------------------------------------------------------ messages
async def test_create_message_returns_twilio_resource(fake: FakeTwilio, api: Client) -> None:
    msg = await api.messages.create_async(
        to=PATIENT,
        from_=CLINIC,
        body="Hi Ana, reminder for Tue 10:00.",
        status_callback=CALLBACK,
        validity_period=600,
    )

    assert msg.sid.startswith("SM")
    assert len(msg.sid) == 34
    int(msg.sid[2:], 16)  # 32 hex digits
    assert msg.status == "queued"
    assert msg.num_segments == "1"  # Twilio sends counts as strings
    assert msg.error_code is None
    assert msg.to == PATIENT
    assert msg.from_ == CLINIC
    assert msg.date_created is not None
    assert msg.date_created.tzinfo is not None  # RFC 2822 parsed by twilio-python
    assert abs(msg.date_created - datetime.now(UTC)) < timedelta(seconds=5)
    assert msg.account_sid == DEFAULT_ACCOUNT_SID

    [sent] = fake.messages_sent
    assert (sent.sid, sent.to, sent.from_, sent.body) == (msg.sid, PATIENT, CLINIC, msg.body)
    assert sent.status_callback == CALLBACK
    assert sent.validity_period == 600
    request = sent.request
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"
    assert request.auth == (fake.account_sid, fake.auth_token)
    assert ("StatusCallback", CALLBACK) in request.form
    assert request.get("ValidityPeriod") == "600"
    assert request.status == 201
    assert request.received_monotonic <= time.monotonic()
    assert request.received_at.tzinfo is UTC


async def test_media_urls_repeat_and_make_an_mms_sid(fake: FakeTwilio, api: Client) -> None:
    urls = ["https://careline.example.org/m/1.png", "https://careline.example.org/m/2.png"]
    msg = await api.messages.create_async(to=PATIENT, from_=CLINIC, media_url=urls)

    assert msg.sid.startswith("MM")
    assert msg.num_media == "2"
    assert fake.messages_sent[0].request.getall("MediaUrl") == urls
    assert fake.messages_sent[0].media_urls == urls


async def test_messaging_service_without_from_is_accepted(fake: FakeTwilio, api: Client) -> None:
    service = "MG" + "1" * 32
    msg = await api.messages.create_async(to=PATIENT, messaging_service_sid=service, body="hola")

    assert msg.status == "accepted"  # Twilio picks the sender later
    assert msg.messaging_service_sid == service
    assert fake.status_callbacks_for(msg.sid, ["sent"])[0]["MessagingServiceSid"] == service


async def test_num_segments_reaches_the_client(api: Client) -> None:
    long_spanish = "Su cita es mañana a las 10:00. Recuerde traer su lista de medicamentos. " * 3
    msg = await api.messages.create_async(to=PATIENT, from_=CLINIC, body=long_spanish)
    assert msg.num_segments == str(num_segments(long_spanish)) == "2"


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("ñ" * 160, 1),  # ñ is in the GSM-7 basic set
        ("á" * 70, 1),  # á is not: UCS-2
        ("á" * 71, 2),
        ("á" * 134, 2),
        ("á" * 135, 3),
        ("€" * 80, 1),  # extension table: two septets each
        ("€" * 81, 2),
        ("a" * 152 + "€" + "a" * 152, 3),  # 306 septets, but an escape pair is never split across parts
        ("😀" * 35, 1),  # surrogate pairs: two UTF-16 units each
        ("😀" * 36, 2),
        ("", 1),
    ],
)
def test_num_segments(body: str, segments: int) -> None:
    assert num_segments(body) == segments


async def test_429_maps_to_rest_exception_and_is_consumed(fake: FakeTwilio, api: Client) -> None:
    fake.script_messages(Http429())

    with pytest.raises(TwilioRestException) as exc:
        await api.messages.create_async(to=PATIENT, from_=CLINIC, body="x")
    assert _status_and_code(exc) == (429, 20429)
    assert fake.messages_sent == []

    await api.messages.create_async(to=PATIENT, from_=CLINIC, body="x")  # the script is used up: Ok
    assert len(fake.messages_sent) == 1
    assert [r.status for r in fake.create_requests()] == [429, 201]


async def test_unsubscribed_is_21610(fake: FakeTwilio, api: Client) -> None:
    fake.script_messages(Unsubscribed())
    with pytest.raises(TwilioRestException) as exc:
        await api.messages.create_async(to=PATIENT, from_=CLINIC, body="x")
    assert _status_and_code(exc) == (400, 21610)
    assert "Attempt to send to unsubscribed recipient" in exc.value.msg


async def test_scripted_outcomes_run_in_order(fake: FakeTwilio, api: Client) -> None:
    fake.script_messages(Http500(), Error(400, 21211, "Invalid 'To' Phone Number"), Ok(), Http429(retry_after=3))
    seen: list[tuple[int, int] | str] = []
    for _ in range(5):
        try:
            msg = await api.messages.create_async(to=PATIENT, from_=CLINIC, body="x")
        except TwilioRestException as exc:
            seen.append((exc.status, exc.code))
        else:
            seen.append(msg.status)
    assert seen == [(500, 20500), (400, 21211), "queued", (429, 20429), "queued"]
    assert fake.create_requests()[3].status == 429


async def test_validation_errors_do_not_consume_the_script(fake: FakeTwilio, api: Client) -> None:
    fake.script_messages(Unsubscribed())
    with pytest.raises(TwilioRestException) as exc:
        await api.messages.create_async(to=PATIENT, body="no sender")
    assert _status_and_code(exc) == (400, 21603)
    with pytest.raises(TwilioRestException) as exc:
        await api.messages.create_async(to=PATIENT, from_=CLINIC)
    assert _status_and_code(exc) == (400, 21602)
    with pytest.raises(TwilioRestException) as exc:
        await api.messages.create_async(to=PATIENT, from_=CLINIC, body="x")
    assert _status_and_code(exc) == (400, 21610)


# ------------------------------------------------------------------------------------------ timeouts
async def test_hang_past_the_timeout_raises_twilio_timeout_but_message_exists(fake: FakeTwilio) -> None:
    assert fake.base_url is not None
    client, http_client = make_client(fake.account_sid, fake.auth_token, fake.base_url, timeout_s=0.3)
    try:
        fake.script_messages(Hang(30, created=True))
        before = datetime.now(UTC).replace(microsecond=0)
        started = time.monotonic()
        with pytest.raises(TwilioTimeout) as exc:
            await client.messages.create_async(to=PATIENT, from_=CLINIC, body="x")
        assert time.monotonic() - started < 2
        assert exc.value.timeout_s == 0.3
        assert exc.value.method == "POST"
        assert exc.value.url.startswith(fake.base_url)
        assert not isinstance(exc.value, TwilioRestException)

        # Twilio did create it: this is why a timeout is not blindly retried. Reconcile instead.
        [created] = fake.messages_sent
        found = await client.messages.list_async(to=PATIENT, from_=CLINIC, date_sent_after=before, limit=5)
        assert [m.sid for m in found] == [created.sid]
    finally:
        await close(http_client)


async def test_hang_without_creation(fake: FakeTwilio) -> None:
    assert fake.base_url is not None
    client, http_client = make_client(fake.account_sid, fake.auth_token, fake.base_url, timeout_s=0.2)
    try:
        fake.script_messages(Hang(30))
        with pytest.raises(TwilioTimeout):
            await client.messages.create_async(to=PATIENT, from_=CLINIC, body="x")
        assert fake.messages_sent == []
        assert len(fake.create_requests()) == 1
    finally:
        await close(http_client)


async def test_short_hang_is_just_slow(fake: FakeTwilio, api: Client) -> None:
    fake.script_messages(Hang(0.2, created=True))
    started = time.monotonic()
    msg = await api.messages.create_async(to=PATIENT, from_=CLINIC, body="x")
    assert time.monotonic() - started >= 0.2
    assert msg.sid == fake.messages_sent[0].sid


async def test_per_request_timeout_overrides_the_client_default(fake: FakeTwilio) -> None:
    assert fake.base_url is not None
    _client, http_client = make_client(fake.account_sid, fake.auth_token, fake.base_url, timeout_s=30)
    try:
        fake.script_messages(Hang(30))
        url = f"{DEFAULT_API_URL}/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
        with pytest.raises(TwilioTimeout) as exc:
            await http_client.request(
                "POST",
                url,
                data={"To": PATIENT, "From": CLINIC, "Body": "x"},
                auth=(fake.account_sid, fake.auth_token),
                timeout=0.2,
            )
        assert exc.value.timeout_s == 0.2
    finally:
        await close(http_client)


async def test_connection_refused_is_not_a_timeout() -> None:
    fake = FakeTwilio()
    base_url = await fake.start()
    await fake.stop()
    client, http_client = make_client(fake.account_sid, fake.auth_token, base_url, timeout_s=2.0)
    try:
        with pytest.raises(aiohttp.ClientConnectionError):  # never reached Twilio: safe to retry
            await client.messages.create_async(to=PATIENT, from_=CLINIC, body="x")
    finally:
        await close(http_client)


# ------------------------------------------------------------------------------------------ list / fetch
async def test_list_filters_and_newest_first(fake: FakeTwilio, api: Client) -> None:
    first = await api.messages.create_async(to=PATIENT, from_=CLINIC, body="1")
    await api.messages.create_async(to=OTHER_PATIENT, from_=CLINIC, body="2")
    third = await api.messages.create_async(to=PATIENT, from_=CLINIC, body="3")
    await api.messages.create_async(to=PATIENT, messaging_service_sid="MG" + "2" * 32, body="4")

    to_patient = await api.messages.list_async(to=PATIENT, from_=CLINIC)
    assert [m.sid for m in to_patient] == [third.sid, first.sid]

    assert len(await api.messages.list_async(to=PATIENT)) == 3
    assert len(await api.messages.list_async(from_=CLINIC)) == 3

    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert len(await api.messages.list_async(date_sent_after=hour_ago)) == 4
    assert await api.messages.list_async(date_sent_after=hour_ago + timedelta(hours=2)) == []
    assert len(await api.messages.list_async(date_sent_before=hour_ago + timedelta(hours=2))) == 4

    limited = await api.messages.list_async(to=PATIENT, limit=2)
    assert limited[0].sid == fake.messages_sent[-1].sid
    assert len(limited) == 2
    last_get = [r for r in fake.requests if r.method == "GET"][-1]
    assert last_get.get("PageSize") == "2"  # twilio-python asks for page_size=limit


async def test_list_follows_next_page_uri_through_the_rewrite(fake: FakeTwilio, api: Client) -> None:
    for n in range(5):
        await api.messages.create_async(to=PATIENT, from_=CLINIC, body=str(n))

    everything = await api.messages.list_async(to=PATIENT, page_size=2)

    assert [m.body for m in everything] == ["4", "3", "2", "1", "0"]
    pages = [r for r in fake.requests if r.method == "GET"]
    assert [r.get("Page") for r in pages] == [None, "1", "2"]
    assert all(r.get("To") == PATIENT for r in pages)  # filters survive in next_page_uri


async def test_date_sent_filter_uses_date_sent_once_sent(fake: FakeTwilio, api: Client) -> None:
    msg = await api.messages.create_async(to=PATIENT, from_=CLINIC, body="x")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    fake.set_message_status(msg.sid, "delivered", now=tomorrow)

    assert await api.messages.list_async(date_sent_after=tomorrow - timedelta(minutes=1)) != []
    assert await api.messages.list_async(date_sent=tomorrow.strftime("%Y-%m-%d")) != []  # a string passes as is
    assert await api.messages.list_async(date_sent=tomorrow.date()) != []  # sent as 'YYYY-MM-DDT00:00:00Z'
    assert await api.messages.list_async(date_sent=datetime.now(UTC).date() - timedelta(days=1)) == []


async def test_fetch_message(fake: FakeTwilio, api: Client) -> None:
    msg = await api.messages.create_async(to=PATIENT, from_=CLINIC, body="x")
    fake.set_message_status(msg.sid, "undelivered", 30003)

    fetched = await api.messages(msg.sid).fetch_async()

    assert (fetched.sid, fetched.status, fetched.error_code) == (msg.sid, "undelivered", 30003)
    assert fetched.date_sent is not None

    with pytest.raises(TwilioRestException) as exc:
        await api.messages("SM" + "f" * 32).fetch_async()
    assert _status_and_code(exc) == (404, 20404)


async def test_list_error_is_not_a_rest_exception(fake: FakeTwilio) -> None:
    """twilio-python gotcha: a failed *page* raises plain TwilioException, without .status or .code."""
    assert fake.base_url is not None
    client, http_client = make_client(fake.account_sid, "wrong-token", fake.base_url, timeout_s=2.0)
    try:
        with pytest.raises(TwilioException) as exc:
            await client.messages.list_async(limit=1)
        assert not isinstance(exc.value, TwilioRestException)
    finally:
        await close(http_client)


# ------------------------------------------------------------------------------------------ calls
async def test_create_call_with_twiml(fake: FakeTwilio, api: Client) -> None:
    twiml = "<Response><Say>Careline: a patient needs a call back.</Say></Response>"
    events = ["initiated", "ringing", "answered", "completed"]
    call = await api.calls.create_async(
        to=PATIENT,
        from_=CLINIC,
        twiml=twiml,
        status_callback=CALLBACK,
        status_callback_event=events,
        timeout=20,
        machine_detection="Enable",
    )

    assert call.sid.startswith("CA")
    assert len(call.sid) == 34
    assert call.status == "queued"
    [placed] = await fake.wait_for_calls(1)
    assert placed.sid == call.sid
    assert placed.twiml == twiml
    assert placed.url is None
    assert placed.status_callback_events == events
    assert placed.request.getall("StatusCallbackEvent") == events
    assert (placed.timeout, placed.machine_detection) == (20, "Enable")

    fetched = await api.calls(call.sid).fetch_async()
    # twilio-python gotcha: CallInstance spells it `_from`, MessageInstance `from_`.
    assert (fetched.sid, fetched.to, fetched._from) == (call.sid, PATIENT, CLINIC)

    callbacks = fake.call_status_callbacks_for(call.sid, ["ringing", "completed"])
    assert [(c["CallStatus"], c["SequenceNumber"]) for c in callbacks] == [
        ("ringing", "0"),
        ("completed", "1"),
    ]


async def test_create_call_with_url_and_scripted_failure(fake: FakeTwilio, api: Client) -> None:
    fake.script_calls(Http429())
    with pytest.raises(TwilioRestException) as exc:
        await api.calls.create_async(to=PATIENT, from_=CLINIC, url="https://careline.example.org/voice")
    assert _status_and_code(exc) == (429, 20429)

    call = await api.calls.create_async(to=PATIENT, from_=CLINIC, url="https://careline.example.org/voice")
    assert fake.call(call.sid).url == "https://careline.example.org/voice"
    assert fake.messages_sent == []  # the message script and call script are separate
    assert len(fake.calls_made) == 1


# ------------------------------------------------------------------------------------------ auth
async def test_basic_auth_is_checked(fake: FakeTwilio) -> None:
    assert fake.base_url is not None
    fake.script_messages(Unsubscribed())
    url = f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
    form = {"To": PATIENT, "From": CLINIC, "Body": "x"}
    async with aiohttp.ClientSession() as session:
        wrong = {"Authorization": basic_auth_header(fake.account_sid, "not-the-token")}
        async with session.post(url, data=form, headers=wrong) as response:
            assert response.status == 401
            assert (await response.json())["code"] == 20003
        async with session.post(url, data=form) as response:
            assert response.status == 401
        other = f"{fake.base_url}/2010-04-01/Accounts/AC{'9' * 32}/Messages.json"
        right = {"Authorization": basic_auth_header(fake.account_sid, fake.auth_token)}
        async with session.post(other, data=form, headers=right) as response:
            assert response.status == 404
        async with session.post(url, data=form, headers=right) as response:
            assert response.status == 400
            body = await response.json()
            assert body == {
                "code": 21610,
                "message": "Attempt to send to unsubscribed recipient",
                "more_info": "https://www.twilio.com/docs/errors/21610",
                "status": 400,
            }
        async with session.get(f"{fake.base_url}/nowhere", headers=right) as response:
            assert response.status == 404
            assert (await response.json())["code"] == 20404

    assert [r.auth for r in fake.requests][:2] == [(fake.account_sid, "not-the-token"), None]
    assert fake.messages_sent == []


async def test_wrong_token_through_the_client(fake: FakeTwilio) -> None:
    assert fake.base_url is not None
    client, http_client = make_client(fake.account_sid, "wrong-token", fake.base_url, timeout_s=2.0)
    try:
        with pytest.raises(TwilioRestException) as exc:
            await client.messages.create_async(to=PATIENT, from_=CLINIC, body="x")
        assert _status_and_code(exc) == (401, 20003)
    finally:
        await close(http_client)


# ------------------------------------------------------------------------------------------ helpers
async def test_wait_for_messages(fake: FakeTwilio, api: Client) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await api.messages.create_async(to=PATIENT, from_=CLINIC, body="a")
        await api.messages.create_async(to=PATIENT, from_=CLINIC, body="b")

    task = asyncio.create_task(later())
    sent = await fake.wait_for_messages(2, timeout=3)
    await task
    assert [m.body for m in sent] == ["a", "b"]

    with pytest.raises(TimeoutError, match="3 messages, got 2"):
        await fake.wait_for_messages(3, timeout=0.05)
    with pytest.raises(TimeoutError, match="1 calls, got 0"):
        await fake.wait_for_calls(1, timeout=0.05)


async def test_status_callbacks_for(fake: FakeTwilio, api: Client) -> None:
    msg = await api.messages.create_async(to=PATIENT, from_=CLINIC, body="x", status_callback=CALLBACK)

    sent, undelivered, failed = fake.status_callbacks_for(msg.sid, ["sent", "undelivered", "failed"], 30007)

    assert sent == {
        "AccountSid": fake.account_sid,
        "ApiVersion": "2010-04-01",
        "From": CLINIC,
        "MessageSid": msg.sid,
        "MessageStatus": "sent",
        "SmsSid": msg.sid,
        "SmsStatus": "sent",
        "To": PATIENT,
    }
    assert undelivered["ErrorCode"] == failed["ErrorCode"] == "30007"
    assert fake.status_callbacks_for(msg.sid, ["failed"])[0]["ErrorCode"] == "30008"
    assert fake.message(msg.sid).status == "queued"  # building callbacks changes nothing

    # The app under test verifies them with twilio's own validator; signing uses the same class.
    validator = RequestValidator(fake.auth_token)
    signature = validator.compute_signature(CALLBACK, sent)
    assert validator.validate(CALLBACK, sent, signature)


def test_official_signature_vector() -> None:
    """twilio-python tests/unit/test_request_validator.py: pins RequestValidator's algorithm."""
    validator = RequestValidator("12345")
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    assert validator.compute_signature(url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert validator.validate(url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


# ------------------------------------------------------------------------------------------ rest.py
def test_make_client_needs_a_running_loop() -> None:
    with pytest.raises(RuntimeError):
        make_client(DEFAULT_ACCOUNT_SID, "token", "http://127.0.0.1:1", timeout_s=1.0)


async def test_make_client_refuses_empty_credentials() -> None:
    with pytest.raises(ValueError, match="required"):
        make_client("", "token", "http://127.0.0.1:1", timeout_s=1.0)


async def test_rewrite_url() -> None:
    local = CarelineTwilioHttpClient(api_url="http://127.0.0.1:8123/", timeout_s=1.0)
    real = CarelineTwilioHttpClient(timeout_s=1.0)
    try:
        path = "/2010-04-01/Accounts/AC1/Messages.json?To=%2B1"
        assert local.rewrite_url("https://api.twilio.com" + path) == "http://127.0.0.1:8123" + path
        assert local.rewrite_url("https://api.dublin.ie1.twilio.com" + path) == "http://127.0.0.1:8123" + path
        assert local.rewrite_url("https://messaging.twilio.com/v1/Services") == ("http://127.0.0.1:8123/v1/Services")
        assert local.rewrite_url("https://api.twilio.com.example.org/x") == "https://api.twilio.com.example.org/x"
        assert local.rewrite_url("https://example.org/api.twilio.com") == "https://example.org/api.twilio.com"
        assert real.rewrite_url("https://api.twilio.com" + path) == "https://api.twilio.com" + path
    finally:
        await close(local)
        await close(real)
        await close(real)  # idempotent


async def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        CarelineTwilioHttpClient(timeout_s=0)
