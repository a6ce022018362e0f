"""The HTTP layer: one httpx.AsyncClient per account; envelopes, paging, retries and error messages as the
account's provider declares them.

Every failure leaves this module as an ``ApiError`` (a ``ToolError``) whose message says what happened and what
to do next. Tokens only ever travel in the ``Authorization`` header; any text that comes back from the API is
quoted, truncated and scrubbed of the token before it reaches a message.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from jobs_mcp.config import Account
from jobs_mcp.errors import NOT_SENT, UNREADABLE, ApiError
from jobs_mcp.operations import Provider, QueryParams
from jobs_mcp.textsafe import quote, remember_secret, scrub

__all__ = ["Answer", "ApiClient", "ApiError", "RetryPolicy"]

log = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD"})
# After a write whose answer was lost or unreadable: never "try again", which could do it twice.
MAYBE_APPLIED = (
    "The change may or may not have been applied: check the target with a read tool before proposing it again."
)


@dataclass(frozen=True)
class RetryPolicy:
    """When a call is tried again. Writes are never retried once their request may have been sent."""

    rate_limit_retries: int = 2  # reads: 429, waiting Retry-After (capped)
    retry_after_cap: float = 5.0
    server_error_retries: int = 1  # reads: 5xx, after `backoff`
    connect_retries: int = 2  # any method: the request never left, so trying again is safe
    dropped_read_retries: int = 1  # reads: the connection (often a reused keep-alive one) closed mid-answer
    backoff: float = 0.25


@dataclass(frozen=True)
class Answer:
    """A successful answer: the payload inside the envelope and the cursor of the next page (if any)."""

    payload: Any
    next_cursor: str | None = None


class ApiClient:
    """Talks to one account of one platform. Create once, reuse for every call, ``aclose`` at the end."""

    def __init__(
        self,
        account: Account,
        provider: Provider,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.account = account
        self.provider = provider
        self.platform = provider.title
        # Which in-memory sandbox answers (one per server process, re-seeded at each start); None for a real
        # platform or a sandbox kept in a file. A proposal made against another one cannot be confirmed here.
        self.sandbox_run: str | None = None
        self.policy = policy or RetryPolicy()
        self._hints = dict(provider.error_hints)
        self._sleep = sleep
        self._secret = account.token.get_secret_value()
        if not account.sandbox:
            remember_secret(self._secret)
        self._memo: dict[str, tuple[float, Any]] = {}
        header = provider.authorization(account)
        self._client = httpx.AsyncClient(
            base_url=account.url,
            headers={"Authorization": header, "Accept": "application/json", "User-Agent": "jobs-mcp"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            follow_redirects=False,
        )

    @property
    def read_timeout(self) -> float:
        """Seconds a read may wait for the next bytes of an answer."""
        return self._client.timeout.read or 0.0

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one call (with the retries the policy allows) and return the unwrapped payload."""
        return (await self.fetch(method, path, params=params, body=body, headers=headers)).payload

    async def fetch(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send one call (with the retries the policy allows): the payload and the next page's cursor."""
        method = method.upper()
        is_read = method in READ_METHODS
        where = f"{method} {path}"
        attempt = {"rate": 0, "server": 0, "connect": 0, "dropped": 0}
        while True:
            started = time.perf_counter()
            try:
                response = await self._client.request(
                    method, path, params=params, json=body if body is not None else None, headers=headers
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt["connect"] < self.policy.connect_retries:
                    attempt["connect"] += 1
                    await self._sleep(self.policy.backoff * attempt["connect"])
                    continue
                raise ApiError(
                    f"Cannot reach {self.platform} at {self.account.url} ({type(exc).__name__}). "
                    "Check the URL and your network, then try again."
                ) from None
            except httpx.TimeoutException:
                raise ApiError(
                    f"{self.platform} did not answer {where} within {self.read_timeout:g} s. "
                    + (
                        "It may be slow or overloaded; try again shortly, or raise JOBS_MCP_TIMEOUT."
                        if is_read
                        else MAYBE_APPLIED
                    )
                ) from None
            except (httpx.LocalProtocolError, httpx.InvalidURL, UnicodeEncodeError) as exc:
                # httpx refused to build or write the request: a header value or URL that HTTP cannot carry.
                raise ApiError(
                    f"{where} was refused on this machine before sending ({type(exc).__name__}: a header or the "
                    "URL holds characters HTTP cannot carry). Nothing was sent.",
                    code=NOT_SENT,
                ) from None
            except httpx.TransportError as exc:
                if is_read and attempt["dropped"] < self.policy.dropped_read_retries:
                    # A server (or a proxy) closed a kept-alive connection as the read went out on it: reading
                    # again, on a fresh connection, changes nothing on the platform.
                    attempt["dropped"] += 1
                    log.debug("%s: connection dropped (%s), reading once more", where, type(exc).__name__)
                    continue
                raise ApiError(
                    f"The connection to {self.platform} dropped during {where} ({type(exc).__name__})."
                    + (" Try again." if is_read else " " + MAYBE_APPLIED)
                ) from None
            log.debug(
                "%s %s -> %s in %.0f ms",
                method,
                path,
                response.status_code,
                (time.perf_counter() - started) * 1e3,
            )
            wait = self._retry_wait(response, attempt) if is_read else None
            if wait is not None:
                await self._sleep(wait)
                continue
            return self._payload(response, where, is_read)

    @asynccontextmanager
    async def stream(
        self, path: str, *, params: QueryParams | None = None, accept: str = "text/event-stream"
    ) -> AsyncIterator[httpx.Response]:
        """A GET whose answer is read as it arrives (an event stream, or a log too long to hold). Errors are
        explained as ``fetch`` explains them, and a 429 or 5xx before the body starts is retried as ``fetch``
        retries reads; once the body flows, nothing is retried (the caller decides what a cut-off body means)."""
        where = f"GET {path}"
        request = self._client.build_request("GET", path, params=params, headers={"Accept": accept})
        attempt = {"rate": 0, "server": 0}
        while True:
            try:
                response = await self._client.send(request, stream=True)
            except httpx.TimeoutException:
                raise ApiError(f"{self.platform} did not start answering {where} in time. Try again shortly.") from None
            except httpx.TransportError as exc:
                raise ApiError(f"Cannot read {where} from {self.platform} ({type(exc).__name__}). Try again.") from None
            if response.status_code < 400:
                break
            await response.aread()
            await response.aclose()
            wait = self._retry_wait(response, attempt)
            if wait is None:
                self._payload(response, where)  # an error status: raises the explained error
            else:
                await self._sleep(wait)
        try:
            yield response
        finally:
            await response.aclose()

    def url_for(self, path: str, params: QueryParams | None = None) -> str:
        """The full URL a call would use (for proposals and audit; it never holds a credential)."""
        return str(self._client.build_request("GET", path, params=params).url)

    async def cached_get(self, path: str, ttl: float = 300.0) -> Any:
        """A GET whose payload is reused for ``ttl`` seconds (catalogues that rarely change)."""
        hit = self._memo.get(path)
        if hit and time.monotonic() - hit[0] < ttl:
            return hit[1]
        payload = await self.request("GET", path)
        self._memo[path] = (time.monotonic(), payload)
        return payload

    def _retry_wait(self, response: httpx.Response, attempt: dict[str, int]) -> float | None:
        """How long to wait before reading again after this answer (a 429 or 5xx, while the policy allows), or
        None when the answer stands. Counts the attempt."""
        status = response.status_code
        if status == 429 and attempt["rate"] < self.policy.rate_limit_retries:
            attempt["rate"] += 1
            return self._retry_after(response)
        if status >= 500 and attempt["server"] < self.policy.server_error_retries:
            attempt["server"] += 1
            return self.policy.backoff * attempt["server"]
        return None

    def _retry_after(self, response: httpx.Response) -> float:
        raw = response.headers.get("Retry-After", "")
        try:
            wait = float(raw)
        except ValueError:
            wait = self.policy.backoff
        if not math.isfinite(wait) or wait < 0:
            wait = self.policy.backoff
        return min(wait, self.policy.retry_after_cap)

    def _payload(self, response: httpx.Response, where: str, is_read: bool = True) -> Answer:
        status = response.status_code
        if status < 400 and not response.content.strip():
            return Answer(None)  # 204 No Content (a DELETE): success with nothing to read
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            if status == 429:  # some rate limiters answer in plain text ("Too Many Requests"): still a rate limit
                raise ApiError(
                    self._explain(status, "", "", where, response), status=status, retry_after=_said_wait(response)
                ) from None
            kind = "an HTML page" if "html" in response.headers.get("content-type", "") else "malformed JSON"
            hint = "a proxy or an outage?" if status >= 500 else "an unexpected answer"
            then = "Try again later; if it persists, check the API URL." if is_read else MAYBE_APPLIED
            raise ApiError(
                f"{self.platform} answered {where} with HTTP {status} and {kind} instead of JSON ({hint}). {then}",
                status=status,
                code=UNREADABLE if status < 400 else "",
            ) from None
        wire = self.provider.wire
        if status < 400:
            return Answer(wire.unwrap(body), wire.next_cursor(body))
        code, message = wire.error(body)
        explained = self._explain(status, code, self._scrub(message), where, response)
        if status >= 500 and not is_read:
            explained = explained.removesuffix(" Try again later.") + " " + MAYBE_APPLIED
        raise ApiError(explained, status=status, code=code, retry_after=_said_wait(response) if status == 429 else None)

    def _explain(self, status: int, code: str, message: str, where: str, response: httpx.Response) -> str:
        said = f" {self.platform} said: {quote(message)}" if message else ""
        if code in self._hints:
            said += " " + self._hints[code]
        tag = f" [{code}]" if code else ""
        account = self.account.name
        if status == 401:
            return (
                f"{self.platform} rejected the API token of account {account!r} (HTTP 401{tag}).{said} The token is "
                f"missing, expired or wrong: set a valid one ({self._token_from()}) and restart the server."
            )
        if status == 403:
            return (
                f"The API token of account {account!r} lacks permission for {where} (HTTP 403{tag}).{said} "
                "Ask an admin of the account for a token with that permission."
            )
        if status == 429:
            wait = _said_wait(response)
            after = f" after {wait:g} s" if wait is not None else " in a minute"
            return f"{self.platform} is rate limiting {where} (HTTP 429{tag}). Try again{after}.{said}"
        if status >= 500:
            return f"{self.platform} had a server error on {where} (HTTP {status}{tag}).{said} Try again later."
        return f"{where} failed (HTTP {status}{tag}).{said}"

    def _token_from(self) -> str:
        """Where this account's token is set: the variable it was read from, or its accounts-file table."""
        return self.account.token_from or f"{self.provider.env('api_token')} or the accounts file"

    def _scrub(self, text: str) -> str:
        return scrub(text)


def _said_wait(response: httpx.Response) -> float | None:
    """A 429's Retry-After in seconds; None when absent or a date (a number is all this server repeats)."""
    try:
        wait = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return wait if math.isfinite(wait) and wait >= 0 else None
