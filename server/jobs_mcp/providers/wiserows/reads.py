"""WiseRows: job models, argument models and the read operations (list jobs; get one job with its log digest).

Times come as epoch milliseconds and are shown as times. A job's ``logs`` never reach a result as they are: they
are digested (``vocabulary.log_entry`` turns each into the digest's common entry).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from jobs_mcp.digest import LogDigest, LogDigester, render_digest
from jobs_mcp.operations import Call, Endpoint, LogStream, Operation, OperationInput, SafeId, StatusClass, ToolResult
from jobs_mcp.providers.wiserows.vocabulary import NAME, log_entry, ms_time, status_class
from jobs_mcp.render import age, parse_time, short_time, table
from jobs_mcp.textsafe import quote, token

JOBS_PATH = "/api/v1/jobs"
JOB_PATH = JOBS_PATH + "/{job_id}"
LOGS_AT = "data.logs"  # a job's log, inside the job document of the envelope (streamed, never held whole)
NOT_FOUND = "Job {job_id} was not found. wiserows_list_jobs shows the jobs (filter by status or category)."

# --- argument types --------------------------------------------------------------------------------------

JobId = Annotated[SafeId, Field(description="job ID as wiserows_list_jobs shows it, e.g. job_w3bf7lpub1k9q2")]


class ListJobsArgs(OperationInput):
    status: Literal["pending", "running", "completed", "failed", "cancelled"] | None = Field(
        None, description="only jobs in this status"
    )
    category: Literal["seo", "ai", "sync", "export"] | None = Field(None, description="only jobs of this category")
    limit: int = Field(20, ge=1, le=100, description="at most this many jobs, newest first")


class JobArgs(OperationInput):
    job_id: JobId


class GetJobArgs(JobArgs):
    newest: int = Field(5, ge=0, le=50, description="newest log entries shown verbatim")
    page_size: int = Field(0, ge=0, le=200, description="raw log entries to return too")
    cursor: str | None = Field(None, max_length=40, description="next_cursor of the raw entries")


# --- result models ---------------------------------------------------------------------------------------


class Progress(BaseModel):
    model_config = ConfigDict(extra="allow")

    total: int = 0
    completed: int = 0
    failed: int = 0


class Job(BaseModel):
    """A job as the API returns it, without its logs (those are digested); unknown fields are kept."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str = ""
    type: str = ""
    category: str = ""
    status: str = "unknown"
    progress: Progress = Field(default_factory=Progress)
    createdAt: int | None = Field(None, description="epoch ms")  # the API's (camelCase) name
    completedAt: int | None = Field(None, description="epoch ms; null until it ends")

    @model_validator(mode="before")
    @classmethod
    def _lenient(cls, data: Any) -> Any:
        """Logs are left out; nulls fall back to defaults; ids and statuses are read as text."""
        if not isinstance(data, dict):
            return data
        data = {k: v for k, v in data.items() if k != "logs" and (v is not None or k in ("createdAt", "completedAt"))}
        for key in ("id", "status", "name", "type", "category"):
            if key in data and not isinstance(data[key], str):
                data[key] = str(data[key])
        for key in ("createdAt", "completedAt"):
            if not isinstance(data.get(key), int) or isinstance(data.get(key), bool):
                data[key] = None
        if not isinstance(data.get("progress"), dict):
            data.pop("progress", None)
        return data


def progress_text(p: Progress) -> str:
    """``done + failed`` of ``total`` with the share processed: ``110 done, 8 failed of 164 (72%)``."""
    share = f" ({100 * (p.completed + p.failed) / p.total:.0f}%)" if p.total > 0 else ""
    return f"{p.completed:,} done, {p.failed:,} failed of {p.total:,}{share}"


class JobSummary(BaseModel):
    id: str
    name: str
    type: str = Field(description="category/type")
    status: str = Field(description="status exactly as the API reports it")
    health: StatusClass = Field(description="what the status means: live, failed, completed, ...")
    progress: Progress
    created: str | None
    completed: str | None


def summarize(job: Job) -> JobSummary:
    return JobSummary(
        id=job.id,
        name=job.name,
        type=f"{job.category}/{job.type}",
        status=job.status,
        health=status_class(job.status),
        progress=job.progress,
        created=ms_time(job.createdAt),
        completed=ms_time(job.completedAt),
    )


