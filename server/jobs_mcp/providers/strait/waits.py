"""Strait's wait tool: a run followed through strait_get_run until it reaches a terminal status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobs_mcp.operations import Operation
from jobs_mcp.providers.strait.reads import RUN_OPERATIONS, RunId, RunResult
from jobs_mcp.providers.strait.vocabulary import TERMINAL_RUN_STATUSES
from jobs_mcp.render import parse_time
from jobs_mcp.waits import Seen, Wait, WaitInput


class WaitRunArgs(WaitInput):
    run_id: RunId


def _look(_args: WaitRunArgs, result: RunResult, _history: Sequence[str]) -> Seen:
    run = result.run
    return Seen(
        status=result.status,
        health=result.health,
        ended=result.status in TERMINAL_RUN_STATUSES,
        started=parse_time(run.get("started_at")),
        finished=parse_time(run.get("finished_at")),
        detail=run.get("error") or None,
        digest=result.events,
    )


WAIT = Wait(
    name="strait_wait_for_run",
    title="Wait for a Strait run",
    description="Wait for a run to end: its final status and a failure's events digest.",
    get=next(op for op in RUN_OPERATIONS if op.name == "strait_get_run"),
    input_model=WaitRunArgs,
    look=_look,
    after={"trigger": {}},
    pace=3.0,
)
OPERATIONS: tuple[Operation[Any, Any], ...] = (WAIT.operation(),)
