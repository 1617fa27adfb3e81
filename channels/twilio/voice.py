"""Outbound voice calls (nurse voice pages) and the TwiML they play.

`CallPlacer` is the seam: `TwilioCallPlacer` places calls through twilio-python's async client
(``Calls.create`` with ``url=`` pointing back at Careline, which answers with TwiML), `ConsoleCallPlacer`
logs and places nothing. Knows nothing of escalations: it is given a number, a URL and the words to say.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.twiml.voice_response import VoiceResponse

from channels.phone import mask
from channels.twilio.rest import TwilioTimeout, close, make_client
from channels.types import AmbiguousSendError, PermanentSendError, RetryableSendError

log = logging.getLogger(__name__)

__all__ = [
    "CallPlacer",
    "CallRequest",
    "CallResult",
    "ConsoleCallPlacer",
    "TwilioCallPlacer",
    "gather_twiml",
    "say_twiml",
]


@dataclass(frozen=True, slots=True)
class CallRequest:
    to: str
    url: str  # Twilio fetches the call's TwiML here (a signed POST)
    status_callback: str | None = None
    timeout_s: int = 30  # how long it rings


@dataclass(frozen=True, slots=True)
class CallResult:
    sid: str
    status: str


class CallPlacer(Protocol):
    name: str

    async def place_call(self, call: CallRequest) -> CallResult:
        """Place a call. Raises SendError subclasses (RetryableSendError, AmbiguousSendError, …)."""
        ...

    async def close(self) -> None: ...


class ConsoleCallPlacer:
    """No Twilio credentials: the call is logged (masked), never placed."""

    name = "console"

    async def place_call(self, call: CallRequest) -> CallResult:
        sid = "CA" + secrets.token_hex(16)
        log.info("console transport: call to %s not placed (sid %s)", mask(call.to), sid)
        return CallResult(sid=sid, status="completed")

    async def close(self) -> None:
        return None


class TwilioCallPlacer:
    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, *, api_url: str, timeout_s: float, from_: str) -> None:
        if not from_:
            raise ValueError("set CARELINE_VOICE_FROM (or CARELINE_SMS_FROM) to place voice pages through Twilio")
        self._client, self._http = make_client(account_sid, auth_token, api_url, timeout_s)
        self._from = from_

    async def place_call(self, call: CallRequest) -> CallResult:
        kwargs: dict[str, object] = {"to": call.to, "from_": self._from, "url": call.url, "timeout": call.timeout_s}
        if call.status_callback:
            kwargs["status_callback"] = call.status_callback
            kwargs["status_callback_event"] = ["completed"]
        try:
            created = await self._client.calls.create_async(**kwargs)
        except TwilioTimeout as exc:
            raise AmbiguousSendError(str(exc)) from exc
        except TwilioRestException as exc:
            status = int(exc.status) if exc.status is not None else None
            code = int(exc.code) if exc.code is not None else None
            message = f"Twilio error {code} (HTTP {status})"
            if status == 429 or (status is not None and status >= 500):
                raise RetryableSendError(message, code=code, http_status=status) from exc
            raise PermanentSendError(message, code=code, http_status=status) from exc
        except (aiohttp.ClientConnectionError, OSError) as exc:
            raise AmbiguousSendError(f"connection error: {type(exc).__name__}") from exc
        return CallResult(sid=str(created.sid), status=str(created.status))

    async def close(self) -> None:
        await close(self._http)


def gather_twiml(words: str, action: str, redirect: str, language: str = "en-US") -> str:
    """Say `words` inside a one-digit <Gather> posting to `action`; with no key, <Redirect> to `redirect`
    (Twilio falls through to the verb after a <Gather> when nothing is pressed)."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=action, method="POST", timeout=6, action_on_empty_result=False)
    gather.say(words, language=language)
    response.redirect(redirect, method="POST")
    return str(response)


def say_twiml(words: str, language: str = "en-US") -> str:
    """Say `words`, then hang up."""
    response = VoiceResponse()
    response.say(words, language=language)
    response.hangup()
    return str(response)
