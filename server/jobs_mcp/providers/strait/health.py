"""Strait's checks for the shared health report (runs, jobs; see jobs_mcp/health.py).

Strait's run list has no time filter, so the runs of the last 24 h are read newest first, page by page, until a
page reaches past the window (at most ``RUN_PAGES`` pages, said when reached).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import anyio

from jobs_mcp.health import CheckResult, CheckStatus, HealthCheck, Recommendation
from jobs_mcp.providers.strait.reads import RUN_PAGES, _items
from jobs_mcp.providers.strait.vocabulary import job_status, status_class
from jobs_mcp.render import age, parse_time
from jobs_mcp.textsafe import one_line, quote

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient

WINDOW = timedelta(hours=24)
STUCK_TIMEOUTS = 3  # a queued or executing run older than this many job timeouts is stuck ...
STUCK_MIN = timedelta(minutes=15)  # ... and at least this old
STUCK_STATUSES = frozenset({"queued", "dequeued", "executing"})
SHOWN = 5  # jobs named per problem


async def _jobs(api: ApiClient) -> dict[str, dict[str, Any]]:
    jobs = _items(await api.request("GET", "/v1/jobs", params={"limit": "100"}))
    return {str(j["id"]): j for j in jobs if "id" in j}


async def _recent_runs(api: ApiClient, now: datetime) -> tuple[list[dict[str, Any]], bool]:
    """The runs created in the window, newest first, and whether the window was read to its end."""
    runs: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(RUN_PAGES):
        answer = await api.fetch("GET", "/v1/runs", params={"limit": "100"} | ({"cursor": cursor} if cursor else {}))
        page = _items(answer.payload)
        recent = [r for r in page if (parse_time(r.get("created_at")) or now) >= now - WINDOW]
        runs += recent
        cursor = answer.next_cursor
        if len(recent) < len(page) or not cursor:
            return runs, True
    return runs, False


def _job_label(job_id: str, jobs: dict[str, dict[str, Any]]) -> str:
    job = jobs.get(job_id) or {}
    name = job.get("slug") or job.get("name")
    return f"{quote(name, 60)} ({job_id})" if name else job_id


def _stuck_since(run: dict[str, Any]) -> datetime | None:
    status = str(run.get("status", ""))
    return parse_time(run.get("started_at") if status == "executing" else run.get("created_at"))


async def check_runs(api: ApiClient, now: datetime, recs: list[Recommendation]) -> CheckResult:
    fetched: dict[str, Any] = {}

    async def read_jobs() -> None:
        fetched["jobs"] = await _jobs(api)

    async def read_runs() -> None:
        fetched["runs"] = await _recent_runs(api, now)

    async with anyio.create_task_group() as tg:
        tg.start_soon(read_jobs)
        tg.start_soon(read_runs)
    by_job: dict[str, dict[str, Any]] = fetched["jobs"]
    recent, complete = fetched["runs"]
    failed = [r for r in recent if status_class(str(r.get("status", ""))) == "failed"]
    per_job: dict[str, list[dict[str, Any]]] = {}
    for run in failed:  # newest first: a job's first failed run is its latest
        per_job.setdefault(str(run.get("job_id", "")), []).append(run)
    totals = Counter(str(r.get("job_id", "")) for r in recent)
    details: list[str] = []
    ranked = sorted(per_job.items(), key=lambda item: -len(item[1]))
    for job_id, job_runs in ranked[:SHOWN]:
        counts = ", ".join(f"{n} {s}" for s, n in Counter(str(r.get("status")) for r in job_runs).most_common())
        latest = job_runs[0]
        error = f"; latest error: {quote(latest['error'], 120)}" if latest.get("error") else ""
        details.append(f"failing: {_job_label(job_id, by_job)}: {counts} of {totals[job_id]} runs in 24 h{error}")
        recs.append(
            Recommendation(
                action=f"Debug {one_line((by_job.get(job_id) or {}).get('slug') or job_id, 60)}: its latest failed "
                f"run {latest.get('id')} with its events",
                tool="strait_get_run",
            )
        )
    if len(ranked) > SHOWN:
        details.append(f"... and {len(ranked) - SHOWN} more failing jobs")
    if any(str(r.get("status")) == "dead_letter" for r in failed):
        details.append(
            "(counted from the run list, dead_letter runs included; strait_get_job_health follows Strait's own "
            "formula, which leaves dead_letter runs out)"
        )
    stuck: list[str] = []
    for run in recent:
        run_status = str(run.get("status", ""))
        since = _stuck_since(run)
        job = by_job.get(str(run.get("job_id", ""))) or {}
        timeout = job.get("timeout_secs")
        if run_status not in STUCK_STATUSES or since is None:
            continue
        limit = max(STUCK_MIN, STUCK_TIMEOUTS * timedelta(seconds=timeout if isinstance(timeout, int) else 0))
        if now - since > limit:
            stuck.append(
                f"stuck: run {run.get('id')} of {_job_label(str(run.get('job_id', '')), by_job)} {run_status} for "
                f"{age(since, now)} (job timeout {timeout if isinstance(timeout, int) else '?'} s)"
            )
            recs.append(
                Recommendation(action=f"Check the stuck run {run.get('id')}, then cancel it", tool="strait_get_run")
            )
    details += stuck[:SHOWN]
    summary = f"{len(recent)} runs in 24 h: {len(failed)} failed in {len(per_job)} jobs, {len(stuck)} stuck" + (
        "" if complete else f" (only the newest {RUN_PAGES * 100} runs read)"
    )
    status: CheckStatus = "error" if failed else "warning" if stuck else "ok"
    return CheckResult(check="runs", status=status, summary=summary, details=details)


async def check_jobs(api: ApiClient, now: datetime, recs: list[Recommendation]) -> CheckResult:
    jobs = list((await _jobs(api)).values())
    paused = [j for j in jobs if job_status(j) == "paused"]
    disabled = [j for j in jobs if job_status(j) == "disabled"]
    details = []
    for j in paused:
        since = parse_time(j.get("paused_at"))
        reason = f"; reason: {quote(j['pause_reason'], 160)}" if j.get("pause_reason") else ""
        when = f" for {age(since, now)}" if since else ""
        details.append(f"paused{when}: {_job_label(str(j['id']), {str(j['id']): j})}{reason}")
        recs.append(
            Recommendation(
                action=f"Decide whether {one_line(j.get('slug') or j['id'], 60)} should resume", tool="strait_get_job"
            )
        )
    details += [f"disabled (info): {_job_label(str(j['id']), {str(j['id']): j})}" for j in disabled]
    summary = f"{len(jobs)} jobs: {len(jobs) - len(paused) - len(disabled)} enabled, {len(paused)} paused, " + (
        f"{len(disabled)} disabled (info)"
    )
    return CheckResult(check="jobs", status="warning" if paused else "ok", summary=summary, details=details)


CHECKS = (
    HealthCheck("runs", "strait_list_runs", check_runs),
    HealthCheck("jobs", "strait_list_jobs", check_jobs),
)
