"""Arroyo: looking inside a job — its error log digested, its checkpoints and one checkpoint per operator.

Every job route hangs under its pipeline (``/api/v1/pipelines/{id}/jobs/{job_id}/…``); a tool takes the
pipeline's ID and, optionally, the job's (default: the pipeline's current job).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from jobs_mcp.digest import LogDigest, LogDigester, render_digest
from jobs_mcp.errors import ApiError
from jobs_mcp.operations import Call, Operation, ToolResult
from jobs_mcp.providers.arroyo.reads import (
    JOB_NOT_FOUND,
    JobArgs,
    JobView,
    api_not_found,
    find_job,
    job_view,
    render_job_line,
)
from jobs_mcp.providers.arroyo.vocabulary import NAME, from_micros
from jobs_mcp.render import short_time, table
from jobs_mcp.textsafe import one_line

CHECKPOINT_NOT_FOUND = (
    "Checkpoint {epoch} of job {job_id} was not found (Arroyo keeps only recent ones). arroyo_list_checkpoints "
    "shows the kept epochs."
)
ERRORS_PAGE = 1000  # entries per request while reading the whole error log (each page is digested, then dropped)
ERRORS_MAX_PAGES = 1000  # at most this many requests per digest (1,000,000 entries); the digest says so when reached

# --- arguments -------------------------------------------------------------------------------------------------


class JobErrorsArgs(JobArgs):
    newest: int = Field(5, ge=0, le=50, description="newest entries to show verbatim")
    page_size: int = Field(0, ge=0, le=200, description="raw entries to return too")
    cursor: str | None = Field(None, pattern=r"^[A-Za-z0-9_=-]{1,40}$", description="next_cursor of a raw page")


class CheckpointsArgs(JobArgs):
    newest: int = Field(10, ge=1, le=200, description="how many to list")


class CheckpointArgs(JobArgs):
    epoch: int = Field(ge=0, lt=2**32, description="checkpoint epoch, as arroyo_list_checkpoints shows it")


# --- the error log ---------------------------------------------------------------------------------------------

_URL = re.compile(r"\b\w+://\S+?(?=[\s;,)]|: |$)")
_NUMBER = re.compile(r"\d+")


def message_kind(message: str) -> str:
    """What kind of error a message is: its head before the first ``": "``, URLs and numbers masked, so
    ``Kafka error: …`` and ``Failed to connect to Redis at <url>: …`` each group together."""
    head = _URL.sub("<url>", message).split(": ", 1)[0]
    return one_line(_NUMBER.sub("#", head), 48) or "(empty)"


def common_entry(raw: dict[str, Any]) -> dict[str, Any]:
    """A JobLogMessage in the digest's common form; the code is the error domain and the message kind."""
    message = str(raw.get("message") or "")
    details = str(raw.get("details") or "")
    when = from_micros(raw.get("created_at"))
    where = f" [operator {raw['operator_id']}#{raw.get('task_index')}]" if raw.get("operator_id") else ""
    return {
        "timestamp": when.isoformat() if when else None,
        "level": raw.get("level"),
        "code": f"{raw.get('error_domain') or 'unknown'}: {message_kind(message)}",
        "message": message + where + (f" — {details}" if details and details != message else ""),
    }


class JobErrorsResult(ToolResult):
    job: JobView
    digest: LogDigest


