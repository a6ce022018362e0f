"""Arroyo: pipelines and their jobs, the models and the read operations that show them.

Arroyo controls everything through the pipeline (``/api/v1/pipelines``); a job is the pipeline's running
instance, reachable only through its pipeline (there is no ``/jobs/{id}`` route). Times are microseconds since
the epoch and are shown as UTC times. Unknown fields are kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ConfigDict, Field

from jobs_mcp.errors import ApiError
from jobs_mcp.operations import Call, Endpoint, Operation, OperationInput, SafeId, StatusClass, ToolResult
from jobs_mcp.providers.arroyo.vocabulary import NAME, JobState, from_micros, parallelism_of, status_class
from jobs_mcp.render import short_time, table
from jobs_mcp.textsafe import one_line, quote, token

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient

PIPELINE_NOT_FOUND = (
    "Pipeline {pipeline_id} was not found. arroyo_list_pipelines shows the pipelines (previews are not listed)."
)
JOB_NOT_FOUND = (
    "Pipeline {pipeline_id} or its job {job_id} was not found. arroyo_get_job(pipeline_id) shows the pipeline's "
    "current job; arroyo_list_pipelines shows the pipelines."
)

PipelineId = Annotated[
    SafeId, Field(description="pipeline ID, as arroyo_list_pipelines shows it", examples=["pl_4Hq9TzK2mR"])
]
JobId = Annotated[SafeId, Field(description="job ID (default: the current job)")]


# --- arguments -------------------------------------------------------------------------------------------------


class ListPipelinesArgs(OperationInput):
    starting_after: SafeId | None = Field(None, description="next_cursor of the previous page")
    limit: int = Field(20, ge=1, le=100, description="pipelines per page")


class PipelineArgs(OperationInput):
    pipeline_id: PipelineId


class JobArgs(PipelineArgs):
    job_id: JobId | None = None


class ListJobsArgs(OperationInput):
    running: bool | None = Field(None, description="true: only Running jobs; false: all others")
    state: JobState | None = Field(None, description="only jobs in this state")


# --- models ----------------------------------------------------------------------------------------------------


class Job(BaseModel):
    """A job as the API returns it (times in µs); unknown fields are kept."""

    model_config = ConfigDict(extra="allow")

    id: str
    pipeline_id: str = ""
    running_desired: bool | None = None
    state: str = "unknown"
    run_id: int | None = None
    start_time: int | None = None
    finish_time: int | None = None
    tasks: int | None = None
    failure_reason: dict[str, Any] | None = None
    created_at: int | None = None


class JobView(BaseModel):
    id: str
    pipeline_id: str
    state: str = Field(description="state exactly as the controller names it")
    health: StatusClass
    running_desired: bool | None = None
    run_id: int | None = None
    tasks: int | None = None
    created: datetime | None = None
    started: datetime | None = None
    finished: datetime | None = None
    failure: str | None = Field(None, description="failure_reason.error, cut short")
    failure_domain: str | None = Field(None, description="user, external or internal")


def job_view(raw: Any) -> JobView:
    job = Job.model_validate(raw)
    failure = job.failure_reason or {}
    return JobView(
        id=job.id,
        pipeline_id=job.pipeline_id,
        state=one_line(job.state, 40),
        health=status_class(job.state),
        running_desired=job.running_desired,
        run_id=job.run_id,
        tasks=job.tasks,
        created=from_micros(job.created_at),
        started=from_micros(job.start_time),
        finished=from_micros(job.finish_time),
        failure=one_line(failure["error"], 400) if failure.get("error") else None,
        failure_domain=one_line(failure["domain"], 20) if failure.get("domain") else None,
    )


def jobs_of(data: Any) -> list[JobView]:
    return [job_view(j) for j in (data or []) if isinstance(j, dict) and "id" in j]


def render_job_line(job: JobView) -> str:
    line = f"job {job.id}: {job.state} ({job.health}), run {job.run_id}, {job.tasks or 0} tasks"
    if job.running_desired is False:
        line += ", stop requested"
    line += f"; started {short_time(job.started)}" + (f", finished {short_time(job.finished)}" if job.finished else "")
    if job.failure:
        line += f"\n  failure ({job.failure_domain or 'unknown domain'}): {quote(job.failure, 300)}"
    return line


class Node(BaseModel):
    node_id: int | str
    operator: str = ""
    description: str = ""
    parallelism: int | None = None


class Edge(BaseModel):
    src_id: int | str
    dest_id: int | str
    edge_type: str = ""


class PipelineSummary(BaseModel):
    id: str
    name: str
    stop: str = Field(description="requested stop mode; none = should run")
    action_text: str = ""
    parallelism: int | None = None
    created: datetime | None = None
    job_id: str | None = None
    state: str | None = Field(None, description="the current job's state")
    health: StatusClass = "unknown"


class PipelineListResult(ToolResult):
    count: int
    pipelines: list[PipelineSummary]
    next_cursor: str | None = Field(None, description="starting_after for the next page")


class PipelineResult(ToolResult):
    id: str
    name: str
    query: str
    stop: str
    action: str | None = None
    action_text: str = ""
    action_in_progress: bool = False
    checkpoint_interval_seconds: float | None = None
    parallelism: int | None = None
    created: datetime | None = None
    preview: bool = False
    tags: dict[str, Any] = Field(default_factory=dict)
    nodes: list[Node]
    edges: list[Edge]
    jobs: list[JobView]


class JobListResult(ToolResult):
    count: int
    jobs: list[JobView]
    filters: dict[str, Any]


class JobResult(ToolResult):
    job: JobView
    other_jobs: int = Field(0, description="further jobs of the pipeline (older runs)")


# --- lookups ---------------------------------------------------------------------------------------------------


def api_not_found(exc: ApiError, message: str) -> Exception:
    """A 404 from the API turned into the tool's own not-found advice; other errors stay as they are."""
    return ToolError(message) if exc.status == 404 else exc


