"""OwlMetry: a team's background job runs (RevenueCat and Apple Search Ads syncs and backfills, App Store syncs,
system maintenance) through OwlMetry's job API: list and read runs, trigger a project-scoped job, cancel a run.

Paths under ``/v1/teams/{team_id}`` use the account's team (OWLMETRY_TEAM_ID, or ``team_id`` in the accounts file).
"""

from __future__ import annotations

from jobs_mcp.operations import Provider, Wire, lazy
from jobs_mcp.providers.owlmetry.vocabulary import ERROR_HINTS, NAME, error_detail, next_cursor, status_class, unwrap
from jobs_mcp.providers.owlmetry.vocabulary import version as run_version

SANDBOX_TEAM_ID = "7ff633ef-5ade-45ce-b0d8-a6fa79c36c20"  # seed.TEAM_ID (the seed is imported only by the simulator)


PROVIDER = Provider(
    name=NAME,
    probe="owlmetry_list_job_runs",
    show="owlmetry_get_job_run",
    title="OwlMetry",
    summary="OwlMetry job runs of a team (RevenueCat and Apple Ads syncs, backfills)",
    default_url="https://api.owlmetry.com",
    wire=Wire(unwrap=unwrap, error=error_detail, next_cursor=next_cursor),
    status_class=status_class,
    version=run_version,
    operations=lazy(
        "jobs_mcp.providers.owlmetry.reads:OPERATIONS",
        "jobs_mcp.providers.owlmetry.writes:WRITE_OPERATIONS",
        "jobs_mcp.providers.owlmetry.waits:OPERATIONS",
    ),
    simulator=lazy("jobs_mcp.providers.owlmetry.simulator:create_app"),
    extras=("team_id",),
    sandbox_extras={"team_id": SANDBOX_TEAM_ID},
    error_hints=ERROR_HINTS,
    demo=lazy("jobs_mcp.providers.owlmetry.demo:STEPS"),
    health=lazy("jobs_mcp.providers.owlmetry.health:CHECKS"),
)
