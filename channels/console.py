"""The console transport: used when no Twilio credentials are set. Outbound texts are stored (by the outbox)
and shown in `careline chat` and the log (masked), never sent anywhere."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from channels.phone import mask
from channels.segments import count_segments
from channels.types import OutboundMessage, SendResult

log = logging.getLogger(__name__)


class ConsoleSender:
    name = "console"

    async def send(self, message: OutboundMessage) -> SendResult:
        sid = "CO" + secrets.token_hex(16)
        log.info("console transport: text to %s stored, not sent (sid %s)", mask(message.to), sid)
        return SendResult(sid=sid, status="delivered", num_segments=count_segments(message.body).segments)

    async def find_sent(self, to: str, sender: str, body: str, since: datetime) -> SendResult | None:
        return None

    async def close(self) -> None:
        return None
