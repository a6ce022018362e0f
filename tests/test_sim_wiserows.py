"""The WiseRows simulator on its own: routes, the (invented) envelope, filters, permission levels, jobs moving
on a fake clock, best-effort cancel, logs, faults, and a file-backed store across apps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobs_mcp.providers.wiserows import seed as s
from jobs_mcp.providers.wiserows.simulator import create_app
from jobs_mcp.sandbox.faults import ConnectionDropped, FaultInjector
from support import Clock

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
READ = {"Authorization": f"Bearer {s.READ_TOKEN}"}
WRITE = {"Authorization": f"Bearer {s.WRITE_TOKEN}"}
JOB_FIELDS = {"id", "name", "type", "category", "status", "progress", "createdAt", "completedAt"}


@pytest.fixture
async def http(clock: Clock, faults: FaultInjector) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(now=clock, faults=faults)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sim") as client:
        yield client


def data(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"success", "data"} and body["success"] is True
    return body["data"]


def error(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"success", "error"} and body["success"] is False and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    return str(body["error"]["message"])


async def jobs(http: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    return list(data(await http.get("/api/v1/jobs", params=params, headers=READ)))


async def job(http: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    return dict(data(await http.get(f"/api/v1/jobs/{job_id}", headers=READ)))


async def cancel(http: httpx.AsyncClient, job_id: str, headers: dict[str, str] = WRITE) -> httpx.Response:
    return await http.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers)


# --- list -------------------------------------------------------------------------------------------------------------


async def test_list_envelope_order_and_coverage(http: httpx.AsyncClient) -> None:
    listed = await jobs(http)
    assert len(listed) == 14 and all(set(j) == JOB_FIELDS for j in listed)
    assert [j["createdAt"] for j in listed] == sorted((j["createdAt"] for j in listed), reverse=True)
    assert {j["status"] for j in listed} == set(s.STATUSES)
    assert {j["category"] for j in listed} == set(s.CATEGORIES)
    for j in listed:
        progress = j["progress"]
        assert set(progress) == {"total", "completed", "failed"}
        assert progress["completed"] + progress["failed"] <= progress["total"]
        assert isinstance(j["createdAt"], int) and j["createdAt"] <= NOW_MS
        assert (j["completedAt"] is None) == (j["status"] in ("pending", "running"))
    pending = next(j for j in listed if j["id"] == s.PENDING_JOB_ID)
    assert pending["status"] == "pending" and pending["progress"] == {"total": 48, "completed": 0, "failed": 0}


async def test_filters_and_limit(http: httpx.AsyncClient) -> None:
    failed = {j["id"] for j in await jobs(http, status="failed")}
    assert failed == {s.FAILED_JOB_ID, s.FAILED_AI_JOB_ID, s.FAILED_EXPORT_JOB_ID}
    seo = await jobs(http, category="seo")
    assert len(seo) == 3 and {j["category"] for j in seo} == {"seo"}
    assert {j["id"] for j in await jobs(http, status="running", category="ai")} == {s.RUNNING_JOB_ID}
    assert [j["id"] for j in await jobs(http, limit=2)] == [s.PENDING_JOB_ID, s.RUNNING_FAILING_JOB_ID]
    assert len(await jobs(http, limit=100)) == 14


@pytest.mark.parametrize(
    ("params", "word"),
    [({"status": "done"}, "status"), ({"category": "email"}, "category"), ({"limit": "0"}, "limit")]
    + [({"limit": v}, "limit") for v in ("101", "ten", "2.5", "-1")],
)
async def test_bad_query_is_400(http: httpx.AsyncClient, params: dict[str, str], word: str) -> None:
    message = error(await http.get("/api/v1/jobs", params=params, headers=READ), 400, "VALIDATION_ERROR")
    assert message.startswith(word)


# --- get and logs ---------------------------------------------------------------------------------------------------


async def test_get_includes_logs(http: httpx.AsyncClient) -> None:
    got = await job(http, s.FAILED_JOB_ID)
    assert set(got) == JOB_FIELDS | {"logs"} and got["status"] == "failed" and got["category"] == "sync"
    logs = got["logs"]
    assert 100 <= len(logs) <= 300
    assert all(set(e) == {"timestamp", "level", "message"} and e["level"] in {"info", "warn", "error"} for e in logs)
    assert [e["timestamp"] for e in logs] == sorted(e["timestamp"] for e in logs)
    assert logs[-1]["level"] == "error" and logs[-1]["message"].startswith("Job failed")
    assert "401 Unauthorized" in logs[-2]["message"] and logs[-1]["timestamp"] <= got["completedAt"] + 1
    errors = [e for e in logs if e["level"] == "error"]
    assert got["progress"]["failed"] == len(errors) - 1  # each failed row logs one error, plus the summary
    assert any("429 Too Many Requests" in e["message"] for e in logs if e["level"] == "warn")
    ai = await job(http, s.FAILED_AI_JOB_ID)
    assert "insufficient_quota" in ai["logs"][-2]["message"] and len(ai["logs"]) > 150
    export = await job(http, s.FAILED_EXPORT_JOB_ID)
    assert len(export["logs"]) >= 20 and "10000000 cells" in export["logs"][-2]["message"]
    partial = await job(http, s.COMPLETED_WITH_FAILURES_JOB_ID)
    assert partial["status"] == "completed" and partial["progress"]["failed"] == 14
    assert sum("broken link" in e["message"] for e in partial["logs"]) == 14


async def test_unknown_job_is_404(http: httpx.AsyncClient) -> None:
    message = error(await http.get("/api/v1/jobs/job_nope", headers=READ), 404, "NOT_FOUND")
    assert "job_nope" in message
    assert "job_nope" in error(await cancel(http, "job_nope"), 404, "NOT_FOUND")


# --- auth -------------------------------------------------------------------------------------------------------------


async def test_auth_and_levels(http: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": s.READ_TOKEN}, {"Authorization": "Bearer "}, {"Authorization": "Basic x"}):
        assert "Bearer" in error(await http.get("/api/v1/jobs", headers=headers), 401, "UNAUTHORIZED")
    message = error(await cancel(http, s.RUNNING_JOB_ID, READ), 403, "FORBIDDEN")
    assert "'read'" in message and "'write'" in message
    assert (await job(http, s.RUNNING_JOB_ID))["status"] == "running"  # nothing happened
    admin = {"Authorization": f"Bearer {s.ADMIN_TOKEN}"}
    assert data(await cancel(http, s.RUNNING_JOB_ID, admin)) == {"id": s.RUNNING_JOB_ID, "status": "cancelled"}
    anyone = {"Authorization": "Bearer ds_whatever"}  # tokens=None: any other key is an admin key
    assert data(await cancel(http, s.RUNNING_FAILING_JOB_ID, anyone))["status"] == "cancelled"


async def test_configured_tokens(clock: Clock) -> None:
    tokens = {"ds_ci_read": {"read"}, "ds_ci_write": {"read", "write"}, "ds_ci_none": set()}
    app = create_app(tokens=tokens, now=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sim") as http:
        assert data(await http.get("/api/v1/jobs", headers={"Authorization": "Bearer ds_ci_read"}))
        error(await cancel(http, s.RUNNING_JOB_ID, {"Authorization": "Bearer ds_ci_read"}), 403, "FORBIDDEN")
        none = {"Authorization": "Bearer ds_ci_none"}
        assert "no permission" in error(await http.get("/api/v1/jobs", headers=none), 403, "FORBIDDEN")
        unknown = await http.get("/api/v1/jobs", headers={"Authorization": "Bearer ds_other"})
        assert error(unknown, 401, "UNAUTHORIZED") == "Invalid API key"
        assert data(await http.get("/api/v1/jobs", headers=READ))  # the sandbox keys always exist
        done = await cancel(http, s.RUNNING_JOB_ID, {"Authorization": "Bearer ds_ci_write"})
        assert data(done)["status"] == "cancelled"


# --- the clock -------------------------------------------------------------------------------------------------------


async def test_pending_runs_then_completes(http: httpx.AsyncClient, clock: Clock) -> None:
    assert (await job(http, s.PENDING_JOB_ID))["logs"][-1]["message"].startswith("Job queued")
    clock.advance(minutes=3, seconds=10)
    early = await job(http, s.PENDING_JOB_ID)
    assert early["status"] == "running" and early["completedAt"] is None
    clock.advance(seconds=30)
    later = await job(http, s.PENDING_JOB_ID)
    assert later["progress"]["completed"] > early["progress"]["completed"] > 0
    assert len(later["logs"]) > len(early["logs"])
    clock.advance(minutes=5)
    done = await job(http, s.PENDING_JOB_ID)
    assert done["status"] == "completed" and done["progress"] == {"total": 48, "completed": 48, "failed": 0}
    assert done["completedAt"] is not None and done["logs"][-1]["message"].startswith("Job completed")


async def test_running_job_fails_later(http: httpx.AsyncClient, clock: Clock) -> None:
    now = await job(http, s.RUNNING_FAILING_JOB_ID)
    assert now["status"] == "running" and 0 < now["progress"]["completed"] < 190
    clock.advance(minutes=5)
    failed = await job(http, s.RUNNING_FAILING_JOB_ID)
    assert failed["status"] == "failed" and failed["progress"]["completed"] + failed["progress"]["failed"] == 191
    assert "Invalid API key or access token" in failed["logs"][-2]["message"]
    assert failed["completedAt"] <= NOW_MS + 5 * 60_000
    assert (await jobs(http, status="running"))[0]["id"] == s.RUNNING_JOB_ID


# --- cancel ----------------------------------------------------------------------------------------------------------


async def test_cancel_running_is_best_effort(http: httpx.AsyncClient, clock: Clock) -> None:
    clock.advance(seconds=4)
    before = (await job(http, s.RUNNING_JOB_ID))["progress"]
    assert data(await cancel(http, s.RUNNING_JOB_ID)) == {"id": s.RUNNING_JOB_ID, "status": "cancelled"}
    after = await job(http, s.RUNNING_JOB_ID)
    assert after["status"] == "cancelled" and after["completedAt"] == NOW_MS + 4000
    done_before = before["completed"] + before["failed"]
    assert after["progress"]["completed"] + after["progress"]["failed"] == done_before + 1  # the step in flight
    messages = [e["message"] for e in after["logs"]]
    assert any(m.startswith("Cancellation requested") for m in messages) and "no rollback" in messages[-1]
    clock.advance(hours=2)
    assert (await job(http, s.RUNNING_JOB_ID))["progress"] == after["progress"]  # it stays stopped
    again = error(await cancel(http, s.RUNNING_JOB_ID), 409, "JOB_NOT_CANCELLABLE")
    assert "cancelled" in again


async def test_cancel_pending_and_ended_jobs(http: httpx.AsyncClient, clock: Clock) -> None:
    assert data(await cancel(http, s.PENDING_JOB_ID))["status"] == "cancelled"
    clock.advance(minutes=10)
    got = await job(http, s.PENDING_JOB_ID)
    assert got["status"] == "cancelled" and got["progress"] == {"total": 48, "completed": 0, "failed": 0}
    assert got["logs"][-1]["message"] == "Job cancelled before it started"
    for job_id, status in (
        (s.COMPLETED_JOB_ID, "completed"),
        (s.FAILED_JOB_ID, "failed"),
        (s.CANCELLED_JOB_ID, "cancelled"),
        (s.CANCELLED_PENDING_JOB_ID, "cancelled"),
    ):
        assert status in error(await cancel(http, job_id), 409, "JOB_NOT_CANCELLABLE")


async def test_seeded_cancelled_job(http: httpx.AsyncClient) -> None:
    got = await job(http, s.CANCELLED_JOB_ID)
    assert got["status"] == "cancelled" and got["progress"]["completed"] == 58
    assert got["logs"][-1]["message"].startswith("Job cancelled: 58 of 180 rows done")


# --- routes, faults, persistence -------------------------------------------------------------------------------------


async def test_unknown_routes_and_methods(http: httpx.AsyncClient) -> None:
    error(await http.get("/api/v1/workflows", headers=READ), 404, "NOT_FOUND")
    error(await http.get("/api/v2/jobs", headers=READ), 404, "NOT_FOUND")
    error(await http.delete(f"/api/v1/jobs/{s.RUNNING_JOB_ID}", headers=WRITE), 405, "METHOD_NOT_ALLOWED")
    error(await http.get(f"/api/v1/jobs/{s.RUNNING_JOB_ID}/cancel", headers=WRITE), 405, "METHOD_NOT_ALLOWED")


async def test_faults_and_a_lost_cancel_answer(http: httpx.AsyncClient, faults: FaultInjector) -> None:
    faults.add("GET", "/api/v1/jobs", status=429, retry_after=1, times=1)
    r = await http.get("/api/v1/jobs", headers=READ)
    assert "fault injected" in error(r, 429, "RATE_LIMITED") and r.headers["retry-after"] == "1"
    faults.add("GET", "/api/v1/jobs/*", status=502, times=1)
    error(await http.get(f"/api/v1/jobs/{s.FAILED_JOB_ID}", headers=READ), 502, "INTERNAL_ERROR")
    faults.add("POST", "/api/v1/jobs/*/cancel", drop="after", times=1)
    with pytest.raises(ConnectionDropped):
        await cancel(http, s.RUNNING_JOB_ID)
    assert (await job(http, s.RUNNING_JOB_ID))["status"] == "cancelled"  # committed before the answer was lost
    assert (await http.get("/_sandbox/faults")).json() == {"faults": []}


async def test_file_store_survives_a_new_app(tmp_path: Path, clock: Clock) -> None:
    db = str(tmp_path / "wiserows.db")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(create_app(db_path=db, now=clock)), base_url="http://sim"
    ) as http:
        data(await cancel(http, s.RUNNING_JOB_ID))
        created = {j["id"]: j["createdAt"] for j in await jobs(http)}
    clock.advance(hours=1)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(create_app(db_path=db, now=clock)), base_url="http://sim"
    ) as http:
        listed = await jobs(http)
        assert {j["id"]: j["createdAt"] for j in listed} == created  # not seeded again
        assert (await job(http, s.RUNNING_JOB_ID))["status"] == "cancelled"
        assert (await job(http, s.PENDING_JOB_ID))["status"] == "completed"  # the clock moved on meanwhile
