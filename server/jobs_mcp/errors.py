"""The error every failed platform call becomes (kept apart from http.py so importing it costs nothing)."""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError


class ApiError(ToolError):
    """An API call that failed; ``status`` is the HTTP status (None when no response came back)."""

    def __init__(
        self, message: str, *, status: int | None = None, code: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after  # a 429's Retry-After in seconds, when it gave one
