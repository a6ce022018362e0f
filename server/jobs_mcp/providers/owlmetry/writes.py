"""OwlMetry writes: trigger a job and cancel a running run. Both go through the gate (nothing is sent on the call).

Trigger refuses before proposing what OwlMetry would refuse anyway — an unknown or system job type (naming the
types that can be triggered), a project-scoped type without ``project_id``, a run of that type already pending or
running. Its target is that job type's runs as they are now (``_trigger_target``): a run of the type that becomes
active before the person confirms makes the proposal stale, and the ids of the runs already there are kept with
the proposal, so after a lost answer the gate finds exactly the run this trigger created (``find_created``) and
never sends the trigger again. Cancel is cooperative: OwlMetry only raises a flag that the running handler checks,
so the proposal and the result both say the run stops at its next check; only a running run can be cancelled.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, Field

from jobs_mcp.gate import ActionResult
from jobs_mcp.operations import Change, Endpoint, Operation, OperationInput, Plan, Risk, SafeId, WriteSpec, segment
from jobs_mcp.providers.owlmetry.reads import (
    NOT_FOUND,
    RUN_PATH,
    RUNS_PATH,
    JobRun,
    JobType,
    RunId,
    account_team,
    preflight,
    progress_text,
)
from jobs_mcp.providers.owlmetry.vocabulary import JOB_TYPES, NAME, TRIGGERABLE, status_class
from jobs_mcp.render import short_time
from jobs_mcp.textsafe import quote

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient

MAX_PARAMS_BYTES = 16_000
RECENT = 20  # runs of the type read with a trigger's target; their ids are kept with the proposal


def _small(params: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(params)) > MAX_PARAMS_BYTES:
        raise ValueError(f"is larger than {MAX_PARAMS_BYTES // 1000} kB of JSON")
    return params


Params = Annotated[dict[str, Any], Field(description="job-specific parameters for the handler"), AfterValidator(_small)]


class TriggerArgs(OperationInput):
    job_type: JobType = Field(
        description="revenuecat_user_backfill or apple_ads_sync (system jobs cannot be triggered)"
    )
    project_id: SafeId | None = Field(None, description="project (UUID) to run it for; project-scoped types need it")
    params: Params | None = None
    notify: bool = Field(False, description="email the team when the run ends")


class CancelArgs(OperationInput):
    run_id: RunId


# --- trigger ---------------------------------------------------------------------------------------------


def _type_refusal(args: TriggerArgs) -> str | None:
    can = f"Types that can be triggered (each for one project): {', '.join(TRIGGERABLE)}. Nothing was proposed."
    scope = JOB_TYPES.get(args.job_type)
    if scope is None:
        return f"job_type: {quote(args.job_type, 64)} is not an OwlMetry job type. {can}"
    if scope == "system":
        return (
            f"{args.job_type} is a system job: it runs on OwlMetry's own schedule and cannot be triggered through the "
            f"API. {can}"
        )
    if scope == "project" and not args.project_id:
        return (
            f"project_id: {args.job_type} runs for one project, so give project_id (the project's UUID; "
            "owlmetry_list_job_runs shows the projects of past runs). Nothing was proposed."
        )
    return None


async def _newest_runs(api: ApiClient, args: TriggerArgs) -> list[dict[str, Any]]:
    """The newest runs of this job type (and project), newest first."""
    params = {"job_type": args.job_type, "limit": str(RECENT)}
    if args.project_id:
        params["project_id"] = args.project_id
    runs = await api.request("GET", RUNS_PATH.format(team_id=segment(account_team(api))), params=params)
    return [r for r in (runs if isinstance(runs, list) else []) if isinstance(r, dict) and "id" in r]


async def _trigger_target(api: ApiClient, args: TriggerArgs) -> dict[str, Any] | None:
    """What a trigger is proposed against: the type's run that is pending or running (OwlMetry allows one per type
    and project, so it is among the newest) — its status is the target's, ``none`` when there is none — and the
    ids of the newest runs. Nothing is read for a type that is refused anyway."""
    if _type_refusal(args):
        return None
    runs = await _newest_runs(api, args)
    active = next((r for r in runs if status_class(str(r.get("status", ""))) == "live"), None)
    return {
        "team_id": account_team(api),
        "job_type": args.job_type,
        "project_id": args.project_id,
        "status": str(active["status"]) if active else "none",
        "active_run": {k: active.get(k) for k in ("id", "status", "created_at")} if active else None,
        "recent_run_ids": [str(r["id"]) for r in runs],
    }


def _trigger_refusal(args: TriggerArgs, target: dict[str, Any] | None) -> str | None:
    if reason := _type_refusal(args):
        return reason
    active = (target or {}).get("active_run")
    if active:
        return (
            f"Already running: run {active['id']} ({args.job_type}, {active['status']}, created "
            f"{short_time(active['created_at'])}). OwlMetry runs one at a time per type and project, so nothing was "
            f'proposed. owlmetry_get_job_run(run_id="{active["id"]}") shows its progress.'
        )
    return None


def _trigger_plan(args: TriggerArgs, target: dict[str, Any] | None) -> Plan:
    current = target or {}
    body: dict[str, Any] = {"job_type": args.job_type}
    if args.project_id:
        body["project_id"] = args.project_id
    if args.params is not None:
        body["params"] = args.params
    body["notify"] = args.notify
    where = f" for project {args.project_id}" if args.project_id else ""
    mail = ", emailing the team when it ends" if args.notify else ""
    return Plan(
        summary=f"Trigger {args.job_type}{where}{mail}",
        changes=[Change(field=k, after=v) for k, v in body.items()],
        body=body,
        path=RUNS_PATH.format(team_id=segment(current.get("team_id", ""))) + "/trigger",
        existing=tuple(current.get("recent_run_ids", ())),
    )


async def _find_triggered(api: ApiClient, args: TriggerArgs, existing: list[str]) -> dict[str, Any] | None:
    """After a lost answer: the run of this type (and project) that was not there when the trigger was proposed."""
    return next((run for run in await _newest_runs(api, args) if str(run["id"]) not in existing), None)


# --- cancel ----------------------------------------------------------------------------------------------

COOPERATIVE = "cooperative: the run stops at its next check, not at once"


def _cancel_refusal(args: CancelArgs, target: dict[str, Any] | None) -> str | None:
    status = str((target or {}).get("status", "unknown"))
    if status == "running" or status_class(status) == "unknown":
        return None
    if status == "pending":
        return (
            f"Run {args.run_id} is pending: OwlMetry cancels only running runs. It starts shortly; check it with "
            "owlmetry_get_job_run and cancel it once it is running. Nothing was proposed."
        )
    return f"Run {args.run_id} already ended ({status}); only a running run can be cancelled. Nothing was proposed."


def _cancel_plan(args: CancelArgs, target: dict[str, Any] | None) -> Plan:
    run = JobRun.model_validate(target or {"id": args.run_id})
    return Plan(
        summary=f"Cancel run {run.id} ({run.job_type}, progress {progress_text(run.progress)}), {COOPERATIVE}",
        changes=[Change(field="status", before=run.status, after="cancelled (at the run's next check)")],
    )


WRITE_OPERATIONS: tuple[Operation[Any, Any], ...] = (
    Operation(
        name="owlmetry_trigger_job",
        title="Trigger an OwlMetry job",
        description="Propose running a project-scoped job for one project. Nothing runs until the person confirms.",
        provider=NAME,
        kind="write",
        endpoint=Endpoint("POST", (RUNS_PATH + "/trigger",)),  # the team comes from the target (Plan.path)
        input_model=TriggerArgs,
        result_model=ActionResult,
        check=preflight,
        write=WriteSpec(
            verb="trigger",
            effect="adds",
            risk=Risk(
                level="medium",
                note="Starts a background run that reads and writes the project's data (e.g. a backfill creates and "
                "updates users). It cannot be undone; once running it can only be cancelled cooperatively.",
            ),
            plan=_trigger_plan,
            refuse=_trigger_refusal,
            read_target=_trigger_target,
            find_created=_find_triggered,
        ),
    ),
    Operation(
        name="owlmetry_cancel_job_run",
        title="Cancel an OwlMetry job run",
        description="Propose cancelling a running run. Cooperative: it stops at its next check; work done is kept.",
        provider=NAME,
        kind="lifecycle",
        endpoint=Endpoint("POST", (RUN_PATH + "/cancel",)),
        input_model=CancelArgs,
        result_model=ActionResult,
        check=preflight,
        not_found=NOT_FOUND,
        write=WriteSpec(
            verb="cancel",
            effect="interrupts",
            risk=Risk(
                level="medium",
                note="Cooperative: OwlMetry raises a cancel flag that the run checks between items, so it stops at its "
                "next check, not at once. Work done so far is kept; the run ends cancelled with a partial result.",
            ),
            plan=_cancel_plan,
            refuse=_cancel_refusal,
            target=Endpoint("GET", (RUN_PATH,)),
        ),
    ),
)
