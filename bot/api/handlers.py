"""/api/v1 handlers: staff, on-call rotations and overrides, who is on call, policies, escalations.

JSON in and out. Every request needs `Authorization: Bearer <token>` (see bot/api/auth.py) except the OpenAPI
document. Invalid input gets 422 `{"error": "invalid", "errors": [{"field": …, "reason": …}]}`. Every view of
an escalation (list or one) is written to the audit log.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time
from typing import Any

from aiohttp import web
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api.auth import allows, authenticate
from bot.keys import SERVICES
from bot.logging import get_logger
from bot.paging import (
    LEVELS,
    Outcome,
    PolicyError,
    acknowledge,
    escalate_now,
    on_call_at,
    policy_from_json,
    policy_to_json,
    resolve,
    step_to_json,
)
from bot.services import Services
from channels.phone import InvalidPhoneNumber, to_e164
from storage import repo
from storage.models import Message, Staff
from storage.paging import (
    ApiToken,
    Escalation,
    EscalationEvent,
    EscalationStatus,
    OverrideRow,
    Page,
    PolicyRow,
    RotationRow,
)
from triage.importcsv import ROLES, normalize_email
from triage.oncall import Override, load_zone, validate_override, validate_rotation
from triage.policy import default_policy

log = get_logger(__name__)

TOKEN = web.RequestKey("api_token", ApiToken)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Errors = list[tuple[str, str]]


class Invalid(Exception):
    def __init__(self, errors: Errors) -> None:
        super().__init__("; ".join(f"{f}: {r}" for f, r in errors))
        self.errors = errors


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda v: json.dumps(v, default=_default))


def _default(value: object) -> str:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _error(status: int, error: str, **extra: Any) -> web.Response:
    return _json({"error": error, **extra}, status=status)


def guarded(role: str) -> Callable[[Handler], Handler]:
    """Authenticate the bearer token and check its role; map Invalid to 422."""

    def wrap(handler: Handler) -> Handler:
        async def inner(request: web.Request) -> web.StreamResponse:
            services = request.app[SERVICES]
            async with services.sessions() as session, session.begin():
                token = await authenticate(session, request.headers.get("Authorization"), services.now())
            if token is None:
                return _error(401, "unauthorized", detail="send Authorization: Bearer <token>")
            if not allows(token.role, role):
                return _error(403, "forbidden", detail=f"needs the {role} role")
            request[TOKEN] = token
            try:
                return await handler(request)
            except Invalid as exc:
                return _error(422, "invalid", errors=[{"field": f, "reason": r} for f, r in exc.errors])

        return inner

    return wrap


def actor(request: web.Request) -> str:
    token = request[TOKEN]
    return f"staff:{token.staff_id}" if token.staff_id is not None else f"token:{token.id}"


async def body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Invalid([("body", "must be a JSON object")]) from None
    if not isinstance(data, dict):
        raise Invalid([("body", "must be a JSON object")])
    return data


def _int_id(request: web.Request, name: str = "id") -> int:
    raw = request.match_info[name]
    if not raw.isdigit():
        raise web.HTTPNotFound()
    return int(raw)


def parse_instant(value: object, field: str, errors: Errors) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        errors.append((field, "is required: an ISO 8601 instant with a UTC offset, e.g. 2026-03-08T07:30:00-05:00"))
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        errors.append((field, f"{value!r} is not an ISO 8601 instant"))
        return None
    if parsed.tzinfo is None:
        errors.append((field, "needs a UTC offset (e.g. Z or -05:00): a local time is ambiguous"))
        return None
    return parsed.astimezone(UTC)


# --------------------------------------------------------------------------------------------- staff
def staff_json(s: Staff) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, "role": s.role, "phone": s.phone, "email": s.email, "active": s.active}


def _staff_fields(data: dict[str, Any], errors: Errors, *, partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "name" in data or not partial:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append(("name", "is required"))
        else:
            values["name"] = " ".join(name.split())[:200]
    if "role" in data or not partial:
        role = data.get("role")
        if role not in ROLES:
            errors.append(("role", f"must be one of {', '.join(ROLES)}"))
        else:
            values["role"] = role
    if "phone" in data or not partial:
        try:
            values["phone"] = to_e164(str(data.get("phone") or ""))
        except InvalidPhoneNumber as exc:
            errors.append(("phone", str(exc)))
    if data.get("email") not in (None, ""):
        try:
            values["email"] = normalize_email(str(data["email"]))
        except ValueError as exc:
            errors.append(("email", str(exc)))
    elif "email" in data:
        values["email"] = None
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors.append(("active", "must be true or false"))
        else:
            values["active"] = data["active"]
    return values


async def _unique_staff(session: AsyncSession, values: dict[str, Any], errors: Errors, own_id: int | None) -> None:
    for column in ("phone", "email"):
        if values.get(column) is None:
            continue
        found = (
            await session.execute(select(Staff.id).where(getattr(Staff, column) == values[column]))
        ).scalar_one_or_none()
        if found is not None and found != own_id:
            errors.append((column, f"already used by staff #{found}"))


@guarded("viewer")
async def list_staff(request: web.Request) -> web.StreamResponse:
    async with request.app[SERVICES].sessions() as session:
        rows = (await session.execute(select(Staff).order_by(Staff.id))).scalars()
        return _json({"staff": [staff_json(s) for s in rows]})


@guarded("viewer")
async def get_staff(request: web.Request) -> web.StreamResponse:
    async with request.app[SERVICES].sessions() as session:
        staff = await session.get(Staff, _int_id(request))
        if staff is None:
            return _error(404, "not_found")
        return _json(staff_json(staff))


@guarded("admin")
async def create_staff(request: web.Request) -> web.StreamResponse:
    data = await body(request)
    errors: Errors = []
    values = _staff_fields(data, errors, partial=False)
    services = request.app[SERVICES]
    now = services.now()
    async with services.sessions() as session, session.begin():
        await _unique_staff(session, values, errors, None)
        if errors:
            raise Invalid(errors)
        staff = Staff(**values, created_at=now, updated_at=now)
        session.add(staff)
        await session.flush()
        await repo.audit(session, actor=actor(request), action="create", entity="staff", entity_id=staff.id, now=now)
        return _json(staff_json(staff), status=201)


@guarded("admin")
async def update_staff(request: web.Request) -> web.StreamResponse:
    data = await body(request)
    errors: Errors = []
    values = _staff_fields(data, errors, partial=True)
    services = request.app[SERVICES]
    now = services.now()
    async with services.sessions() as session, session.begin():
        staff = await session.get(Staff, _int_id(request))
        if staff is None:
            return _error(404, "not_found")
        await _unique_staff(session, values, errors, staff.id)
        if errors:
            raise Invalid(errors)
        for key, value in values.items():
            setattr(staff, key, value)
        staff.updated_at = now
        await repo.audit(session, actor=actor(request), action="update", entity="staff", entity_id=staff.id, now=now)
        return _json(staff_json(staff))


# --------------------------------------------------------------------------------------------- rotations
def rotation_json(r: RotationRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "tier": r.tier,
        "zone": r.zone,
        "shift": r.shift,
        "handoff_time": r.handoff_time,
        "handoff_weekday": r.handoff_weekday,
        "start_date": r.start_date.isoformat(),
        "members": [int(m) for m in r.members if m.isdigit()],
    }


async def _rotation_values(session: AsyncSession, data: dict[str, Any]) -> dict[str, Any]:
    errors: Errors = []
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(("name", "is required"))
        name = ""
    tier = data.get("tier")
    if isinstance(tier, bool) or not isinstance(tier, int) or tier < 1:
        errors.append(("tier", "must be a whole number, 1 or more"))
        tier = 1
    zone = data.get("zone")
    try:
        load_zone(zone if isinstance(zone, str) else "")
    except ValueError as exc:
        errors.append(("zone", str(exc)))
    shift = data.get("shift")
    if shift not in ("daily", "weekly"):
        errors.append(("shift", "must be 'daily' or 'weekly'"))
    handoff = data.get("handoff_time")
    handoff_time = time(0, 0)
    try:
        if not isinstance(handoff, str) or len(handoff.strip()) != 5:
            raise ValueError(handoff)
        handoff_time = time.fromisoformat(handoff.strip())
    except ValueError:
        errors.append(("handoff_time", "must be a local time HH:MM, e.g. 07:00"))
    weekday = data.get("handoff_weekday")
    if weekday is not None and (isinstance(weekday, bool) or not isinstance(weekday, int)):
        errors.append(("handoff_weekday", "must be 0 (Monday) to 6 (Sunday) or null"))
        weekday = None
    start = data.get("start_date")
    start_date = date(2000, 1, 1)
    try:
        if not isinstance(start, str):
            raise ValueError(start)
        start_date = date.fromisoformat(start)
    except ValueError:
        errors.append(("start_date", "must be a date YYYY-MM-DD"))
    members = data.get("members")
    if (
        not isinstance(members, list)
        or not members
        or not all(isinstance(m, int) and not isinstance(m, bool) for m in members)
    ):
        errors.append(("members", "must be a non-empty list of staff ids"))
        members = []
    else:
        found = set((await session.execute(select(Staff.id).where(Staff.id.in_(members)))).scalars())
        missing = [m for m in members if m not in found]
        if missing:
            errors.append(("members", f"no staff with id {', '.join(str(m) for m in missing)}"))
    if not errors:
        from triage.oncall import Rotation

        rotation = Rotation(
            id="new",
            name=name,
            tier=tier,
            zone=str(zone),
            shift="weekly" if shift == "weekly" else "daily",
            handoff_time=handoff_time,
            start=start_date,
            members=tuple(str(m) for m in members),
            handoff_weekday=weekday,
        )
        errors.extend(("start_date" if e.field == "start" else e.field, e.reason) for e in validate_rotation(rotation))
    if errors:
        raise Invalid(errors)
    return {
        "name": name.strip(),
        "tier": tier,
        "zone": zone,
        "shift": shift,
        "handoff_time": handoff_time.strftime("%H:%M"),
        "handoff_weekday": weekday,
        "start_date": start_date,
        "members": [str(m) for m in members],
    }


async def _unique_rotation_name(session: AsyncSession, name: str, own_id: int | None) -> None:
    found = (await session.execute(select(RotationRow.id).where(RotationRow.name == name))).scalar_one_or_none()
    if found is not None and found != own_id:
        raise Invalid([("name", f"already used by rotation #{found}")])


@guarded("viewer")
async def list_rotations(request: web.Request) -> web.StreamResponse:
    async with request.app[SERVICES].sessions() as session:
        rows = (await session.execute(select(RotationRow).order_by(RotationRow.tier, RotationRow.id))).scalars()
        return _json({"rotations": [rotation_json(r) for r in rows]})


@guarded("viewer")
async def get_rotation(request: web.Request) -> web.StreamResponse:
    async with request.app[SERVICES].sessions() as session:
        row = await session.get(RotationRow, _int_id(request))
        return _error(404, "not_found") if row is None else _json(rotation_json(row))


@guarded("admin")
async def create_rotation(request: web.Request) -> web.StreamResponse:
    data = await body(request)
    services = request.app[SERVICES]
    now = services.now()
    async with services.sessions() as session, session.begin():
        values = await _rotation_values(session, data)
        await _unique_rotation_name(session, values["name"], None)
        row = RotationRow(**values, created_at=now, updated_at=now)
        session.add(row)
        await session.flush()
        await repo.audit(session, actor=actor(request), action="create", entity="rotation", entity_id=row.id, now=now)
        return _json(rotation_json(row), status=201)


@guarded("admin")
async def replace_rotation(request: web.Request) -> web.StreamResponse:
    data = await body(request)
    services = request.app[SERVICES]
    now = services.now()
    async with services.sessions() as session, session.begin():
        row = await session.get(RotationRow, _int_id(request))
        if row is None:
            return _error(404, "not_found")
        values = await _rotation_values(session, data)
        await _unique_rotation_name(session, values["name"], row.id)
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = now
        await repo.audit(session, actor=actor(request), action="update", entity="rotation", entity_id=row.id, now=now)
        return _json(rotation_json(row))


@guarded("admin")
async def delete_rotation(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    now = services.now()
    rotation_id = _int_id(request)
    async with services.sessions() as session, session.begin():
        result = await session.execute(delete(RotationRow).where(RotationRow.id == rotation_id))
        if not getattr(result, "rowcount", 0):
            return _error(404, "not_found")
        await repo.audit(
            session, actor=actor(request), action="delete", entity="rotation", entity_id=rotation_id, now=now
        )
    return web.Response(status=204)


# --------------------------------------------------------------------------------------------- overrides
def override_json(o: OverrideRow) -> dict[str, Any]:
    return {
        "id": o.id,
        "tier": o.tier,
        "staff_id": o.staff_id,
        "replaces_staff_id": o.replaces_staff_id,
        "start": o.start_at.isoformat(),
        "end": o.end_at.isoformat(),
    }


@guarded("viewer")
async def list_overrides(request: web.Request) -> web.StreamResponse:
    async with request.app[SERVICES].sessions() as session:
        rows = (await session.execute(select(OverrideRow).order_by(OverrideRow.start_at))).scalars()
        return _json({"overrides": [override_json(o) for o in rows]})


@guarded("admin")
async def create_override(request: web.Request) -> web.StreamResponse:
    data = await body(request)
    errors: Errors = []
    services = request.app[SERVICES]
    now = services.now()
    tier = data.get("tier")
    if isinstance(tier, bool) or not isinstance(tier, int) or tier < 1:
        errors.append(("tier", "must be a whole number, 1 or more"))
    staff_id = data.get("staff_id")
    replaces = data.get("replaces_staff_id")
    start = parse_instant(data.get("start"), "start", errors)
    end = parse_instant(data.get("end"), "end", errors)
    async with services.sessions() as session, session.begin():
        for field, value, required in (("staff_id", staff_id, True), ("replaces_staff_id", replaces, False)):
            if value is None and not required:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or await session.get(Staff, value) is None:
                errors.append((field, "must be the id of a staff member"))
        if not errors and start is not None and end is not None:
            override = Override(
                tier=int(str(tier)),
                staff_id=str(staff_id),
                start_utc=start,
                end_utc=end,
                replaces=str(replaces) if replaces is not None else None,
            )
            errors.extend(
                (
                    {"start_utc": "start", "end_utc": "end", "replaces": "replaces_staff_id"}.get(e.field, e.field),
                    e.reason,
                )
                for e in validate_override(override)
            )
        if errors or start is None or end is None:
            raise Invalid(errors)
        row = OverrideRow(
            tier=int(str(tier)),
            staff_id=int(str(staff_id)),
            replaces_staff_id=replaces,
            start_at=start,
            end_at=end,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        await repo.audit(session, actor=actor(request), action="create", entity="override", entity_id=row.id, now=now)
        return _json(override_json(row), status=201)


@guarded("admin")
async def delete_override(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    override_id = _int_id(request)
    async with services.sessions() as session, session.begin():
        result = await session.execute(delete(OverrideRow).where(OverrideRow.id == override_id))
        if not getattr(result, "rowcount", 0):
            return _error(404, "not_found")
        await repo.audit(
            session, actor=actor(request), action="delete", entity="override", entity_id=override_id, now=services.now()
        )
    return web.Response(status=204)


@guarded("viewer")
async def oncall_now(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    errors: Errors = []
    at = services.now() if "at" not in request.query else parse_instant(request.query["at"], "at", errors)
    if errors or at is None:
        raise Invalid(errors)
    async with services.sessions() as session:
        tiers = await on_call_at(session, at)
        ids = {int(i) for people in tiers.values() for i in people if i.isdigit()}
        staff = {s.id: s for s in (await session.execute(select(Staff).where(Staff.id.in_(ids)))).scalars()}
    return _json(
        {
            "at": at.isoformat(),
            "tiers": [
                {
                    "tier": tier,
                    "staff": [
                        {"id": s.id, "name": s.name, "role": s.role}
                        for i in people
                        if i.isdigit() and (s := staff.get(int(i))) is not None
                    ],
                }
                for tier, people in tiers.items()
            ],
        }
    )


# --------------------------------------------------------------------------------------------- policies
def policy_json(row: PolicyRow) -> dict[str, Any]:
    return {"key": row.key, "name": row.name, "repeat": row.repeat, "steps": row.steps}


@guarded("viewer")
async def list_policies(request: web.Request) -> web.StreamResponse:
    async with request.app[SERVICES].sessions() as session:
        rows = list((await session.execute(select(PolicyRow).order_by(PolicyRow.key))).scalars())
    found = [policy_json(r) for r in rows]
    if not any(p["key"] == "default" for p in found):
        builtin = default_policy()
        found.insert(
            0,
            {
                "key": "default",
                "name": builtin.name,
                "repeat": builtin.repeat,
                "builtin": True,
                "steps": [step_to_json(s) for s in builtin.steps],
            },
        )
    return _json({"policies": found})


@guarded("viewer")
async def get_policy(request: web.Request) -> web.StreamResponse:
    key = request.match_info["key"]
    async with request.app[SERVICES].sessions() as session:
        row = (await session.execute(select(PolicyRow).where(PolicyRow.key == key))).scalar_one_or_none()
    if row is None:
        if key == "default":
            data = policy_to_json(default_policy())
            return _json(
                {
                    "key": "default",
                    "name": data["name"],
                    "repeat": data["repeat"],
                    "steps": data["steps"],
                    "builtin": True,
                }
            )
        return _error(404, "not_found")
    return _json(policy_json(row))


async def _save_policy(request: web.Request, key: str, data: dict[str, Any], *, create_only: bool) -> web.Response:
    errors: Errors = []
    if not key or len(key) > 64 or not all(c.isalnum() or c in "-_" for c in key):
        errors.append(("key", "must be 1-64 letters, digits, '-' or '_'"))
    try:
        policy = policy_from_json(data, key=key or "x")
    except PolicyError as exc:
        errors.extend(exc.errors)
    if errors:
        raise Invalid(errors)
    services = request.app[SERVICES]
    now = services.now()
    stored = policy_to_json(policy)
    async with services.sessions() as session, session.begin():
        row = (await session.execute(select(PolicyRow).where(PolicyRow.key == key))).scalar_one_or_none()
        status = 200
        if row is None:
            row = PolicyRow(
                key=key, name=policy.name, repeat=policy.repeat, steps=stored["steps"], created_at=now, updated_at=now
            )
            session.add(row)
            status = 201
        elif create_only:
            raise Invalid([("key", f"policy {key!r} already exists; PUT /api/v1/policies/{key} replaces it")])
        else:
            row.name, row.repeat, row.steps, row.updated_at = policy.name, policy.repeat, stored["steps"], now
        await session.flush()
        await repo.audit(session, actor=actor(request), action="save", entity="policy", entity_id=key, now=now)
        return _json(policy_json(row), status=status)


@guarded("admin")
async def create_policy(request: web.Request) -> web.StreamResponse:
    data = await body(request)
    key = data.get("key")
    return await _save_policy(request, key if isinstance(key, str) else "", data, create_only=True)


@guarded("admin")
async def put_policy(request: web.Request) -> web.StreamResponse:
    return await _save_policy(request, request.match_info["key"], await body(request), create_only=False)


# --------------------------------------------------------------------------------------------- escalations
def escalation_json(e: Escalation) -> dict[str, Any]:
    return {
        "id": e.id,
        "queue": e.queue,
        "level": e.level,
        "status": e.status,
        "patient_id": e.patient_id,
        "conversation_id": e.conversation_id,
        "paged": e.paged,
        "step_index": e.step_index,
        "round": e.round,
        "opened_at": e.opened_at,
        "first_page_at": e.first_page_at,
        "acked_at": e.acked_at,
        "acked_by_staff_id": e.acked_by_staff_id,
        "exhausted_at": e.exhausted_at,
        "resolved_at": e.resolved_at,
        "resolved_by": e.resolved_by,
        "time_to_first_page_s": _seconds(e.trigger_received_at, e.first_page_at),
        "time_to_ack_s": _seconds(e.opened_at, e.acked_at),
    }


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else round((end - start).total_seconds(), 3)


@guarded("viewer")
async def list_escalations(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    query = request.query
    errors: Errors = []
    stmt = select(Escalation)
    if "status" in query:
        statuses = [s for s in query["status"].split(",") if s]
        bad = [s for s in statuses if s not in tuple(EscalationStatus)]
        if bad or not statuses:
            errors.append(("status", "must be open, acked or resolved (comma-separated)"))
        stmt = stmt.where(Escalation.status.in_(statuses))
    if "level" in query:
        if query["level"] not in LEVELS:
            errors.append(("level", f"must be one of {', '.join(LEVELS)}"))
        stmt = stmt.where(Escalation.level == query["level"])
    if "queue" in query:
        stmt = stmt.where(Escalation.queue == query["queue"])
    if "patient_id" in query:
        if not query["patient_id"].isdigit():
            errors.append(("patient_id", "must be a whole number"))
        else:
            stmt = stmt.where(Escalation.patient_id == int(query["patient_id"]))
    limit = 50
    if "limit" in query:
        raw = query["limit"]
        if not raw.isdigit() or not 1 <= int(raw) <= 500:
            errors.append(("limit", "must be a whole number from 1 to 500"))
        else:
            limit = int(raw)
    if "before_id" in query:
        if not query["before_id"].isdigit():
            errors.append(("before_id", "must be a whole number"))
        else:
            stmt = stmt.where(Escalation.id < int(query["before_id"]))
    if errors:
        raise Invalid(errors)
    now = services.now()
    async with services.sessions() as session, session.begin():
        rows = list((await session.execute(stmt.order_by(Escalation.id.desc()).limit(limit))).scalars())
        await repo.audit(
            session,
            actor=actor(request),
            action="list",
            entity="escalation",
            entity_id="*",
            now=now,
            detail={"ids": [e.id for e in rows]},
        )
    return _json({"escalations": [escalation_json(e) for e in rows]})


@guarded("viewer")
async def get_escalation(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    escalation_id = _int_id(request)
    now = services.now()
    async with services.sessions() as session, session.begin():
        esc = await session.get(Escalation, escalation_id)
        if esc is None:
            return _error(404, "not_found")
        events = list(
            (
                await session.execute(
                    select(EscalationEvent)
                    .where(EscalationEvent.escalation_id == escalation_id)
                    .order_by(EscalationEvent.id)
                )
            ).scalars()
        )
        message_ids = {e.message_id for e in events if e.message_id is not None}
        messages = {
            m.id: m for m in (await session.execute(select(Message).where(Message.id.in_(message_ids)))).scalars()
        }
        page_ids = {e.page_id for e in events if e.page_id is not None}
        pages = {p.id: p for p in (await session.execute(select(Page).where(Page.id.in_(page_ids)))).scalars()}
        await repo.audit(
            session, actor=actor(request), action="view", entity="escalation", entity_id=escalation_id, now=now
        )
    timeline = []
    for ev in events:
        item: dict[str, Any] = {"at": ev.at, "kind": ev.kind, "actor": ev.actor, "detail": ev.detail}
        if ev.message_id is not None and (msg := messages.get(ev.message_id)) is not None:
            item["message"] = {
                "id": msg.id,
                "direction": msg.direction,
                "body": msg.body,
                "received_at": msg.created_at,
            }
            if ev.kind == "triage" and "triage" in msg.meta:
                item["triage"] = msg.meta["triage"]
        if ev.page_id is not None and (page := pages.get(ev.page_id)) is not None:
            item["page"] = {
                "id": page.id,
                "channel": page.channel,
                "kind": page.kind,
                "staff_id": page.staff_id,
                "status": page.status,
                "step_index": page.step_index,
                "round": page.round,
                "call_status": page.call_status,
            }
        timeline.append(item)
    return _json({**escalation_json(esc), "resolution_note": esc.resolution_note, "timeline": timeline})


async def _action_response(
    result_outcome: Outcome, escalation_id: int, services: Services, **extra: Any
) -> web.Response:
    status = {Outcome.DONE: 200, Outcome.ALREADY: 200, Outcome.EXHAUSTED: 200, Outcome.NOT_FOUND: 404}.get(
        result_outcome, 409
    )
    async with services.sessions() as session:
        esc = await session.get(Escalation, escalation_id)
    payload: dict[str, Any] = {"outcome": result_outcome.value, **extra}
    if esc is not None:
        payload["escalation"] = escalation_json(esc)
    return _json(payload, status=status)


@guarded("nurse")
async def ack_escalation(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    escalation_id = _int_id(request)
    token = request[TOKEN]
    async with services.sessions() as session, session.begin():
        result = await acknowledge(
            session, escalation_id, actor=actor(request), staff_id=token.staff_id, now=services.now(), via="api"
        )
    return await _action_response(result.outcome, escalation_id, services, taken_by=result.taken_by)


@guarded("nurse")
async def resolve_escalation(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    escalation_id = _int_id(request)
    data = await body(request) if request.can_read_body else {}
    note = data.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 5000):
        raise Invalid([("note", "must be text of at most 5000 characters")])
    async with services.sessions() as session, session.begin():
        result = await resolve(session, escalation_id, actor=actor(request), note=note or None, now=services.now())
    return await _action_response(result.outcome, escalation_id, services)


@guarded("nurse")
async def escalate_escalation(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    escalation_id = _int_id(request)
    async with services.sessions() as session, session.begin():
        result = await escalate_now(session, services, escalation_id, actor=actor(request), now=services.now())
    return await _action_response(result.outcome, escalation_id, services, **result.extra)
