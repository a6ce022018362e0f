"""Strait: HTTP and worker jobs with cron schedules, triggered runs, dependencies and versions (``/v1`` API).

A job is ``enabled`` and/or ``paused``; its runs carry the statuses. Lists page with ``{data, next_cursor,
has_more}``; errors come as ``{"error": {"code", "message", "details"}}``, except the per-route rate limit, which
answers a plain-text 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from jobs_mcp.operations import Provider, Wire, lazy
from jobs_mcp.providers.strait.vocabulary import (
    ERROR_HINTS,
    LOG,
    MESSAGE_HINTS,
    MESSAGE_PREFIX_HINTS,
    NAME,
    status_class,
    version,
)
from jobs_mcp.wire import error_detail

_PAGE_KEYS = frozenset({"data", "next_cursor", "has_more"})


def _unwrap(body: Any) -> Any:
    """A page ``{data, next_cursor?, has_more}`` holds its items; every other answer is the object itself."""
    if isinstance(body, dict) and "data" in body and "has_more" in body and set(body) <= _PAGE_KEYS:
        return body["data"]
    return body


def _next_cursor(body: Any) -> str | None:
    if isinstance(body, dict) and body.get("has_more") and body.get("next_cursor"):
        return str(body["next_cursor"])
    return None


def _error(body: Any) -> tuple[str, str]:
    """(code, message) of Strait's error envelope, its validation details and what to do after known messages."""
    code, message = error_detail(body)
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    if isinstance(details, list) and details:
        message += " (" + "; ".join(str(d) for d in details[:10]) + ")"
    hint = MESSAGE_HINTS.get(message) or next(
        (h for prefix, h in MESSAGE_PREFIX_HINTS.items() if message.startswith(prefix)), ""
    )
    return code, f"{message}. {hint}" if hint else message


PROVIDER = Provider(
    name=NAME,
    probe="strait_list_jobs",
    show="strait_get_job",
    title="Strait",
    summary="Strait jobs (HTTP/worker jobs, cron schedules, runs, dependencies, versions)",
    default_url="https://api.strait.dev",
    wire=Wire(unwrap=_unwrap, error=_error, next_cursor=_next_cursor),
    status_class=status_class,
    version=version,
    operations=lazy(
        "jobs_mcp.providers.strait.reads:OPERATIONS",
        "jobs_mcp.providers.strait.writes:WRITE_OPERATIONS",
        "jobs_mcp.providers.strait.waits:OPERATIONS",
    ),
    simulator=lazy("jobs_mcp.providers.strait.simulator:create_app"),
    extras=("project_id",),
    sandbox_extras={"project_id": "proj_northwind_data"},
    error_hints=ERROR_HINTS,
    log=LOG,
    demo=lazy("jobs_mcp.providers.strait.demo:STEPS"),
    health=lazy("jobs_mcp.providers.strait.health:CHECKS"),
)
