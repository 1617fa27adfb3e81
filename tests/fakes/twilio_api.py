"""A local fake of Twilio's REST API (Messages and Calls), speaking its wire format.

Serve it on 127.0.0.1 and point ``channels.twilio.rest.make_client(..., api_url=base_url)`` at it::

    async with FakeTwilio() as fake:                   # or: base = await fake.start(); ...; await fake.stop()
        client, http = make_client(fake.account_sid, fake.auth_token, fake.base_url, timeout_s=2)
        fake.script_messages(Http429(), Ok())          # the next two creates: a 429, then a success
        ...
        await fake.wait_for_messages(1)
        assert fake.messages_sent[0].body == "..."

What it does like Twilio (twilio-python 9.13 parses all of it):

* basic auth against ``account_sid`` / ``auth_token``: otherwise 401 ``{"code": 20003, ...}``; another account
  in the path: 404 ``20404``;
* ``POST .../Messages.json``: 201 with a Message resource (``sid`` ``SM`` + 32 hex, ``MM`` with media;
  ``status`` ``queued``, or ``accepted`` with a Messaging Service and no From; ``num_segments`` by GSM-7 /
  UCS-2 rules; dates in RFC 2822), 400 21604 / 21603 / 21602 when To / From / Body are missing;
* ``GET .../Messages.json``: newest first, filters ``To``, ``From``, ``DateSent``, ``DateSent>``,
  ``DateSent<`` (``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SSZ``; ``DateSent`` matches a whole UTC day; compared on
  ``date_sent``, or on ``date_created`` while the message is unsent: see
  :meth:`FakeTwilio.set_message_status`), ``PageSize``
  (default 50, max 1000) and Twilio's paging envelope (``messages``, ``page``, ``page_size``,
  ``next_page_uri``, ...);
* ``GET .../Messages/{Sid}.json``, ``POST .../Calls.json`` (``CA`` + 32 hex), ``GET .../Calls/{Sid}.json``;
* errors as ``{"code", "message", "more_info", "status"}`` JSON, which twilio-python turns into
  ``TwilioRestException(status, code)``; any other path answers a JSON 404.

Every request is recorded in :attr:`FakeTwilio.requests`, before auth, validation or scripting.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Final, TypeAlias, TypeVar
from urllib.parse import urlencode

from aiohttp import web

__all__ = [
    "API_VERSION",
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "Error",
    "FakeTwilio",
    "Hang",
    "Http429",
    "Http500",
    "Ok",
    "Outcome",
    "PlacedCall",
    "RecordedRequest",
    "SentMessage",
    "Unsubscribed",
    "basic_auth_header",
    "num_segments",
]

API_VERSION: Final = "2010-04-01"
DEFAULT_ACCOUNT_SID: Final = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN: Final = "0123456789abcdef0123456789abcdef"


# --------------------------------------------------------------------------------------------- outcomes
@dataclass(frozen=True)
class Ok:
    """Create the resource and answer 201 (what happens when nothing is scripted)."""


@dataclass(frozen=True)
class Error:
    """Answer ``status`` with Twilio's error JSON; nothing is created."""

    status: int
    code: int
    message: str
    retry_after: int | None = None  # seconds, sent as a Retry-After header when set


@dataclass(frozen=True)
class Http429(Error):
    """Twilio's rate limit: 429 / 20429. Never processed, so safe to retry with backoff."""

    status: int = 429
    code: int = 20429
    message: str = "Too Many Requests"


@dataclass(frozen=True)
class Http500(Error):
    status: int = 500
    code: int = 20500
    message: str = "Internal Server Error"


@dataclass(frozen=True)
class Unsubscribed(Error):
    """The recipient texted STOP: 400 / 21610. Record an opt-out; do not retry."""

    status: int = 400
    code: int = 21610
    message: str = "Attempt to send to unsubscribed recipient"


