"""OwlMetry: a team's background job runs (RevenueCat and Apple Search Ads syncs and backfills, App Store syncs,
system maintenance) through OwlMetry's job API: list and read runs, trigger a project-scoped job, cancel a run.

Paths under ``/v1/teams/{team_id}`` use the account's team (OWLMETRY_TEAM_ID, or ``team_id`` in the accounts file).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobs_mcp.operations import Operation, Provider, Wire
from jobs_mcp.providers.owlmetry.vocabulary import ERROR_HINTS, NAME, error_detail, next_cursor, status_class, unwrap
from jobs_mcp.providers.owlmetry.vocabulary import version as run_version

SANDBOX_TEAM_ID = "7ff633ef-5ade-45ce-b0d8-a6fa79c36c20"  # seed.TEAM_ID (the seed is imported only by the simulator)


def _operations() -> Sequence[Operation[Any, Any]]:
    from jobs_mcp.providers.owlmetry import reads, writes

    return (*reads.OPERATIONS, *writes.WRITE_OPERATIONS)


def _simulator(**options: Any) -> Any:
    from jobs_mcp.providers.owlmetry.simulator import create_app

    return create_app(**options)


def _demo() -> Sequence[Any]:
    from jobs_mcp.providers.owlmetry import demo

    return demo.STEPS


def _health() -> Sequence[Any]:
    from jobs_mcp.providers.owlmetry import health

    return health.CHECKS


PROVIDER = Provider(
    name=NAME,
    title="OwlMetry",
    summary="OwlMetry job runs of a team (RevenueCat and Apple Ads syncs, backfills)",
    default_url="https://api.owlmetry.com",
    wire=Wire(unwrap=unwrap, error=error_detail, next_cursor=next_cursor),
    status_class=status_class,
    version=run_version,
    operations=_operations,
    simulator=_simulator,
    extras=("team_id",),
    sandbox_extras={"team_id": SANDBOX_TEAM_ID},
    error_hints=ERROR_HINTS,
    demo=_demo,
    health=_health,
)
