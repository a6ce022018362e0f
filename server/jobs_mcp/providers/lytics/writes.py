"""Lytics writes: create and update (the job payload as the input model) and the lifecycle actions.

None of these send anything when called: each becomes a proposal through the gate (gate.py). Lifecycle
actions are one table, turned into operations by one function.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, Field, field_validator

from jobs_mcp.checks import iana_zone
from jobs_mcp.gate import ActionResult
from jobs_mcp.operations import (
    Change,
    Effect,
    Endpoint,
    Operation,
    OperationInput,
    Plan,
    Risk,
    StatusClass,
    WriteSpec,
    changes_between,
    segment,
)
from jobs_mcp.providers.lytics.reads import (
    JOB_PATHS,
    NOT_FOUND,
    AuthId,
    JobId,
    WorkflowRef,
    WorkflowSlug,
    check_new_job,
    check_update,
)
from jobs_mcp.providers.lytics.vocabulary import NAME, status_class
from jobs_mcp.textsafe import quote

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient


MAX_CONFIG_BYTES = 64_000


def _small_config(config: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(config)) > MAX_CONFIG_BYTES:
        raise ValueError(f"is larger than {MAX_CONFIG_BYTES // 1000} kB of JSON")
    return config


Name = Annotated[str, Field(min_length=1, max_length=200, description="job name")]
Description = Annotated[str, Field(max_length=2000, description="what the job does")]
Config = Annotated[
    dict[str, Any],
    Field(description="the workflow's config fields (lytics_list_workflows shows them); sent whole, replacing the old"),
    AfterValidator(_small_config),
]
AuthIds = Annotated[list[AuthId], Field(max_length=20, description="auth providers the job uses")]
Tag = Annotated[str, Field(max_length=100, description="free-form client tag")]
QuietTime = Annotated[
    str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="start of the daily quiet window, HH:MM (24 h)")
]
QuietZone = Annotated[
    str, Field(max_length=64, description="IANA time zone of the quiet window"), AfterValidator(iana_zone)
]
QuietPeriod = Annotated[int, Field(ge=1, le=24, description="length of the quiet window in hours")]

# Fields a PUT must carry to keep them: Lytics replaces the whole job and resets what is left out.
KEPT_ON_UPDATE = (
    "name",
    "description",
    "config",
    "auth_ids",
    "tag",
    "hidden",
    "verbose_logging",
    "quiet_time_of_day",
    "quiet_timezone",
    "quiet_period",
    "expires_at",
    "drop_events_during_quiet_window",
    "monitoring",
    "meta",
)


class CreateJobArgs(WorkflowRef):
    name: Name
    workflow: WorkflowSlug
    config: Config
    description: Description | None = None
    auth_ids: AuthIds | None = None
    tag: Tag | None = None
    hidden: bool = Field(False, description="hide the job from default lists")
    verbose_logging: bool = Field(False, description="log in detail (for debugging)")
    quiet_time_of_day: QuietTime | None = None
    quiet_timezone: QuietZone | None = None
    quiet_period: QuietPeriod | None = None


class UpdateJobArgs(WorkflowRef):
    job_id: JobId
    workflow: WorkflowSlug | None = Field(None, description="the job's workflow (read from the job when left out)")
    name: Name | None = None
    config: Config | None = None
    description: Description | None = None
    auth_ids: AuthIds | None = None
    tag: Tag | None = None
    hidden: bool | None = Field(None, description="hide the job from default lists")
    verbose_logging: bool | None = Field(None, description="log in detail (for debugging)")
    quiet_time_of_day: QuietTime | None = None
    quiet_timezone: QuietZone | None = None
    quiet_period: QuietPeriod | None = None

    @field_validator("job_id")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(exclude={"job_id", "workflow"}).items() if v is not None}


class JobActionArgs(OperationInput):
    job_id: JobId


def _create_plan(args: CreateJobArgs, target: dict[str, Any] | None) -> Plan:
    """The new job's every field; the workflow's jobs (read as the target) show any namesake already there."""
    body = args.model_dump(exclude_none=True)
    jobs = (target or {}).get("value") or []
    namesakes = [str(j["id"]) for j in jobs if isinstance(j, dict) and j.get("name") == args.name and "id" in j]
    summary = f"Create {args.workflow} job {quote(args.name, 80)}"
    if namesakes:
        summary += f" (NOTE: {len(namesakes)} job(s) with this name exist already: {', '.join(namesakes[:3])})"
    return Plan(summary=summary, changes=changes_between(None, body), body=body, existing=tuple(namesakes))


def _update_plan(args: UpdateJobArgs, target: dict[str, Any] | None) -> Plan:
    current = target or {}
    wanted = args.changes()
    changes = changes_between({k: current.get(k) for k in wanted}, wanted)
    body = {k: current[k] for k in KEPT_ON_UPDATE if current.get(k) is not None} | wanted
    workflow = args.workflow or str(current.get("workflow", ""))
    path = f"/v2/job/{segment(workflow.replace('_', '-'))}/{segment(args.job_id)}"  # workflow is remote text
    fields = ", ".join(dict.fromkeys(c.field.split(".")[0] for c in changes))
    return Plan(
        summary=f"Update job {quote(current.get('name', args.job_id), 80)}: {fields}",
        changes=changes,
        body=body,
        path=path,
    )


def _refuse_update(args: UpdateJobArgs, target: dict[str, Any] | None) -> str | None:
    current = target or {}
    if not args.changes():
        return "Nothing to change: give at least one field to update (name, config, description, ...)."
    if all(current.get(k) == v for k, v in args.changes().items()):
        return "Nothing to change: the job already has these values."
    if args.workflow and current.get("workflow") and args.workflow != current["workflow"]:
        return f"workflow: the job belongs to {current['workflow']}; a job cannot move to another workflow."
    if status_class(str(current.get("status", ""))) == "deleted":
        return "The job is killed (deleted); it cannot be updated."
    return None


async def _find_created(api: ApiClient, args: CreateJobArgs, existing: list[str]) -> dict[str, Any] | None:
    """After a lost answer: is there now a job with this name and workflow that was not there when proposed?"""
    jobs = await api.request("GET", "/v2/job", params={"workflow": args.workflow, "show_all": "true"})
    for job in jobs or []:
        if not isinstance(job, dict) or str(job.get("id")) in existing:
            continue
        if job.get("name") == args.name and job.get("workflow") == args.workflow:
            return dict(job)
    return None


@dataclass(frozen=True)
class Lifecycle:
    action: str
    title: str
    description: str
    allowed: frozenset[StatusClass]  # status classes the action applies to ("unknown" is always let through)
    becomes: str | None  # the status it leads to (None: unchanged)
    risk: Risk
    effect: Effect


LIFECYCLE = (
    Lifecycle(
        "pause",
        "Pause a Lytics job",
        "Propose pausing a job (it stops running until resumed).",
        frozenset({"live", "fault"}),
        "paused",
        Risk(level="low", note="The job stops until it is resumed; nothing is lost."),
        "interrupts",
    ),
    Lifecycle(
        "resume",
        "Resume a Lytics job",
        "Propose resuming a paused or failed job.",
        frozenset({"paused", "failed"}),
        "running",
        Risk(level="low", note="The job is scheduled to run again."),
        "changes",
    ),
    Lifecycle(
        "bounce",
        "Restart (bounce) a Lytics job",
        "Propose restarting a job: its current run stops and it starts again from its saved state.",
        frozenset({"live", "fault"}),
        "running",
        Risk(
            level="medium",
            note="Restarts the job: the run in progress is stopped and started over, and the "
            "error count is reset. Use it to clear a stuck or faulted run.",
        ),
        "restarts",
    ),
    Lifecycle(
        "release",
        "Release a Lytics job",
        "Propose releasing a job's hold (Lytics documents no further effect).",
        frozenset({"live", "fault", "paused", "failed", "completed"}),
        None,
        Risk(level="low", note="Lytics does not document what release changes; the job's status should stay."),
        "changes",
    ),
    Lifecycle(
        "kill",
        "Kill (delete) a Lytics job",
        "Propose deleting a job for good (Lytics calls it kill). To stop it for now, use lytics_pause_job. "
        "Permanent; the person types a confirmation back.",
        frozenset({"live", "fault", "paused", "failed", "completed", "unknown"}),
        "deleted",
        Risk(
            level="high",
            irreversible=True,
            note="PERMANENT: the job stops for good and is deleted. It cannot "
            "be undone or resumed; a new job would have to be created.",
        ),
        "removes",
    ),
)


def _lifecycle_operation(spec: Lifecycle) -> Operation[Any, Any]:
    def plan(args: JobActionArgs, target: dict[str, Any] | None) -> Plan:
        job = target or {}
        status = str(job.get("status", "unknown"))
        name = quote(job.get("name", args.job_id), 80)
        change = [Change(field="status", before=status, after=spec.becomes)] if spec.becomes else []
        return Plan(summary=f"{spec.action.capitalize()} job {name} ({args.job_id})", changes=change)

    def refuse(args: JobActionArgs, target: dict[str, Any] | None) -> str | None:
        status = str((target or {}).get("status", "unknown"))
        kind = status_class(status)
        if kind == "unknown" or kind in spec.allowed:
            return None
        allowed = ", ".join(sorted(spec.allowed - {"unknown"}))
        return (
            f"Cannot {spec.action} job {args.job_id}: it is {status} ({kind}); {spec.action} applies to {allowed} jobs."
        )

    return Operation(
        name=f"lytics_{spec.action}_job",
        title=spec.title,
        description=spec.description,
        provider=NAME,
        kind="lifecycle",
        endpoint=Endpoint("POST", (f"/v2/job/{{job_id}}/{spec.action}",)),
        input_model=JobActionArgs,
        result_model=ActionResult,
        not_found=NOT_FOUND,
        write=WriteSpec(
            verb=spec.action,
            risk=spec.risk,
            plan=plan,
            effect=spec.effect,
            refuse=refuse,
            target=Endpoint("GET", ("/v2/job/{job_id}",)),
            typed_confirmation=spec.effect == "removes",
        ),
    )


WRITE_OPERATIONS: tuple[Operation[Any, Any], ...] = (
    Operation(
        name="lytics_create_job",
        title="Create a Lytics job",
        description="Propose a new job (name, workflow, config, auth_ids, quiet window...). Nothing is created "
        "until the person confirms.",
        provider=NAME,
        kind="write",
        endpoint=Endpoint("POST", ("/v2/job/{workflow_path}",)),
        input_model=CreateJobArgs,
        result_model=ActionResult,
        check=check_new_job,
        write=WriteSpec(
            verb="create",
            effect="adds",
            risk=Risk(
                level="medium", note="Creates a job that starts running at once and sends data to its destination."
            ),
            plan=_create_plan,
            target=Endpoint("GET", ("/v2/job",), query=("workflow",), fixed_query={"show_all": "true"}),
            find_created=_find_created,
        ),
    ),
    Operation(
        name="lytics_update_job",
        title="Update a Lytics job",
        description="Propose changing a job: give only the fields to change; the proposal shows a field-by-field "
        "diff. Lytics replaces the whole job, so the request carries every kept field.",
        provider=NAME,
        kind="write",
        endpoint=Endpoint("PUT", ("/v2/job/{workflow_path}/{job_id}",)),
        input_model=UpdateJobArgs,
        result_model=ActionResult,
        check=check_update,
        not_found=NOT_FOUND,
        write=WriteSpec(
            verb="update",
            effect="changes",
            risk=Risk(level="medium", note="Changes the job's configuration; the next run uses the new settings."),
            plan=_update_plan,
            refuse=_refuse_update,
            target=Endpoint("GET", JOB_PATHS),
        ),
    ),
    *(_lifecycle_operation(spec) for spec in LIFECYCLE),
)