@dataclass(frozen=True)
class Hang:
    """Answer only after ``seconds`` (or when the fake stops, whichever is first).

    ``created=True``: the resource is created the moment the request arrives (it shows in ``messages_sent``,
    list and fetch at once) and the late answer is the usual 201. This is a client timeout where Twilio
    *did* send the message. ``created=False``: nothing is created and the late answer is a 503 / 20503.
    """

    seconds: float
    created: bool = False


Outcome: TypeAlias = Ok | Error | Hang


# --------------------------------------------------------------------------------------------- records
@dataclass
class RecordedRequest:
    """One request as the fake received it. ``form`` keeps repeated keys, in order."""

    method: str
    path: str
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]
    auth: tuple[str, str] | None  # (login, password) from basic auth, None when absent or unparsable
    headers: dict[str, str]
    received_monotonic: float  # time.monotonic() on arrival
    received_at: datetime  # wall clock, UTC
    status: int | None = None  # the HTTP status answered, once answered

    def get(self, name: str) -> str | None:
        """The first value of form field ``name`` (or query parameter, for a GET)."""
        values = self.getall(name)
        return values[0] if values else None

    def getall(self, name: str) -> list[str]:
        source = self.form if self.form else self.query
        return [v for k, v in source if k == name]


@dataclass
class SentMessage:
    """A Message resource the fake created. ``status`` and ``error_code`` change with set_message_status."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    media_urls: list[str]
    status_callback: str | None
    validity_period: int | None
    num_segments: int
    date_created: datetime
    request: RecordedRequest
    status: str = "queued"
    error_code: int | None = None
    date_sent: datetime | None = None
    date_updated: datetime | None = None

    def resource(self) -> dict[str, object]:
        """The JSON Twilio would return for this message."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": _rfc2822(self.date_created),
            "date_sent": _rfc2822(self.date_sent) if self.date_sent else None,
            "date_updated": _rfc2822(self.date_updated or self.date_created),
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": str(len(self.media_urls)),
            "num_segments": str(self.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            "to": self.to,
            "uri": f"{uri}.json",
        }


