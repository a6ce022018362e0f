"""Strait writes: jobs (create, batch create, update, delete, clone), their state (pause/resume, enable/disable in
batches), dependencies, triggers and run cancellation.

Nothing here sends on the call: each write becomes a proposal through the gate (gate.py). Triggers, batch creates,
clones and new dependencies carry an ``Idempotency-Key`` fixed when proposed, so the gate may send the same request
again when its answer was lost, and Strait answers it without acting twice. Similar actions are tables of data
turned into operations by one function each.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import AfterValidator, Field

from jobs_mcp.checks import cron_expression as cron
from jobs_mcp.checks import iana_zone as iana
from jobs_mcp.checks import public_url
from jobs_mcp.errors import ApiError
from jobs_mcp.gate import ActionResult
from jobs_mcp.operations import (
    Change,
    Effect,
    Endpoint,
    Operation,
    OperationInput,
    Plan,
    Risk,
    SafeId,
    WriteSpec,
    changes_between,
    segment,
)
from jobs_mcp.providers.strait.reads import (
    JOB_NOT_FOUND,
    RUN_NOT_FOUND,
    JobArgs,
    JobId,
    RunArgs,
    slug_given_as_id,
)
from jobs_mcp.providers.strait.vocabulary import NAME, TERMINAL_RUN_STATUSES, job_status
from jobs_mcp.providers.strait.vocabulary import version as job_version
from jobs_mcp.textsafe import quote

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient

KEY_NAMESPACE = uuid.UUID("6f1d4b8e-2c47-5a93-9e0b-3d5a7c1f8e24")
KEY_BUCKET_SECS = 600  # the same proposal within these 10 minutes gets the same idempotency key
JOB_PATH = "/v1/jobs/{job_id}"
GET_JOB = Endpoint("GET", (JOB_PATH,))

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,99}$", description="unique slug, e.g. nightly-etl")]
Cron = Annotated[str, Field(max_length=100, description="5-field cron; none = manual"), AfterValidator(cron)]
Zone = Annotated[str, Field(max_length=64, description="IANA zone of the cron"), AfterValidator(iana)]
Url = Annotated[str, Field(max_length=2000, description="URL Strait calls"), AfterValidator(public_url)]
Name = Annotated[str, Field(min_length=1, max_length=255, description="job name")]
Tags = Annotated[dict[str, str], Field(max_length=20, description="tags (key -> value)")]
Payload = Annotated[dict[str, Any] | None, Field(None, description="JSON payload for the run")]


def _header_value(value: str | None) -> str | None:
    """An idempotency key travels in a header: printable ASCII without spaces, or HTTP cannot carry it."""
    if value is not None and not all("!" <= c <= "~" for c in value):
        raise ValueError("must be printable ASCII without spaces (letters, digits, - _ . : and the like)")
    return value


IdemKey = Annotated[
    str | None,
    Field(None, min_length=1, max_length=200, description="own key (default: derived)"),
    AfterValidator(_header_value),
]


class JobSettings(OperationInput):
    """Settings a job is created with and edited by (Strait's field names)."""

    description: str | None = Field(None, max_length=2000, description="what the job does")
    cron: Cron | None = None
    timezone: Zone | None = None
    endpoint_url: Url | None = None
    max_attempts: int | None = Field(None, ge=1, le=100, description="tries per run")
    timeout_secs: int | None = Field(None, ge=1, le=86400, description="time limit per try")
    tags: Tags | None = None

    def settings(self) -> dict[str, Any]:
        return {k: v for k in JobSettings.model_fields if (v := getattr(self, k)) is not None}


class NewJob(JobSettings):
    name: Name
    slug: Slug
    endpoint_url: Url  # an HTTP job (the kind made here) needs the URL Strait calls


class BatchJob(OperationInput):
    """A job of a batch: the essentials (strait_update_job sets the rest afterwards)."""

    name: Name
    slug: Slug
    endpoint_url: Url
    cron: Cron | None = None


class CreateJobsArgs(OperationInput):
    jobs: list[BatchJob] = Field(min_length=1, max_length=50, description="jobs to create")


class UpdateJobArgs(JobSettings):
    job_id: JobId
    name: Name | None = Field(None, description="new name")


class JobIdsArgs(OperationInput):
    job_ids: list[JobId] = Field(min_length=1, max_length=50, description="job IDs")


class PauseArgs(JobArgs):
    reason: str | None = Field(None, max_length=500, description="why (shown on the job)")


class TriggerArgs(JobArgs):
    payload: Payload
    priority: int = Field(0, ge=0, le=10, description="0-10, higher runs first")
    idempotency_key: IdemKey


class BulkItem(OperationInput):
    payload: Payload
    priority: int = Field(0, ge=0, le=10, description="0-10")


class BulkTriggerArgs(JobArgs):
    items: list[BulkItem] = Field(min_length=1, max_length=100, description="one run per item")
    idempotency_key: IdemKey


class CloneArgs(JobArgs):
    name: Name
    slug: Slug


class DependencyArgs(JobArgs):
    depends_on_job_id: JobId
    condition: Literal["completed", "failed", "any"] = Field("completed", description="outcome required")


class RemoveDependencyArgs(JobArgs):
    dependency_id: SafeId = Field(description="dependency ID, from strait_list_job_dependencies")


# --- helpers -------------------------------------------------------------------------------------------


def idempotency_key(*parts: Any) -> str:
    """A key the same for the same request proposed within the same 10 minutes (so proposing again, or a resolver
    round, gives the request shown), and different afterwards."""
    bucket = int(time.time() // KEY_BUCKET_SECS)
    return str(uuid.uuid5(KEY_NAMESPACE, json.dumps([*parts, bucket], sort_keys=True, default=str)))


def _name(job: dict[str, Any] | None, fallback: str) -> str:
    return f"{quote((job or {}).get('name') or fallback, 80)} ({(job or {}).get('id') or fallback})"


async def _taken(api: ApiClient, slugs: list[str]) -> dict[str, str]:
    """The slugs among these that a job of the project already has: slug -> that job, as a person reads it."""
    taken = {}
    for slug in dict.fromkeys(slugs):
        jobs = await api.request("GET", "/v1/jobs", params={"slug": slug})
        found = next((j for j in jobs or [] if isinstance(j, dict) and j.get("slug") == slug), None)
        if found is not None:
            taken[slug] = _name(found, "?")
    return taken


async def _project(api: ApiClient, args: Any) -> dict[str, Any]:
    """A create's target: the project the job goes into (Strait checks project_id against the key) and which of
    the new slugs are taken already (Strait refuses a slug twice; found now, the person is never asked)."""
    project = api.account.extras.get("project_id")
    if not project:
        raise ToolError("This Strait account has no project_id: set STRAIT_PROJECT_ID (or project_id in the "
                        "accounts file) to the project the API key belongs to. Nothing was proposed.")  # fmt: skip
    slugs = [job.slug for job in args.jobs] if isinstance(args, CreateJobsArgs) else [args.slug]
    return {"project_id": project, "taken": await _taken(api, slugs)}


async def _clone_target(api: ApiClient, args: CloneArgs) -> dict[str, Any]:
    job = await api.request("GET", JOB_PATH.format(job_id=segment(args.job_id)))
    return (job if isinstance(job, dict) else {}) | {"taken": await _taken(api, [args.slug])}


def _refuse_taken(args: Any, target: dict[str, Any] | None) -> str | None:
    """Every slug problem at once: taken by a job, or given twice in one batch."""
    problems = [f"slug {slug} is taken by job {job}" for slug, job in ((target or {}).get("taken") or {}).items()]
    if isinstance(args, CreateJobsArgs):
        counts = Counter(job.slug for job in args.jobs)
        problems += [f"slug {slug} is given {n} times" for slug, n in counts.items() if n > 1]
    if not problems:
        return None
    return (
        f"Strait would refuse this (a slug is unique in a project), so nothing was proposed: {'; '.join(problems)}. "
        "Pick another slug, or strait_list_jobs(slug=...) shows the existing job."
    )


def _create_version(target: dict[str, Any]) -> Any:
    """A create is stale when one of its slugs was taken while the person decided."""
    return sorted((target.get("taken") or {}).items())


async def _jobs_target(api: ApiClient, args: JobIdsArgs) -> dict[str, Any]:
    """Every job of a batch as it is now (Strait's batch skips unknown IDs silently; here they are refused)."""
    jobs = []
    for job_id in dict.fromkeys(args.job_ids):
        try:
            jobs.append(await api.request("GET", JOB_PATH.format(job_id=job_id)))
        except ApiError as exc:
            if exc.status == 404:
                raise ToolError(JOB_NOT_FOUND.format(job_id=job_id) + " Nothing was proposed.") from None
            raise
    return {
        "id": f"{len(jobs)}-jobs",
        "jobs": jobs,
        "enabled": [j.get("enabled") for j in jobs],
        "paused": [j.get("paused") for j in jobs],
        "version": [j.get("version") for j in jobs],
    }


# --- jobs ----------------------------------------------------------------------------------------------


def _create_plan(args: NewJob, target: dict[str, Any] | None) -> Plan:
    body = {"project_id": (target or {}).get("project_id"), **args.model_dump(exclude_none=True)}
    key = idempotency_key("create", body)
    changes = [Change(field=k, after=v) for k, v in body.items()]
    return Plan(f"Create job {quote(args.name, 80)} ({args.slug})", changes, body, headers={"Idempotency-Key": key})


def _create_many_plan(args: CreateJobsArgs, target: dict[str, Any] | None) -> Plan:
    project = (target or {}).get("project_id")
    jobs = [{"project_id": project, **job.model_dump(exclude_none=True)} for job in args.jobs]
    changes = [Change(field=f"job {i + 1}", after=f"{j['name']} ({j['slug']})") for i, j in enumerate(jobs)]
    key = idempotency_key("batch", jobs)
    return Plan(f"Create {len(jobs)} jobs", changes, {"jobs": jobs}, headers={"Idempotency-Key": key})


async def _find_created(api: ApiClient, args: NewJob, existing: list[str]) -> dict[str, Any] | None:
    jobs = await api.request("GET", "/v1/jobs", params={"slug": args.slug})
    return next((j for j in jobs or [] if isinstance(j, dict) and j.get("id") not in existing), None)


def _update_plan(args: UpdateJobArgs, target: dict[str, Any] | None) -> Plan:
    current = target or {}
    wanted = args.settings() | ({"name": args.name} if args.name else {})
    body = {k: v for k, v in wanted.items() if current.get(k) != v}
    changes = changes_between({k: current.get(k) for k in body}, body)
    summary = f"Update job {_name(current, args.job_id)}: {', '.join(body)}"
    return Plan(summary, changes, body)


def _refuse_update(args: UpdateJobArgs, target: dict[str, Any] | None) -> str | None:
    wanted = args.settings() | ({"name": args.name} if args.name else {})
    if not wanted:
        return "Nothing to change: give at least one field (name, cron, endpoint_url, ...)."
    if all((target or {}).get(k) == v for k, v in wanted.items()):
        return "Nothing to change: the job already has these values."
    return None


def _delete_plan(args: JobArgs, target: dict[str, Any] | None) -> Plan:
    return Plan(f"Delete job {_name(target, args.job_id)} with its runs, versions and dependencies", [
        Change(field="job", before=job_status(target or {}), after="deleted")
    ])  # fmt: skip


def _clone_plan(args: CloneArgs, target: dict[str, Any] | None) -> Plan:
    body = {"name": args.name, "slug": args.slug}
    key = idempotency_key("clone", args.job_id, body)
    summary = f"Clone job {_name(target, args.job_id)} as {quote(args.name, 80)} ({args.slug})"
    changes = [Change(field=k, after=v) for k, v in body.items()]
    return Plan(summary, changes, body, headers={"Idempotency-Key": key})


# --- triggers ------------------------------------------------------------------------------------------


def _refuse_trigger(args: JobArgs, target: dict[str, Any] | None) -> str | None:
    state = job_status(target or {})
    if state == "disabled":
        return (
            f"Job {args.job_id} is disabled, so Strait would refuse the trigger: enable it first (strait_enable_jobs)."
        )
    if state == "paused":
        return f"Job {args.job_id} is paused, so Strait would refuse the trigger: resume it first (strait_resume_job)."
    return None


def _trigger_plan(args: TriggerArgs, target: dict[str, Any] | None) -> Plan:
    body = {"payload": args.payload or {}, "priority": args.priority}
    key = args.idempotency_key or idempotency_key("trigger", args.job_id, body)
    changes = [Change(field="runs", after="1 new run"), Change(field="payload", after=body["payload"])]
    return Plan(f"Trigger job {_name(target, args.job_id)}", changes, body, headers={"Idempotency-Key": key})


def _bulk_plan(args: BulkTriggerArgs, target: dict[str, Any] | None) -> Plan:
    base = args.idempotency_key or idempotency_key("bulk", args.job_id, args.model_dump(exclude={"job_id"}))
    items = [
        {"payload": item.payload or {}, "priority": item.priority, "idempotency_key": f"{base}-{i}"}
        for i, item in enumerate(args.items)
    ]
    changes = [Change(field=f"run {i + 1}", after=item["payload"]) for i, item in enumerate(items)]
    return Plan(f"Trigger {len(items)} runs of job {_name(target, args.job_id)}", changes, {"items": items})


TRIGGER_NOTE = (
    "The request carries an Idempotency-Key fixed now: if its answer is lost it is sent once more and Strait "
    "returns the same run instead of starting another. The same trigger proposed again within 10 minutes gets the "
    "same key (Strait then returns the earlier run); give idempotency_key to run it again on purpose."
)


# --- dependencies and runs -----------------------------------------------------------------------------


def _dependency_plan(args: DependencyArgs, target: dict[str, Any] | None) -> Plan:
    body = {"depends_on_job_id": args.depends_on_job_id, "condition": args.condition}
    key = idempotency_key("dependency", args.job_id, body)
    summary = f"Make job {_name(target, args.job_id)} wait for job {args.depends_on_job_id} ({args.condition})"
    return Plan(summary, [Change(field="depends_on", after=body)], body, headers={"Idempotency-Key": key})


async def _dependency_target(api: ApiClient, args: DependencyArgs) -> dict[str, Any]:
    """The job, and the job it is to wait for: Strait would refuse a dependency on a job that does not exist."""
    job = await api.request("GET", JOB_PATH.format(job_id=segment(args.job_id)))
    if args.depends_on_job_id == args.job_id:
        return job if isinstance(job, dict) else {}
    try:
        other = await api.request("GET", JOB_PATH.format(job_id=segment(args.depends_on_job_id)))
    except ApiError as exc:
        if exc.status == 404:
            raise ToolError(
                f"depends_on_job_id: job {args.depends_on_job_id} was not found, so nothing was proposed. "
                "strait_list_jobs shows the job IDs."
            ) from None
        raise
    return (job if isinstance(job, dict) else {}) | {"depends_on": other if isinstance(other, dict) else {}}


def _refuse_dependency(args: DependencyArgs, _target: dict[str, Any] | None) -> str | None:
    if args.depends_on_job_id == args.job_id:
        return "A job cannot depend on itself."
    return None


def _remove_dependency_plan(args: RemoveDependencyArgs, target: dict[str, Any] | None) -> Plan:
    summary = f"Remove dependency {args.dependency_id} from job {_name(target, args.job_id)}"
    return Plan(summary, [Change(field="dependency", before=args.dependency_id, after=None)])


def _cancel_plan(args: RunArgs, target: dict[str, Any] | None) -> Plan:
    run = target or {}
    summary = f"Cancel run {args.run_id} of job {run.get('job_id', '?')}"
    return Plan(summary, [Change(field="status", before=run.get("status"), after="canceled")])


def _run_version(run: dict[str, Any]) -> Any:
    """A cancel is stale when the run finished while the person decided (queued -> executing is not a reason)."""
    status = run.get("status")
    return [status if status in TERMINAL_RUN_STATUSES else "not finished"]


def _refuse_cancel(args: RunArgs, target: dict[str, Any] | None) -> str | None:
    status = str((target or {}).get("status", ""))
    if status in TERMINAL_RUN_STATUSES:
        return f"Run {args.run_id} has already finished ({status}); only runs not yet finished can be cancelled."
    return None


# --- the tables ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """One write tool as data."""

    tool: str
    title: str
    description: str
    method: str
    path: str
    input_model: type[OperationInput]
    plan: Callable[[Any, dict[str, Any] | None], Plan]
    risk: Risk
    effect: Effect
    target: Endpoint | None = GET_JOB
    refuse: Callable[[Any, dict[str, Any] | None], str | None] | None = None
    read_target: Any = None
    find_created: Any = None
    resend: bool = False
    version: Callable[[dict[str, Any]], Any] | None = None  # what makes it stale; None: the job's flags and version
    kind: Literal["write", "lifecycle"] = "write"
    not_found: str = JOB_NOT_FOUND


@dataclass(frozen=True)
class Toggle:
    """A job state flipped by one route: pause/resume (one job) or enable/disable (a batch)."""

    action: str
    field: str  # "paused" or "enabled"
    value: bool
    batch: bool
    title: str
    description: str
    risk: Risk


TOGGLES = (
    Toggle("pause", "paused", True, False, "Pause a Strait job", "Propose pausing a job: no new runs (cron or "
           "trigger) until resumed; running ones go on.",
           Risk(level="low", note="Reversible: resume it later.")),
    Toggle("resume", "paused", False, False, "Resume a Strait job", "Propose resuming a paused job.",
           Risk(level="low", note="Its cron schedule fires again from now on.")),
    Toggle("enable", "enabled", True, True, "Enable Strait jobs", "Propose enabling jobs (a batch, every job "
           "listed).", Risk(level="high", note="Batch: every listed job is scheduled and triggerable again.")),
    Toggle("disable", "enabled", False, True, "Disable Strait jobs", "Propose disabling jobs (a batch, every job "
           "listed): no cron runs or triggers until enabled.",
           Risk(level="high", note="Batch: every listed job stops being "
           "scheduled or triggerable until enabled; running runs go on.")),
)  # fmt: skip


def _toggle_write(spec: Toggle) -> Write:
    wanted = {("paused", True): "paused", ("paused", False): "not paused", ("enabled", True): "enabled"}.get(
        (spec.field, spec.value), "disabled"
    )

    def refuse(args: Any, target: dict[str, Any] | None) -> str | None:
        jobs = (target or {}).get("jobs", [target or {}])
        if all(j.get(spec.field) == spec.value for j in jobs):
            return f"Nothing to {spec.action}: {'every job is' if spec.batch else 'the job is'} already {wanted}."
        return None

    def plan(args: Any, target: dict[str, Any] | None) -> Plan:
        jobs = (target or {}).get("jobs", [target or {}])
        flag = {spec.field: spec.value}
        changes = [
            Change(field=f"{j.get('name', '?')} ({j.get('id')})", before=job_status(j), after=job_status(j | flag))
            for j in jobs
            if j.get(spec.field) != spec.value
        ]
        if spec.batch:
            ids = [j["id"] for j in jobs if j.get(spec.field) != spec.value]
            return Plan(f"{spec.action.capitalize()} {len(ids)} jobs", changes, {"ids": ids})
        body = {"reason": args.reason} if getattr(args, "reason", None) else None
        return Plan(f"{spec.action.capitalize()} job {_name(target, args.job_id)}", changes, body)

    return Write(
        tool=f"strait_{spec.action}_{'jobs' if spec.batch else 'job'}",
        title=spec.title,
        description=spec.description,
        method="POST",
        path=f"/v1/jobs/batch-{spec.action}" if spec.batch else f"{JOB_PATH}/{spec.action}",
        input_model=JobIdsArgs if spec.batch else PauseArgs if spec.value else JobArgs,
        plan=plan,
        risk=spec.risk,
        target=None if spec.batch else GET_JOB,
        read_target=_jobs_target if spec.batch else None,
        effect="changes",
        refuse=refuse,
        kind="lifecycle",
    )


MEDIUM = "medium"
WRITES = (
    Write("strait_create_job", "Create a Strait job", "Propose a new job (name, slug, endpoint_url, cron, ...).",
          "POST", "/v1/jobs", NewJob, _create_plan,
          Risk(level="medium", note="A job with a cron starts running on its schedule at once."), "adds",
          target=None, read_target=_project, refuse=_refuse_taken, find_created=_find_created,
          version=_create_version),
    Write("strait_create_jobs", "Create Strait jobs (batch)", "Propose creating up to 50 jobs in one batch.",
          "POST", "/v1/jobs/batch", CreateJobsArgs, _create_many_plan,
          Risk(level="high", note="Batch: every listed job is created; Strait creates the valid ones and reports "
               "the others. Sent with an Idempotency-Key, so a lost answer is resent safely."), "adds",
          target=None, read_target=_project, refuse=_refuse_taken, resend=True, version=_create_version),
    Write("strait_update_job", "Update a Strait job", "Propose changing a job's settings (only the fields given; "
          "diff shown).", "PATCH", JOB_PATH, UpdateJobArgs, _update_plan,
          Risk(level="medium", note="New settings apply to the next runs; the old version is kept (see "
               "strait_list_job_versions)."), "changes", refuse=_refuse_update),
    Write("strait_delete_job", "Delete a Strait job", "Propose deleting a job with its runs, versions and "
          "dependencies. Permanent; the ID must be typed back.", "DELETE", JOB_PATH, JobArgs, _delete_plan,
          Risk(level="high", irreversible=True, note="PERMANENT: the job, its run history, versions and "
               "dependencies are deleted and cannot be restored. Strait refuses while runs are active."),
          "removes"),
    Write("strait_clone_job", "Clone a Strait job", "Propose a copy of a job under a new name and slug.",
          "POST", f"{JOB_PATH}/clone", CloneArgs, _clone_plan,
          Risk(level="medium", note="The copy is enabled and runs on the source's cron at once."), "adds",
          read_target=_clone_target, refuse=_refuse_taken, resend=True,
          version=lambda t: [job_version(t), _create_version(t)]),
    Write("strait_trigger_job", "Trigger a Strait job", "Propose starting one run of a job now.",
          "POST", f"{JOB_PATH}/trigger", TriggerArgs, _trigger_plan, Risk(level="medium", note=TRIGGER_NOTE), "adds",
          refuse=_refuse_trigger, resend=True, kind="lifecycle"),
    Write("strait_trigger_jobs", "Trigger many Strait runs", "Propose many runs of ONE job at once (one per "
          "item). For several jobs, strait_trigger_job each.", "POST", f"{JOB_PATH}/trigger/bulk",
          BulkTriggerArgs, _bulk_plan,
          Risk(level="high", note="Bulk: one run per item. Each item has an idempotency key fixed now, so a "
               "lost answer is resent without starting runs twice."), "adds", refuse=_refuse_trigger, resend=True,
          kind="lifecycle"),
    Write("strait_add_job_dependency", "Add a Strait job dependency", "Propose making a job's runs wait for "
          "another job's latest outcome.", "POST", f"{JOB_PATH}/dependencies", DependencyArgs, _dependency_plan,
          Risk(level="medium", note="New runs of the job wait until the other job meets the condition."), "adds",
          target=None, read_target=_dependency_target, refuse=_refuse_dependency, resend=True),
    Write("strait_remove_job_dependency", "Remove a Strait job dependency", "Propose removing one dependency of "
          "a job.", "DELETE", f"{JOB_PATH}/dependencies/{{dependency_id}}", RemoveDependencyArgs,
          _remove_dependency_plan, Risk(level="medium", note="The job's runs stop waiting for that job; add it "
                                        "again to restore."), "removes"),
    Write("strait_cancel_run", "Cancel a Strait run", "Propose cancelling a run that has not finished.",
          "DELETE", "/v1/runs/{run_id}", RunArgs, _cancel_plan,
          Risk(level="medium", note="The run stops and is marked canceled; it is not retried."), "interrupts",
          target=Endpoint("GET", ("/v1/runs/{run_id}",)), refuse=_refuse_cancel, kind="lifecycle",
          not_found=RUN_NOT_FOUND, version=_run_version),
    *(_toggle_write(spec) for spec in TOGGLES),
)  # fmt: skip


def _operation(spec: Write) -> Operation[Any, Any]:
    return Operation(
        name=spec.tool,
        title=spec.title,
        description=spec.description,
        provider=NAME,
        kind=spec.kind,
        endpoint=Endpoint(spec.method, (spec.path,)),
        input_model=spec.input_model,
        result_model=ActionResult,
        not_found=spec.not_found,
        check=slug_given_as_id,
        write=WriteSpec(
            verb=spec.tool.split("_")[1],
            risk=spec.risk,
            plan=spec.plan,
            effect=spec.effect,
            version=spec.version,
            target=spec.target,
            refuse=spec.refuse,
            read_target=spec.read_target,
            find_created=spec.find_created,
            typed_confirmation=spec.effect == "removes" and spec.risk.irreversible,
            resend_when_lost=spec.resend,
        ),
    )


WRITE_OPERATIONS: tuple[Operation[Any, Any], ...] = tuple(_operation(spec) for spec in WRITES)
