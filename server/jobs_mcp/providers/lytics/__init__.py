"""Lytics: jobs ("work") of the Lytics CDP — exports, imports and audience syncs — through its v2 job API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobs_mcp.operations import Operation, Provider, Wire
from jobs_mcp.providers.lytics.vocabulary import ERROR_HINTS, LOG_HINTS, NAME, status_class, version
from jobs_mcp.wire import error_detail, unwrap


def _operations() -> Sequence[Operation[Any, Any]]:
    from jobs_mcp.providers.lytics import health, reads, writes

    return (*reads.OPERATIONS, *health.HEALTH_OPERATIONS, *writes.WRITE_OPERATIONS)


def _simulator(**options: Any) -> Any:
    from jobs_mcp.providers.lytics.simulator import create_app

    return create_app(**options)


def _demo() -> Sequence[Any]:
    from jobs_mcp.providers.lytics import demo

    return demo.STEPS


def _health() -> Sequence[Any]:
    from jobs_mcp.providers.lytics import health

    return health.CHECKS


PROVIDER = Provider(
    name=NAME,
    title="Lytics",
    summary="Lytics jobs (exports, imports, audience syncs)",
    default_url="https://api.lytics.io",
    auth_scheme="",  # Lytics takes the bare token in Authorization
    wire=Wire(unwrap=unwrap, error=error_detail),
    status_class=status_class,
    version=version,
    operations=_operations,
    simulator=_simulator,
    error_hints=ERROR_HINTS,
    log_hints=LOG_HINTS,
    demo=_demo,
    health=_health,
)
