"""Arroyo's wait tool: a pipeline's job followed through arroyo_get_job until it is in the state asked for
(Running after a start or restart, Stopped after a stop, Finished for a bounded query), or in a terminal state
that is not it (then it will not get there by itself)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from jobs_mcp.operations import Operation
from jobs_mcp.providers.arroyo.reads import OPERATIONS as READS
from jobs_mcp.providers.arroyo.reads import JobResult, PipelineId
from jobs_mcp.providers.arroyo.vocabulary import TERMINAL
from jobs_mcp.waits import Seen, Wait, WaitInput


class WaitJobArgs(WaitInput):
    pipeline_id: PipelineId
    state: Literal["Running", "Stopped", "Finished", "Failed"] = Field(description="the job state to wait for")


def _look(args: WaitJobArgs, result: JobResult, _history: Sequence[str]) -> Seen:
    job = result.job
    reached = job.state == args.state
    failure = f"{job.failure} ({job.failure_domain or 'unknown'} failure)" if job.failure else None
    return Seen(
        status=job.state,
        health=job.health,
        ended=reached or job.state in TERMINAL,
        reached=reached,
        started=job.started,
        finished=job.finished,
        detail=failure,
    )


WAIT = Wait(
    name="arroyo_wait_for_job",
    title="Wait for an Arroyo job state",
    description="Wait for a pipeline's job to reach a state (Running after start, Stopped after stop).",
    get=next(op for op in READS if op.name == "arroyo_get_job"),
    input_model=WaitJobArgs,
    look=_look,
    after={"start": {"state": "Running"}, "restart": {"state": "Running"}, "stop": {"state": "Stopped"}},
    explain="arroyo_get_job_errors digests its errors.",
    subject="pipeline",
    pace=2.0,
    max_pace=10.0,
)
OPERATIONS: tuple[Operation[Any, Any], ...] = (WAIT.operation(),)
