"""Lytics: job models, argument models and the read operations.

The live API reports statuses such as ``running``, ``sleeping`` and ``fault-3``; older documents say
``runnable``, ``fault`` and ``killed``. Both vocabularies are understood, and a status this module has never
seen is shown exactly as the API sent it. Unknown fields on a job are kept.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from jobs_mcp.account_digest import AccountDigester, AccountLogDigest, render_account_digest
from jobs_mcp.digest import LogDigest, LogDigester, render_digest
from jobs_mcp.errors import ApiError
from jobs_mcp.fieldspec import FieldSpec, problems, read_fields, refusal
from jobs_mcp.operations import (
    Call,
    Endpoint,
    LogStream,
    Operation,
    OperationInput,
    SafeId,
    StatusClass,
    ToolResult,
    segment,
)
from jobs_mcp.providers.lytics.vocabulary import ACTIVE_STATUSES, NAME, status_class
from jobs_mcp.render import short_time, table
from jobs_mcp.textsafe import one_line, quote, token

WORKFLOWS_PATH = "/api/workflow"  # the v1 catalogue route; v2 publishes none
# One workflow with its config field definitions: no public source gives this route (the sandbox serves it); where
# it is missing, configs go unchecked to the platform and lytics_list_workflows(workflow=...) says so.
WORKFLOW_PATH = WORKFLOWS_PATH + "/{workflow}"
AUTHS_PATH = "/v2/auth"
NOT_FOUND = (
    "Job {job_id} was not found in this account. Call lytics_list_jobs to see the jobs "
    "(show_all=true includes completed and killed ones)."
)

# --- argument types --------------------------------------------------------------------------------------


def _snake(slug: str) -> str:
    return slug.lower().replace("-", "_")


JobId = Annotated[
    SafeId,
    Field(description="Lytics job ID, as lytics_list_jobs shows it", examples=["4f2a9c0e1b7d4e6a8c3f5b2d9e0a1c7b"]),
]
WorkflowSlug = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$",
        description="workflow slug, e.g. facebook_audience_populate (kebab-case accepted); see lytics_list_workflows",
    ),
    AfterValidator(_snake),
]
AuthId = Annotated[SafeId, Field(description="auth provider ID")]


class WorkflowRef(OperationInput):
    """Arguments that may name a workflow; the path form of a workflow is kebab-case."""

    @property
    def workflow_path(self) -> str | None:
        workflow: str | None = getattr(self, "workflow", None)
        return workflow.replace("_", "-") if workflow else None


class ListJobsArgs(WorkflowRef):
    workflow: WorkflowSlug | None = None
    auth_ids: list[AuthId] | None = Field(None, max_length=50, description="only jobs using these auth providers")
    show_completed: bool = Field(False, description="include completed one-shot jobs")
    show_deleted: bool = Field(False, description="include killed (deleted) jobs; needs show_completed too")
    show_hidden: bool = Field(False, description="include hidden jobs")
    show_all: bool = Field(False, description="include everything: completed, deleted and hidden")
    show_state: bool = Field(False, description="add work-state details (last run, sleep until)")


class JobArgs(WorkflowRef):
    job_id: JobId
    workflow: WorkflowSlug | None = Field(None, description="the job's workflow; optional, narrows the lookup")


class NoArgs(OperationInput):
    pass


class WorkflowArgs(WorkflowRef):
    workflow: WorkflowSlug | None = Field(None, description="show this workflow's config fields")


class JobLogsArgs(JobArgs):
    include_errors: bool = Field(True, description="include error details (keep on when debugging)")
    newest: int = Field(5, ge=0, le=50, description="how many of the newest entries to show verbatim")
    page_size: int = Field(0, ge=0, le=200, description="return this many raw entries too (0 = none)")
    cursor: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_=-]{1,40}$", description="next_cursor of a previous page of raw entries"
    )
    page_from: Literal["oldest", "newest"] = Field("oldest", description="raw page from the log's start or end")
    level: Literal["error", "warn", "info"] | None = Field(None, description="raw page of this level only")


class AccountLogsArgs(OperationInput):
    top: int = Field(10, ge=1, le=50, description="how many jobs to list, most errors first")


# --- result models ---------------------------------------------------------------------------------------


class Job(BaseModel):
    """A Lytics job as the API returns it; fields this server does not know are kept as they are."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str = ""
    workflow: str = ""
    status: str = "unknown"
    description: str = ""
    created: str | None = None
    updated: str | None = Field(None, description="last configuration change (not last run)")
    auth_ids: list[str] | None = None
    config: dict[str, Any] | None = None
    deleted: bool = False
    hidden: bool = False

    @model_validator(mode="before")
    @classmethod
    def _lenient(cls, data: Any) -> Any:
        """Nulls where a value is expected fall back to the default; ids and statuses are read as text."""
        if not isinstance(data, dict):
            return data
        data = {k: v for k, v in data.items() if v is not None or k not in _DEFAULTED}
        for key in ("id", "status", "name", "workflow"):
            if key in data and not isinstance(data[key], str):
                data[key] = str(data[key])
        return data


