"""Escalations and nurse paging (issue 4). Interface placeholder, replaced by the paging implementation."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.router import HandleContext
    from storage.models import Message


async def handle_staff_sms(ctx: HandleContext, message: Message) -> bool:
    """A text from a staff member's phone (ack codes). True when handled: no patient routing then."""
    return False
