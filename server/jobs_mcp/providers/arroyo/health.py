"""Arroyo's checks for the shared health report (jobs, checkpoints, backpressure; see jobs_mcp/health.py).

Jobs are read once (``/api/v1/jobs``) with the pipelines (names, checkpoint intervals); the checkpoints and the
operator metrics of each Running job are read concurrently, parsed by the same helpers as the tools that show them.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import anyio

from jobs_mcp.errors import ApiError
from jobs_mcp.health import CheckResult, CheckStatus, HealthCheck, Recommendation
from jobs_mcp.providers.arroyo.flow import _operator_metrics
from jobs_mcp.providers.arroyo.observe import _checkpoint
from jobs_mcp.providers.arroyo.reads import JobView, jobs_of
from jobs_mcp.render import age
from jobs_mcp.textsafe import one_line, quote

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient

RESTART_LOOP_RUNS = 3  # a Recovering/Restarting job on this run or later is looping
CHECKPOINT_STALL_MIN = timedelta(minutes=10)  # no checkpoint completes in max(this, 3 x interval): stalled
CHECKPOINT_STALL_INTERVALS = 3
BACKPRESSURE_HIGH = 0.8  # worst subtask's latest backpressure at or above this needs attention
SHOWN = 5  # jobs named per problem


async def _jobs_and_pipelines(api: ApiClient) -> tuple[list[JobView], dict[str, dict[str, Any]]]:
    fetched: dict[str, Any] = {}

    async def jobs() -> None:
        fetched["jobs"] = await api.request("GET", "/api/v1/jobs")

    async def pipelines() -> None:
        try:
            fetched["pipelines"] = await api.request("GET", "/api/v1/pipelines", params={"limit": "100"})
        except ApiError:  # names and intervals are a nicety: the jobs alone can be judged
            fetched["pipelines"] = []

    async with anyio.create_task_group() as tg:
        tg.start_soon(jobs)
        tg.start_soon(pipelines)
    by_id = {str(p["id"]): p for p in fetched["pipelines"] or [] if isinstance(p, dict) and "id" in p}
    return jobs_of(fetched["jobs"]), by_id


def _label(job: JobView, pipelines: dict[str, dict[str, Any]]) -> str:
    name = (pipelines.get(job.pipeline_id) or {}).get("name")
    head = f"{quote(name, 60)} " if name else ""
    return f"{head}(pipeline {job.pipeline_id}, job {job.id})"


def _running(jobs: list[JobView]) -> list[JobView]:
    return [j for j in jobs if j.state == "Running"]


async def _per_job(api: ApiClient, jobs: list[JobView], suffix: str) -> dict[str, Any]:
    """One route of each job (``/…/jobs/{id}{suffix}``), read concurrently; a job whose read fails is left out."""
    answers: dict[str, Any] = {}

    async def one(job: JobView) -> None:
        with contextlib.suppress(ApiError):
            answers[job.id] = await api.request("GET", f"/api/v1/pipelines/{job.pipeline_id}/jobs/{job.id}{suffix}")

    async with anyio.create_task_group() as tg:
        for job in jobs:
            tg.start_soon(one, job)
    return answers


async def check_jobs(api: ApiClient, now: datetime, recs: list[Recommendation]) -> CheckResult:
    jobs, pipelines = await _jobs_and_pipelines(api)
    failed = [j for j in jobs if j.health == "failed"]
    recovering = [j for j in jobs if j.state in ("Recovering", "Restarting")]
    loops = [j for j in recovering if (j.run_id or 0) >= RESTART_LOOP_RUNS]
    faulty = [j for j in recovering if j.health == "fault"]
    details = []
    for j in failed[:SHOWN]:
        reason = f"; failure ({j.failure_domain or 'unknown domain'}): {quote(j.failure, 160)}" if j.failure else ""
        details.append(f"{j.state}: {_label(j, pipelines)}, run {j.run_id}{reason}")
        recs.append(
            Recommendation(
                action=f"Read the errors of pipeline {j.pipeline_id} before restarting it", tool="arroyo_get_job_errors"
            )
        )
    for j in recovering[:SHOWN]:
        loop = f"restart loop: run {j.run_id}" if j in loops else f"run {j.run_id}"
        reason = f"; failure ({j.failure_domain or 'unknown domain'}): {quote(j.failure, 160)}" if j.failure else ""
        details.append(f"{j.state}: {_label(j, pipelines)}, {loop}{reason}")
        what = "keeps restarting" if j in loops else "is recovering"
        recs.append(
            Recommendation(
                action=f"Pipeline {j.pipeline_id} {what}: find the failing connector in its errors",
                tool="arroyo_get_job_errors",
            )
        )
    running = len(_running(jobs))
    summary = (
        f"{len(jobs)} jobs: {running} running, {len(failed)} failed, {len(recovering)} recovering "
        f"({len(loops)} in a restart loop)"
    )
    status: CheckStatus = "error" if failed or faulty or loops else "warning" if recovering else "ok"
    return CheckResult(check="jobs", status=status, summary=summary, details=details)


def _stall_limit(pipeline: dict[str, Any]) -> timedelta:
    interval = pipeline.get("checkpoint_interval_micros")
    every = timedelta(microseconds=interval) if isinstance(interval, int) and interval > 0 else timedelta(0)
    return max(CHECKPOINT_STALL_MIN, CHECKPOINT_STALL_INTERVALS * every)


async def check_checkpoints(api: ApiClient, now: datetime, recs: list[Recommendation]) -> CheckResult:
    jobs, pipelines = await _jobs_and_pipelines(api)
    running = _running(jobs)
    answers = await _per_job(api, running, "/checkpoints")
    stalled: list[str] = []
    for job in running:
        if job.id not in answers:
            continue
        limit = _stall_limit(pipelines.get(job.pipeline_id) or {})
        points = [_checkpoint(c) for c in answers[job.id] or [] if isinstance(c, dict) and "epoch" in c]
        hung = [c for c in points if c.finished is None and c.started and now - c.started > limit]
        done = [c.finished for c in points if c.finished]
        last = max(done) if done else None
        up_since = job.started or job.created
        if hung:
            oldest = min(hung, key=lambda c: c.epoch)
            stalled.append(
                f"{_label(job, pipelines)}: checkpoint {oldest.epoch} started {age(oldest.started, now)} ago, "
                f"not finished; last completed {age(last, now) + ' ago' if last else 'never'}"
            )
        elif up_since and now - up_since > limit and (last is None or now - last > limit):
            stalled.append(
                f"{_label(job, pipelines)}: no checkpoint completed for {age(last, now) if last else 'ever'}"
            )
        else:
            continue
        recs.append(
            Recommendation(
                action=f"See which operator holds up the checkpoints of pipeline {job.pipeline_id}",
                tool="arroyo_list_checkpoints",
            )
        )
    read = sum(1 for j in running if j.id in answers)
    summary = f"{read} running jobs checked, {len(stalled)} with checkpoints that stopped completing"
    if read < len(running):
        summary += f" ({len(running) - read} not readable)"
    return CheckResult(check="checkpoints", status="warning" if stalled else "ok", summary=summary, details=stalled)


async def check_backpressure(api: ApiClient, now: datetime, recs: list[Recommendation]) -> CheckResult:
    jobs, pipelines = await _jobs_and_pipelines(api)
    running = _running(jobs)
    answers = await _per_job(api, running, "/operator_metric_groups")
    pressed: list[str] = []
    for job in running:
        operators = [_operator_metrics(raw, {})[0] for raw in answers.get(job.id) or [] if isinstance(raw, dict)]
        measured = [o for o in operators if o.backpressure is not None]
        if not measured:
            continue
        worst = max(measured, key=lambda o: o.backpressure or 0.0)
        if (worst.backpressure or 0.0) < BACKPRESSURE_HIGH:
            continue
        high = sum(1 for o in measured if (o.backpressure or 0.0) >= BACKPRESSURE_HIGH)
        pressed.append(
            f"{_label(job, pipelines)}: backpressure {worst.backpressure:.2f} at operator "
            f"{one_line(worst.node_id, 40)} (avg {worst.backpressure_avg or 0.0:.2f}); {high} of "
            f"{len(measured)} operators high"
        )
        recs.append(
            Recommendation(
                action=f"Find the slow operator (often the sink) of pipeline {job.pipeline_id}; rescale if needed",
                tool="arroyo_get_operator_metrics",
            )
        )
    read = sum(1 for j in running if j.id in answers)
    summary = f"{read} running jobs measured, {len(pressed)} with backpressure ≥ {BACKPRESSURE_HIGH:g}"
    return CheckResult(check="backpressure", status="warning" if pressed else "ok", summary=summary, details=pressed)


CHECKS = (
    HealthCheck("jobs", "arroyo_list_jobs", check_jobs),
    HealthCheck("checkpoints", "arroyo_list_checkpoints", check_checkpoints),
    HealthCheck("backpressure", "arroyo_get_operator_metrics", check_backpressure),
)
