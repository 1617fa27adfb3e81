"""The twilio-python REST client, made safe to use inside Careline's event loop.

Two things the stock ``AsyncTwilioHttpClient`` (twilio 9.x) does not do, and which we need:

* **A timeout.** It ignores the ``timeout`` given to its constructor (twilio/twilio-python#925) and passes
  ``timeout=None`` to aiohttp, which aiohttp reads as "no timeout at all" (not even its 5-minute default).
  :class:`CarelineTwilioHttpClient` applies ``timeout_s`` to every request, end to end (connect, send, read
  the body), and raises :class:`TwilioTimeout` when it expires. A timeout is *not* a failure: Twilio may
  have created the message or call anyway, and ``Messages.create`` has no idempotency key, so a caller must
  not blindly retry it (look the message up first, e.g. ``messages.list_async(to=, from_=,
  date_sent_after=)``).
* **A base URL.** Tests (and a local sandbox) point the client at a fake of Twilio's API: every
  ``https://<anything>.twilio.com`` prefix is rewritten to ``api_url`` unless that is the default
  :data:`DEFAULT_API_URL`. ``edge`` / ``region`` cannot do this.

Errors are left as twilio-python maps them: a 4xx/5xx answer to a create or fetch raises
``twilio.base.exceptions.TwilioRestException`` with ``.status`` (HTTP) and ``.code`` (Twilio's error code,
or the HTTP status when the body carries none). A transport failure (connection refused, reset) is raised
as aiohttp's own ``aiohttp.ClientError``.

Build the client with :func:`make_client` inside the running loop (an aiohttp ``cleanup_ctx`` or a worker's
startup) and release it with :func:`close` on shutdown.
"""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Final

from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

__all__ = [
    "DEFAULT_API_URL",
    "CarelineTwilioHttpClient",
    "TwilioTimeout",
    "basic_auth_header",
    "close",
    "make_client",
]

DEFAULT_API_URL: Final = "https://api.twilio.com"

# Every Twilio product lives on a *.twilio.com host (api., messaging., api.dublin.ie1., ...). The lookahead
# keeps "https://api.twilio.com.example.org" from matching.
_TWILIO_ORIGIN: Final = re.compile(r"^https://[a-z0-9.-]+\.twilio\.com(?=[/?#]|$)")


class TwilioTimeout(TwilioException):  # type: ignore[misc]  # twilio is untyped (Any to mypy)
    """No complete answer from Twilio within the timeout.

    The request may or may not have reached Twilio: the message or call may exist. Catch this *before*
    ``TwilioException`` (it is a subclass, so a broad handler would swallow it) and reconcile instead of
    retrying blindly.
    """

    def __init__(self, method: str, url: str, timeout_s: float) -> None:
        super().__init__(f"no answer from Twilio within {timeout_s:g} s: {method} {url}")
        self.method = method
        self.url = url
        self.timeout_s = timeout_s


# twilio ships no type information, so its classes are Any to mypy: subclassing them needs the ignore.
class CarelineTwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """``AsyncTwilioHttpClient`` with a real per-request timeout and a rewritable base URL.

    Construct it inside a running event loop: the base class opens an ``aiohttp.ClientSession`` at once.
    No retries are configured on purpose: a retried POST after a timeout can send a message twice.
    """

    def __init__(self, *, api_url: str = DEFAULT_API_URL, timeout_s: float = 10.0) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s!r}")
        super().__init__(pool_connections=True, timeout=timeout_s)
        self.api_url: str = api_url.rstrip("/")
        self.timeout_s: float = timeout_s

    def rewrite_url(self, url: str) -> str:
        """The URL actually requested: ``url`` with its Twilio origin replaced by ``api_url``."""
        if self.api_url == DEFAULT_API_URL:
            return url
        return _TWILIO_ORIGIN.sub(lambda _match: self.api_url, url, count=1)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  # twilio-python's HttpClient.request signature
        allow_redirects: bool = False,
    ) -> Response:
        """Send one request; raise :class:`TwilioTimeout` if it does not complete within the timeout.

        ``timeout`` (seconds) overrides ``timeout_s`` for this request; twilio-python itself never passes
        one, so in practice ``timeout_s`` applies.
        """
        effective = self.timeout_s if timeout is None else timeout
        target = self.rewrite_url(url)
        if auth is not None:
            # The base class would pass aiohttp.BasicAuth as `auth=`: both are deprecated in aiohttp 3.14
            # (DeprecationWarning, removed in 4.0). Send the same header ourselves instead.
            headers = {**(headers or {}), "Authorization": basic_auth_header(*auth)}
            auth = None
        try:
            # asyncio.timeout bounds the whole exchange (pool wait, connect, send, read the body); the same
            # value is handed to aiohttp so its socket timeouts agree.
            async with asyncio.timeout(effective):
                response: Response = await super().request(
                    method,
                    target,
                    params=params,
                    data=data,
                    headers=headers,
                    auth=auth,
                    timeout=effective,
                    allow_redirects=allow_redirects,
                )
        except TimeoutError as exc:  # aiohttp's ServerTimeoutError is a TimeoutError too
            raise TwilioTimeout(method.upper(), target, effective) from exc
        return response

    async def close(self) -> None:
        """Close the pooled aiohttp session (idempotent)."""
        session = self.session
        if session is not None and not session.closed:
            await session.close()


def basic_auth_header(login: str, password: str) -> str:
    """The ``Authorization`` header value for HTTP basic auth (RFC 7617, UTF-8)."""
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode("ascii")


def make_client(
    account_sid: str, auth_token: str, api_url: str = DEFAULT_API_URL, timeout_s: float = 10.0
) -> tuple[Client, CarelineTwilioHttpClient]:
    """A twilio ``Client`` whose requests go through a :class:`CarelineTwilioHttpClient`.

    Call it inside the running event loop; pass the returned http client to :func:`close` on shutdown.
    Credentials are taken from the arguments only, never from ``TWILIO_*`` environment variables.
    """
    if not account_sid or not auth_token:
        # twilio-python would silently fall back to TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN from os.environ.
        raise ValueError("account_sid and auth_token are required")
    asyncio.get_running_loop()  # raises RuntimeError outside a loop, before a session is opened
    http_client = CarelineTwilioHttpClient(api_url=api_url, timeout_s=timeout_s)
    client = Client(
        username=account_sid,
        password=auth_token,
        account_sid=account_sid,
        http_client=http_client,
    )
    # ClientBase also reads TWILIO_EDGE / TWILIO_REGION from os.environ (an empty `environment=` mapping does
    # not stop it: `environment or os.environ`). They would change the host name; settings, not ambient
    # environment variables, configure Careline, so pin them off.
    client.edge = None
    client.region = None
    return client, http_client


async def close(http_client: CarelineTwilioHttpClient) -> None:
    """Release the client's connections. Safe to call twice."""
    await http_client.close()
