"""``SandboxTransport``: the simulator in-process, behind an httpx transport that acts like a network.

It wraps ``httpx.ASGITransport`` and adds what a real connection does that the ASGI transport does not:
the request's read timeout is enforced (a slow answer raises ``httpx.ReadTimeout``), and an exception the app
raises (a ``drop`` fault, or a crash) reaches the client as ``httpx.RemoteProtocolError``, as when a server
closes the connection mid-answer.
"""

from __future__ import annotations

import anyio
import httpx
from starlette.types import ASGIApp


class SandboxTransport(httpx.AsyncBaseTransport):
    def __init__(self, app: ASGIApp) -> None:
        self._asgi = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {}).get("read")
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

    async def aclose(self) -> None:
        await self._asgi.aclose()
