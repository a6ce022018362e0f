"""Who is calling: proposals belong to the principal that made them, and only they may see, confirm or cancel them.

Over authenticated HTTP the principal is the one the bearer token names. Over unauthenticated (loopback) HTTP
with sessions it is the MCP session (``session:<id>``), so one local client cannot confirm another's proposals.
Otherwise (stdio, where the server serves the one person who launched it) it is ``local``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from mcp.server.auth.middleware.auth_context import get_access_token

LOCAL = "local"

_session: ContextVar[str | None] = ContextVar("jobs_mcp_session", default=None)


@contextmanager
def bind_session(session_id: str | None) -> Iterator[None]:
    """Run the request with its ``mcp-session-id`` known (the HTTP layer calls this; the SDK carries the
    context into the handlers)."""
    reset = _session.set(session_id or None)
    try:
        yield
    finally:
        _session.reset(reset)


def current_principal() -> str:
    token = get_access_token()
    if token is not None and token.client_id:
        return token.client_id
    session = _session.get()
    return f"session:{session}" if session else LOCAL
