"""Frozen transport-neutral types. Channels parse into these at the edge; nothing above sees a web request."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class Channel(enum.StrEnum):
    SMS = "sms"
    VOICE = "voice"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class InboundMessage:
    channel: Channel
    external_id: str  # Twilio MessageSid: the idempotency key
    sender: str  # E.164 when it parses as a phone number, else the raw sender (short code, alphanumeric)
    recipient: str
    text: str
    received_at: datetime  # always timezone-aware
    media_urls: tuple[str, ...] = ()
    num_segments: int = 1
    opt_out_type: str | None = None  # Twilio Advanced Opt-Out: STOP / START / HELP
    messaging_service_sid: str | None = None

    def __post_init__(self) -> None:
        if self.received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    sid: str
    status: str
    error_code: int | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    to: str
    body: str
    sender: str = ""  # From number; empty = the configured default
    status_callback: str | None = None
    validity_period_s: int | None = None  # Twilio drops it after this long in its queue


@dataclass(frozen=True, slots=True)
class SendResult:
    sid: str
    status: str
    num_segments: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


class SendError(Exception):
    """Base of what a sender raises. `code` is Twilio's error code when there is one."""

    def __init__(self, message: str, *, code: int | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class RetryableSendError(SendError):
    """The request was refused before processing (429, 5xx, 21611): safe to retry with backoff."""


class RecipientOptedOut(SendError):
    """21610: the recipient replied STOP to this sender. Record an opt-out; never retry."""


class PermanentSendError(SendError):
    """Invalid number, landline, …: retrying cannot help."""


class AmbiguousSendError(SendError):
    """Timed out: the message may or may not exist at the provider. Reconcile before any retry."""


class MessageSender(Protocol):
    name: str

    async def send(self, message: OutboundMessage) -> SendResult: ...

    async def find_sent(self, to: str, sender: str, body: str, since: datetime) -> SendResult | None:
        """Look for a message we may have created (used after a timeout). None when there is none."""
        ...

    async def close(self) -> None: ...