async def _job_errors(call: Call[JobErrorsArgs]) -> JobErrorsResult:
    """The whole error log, page by page (newest first), each page digested as it arrives."""
    args = call.args
    digester = LogDigester.for_args(args, call.api.provider.log)  # a bad cursor is refused before any call
    job = await find_job(call.api, args.pipeline_id, args.job_id)
    path = f"/api/v1/pipelines/{args.pipeline_id}/jobs/{job['id']}/errors"
    after: str | None = None
    for page in range(ERRORS_MAX_PAGES):
        params = {"limit": str(ERRORS_PAGE)} | ({"starting_after": after} if after else {})
        try:
            answer = await call.api.fetch("GET", path, params=params)
        except ApiError as exc:
            if not page:
                raise api_not_found(exc, JOB_NOT_FOUND.format(pipeline_id=args.pipeline_id, job_id=job["id"])) from None
            digester.stop(f"page {page + 1} could not be read: {one_line(exc, 160)}")
            break
        items = [e for e in answer.payload or [] if isinstance(e, dict)]
        digester.feed(common_entry(e) for e in items)
        if not answer.next_cursor or not items:
            break
        if call.progress is not None:
            await call.progress(digester.entries, None, f"{digester.entries:,} errors read")
        after = answer.next_cursor
    else:
        digester.stop(f"this server reads at most the newest {ERRORS_MAX_PAGES * ERRORS_PAGE:,} errors")
    view = job_view(job)
    # this route holds errors only: a quiet error log is good news, never staleness
    digest = digester.finish(now=call.now, job_id=view.id, job_status=view.state, active=False)
    return JobErrorsResult(sandbox=call.sandbox, job=view, digest=digest)


def _render_job_errors(r: JobErrorsResult) -> str:
    head = f"Error log of {render_job_line(r.job)}\n"
    if r.digest.entries == 0 and r.digest.complete:
        return head + "No errors logged."
    return head + "Errors are grouped by error domain and message kind.\n" + render_digest(r.digest)


# --- checkpoints -----------------------------------------------------------------------------------------------


class CheckpointView(BaseModel):
    epoch: int
    type: str
    backend: str = ""
    started: datetime | None = None
    finished: datetime | None = None
    seconds: float | None = Field(None, description="duration, when finished")


class CheckpointsResult(ToolResult):
    job: JobView
    count: int
    in_progress: int
    last_completed: datetime | None = None
    checkpoints: list[CheckpointView] = Field(description="the newest, newest first")


def _checkpoint(raw: dict[str, Any]) -> CheckpointView:
    start, finish = raw.get("start_time"), raw.get("finish_time")
    seconds = (finish - start) / 1e6 if isinstance(start, int) and isinstance(finish, int) and finish else None
    return CheckpointView(
        epoch=int(raw.get("epoch", -1)),
        type=one_line(raw.get("checkpoint_type") or "", 20),
        backend=one_line(raw.get("backend") or "", 20),
        started=from_micros(start),
        finished=from_micros(finish),
        seconds=round(seconds, 3) if seconds is not None else None,
    )


async def job_get(call: Call[Any], suffix: str, missing: str = JOB_NOT_FOUND) -> tuple[dict[str, Any], Any]:
    """The pipeline's job and the payload of one of its routes (``/…/jobs/{job_id}{suffix}``); a 404 says
    ``missing`` (formatted with the arguments and the job's id)."""
    args = call.args
    job = await find_job(call.api, args.pipeline_id, args.job_id)
    try:
        data = await call.api.request("GET", f"/api/v1/pipelines/{args.pipeline_id}/jobs/{job['id']}{suffix}")
    except ApiError as exc:
        raise api_not_found(exc, missing.format(**(args.model_dump() | {"job_id": job["id"]}))) from None
    return job, data


async def _checkpoints(call: Call[CheckpointsArgs]) -> CheckpointsResult:
    job, data = await job_get(call, "/checkpoints")
    items = sorted((_checkpoint(c) for c in data or [] if isinstance(c, dict) and "epoch" in c), key=lambda c: -c.epoch)
    done = [c.finished for c in items if c.finished]
    return CheckpointsResult(
        sandbox=call.sandbox,
        job=job_view(job),
        count=len(items),
        in_progress=sum(1 for c in items if c.finished is None),
        last_completed=max(done) if done else None,
        checkpoints=items[: call.args.newest],
    )


