"""OwlMetry's check for the shared health report (runs; see jobs_mcp/health.py).

The team's runs of the last ``HISTORY`` are read (newest first, a few pages at most): failed runs of the last 24 h
are failing now; a pending or running run is stuck when it has been so far longer than its job type usually
takes (the median of that type's completed runs), or, without enough history, longer than ``STUCK_DEFAULT``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jobs_mcp.health import CheckResult, CheckStatus, HealthCheck, Recommendation, stuck_for, usual_times
from jobs_mcp.operations import segment
from jobs_mcp.providers.owlmetry.reads import RUNS_PATH, JobRun, account_team, progress_text
from jobs_mcp.render import parse_time
from jobs_mcp.textsafe import quote

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient

WINDOW = timedelta(hours=24)  # failures this recent are failing now
HISTORY = "30d"  # runs read to learn each job type's usual time
PAGES = 5  # pages of 200 runs at most
SHOWN = 5


async def _runs(api: ApiClient) -> tuple[list[JobRun], bool]:
    path = RUNS_PATH.format(team_id=segment(account_team(api)))
    runs: list[JobRun] = []
    cursor: str | None = None
    for _ in range(PAGES):
        params = {"since": HISTORY, "limit": "200"} | ({"cursor": cursor} if cursor else {})
        answer = await api.fetch("GET", path, params=params)
        runs += [JobRun.model_validate(r) for r in answer.payload or [] if isinstance(r, dict) and "id" in r]
        cursor = answer.next_cursor
        if not cursor:
            return runs, True
    return runs, False


async def check_runs(api: ApiClient, now: datetime, recs: list[Recommendation]) -> CheckResult:
    runs, complete = await _runs(api)
    usual = usual_times(
        (r.job_type, parse_time(r.started_at), parse_time(r.completed_at)) for r in runs if r.status == "completed"
    )
    failed = [r for r in runs if r.status == "failed" and (parse_time(r.created_at) or now) >= now - WINDOW]
    details: list[str] = []
    for run in failed[:SHOWN]:
        error = f": {quote(run.error, 160)}" if run.error else ""
        details.append(f"failed: {run.job_type} run {run.id} (project {run.project_id or '-'}){error}")
        recs.append(Recommendation(action=f"Read the failed {run.job_type} run {run.id}", tool="owlmetry_get_job_run"))
    stuck = 0
    for run in runs:
        since = parse_time(run.started_at if run.status == "running" else run.created_at)
        if run.status not in ("pending", "running") or since is None:
            continue
        overdue = stuck_for(since, now, usual.get(run.job_type))
        if overdue is None:
            continue
        stuck += 1
        details.append(
            f"stuck: {run.job_type} run {run.id} {run.status} {overdue}, progress "
            f"{progress_text(run.progress)}"
            + (f" — {quote(run.progress.message, 100)}" if run.progress and run.progress.message else "")
        )
        recs.append(
            Recommendation(
                action=f"Check whether the {run.job_type} run {run.id} still moves; cancel it if not",
                tool="owlmetry_get_job_run",
            )
        )
    summary = (
        f"{len(runs)} runs in {HISTORY}: {len(failed)} failed in 24 h, {stuck} stuck, "
        f"{sum(1 for r in runs if r.status in ('pending', 'running'))} pending or running"
        + ("" if complete else f" (only the newest {PAGES * 200} read)")
    )
    status: CheckStatus = "error" if failed else "warning" if stuck else "ok"
    return CheckResult(check="runs", status=status, summary=summary, details=details)


CHECKS = (HealthCheck("runs", "owlmetry_list_job_runs", check_runs),)
