"""Send texts through Twilio's REST API (twilio-python's async client), mapping its errors to ours."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiohttp
from twilio.base.exceptions import TwilioRestException

from channels.twilio.rest import CarelineTwilioHttpClient, TwilioTimeout, close, make_client
from channels.types import (
    AmbiguousSendError,
    OutboundMessage,
    PermanentSendError,
    RecipientOptedOut,
    RetryableSendError,
    SendResult,
)

UNSUBSCRIBED = 21610
RETRYABLE_CODES = frozenset({20429, 21611, 20500, 20503, 30001})


class TwilioSender:
    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        api_url: str,
        timeout_s: float,
        default_from: str = "",
        messaging_service_sid: str = "",
    ) -> None:
        if not (default_from or messaging_service_sid):
            raise ValueError("set CARELINE_SMS_FROM or CARELINE_MESSAGING_SERVICE_SID to send through Twilio")
        self._client, self._http = make_client(account_sid, auth_token, api_url, timeout_s)
        self._from = default_from
        self._service = messaging_service_sid

    @property
    def http(self) -> CarelineTwilioHttpClient:
        return self._http

    async def send(self, message: OutboundMessage) -> SendResult:
        kwargs: dict[str, object] = {"to": message.to, "body": message.body}
        sender = message.sender or self._from
        if sender:
            kwargs["from_"] = sender
        else:
            kwargs["messaging_service_sid"] = self._service
        if message.status_callback:
            kwargs["status_callback"] = message.status_callback
        if message.validity_period_s is not None:
            kwargs["validity_period"] = max(1, min(36000, message.validity_period_s))
        try:
            created = await self._client.messages.create_async(**kwargs)
        except TwilioTimeout as exc:
            raise AmbiguousSendError(str(exc)) from exc
        except TwilioRestException as exc:
            raise _map_rest_error(exc) from exc
        except (aiohttp.ClientConnectionError, OSError) as exc:
            # Refused or reset before an answer: we cannot know whether the request reached Twilio.
            raise AmbiguousSendError(f"connection error: {type(exc).__name__}") from exc
        segments = int(created.num_segments) if created.num_segments not in (None, "") else None
        return SendResult(sid=str(created.sid), status=str(created.status), num_segments=segments)

    async def find_sent(self, to: str, sender: str, body: str, since: datetime) -> SendResult | None:
        kwargs: dict[str, object] = {"to": to, "date_sent_after": since - timedelta(days=1), "limit": 50}
        if sender or self._from:
            kwargs["from_"] = sender or self._from
        try:
            found = await self._client.messages.list_async(**kwargs)
        except TwilioTimeout as exc:
            raise AmbiguousSendError(str(exc)) from exc
        except TwilioRestException as exc:
            raise _map_rest_error(exc) from exc
        for item in found:
            created = item.date_created
            if item.body == body and (created is None or created >= since - timedelta(minutes=5)):
                return SendResult(sid=str(item.sid), status=str(item.status))
        return None

    async def close(self) -> None:
        await close(self._http)


def _map_rest_error(exc: TwilioRestException) -> Exception:
    status = int(exc.status) if exc.status is not None else None
    code = int(exc.code) if exc.code is not None else None
    message = f"Twilio error {code} (HTTP {status})"
    if code == UNSUBSCRIBED:
        return RecipientOptedOut(message, code=code, http_status=status)
    if status == 429 or (status is not None and status >= 500) or code in RETRYABLE_CODES:
        return RetryableSendError(message, code=code, http_status=status)
    return PermanentSendError(message, code=code, http_status=status)
