"""Consent: STOP stops everything but the one confirmation, START resumes, HELP answers, natural revocations."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.services import Services
from bot.settings import Settings
from storage.models import MessageStatus
from tests.conftest import PATIENT, post_signed, sms_params
from tests.fakes.twilio_api import FakeTwilio
from tests.integration.helpers import opted_out, outbound, settle


async def text(client: TestClient[Any, Any], settings: Settings, services: Services, body: str, **kw: str) -> None:
    resp = await post_signed(client, settings, "/twilio/sms", sms_params(body, **kw))
    assert resp.status == 200
    await settle(services)


@pytest.mark.parametrize(
    "keyword", ["STOP", "stop", "Stop.", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]
)
async def test_stop_keywords_opt_out_with_one_confirmation(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio, keyword: str
) -> None:
    await text(client, settings, services, keyword)
    assert await opted_out(services, PATIENT)
    (confirmation,) = fake_twilio.messages_sent
    assert "START" in confirmation.body
    assert "unsubscribed" in confirmation.body.lower()


async def test_stop_stops_everything_but_the_one_confirmation(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await text(client, settings, services, "STOP")
    await text(client, settings, services, "STOP")  # again: no second confirmation
    await text(client, settings, services, "what time is my appointment?")
    assert len(fake_twilio.messages_sent) == 1
    statuses = [m.status for m in await outbound(services)]
    assert statuses[0] != MessageStatus.SUPPRESSED
    assert statuses[1:] == [MessageStatus.SUPPRESSED]


async def test_start_resumes_texts(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await text(client, settings, services, "STOP")
    await text(client, settings, services, "START")
    assert not await opted_out(services, PATIENT)
    await text(client, settings, services, "is my lab draw at 9?")
    bodies = [m.body for m in fake_twilio.messages_sent]
    assert len(bodies) == 3
    assert "subscribed again" in bodies[1]


@pytest.mark.parametrize("keyword", ["HELP", "info", "Ayuda"])
async def test_help_is_answered_with_practice_name_phone_and_how_to_opt_out(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio, keyword: str
) -> None:
    await text(client, settings, services, keyword)
    (reply,) = fake_twilio.messages_sent
    assert settings.practice_name in reply.body
    assert settings.practice_phone in reply.body
    assert "STOP" in reply.body
    assert not await opted_out(services, PATIENT)


async def test_help_is_answered_even_when_opted_out(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await text(client, settings, services, "STOP")
    await text(client, settings, services, "HELP")
    assert len(fake_twilio.messages_sent) == 2


@pytest.mark.parametrize(
    ("body", "lang"),
    [
        ("Stop texting me", "en"),
        ("no more texts please", "en"),
        ("please take me off your list", "en"),
        ("ALTO", "es"),
        ("no más mensajes", "es"),
        ("Dejen de mandarme mensajes por favor", "es"),
    ],
)
async def test_natural_revocations_opt_out(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio, body: str, lang: str
) -> None:
    await text(client, settings, services, body)
    assert await opted_out(services, PATIENT)
    (confirmation,) = fake_twilio.messages_sent
    assert ("recibirá" in confirmation.body) == (lang == "es")


@pytest.mark.parametrize(
    "body", ["cancel my appointment on friday", "I want to stop my chemo, can we talk?", "the pain doesn't stop"]
)
async def test_sentences_with_keywords_inside_do_not_opt_out(
    client: TestClient[Any, Any], settings: Settings, services: Services, body: str
) -> None:
    await text(client, settings, services, body)
    assert not await opted_out(services, PATIENT)


async def test_twilio_advanced_opt_out_field_is_honoured(
    client: TestClient[Any, Any], settings: Settings, services: Services
) -> None:
    await text(client, settings, services, "Parar", OptOutType="STOP")
    assert await opted_out(services, PATIENT)


async def test_opt_out_is_kept_per_number_across_conversations(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    other = "+15555550177"
    await text(client, settings, services, "STOP", sender=other)
    await text(client, settings, services, "hello")
    assert await opted_out(services, other)
    assert not await opted_out(services, PATIENT)
    assert {m.to for m in fake_twilio.messages_sent} == {other, PATIENT}


async def test_yes_from_a_subscribed_number_is_an_answer_not_a_swallowed_keyword(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await text(client, settings, services, "YES")
    assert len(fake_twilio.messages_sent) == 1  # answered (acknowledged), not silently dropped
    assert "subscribed again" not in fake_twilio.messages_sent[0].body


async def test_yes_from_an_opted_out_number_opts_back_in(
    client: TestClient[Any, Any], settings: Settings, services: Services, fake_twilio: FakeTwilio
) -> None:
    await text(client, settings, services, "STOP")
    await text(client, settings, services, "yes")
    assert not await opted_out(services, PATIENT)
    assert "subscribed again" in fake_twilio.messages_sent[-1].body
