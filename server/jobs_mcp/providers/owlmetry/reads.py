"""OwlMetry: run models, argument models and the read operations (list a team's runs, get one run).

Lists and triggers live under the team (``/v1/teams/{team_id}/...``); the team is the account's
(OWLMETRY_TEAM_ID), never an argument, so those paths are built from ``api.account.extras`` (``account_team``).
Run, project and team IDs are UUIDs in OwlMetry's database and the real server answers a malformed one with a
500, so the pre-flight check refuses those with a clear message first.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from jobs_mcp.operations import Call, Endpoint, Operation, OperationInput, SafeId, StatusClass, ToolResult, segment
from jobs_mcp.providers.owlmetry.vocabulary import NAME, TRIGGERABLE, status_class
from jobs_mcp.render import age, parse_time, short_time, table
from jobs_mcp.textsafe import one_line, quote, token

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient

NOT_FOUND = (
    "Job run {run_id} was not found in this team (system runs are not visible either). "
    "owlmetry_list_job_runs shows the team's runs."
)
RUN_PATH = "/v1/jobs/{run_id}"
RUNS_PATH = "/v1/teams/{team_id}/jobs"

# --- argument types --------------------------------------------------------------------------------------

_WHEN = re.compile(r"\d{1,6}[smhdw]|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?")
_CURSOR = re.compile(r"[^|\s]{1,40}\|[^|\s]{1,64}")
_JOB_TYPE = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _matching(pattern: re.Pattern[str], problem: str) -> Callable[[str], str]:
    """A validator (kept out of the schema: tools/list is paid on every turn) refusing what the API cannot read."""

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(problem)
        return value

    return check


RunId = Annotated[SafeId, Field(description="run ID (a UUID), as owlmetry_list_job_runs shows it")]
ProjectId = Annotated[SafeId, Field(description="project ID (a UUID)")]
JobType = Annotated[str, AfterValidator(_matching(_JOB_TYPE, "must be a job type such as apple_ads_sync"))]
RunStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
When = Annotated[str, AfterValidator(_matching(_WHEN, "must be relative (30m, 12h, 7d, 2w) or ISO 8601"))]
Cursor = Annotated[str, AfterValidator(_matching(_CURSOR, "must be next_cursor exactly as the previous page gave it"))]


class ListRunsArgs(OperationInput):
    job_type: JobType | None = Field(None, description="job type, e.g. apple_ads_sync")
    status: RunStatus | None = Field(None, description="only runs in this status")
    project_id: ProjectId | None = None
    since: When | None = Field(None, description="created since: 30m, 7d, ... or ISO 8601")
    until: When | None = Field(None, description="created until: same forms")
    cursor: Cursor | None = Field(None, description="next_cursor of the previous page (same filters)")
    limit: int = Field(20, ge=1, le=200, description="runs per page")


class RunArgs(OperationInput):
    run_id: RunId


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def account_team(api: ApiClient) -> str:
    """The account's team id (OWLMETRY_TEAM_ID or ``team_id`` in the accounts file)."""
    team = api.account.extras.get("team_id", "")
    if not _is_uuid(team):
        raise ToolError(
            f"OwlMetry account {api.account.name!r} has no valid team id: set OWLMETRY_TEAM_ID (or team_id in the "
            "accounts file) to the team's UUID. Nothing was sent."
        )
    return team


async def preflight(call: Call[Any]) -> None:
    """Refuse IDs that cannot be OwlMetry's before any call (the real server answers a malformed one with a 500)."""
    args = call.args
    for name in ("run_id", "project_id"):
        value = getattr(args, name, None)
        if value is not None and not _is_uuid(value):
            raise ToolError(
                f"{name}: {quote(value, 60)} is not an OwlMetry ID; they are UUIDs, as owlmetry_list_job_runs prints "
                "them. Nothing was sent."
            )


# --- result models ---------------------------------------------------------------------------------------


