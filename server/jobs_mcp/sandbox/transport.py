"""``SandboxTransport``: the simulator in-process, behind an httpx transport that acts like a network.

It wraps ``httpx.ASGITransport`` and adds what a real connection does that the ASGI transport does not:
the request's read timeout is enforced (a slow answer raises ``httpx.ReadTimeout``), and an exception the app
raises (a ``drop`` fault, or a crash) reaches the client as ``httpx.RemoteProtocolError``, as when a server
closes the connection mid-answer. A request that accepts ``text/event-stream`` gets its answer as the app
sends it (``ASGITransport`` would wait for the end of a stream that never ends); closing the response
disconnects the client, as closing a connection does.
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any
from urllib.parse import unquote

import anyio
import httpx
from starlette.types import ASGIApp

Message = dict[str, Any]


class SandboxTransport(httpx.AsyncBaseTransport):
    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._asgi = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {}).get("read")
        if "text/event-stream" in request.headers.get("accept", ""):
            return await self._streamed(request, timeout)
        try:
            with anyio.move_on_after(timeout):  # like fail_after, but a TimeoutError of the app's own stays its own
                return await self._asgi.handle_async_request(request)
        except httpx.HTTPError:
            raise
        except Exception as exc:
            raise httpx.RemoteProtocolError(
                f"server closed the connection without a complete answer ({type(exc).__name__})", request=request
            ) from exc
        raise httpx.ReadTimeout(f"no answer within {timeout:g} s", request=request)

    async def _streamed(self, request: httpx.Request, wait: float | None) -> httpx.Response:
        """The answer as the app sends it: status and headers first, then the body chunk by chunk."""
        messages = _run(self._app, request, wait)
        start = await messages.__anext__()
        if start["type"] == "timeout":
            raise httpx.ReadTimeout(f"no answer within {wait:g} s", request=request)
        if start["type"] != "http.response.start":
            raise httpx.RemoteProtocolError(
                f"server closed the connection without a complete answer ({start.get('error', 'no answer')})",
                request=request,
            )
        return httpx.Response(start["status"], headers=start.get("headers", []), stream=_Body(messages))

    async def aclose(self) -> None:
        await self._asgi.aclose()


class _Body(httpx.AsyncByteStream):
    def __init__(self, messages: AsyncGenerator[Message]) -> None:
        self._messages = messages

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for message in self._messages:
            if message["type"] == "error":
                raise httpx.RemoteProtocolError(f"server closed the connection mid-answer ({message['error']})")
            if message.get("body"):
                yield message["body"]

    async def aclose(self) -> None:
        await self._messages.aclose()


async def _run(app: ASGIApp, request: httpx.Request, wait: float | None) -> AsyncGenerator[Message]:
    """The app's response messages as it sends them, ending with the last body part; a failure is a message
    ``{"type": "error"}`` and no start within ``wait`` seconds is ``{"type": "timeout"}`` (nothing is raised across the
    generator's task group). Closing the generator disconnects and stops the app."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "headers": [(k.lower(), v) for k, v in request.headers.raw],
        "scheme": request.url.scheme,
        "path": unquote(request.url.path),
        "raw_path": request.url.raw_path.split(b"?")[0],
        "query_string": request.url.query,
        "server": (request.url.host, request.url.port),
        "client": ("127.0.0.1", 123),
        "root_path": "",
    }
    body = await request.aread()
    sent, received = anyio.create_memory_object_stream[Message](math.inf)
    gone = anyio.Event()
    asked = False

    async def receive() -> Message:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        await sent.send(dict(message))

    async def serve() -> None:
        async with sent:
            try:
                await app(scope, receive, send)  # type: ignore[arg-type]
            except Exception as exc:
                await sent.send({"type": "error", "error": type(exc).__name__})

    async with anyio.create_task_group() as tg, received:
        tg.start_soon(serve)
        try:
            with anyio.move_on_after(wait) as waiting:
                first = await received.receive()
            if waiting.cancelled_caught:
                yield {"type": "timeout"}
                return
            yield first
            if first["type"] != "http.response.start":
                return
            async for message in received:
                yield message
                if message["type"] == "error" or not message.get("more_body", False):
                    return
        except GeneratorExit:
            pass  # closed by the reader: the finally disconnects the app
        except anyio.EndOfStream:
            yield {"type": "error", "error": "no answer"}
        finally:
            gone.set()
            tg.cancel_scope.cancel()