class JobListResult(ToolResult):
    count: int
    jobs: list[JobSummary]
    filters: dict[str, Any] = Field(description="the filters that were applied")


class JobResult(ToolResult):
    health: StatusClass = Field(description="what the status means: live, failed, completed, ...")
    job: Job = Field(description="the job as the API sent it, without its logs (digested instead)")
    digest: LogDigest


# --- shaping and rendering -------------------------------------------------------------------------------


def status_text(status: str) -> str:
    kind = status_class(status)
    return status if kind == status else f"{status} ({kind})"


def _shape_jobs(call: Call[ListJobsArgs]) -> JobListResult:
    items = call.data if isinstance(call.data, list) else []
    jobs = [summarize(Job.model_validate(j)) for j in items if isinstance(j, dict) and "id" in j]
    filters = {k: v for k, v in call.args.model_dump().items() if v is not None}
    return JobListResult(sandbox=call.sandbox, count=len(jobs), jobs=jobs, filters=filters)


def _render_jobs(result: JobListResult) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in result.filters.items())
    head = f"{result.count} jobs, newest first ({shown})"
    if not result.jobs:
        return head + "."
    rows = [
        (
            j.id,
            j.name,
            j.type,
            status_text(j.status),
            f"{j.progress.completed}+{j.progress.failed}/{j.progress.total}",
            short_time(j.created),
            short_time(j.completed),
        )
        for j in result.jobs
    ]
    headers = ("ID", "name", "type", "status", "done+failed/total", "created", "ended")
    return head + "\n" + table(headers, rows)


def _shape_job(call: Call[GetJobArgs]) -> JobResult:
    data = call.data if isinstance(call.data, dict) else {}
    job = Job.model_validate({"id": call.args.job_id} | data)  # a log cut short may leave the job's fields partial
    digest = call.log.finish(now=call.now, job_id=job.id, job_status=job.status, active=job.status == "running")
    return JobResult(sandbox=call.sandbox, health=status_class(job.status), job=job, digest=digest)


def _render_job(result: JobResult) -> str:
    job = result.job
    created, completed = ms_time(job.createdAt), ms_time(job.completedAt)
    began, ended = parse_time(created), parse_time(completed)
    took = f" (after {age(began, ended)})" if began and ended else ""
    lines = [
        f"Job {quote(job.name, 100)} ({job.id})",
        f"type: {token(job.category)}/{token(job.type)} · status: {token(job.status)} ({result.health})",
        f"created: {short_time(created)} · ended: {short_time(completed)}{took}",
        f"progress: {progress_text(job.progress)}",
    ]
    if job.status in ("pending", "running"):
        lines.append("wiserows_cancel_job can stop it (best effort: the step in progress finishes, no rollback).")
    lines.append("Log digest (WiseRows logs carry no record counters: the progress above is the count):")
    return "\n".join(lines) + "\n" + render_digest(result.digest)


# --- the operations --------------------------------------------------------------------------------------

OPERATIONS: tuple[Operation[Any, Any], ...] = (
    Operation(
        name="wiserows_list_jobs",
        title="List WiseRows jobs",
        description="List background jobs, newest first, as a table (ID, name, category/type, status, progress).",
        provider=NAME,
        kind="read",
        endpoint=Endpoint("GET", (JOBS_PATH,), query=("status", "category", "limit")),
        input_model=ListJobsArgs,
        result_model=JobListResult,
        shape=_shape_jobs,
        render=_render_jobs,
    ),
    Operation(
        name="wiserows_get_job",
        title="Get a WiseRows job and its log digest",
        description="Show one job: status, progress (total/completed/failed) and its log digest: errors and "
        "warnings grouped with counts and hints, newest entries; raw entries on request.",
        provider=NAME,
        kind="read",
        endpoint=Endpoint("GET", (JOB_PATH,)),
        log=LogStream(at=LOGS_AT, digester=LogDigester.for_args, entry=log_entry),
        input_model=GetJobArgs,
        result_model=JobResult,
        shape=_shape_job,
        render=_render_job,
        not_found=NOT_FOUND,
    ),
)