async def find_job(api: ApiClient, pipeline_id: str, job_id: str | None) -> dict[str, Any]:
    """The pipeline's job (the newest, or ``job_id``), read through ``/pipelines/{id}/jobs``."""
    try:
        jobs = await api.request("GET", f"/api/v1/pipelines/{pipeline_id}/jobs")
    except ApiError as exc:
        raise api_not_found(exc, PIPELINE_NOT_FOUND.format(pipeline_id=pipeline_id)) from None
    found = [j for j in jobs or [] if isinstance(j, dict) and (job_id is None or j.get("id") == job_id)]
    if not found:
        listed = ", ".join(str(j.get("id")) for j in jobs or [] if isinstance(j, dict)) or "none"
        raise ToolError(
            f"Job {job_id or '(current)'} was not found in pipeline {pipeline_id} (its jobs: {listed}). "
            "arroyo_get_job(pipeline_id) shows the current job."
        )
    return dict(found[0])


# --- shaping and rendering -------------------------------------------------------------------------------------


def _summary(p: dict[str, Any], jobs: dict[str, JobView]) -> PipelineSummary:
    job = jobs.get(str(p.get("id")))
    return PipelineSummary(
        id=str(p.get("id")),
        name=one_line(p.get("name", ""), 80),
        stop=one_line(p.get("stop", ""), 20),
        action_text=one_line(p.get("action_text") or "", 20),
        parallelism=parallelism_of(p),
        created=from_micros(p.get("created_at")),
        job_id=job.id if job else None,
        state=job.state if job else None,
        health=job.health if job else "unknown",
    )


def _newest_by_pipeline(data: Any) -> dict[str, JobView]:
    newest: dict[str, JobView] = {}
    for job in jobs_of(data):
        seen = newest.get(job.pipeline_id)
        if seen is None or (job.created or datetime.min) > (seen.created or datetime.min):
            newest[job.pipeline_id] = job
    return newest