class Progress(BaseModel):
    model_config = ConfigDict(extra="allow")

    processed: int = 0
    total: int = Field(0, description="0 when the handler does not know the total")
    message: str | None = None


class JobRun(BaseModel):
    """A run as the API returns it (times are ISO strings); fields this server does not know are kept."""

    model_config = ConfigDict(extra="allow")

    id: str
    job_type: str = ""
    status: str = "unknown"
    team_id: str | None = None
    project_id: str | None = None
    triggered_by: str | None = None
    params: dict[str, Any] | None = None
    progress: Progress | None = None
    result: Any = None
    error: str | None = None
    notify: bool = False
    started_at: str | None = None
    completed_at: str | None = None
    created_at: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _lenient(cls, data: Any) -> Any:
        """Nulls where a value is expected fall back to the default; ids and statuses are read as text."""
        if not isinstance(data, dict):
            return data
        data = {k: v for k, v in data.items() if v is not None or k not in ("job_type", "status", "notify")}
        for key in ("id", "status", "job_type"):
            if key in data and not isinstance(data[key], str):
                data[key] = str(data[key])
        if not isinstance(data.get("progress"), dict | None):
            data["progress"] = None
        return data


def percent(progress: Progress | None) -> float | None:
    """Processed of total in percent (one decimal); None when the total is unknown (0)."""
    if progress is None or progress.total <= 0:
        return None
    return round(100 * progress.processed / progress.total, 1)


def progress_text(progress: Progress | None) -> str:
    if progress is None:
        return "-"
    share = percent(progress)
    if share is None:
        return f"{progress.processed:,} (total unknown)"
    return f"{progress.processed:,}/{progress.total:,} ({share:g}%)"


class RunSummary(BaseModel):
    id: str
    job_type: str
    project_id: str | None
    status: str = Field(description="status exactly as the API reports it")
    health: StatusClass = Field(description="what the status means: live, failed, completed, ...")
    progress: str = Field(description="processed/total (percent)")
    created_at: str | None
    completed_at: str | None


def summarize(run: JobRun) -> RunSummary:
    return RunSummary(
        id=run.id,
        job_type=run.job_type,
        project_id=run.project_id,
        status=run.status,
        health=status_class(run.status),
        progress=progress_text(run.progress),
        created_at=run.created_at,
        completed_at=run.completed_at,
    )


class RunListResult(ToolResult):
    count: int
    runs: list[RunSummary]
    filters: dict[str, Any] = Field(description="the filters that were applied")
    next_cursor: str | None = Field(description="pass as cursor (same filters) for the next page; null: last page")


class RunResult(ToolResult):
    health: StatusClass
    progress_percent: float | None = Field(description="processed/total in percent; null when the total is unknown")
    run: JobRun


# --- shaping and rendering -------------------------------------------------------------------------------


def status_text(status: str) -> str:
    """The status as the API says it, with what it means when the word alone does not say it."""
    kind = status_class(status)
    return token(status) if kind == status else f"{token(status)} ({kind})"


def _shape_runs(call: Call[ListRunsArgs]) -> RunListResult:
    items = call.data if isinstance(call.data, list) else []
    runs = [summarize(JobRun.model_validate(r)) for r in items if isinstance(r, dict) and "id" in r]
    filters = {k: v for k, v in call.args.model_dump(exclude={"cursor", "limit"}).items() if v is not None}
    return RunListResult(
        sandbox=call.sandbox, count=len(runs), runs=runs, filters=filters, next_cursor=call.next_cursor
    )


LIST_QUERY = Endpoint(
    "GET", (RUNS_PATH,), query=("job_type", "status", "project_id", "since", "until", "cursor", "limit")
)


async def _list_runs(call: Call[ListRunsArgs]) -> RunListResult:
    """One page of the team's runs (the team is the account's, so the path is built here, not from arguments)."""
    path = RUNS_PATH.format(team_id=segment(account_team(call.api)))
    answer = await call.api.fetch("GET", path, params=LIST_QUERY.params_for(call.args, call.api.provider.query))
    call.data, call.next_cursor = answer.payload, answer.next_cursor
    return _shape_runs(call)