def _render_checkpoints(r: CheckpointsResult) -> str:
    head = (
        f"{r.count} checkpoints of {r.job.id} ({r.job.state}); {r.in_progress} in progress; last completed "
        f"{short_time(r.last_completed) if r.last_completed else 'never'}"
    )
    rows = [
        (c.epoch, c.type, short_time(c.started), f"{c.seconds:g} s" if c.seconds is not None else "in progress")
        for c in r.checkpoints
    ]
    more = "\narroyo_get_checkpoint(epoch) shows one checkpoint per operator." if rows else ""
    return head + "\n" + table(("epoch", "type", "started", "took"), rows) + more


class OperatorCheckpoint(BaseModel):
    operator_id: str
    bytes: int = 0
    subtasks: int = 0
    finished: datetime | None = None
    unfinished_subtasks: list[int] = Field(default_factory=list, description="subtasks still writing their state")


class CheckpointResult(ToolResult):
    job_id: str
    epoch: int
    total_bytes: int
    operators: list[OperatorCheckpoint]


def _operator_group(raw: dict[str, Any]) -> OperatorCheckpoint:
    subtasks = [s for s in raw.get("subtasks") or [] if isinstance(s, dict)]
    waiting = [
        int(s.get("index", -1))
        for s in subtasks
        if not any(isinstance(e, dict) and e.get("event") == "Async" for e in s.get("event_spans") or [])
    ]
    return OperatorCheckpoint(
        operator_id=one_line(raw.get("operator_id", ""), 60),
        bytes=int(raw.get("bytes") or 0),
        subtasks=len(subtasks),
        finished=from_micros(raw.get("finish_time")),
        unfinished_subtasks=waiting if raw.get("finish_time") is None else [],
    )


async def _checkpoint_groups(call: Call[CheckpointArgs]) -> CheckpointResult:
    suffix = f"/checkpoints/{call.args.epoch}/operator_checkpoint_groups"
    job, data = await job_get(call, suffix, CHECKPOINT_NOT_FOUND)
    operators = [_operator_group(g) for g in data or [] if isinstance(g, dict)]
    return CheckpointResult(
        sandbox=call.sandbox,
        job_id=str(job["id"]),
        epoch=call.args.epoch,
        total_bytes=sum(o.bytes for o in operators),
        operators=operators,
    )


def size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"  # pragma: no cover


def _render_checkpoint(r: CheckpointResult) -> str:
    rows = [
        (
            o.operator_id,
            size(o.bytes),
            o.subtasks,
            short_time(o.finished) if o.finished else "waiting on " + ",".join(map(str, o.unfinished_subtasks)),
        )
        for o in r.operators
    ]
    head = f"Checkpoint {r.epoch} of {r.job_id}: {size(r.total_bytes)} of state in {len(rows)} operators"
    return head + "\n" + table(("operator", "state", "subtasks", "finished"), rows)


def job_read(
    name: str, title: str, description: str, run: Any, args: type[Any], result: type[Any], render: Any
) -> Operation[Any, Any]:
    """A read of one job of a pipeline: a composite call (the job is found through its pipeline first)."""
    return Operation(
        name=name,
        title=title,
        description=description,
        provider=NAME,
        kind="read",
        endpoint=None,
        run=run,
        input_model=args,
        result_model=result,
        render=render,
        not_found=JOB_NOT_FOUND,
    )


OPERATIONS: tuple[Operation[Any, Any], ...] = (
    job_read(
        "arroyo_get_job_errors",
        "Digest an Arroyo job's errors",
        "A job's whole error log digested: exact counts by error domain and kind, newest and raw entries.",
        _job_errors,
        JobErrorsArgs,
        JobErrorsResult,
        _render_job_errors,
    ),
    job_read(
        "arroyo_list_checkpoints",
        "List an Arroyo job's checkpoints",
        "A job's checkpoints, newest first: type, start, duration, unfinished ones.",
        _checkpoints,
        CheckpointsArgs,
        CheckpointsResult,
        _render_checkpoints,
    ),
    job_read(
        "arroyo_get_checkpoint",
        "Get an Arroyo checkpoint",
        "One checkpoint per operator: state size, subtasks, which are still writing.",
        _checkpoint_groups,
        CheckpointArgs,
        CheckpointResult,
        _render_checkpoint,
    ),
)
