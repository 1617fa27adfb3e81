"""The fever threshold is a practice setting (CARELINE_FEVER_THRESHOLD_C): US 38.0 °C, UKONS 37.5 °C."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.keys import SERVICES
from bot.services import Services
from bot.settings import Settings
from tests.conftest import post_signed, sms_params
from tests.integration.helpers import inbound, settle


@pytest.mark.parametrize(("threshold", "level"), [(38.0, "routine"), (37.5, "urgent")])
async def test_a_37_7_reading_is_urgent_only_where_the_practice_threshold_says_so(
    aiohttp_client: Any, settings: Settings, threshold: float, level: str
) -> None:
    practice = settings.model_copy(update={"fever_threshold_c": threshold})
    client: TestClient[Any, Any] = await aiohttp_client(create_app(practice))
    services: Services = client.app[SERVICES]
    await post_signed(client, practice, "/twilio/sms", sms_params("my temp is 37.7 tonight"))
    await settle(services)
    (msg,) = await inbound(services)
    assert msg.meta["triage"]["level"] == level


def test_the_threshold_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARELINE_FEVER_THRESHOLD_C", "37.5")
    assert Settings().triage_settings.fever_threshold_c == 37.5
    monkeypatch.setenv("CARELINE_FEVER_THRESHOLD_C", "3")
    with pytest.raises(ValueError, match="fever_threshold_c"):
        Settings()