@dataclass
class PlacedCall:
    """A Call resource the fake created."""

    sid: str
    account_sid: str
    to: str
    from_: str
    url: str | None
    twiml: str | None
    status_callback: str | None
    status_callback_events: list[str]
    timeout: int | None
    machine_detection: str | None
    date_created: datetime
    request: RecordedRequest
    status: str = "queued"

    def resource(self) -> dict[str, object]:
        """The JSON Twilio would return for this call."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": _rfc2822(self.date_created),
            "date_updated": _rfc2822(self.date_created),
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": None,
            "status": self.status,
            "subresource_uris": {
                "notifications": f"{uri}/Notifications.json",
                "recordings": f"{uri}/Recordings.json",
                "events": f"{uri}/Events.json",
            },
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": f"{uri}.json",
        }


# --------------------------------------------------------------------------------------------- segments
_GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED: Final = frozenset("^{}\\[~]|€\f")  # two septets each (escape + char)


def num_segments(body: str) -> int:
    """How many SMS segments ``body`` takes, as Twilio counts them (no smart encoding).

    GSM-7: 160 septets in one segment, else 153 per part (an escape pair is never split). Anything outside
    GSM-7 makes the whole message UCS-2: 70 UTF-16 units in one segment, else 67 per part (a surrogate
    pair is never split). An empty body (media only) is one segment.
    """
    if not body:
        return 1
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in body):
        costs = [2 if ch in _GSM7_EXTENDED else 1 for ch in body]
        single, part = 160, 153
    else:
        costs = [len(ch.encode("utf-16-le")) // 2 for ch in body]
        single, part = 70, 67
    if sum(costs) <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return segments


# --------------------------------------------------------------------------------------------- the fake
_T = TypeVar("_T")
_Handler: TypeAlias = Callable[[web.Request], Awaitable[web.StreamResponse]]
_RECORD: Final = web.RequestKey("careline_fake_twilio_record", RecordedRequest)
_TERMINAL_FOR_ERROR: Final = frozenset({"failed", "undelivered"})
_UNKNOWN_ERROR: Final = 30008


class FakeTwilio:
    """Twilio's Messages and Calls REST API, in-process. See the module docstring.

    Not thread-safe; use it from the test's event loop. ``app`` can also be served by pytest-aiohttp's
    ``aiohttp_server`` fixture instead of :meth:`start` (then set :attr:`base_url` yourself if you use it).
    """

    def __init__(self, account_sid: str = DEFAULT_ACCOUNT_SID, auth_token: str = DEFAULT_AUTH_TOKEN) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.base_url: str | None = None
        self._requests: list[RecordedRequest] = []
        self._messages: list[SentMessage] = []
        self._calls: list[PlacedCall] = []
        self._message_script: deque[Outcome] = deque()
        self._call_script: deque[Outcome] = deque()
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._stopping: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self.app = self._make_app()

    # ---------------------------------------------------------------- serving
    async def start(self) -> str:
        """Serve on 127.0.0.1, a free port; return the base URL (``http://127.0.0.1:PORT``)."""
        if self._runner is not None:
            raise RuntimeError("FakeTwilio is already started")
        self._stopping = asyncio.Event()
        # A short shutdown_timeout: stop() wakes every Hang, so handlers finish at once anyway.
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop serving (idempotent). Pending Hangs answer immediately."""
        if self._stopping is not None:
            self._stopping.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeTwilio:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------- what happened
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in arrival order (a copy)."""
        return list(self._requests)

    @property
    def messages_sent(self) -> list[SentMessage]:
        """Messages created, in creation order (a copy)."""
        return list(self._messages)

    @property
    def calls_made(self) -> list[PlacedCall]:
        """Calls created, in creation order (a copy)."""
        return list(self._calls)

    def message(self, sid: str) -> SentMessage:
        for msg in self._messages:
            if msg.sid == sid:
                return msg
        raise KeyError(sid)

    def call(self, sid: str) -> PlacedCall:
        for placed in self._calls:
            if placed.sid == sid:
                return placed
        raise KeyError(sid)

    def create_requests(self, resource: str = "Messages") -> list[RecordedRequest]:
        """The POSTs to ``Messages.json`` (or ``Calls.json``), whatever their outcome: attempts, not sends."""
        suffix = f"/{resource}.json"
        return [r for r in self._requests if r.method == "POST" and r.path.endswith(suffix)]

    async def wait_for_messages(
        self,
        n: int,
        timeout: float = 5.0,  # noqa: ASYNC109  # the helper's own deadline, named as callers expect
    ) -> list[SentMessage]:
        """Wait until at least ``n`` messages exist; return them all. ``TimeoutError`` says how many came."""
        await self._wait_for(
            lambda: len(self._messages) >= n, timeout, lambda: f"{n} messages, got {len(self._messages)}"
        )
        return self.messages_sent

    async def wait_for_calls(
        self,
        n: int,
        timeout: float = 5.0,  # noqa: ASYNC109  # same
    ) -> list[PlacedCall]:
        """Wait until at least ``n`` calls exist; return them all."""
        await self._wait_for(lambda: len(self._calls) >= n, timeout, lambda: f"{n} calls, got {len(self._calls)}")
        return self.calls_made

    # ---------------------------------------------------------------- scripting
    def script_messages(self, *outcomes: Outcome) -> None:
        """Queue outcomes for the next message creates, one each, in order; then back to :class:`Ok`.

        Requests refused before the script is consulted (bad auth, missing To/From/Body) consume nothing.
        """
        self._message_script.extend(outcomes)

    def script_calls(self, *outcomes: Outcome) -> None:
        """Same as :meth:`script_messages`, for ``Calls.json``."""
        self._call_script.extend(outcomes)

    def reset(self) -> None:
        """Forget requests, resources and unconsumed scripts."""
        self._requests.clear()
        self._messages.clear()
        self._calls.clear()
        self._message_script.clear()
        self._call_script.clear()

    def set_message_status(
        self, sid: str, status: str, error_code: int | None = None, *, now: datetime | None = None
    ) -> SentMessage:
        """Move a message on (what fetch and list then show). ``sent`` and later set ``date_sent``."""
        msg = self.message(sid)
        when = now or datetime.now(UTC)
        msg.status = status
        msg.error_code = error_code
        msg.date_updated = when
        if status in {"sent", "delivered", "undelivered", "read"} and msg.date_sent is None:
            msg.date_sent = when
        return msg

    def status_callbacks_for(
        self, sid: str, statuses: Iterable[str], error_code: int | None = None
    ) -> list[dict[str, str]]:
        """The form parameters of the status callbacks Twilio would POST for message ``sid``, one per status.

        ``ErrorCode`` is added to ``failed`` / ``undelivered`` callbacks (``error_code``, else 30008
        "unknown error"). Nothing is sent and nothing is signed: POST them to ``message(sid).status_callback``
        with an ``X-Twilio-Signature`` made by twilio's ``RequestValidator``. The fake's own record of the
        message does not change (use :meth:`set_message_status` for that).
        """
        msg = self.message(sid)
        callbacks: list[dict[str, str]] = []
        for status in statuses:
            params = {
                "AccountSid": msg.account_sid,
                "ApiVersion": API_VERSION,
                "From": msg.from_ or "",
                "MessageSid": msg.sid,
                "MessageStatus": status,
                "SmsSid": msg.sid,
                "SmsStatus": status,
                "To": msg.to,
            }
            if msg.messaging_service_sid:
                params["MessagingServiceSid"] = msg.messaging_service_sid
            if status in _TERMINAL_FOR_ERROR:
                params["ErrorCode"] = str(error_code if error_code is not None else _UNKNOWN_ERROR)
            callbacks.append(params)
        return callbacks

    def call_status_callbacks_for(self, sid: str, statuses: Iterable[str]) -> list[dict[str, str]]:
        """The form parameters of call status callbacks for call ``sid``, numbered by ``SequenceNumber``."""
        placed = self.call(sid)
        return [
            {
                "AccountSid": placed.account_sid,
                "ApiVersion": API_VERSION,
                "CallSid": placed.sid,
                "CallStatus": status,
                "CallbackSource": "call-progress-events",
                "Direction": "outbound-api",
                "From": placed.from_,
                "SequenceNumber": str(seq),
                "To": placed.to,
            }
            for seq, status in enumerate(statuses)
        ]

    # ---------------------------------------------------------------- the web app
    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._record_middleware])
        base = f"/{API_VERSION}/Accounts/{{account_sid}}"
        app.router.add_post(f"{base}/Messages.json", self._create_message)
        app.router.add_get(f"{base}/Messages.json", self._list_messages)
        app.router.add_get(f"{base}/Messages/{{sid:[A-Za-z0-9]+}}.json", self._fetch_message)
        app.router.add_post(f"{base}/Calls.json", self._create_call)
        app.router.add_get(f"{base}/Calls/{{sid:[A-Za-z0-9]+}}.json", self._fetch_call)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        return app

    @web.middleware
    async def _record_middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        form: list[tuple[str, str]] = []
        if request.method in {"POST", "PUT"}:
            posted = await request.post()
            form = [(k, v) for k, v in posted.items() if isinstance(v, str)]
        auth = _decode_basic_auth(request.headers.get("Authorization", ""))
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=list(request.query.items()),
            form=form,
            auth=auth,
            headers=dict(request.headers),
            received_monotonic=time.monotonic(),
            received_at=datetime.now(UTC),
        )
        self._requests.append(record)
        request[_RECORD] = record
        response = await handler(request)
        record.status = response.status
        return response

    def _check(self, request: web.Request) -> web.Response | None:
        """Auth, then the account in the path: the error to answer, or None."""
        record = request[_RECORD]
        if record.auth != (self.account_sid, self.auth_token):
            return _error(401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        if request.match_info.get("account_sid") != self.account_sid:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        return None

    async def _create_message(self, request: web.Request) -> web.Response:
        if (refused := self._check(request)) is not None:
            return refused
        record = request[_RECORD]
        to, from_, service = record.get("To"), record.get("From"), record.get("MessagingServiceSid")
        body, media = record.get("Body") or "", record.getall("MediaUrl")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not from_ and not service:
            return _error(400, 21603, "A 'From' phone number is required.")
        if not body and not media:
            return _error(400, 21602, "Message body is required.")
        validity = record.get("ValidityPeriod")

        def create() -> SentMessage:
            now = datetime.now(UTC)
            msg = SentMessage(
                sid=("MM" if media else "SM") + secrets.token_hex(16),
                account_sid=self.account_sid,
                to=to,
                from_=from_,
                messaging_service_sid=service,
                body=body,
                media_urls=media,
                status_callback=record.get("StatusCallback"),
                validity_period=int(validity) if validity else None,
                num_segments=num_segments(body),
                date_created=now,
                request=record,
                status="queued" if from_ else "accepted",
            )
            self._messages.append(msg)
            self._notify()
            return msg

        return await self._answer_create(self._message_script, create, lambda msg: msg.resource())

    async def _create_call(self, request: web.Request) -> web.Response:
        if (refused := self._check(request)) is not None:
            return refused
        record = request[_RECORD]
        to, from_ = record.get("To"), record.get("From")
        url, twiml = record.get("Url"), record.get("Twiml")
        if not to:
            return _error(400, 21201, "No 'To' number is specified")
        if not from_:
            return _error(400, 21213, "No 'From' number is specified")
        if not url and not twiml and not record.get("ApplicationSid"):
            # The code is not checked against Twilio; the rule (one of Url / Twiml / ApplicationSid) is.
            return _error(400, 21205, "Either Url, Twiml or ApplicationSid is required")
        call_timeout = record.get("Timeout")

        def create() -> PlacedCall:
            placed = PlacedCall(
                sid="CA" + secrets.token_hex(16),
                account_sid=self.account_sid,
                to=to,
                from_=from_,
                url=url,
                twiml=twiml,
                status_callback=record.get("StatusCallback"),
                status_callback_events=record.getall("StatusCallbackEvent"),
                timeout=int(call_timeout) if call_timeout else None,
                machine_detection=record.get("MachineDetection"),
                date_created=datetime.now(UTC),
                request=record,
            )
            self._calls.append(placed)
            self._notify()
            return placed

        return await self._answer_create(self._call_script, create, lambda placed: placed.resource())

    async def _answer_create(
        self,
        script: deque[Outcome],
        create: Callable[[], _T],
        render: Callable[[_T], dict[str, object]],
    ) -> web.Response:
        outcome: Outcome = script.popleft() if script else Ok()
        if isinstance(outcome, Error):
            headers = {"Retry-After": str(outcome.retry_after)} if outcome.retry_after is not None else None
            return _error(outcome.status, outcome.code, outcome.message, headers)
        if isinstance(outcome, Hang):
            created = create() if outcome.created else None
            await self._sleep(outcome.seconds)
            if created is None:
                return _error(503, 20503, "Service Unavailable")
            return web.json_response(render(created), status=201)
        return web.json_response(render(create()), status=201)

    async def _list_messages(self, request: web.Request) -> web.Response:
        if (refused := self._check(request)) is not None:
            return refused
        query = request.query
        try:
            page_size = min(int(query.get("PageSize", "50")), 1000)
            page = int(query.get("Page", "0"))
            on = _parse_date_filter(query.get("DateSent"))
            after = _parse_date_filter(query.get("DateSent>"))
            before = _parse_date_filter(query.get("DateSent<"))
        except ValueError as exc:
            return _error(400, 20001, f"Invalid parameter: {exc}")
        if page_size < 1 or page < 0:
            return _error(400, 20001, "Invalid paging parameter")

        def keep(msg: SentMessage) -> bool:
            if "To" in query and msg.to != query["To"]:
                return False
            if "From" in query and msg.from_ != query["From"]:
                return False
            when = (msg.date_sent or msg.date_created).replace(microsecond=0)
            return (
                (on is None or _matches(when, on, "="))
                and (after is None or _matches(when, after, ">="))
                and (before is None or _matches(when, before, "<="))
            )

        matching = [m for m in reversed(self._messages) if keep(m)]  # newest first, like Twilio
        start = page * page_size
        chunk = matching[start : start + page_size]
        filters = [(k, v) for k, v in query.items() if k in {"To", "From", "DateSent", "DateSent>", "DateSent<"}]
        path = request.path

        def page_uri(number: int) -> str:
            params = [*filters, ("PageSize", str(page_size)), ("Page", str(number))]
            if number > 0:
                params.append(("PageToken", f"PASM{number * page_size}"))
            return f"{path}?{urlencode(params)}"

        has_next = start + page_size < len(matching)
        return web.json_response(
            {
                "messages": [m.resource() for m in chunk],
                "end": start + max(len(chunk), 1) - 1,
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1) if has_next else None,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
                "start": start,
                "uri": page_uri(page),
            }
        )

    async def _fetch_message(self, request: web.Request) -> web.Response:
        if (refused := self._check(request)) is not None:
            return refused
        try:
            return web.json_response(self.message(request.match_info["sid"]).resource())
        except KeyError:
            return _error(404, 20404, f"The requested resource {request.path} was not found")

    async def _fetch_call(self, request: web.Request) -> web.Response:
        if (refused := self._check(request)) is not None:
            return refused
        try:
            return web.json_response(self.call(request.match_info["sid"]).resource())
        except KeyError:
            return _error(404, 20404, f"The requested resource {request.path} was not found")

    async def _not_found(self, request: web.Request) -> web.Response:
        return _error(404, 20404, f"The requested resource {request.path} was not found")

    # ---------------------------------------------------------------- waiting
    def _notify(self) -> None:
        for done, future in self._waiters:
            if not future.done() and done():
                future.set_result(None)

    async def _wait_for(self, done: Callable[[], bool], deadline_s: float, what: Callable[[], str]) -> None:
        if done():
            return
        entry = (done, asyncio.get_running_loop().create_future())
        self._waiters.append(entry)
        try:
            async with asyncio.timeout(deadline_s):
                await entry[1]
        except TimeoutError:
            raise TimeoutError(f"waited {deadline_s:g} s for {what()}") from None
        finally:
            self._waiters.remove(entry)

    async def _sleep(self, seconds: float) -> None:
        stopping = self._stopping
        if stopping is None:  # served by someone else's runner (aiohttp_server): a plain sleep
            await asyncio.sleep(seconds)
            return
        try:
            async with asyncio.timeout(seconds):
                await stopping.wait()
        except TimeoutError:
            pass


