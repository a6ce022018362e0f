"""The one token check every simulator shares: read the credential, resolve it to what it may do, or refuse.

A simulator declares only what differs between platforms: the scheme in front of the token ("Bearer", or "" for a
bare token), where else the token may come from (Lytics' v1 routes take ``?access_token=``), how a token resolves
to its grant (scopes, a level, a principal; None when unknown) and the platform's own 401 answer. The grant is
put in ``scope["state"][state_key]`` (``request.state.<state_key>`` in a handler). The control routes under
``/_sandbox/`` need no token.

A platform that checks the token only after routing and body parsing (OwlMetry's Fastify preHandler) cannot use a
middleware at all and calls its own check in the handlers.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from jobs_mcp.sandbox.faults import ADMIN_PREFIX

# (scope, the token as sent: "" when none was) -> the platform's 401 answer
Refusal = Callable[[Scope, str], Response]


def bearer_token(header: str, scheme: str) -> str:
    """The token in an ``Authorization`` value: after ``scheme`` (any case, one space), or the whole value when
    the scheme is "". "" when the header does not use the scheme."""
    header = header.strip()
    if not scheme:
        return header
    given, _, token = header.partition(" ")
    return token.strip() if given.lower() == scheme.lower() else ""


def lookup(tokens: Mapping[str, Any], token: str) -> Any | None:
    """What a known token grants (compared in constant time), or None."""
    for known, grant in tokens.items():
        if hmac.compare_digest(token.encode(), known.encode()):
            return grant
    return None


class TokenAuth:
    """ASGI middleware: refuses a request whose token does not resolve, else stores its grant and passes it on."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        resolve: Callable[[str], Any | None],
        refuse: Refusal,
        scheme: str = "Bearer",
        state_key: str = "grant",
        fallback: Callable[[Request], str] | None = None,
    ) -> None:
        self.app = app
        self.resolve = resolve
        self.refuse = refuse
        self.scheme = scheme
        self.state_key = state_key
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        token = bearer_token(Headers(scope=scope).get("authorization", ""), self.scheme)
        if not token and self.fallback is not None:
            token = self.fallback(Request(scope)).strip()
        grant = self.resolve(token) if token else None
        if grant is None:
            await self.refuse(scope, token)(scope, receive, send)
            return
        scope.setdefault("state", {})[self.state_key] = grant
        await self.app(scope, receive, send)
