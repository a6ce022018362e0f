"""Lytics' wait tool. Lytics jobs run and sleep rather than end, so its wait follows either the run in hand
(``until="run_ends"``: a running job until it sleeps or stops; a sleeping job until its next run has run) or
any change of status (``until="status_changes"``); a job that is over (completed, failed, paused, faulted,
deleted) answers at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from jobs_mcp.operations import Operation
from jobs_mcp.providers.lytics.reads import OPERATIONS as READS
from jobs_mcp.providers.lytics.reads import JobId, JobResult
from jobs_mcp.providers.lytics.vocabulary import ACTIVE_STATUSES
from jobs_mcp.waits import Seen, Wait, WaitInput


class WaitJobArgs(WaitInput):
    job_id: JobId
    until: Literal["run_ends", "status_changes"] = Field("run_ends", description="status_changes: return on any change")


def _look(args: WaitJobArgs, result: JobResult, history: Sequence[str]) -> Seen:
    status = result.job.status
    normal = status.strip().lower()
    if args.until == "status_changes":
        ended = bool(history) and status != history[0]
    elif result.health != "live":
        ended = True  # over, paused or faulted: nothing more will run by itself
    else:
        ran = any(seen.strip().lower() in ACTIVE_STATUSES for seen in history)
        ended = normal not in ACTIVE_STATUSES and ran
    return Seen(status=status, health=result.health, ended=ended)


WAIT = Wait(
    name="lytics_wait_for_job",
    title="Wait for a Lytics job's run",
    description="Wait for a job's current or next run to finish, or for any status change.",
    get=next(op for op in READS if op.name == "lytics_get_job"),
    input_model=WaitJobArgs,
    look=_look,
    after={"resume": {}, "bounce": {}},
    explain="lytics_get_job_logs digests its log.",
    subject="job",
)
OPERATIONS: tuple[Operation[Any, Any], ...] = (WAIT.operation(),)
