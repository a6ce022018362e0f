"""WiseRows' check for the shared health report (jobs; see jobs_mcp/health.py).

The newest 100 jobs are read once: jobs that failed in the last 24 h are failing now (their logs are digested
for the top error codes, as wiserows_get_job does); a pending or running job is stuck when it has been so far
longer than jobs of its type usually take (the median of that type's completed jobs), or, without enough
history, longer than ``STUCK_DEFAULT``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jobs_mcp.health import (
    CheckResult,
    CheckStatus,
    HealthCheck,
    Recommendation,
    stuck_for,
    top_log_errors,
    usual_times,
)
from jobs_mcp.operations import segment
from jobs_mcp.providers.wiserows.reads import JOB_PATH, JOBS_PATH, LOGS_AT, Job, progress_text
from jobs_mcp.providers.wiserows.vocabulary import log_entry, ms_time
from jobs_mcp.render import parse_time
from jobs_mcp.textsafe import one_line, quote

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient

WINDOW = timedelta(hours=24)
DIGESTED_JOBS = 5


def _at(ms: int | None) -> datetime | None:
    return parse_time(ms_time(ms))


async def check_jobs(api: ApiClient, now: datetime, recs: list[Recommendation]) -> CheckResult:
    data = await api.request("GET", JOBS_PATH, params={"limit": "100"})
    jobs = [Job.model_validate(j) for j in data or [] if isinstance(j, dict) and "id" in j]
    usual = usual_times((j.type, _at(j.createdAt), _at(j.completedAt)) for j in jobs if j.status == "completed")
    failed = [
        j for j in jobs if j.status == "failed" and (_at(j.completedAt) or _at(j.createdAt) or now) >= now - WINDOW
    ]
    paths = {job.id: JOB_PATH.format(job_id=segment(job.id)) for job in failed[:DIGESTED_JOBS]}
    errors = await top_log_errors(api, now, paths, at=LOGS_AT, entry=log_entry)
    details: list[str] = []
    for job in failed[:DIGESTED_JOBS]:
        details.append(
            f"failed: {quote(job.name, 60)} ({job.id}, {job.category}/{job.type}), {progress_text(job.progress)}; "
            f"{errors.get(job.id, '')}"
        )
        recs.append(
            Recommendation(
                action=f"Read the log digest of {one_line(job.name, 60)} ({job.id})", tool="wiserows_get_job"
            )
        )
    stuck = 0
    for job in jobs:
        since = _at(job.createdAt)
        if job.status not in ("pending", "running") or since is None:
            continue
        overdue = stuck_for(since, now, usual.get(job.type))
        if overdue is None:
            continue
        stuck += 1
        details.append(f"stuck: {quote(job.name, 60)} ({job.id}) {job.status} {overdue}, {progress_text(job.progress)}")
        recs.append(
            Recommendation(
                action=f"Check whether {one_line(job.name, 60)} ({job.id}) still moves; cancel it if not",
                tool="wiserows_get_job",
            )
        )
    active = sum(1 for j in jobs if j.status in ("pending", "running"))
    summary = f"{len(jobs)} jobs: {len(failed)} failed in 24 h, {stuck} stuck, {active} pending or running"
    status: CheckStatus = "error" if failed else "warning" if stuck else "ok"
    return CheckResult(check="jobs", status=status, summary=summary, details=details)


CHECKS = (HealthCheck("jobs", "wiserows_list_jobs", check_jobs),)
