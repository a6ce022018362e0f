"""Who is calling: proposals belong to the principal that made them, and only they may see, confirm or cancel them.

Over authenticated HTTP the principal is the one the bearer token names. Without auth (stdio, where the server
serves the one person who launched it) it is ``local``.
"""

from __future__ import annotations

from mcp.server.auth.middleware.auth_context import get_access_token

LOCAL = "local"


def current_principal() -> str:
    token = get_access_token()
    return token.client_id if token is not None and token.client_id else LOCAL
