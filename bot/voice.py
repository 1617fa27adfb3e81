"""Voice page webhooks under /twilio/voice/ (signed and verified by bot.web.twilio_guard like the SMS webhook).

POST /twilio/voice/page/{page_id}        the TwiML of a voice page: say it, "press 1 to acknowledge"
POST /twilio/voice/page/{page_id}/ack    the <Gather> action: Digits=1 acknowledges the page's escalation
POST /twilio/voice/status                call status callbacks (recorded on the page)

No PHI is spoken: the words are triage/wording.nurse_page_voice's.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import update

from bot.keys import SERVICES
from bot.logging import get_logger
from bot.paging import Outcome, acknowledge, severity_of
from bot.web import FORM, twiml
from channels.twilio.voice import gather_twiml, say_twiml
from storage.paging import Escalation, EscalationStatus, Page
from triage import wording

log = get_logger(__name__)

MAX_REPEATS = 2
WORDS = {
    "acked": "Thank you. Page {n} is yours, and paging has stopped. Goodbye.",
    "taken": "Page {n} was already taken by another nurse. No action is needed. Goodbye.",
    "closed": "Page {n} is no longer open. No action is needed. Goodbye.",
    "no_key": "No key was pressed. Paging continues. Goodbye.",
    "wrong_key": "Sorry, press 1 to acknowledge.",
}


def setup_voice(app: web.Application) -> None:
    app.router.add_post("/twilio/voice/page/{page_id:\\d+}", page_twiml)
    app.router.add_post("/twilio/voice/page/{page_id:\\d+}/ack", page_ack)
    app.router.add_post("/twilio/voice/status", call_status)


def _page_id(request: web.Request) -> int:
    return int(request.match_info["page_id"])


async def page_twiml(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    page_id = _page_id(request)
    raw = request.query.get("n", "0")
    repeat = int(raw) if raw.isdigit() else 0
    async with services.sessions() as session:
        page = await session.get(Page, page_id)
        esc = await session.get(Escalation, page.escalation_id) if page is not None else None
    if page is None or esc is None:
        raise web.HTTPNotFound()
    if esc.status != EscalationStatus.OPEN:
        key = "closed" if esc.status == EscalationStatus.RESOLVED else "taken"
        return twiml(say_twiml(WORDS[key].format(n=esc.id)))
    if repeat >= MAX_REPEATS:
        return twiml(say_twiml(WORDS["no_key"]))
    words = wording.nurse_page_voice(esc.id, severity_of(esc.level), "en", services.settings.practice_name)
    base = f"{services.settings.public_url}/twilio/voice/page/{page_id}"
    return twiml(gather_twiml(words, action=f"{base}/ack", redirect=f"{base}?n={repeat + 1}"))


async def page_ack(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    page_id = _page_id(request)
    digits = request[FORM].get("Digits", "").strip()
    base = f"{services.settings.public_url}/twilio/voice/page/{page_id}"
    now = services.now()
    async with services.sessions() as session, session.begin():
        page = await session.get(Page, page_id)
        if page is None:
            raise web.HTTPNotFound()
        escalation_id = page.escalation_id
        if digits != "1":
            return twiml(gather_twiml(WORDS["wrong_key"], action=f"{base}/ack", redirect=f"{base}?n={MAX_REPEATS - 1}"))
        actor = f"staff:{page.staff_id}" if page.staff_id is not None else "voice"
        result = await acknowledge(session, escalation_id, actor=actor, staff_id=page.staff_id, now=now, via="voice")
    log.info("voice_ack", page_id=page_id, escalation_id=escalation_id, outcome=result.outcome.value)
    if result.outcome in (Outcome.DONE, Outcome.ALREADY):
        return twiml(say_twiml(WORDS["acked"].format(n=escalation_id)))
    if result.outcome is Outcome.TAKEN:
        return twiml(say_twiml(WORDS["taken"].format(n=escalation_id)))
    return twiml(say_twiml(WORDS["closed"].format(n=escalation_id)))


async def call_status(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    form = request[FORM]
    sid = form.get("CallSid", "").strip()
    status = form.get("CallStatus", "").strip().lower()
    if not sid or not status:
        raise web.HTTPBadRequest(text="missing required field(s): CallSid, CallStatus")
    async with services.sessions() as session, session.begin():
        await session.execute(
            update(Page).where(Page.call_sid == sid).values(call_status=status[:16], updated_at=services.now())
        )
    log.info("call_status", sid=sid, status=status)
    return web.Response(status=204)