_DEFAULTED = frozenset({"name", "workflow", "status", "description", "deleted", "hidden"})


class JobSummary(BaseModel):
    id: str
    name: str
    workflow: str
    status: str = Field(description="status exactly as the API reports it")
    health: StatusClass = Field(description="what the status means: live, paused, fault, failed, ...")
    updated: str | None = None


def summarize(job: Job) -> JobSummary:
    return JobSummary(
        id=job.id,
        name=one_line(job.name, 80),
        workflow=job.workflow,
        status=job.status,
        health=status_class(job.status),
        updated=job.updated,
    )


class JobListResult(ToolResult):
    count: int
    jobs: list[JobSummary]
    filters: dict[str, Any] = Field(description="the filters that were applied")


class JobResult(ToolResult):
    health: StatusClass
    job: Job


class Workflow(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    name: str = ""
    hidden: bool = False


class ConfigField(BaseModel):
    name: str
    type: str = Field("", description="string, integer, number, boolean, array or object")
    required: bool = False
    options: list[Any] = Field(default_factory=list, description="the allowed values (empty: any)")
    description: str = ""


class WorkflowListResult(ToolResult):
    workflows: list[Workflow]
    fields: list[ConfigField] | None = Field(None, description="the config fields of the workflow asked for")


class Auth(BaseModel):
    """An auth provider (a connected destination or source): a create's ``auth_ids`` name these."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str = ""
    type: str = ""
    status: str = ""


class AuthListResult(ToolResult):
    auths: list[Auth]


class JobLogsResult(ToolResult):
    job: JobSummary | None
    digest: LogDigest


class AccountLogsResult(ToolResult):
    digest: AccountLogDigest


# --- shaping and rendering -------------------------------------------------------------------------------


def _jobs(data: Any) -> list[Job]:
    return [Job.model_validate(item) for item in (data or []) if isinstance(item, dict) and "id" in item]


def _shape_job_list(call: Call[ListJobsArgs]) -> JobListResult:
    jobs = [summarize(job) for job in _jobs(call.data)]
    filters = {k: v for k, v in call.args.model_dump().items() if v not in (None, False)}
    return JobListResult(sandbox=call.sandbox, count=len(jobs), jobs=jobs, filters=filters)


def _render_job_list(result: JobListResult) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in result.filters.items()) or "default view"
    head = f"{result.count} jobs ({shown})"
    if not result.filters:
        head += "; completed, killed and hidden jobs are left out (show_all=true shows them)"
    if not result.jobs:
        return head + "."
    rows = [(j.id, j.name, j.workflow, j.status, short_time(j.updated)) for j in result.jobs]
    return head + "\n" + table(("ID", "name", "workflow", "status", "updated"), rows)


def _shape_job(call: Call[JobArgs]) -> JobResult:
    job = Job.model_validate(call.data)
    return JobResult(sandbox=call.sandbox, health=status_class(job.status), job=job)


def _render_job(result: JobResult) -> str:
    job = result.job
    known = set(Job.model_fields)
    lines = [
        f"Job {quote(job.name, 80)} ({job.id})",
        f"workflow: {token(job.workflow)} · status: {token(job.status)} ({result.health})"
        + (" · hidden" if job.hidden else ""),
        f"created: {short_time(job.created)} · config updated: {short_time(job.updated)}",
    ]
    if job.description:
        lines.append(f"description: {quote(job.description, 200)}")
    if job.auth_ids:
        lines.append("auth_ids: " + ", ".join(job.auth_ids))
    if job.config:
        lines.append("config: " + one_line(job.config, 300))
    extras = {k: v for k, v in (job.model_extra or {}).items() if k not in known and v not in (None, "", [], {})}
    if extras:
        lines.append("other: " + one_line(extras, 300))
    return "\n".join(lines)


def _shape_workflows(call: Call[WorkflowArgs]) -> WorkflowListResult:
    data = call.data
    if isinstance(data, dict):  # one workflow, with its config fields
        fields = [ConfigField.model_validate(vars(f)) for f in read_fields(data.get("fields"))]
        listed = [Workflow.model_validate(data)] if "id" in data else []
        return WorkflowListResult(sandbox=call.sandbox, workflows=listed, fields=fields)
    items = [Workflow.model_validate(w) for w in (data or []) if isinstance(w, dict) and "id" in w]
    return WorkflowListResult(sandbox=call.sandbox, workflows=items)


def _render_workflows(result: WorkflowListResult) -> str:
    if result.fields is None:
        rows = [(w.id, w.name, "hidden" if w.hidden else "") for w in result.workflows]
        text = f"{len(rows)} workflows\n" + table(("workflow", "name", ""), rows)
        return text + "\nlytics_list_workflows(workflow=...) shows a workflow's config fields."
    head = ", ".join(f"{token(w.id)}: {quote((w.model_extra or {}).get('description') or w.name, 120)}"
                     for w in result.workflows)  # fmt: skip
    fields = [
        (f.name, f.type, "yes" if f.required else "", one_line(", ".join(map(str, f.options)), 80), f.description)
        for f in result.fields
    ]
    columns = ("config field", "type", "required", "allowed values", "description")
    return f"Workflow {head}\n{len(fields)} config fields\n" + table(columns, fields)


def _shape_auths(call: Call[NoArgs]) -> AuthListResult:
    items = [Auth.model_validate(a) for a in (call.data or []) if isinstance(a, dict) and "id" in a]
    return AuthListResult(sandbox=call.sandbox, auths=items)


def _render_auths(result: AuthListResult) -> str:
    rows = [(a.id, a.name, a.type, a.status) for a in result.auths]
    return f"{len(rows)} auth providers\n" + table(("ID", "name", "type", "status"), rows)


def _shape_job_logs(call: Call[JobLogsArgs]) -> JobLogsResult:
    job = Job.model_validate(call.extra["job"]) if isinstance(call.extra.get("job"), dict) else None
    digest = call.log.finish(
        now=call.now,
        job_id=call.args.job_id,
        job_status=job.status if job else None,
        active=bool(job and job.status.strip().lower() in ACTIVE_STATUSES),
    )
    return JobLogsResult(sandbox=call.sandbox, job=summarize(job) if job else None, digest=digest)


def _render_job_logs(result: JobLogsResult) -> str:
    job = result.job
    if job is None:
        return render_digest(result.digest)
    what = f"{token(job.id)}, {token(job.workflow)}, status {token(job.status)}"
    return f"Log digest of {quote(job.name, 80)} ({what})\n" + render_digest(result.digest)


def _shape_account_logs(call: Call[AccountLogsArgs]) -> AccountLogsResult:
    jobs = _jobs(call.extra.get("jobs"))
    digest = call.log.finish(job_names={j.id: j.name for j in jobs}, job_statuses={j.id: j.status for j in jobs})
    return AccountLogsResult(sandbox=call.sandbox, digest=digest)


async def check_workflow(call: Call[Any]) -> None:
    """Refuse an unknown workflow before the real call, naming the valid ones (the catalogue is cached)."""
    workflow = getattr(call.args, "workflow", None)
    if not workflow:
        return
    try:
        catalogue = await call.api.cached_get(WORKFLOWS_PATH)
    except ApiError:
        return  # no catalogue to check against: let the platform judge the call itself
    valid = sorted(str(w["id"]) for w in catalogue or [] if isinstance(w, dict) and "id" in w)
    if valid and workflow not in valid:
        raise ToolError(
            f"workflow: {quote(workflow, 80)} does not exist in this account. Valid workflows: "
            + ", ".join(valid)
            + "."
        )


async def check_auth_ids(call: Call[Any]) -> None:
    """Refuse auth ids the account does not have, and a workflow that needs auth given none."""
    auth_ids = getattr(call.args, "auth_ids", None)
    workflow = getattr(call.args, "workflow", None)
    try:
        auths = await call.api.cached_get(AUTHS_PATH, ttl=60)
        catalogue = await call.api.cached_get(WORKFLOWS_PATH)
    except ApiError:
        return
    known = {str(a["id"]) for a in auths or [] if isinstance(a, dict) and "id" in a}
    missing = [a for a in auth_ids or [] if a not in known]
    if missing:
        raise ToolError(
            f"auth_ids: {', '.join(missing)} is not an auth provider of this account (lytics_list_auths lists "
            "them). An auth provider must exist first: connect the destination in Lytics, then use its ID."
        )
    needs = {str(w["id"]) for w in catalogue or [] if isinstance(w, dict) and w.get("requires_auth")}
    if workflow in needs and not auth_ids:
        raise ToolError(
            f"auth_ids: workflow {workflow} needs an auth provider (lytics_list_auths lists them). One must exist "
            "first: connect the destination in Lytics, then pass its ID in auth_ids."
        )


async def _job_workflow(call: Call[Any]) -> str | None:
    """The workflow of the job an update names (None when it cannot be read: the update's own read reports why)."""
    try:
        job = await call.api.request("GET", f"/v2/job/{segment(call.args.job_id)}")
    except ApiError:
        return None
    return str(job["workflow"]) if isinstance(job, dict) and job.get("workflow") else None


async def check_config(call: Call[Any]) -> None:
    """Refuse a config the workflow's field definitions rule out, every problem at once, with the fields there are.
    Without definitions (a Lytics that serves none) the config goes to the platform unchecked."""
    config = getattr(call.args, "config", None)
    if config is None:
        return
    workflow = getattr(call.args, "workflow", None) or await _job_workflow(call)
    if not workflow:
        return
    try:
        detail = await call.api.cached_get(WORKFLOW_PATH.format(workflow=segment(workflow)))
    except ApiError:
        return
    if not isinstance(detail, dict) or not isinstance(detail.get("fields"), list):
        return
    fields: list[FieldSpec] = read_fields(detail["fields"])
    found = problems(config, fields, "config")
    if found:
        keep = "The config is sent whole: give every field to keep."
        raise ToolError(refusal(found, fields, f"workflow {workflow}", keep))


async def check_new_job(call: Call[Any]) -> None:
    """A create's workflow, then its auth providers and config: both refusals at once."""
    await check_workflow(call)
    refusals = []
    for check in (check_auth_ids, check_config):
        try:
            await check(call)
        except ToolError as exc:
            refusals.append(str(exc))
    if refusals:
        raise ToolError("\n".join(refusals))


async def check_update(call: Call[Any]) -> None:
    await check_workflow(call)
    await check_config(call)


# --- the operations --------------------------------------------------------------------------------------

JOB_PATHS = ("/v2/job/{workflow_path}/{job_id}", "/v2/job/{job_id}")

OPERATIONS: tuple[Operation[Any, Any], ...] = (
    Operation(
        name="lytics_list_jobs",
        title="List Lytics jobs",
        description="List the account's jobs as a table (ID, name, workflow, status, updated). By default "
        "completed, killed and hidden jobs are left out.",
        provider=NAME,
        kind="read",
        endpoint=Endpoint(
            "GET",
            ("/v2/job",),
            query=(
                "workflow",
                "auth_ids",
                "show_completed",
                "show_deleted",
                "show_hidden",
                "show_all",
                "show_state",
            ),
        ),
        input_model=ListJobsArgs,
        result_model=JobListResult,
        shape=_shape_job_list,
        render=_render_job_list,
        check=check_workflow,
    ),
    Operation(
        name="lytics_get_job",
        title="Get a Lytics job",
        description="Show one job: status, workflow, config, auth and timestamps.",
        provider=NAME,
        kind="read",
        endpoint=Endpoint("GET", JOB_PATHS),
        input_model=JobArgs,
        result_model=JobResult,
        shape=_shape_job,
        render=_render_job,
        check=check_workflow,
        not_found=NOT_FOUND,
    ),
    Operation(
        name="lytics_list_workflows",
        title="List Lytics workflows",
        description="List the workflows (job types) a job can use; with workflow, its config fields (type, "
        "required, allowed values).",
        provider=NAME,
        kind="read",
        endpoint=Endpoint("GET", (WORKFLOW_PATH, WORKFLOWS_PATH)),
        input_model=WorkflowArgs,
        result_model=WorkflowListResult,
        shape=_shape_workflows,
        render=_render_workflows,
        check=check_workflow,
        not_found="Workflow {workflow} has no details here (this Lytics serves no config field definitions); "
        "lytics_list_workflows without workflow lists the workflows.",
    ),
    Operation(
        name="lytics_list_auths",
        title="List Lytics auth providers",
        description="List the account's auth providers (ID, name, type, status): a create's auth_ids.",
        provider=NAME,
        kind="read",
        endpoint=Endpoint("GET", (AUTHS_PATH,)),
        input_model=NoArgs,
        result_model=AuthListResult,
        shape=_shape_auths,
        render=_render_auths,
    ),
    Operation(
        name="lytics_get_job_logs",
        title="Digest a Lytics job's logs",
        description="Debug a job from its whole log: exact added/omitted/removed totals, errors and warnings "
        "grouped by code with counts, first/last time and a hint, staleness, the newest entries. Raw entries "
        "only on request (page_size, cursor).",
        provider=NAME,
        kind="read",
        endpoint=Endpoint("GET", tuple(p + "/logs" for p in JOB_PATHS), query=("include_errors",)),
        log=LogStream(at="data", digester=LogDigester.for_args),
        also={"job": Endpoint("GET", JOB_PATHS)},
        input_model=JobLogsArgs,
        result_model=JobLogsResult,
        shape=_shape_job_logs,
        render=_render_job_logs,
        check=check_workflow,
        not_found=NOT_FOUND,
    ),
    Operation(
        name="lytics_list_account_job_logs",
        title="Digest the account's job logs (24 h)",
        description="Digest the last 24 h of logs of every job that is not killed: per job the entries, "
        "errors, warnings and top error codes, most errors first.",
        provider=NAME,
        kind="read",
        endpoint=Endpoint("GET", ("/v2/job/logs",)),
        log=LogStream(at="data", digester=AccountDigester.for_args),
        also={"jobs": Endpoint("GET", ("/v2/job",), fixed_query={"show_all": "true"})},
        input_model=AccountLogsArgs,
        result_model=AccountLogsResult,
        shape=_shape_account_logs,
        render=lambda result: render_account_digest(result.digest, "lytics_get_job_logs"),
    ),
)
