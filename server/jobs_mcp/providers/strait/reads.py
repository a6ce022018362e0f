"""Strait reads: jobs, their versions, dependencies and health, and runs (a failed run with its events digested).

The reads are declared as two tables, lists and single objects, each turned into operations by one function;
runs are the exception: Strait's run list has no job filter, so ``strait_list_runs`` pages through it and keeps a
job's runs itself, and ``strait_get_run`` adds the run's events.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import AfterValidator, Field, model_validator

from jobs_mcp.digest import LogDigest, digest_logs, render_digest
from jobs_mcp.errors import ApiError
from jobs_mcp.operations import Call, Endpoint, Operation, OperationInput, SafeId, StatusClass, ToolResult
from jobs_mcp.providers.strait.vocabulary import (
    ACTIVE_RUN_STATUSES,
    NAME,
    job_status,
    status_class,
)
from jobs_mcp.render import short_time, table
from jobs_mcp.textsafe import one_line, token

JobId = Annotated[SafeId, Field(description="job ID (UUID), from strait_list_jobs")]
RunId = Annotated[SafeId, Field(description="run ID (UUID), from strait_list_runs")]
VersionId = Annotated[SafeId, Field(description="version ID, e.g. ver_4m8q2xk7d1pa")]
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)")


def _cursor(value: str | None) -> str | None:
    """Strait's cursor is the last item's ``created_at``; anything else it answers with a 400, so it is refused here."""
    if value is not None and not _STAMP.fullmatch(value):
        raise ValueError("must be the next_cursor a list printed, unchanged (a time such as 2026-05-01T12:00:00.123Z)")
    return value


Cursor = Annotated[
    str | None, Field(None, max_length=64, description="next_cursor of the last page"), AfterValidator(_cursor)
]
Limit = Annotated[int, Field(20, ge=1, le=100, description="items per page")]
RunStatus = Annotated[str, Field(pattern=r"^[a-z_]{1,20}$", description="run status, e.g. failed, dead_letter")]

JOB_NOT_FOUND = "Job {job_id} was not found. strait_list_jobs shows the job IDs."
RUN_NOT_FOUND = "Run {run_id} was not found. strait_list_runs shows the run IDs."
VERSION_NOT_FOUND = (
    "Job {job_id} or its version {version_id} was not found. strait_list_job_versions shows the job's versions."
)
EVENT_PAGE = 100
EVENTS = Endpoint("GET", ("/v1/runs/{run_id}/events",), fixed_query={"limit": str(EVENT_PAGE)})
ERROR_EVENTS = {  # a run's oldest error events and error-level lines, for a failed run with more than a page
    key: Endpoint("GET", EVENTS.paths, fixed_query={**EVENTS.fixed_query, **query})
    for key, query in {"error_events": {"type": "error"}, "error_lines": {"level": "error"}}.items()
}
RUN_PAGES = 10  # pages of 100 runs read at most when filtering on a job


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
JOB_FIELDS = ("job_id", "depends_on_job_id")


async def slug_given_as_id(call: Call[Any]) -> None:
    """A job's slug given where its ID goes ("nightly-etl" for a UUID): refused before anything else is sent, with
    the ID it names ("did you mean"). A value that looks like an ID, or names no job's slug, goes on as it is: the
    platform judges it (an ID a list printed is never refused here)."""
    for field in JOB_FIELDS:
        value = getattr(call.args, field, None)
        if not isinstance(value, str) or _UUID.fullmatch(value):
            continue
        try:
            jobs = await call.api.request("GET", "/v1/jobs", params={"slug": value})
        except ApiError:
            return
        job = next((j for j in jobs or [] if isinstance(j, dict) and j.get("slug") == value and j.get("id")), None)
        if job is not None:
            raise ToolError(
                f'{field}: {one_line(value, 80)} is a job\'s slug, not its ID. Did you mean {field}="{job["id"]}" '
                f"({one_line(job.get('name', ''), 80)})? Nothing was sent."
            )


# --- arguments -----------------------------------------------------------------------------------------


class JobArgs(OperationInput):
    job_id: JobId


class JobPageArgs(JobArgs):
    limit: Limit
    cursor: Cursor


class ListJobsArgs(OperationInput):
    slug: str | None = Field(None, max_length=255, description="only the job with this slug")
    tag_key: str | None = Field(None, max_length=63, description="only jobs with this tag")
    tag_value: str | None = Field(None, max_length=63, description="...and this tag value (needs tag_key)")
    limit: Limit
    cursor: Cursor

    @model_validator(mode="after")
    def _tag_value_needs_key(self) -> ListJobsArgs:
        if self.tag_value is not None and self.tag_key is None:
            raise ValueError("tag_value needs tag_key: give the tag's key too (Strait filters on a key and its value)")
        return self


class VersionArgs(JobArgs):
    version_id: VersionId


class HealthArgs(JobArgs):
    window: Literal["1h", "1d", "7d", "30d"] = Field("7d", description="period the figures cover")


class ListRunsArgs(OperationInput):
    job_id: JobId | None = Field(None, description="only this job's runs")
    status: RunStatus | None = None
    limit: Limit
    cursor: Cursor


class RunArgs(OperationInput):
    run_id: RunId


class RunReadArgs(RunArgs):
    newest: int = Field(5, ge=0, le=50, description="newest events of a failed run shown verbatim")
    page_size: int = Field(0, ge=0, le=200, description="also this many raw events (0 = none)")
    page_from: Literal["oldest", "newest"] = Field("oldest", description="raw page from the start or the end")
    level: Literal["error", "warn", "info"] | None = Field(None, description="raw page of this level only")


# --- results -------------------------------------------------------------------------------------------


class ListResult(ToolResult):
    kind: str
    count: int
    items: list[dict[str, Any]] = Field(description="one summary per item (the table's columns)")
    next_cursor: str | None = Field(None, description="pass as cursor for the next page")
    note: str = ""


class ObjectResult(ToolResult):
    kind: str
    status: str | None = Field(None, description="status exactly as reported (a job's is made from its flags)")
    health: StatusClass | None = None
    item: dict[str, Any]


class RunResult(ToolResult):
    status: str
    health: StatusClass
    run: dict[str, Any]
    events: LogDigest | None = Field(None, description="the run's events digested (failed runs only)")


# --- shaping and rendering -----------------------------------------------------------------------------

Column = tuple[str, Callable[[dict[str, Any]], Any]]


def _status_cell(status: str) -> str:
    return f"{token(status)} ({status_class(status)})"


JOB_COLUMNS: tuple[Column, ...] = (
    ("ID", lambda j: j.get("id")),
    ("name", lambda j: one_line(j.get("name", ""), 60)),
    ("slug", lambda j: j.get("slug")),
    ("status", lambda j: _status_cell(job_status(j))),
    ("cron", lambda j: j.get("cron") or "manual"),
    ("updated", lambda j: short_time(j.get("updated_at"))),
)
RUN_COLUMNS: tuple[Column, ...] = (
    ("ID", lambda r: r.get("id")),
    ("job", lambda r: r.get("job_id")),
    ("job name", lambda r: r.get("_job_name")),
    ("status", lambda r: _status_cell(str(r.get("status", "")))),
    ("try", lambda r: r.get("attempt")),
    ("error", lambda r: one_line(r.get("error", ""), 60)),
    ("created", lambda r: short_time(r.get("created_at"))),
)
VERSION_COLUMNS: tuple[Column, ...] = (
    ("version ID", lambda v: v.get("version_id")),
    ("version", lambda v: v.get("version")),
    ("endpoint", lambda v: one_line(v.get("endpoint_url", ""), 60)),
    ("cron", lambda v: v.get("cron") or "manual"),
    ("replaced", lambda v: short_time(v.get("created_at"))),
)
DEPENDENCY_COLUMNS: tuple[Column, ...] = (
    ("ID", lambda d: d.get("id")),
    ("depends on job", lambda d: d.get("depends_on_job_id")),
    ("condition", lambda d: d.get("condition")),
    ("created", lambda d: short_time(d.get("created_at"))),
)


def _items(data: Any) -> list[dict[str, Any]]:
    return [item for item in (data or []) if isinstance(item, dict)]


def _list_result(
    call: Call[Any], kind: str, columns: tuple[Column, ...], items: list[dict[str, Any]], note: str = ""
) -> ListResult:
    rows = [{name: get(item) for name, get in columns} for item in items]
    return ListResult(
        sandbox=call.sandbox, kind=kind, count=len(rows), items=rows, next_cursor=call.next_cursor, note=note
    )


def render_list(result: ListResult) -> str:
    head = f"{result.count} {result.kind}" + (f" ({result.note})" if result.note else "")
    if not result.items:
        return head + "."
    columns = list(result.items[0])
    text = head + "\n" + table(columns, [[item.get(c) for c in columns] for item in result.items])
    if result.next_cursor:
        text += f"\nMore: call again with cursor={result.next_cursor}"
    return text


def _field_line(name: str, value: Any) -> str:
    shown = short_time(value) if name.endswith("_at") or name == "since" else one_line(value, 200)
    return f"{name}: {shown}"


def render_object(result: ObjectResult) -> str:
    item = result.item
    head = f"{result.kind} {one_line(item.get('name') or item.get('id') or item.get('job_id', ''), 80)}"
    if result.status is not None:
        head += f" · status: {_status_cell(result.status)}"
    shown = [_field_line(k, v) for k, v in item.items() if v not in (None, "", [], {}) and k != "name"]
    return "\n".join([head, *shown])


@dataclass(frozen=True, kw_only=True)
class Read:
    """One GET read as data; ``operation`` makes its tool from a result model, a shaping and a rendering."""

    name: str
    title: str
    description: str
    path: str
    input_model: type[OperationInput]
    kind: str
    query: tuple[str, ...] = ()
    not_found: str = JOB_NOT_FOUND

    def operation(
        self, result: type[ToolResult], shape: Callable[[Call[Any]], Any], render: Any
    ) -> Operation[Any, Any]:
        return Operation(
            name=self.name,
            title=self.title,
            description=self.description,
            provider=NAME,
            kind="read",
            endpoint=Endpoint("GET", (self.path,), query=self.query),
            input_model=self.input_model,
            result_model=result,
            shape=shape,
            render=render,
            not_found=self.not_found,
            check=slug_given_as_id,
        )


@dataclass(frozen=True, kw_only=True)
class ListRead(Read):
    columns: tuple[Column, ...]
    query: tuple[str, ...] = ("limit", "cursor")

    def make(self) -> Operation[Any, Any]:
        return self.operation(
            ListResult, lambda call: _list_result(call, self.kind, self.columns, _items(call.data)), render_list
        )


@dataclass(frozen=True, kw_only=True)
class ObjectRead(Read):
    status: Callable[[dict[str, Any]], str | None] = lambda _item: None

    def make(self) -> Operation[Any, Any]:
        def shape(call: Call[Any]) -> ObjectResult:
            item = call.data if isinstance(call.data, dict) else {}
            status = self.status(item)
            health = status_class(status) if status is not None else None
            return ObjectResult(sandbox=call.sandbox, kind=self.kind, status=status, health=health, item=item)

        return self.operation(ObjectResult, shape, render_object)


LISTS = (
    ListRead(
        name="strait_list_jobs",
        title="List Strait jobs",
        description="List jobs as a table (ID, name, slug, status, cron, updated), newest first; filter by slug "
        "or tag.",
        path="/v1/jobs",
        input_model=ListJobsArgs,
        kind="jobs",
        columns=JOB_COLUMNS,
        query=("slug", "tag_key", "tag_value", "limit", "cursor"),
    ),
    ListRead(
        name="strait_list_job_versions",
        title="List a Strait job's versions",
        description="List a job's earlier versions (each edit records the one it replaced), newest first.",
        path="/v1/jobs/{job_id}/versions",
        input_model=JobPageArgs,
        kind="earlier versions",
        columns=VERSION_COLUMNS,
    ),
    ListRead(
        name="strait_list_job_dependencies",
        title="List a Strait job's dependencies",
        description="List the jobs a job waits for before its runs start, with the condition each must meet.",
        path="/v1/jobs/{job_id}/dependencies",
        input_model=JobArgs,
        kind="dependencies",
        columns=DEPENDENCY_COLUMNS,
        query=(),  # Strait declares no paging for a job's dependencies
    ),
)
OBJECTS = (
    ObjectRead(
        name="strait_get_job",
        title="Get a Strait job",
        description="Show one job: state, schedule, endpoint, retries, tags, version.",
        path="/v1/jobs/{job_id}",
        input_model=JobArgs,
        kind="Job",
        status=job_status,
    ),
    ObjectRead(
        name="strait_get_job_version",
        title="Get a Strait job version",
        description="Show one earlier version of a job (its settings before an edit).",
        path="/v1/jobs/{job_id}/versions/{version_id}",
        input_model=VersionArgs,
        kind="Version of job",
        not_found=VERSION_NOT_FOUND,
    ),
    ObjectRead(
        name="strait_get_job_health",
        title="Get a Strait job's health",
        description="A job's run figures over a window: runs by outcome, success rate, durations, health score "
        "(-1: no runs). Strait's formula: dead_letter runs not counted.",
        path="/v1/jobs/{job_id}/health",
        input_model=HealthArgs,
        kind="Health of job",
        query=("window",),
    ),
)


# --- runs ----------------------------------------------------------------------------------------------


async def _list_runs(call: Call[ListRunsArgs]) -> ListResult:
    """Strait's run list cannot filter on a job, so a job's runs are picked from up to RUN_PAGES pages."""
    args = call.args
    params = {"limit": str(100 if args.job_id else args.limit)}
    if args.status:
        params["status"] = args.status
    cursor, found, pages = args.cursor, [], 0
    try:
        while True:
            answer = await call.api.fetch("GET", "/v1/runs", params=params | ({"cursor": cursor} if cursor else {}))
            pages += 1
            page = _items(answer.payload)
            cursor = answer.next_cursor
            if not args.job_id:
                found = page
                break
            found += [r for r in page if r.get("job_id") == args.job_id]
            if len(found) >= args.limit or cursor is None or pages >= RUN_PAGES:
                break
    except ApiError as exc:
        raise ApiError(f"{exc} (while reading the run list)", status=exc.status, code=exc.code) from None
    if args.job_id and len(found) > args.limit:
        found = found[: args.limit]
        cursor = str(found[-1].get("created_at") or "") or None
    call.next_cursor = cursor
    note = f"of job {args.job_id}" if args.job_id else ""
    if args.status:
        note = (note + " " if note else "") + f"with status {args.status}"
    names = await _job_names(call) if found else {}
    return _list_result(
        call, "runs", RUN_COLUMNS, [{**run, "_job_name": names.get(run.get("job_id"))} for run in found], note
    )


async def _job_names(call: Call[Any]) -> dict[Any, str]:
    """Job ID -> name, from the first page of the job list, so a run list shows names beside ids (a list that
    cannot be read leaves the ids alone)."""
    try:
        answer = await call.api.fetch("GET", "/v1/jobs", params={"limit": "100"})
    except ApiError:
        return {}
    return {job.get("id"): str(job.get("name") or "") for job in _items(answer.payload) if job.get("name")}


def _event_entry(event: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """A run event in the digest's common form: errors grouped by the run's status and error class."""
    kind = str(event.get("type") or "log")
    code = f"{run.get('status')}/{run.get('error_class') or 'unclassified'}" if kind == "error" else kind
    return {
        "timestamp": event.get("created_at"),
        "level": event.get("level") or ("error" if kind == "error" else "info"),
        "code": code,
        "message": event.get("message", ""),
        "job_id": run.get("job_id"),
    }


def _run_events(call: Call[RunArgs]) -> tuple[list[dict[str, Any]], str | None]:
    """The run's events as far as Strait lets them be read, and why the rest is missing (None: all were read).

    Strait lists a run's events oldest first, and its cursor asks for events *older* than the page's last: past
    the first page nothing newer can be reached. So a long failed run is read as its oldest page plus the oldest
    page of its error events and of its error-level lines (``_long_failed_run``; the failure is usually near the
    end), and the digest says it is not the whole log."""
    events = _items(call.extra.get("events"))
    if "events" not in call.extra_next:
        return events, None
    seen = {event.get("id") for event in events}
    for key in ERROR_EVENTS:
        fresh = [event for event in _items(call.extra.get(key)) if event.get("id") not in seen]
        seen.update(event.get("id") for event in fresh)
        events += fresh
    more = ", of which there are more" if any(key in call.extra_next for key in ERROR_EVENTS) else ""
    return events, (
        f"Strait lists a run's events oldest first and pages only back in time, so its oldest {EVENT_PAGE} events "
        f"and its oldest {EVENT_PAGE} errors{more} were read"
    )


def _run_of(call: Call[RunArgs]) -> tuple[dict[str, Any], str]:
    """The run read, and its status."""
    run = call.data if isinstance(call.data, dict) else {}
    return run, str(run.get("status", "unknown"))


def _long_failed_run(call: Call[RunArgs]) -> dict[str, Endpoint]:
    """The error events to read as well: those of a failed run whose events go on past the first page."""
    failed = status_class(_run_of(call)[1]) == "failed"
    return ERROR_EVENTS if failed and "events" in call.extra_next else {}


def _shape_run(call: Call[RunArgs]) -> RunResult:
    run, status = _run_of(call)
    digest = None
    if status_class(status) == "failed":
        events, missing = _run_events(call)
        digest = digest_logs(
            (_event_entry(event, run) for event in events),
            missing=missing,
            vocabulary=call.api.provider.log,
            # the wait tool reads a run through this too, with none of these
            newest=getattr(call.args, "newest", 5),
            page_size=getattr(call.args, "page_size", 0),
            page_from=getattr(call.args, "page_from", "oldest"),
            level=getattr(call.args, "level", None),
            now=call.now,
            job_id=str(run.get("job_id") or ""),
            job_status=status,
            active=status in ACTIVE_RUN_STATUSES,
        )
    return RunResult(sandbox=call.sandbox, status=status, health=status_class(status), run=run, events=digest)


def _render_run(result: RunResult) -> str:
    run = result.run
    keys = ("job_id", "attempt", "triggered_by", "error", "error_class", "created_at", "started_at", "finished_at")
    lines = [f"Run {run.get('id')} · status: {_status_cell(result.status)}"]
    lines += [_field_line(k, run[k]) for k in keys if run.get(k) not in (None, "")]
    if result.events is not None:
        lines += ["Events digest:", render_digest(result.events)]
    return "\n".join(lines)


RUN_OPERATIONS: tuple[Operation[Any, Any], ...] = (
    Operation(
        name="strait_list_runs",
        title="List Strait runs",
        description="List runs as a table (ID, job, job name, status, try, error, created), newest first; filter "
        "by job and status.",
        provider=NAME,
        kind="read",
        endpoint=None,
        run=_list_runs,
        check=slug_given_as_id,
        input_model=ListRunsArgs,
        result_model=ListResult,
        render=render_list,
    ),
    Operation(
        name="strait_get_run",
        title="Get a Strait run",
        description="Show one run; a failed run comes with its events digested (errors grouped by status and "
        "error class, exact counts, newest lines).",
        provider=NAME,
        kind="read",
        endpoint=Endpoint("GET", ("/v1/runs/{run_id}",)),
        also={"events": EVENTS},
        then_also=_long_failed_run,
        input_model=RunReadArgs,
        result_model=RunResult,
        shape=_shape_run,
        render=_render_run,
        not_found=RUN_NOT_FOUND,
    ),
)

OPERATIONS: tuple[Operation[Any, Any], ...] = (
    *(spec.make() for spec in (*LISTS, *OBJECTS)),
    *RUN_OPERATIONS,
)
