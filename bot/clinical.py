"""Clinical routing of a patient's text: triage, escalation, what the patient hears (issue 3 and 4).

Interface placeholder, replaced by the triage and paging implementation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.router import HandleContext
    from storage.models import Message


async def route_clinical(ctx: HandleContext, message: Message, lang: str) -> bool:
    """Triage the text and act on it. True when it queued the patient's reply itself."""
    return False
