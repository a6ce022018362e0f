"""WiseRows' check for the shared health report (jobs; see jobs_mcp/health.py).

The newest 100 jobs are read once: jobs that failed in the last 24 h are failing now (their logs are digested
for the top error codes, as wiserows_get_job does); a pending or running job is stuck when it has been so far
longer than jobs of its type usually take (the median of that type's completed jobs), or, without enough
history, longer than ``STUCK_DEFAULT``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import anyio

from jobs_mcp.digest import LogDigester
from jobs_mcp.errors import ApiError
from jobs_mcp.health import CheckResult, CheckStatus, HealthCheck, Recommendation, stuck_for, usual_times
from jobs_mcp.logstream import read_log
from jobs_mcp.operations import segment
from jobs_mcp.providers.wiserows.reads import JOB_PATH, JOBS_PATH, LOGS_AT, Job, progress_text
from jobs_mcp.providers.wiserows.vocabulary import LOG_HINTS, log_entry, ms_time
from jobs_mcp.render import parse_time
from jobs_mcp.textsafe import one_line, quote

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient

WINDOW = timedelta(hours=24)
DIGESTED_JOBS = 5


def _at(ms: int | None) -> datetime | None:
    return parse_time(ms_time(ms))


async def _top_errors(api: ApiClient, now: datetime, failed: list[Job]) -> dict[str, str]:
    lines: dict[str, str] = {}

    async def one(job: Job) -> None:
        digester = LogDigester(newest=0)
        try:
            await read_log(api, JOB_PATH.format(job_id=segment(job.id)), at=LOGS_AT, digester=digester, entry=log_entry)
        except ApiError as exc:
            lines[job.id] = f"log not readable: {one_line(exc, 100)}"
            return
        digest = digester.finish(now=now, job_id=job.id, job_status=job.status, hints=LOG_HINTS)
        codes = ", ".join(f"{g.code} ×{g.count:,}" for g in digest.errors[:3]) or "no error entries"
        cut = "" if digest.complete else f" (in the {digest.entries:,} entries read before {digest.missing})"
        lines[job.id] = f"top errors: {codes}{cut}"

    async with anyio.create_task_group() as tg:
        for job in failed:
            tg.start_soon(one, job)
    return lines


async def check_jobs(api: ApiClient, now: datetime, recs: list[Recommendation]) -> CheckResult:
    data = await api.request("GET", JOBS_PATH, params={"limit": "100"})
    jobs = [Job.model_validate(j) for j in data or [] if isinstance(j, dict) and "id" in j]
    usual = usual_times((j.type, _at(j.createdAt), _at(j.completedAt)) for j in jobs if j.status == "completed")
    failed = [
        j for j in jobs if j.status == "failed" and (_at(j.completedAt) or _at(j.createdAt) or now) >= now - WINDOW
    ]
    errors = await _top_errors(api, now, failed[:DIGESTED_JOBS])
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
