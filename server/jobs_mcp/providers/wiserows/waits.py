"""WiseRows' wait tool: a job followed through wiserows_get_job until it completes, fails or is cancelled; a
failed job's answer carries the get tool's log digest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobs_mcp.operations import Operation
from jobs_mcp.providers.wiserows.reads import OPERATIONS as READS
from jobs_mcp.providers.wiserows.reads import JobId, JobResult
from jobs_mcp.providers.wiserows.vocabulary import ms_time
from jobs_mcp.render import parse_time
from jobs_mcp.waits import Seen, Wait, WaitInput, percent_of


class WaitJobArgs(WaitInput):
    job_id: JobId


def _look(_args: WaitJobArgs, result: JobResult, _history: Sequence[str]) -> Seen:
    job = result.job
    progress = job.progress
    return Seen(
        status=job.status,
        health=result.health,
        ended=result.health not in ("live", "unknown"),
        percent=percent_of(progress.completed + progress.failed, progress.total),
        started=parse_time(ms_time(job.createdAt)),
        finished=parse_time(ms_time(job.completedAt)),
        digest=result.digest if result.health == "failed" else None,
    )


WAIT = Wait(
    name="wiserows_wait_for_job",
    title="Wait for a WiseRows job",
    description="Wait for a job to end: its final status, progress and a failure's log digest.",
    get=next(op for op in READS if op.name == "wiserows_get_job"),
    input_model=WaitJobArgs,
    look=_look,
    subject="job",
)
OPERATIONS: tuple[Operation[Any, Any], ...] = (WAIT.operation(),)