# --------------------------------------------------------------------------------------------- helpers
def basic_auth_header(login: str, password: str) -> str:
    """An ``Authorization`` header value, for tests that call the fake with plain aiohttp.

    (aiohttp 3.14 deprecates ``BasicAuth`` and the ``auth=`` argument: pass ``headers=`` instead.)
    """
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode("ascii")


def _decode_basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        login, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (login, password) if sep else None


def _rfc2822(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC))  # 'Thu, 24 Aug 2023 05:01:45 +0000', as Twilio writes


def _error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
        headers=headers,
    )


def _parse_date_filter(value: str | None) -> date | datetime | None:
    """``YYYY-MM-DD`` (a day) or ``YYYY-MM-DDTHH:MM:SSZ`` (an instant, as twilio-python sends datetimes)."""
    if value is None:
        return None
    if "T" in value:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return date.fromisoformat(value)


def _matches(when: datetime, bound: date | datetime, op: str) -> bool:
    if op == "=":  # DateSent= names a day, even when twilio-python sends it as 'YYYY-MM-DDT00:00:00Z'
        return when.date() == (bound.date() if isinstance(bound, datetime) else bound)
    left: date | datetime = when if isinstance(bound, datetime) else when.date()
    if op == ">=":
        return left >= bound
    return left <= bound
