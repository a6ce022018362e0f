"""OwlMetry's wait tool: a job run followed through owlmetry_get_job_run until it completes, fails or is
cancelled, with its processed/total percent as progress."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobs_mcp.operations import Operation
from jobs_mcp.providers.owlmetry.reads import OPERATIONS as READS
from jobs_mcp.providers.owlmetry.reads import RunId, RunResult
from jobs_mcp.render import parse_time
from jobs_mcp.waits import Seen, Wait, WaitInput


class WaitRunArgs(WaitInput):
    run_id: RunId


def _look(_args: WaitRunArgs, result: RunResult, _history: Sequence[str]) -> Seen:
    run = result.run
    return Seen(
        status=run.status,
        health=result.health,
        ended=result.health not in ("live", "unknown"),
        percent=result.progress_percent,
        started=parse_time(run.started_at),
        finished=parse_time(run.completed_at),
        detail=run.error or None,
    )


WAIT = Wait(
    name="owlmetry_wait_for_run",
    title="Wait for an OwlMetry job run",
    description="Wait for a job run to end: its final status, progress and error.",
    get=next(op for op in READS if op.name == "owlmetry_get_job_run"),
    input_model=WaitRunArgs,
    look=_look,
    after={"trigger": {}},
)
OPERATIONS: tuple[Operation[Any, Any], ...] = (WAIT.operation(),)
