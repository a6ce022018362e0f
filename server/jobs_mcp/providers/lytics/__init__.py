"""Lytics: jobs ("work") of the Lytics CDP — exports, imports and audience syncs — through its v2 job API."""

from __future__ import annotations

from jobs_mcp.operations import Provider, Wire, lazy
from jobs_mcp.providers.lytics.vocabulary import ERROR_HINTS, LOG, NAME, status_class, version
from jobs_mcp.wire import error_detail, unwrap

PROVIDER = Provider(
    name=NAME,
    probe="lytics_list_jobs",
    show="lytics_get_job",
    title="Lytics",
    summary="Lytics jobs (exports, imports, audience syncs)",
    default_url="https://api.lytics.io",
    auth_scheme="",  # Lytics takes the bare token in Authorization
    wire=Wire(unwrap=unwrap, error=error_detail),
    status_class=status_class,
    version=version,
    operations=lazy(
        "jobs_mcp.providers.lytics.reads:OPERATIONS",
        "jobs_mcp.providers.lytics.waits:OPERATIONS",
        "jobs_mcp.providers.lytics.health:HEALTH_OPERATIONS",
        "jobs_mcp.providers.lytics.writes:WRITE_OPERATIONS",
    ),
    simulator=lazy("jobs_mcp.providers.lytics.simulator:create_app"),
    error_hints=ERROR_HINTS,
    log=LOG,
    demo=lazy("jobs_mcp.providers.lytics.demo:STEPS"),
    health=lazy("jobs_mcp.providers.lytics.health:CHECKS"),
)