def _shape_pipelines(call: Call[ListPipelinesArgs]) -> PipelineListResult:
    jobs = _newest_by_pipeline(call.extra.get("jobs"))
    items = [_summary(p, jobs) for p in call.data or [] if isinstance(p, dict) and "id" in p]
    return PipelineListResult(sandbox=call.sandbox, count=len(items), pipelines=items, next_cursor=call.next_cursor)


def _render_pipelines(result: PipelineListResult) -> str:
    rows = [
        (p.id, p.name, f"{p.state or '-'} ({p.health})", p.stop, p.parallelism, short_time(p.created))
        for p in result.pipelines
    ]
    text = f"{result.count} pipelines (newest first)\n" + table(
        ("ID", "name", "job state", "stop", "parallelism", "created"), rows
    )
    more = f"\nMore: starting_after={result.next_cursor}" if result.next_cursor else ""
    return text + more


def _shape_pipeline(call: Call[PipelineArgs]) -> PipelineResult:
    p = call.data or {}
    graph = p.get("graph") or {}
    interval = p.get("checkpoint_interval_micros")
    return PipelineResult(
        sandbox=call.sandbox,
        id=str(p.get("id")),
        name=one_line(p.get("name", ""), 120),
        query=str(p.get("query", ""))[:4000],
        stop=one_line(p.get("stop", ""), 20),
        action=p.get("action"),
        action_text=one_line(p.get("action_text") or "", 20),
        action_in_progress=bool(p.get("action_in_progress")),
        checkpoint_interval_seconds=interval / 1e6 if isinstance(interval, int | float) else None,
        parallelism=parallelism_of(p),
        created=from_micros(p.get("created_at")),
        preview=bool(p.get("preview")),
        tags=p.get("tags") or {},
        nodes=[Node.model_validate(n) for n in graph.get("nodes") or [] if isinstance(n, dict) and "node_id" in n],
        edges=[Edge.model_validate(e) for e in graph.get("edges") or [] if isinstance(e, dict) and "src_id" in e],
        jobs=jobs_of(call.extra.get("jobs")),
    )


def render_graph(nodes: list[Node], edges: list[Edge]) -> list[str]:
    """The operator graph in a few lines: each operator with its parallelism, then the edges."""
    lines = [f"  {n.node_id} {one_line(n.operator, 40)} ×{n.parallelism}: {quote(n.description, 90)}" for n in nodes]
    shown = [
        f"{e.src_id}→{e.dest_id}" + ("" if e.edge_type in ("", "Forward") else f" ({token(e.edge_type)})")
        for e in edges
    ]
    if shown:
        lines.append("  edges: " + ", ".join(shown))
    return lines


def _render_pipeline(r: PipelineResult) -> str:
    action = f"{r.action_text or '-'}" + (" (in progress)" if r.action_in_progress else "")
    interval = f"{r.checkpoint_interval_seconds:g} s" if r.checkpoint_interval_seconds else "-"
    lines = [
        f"Pipeline {quote(r.name, 80)} ({r.id})" + (" · preview" if r.preview else ""),
        f"stop: {r.stop} · action: {action} · parallelism {r.parallelism} · checkpoint every {interval}",
        f"created: {short_time(r.created)}" + (f" · tags: {one_line(r.tags, 120)}" if r.tags else ""),
    ]
    lines += [render_job_line(j) for j in r.jobs] or ["no job"]
    lines.append("query: " + quote(r.query, 600))
    lines.append(f"graph ({len(r.nodes)} operators):")
    lines += render_graph(r.nodes, r.edges)
    return "\n".join(lines)


