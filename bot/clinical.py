"""Clinical routing of a patient's text: triage, escalation, what the patient hears (issues 3 and 4).

The triage engine grades the text (unknown patient context is read as active chemotherapy); the result is
stored on the message (`meta["triage"]`, never logged). The routing table (CARELINE_ROUTING: a triage level
or a topic -> a queue) picks the queue; the escalation is opened or attached to (bot/paging.py), which pages
in a paged queue. The patient hears, in their language and with no more PHI than needed:

* emergency: call 911 now (988 for a suicide risk), at once, and the on-call nurse is paged;
* urgent: a nurse was paged and will call within N minutes; call 911 if it gets worse;
* routine after hours: when the care team will answer.

Everything else returns False so that the router sends its rate-limited acknowledgement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.logging import get_logger
from bot.paging import LEVEL_RANK, level_rank, route_to_queue
from bot.settings import Settings
from storage.models import Patient
from storage.paging import Escalation, EscalationStatus
from triage import wording
from triage.engine import PatientContext, Treatment, assess

if TYPE_CHECKING:
    from bot.router import HandleContext
    from storage.models import Message

log = get_logger(__name__)

_TREATMENTS = {t.value: t for t in Treatment}
_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}


def patient_context(patient: Patient | None, now: datetime) -> PatientContext:
    """What the engine should know. Unknown fields stay None (the engine then assumes active chemotherapy)."""
    if patient is None:
        return PatientContext()
    days = None
    if patient.last_dose_at is not None:
        days = max(0, (now - patient.last_dose_at).days)
    return PatientContext(
        treatment=_TREATMENTS.get(patient.treatment),
        days_since_dose=days,
        on_anticoagulant=patient.on_anticoagulant,
        language=patient.language,
    )


def queue_for(routing: Mapping[str, str], level: str, topics: Iterable[str]) -> str | None:
    """The queue for a triage level, or for a request topic when the level routes nowhere. Configuration."""
    queue = routing.get(level)
    if queue is not None or level_rank(level) >= LEVEL_RANK["urgent"]:
        return queue
    for topic in sorted(topics):
        if (by_topic := routing.get(f"topic:{topic}")) is not None:
            return by_topic
    return None


def _hhmm(value: str) -> time:
    hh, mm = value.split(":")
    return time(int(hh), int(mm))


def in_business_hours(settings: Settings, now: datetime) -> bool:
    local = now.astimezone(settings.zone)
    return local.weekday() in settings.business_days and _hhmm(settings.business_open) <= local.time() < _hhmm(
        settings.business_close
    )


def next_opening(settings: Settings, now: datetime) -> datetime:
    """The next business-hours opening after `now` (in the practice's zone)."""
    zone: ZoneInfo = settings.zone
    local = now.astimezone(zone)
    opening = _hhmm(settings.business_open)
    for offset in range(0, 15):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in settings.business_days:
            continue
        candidate = datetime.combine(day, opening, tzinfo=zone)
        if candidate > local:
            return candidate
    return local + timedelta(days=1)  # no business days configured: "tomorrow"


def describe_opening(when: datetime, now: datetime, lang: str) -> str:
    """'tomorrow at 8:00 AM' / 'Monday at 8:00 AM'; 'mañana a las 8:00' / 'el lunes a las 8:00'."""
    local_now = now.astimezone(when.tzinfo)
    days = (when.date() - local_now.date()).days
    if lang == "es":
        clock = f"{when.hour}:{when.minute:02d}"
        day = "hoy" if days == 0 else "mañana" if days == 1 else f"el {_DAYS['es'][when.weekday()]}"
        return f"{day} a las {clock}"
    hour12 = when.hour % 12 or 12
    clock = f"{hour12}:{when.minute:02d} {'AM' if when.hour < 12 else 'PM'}"
    day = "today" if days == 0 else "tomorrow" if days == 1 else _DAYS["en"][when.weekday()]
    return f"{day} at {clock}"


def _acked_lately(ctx: HandleContext) -> bool:
    """The router acknowledged this contact lately: one automatic answer per half hour is enough."""
    from bot.router import ACK_INTERVAL

    last = ctx.conversation.state_data.get("last_ack_at")
    return last is not None and ctx.now - datetime.fromisoformat(str(last)) < ACK_INTERVAL


async def route_clinical(ctx: HandleContext, message: Message, lang: str) -> bool:
    """Triage the text and act on it. True when it queued the patient's reply itself."""
    services = ctx.services
    settings = services.settings
    now = ctx.now
    result = assess(message.body, patient_context(ctx.patient, now), ctx.services.settings.triage_settings)
    message.meta = {**message.meta, "triage": result.to_dict()}
    level = result.level.value
    queue = queue_for(settings.routing, level, result.topics)
    if queue is None:
        log.info("clinical_not_routed", message_id=message.id, level=level)
        return False
    patient_id = ctx.patient.id if ctx.patient is not None else None
    # A routine follow-up while a paged escalation is open joins that one: the nurse calling back sees it.
    if level_rank(level) < LEVEL_RANK["urgent"]:
        paged = (
            await ctx.session.execute(
                select(Escalation.queue)
                .where(
                    Escalation.conversation_id == ctx.conversation.id,
                    Escalation.status != EscalationStatus.RESOLVED,
                    Escalation.paged.is_(True),
                )
                .order_by(Escalation.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if paged is not None:
            queue = paged
    triage = {"level": level, "symptoms": result.symptoms, "ruleset_version": result.ruleset_version}
    routed = await route_to_queue(
        ctx.session,
        services,
        conversation_id=ctx.conversation.id,
        patient_id=patient_id,
        queue=queue,
        level=level,
        now=now,
        message_id=message.id,
        received_at=message.created_at,
        triage=triage,
        actor="patient",
    )
    log.info(
        "clinical_routed",
        message_id=message.id,
        level=level,
        queue=queue,
        escalation_id=routed.escalation_id,
        created=routed.created,
        raised=routed.raised,
    )
    practice = settings.practice_name
    body: str | None = None
    if level == "emergency":
        body = wording.patient_emergency(practice, lang, suicide_risk="give_988" in result.flags)
    elif level == "urgent" and (routed.created or routed.raised):
        body = wording.patient_urgent(practice, settings.practice_phone, settings.urgent_callback_minutes, lang)
    elif level == "routine" and routed.created and not in_business_hours(settings, now) and not _acked_lately(ctx):
        opening = describe_opening(next_opening(settings, now), now, lang)
        body = wording.patient_after_hours(practice, settings.practice_phone, opening, lang)
    if body is None:
        return False
    await ctx.reply(body, kind="clinical")
    # This answer stands for the router's acknowledgement too: no second "we got your message" right after.
    ctx.conversation.state_data = {**ctx.conversation.state_data, "last_ack_at": now.isoformat()}
    return True
