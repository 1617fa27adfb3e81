"""What Careline does with one inbound text: consent first, then the clinical and conversational routing.

Consent keywords are honoured before anything else, but an opt-out never hides a symptom: whatever else the
text says still goes through routing (an opted-out patient's urgent text is still triaged and paged).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbound import STAFF_KINDS, queue_text
from bot.services import Services
from flows.consent import (
    ConsentAction,
    classify_consent,
    help_text,
    is_ambiguous_opt_in,
    is_bare_keyword,
    opt_in_confirmation,
    opt_out_confirmation,
)
from storage import repo
from storage.models import Conversation, Message, Patient

ACK_INTERVAL = timedelta(minutes=30)
SPANISH_HINTS = ("alto", "ayuda", "no mas", "no más", "hola", "gracias", "dejen", "mensajes")


@dataclass
class HandleContext:
    services: Services
    session: AsyncSession
    now: datetime
    conversation: Conversation
    patient: Patient | None
    outbox: list[Message] = field(default_factory=list)

    @property
    def practice(self) -> str:
        return self.services.settings.practice_name

    def language(self, text: str) -> str:
        if self.patient is not None:
            return self.patient.language if self.patient.language in ("en", "es") else "en"
        lowered = text.lower()
        return "es" if any(hint in lowered for hint in SPANISH_HINTS) else "en"

    async def reply(self, body: str, kind: str = "reply") -> Message:
        msg = await queue_text(
            self.session,
            self.services,
            conversation_id=self.conversation.id,
            patient_id=self.patient.id if self.patient else None,
            to=self.conversation.phone,
            body=body,
            kind=kind,
            now=self.now,
            # answers to staff come from the paging number, the one they were paged from
            sender=self.services.settings.paging_from if kind in STAFF_KINDS else "",
        )
        self.outbox.append(msg)
        return msg


async def handle_message(ctx: HandleContext, message: Message) -> list[Message]:
    text = message.body
    lang = ctx.language(text)
    phone = ctx.conversation.phone
    action = classify_consent(text) if message.meta.get("opt_out_type") is None else _twilio_action(message)
    if action is ConsentAction.OPT_OUT:
        source = "keyword" if is_bare_keyword(text) else "natural_language"
        if await repo.record_opt_out(ctx.session, phone, source, ctx.now, message.id):
            await ctx.reply(opt_out_confirmation(ctx.practice, lang), kind="consent_confirmation")
        if is_bare_keyword(text):
            return ctx.outbox
    elif action is ConsentAction.OPT_IN:
        if await repo.record_opt_in(ctx.session, phone, "keyword", ctx.now, message.id):
            await ctx.reply(opt_in_confirmation(ctx.practice, lang), kind="consent_confirmation")
            return ctx.outbox
        if not is_ambiguous_opt_in(text):
            return ctx.outbox
        # "YES" from a subscribed number is an answer (to a reminder, say), not a consent keyword.
    elif action is ConsentAction.HELP:
        await ctx.reply(help_text(ctx.practice, ctx.services.settings.practice_phone, lang), kind="help")
        return ctx.outbox
    await route_text(ctx, message, lang)
    return ctx.outbox


def _twilio_action(message: Message) -> ConsentAction | None:
    """Twilio Advanced Opt-Out already classified the keyword; trust it, and our own list for the rest."""
    value = str(message.meta.get("opt_out_type", "")).upper()
    mapped = {"STOP": ConsentAction.OPT_OUT, "START": ConsentAction.OPT_IN, "HELP": ConsentAction.HELP}
    return mapped.get(value) or classify_consent(message.body)


async def route_text(ctx: HandleContext, message: Message, lang: str) -> None:
    """Everything that is not a bare consent keyword: staff replies, then clinical routing (triage and
    escalation), then, if nothing else answered, an acknowledgement at most once per half hour."""
    from bot.clinical import route_clinical
    from bot.paging import handle_staff_sms

    if await handle_staff_sms(ctx, message):
        return
    if await route_clinical(ctx, message, lang):
        return
    last = ctx.conversation.state_data.get("last_ack_at")
    if last is not None and ctx.now - datetime.fromisoformat(str(last)) < ACK_INTERVAL:
        return
    await ctx.reply(acknowledgement(ctx.practice, lang), kind="reply")
    ctx.conversation.state_data = {**ctx.conversation.state_data, "last_ack_at": ctx.now.isoformat()}


def acknowledgement(practice: str, lang: str) -> str:
    if lang == "es":
        return (
            f"{practice}: recibimos su mensaje. El equipo de atención le responderá. "
            "Si es una emergencia, llame al 911."
        )
    return f"{practice}: we got your message and the care team will get back to you. If this is an emergency, call 911."