def _shape_jobs(call: Call[ListJobsArgs]) -> JobListResult:
    args = call.args
    jobs = jobs_of(call.data)
    if args.state is not None:
        jobs = [j for j in jobs if j.state == args.state]
    if args.running is not None:
        jobs = [j for j in jobs if (j.state == "Running") is args.running]
    filters = {k: v for k, v in args.model_dump().items() if v is not None}
    return JobListResult(sandbox=call.sandbox, count=len(jobs), jobs=jobs, filters=filters)


def _render_jobs(r: JobListResult) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in r.filters.items())
    head = f"{r.count} jobs" + (f" ({shown}; filtered here: the API has no filters)" if shown else "")
    rows = [
        (j.id, j.pipeline_id, f"{j.state} ({j.health})", j.run_id, short_time(j.started), one_line(j.failure or "", 60))
        for j in r.jobs
    ]
    return head + "\n" + table(("ID", "pipeline", "state", "run", "started", "failure"), rows)


def _shape_job(call: Call[JobArgs]) -> JobResult:
    jobs = [j for j in call.data or [] if isinstance(j, dict)]
    wanted = call.args.job_id
    found = [j for j in jobs if wanted is None or j.get("id") == wanted]
    if not found:
        raise ToolError(JOB_NOT_FOUND.format(pipeline_id=call.args.pipeline_id, job_id=wanted))
    return JobResult(sandbox=call.sandbox, job=job_view(found[0]), other_jobs=len(jobs) - 1)


def _render_job(r: JobResult) -> str:
    j = r.job
    lines = [f"Job {j.id} of pipeline {j.pipeline_id}", render_job_line(j), f"created: {short_time(j.created)}"]
    if r.other_jobs:
        lines.append(f"({r.other_jobs} older jobs of this pipeline)")
    return "\n".join(lines)


JOBS_OF_PIPELINE = Endpoint("GET", ("/api/v1/pipelines/{pipeline_id}/jobs",))

OPERATIONS: tuple[Operation[Any, Any], ...] = (
    Operation(
        name="arroyo_list_pipelines",
        title="List Arroyo pipelines",
        description="Pipelines, newest first, with their job's state, stop mode and parallelism. Pages with "
        "starting_after.",
        provider=NAME,
        kind="read",
        endpoint=Endpoint("GET", ("/api/v1/pipelines",), query=("starting_after", "limit")),
        also={"jobs": Endpoint("GET", ("/api/v1/jobs",))},
        input_model=ListPipelinesArgs,
        result_model=PipelineListResult,
        shape=_shape_pipelines,
        render=_render_pipelines,
    ),
    Operation(
        name="arroyo_get_pipeline",
        title="Get an Arroyo pipeline",
        description="One pipeline: its query, stop mode, checkpoint interval, job and operator graph.",
        provider=NAME,
        kind="read",
        endpoint=Endpoint("GET", ("/api/v1/pipelines/{pipeline_id}",)),
        also={"jobs": JOBS_OF_PIPELINE},
        input_model=PipelineArgs,
        result_model=PipelineResult,
        shape=_shape_pipeline,
        render=_render_pipeline,
        not_found=PIPELINE_NOT_FOUND,
    ),
    Operation(
        name="arroyo_list_jobs",
        title="List Arroyo jobs",
        description="All jobs of the organisation with state and failure; optional running/state filters.",
        provider=NAME,
        kind="read",
        endpoint=Endpoint("GET", ("/api/v1/jobs",)),
        input_model=ListJobsArgs,
        result_model=JobListResult,
        shape=_shape_jobs,
        render=_render_jobs,
    ),
    Operation(
        name="arroyo_get_job",
        title="Get an Arroyo job",
        description="A pipeline's job: state, run, tasks, times and failure reason with its domain.",
        provider=NAME,
        kind="read",
        endpoint=JOBS_OF_PIPELINE,
        input_model=JobArgs,
        result_model=JobResult,
        shape=_shape_job,
        render=_render_job,
        not_found=PIPELINE_NOT_FOUND,
    ),
)
