"""The error every failed platform call becomes (kept apart from http.py so importing it costs nothing)."""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError

# ``ApiError.code`` of failures that are this server's, not the platform's:
NOT_SENT = "not_sent"  # refused on this machine before any byte left (a header HTTP cannot carry)
UNREADABLE = "unreadable"  # a 2xx whose body cannot be read: a write behind it may have landed


class ApiError(ToolError):
    """An API call that failed; ``status`` is the HTTP status (None when no response came back)."""

    @property
    def maybe_applied(self) -> bool:
        """Whether a write behind this error may have landed: no answer, a 5xx, or a 2xx that cannot be read."""
        if self.code == NOT_SENT:
            return False
        return self.status is None or self.status >= 500 or self.code == UNREADABLE

    def __init__(
        self, message: str, *, status: int | None = None, code: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after  # a 429's Retry-After in seconds, when it gave one
