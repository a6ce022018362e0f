"""WiseRows writes: cancel a pending or running job, through the gate (nothing is sent on the call).

Cancelling is best effort and never rolls back: the step in progress still finishes, and what the job already
did (rows published, cells written) stays done. The proposal and the result both say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jobs_mcp.gate import ActionResult
from jobs_mcp.operations import Change, Endpoint, Operation, Plan, Risk, WriteSpec, segment
from jobs_mcp.providers.wiserows.reads import JOB_PATH, NOT_FOUND, Job, JobArgs, progress_text
from jobs_mcp.providers.wiserows.vocabulary import CANCELLABLE, NAME, status_class
from jobs_mcp.textsafe import quote

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient

BEST_EFFORT = "best effort: the step in progress finishes first, and work already done is not rolled back"


async def _job_without_logs(api: ApiClient, args: JobArgs) -> dict[str, Any]:
    """The job a cancel is proposed against, without its logs (they can be long, and a proposal carries its target)."""
    job = await api.request("GET", JOB_PATH.format(job_id=segment(args.job_id)))
    return {k: v for k, v in job.items() if k != "logs"} if isinstance(job, dict) else {"value": job}


def _refuse(args: JobArgs, target: dict[str, Any] | None) -> str | None:
    status = str((target or {}).get("status", "unknown"))
    if status in CANCELLABLE or status_class(status) == "unknown":
        return None
    return (
        f"Job {args.job_id} is {status}: it already ended, and WiseRows cancels only pending or running jobs. "
        "Nothing was proposed."
    )


def _plan(args: JobArgs, target: dict[str, Any] | None) -> Plan:
    job = Job.model_validate(target or {"id": args.job_id})
    return Plan(
        summary=f"Cancel job {quote(job.name, 80)} ({job.id}), {BEST_EFFORT}",
        changes=[
            Change(field="status", before=job.status, after="cancelled"),
            Change(field="progress", before=progress_text(job.progress), after="kept as it is then (no rollback)"),
        ],
    )


WRITE_OPERATIONS: tuple[Operation[Any, Any], ...] = (
    Operation(
        name="wiserows_cancel_job",
        title="Cancel a WiseRows job",
        description="Propose cancelling a pending or running job. Best effort: the current step finishes; "
        "no rollback of work done.",
        provider=NAME,
        kind="lifecycle",
        endpoint=Endpoint("POST", (JOB_PATH + "/cancel",)),
        input_model=JobArgs,
        result_model=ActionResult,
        not_found=NOT_FOUND,
        write=WriteSpec(
            verb="cancel",
            effect="interrupts",
            risk=Risk(
                level="medium",
                note="Best effort, no rollback: the step in progress still finishes before the job stops, and items "
                "already processed stay processed (published rows stay published, written cells stay written).",
            ),
            plan=_plan,
            refuse=_refuse,
            read_target=_job_without_logs,
        ),
    ),
)
