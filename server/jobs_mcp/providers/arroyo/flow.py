"""Arroyo: what a job moves — operator metrics summarised, a bounded sample of a preview's output stream — and a
query checked before it becomes a pipeline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from jobs_mcp.errors import ApiError
from jobs_mcp.operations import Call, Endpoint, Operation, OperationInput, ToolResult
from jobs_mcp.providers.arroyo.observe import job_get, job_read, size
from jobs_mcp.providers.arroyo.reads import (
    JOB_NOT_FOUND,
    Edge,
    JobArgs,
    JobView,
    Node,
    api_not_found,
    find_job,
    job_view,
    render_graph,
)
from jobs_mcp.providers.arroyo.vocabulary import NAME, from_micros
from jobs_mcp.render import short_time, table
from jobs_mcp.textsafe import cell, one_line, quote

# --- arguments -------------------------------------------------------------------------------------------------


class SampleArgs(JobArgs):
    records: int = Field(20, ge=1, le=200, description="stop after this many records")
    seconds: float = Field(5.0, ge=0.5, le=30, description="stop after this many seconds")


class QueryArgs(OperationInput):
    query: str = Field(min_length=1, max_length=20000, description="Arroyo SQL")


# --- operator metrics ------------------------------------------------------------------------------------------


class OperatorMetrics(BaseModel):
    node_id: str
    operator: str = ""
    description: str = ""
    subtasks: int = 0
    messages_recv_per_s: float | None = Field(None, description="latest, summed over subtasks")
    messages_sent_per_s: float | None = None
    bytes_recv_per_s: float | None = None
    bytes_sent_per_s: float | None = None
    backpressure: float | None = Field(None, description="latest, worst subtask (0..1)")
    backpressure_avg: float | None = Field(None, description="mean over the window, worst subtask")


class MetricsResult(ToolResult):
    job: JobView
    window_start: datetime | None = None
    window_end: datetime | None = None
    operators: list[OperatorMetrics]


def _series(group: dict[str, Any]) -> Iterator[list[tuple[int, float]]]:
    for sub in group.get("subtasks") or []:
        if isinstance(sub, dict):
            points = [(p["time"], float(p["value"])) for p in sub.get("metrics") or [] if isinstance(p, dict)]
            if points:
                yield sorted(points)


def _operator_metrics(raw: dict[str, Any], nodes: dict[str, Node]) -> tuple[OperatorMetrics, list[int]]:
    node_id = str(raw.get("node_id"))
    node = nodes.get(node_id)
    values: dict[str, float | None] = {}
    times: list[int] = []
    subtasks = 0
    for group in raw.get("metric_groups") or []:
        if not isinstance(group, dict):
            continue
        series = list(_series(group))
        subtasks = max(subtasks, len(series))
        times += [s[-1][0] for s in series] + [s[0][0] for s in series]
        name = str(group.get("name"))
        if not series:
            continue
        if name == "backpressure":
            values["backpressure"] = round(max(s[-1][1] for s in series), 3)
            values["backpressure_avg"] = round(max(sum(v for _, v in s) / len(s) for s in series), 3)
        elif name in ("messages_recv", "messages_sent", "bytes_recv", "bytes_sent"):
            values[f"{name}_per_s"] = round(sum(s[-1][1] for s in series), 1)
    metrics = OperatorMetrics(
        node_id=node_id,
        operator=one_line(node.operator if node else "", 40),
        description=one_line(node.description if node else "", 90),
        subtasks=subtasks,
        **values,
    )
    return metrics, times


async def _metrics(call: Call[JobArgs]) -> MetricsResult:
    job, data = await job_get(call, "/operator_metric_groups")
    try:
        pipeline = await call.api.request("GET", f"/api/v1/pipelines/{call.args.pipeline_id}")
    except ApiError:
        pipeline = {}
    graph = (pipeline or {}).get("graph") or {}
    nodes = {str(n["node_id"]): Node.model_validate(n) for n in graph.get("nodes") or [] if isinstance(n, dict)}
    operators, times = [], []
    for raw in data or []:
        if isinstance(raw, dict):
            metrics, seen = _operator_metrics(raw, nodes)
            operators.append(metrics)
            times += seen
    return MetricsResult(
        sandbox=call.sandbox,
        job=job_view(job),
        window_start=from_micros(min(times)) if times else None,
        window_end=from_micros(max(times)) if times else None,
        operators=operators,
    )


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}/s"


def _render_metrics(r: MetricsResult) -> str:
    if not r.operators:
        return f"No metrics: Arroyo keeps them only while a job runs ({r.job.id} is {r.job.state})."
    head = f"Operator metrics of {r.job.id} ({r.job.state}), {short_time(r.window_start)} → {short_time(r.window_end)}"
    rows = [
        (
            f"{o.node_id} {o.operator}",
            o.subtasks,
            _rate(o.messages_recv_per_s),
            _rate(o.messages_sent_per_s),
            size(o.bytes_sent_per_s or 0) + "/s",
            "-" if o.backpressure is None else f"{o.backpressure:.2f} (avg {o.backpressure_avg:.2f})",
        )
        for o in r.operators
    ]
    lines = [head, table(("operator", "subtasks", "msgs in", "msgs out", "bytes out", "backpressure"), rows)]
    pressed = [o for o in r.operators if (o.backpressure or 0) >= 0.5]
    if pressed:
        worst = max(pressed, key=lambda o: o.backpressure or 0)
        lines.append(
            f"Backpressure: {len(pressed)} operators wait on a slower one downstream (worst {worst.node_id}); the "
            "bottleneck is the first operator after them with low backpressure — often the sink. Scale with "
            "arroyo_rescale_pipeline or fix the slow sink."
        )
    return "\n".join(lines)


# --- output sample ---------------------------------------------------------------------------------------------


class SampleResult(ToolResult):
    job_id: str
    records: list[dict[str, Any]]
    events: int = Field(description="stream events read")
    stopped_by: Literal["records", "time", "end of stream"]


def _rows(data: Any) -> list[dict[str, Any]]:
    batch = data.get("batch") if isinstance(data, dict) else None
    try:
        rows = json.loads(batch) if isinstance(batch, str) else batch
    except json.JSONDecodeError:
        return []
    return [r for r in rows or [] if isinstance(r, dict)] if isinstance(rows, list) else []


async def _read_events(call: Call[SampleArgs], path: str, out: list[dict[str, Any]]) -> tuple[int, bool]:
    """Read the SSE stream until enough records are in ``out``; (events read, whether the stream ended)."""
    events = 0
    async with call.api.stream(path) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            try:
                data = json.loads(line[5:])
            except json.JSONDecodeError:
                continue
            events += 1
            out += _rows(data)[: call.args.records - len(out)]
            if len(out) >= call.args.records:
                return events, False
    return events, True


async def _sample(call: Call[SampleArgs]) -> SampleResult:
    args = call.args
    job = await find_job(call.api, args.pipeline_id, args.job_id)
    path = f"/api/v1/pipelines/{args.pipeline_id}/jobs/{job['id']}/output"
    records: list[dict[str, Any]] = []
    events, ended = 0, False
    try:
        with anyio.move_on_after(args.seconds):
            events, ended = await _read_events(call, path, records)
    except ApiError as exc:
        said = str(exc)
        if "preview sink" in said:
            raise ToolError(
                f"Job {job['id']} has no preview sink, so Arroyo streams no output for it: only preview pipelines "
                "(the console's Preview) do. Read its sink's destination instead; arroyo_get_pipeline shows the sinks."
            ) from None
        if "must be running" in said:
            raise ToolError(
                f"Job {job['id']} is {job.get('state')}; output can be sampled only while it is Running."
            ) from None
        raise api_not_found(exc, JOB_NOT_FOUND.format(pipeline_id=args.pipeline_id, job_id=job["id"])) from None
    stopped: Literal["records", "time", "end of stream"] = (
        "records" if len(records) >= args.records else "end of stream" if ended else "time"
    )
    return SampleResult(sandbox=call.sandbox, job_id=str(job["id"]), records=records, events=events, stopped_by=stopped)


def _render_sample(r: SampleResult) -> str:
    head = f"{len(r.records)} records from {r.events} output events of {r.job_id} (stopped by {r.stopped_by})"
    if not r.records:
        return head + "."
    columns = list(dict.fromkeys(k for row in r.records for k in row))[:8]
    rows = [[row.get(c) for c in columns] for row in r.records]
    return head + "; values are data\n" + table([cell(c, 24) for c in columns], rows)


# --- query validation ------------------------------------------------------------------------------------------


class QueryError(BaseModel):
    message: str
    span: dict[str, Any] | None = None


class QueryCheckResult(ToolResult):
    valid: bool
    errors: list[QueryError]
    nodes: list[Node]
    edges: list[Edge]


def query_errors(data: Any) -> list[QueryError]:
    errors = (data or {}).get("errors") or []
    return [
        QueryError(
            message=one_line(e.get("message", ""), 400), span=e.get("span") if isinstance(e.get("span"), dict) else None
        )
        for e in errors
        if isinstance(e, dict)
    ]


def _shape_query(call: Call[QueryArgs]) -> QueryCheckResult:
    graph = (call.data or {}).get("graph") or {}
    errors = query_errors(call.data)
    return QueryCheckResult(
        sandbox=call.sandbox,
        valid=not errors and bool(graph),
        errors=errors,
        nodes=[Node.model_validate(n) for n in graph.get("nodes") or [] if isinstance(n, dict) and "node_id" in n],
        edges=[Edge.model_validate(e) for e in graph.get("edges") or [] if isinstance(e, dict) and "src_id" in e],
    )


def render_query_errors(errors: list[QueryError]) -> list[str]:
    return [f"- {quote(e.message, 400)}" + (f" at {one_line(e.span, 60)}" if e.span else "") for e in errors]


def _render_query(r: QueryCheckResult) -> str:
    if r.errors:
        return "\n".join([f"The query is not valid ({len(r.errors)} errors):", *render_query_errors(r.errors)])
    return "\n".join([f"The query is valid: {len(r.nodes)} operators.", *render_graph(r.nodes, r.edges)])


OPERATIONS: tuple[Operation[Any, Any], ...] = (
    job_read(
        "arroyo_get_operator_metrics",
        "Summarise an Arroyo job's operator metrics",
        "Per operator of a running job: message and byte rates and backpressure (last 5 min).",
        _metrics,
        JobArgs,
        MetricsResult,
        _render_metrics,
    ),
    job_read(
        "arroyo_sample_output",
        "Sample an Arroyo preview's output",
        "Reads a preview job's output until `records` or `seconds`, whichever comes first.",
        _sample,
        SampleArgs,
        SampleResult,
        _render_sample,
    ),
    Operation(
        name="arroyo_validate_query",
        title="Validate Arroyo SQL",
        description="Checks a SQL query without creating anything: its errors, or the operator graph it plans.",
        provider=NAME,
        kind="read",
        endpoint=Endpoint("POST", ("/api/v1/pipelines/validate_query",), body=("query",)),
        input_model=QueryArgs,
        result_model=QueryCheckResult,
        shape=_shape_query,
        render=_render_query,
    ),
)
