"""WiseRows: background jobs of a WiseRows workspace (SEO audits, AI column generation, syncs, exports) through its
Jobs API: list jobs, read one with a digest of its log, cancel a pending or running one.

The public docs describe the job object, the three routes and the key levels, but not the response envelope nor
the error bodies. The envelope this provider reads — ``{"success": true, "data": ...}`` and ``{"success": false,
"error": {"code", "message"}}`` — and the error codes its hints are keyed by are the simulator's invention
(``simulator.py`` says so too); a real account answering differently would need ``Wire`` adjusted here.
"""

from __future__ import annotations

from typing import Any

from jobs_mcp.operations import Provider, Wire, lazy
from jobs_mcp.providers.wiserows.vocabulary import ERROR_HINTS, LOG, NAME, status_class, version
from jobs_mcp.wire import error_detail


def _unwrap(body: Any) -> Any:
    """The ``data`` of ``{"success": true, "data": ...}``; any other JSON as it is."""
    if isinstance(body, dict) and "success" in body and "data" in body:
        return body["data"]
    return body


PROVIDER = Provider(
    name=NAME,
    probe="wiserows_list_jobs",
    show="wiserows_get_job",
    title="WiseRows",
    summary="WiseRows background jobs (SEO, AI, sync, export)",
    default_url="https://api.wiserows.com",
    wire=Wire(unwrap=_unwrap, error=error_detail),
    status_class=status_class,
    version=version,
    operations=lazy(
        "jobs_mcp.providers.wiserows.reads:OPERATIONS",
        "jobs_mcp.providers.wiserows.writes:WRITE_OPERATIONS",
        "jobs_mcp.providers.wiserows.waits:OPERATIONS",
    ),
    simulator=lazy("jobs_mcp.providers.wiserows.simulator:create_app"),
    error_hints=ERROR_HINTS,
    log=LOG,
    demo=lazy("jobs_mcp.providers.wiserows.demo:STEPS"),
    health=lazy("jobs_mcp.providers.wiserows.health:CHECKS"),
)
