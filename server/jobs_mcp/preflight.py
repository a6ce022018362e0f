"""Before ``serve`` says it is serving: can it keep its promises?

A write is audited before it is sent and its proposal lives in the state store, so a server that cannot write
either would fail at the first approval, after a person has already said yes. These checks open both for writing
(and reach Redis) at start, with throwaway handles, and turn any problem into one line saying what to fix.
"""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError

from jobs_mcp.audit import AuditLog
from jobs_mcp.config import ConfigError, Settings


async def preflight(settings: Settings) -> None:
    """Raise ``ConfigError`` unless the audit log and the gate's state store (and its key) can be used now. A
    read-only server writes neither, so it is not held back by them."""
    if settings.read_only:
        return
    from jobs_mcp.runtime import Runtime

    runtime = Runtime(settings)
    try:
        store = runtime.gate.store  # opens the store and its signing key, as the first proposal would
        try:
            await store.ping()
        finally:
            await store.aclose()
    except ToolError as exc:
        raise ConfigError(f"pending proposals cannot be kept: {_first_line(exc)}") from None
    audit = AuditLog(runtime.gate.audit.path)
    try:
        audit.check_writable()
    except ToolError as exc:
        raise ConfigError(_first_line(exc)) from None
    finally:
        audit.close()


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]
