"""The data health report: every enabled provider's checks run at once → HEALTHY / NEEDS ATTENTION / UNHEALTHY.

Each provider may declare checks (``Provider.health``): a name, the tool that shows the details, and an async
function that reads what it needs and returns a ``CheckResult``, adding ``Recommendation``s. Every check runs under
its own time limit; one that fails or times out is "could not check" with the reason and never sinks the rest.
The report is one shared tool (``data_health_report``), like the gate tools.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import TYPE_CHECKING, Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field

from jobs_mcp import registry
from jobs_mcp.errors import ApiError
from jobs_mcp.operations import ToolResult
from jobs_mcp.render import age, short_time
from jobs_mcp.sdk import Tool, make_tool
from jobs_mcp.textsafe import one_line

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient
    from jobs_mcp.runtime import Runtime

CheckStatus = Literal["ok", "warning", "error", "could not check"]
Verdict = Literal["HEALTHY", "NEEDS ATTENTION", "UNHEALTHY"]
CHECK_TIMEOUT = 10.0


class CheckResult(BaseModel):
    check: str
    status: CheckStatus
    summary: str
    details: list[str] = Field(default_factory=list)


class Recommendation(BaseModel):
    action: str
    tool: str


class HealthReport(ToolResult):
    verdict: Verdict
    checked_at: str
    checks: list[CheckResult]
    recommendations: list[Recommendation]


# When a pending or running item counts as stuck: far longer than items of its kind usually take (the median of
# the completed ones, given enough of them), and at least STUCK_MIN; without enough history, STUCK_DEFAULT.
USUAL_SAMPLES = 3
STUCK_FACTOR = 3
STUCK_MIN = timedelta(minutes=30)
STUCK_DEFAULT = timedelta(hours=6)


def usual_times(finished: Iterable[tuple[str, datetime | None, datetime | None]]) -> dict[str, timedelta]:
    """Kind -> median duration, from (kind, began, ended) of completed items (kinds with enough of them)."""
    durations: dict[str, list[float]] = {}
    for kind, began, ended in finished:
        if began and ended:
            durations.setdefault(kind, []).append((ended - began).total_seconds())
    return {k: timedelta(seconds=median(d)) for k, d in durations.items() if len(d) >= USUAL_SAMPLES}


def stuck_for(since: datetime, now: datetime, typical: timedelta | None) -> str | None:
    """``"for 37 min (usually 11 min)"`` when an item pending or running since ``since`` is stuck, else None."""
    limit = max(STUCK_MIN, STUCK_FACTOR * typical) if typical is not None else STUCK_DEFAULT
    if now - since <= limit:
        return None
    known = f"usually {age(now - typical, now)}" if typical is not None else "no usual time known"
    return f"for {age(since, now)} ({known})"


async def top_log_errors(
    api: ApiClient,
    now: datetime,
    logs: Mapping[str, str],
    *,
    at: str,
    params: Mapping[str, str] | None = None,
    entry: Callable[[Any], Any] | None = None,
) -> dict[str, str]:
    """Job ID -> "top errors: " and the three commonest error codes with their counts, from the whole log at
    the job's path (``logs``: job ID -> path) streamed as the log tools stream it (``at``, ``entry``: see
    ``LogStream``); or why the log could not be read. All logs are read at once."""
    from jobs_mcp.digest import LogDigester
    from jobs_mcp.logstream import read_log

    lines: dict[str, str] = {}

    async def one(job_id: str, path: str) -> None:
        digester = LogDigester(newest=0, vocabulary=api.provider.log)
        try:
            await read_log(api, path, at=at, digester=digester, params=params, entry=entry)
        except ApiError as exc:
            lines[job_id] = f"log not readable: {one_line(exc, 100)}"
            return
        digest = digester.finish(now=now)
        codes = ", ".join(f"{g.code} ×{g.count:,}" for g in digest.errors[:3]) or "no error entries"
        cut = "" if digest.complete else f" (in the {digest.entries:,} entries read before {digest.missing})"
        lines[job_id] = f"top errors: {codes}{cut}"

    async with anyio.create_task_group() as tg:
        for job_id, path in logs.items():
            tg.start_soon(one, job_id, path)
    return lines


@dataclass(frozen=True)
class HealthCheck:
    name: str
    tool: str  # the tool that shows this area in full (named when the check could not run)
    run: Callable[[ApiClient, datetime, list[Recommendation]], Awaitable[CheckResult]]


async def health_report(
    clients: Sequence[tuple[str, ApiClient, Sequence[HealthCheck]]],
    now: datetime,
    *,
    limit: float = CHECK_TIMEOUT,
    progress: Callable[[int, int, str], Awaitable[None]] | None = None,
) -> HealthReport:
    """Run every (provider, account client, checks) concurrently; checks are named ``provider: check`` when
    several providers report."""
    several = len(clients) > 1
    planned = [(f"{name}: {c.name}" if several else c.name, api, c) for name, api, checks in clients for c in checks]
    results: dict[str, CheckResult] = {}
    recs: dict[str, list[Recommendation]] = {label: [] for label, _, _ in planned}

    async def run(label: str, api: ApiClient, check: HealthCheck) -> None:
        try:
            with anyio.fail_after(limit):
                result = await check.run(api, now, recs[label])
        except TimeoutError:
            result = CheckResult(check=label, status="could not check", summary=f"no answer within {limit:g} s")
        except ApiError as exc:
            result = CheckResult(check=label, status="could not check", summary=one_line(exc, 200))
        results[label] = result.model_copy(update={"check": label})
        if result.status == "could not check":
            recs[label].append(Recommendation(action=f"Retry {label} alone to see the error", tool=check.tool))
        if progress is not None:
            await progress(len(results), len(planned), f"{label} checked")

    async with anyio.create_task_group() as tg:
        for label, api, check in planned:
            tg.start_soon(run, label, api, check)
    checks = [results[label] for label, _, _ in planned]
    statuses = {c.status for c in checks}
    verdict: Verdict = "UNHEALTHY" if "error" in statuses else "NEEDS ATTENTION" if statuses - {"ok"} else "HEALTHY"
    return HealthReport(
        sandbox=any(api.account.sandbox for _, api, _ in clients),
        verdict=verdict,
        checked_at=now.isoformat(timespec="seconds"),
        checks=checks,
        recommendations=[r for label, _, _ in planned for r in recs[label]],
    )


def render_report(report: HealthReport) -> str:
    mark = {"ok": "OK", "warning": "ATTENTION", "error": "PROBLEM", "could not check": "COULD NOT CHECK"}
    lines = [f"Data health: {report.verdict} (checked {short_time(report.checked_at)} UTC)"]
    for c in report.checks:
        lines.append(f"- {c.check}: {mark[c.status]} — {c.summary}")
        lines += [f"    {d}" for d in c.details]
    if report.recommendations:
        lines.append("Next steps:")
        lines += [f"- {r.action} → {r.tool}" for r in report.recommendations]
    return "\n".join(lines)


def health_tool(runtime: Runtime) -> Tool:
    """``data_health_report``: one shared tool over every enabled provider that declares checks."""
    from jobs_mcp.tools import tool_result

    covered = [name for name in runtime.settings.providers if registry.provider(name).health()]
    choice: Any = Literal[tuple(covered)] if covered else str

    async def data_health_report(
        ctx: Context,
        providers: list[str] | None = None,
    ) -> CallToolResult:
        """One report on every platform's data health: HEALTHY, NEEDS ATTENTION or UNHEALTHY, what is failing
        with its top errors, and next steps naming the tool to call."""

        async def progress(done: int, total: int, message: str) -> None:
            await ctx.report_progress(done, total=total, message=message)

        chosen = [name for name in covered if not providers or name in providers]
        clients = [(name, runtime.client(name), registry.provider(name).health()) for name in chosen]
        report = await health_report(clients, runtime.clock(), progress=progress)
        titles = [registry.provider(name).title for name in chosen if runtime.client(name).account.sandbox]
        return tool_result(report, render_report(report), ", ".join(titles) or None)

    # Real objects, not postponed strings: the platform choice is made here, at start-up.
    data_health_report.__annotations__ = {
        "ctx": Context,
        "providers": Annotated[list[choice] | None, Field(description="only these platforms (default: all)")],
        "return": Annotated[CallToolResult, HealthReport],
    }
    return make_tool(
        data_health_report,
        result=HealthReport,
        title="Data health report",
        annotations=ToolAnnotations(
            title="Data health report",
            read_only_hint=True,
            destructive_hint=False,
            idempotent_hint=True,
            open_world_hint=True,
        ),
    )
