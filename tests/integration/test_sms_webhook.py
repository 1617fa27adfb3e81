"""The inbound SMS webhook: verify, parse, claim the SID once, store, enqueue, answer TwiML."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from bot.services import Services
from bot.settings import Settings
from tests.conftest import PATIENT, post_signed, sign, sms_params
from tests.fakes.twilio_api import FakeTwilio
from tests.integration.helpers import count_messages, inbound, outbound, settle


async def test_signed_inbound_sms_is_answered_with_empty_twiml_and_stored(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    params = sms_params("Hi, question about my appointment")
    resp = await post_signed(client, settings, "/twilio/sms", params)
    assert resp.status == 200
    assert resp.content_type == "text/xml"
    root = ET.fromstring(await resp.text())  # noqa: S314 (our own response)
    assert root.tag == "Response"
    assert list(root) == []
    stored = await inbound(services)
    assert [(m.external_sid, m.from_number, m.body) for m in stored] == [
        (params["MessageSid"], PATIENT, "Hi, question about my appointment")
    ]
    await settle(services)
    (reply,) = await fake_twilio.wait_for_messages(1)
    assert reply.to == PATIENT
    assert reply.status_callback == f"{settings.public_url}/twilio/sms/status"
    assert all(m.processed_at is not None for m in await inbound(services))


async def test_same_message_sid_five_times_concurrently_is_stored_once_and_processed_once(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    params = sms_params("is my infusion still on for tomorrow?")
    responses = await asyncio.gather(*(post_signed(client, settings, "/twilio/sms", params) for _ in range(5)))
    assert [r.status for r in responses] == [200] * 5
    bodies = {await r.text() for r in responses}
    assert len(bodies) == 1  # a retried delivery gets the same answer
    await settle(services)
    assert await count_messages(services, "inbound") == 1
    replies = await outbound(services)
    assert len(replies) == 1
    assert len(fake_twilio.messages_sent) == 1


async def test_forged_signature_gets_403_and_nothing_is_stored(
    client: TestClient[Any, Any], services: Services
) -> None:
    params = sms_params("hello")
    resp = await client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"})
    assert resp.status == 403
    resp = await client.post("/twilio/sms", data=params)
    assert resp.status == 403
    assert await count_messages(services) == 0


async def test_signature_over_a_tampered_field_is_rejected(
    client: TestClient[Any, Any], settings: Settings, services: Services
) -> None:
    params = sms_params("hello")
    signature = sign(settings, "/twilio/sms", params)
    params["Body"] = "tampered"
    resp = await client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert resp.status == 403
    assert await count_messages(services) == 0


async def test_fields_twilio_adds_without_notice_are_signed_and_accepted(
    client: TestClient[Any, Any], settings: Settings, services: Services
) -> None:
    params = sms_params("hello", FromCity="AUSTIN", FromState="TX", SomeFutureField="x")
    resp = await post_signed(client, settings, "/twilio/sms", params)
    assert resp.status == 200
    assert await count_messages(services, "inbound") == 1


async def test_signature_is_checked_against_the_raw_path_and_query(
    client: TestClient[Any, Any], settings: Settings, services: Services
) -> None:
    path = "/twilio/sms?practice=riverside&x=%2F1"
    params = sms_params("with a query string")
    # encoded=True: send the query exactly as Twilio would, without the client re-normalising %2F.
    resp = await client.post(
        URL(path, encoded=True), data=params, headers={"X-Twilio-Signature": sign(settings, path, params)}
    )
    assert resp.status == 200
    assert await count_messages(services, "inbound") == 1


async def test_body_over_64_kb_gets_413_and_nothing_is_stored(
    client: TestClient[Any, Any], settings: Settings, services: Services
) -> None:
    params = sms_params("x" * (65 * 1024))
    resp = await post_signed(client, settings, "/twilio/sms", params)
    assert resp.status == 413
    assert await count_messages(services) == 0


@pytest.mark.parametrize("missing", ["From", "MessageSid"])
async def test_form_missing_a_required_field_gets_400_with_the_reason(
    client: TestClient[Any, Any], settings: Settings, services: Services, missing: str
) -> None:
    params = sms_params("hello")
    del params[missing]
    resp = await post_signed(client, settings, "/twilio/sms", params)
    assert resp.status == 400
    assert missing in await resp.text()
    assert await count_messages(services) == 0


async def test_text_from_an_unknown_number_is_stored_and_answered(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    stranger = "+12125550199"
    resp = await post_signed(client, settings, "/twilio/sms", sms_params("who is this?", sender=stranger))
    assert resp.status == 200
    await settle(services)
    (msg,) = await inbound(services)
    assert msg.patient_id is None
    assert msg.processed_at is not None
    (reply,) = await fake_twilio.wait_for_messages(1)
    assert reply.to == stranger


async def test_sender_number_is_normalised_to_e164(
    client: TestClient[Any, Any], settings: Settings, services: Services
) -> None:
    resp = await post_signed(client, settings, "/twilio/sms", sms_params("hi", sender="(555) 555-0123"))
    assert resp.status == 200
    (msg,) = await inbound(services)
    assert msg.from_number == PATIENT