def _render_runs(result: RunListResult) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in result.filters.items()) or "all of the team's runs"
    head = f"{result.count} job runs, newest first ({shown})"
    if not result.runs:
        return head + "."
    rows = [
        (r.id, r.job_type, r.project_id, status_text(r.status), r.progress, short_time(r.created_at))
        for r in result.runs
    ]
    text = head + "\n" + table(("ID", "type", "project", "status", "progress", "created"), rows)
    if result.next_cursor:
        text += (
            f'\nMore runs: call owlmetry_list_job_runs again with cursor="{result.next_cursor}" and the same filters.'
        )
    return text


def _shape_run(call: Call[RunArgs]) -> RunResult:
    run = JobRun.model_validate(call.data)
    return RunResult(
        sandbox=call.sandbox, health=status_class(run.status), progress_percent=percent(run.progress), run=run
    )


def _took(start: str | None, end: str | None) -> str:
    began, ended = parse_time(start), parse_time(end)
    return f" (took {age(began, ended)})" if began and ended else ""


def _next_step(run: JobRun) -> str | None:
    status = run.status.strip().lower()
    if status == "running":
        return "owlmetry_cancel_job_run can stop it (cooperatively: at its next check)."
    if status == "pending":
        return "It starts shortly; only a running run can be cancelled."
    if status == "failed" and run.job_type in TRIGGERABLE:
        return "Fix the cause, then owlmetry_trigger_job can run it again."
    return None


def _render_run(result: RunResult) -> str:
    run = result.run
    lines = [
        f"Run {token(run.id)}: {token(run.job_type)} · status: {token(run.status)} ({result.health})",
        f"project: {run.project_id or '-'} · triggered by: {one_line(run.triggered_by or '-', 80)} · "
        f"notify: {'yes' if run.notify else 'no'}",
        f"created: {short_time(run.created_at)} · started: {short_time(run.started_at)} · "
        f"ended: {short_time(run.completed_at)}{_took(run.started_at, run.completed_at)}",
    ]
    if run.progress is not None:
        said = f" — {quote(run.progress.message, 200)}" if run.progress.message else ""
        lines.append(f"progress: {progress_text(run.progress)}{said}")
    if run.error:
        lines.append(f"error: {quote(run.error, 300)}")
    if isinstance(run.result, dict) and run.result.get("aborted"):
        reason = run.result.get("abort_reason") or "no reason given"
        lines.append(f"ATTENTION: completed, but the handler aborted early: {quote(reason, 300)}")
    if run.result not in (None, {}, []):
        lines.append("result: " + one_line(run.result, 400))
    if run.params:
        lines.append("params: " + one_line(run.params, 200))
    if step := _next_step(run):
        lines.append(step)
    return "\n".join(lines)


# --- the operations --------------------------------------------------------------------------------------

OPERATIONS: tuple[Operation[Any, Any], ...] = (
    Operation(
        name="owlmetry_list_job_runs",
        title="List OwlMetry job runs",
        description="List the team's job runs as a table, newest first. Paged: pass next_cursor as cursor.",
        provider=NAME,
        kind="read",
        endpoint=None,  # the path holds the account's team: see _list_runs
        run=_list_runs,
        input_model=ListRunsArgs,
        result_model=RunListResult,
        render=_render_runs,
        check=preflight,
    ),
    Operation(
        name="owlmetry_get_job_run",
        title="Get an OwlMetry job run",
        description="Show one run: status, progress (processed/total, percent), error, result, params, times.",
        provider=NAME,
        kind="read",
        endpoint=Endpoint("GET", (RUN_PATH,)),
        input_model=RunArgs,
        result_model=RunResult,
        shape=_shape_run,
        render=_render_run,
        check=preflight,
        not_found=NOT_FOUND,
    ),
)
