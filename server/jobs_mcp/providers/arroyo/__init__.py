"""Arroyo: streaming SQL pipelines and their jobs, through Arroyo's REST API (``/api/v1``).

Arroyo controls everything through the pipeline: stop, start and rescale are a ``PATCH`` of the pipeline,
restart is ``POST /pipelines/{id}/restart``; a job is read through its pipeline.
"""

from __future__ import annotations

from typing import Any

from jobs_mcp.operations import Provider, Wire, lazy
from jobs_mcp.providers.arroyo.vocabulary import LOG, NAME, status_class, version
from jobs_mcp.wire import error_detail


def _unwrap(body: Any) -> Any:
    """``{data, hasMore}`` and ``{data}`` list envelopes hold their items; every other answer is the object."""
    if isinstance(body, dict) and "data" in body and set(body) <= {"data", "hasMore"}:
        return body["data"]
    return body


def _next_cursor(body: Any) -> str | None:
    """Arroyo pages with ``starting_after``: the next page starts after the last item of this one."""
    if not isinstance(body, dict) or not body.get("hasMore"):
        return None
    items = body.get("data") or []
    last = items[-1] if items and isinstance(items[-1], dict) else {}
    return str(last["id"]) if last.get("id") else None


PROVIDER = Provider(
    name=NAME,
    probe="arroyo_list_pipelines",
    show="arroyo_get_job",
    title="Arroyo",
    summary="Arroyo streaming SQL pipelines and their jobs",
    default_url="http://localhost:5115",
    wire=Wire(unwrap=_unwrap, error=error_detail, next_cursor=_next_cursor),
    status_class=status_class,
    version=version,
    operations=lazy(
        "jobs_mcp.providers.arroyo.reads:OPERATIONS",
        "jobs_mcp.providers.arroyo.waits:OPERATIONS",
        "jobs_mcp.providers.arroyo.observe:OPERATIONS",
        "jobs_mcp.providers.arroyo.flow:OPERATIONS",
        "jobs_mcp.providers.arroyo.writes:WRITE_OPERATIONS",
    ),
    simulator=lazy("jobs_mcp.providers.arroyo.simulator:create_app"),
    log=LOG,
    demo=lazy("jobs_mcp.providers.arroyo.demo:STEPS"),
    health=lazy("jobs_mcp.providers.arroyo.health:CHECKS"),
)
