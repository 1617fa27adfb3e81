"""The OpenAPI 3.1 document of /api/v1 (served at /api/v1/openapi.json; the README points here)."""

from __future__ import annotations

from typing import Any

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict[str, Any], description: str = "OK", status: str = "200") -> dict[str, Any]:
    return {status: {"description": description, "content": {JSON: {"schema": schema}}}}


def _errors(*codes: str) -> dict[str, Any]:
    text = {
        "401": "Missing or unknown bearer token",
        "403": "The token's role may not do this",
        "404": "No such resource",
        "409": "Conflict: e.g. already acknowledged by someone else",
        "422": "Invalid input: every field with its reason",
    }
    return {
        code: {"description": text[code], "content": {JSON: {"schema": _ref("Invalid" if code == "422" else "Error")}}}
        for code in ("401", "403", *codes)
    }


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": schema}}}


def _id(name: str = "id") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _op(summary: str, role: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "description": f"Role: {role} or above.", "responses": responses, **extra}


def _list(item: str, key: str) -> dict[str, Any]:
    return {"type": "object", "properties": {key: {"type": "array", "items": _ref(item)}}}


NULLABLE_INT = {"type": ["integer", "null"]}
INSTANT = {"type": "string", "format": "date-time"}
NULLABLE_INSTANT = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}},
    "Invalid": {
        "type": "object",
        "properties": {
            "error": {"const": "invalid"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
                    "required": ["field", "reason"],
                },
            },
        },
    },
    "Staff": {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "name": {"type": "string"},
            "role": {"enum": ["nurse", "physician", "admin", "staff"]},
            "phone": {"type": "string", "description": "E.164 (other forms are read as US numbers)"},
            "email": {"type": ["string", "null"]},
            "active": {"type": "boolean", "default": True},
        },
        "required": ["name", "role", "phone"],
    },
    "Rotation": {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "name": {"type": "string"},
            "tier": {"type": "integer", "minimum": 1},
            "zone": {"type": "string", "description": "IANA time zone, e.g. America/New_York"},
            "shift": {"enum": ["daily", "weekly"]},
            "handoff_time": {"type": "string", "pattern": "^\\d\\d:\\d\\d$", "description": "local wall-clock time"},
            "handoff_weekday": {**NULLABLE_INT, "description": "weekly only: 0 = Monday … 6 = Sunday"},
            "start_date": {"type": "string", "format": "date", "description": "local date of the first hand-off"},
            "members": {"type": "array", "items": {"type": "integer"}, "description": "staff ids, in turn order"},
        },
        "required": ["name", "tier", "zone", "shift", "handoff_time", "start_date", "members"],
    },
    "Override": {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "tier": {"type": "integer", "minimum": 1},
            "staff_id": {"type": "integer"},
            "replaces_staff_id": {**NULLABLE_INT, "description": "null adds staff_id to the tier"},
            "start": {**INSTANT, "description": "with a UTC offset"},
            "end": {**INSTANT, "description": "with a UTC offset; after start"},
        },
        "required": ["tier", "staff_id", "start", "end"],
    },
    "OnCallNow": {
        "type": "object",
        "properties": {
            "at": INSTANT,
            "tiers": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "tier": {"type": "integer"},
                        "staff": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "integer"},
                                    "name": {"type": "string"},
                                    "role": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "Target": {
        "type": "object",
        "properties": {
            "kind": {"enum": ["tier", "staff", "phone"]},
            "value": {"type": "string", "description": "a tier number, a staff id, or an E.164 phone"},
            "channels": {"enum": ["sms", "voice", "both", None]},
        },
        "required": ["kind", "value"],
    },
    "Step": {
        "type": "object",
        "properties": {
            "delay_seconds": {"type": "integer", "minimum": 0, "description": "ack window before the next step"},
            "channels": {"enum": ["sms", "voice", "both"], "default": "sms"},
            "targets": {"type": "array", "items": _ref("Target"), "minItems": 1},
        },
        "required": ["delay_seconds", "targets"],
    },
    "Policy": {
        "type": "object",
        "properties": {
            "key": {"type": "string"},
            "name": {"type": "string"},
            "repeat": {"type": "integer", "minimum": 0, "maximum": 20},
            "steps": {"type": "array", "items": _ref("Step"), "minItems": 1},
        },
        "required": ["name", "steps"],
    },
    "Escalation": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "queue": {"type": "string", "description": "triage, care-team, scheduling, pharmacy, …"},
            "level": {"enum": ["emergency", "urgent", "routine", "non_clinical"]},
            "status": {"enum": ["open", "acked", "resolved"]},
            "patient_id": NULLABLE_INT,
            "conversation_id": {"type": "integer"},
            "paged": {"type": "boolean"},
            "step_index": NULLABLE_INT,
            "round": NULLABLE_INT,
            "opened_at": INSTANT,
            "first_page_at": NULLABLE_INSTANT,
            "acked_at": NULLABLE_INSTANT,
            "acked_by_staff_id": NULLABLE_INT,
            "exhausted_at": {**NULLABLE_INSTANT, "description": "ran out of steps unacknowledged"},
            "resolved_at": NULLABLE_INSTANT,
            "resolved_by": {"type": ["string", "null"]},
            "time_to_first_page_s": {"type": ["number", "null"]},
            "time_to_ack_s": {"type": ["number", "null"]},
        },
    },
    "EscalationDetail": {
        "allOf": [
            _ref("Escalation"),
            {
                "type": "object",
                "properties": {
                    "resolution_note": {"type": ["string", "null"]},
                    "timeline": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "at": INSTANT,
                                "kind": {
                                    "type": "string",
                                    "description": "opened, message, triage, page, no_one_on_call, level_raised, "
                                    "ack, escalate, exhausted, note, resolve",
                                },
                                "actor": {"type": "string"},
                                "detail": {"type": "object"},
                                "message": {"type": "object"},
                                "triage": {"type": "object"},
                                "page": {"type": "object"},
                            },
                        },
                    },
                },
            },
        ]
    },
    "ActionResult": {
        "type": "object",
        "properties": {
            "outcome": {"enum": ["done", "already", "taken", "not_found", "exhausted"]},
            "taken_by": {"type": ["string", "null"]},
            "escalation": _ref("Escalation"),
        },
    },
}


