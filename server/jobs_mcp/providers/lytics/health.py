"""Lytics data health: the streams, schema and quota reads, and Lytics' checks for the shared health report
(streams, jobs, schema, quota; see jobs_mcp/health.py for how they are run and judged)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import BaseModel, ConfigDict, Field

from jobs_mcp.health import CheckResult, CheckStatus, HealthCheck, Recommendation, top_log_errors
from jobs_mcp.operations import Endpoint, Operation, ToolResult
from jobs_mcp.providers.lytics.reads import Job, NoArgs
from jobs_mcp.providers.lytics.vocabulary import NAME, status_class
from jobs_mcp.render import age, parse_time, short_time, table
from jobs_mcp.textsafe import one_line, quote

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient


STREAMS_PATH = "/v2/stream"
FIELDS_PATH = "/v2/schema/user/field"
QUOTA_PATH = "/v2/control/eventquota/thresholds"
STREAM_QUIET = timedelta(hours=6)  # a stream silent this long needs attention
STREAM_DEAD = timedelta(hours=48)  # ... and this long is unhealthy
STALE_AFTER = timedelta(hours=1)  # a running job with no log entry this long is stale
QUOTA_WARN, QUOTA_ERROR = 0.80, 0.95
DIGESTED_JOBS = 5  # failing jobs whose logs the report digests


# --- plain reads -----------------------------------------------------------------------------------------


class Stream(BaseModel):
    model_config = ConfigDict(extra="allow")

    stream: str
    ct: int | None = Field(None, description="events received")
    last_msg_ts: str | None = None


class StreamList(ToolResult):
    streams: list[Stream]


class SchemaField(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    type: str = ""
    is_identity: bool = False
    is_pii: bool = False


class SchemaFieldList(ToolResult):
    fields: list[SchemaField]


class EventQuota(ToolResult):
    limit: int | None = None
    used: int | None = None
    share: float | None = Field(None, description="used / limit")
    raw: dict[str, Any] = Field(default_factory=dict)


def _items(data: Any, model: type[BaseModel], key: str) -> list[Any]:
    return [model.model_validate(i) for i in (data or []) if isinstance(i, dict) and key in i]


def _quota(data: Any, sandbox: bool) -> EventQuota:
    raw = data if isinstance(data, dict) else {}
    limit, used = raw.get("limit"), raw.get("used")
    share = used / limit if isinstance(limit, int | float) and isinstance(used, int | float) and limit > 0 else None
    return EventQuota(sandbox=sandbox, limit=limit, used=used, share=share, raw=raw)


def _render_streams(result: StreamList) -> str:
    rows = [(s.stream, f"{s.ct:,}" if s.ct is not None else "-", short_time(s.last_msg_ts)) for s in result.streams]
    return f"{len(rows)} streams\n" + table(("stream", "events", "last message"), rows)


def _render_fields(result: SchemaFieldList) -> str:
    rows = [(f.id, f.type, "yes" if f.is_identity else "", "yes" if f.is_pii else "") for f in result.fields]
    return f"{len(rows)} user fields\n" + table(("field", "type", "identity", "PII"), rows)


def _render_quota(result: EventQuota) -> str:
    if result.share is None:
        return "Event quota: " + one_line(result.raw, 300)
    return f"Event quota: {result.used:,} of {result.limit:,} events used ({result.share:.0%})"


# --- the report ------------------------------------------------------------------------------------------


async def check_streams(api: ApiClient, now: datetime, recs: list[Recommendation]) -> CheckResult:
    streams = _items(await api.request("GET", STREAMS_PATH), Stream, "stream")
    quiet, dead = [], []
    for s in streams:
        last = parse_time(s.last_msg_ts)
        silence = now - last if last else None
        if silence is None or silence > STREAM_DEAD:
            dead.append(f"{quote(s.stream, 60)} silent for {age(last, now)}")
        elif silence > STREAM_QUIET:
            quiet.append(f"{quote(s.stream, 60)} silent for {age(last, now)}")
    if dead or quiet:
        recs.append(Recommendation(action="Check the source of the silent streams", tool="lytics_list_streams"))
    status: CheckStatus = "error" if dead else "warning" if quiet else "ok"
    summary = f"{len(streams)} streams, {len(streams) - len(dead) - len(quiet)} receiving data"
    return CheckResult(check="streams", status=status, summary=summary, details=dead + quiet)


async def check_jobs(api: ApiClient, now: datetime, recs: list[Recommendation]) -> CheckResult:
    async with anyio.create_task_group() as tg:
        fetched: dict[str, Any] = {}

        async def get(key: str, path: str, params: dict[str, str] | None = None) -> None:
            fetched[key] = await api.request("GET", path, params=params)

        tg.start_soon(get, "jobs", "/v2/job", {"show_all": "true"})
        tg.start_soon(get, "logs", "/v2/job/logs")
    jobs = [Job.model_validate(j) for j in fetched["jobs"] or [] if isinstance(j, dict) and "id" in j]
    last_seen: dict[str, datetime] = {}
    for entry in fetched["logs"] or []:
        when = parse_time(entry.get("timestamp")) if isinstance(entry, dict) else None
        job_id = str(entry.get("job_id", "")) if isinstance(entry, dict) else ""
        if when and (job_id not in last_seen or when > last_seen[job_id]):
            last_seen[job_id] = when
    failing = [j for j in jobs if status_class(j.status) in ("fault", "failed")]
    paused = [j for j in jobs if status_class(j.status) == "paused"]
    killed = [j for j in jobs if status_class(j.status) == "deleted"]
    stale = [
        j
        for j in jobs
        if j.status in ("running", "runnable") and now - last_seen.get(j.id, now - timedelta(days=1)) > STALE_AFTER
    ]
    details = await _failing_details(api, now, failing[:DIGESTED_JOBS])
    details += [f"paused: {quote(j.name, 60)} ({j.id})" for j in paused]
    details += [f"stale: {quote(j.name, 60)} ({j.id}), {_silence(last_seen.get(j.id), now)}" for j in stale]
    for j in failing[:DIGESTED_JOBS]:
        recs.append(Recommendation(action=f"Debug {one_line(j.name, 60)} ({j.id})", tool="lytics_get_job_logs"))
    for j in stale:
        recs.append(
            Recommendation(action=f"Check the stale {one_line(j.name, 60)} ({j.id})", tool="lytics_get_job_logs")
        )
    if paused:
        recs.append(Recommendation(action="Decide whether paused jobs should resume", tool="lytics_resume_job"))
    live = len(jobs) - len(failing) - len(paused) - len(killed)
    summary = (
        f"{len(jobs)} jobs: {live} live or done, {len(failing)} failing, {len(paused)} paused, "
        f"{len(stale)} stale, {len(killed)} killed (info)"
    )
    status: CheckStatus = "error" if failing else "warning" if paused or stale else "ok"
    return CheckResult(check="jobs", status=status, summary=summary, details=details)


def _silence(last: datetime | None, now: datetime) -> str:
    return f"no log for {age(last, now)}" if last else "no log in the last 24 h"


async def _failing_details(api: ApiClient, now: datetime, failing: list[Job]) -> list[str]:
    paths = {job.id: f"/v2/job/{job.id}/logs" for job in failing}
    errors = await top_log_errors(api, now, paths, at="data", params={"include_errors": "true"})
    return [f"{job.status}: {quote(job.name, 60)} ({job.id}); {errors[job.id]}" for job in failing]


async def check_schema(api: ApiClient, now: datetime, recs: list[Recommendation]) -> CheckResult:
    fields = _items(await api.request("GET", FIELDS_PATH), SchemaField, "id")
    identity = [f.id for f in fields if f.is_identity]
    pii = [f.id for f in fields if f.is_pii]
    details = [f"identity fields: {', '.join(identity) or 'none'}", f"PII fields: {', '.join(pii) or 'none'}"]
    if not identity:
        recs.append(
            Recommendation(action="Define an identity field so profiles can merge", tool="lytics_list_schema_fields")
        )
    summary = f"{len(fields)} user fields, {len(identity)} identity, {len(pii)} PII"
    return CheckResult(check="schema", status="ok" if identity else "error", summary=summary, details=details)


async def check_quota(api: ApiClient, now: datetime, recs: list[Recommendation]) -> CheckResult:
    quota = _quota(await api.request("GET", QUOTA_PATH), False)
    if quota.share is None:
        return CheckResult(check="quota", status="could not check", summary="quota answer had no limit/used")
    status: CheckStatus = "error" if quota.share > QUOTA_ERROR else "warning" if quota.share >= QUOTA_WARN else "ok"
    if status != "ok":
        recs.append(
            Recommendation(
                action="Event use is near the plan limit: review sources or the plan", tool="lytics_get_event_quota"
            )
        )
    return CheckResult(check="quota", status=status, summary=_render_quota(quota).removeprefix("Event quota: "))


CHECKS = (
    HealthCheck("streams", "lytics_list_streams", check_streams),
    HealthCheck("jobs", "lytics_list_jobs", check_jobs),
    HealthCheck("schema", "lytics_list_schema_fields", check_schema),
    HealthCheck("quota", "lytics_get_event_quota", check_quota),
)


def _catalogue_read(
    name: str, title: str, description: str, path: str, result: type[Any], shape: Any, render: Any
) -> Operation[Any, Any]:
    """A read of one account catalogue (streams, fields, quota): no arguments, one GET."""
    return Operation(
        name=name,
        title=title,
        description=description,
        provider=NAME,
        kind="read",
        endpoint=Endpoint("GET", (path,)),
        input_model=NoArgs,
        result_model=result,
        shape=shape,
        render=render,
    )


HEALTH_OPERATIONS: tuple[Operation[Any, Any], ...] = (
    _catalogue_read(
        "lytics_list_streams",
        "List Lytics data streams",
        "Data streams with their event counts and last message time.",
        STREAMS_PATH,
        StreamList,
        lambda call: StreamList(sandbox=call.sandbox, streams=_items(call.data, Stream, "stream")),
        _render_streams,
    ),
    _catalogue_read(
        "lytics_list_schema_fields",
        "List Lytics user schema fields",
        "User profile fields with their type and identity and PII flags.",
        FIELDS_PATH,
        SchemaFieldList,
        lambda call: SchemaFieldList(sandbox=call.sandbox, fields=_items(call.data, SchemaField, "id")),
        _render_fields,
    ),
    _catalogue_read(
        "lytics_get_event_quota",
        "Get the Lytics event quota",
        "Events used against the plan's limit.",
        QUOTA_PATH,
        EventQuota,
        lambda call: _quota(call.data, call.sandbox),
        _render_quota,
    ),
)
