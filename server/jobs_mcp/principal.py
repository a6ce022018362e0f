"""Who is calling: proposals belong to the principal that made them, and only they may see, confirm or cancel them.

Over authenticated HTTP the principal is the one the bearer token names. Over unauthenticated (loopback) HTTP
with sessions it is the MCP session (``session:<id>``), so one local client cannot confirm another's proposals.
An unauthenticated HTTP request with no session (any request to ``--stateless``, and every 2026-07-28 request,
which never has a session) names no client at all, so it is a principal of its own (``request:<random>``):
nobody lists, confirms or cancels another's proposals, and such a client approves by being asked or on the
approval page, not with a confirmation id. Otherwise (stdio, where the server serves the one person who
launched it) it is ``local``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from mcp.server.auth.middleware.auth_context import get_access_token

LOCAL = "local"

_session: ContextVar[str | None] = ContextVar("jobs_mcp_session", default=None)


@contextmanager
def bind_session(session_id: str | None, *, anonymous: bool = False) -> Iterator[None]:
    """Run the request with its ``mcp-session-id`` known (the HTTP layer calls this; the SDK carries the
    context into the handlers). ``anonymous``: without a session the request is a principal of its own."""
    own = f"request:{secrets.token_hex(8)}" if anonymous else None
    reset = _session.set(f"session:{session_id}" if session_id else own)
    try:
        yield
    finally:
        _session.reset(reset)


def current_principal() -> str:
    token = get_access_token()
    if token is not None and token.client_id:
        return token.client_id
    return _session.get() or LOCAL


def lasts_beyond_the_request() -> bool:
    """Whether the caller's principal is still theirs on their next request (a confirmation id is of use)."""
    return not current_principal().startswith("request:")