def openapi_document() -> dict[str, Any]:
    esc_action = {"parameters": [_id()]}
    paths: dict[str, Any] = {
        "/staff": {
            "get": _op("List staff", "viewer", _ok(_list("Staff", "staff"))),
            "post": _op(
                "Add a staff member",
                "admin",
                {**_ok(_ref("Staff"), "Created", "201"), **_errors("422")},
                requestBody=_body(_ref("Staff")),
            ),
        },
        "/staff/{id}": {
            "parameters": [_id()],
            "get": _op("One staff member", "viewer", {**_ok(_ref("Staff")), **_errors("404")}),
            "patch": _op(
                "Change fields of a staff member",
                "admin",
                {**_ok(_ref("Staff")), **_errors("404", "422")},
                requestBody=_body(_ref("Staff")),
            ),
        },
        "/oncall/rotations": {
            "get": _op("List rotations", "viewer", _ok(_list("Rotation", "rotations"))),
            "post": _op(
                "Add a rotation",
                "admin",
                {**_ok(_ref("Rotation"), "Created", "201"), **_errors("422")},
                requestBody=_body(_ref("Rotation")),
            ),
        },
        "/oncall/rotations/{id}": {
            "parameters": [_id()],
            "get": _op("One rotation", "viewer", {**_ok(_ref("Rotation")), **_errors("404")}),
            "put": _op(
                "Replace a rotation",
                "admin",
                {**_ok(_ref("Rotation")), **_errors("404", "422")},
                requestBody=_body(_ref("Rotation")),
            ),
            "delete": _op("Delete a rotation", "admin", {"204": {"description": "Deleted"}, **_errors("404")}),
        },
        "/oncall/overrides": {
            "get": _op("List overrides", "viewer", _ok(_list("Override", "overrides"))),
            "post": _op(
                "Add an override",
                "admin",
                {**_ok(_ref("Override"), "Created", "201"), **_errors("422")},
                requestBody=_body(_ref("Override")),
            ),
        },
        "/oncall/overrides/{id}": {
            "parameters": [_id()],
            "delete": _op("Delete an override", "admin", {"204": {"description": "Deleted"}, **_errors("404")}),
        },
        "/oncall/now": {
            "get": _op(
                "Who is on call in each tier, now or at an instant",
                "viewer",
                {**_ok(_ref("OnCallNow")), **_errors("422")},
                parameters=[
                    {
                        "name": "at",
                        "in": "query",
                        "required": False,
                        "schema": INSTANT,
                        "description": "ISO 8601 instant with a UTC offset; default now",
                    }
                ],
            )
        },
        "/policies": {
            "get": _op("List escalation policies", "viewer", _ok(_list("Policy", "policies"))),
            "post": _op(
                "Add a policy",
                "admin",
                {**_ok(_ref("Policy"), "Created", "201"), **_errors("422")},
                requestBody=_body(_ref("Policy")),
            ),
        },
        "/policies/{key}": {
            "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": _op("One policy", "viewer", {**_ok(_ref("Policy")), **_errors("404")}),
            "put": _op(
                "Create or replace a policy",
                "admin",
                {**_ok(_ref("Policy")), **_errors("422")},
                requestBody=_body(_ref("Policy")),
            ),
        },
        "/escalations": {
            "get": _op(
                "List escalations, newest first (audited)",
                "viewer",
                {**_ok(_list("Escalation", "escalations")), **_errors("422")},
                parameters=[
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "open,acked,resolved",
                    },
                    {"name": "level", "in": "query", "schema": {"type": "string"}},
                    {"name": "queue", "in": "query", "schema": {"type": "string"}},
                    {"name": "patient_id", "in": "query", "schema": {"type": "integer"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                    {"name": "before_id", "in": "query", "schema": {"type": "integer"}, "description": "paging"},
                ],
            )
        },
        "/escalations/{id}": {
            "parameters": [_id()],
            "get": _op(
                "One escalation with its timeline (audited)",
                "viewer",
                {**_ok(_ref("EscalationDetail")), **_errors("404")},
            ),
        },
        "/escalations/{id}/ack": {
            **esc_action,
            "post": _op(
                "Acknowledge: take it; every pending page is cancelled",
                "nurse",
                {**_ok(_ref("ActionResult")), **_errors("404", "409")},
            ),
        },
        "/escalations/{id}/resolve": {
            **esc_action,
            "post": _op(
                "Resolve (close), with an optional note",
                "nurse",
                {**_ok(_ref("ActionResult")), **_errors("404", "422")},
                requestBody={
                    "required": False,
                    "content": {
                        JSON: {
                            "schema": {"type": "object", "properties": {"note": {"type": "string", "maxLength": 5000}}}
                        }
                    },
                },
            ),
        },
        "/escalations/{id}/escalate": {
            **esc_action,
            "post": _op("Page the next step now", "nurse", {**_ok(_ref("ActionResult")), **_errors("404")}),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Careline API",
            "version": "1",
            "description": "Escalations, on-call schedules and paging policies. Tokens: "
            "`careline token create --role admin|nurse|viewer`. Invalid input: 422 with each field and reason.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
