"""The Strait simulator against what the real API does (strait-dev/strait @ac094a3): routes, bodies, rules, clock."""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobs_mcp.providers.strait import seed as S
from jobs_mcp.providers.strait.simulator import create_app
from jobs_mcp.sandbox.faults import ConnectionDropped, FaultInjector
from support import Clock

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 23, 12, 0, 7, 250000, tzinfo=UTC)
TOKEN = "strait_test_key"
EMPTY_PAYLOAD_HASH = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
FSM = {  # domain/fsm.go
    "delayed": {"queued", "canceled", "expired"},
    "queued": {"dequeued", "executing", "canceled", "expired"},
    "dequeued": {"executing", "queued", "canceled", "system_failed"},
    "executing": {"completed", "failed", "timed_out", "crashed", "canceled", "waiting", "queued", "system_failed"}
    | {"dead_letter", "paused"},
    "waiting": {"executing", "completed", "failed", "canceled", "timed_out"},
    "dead_letter": {"queued", "replay_staged"},
    "replay_staged": {"queued", "canceled"},
    "paused": {"queued", "canceled"},
}


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def app(clock: Clock, faults: FaultInjector) -> Any:
    return create_app(now=clock, faults=faults)


def client_for(app: Any, token: str | None = TOKEN) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sim", headers=headers)


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


async def ok(call: Any, status: int = 200) -> Any:
    response = await call
    assert response.status_code == status, response.text
    return response.json()


def error(response: httpx.Response, status: int, code: str) -> str:
    """Checks Strait's error envelope and returns its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= {"error", "request_id"} and set(body["error"]) <= {"code", "message", "details"}
    assert body["error"]["code"] == code, body
    return str(body["error"]["message"])


async def run_of(http: httpx.AsyncClient, run_id: str) -> Any:
    return await ok(http.get(f"/v1/runs/{run_id}"))


async def all_pages(http: httpx.AsyncClient, path: str, **params: Any) -> list[Any]:
    items: list[Any] = []
    cursor = None
    while True:
        page = await ok(http.get(path, params={**params, **({"cursor": cursor} if cursor else {})}))
        assert set(page) <= {"data", "next_cursor", "has_more"}
        items += page["data"]
        if not page["has_more"]:
            assert "next_cursor" not in page
            return items
        cursor = page["next_cursor"]


def job_body(slug: str, **extra: Any) -> dict[str, Any]:
    return {
        "project_id": S.PROJECT_ID,
        "name": slug.replace("-", " ").title(),
        "slug": slug,
        "endpoint_url": "https://hooks.example.com/jobs/" + slug,
        **extra,
    }


# --- auth, scopes, envelopes ---------------------------------------------------------------------------------


async def test_missing_or_unknown_key_gets_401(clock: Clock) -> None:
    app = create_app(now=clock, tokens={"strait_k1": {"jobs:read"}})
    async with client_for(app, None) as anonymous, client_for(app, "strait_nope") as stranger:
        response = await anonymous.get("/v1/jobs")
        assert error(response, 401, "authentication_required") == "invalid or missing internal secret"
        assert response.json()["request_id"]
        assert error(await stranger.get("/v1/jobs"), 401, "authentication_required") == "invalid api key"
        wrong_scheme = await anonymous.get("/v1/jobs", headers={"Authorization": "strait_k1"})
        assert error(wrong_scheme, 401, "authentication_required") == "invalid or missing internal secret"
        assert (await anonymous.get("/v1/jobs", headers={"Authorization": "bearer strait_k1"})).status_code == 200
        assert (await anonymous.get("/_sandbox/hits")).status_code == 200  # control routes need no key


async def test_scopes_per_route(app: Any) -> None:
    async with client_for(app, S.READ_ONLY_TOKEN) as reader, client_for(app, S.NO_TRIGGER_TOKEN) as writer:
        assert (await reader.get("/v1/jobs")).status_code == 200
        assert (await reader.get(f"/v1/runs/{S.RUNNING_RUN_ID}")).status_code == 200
        denied = await reader.post(f"/v1/jobs/{S.HEALTHY_JOB_ID}/trigger", json={})
        assert error(denied, 403, "forbidden") == "insufficient permissions: requires jobs:trigger"
        denied = await reader.delete(f"/v1/runs/{S.QUEUED_RUN_ID}")
        assert error(denied, 403, "forbidden") == "insufficient permissions: requires runs:write"
        assert error(await reader.post(f"/v1/jobs/{S.HEALTHY_JOB_ID}/pause", json={}), 403, "forbidden").endswith(
            "jobs:write"
        )
        denied = await writer.post(f"/v1/jobs/{S.HEALTHY_JOB_ID}/trigger", json={})
        assert error(denied, 403, "forbidden") == "insufficient permissions: requires jobs:trigger"
        assert (await writer.post(f"/v1/jobs/{S.HEALTHY_JOB_ID}/pause", json={})).status_code == 200
    async with client_for(app, S.JOBS_ONLY_TOKEN) as jobs_only:
        assert error(await jobs_only.get("/v1/runs"), 403, "forbidden").endswith("requires runs:read")


async def test_configured_tokens_wildcard_and_empty_scopes(clock: Clock) -> None:
    tokens = {"strait_read": {"jobs:read"}, "strait_all": {"*"}, "strait_legacy": set()}
    app = create_app(now=clock, tokens=tokens)
    async with client_for(app, "strait_read") as read, client_for(app, "strait_all") as everything:
        assert (await read.get("/v1/jobs")).status_code == 200
        assert (await read.get("/v1/runs")).status_code == 403
        assert (await everything.get("/v1/runs")).status_code == 200
    async with client_for(app, "strait_legacy") as legacy:  # a key without scopes has full access
        assert (await legacy.post(f"/v1/jobs/{S.HEALTHY_JOB_ID}/trigger", json={})).status_code == 201
    async with client_for(app, S.READ_ONLY_TOKEN) as sandbox_key:  # not configured: refused
        assert (await sandbox_key.get("/v1/jobs")).status_code == 401


async def test_unknown_route_wrong_method_accept_and_content_type(http: httpx.AsyncClient) -> None:
    missing = await http.get("/v1/nothing")
    assert missing.status_code == 404 and missing.text == "404 page not found\n"
    assert (await http.put("/v1/jobs", json={})).status_code == 405
    refused = await http.get("/v1/jobs", headers={"Accept": "text/html"})
    assert error(refused, 406, "internal_error") == "this API only serves application/json"
    refused = await http.post("/v1/jobs", content=b"name=x", headers={"Content-Type": "text/plain"})
    assert error(refused, 415, "internal_error") == "Content-Type must be application/json"
    echoed = await http.get("/v1/jobs/nope", headers={"X-Request-Id": "req-42"})
    assert error(echoed, 404, "not_found") == "job not found" and echoed.json()["request_id"] == "req-42"


# --- seed ----------------------------------------------------------------------------------------------------


async def test_seed_is_deterministic_and_has_every_run_status(clock: Clock) -> None:
    seen = []
    for _ in range(2):
        async with client_for(create_app(now=clock)) as client:
            jobs = await all_pages(client, "/v1/jobs")
            runs = await all_pages(client, "/v1/runs", limit=100)
            seen.append(([j["id"] for j in jobs], [(r["id"], r["status"]) for r in runs]))
            for status, run_id in S.RUN_BY_STATUS.items():
                assert (await run_of(client, run_id))["status"] == status
    assert seen[0] == seen[1]
    jobs, runs = seen[0]
    assert len(jobs) == 12 and set(jobs) >= {S.HEALTHY_JOB_ID, S.FAILING_JOB_ID, S.PAUSED_JOB_ID, S.DISABLED_JOB_ID}
    assert {status for _id, status in runs} == set(S.STATUSES) and len(runs) > 300


async def test_seeded_jobs_and_runs_look_like_strait(http: httpx.AsyncClient) -> None:
    paused = await ok(http.get(f"/v1/jobs/{S.PAUSED_JOB_ID}"))
    assert paused["paused"] is True and paused["enabled"] is True and "INC-2291" in paused["pause_reason"]
    assert paused["paused_at"].endswith("Z") and "status" not in paused
    assert (await ok(http.get(f"/v1/jobs/{S.DISABLED_JOB_ID}")))["enabled"] is False
    upstream = await ok(http.get(f"/v1/jobs/{S.UPSTREAM_JOB_ID}"))
    assert upstream["webhook_url"].startswith("https://hooks.slack.com/")
    assert "webhook_secret" not in upstream and "paused_at" not in upstream and "group_id" not in upstream
    for job in await all_pages(http, "/v1/jobs"):
        assert not any("secret" in key or key.startswith("_") for key in job)
    dead = await run_of(http, S.DEAD_LETTER_RUN_ID)
    assert dead["error"] == "endpoint returned 503" and dead["error_class"] == "server" and dead["attempt"] == 3
    assert dead["finished_at"] and dead["execution_trace"]["total_ms"] > 0 and dead["job_version"] == 2
    failed = await run_of(http, S.FAILED_RUN_ID)
    assert "raw.stripe_charges_v2" in failed["error"] and "error_class" not in failed
    timed_out = await run_of(http, S.TIMED_OUT_RUN_ID)
    assert (timed_out["error"], timed_out["error_class"]) == ("execution timed out", "transient")
    running = await run_of(http, S.RUNNING_RUN_ID)
    assert running["started_at"] and "finished_at" not in running and running["heartbeat_at"]
    assert running["metadata"] == {"owner": "billing-oncall"} and running["tags"]["team"] == "billing"


# --- jobs: list, create, batch -------------------------------------------------------------------------------


async def test_list_jobs_pages_newest_first_and_filters(http: httpx.AsyncClient) -> None:
    first = await ok(http.get("/v1/jobs", params={"limit": 5}))
    assert len(first["data"]) == 5 and first["has_more"] is True
    assert first["next_cursor"] == first["data"][-1]["created_at"]
    everything = await all_pages(http, "/v1/jobs", limit=5)
    stamps = [S.parse_stamp(j["created_at"]) for j in everything]
    assert len(everything) == 12 and stamps == sorted(stamps, reverse=True)
    by_slug = await ok(http.get("/v1/jobs", params={"slug": S.HEALTHY_JOB_SLUG}))
    assert [j["id"] for j in by_slug["data"]] == [S.HEALTHY_JOB_ID] and by_slug["has_more"] is False
    assert (await ok(http.get("/v1/jobs", params={"slug": "no-such-job"})))["data"] == []
    billing = await ok(http.get("/v1/jobs", params={"tag_key": "team", "tag_value": "billing"}))
    assert [j["id"] for j in billing["data"]] == [S.HEALTHY_JOB_ID]
    tiered = await ok(http.get("/v1/jobs", params={"tag_key": "tier"}))
    assert len(tiered["data"]) == 3
    assert error(await http.get("/v1/jobs", params={"tag_value": "x"}), 400, "bad_request") == (
        "tag_key is required when tag_value is provided"
    )
    assert error(await http.get("/v1/jobs", params={"limit": "0"}), 400, "bad_request") == (
        "limit must be a positive integer"
    )
    assert error(await http.get("/v1/jobs", params={"cursor": "yesterday"}), 400, "bad_request") == (
        "invalid cursor format"
    )
    assert len((await ok(http.get("/v1/runs", params={"limit": 1000})))["data"]) == 100


async def test_create_job(http: httpx.AsyncClient, clock: Clock) -> None:
    body = job_body("nightly-invoice-pdfs", tags={"team": "billing"}, webhook_secret="whsec_0123456789abcdef")
    job = await ok(http.post("/v1/jobs", json=body), 201)
    assert job["max_attempts"] == 3 and job["timeout_secs"] == 300 and job["retry_priority_boost"] == 1
    assert job["version"] == 1 and job["version_id"].startswith("ver_") and len(job["version_id"]) == 16
    assert job["enabled"] is True and job["paused"] is False and job["queue"] == "default"
    assert job["execution_mode"] == "http" and job["version_policy"] == "pin"
    assert job["created_by"].startswith("apikey:")
    assert abs(S.parse_stamp(job["created_at"]) - clock.now) < timedelta(milliseconds=1)
    assert "webhook_secret" not in job and len(job["id"]) == 36 and job["id"][14] == "7"
    assert await ok(http.get(f"/v1/jobs/{job['id']}")) == job
    disabled = await ok(http.post("/v1/jobs", json=job_body("created-off", enabled=False)), 201)
    assert disabled["enabled"] is False


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ({"name": "x"}, 422, "validation_failed", "validation failed"),
        (job_body("a", project_id="proj_other"), 403, "forbidden", "project_id does not match authenticated project"),
        ({**job_body("b"), "endpoint_url": ""}, 400, "bad_request", "endpoint_url is required"),
        (job_body("c", endpoint_url="http://10.0.0.8/run"), 400, "bad_request",
         "invalid endpoint_url: url must not point to private or loopback addresses"),
        (job_body("d", cron="@daily"), 400, "bad_request",
         "cron expression must have exactly 5 fields (minute hour day-of-month month day-of-week), got 1"),
        (job_body("e", cron="61 * * * *"), 400, "bad_request", "invalid cron expression"),
        (job_body("f", timeout_secs=90000), 400, "bad_request", "timeout_secs must not exceed 86400 (24 hours)"),
        (job_body("g", max_attempts="3"), 400, "bad_request", "invalid request body: json: cannot unmarshal string "
         "into Go struct field CreateJobRequest.max_attempts of type int"),
        (job_body("h", debounce_window_secs=5, batch_window_secs=5), 400, "bad_request",
         "debounce_window_secs and batch_window_secs are mutually exclusive"),
        (job_body(S.HEALTHY_JOB_SLUG), 409, "conflict",
         f'job with slug "{S.HEALTHY_JOB_SLUG}" already exists: job slug conflict'),
        (job_body("i", tags={str(n): "x" for n in range(21)}), 400, "bad_request", "too many tags (max 20)"),
        (job_body("j", queue_name="gpu pool"), 400, "bad_request", "queue_name must match ^[A-Za-z0-9_-]{1,63}$"),
    ],
)  # fmt: skip
async def test_create_refusals(http: httpx.AsyncClient, body: Any, status: int, code: str, message: str) -> None:
    assert error(await http.post("/v1/jobs", json=body), status, code) == message


async def test_create_validation_details_and_bad_json(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/jobs", json={"name": "x", "max_attempts": 0, "retry_strategy": "random"})
    error(response, 422, "validation_failed")
    assert response.json()["error"]["details"] == [
        "project_id: failed on 'required'",
        "slug: failed on 'required'",
        "retry_strategy: failed on 'oneof'",
    ]
    negative = await http.post("/v1/jobs", json=job_body("neg", max_attempts=-1))
    assert negative.json()["error"]["details"] == ["max_attempts: failed on 'min'"]
    broken = await http.post("/v1/jobs", content=b'{"name": ', headers={"Content-Type": "application/json"})
    assert error(broken, 400, "bad_request") == "invalid request body: unexpected EOF"
    listed = await http.post("/v1/jobs", json=[job_body("x")])
    assert error(listed, 400, "bad_request") == (
        "invalid request body: json: cannot unmarshal array into Go value of type api.CreateJobRequest"
    )


async def test_create_rate_limit_is_httprates_plain_text_429(http: httpx.AsyncClient, clock: Clock) -> None:
    for n in range(30):
        response = await http.post("/v1/jobs", json=job_body(f"bulk-made-{n}"))
        assert response.status_code == 201, response.text
        assert response.headers["X-RateLimit-Limit"] == "30"
    limited = await http.post("/v1/jobs", json=job_body("one-too-many"))
    assert limited.status_code == 429 and limited.text == "Too Many Requests\n"
    assert limited.headers["Retry-After"] == "60" and limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["content-type"].startswith("text/plain")
    clock.advance(minutes=2)
    assert (await http.post("/v1/jobs", json=job_body("one-too-many"))).status_code == 201


async def test_create_idempotency_key_replays_the_answer(http: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "create-7f3a"}
    first = await http.post("/v1/jobs", json=job_body("only-once"), headers=headers)
    again = await http.post("/v1/jobs", json=job_body("only-once"), headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert again.headers["Idempotency-Replayed"] == "true" and "Idempotency-Replayed" not in first.headers
    assert len((await ok(http.get("/v1/jobs", params={"slug": "only-once"})))["data"]) == 1
    too_long = await http.post("/v1/jobs", json=job_body("k"), headers={"Idempotency-Key": "k" * 257})
    assert error(too_long, 400, "bad_request") == "idempotency key must be 256 characters or fewer"


async def test_batch_create(http: httpx.AsyncClient) -> None:
    mixed = await ok(http.post("/v1/jobs/batch", json={"jobs": [job_body("batch-a"), {"name": "no slug"}]}), 201)
    assert [j["slug"] for j in mixed["created"]] == ["batch-a"]
    assert mixed["errors"] == [{"index": 1, "message": "validation failed"}]
    nothing = await http.post("/v1/jobs/batch", json={"jobs": [job_body("batch-a")]})
    assert nothing.status_code == 400
    assert nothing.json() == {
        "created": None,
        "errors": [{"index": 0, "message": 'job with slug "batch-a" already exists: job slug conflict'}],
    }
    empty = await http.post("/v1/jobs/batch", json={"jobs": []})
    assert error(empty, 400, "bad_request") == "jobs array is required and must not be empty"
    many = await http.post("/v1/jobs/batch", json={"jobs": [job_body(f"b{n}") for n in range(51)]})
    assert error(many, 400, "bad_request") == "too many jobs in batch (max 50)"
    bare = await http.post("/v1/jobs/batch", json=[job_body("bare")])
    assert error(bare, 400, "bad_request").endswith("into Go value of type api.BatchCreateJobsRequest")


async def test_batch_enable_and_disable(http: httpx.AsyncClient) -> None:
    ids = [S.HEALTHY_JOB_ID, S.CATALOG_JOB_ID, "no-such-job"]
    assert await ok(http.post("/v1/jobs/batch-disable", json={"ids": ids})) == {"updated": 2}
    job = await ok(http.get(f"/v1/jobs/{S.HEALTHY_JOB_ID}"))
    assert job["enabled"] is False and job["version"] == 1  # not a versioned edit
    refused = await http.post(f"/v1/jobs/{S.HEALTHY_JOB_ID}/trigger", json={})
    assert error(refused, 400, "bad_request") == "job is disabled"
    assert await ok(http.post("/v1/jobs/batch-enable", json={"ids": [S.HEALTHY_JOB_ID, S.DISABLED_JOB_ID]})) == {
        "updated": 2
    }
    assert (await ok(http.get(f"/v1/jobs/{S.DISABLED_JOB_ID}")))["enabled"] is True
    empty = await http.post("/v1/jobs/batch-enable", json={})
    assert error(empty, 400, "bad_request") == "ids array is required and must not be empty"


# --- jobs: read, update, versions, delete, clone -------------------------------------------------------------


async def test_patch_bumps_the_version_and_records_the_old_one(http: httpx.AsyncClient, clock: Clock) -> None:
    before = await ok(http.get(f"/v1/jobs/{S.CATALOG_JOB_ID}"))
    clock.advance(minutes=1)
    after = await ok(http.patch(f"/v1/jobs/{S.CATALOG_JOB_ID}", json={"description": "New words", "tags": None}))
    assert after["description"] == "New words" and after["tags"] == before["tags"]  # null = left alone
    assert after["version"] == 2 and after["version_id"] != before["version_id"]
    assert after["updated_at"] == S.stamp(clock.now) and after["created_at"] == before["created_at"]
    versions = await ok(http.get(f"/v1/jobs/{S.CATALOG_JOB_ID}/versions"))
    (row,) = versions["data"]
    assert row["version"] == 1 and row["version_id"] == before["version_id"]
    assert row["description"] == before["description"] and row["job_id"] == S.CATALOG_JOB_ID
    one = await ok(http.get(f"/v1/jobs/{S.CATALOG_JOB_ID}/versions/{before['version_id']}"))
    assert one == row
    current = await http.get(f"/v1/jobs/{S.CATALOG_JOB_ID}/versions/{after['version_id']}")
    assert error(current, 404, "not_found") == "version not found"
    other_job = await http.get(f"/v1/jobs/{S.HEALTHY_JOB_ID}/versions/{before['version_id']}")
    assert error(other_job, 404, "not_found") == "version not found"
    refused = await http.patch(f"/v1/jobs/{S.CATALOG_JOB_ID}", json={"max_attempts": 0})
    assert refused.json()["error"]["details"] == ["max_attempts: failed on 'min'"]
    assert error(await http.patch("/v1/jobs/nope", json={}), 404, "not_found") == "job not found"
    cleared = await http.patch(f"/v1/jobs/{S.CATALOG_JOB_ID}", json={"endpoint_url": ""})  # a pointer to "": checked
    assert cleared.json()["error"]["details"] == ["endpoint_url: failed on 'url'"]
    taken = await http.patch(f"/v1/jobs/{S.CATALOG_JOB_ID}", json={"slug": S.HEALTHY_JOB_SLUG})
    assert error(taken, 500, "internal_error") == "internal server error"


async def test_seeded_version_history(http: httpx.AsyncClient) -> None:
    job = await ok(http.get(f"/v1/jobs/{S.VERSIONED_JOB_ID}"))
    assert job["version"] == 4 and job["version_id"] == S.VERSIONED_JOB_CURRENT_VERSION_ID
    rows = await all_pages(http, f"/v1/jobs/{S.VERSIONED_JOB_ID}/versions", limit=2)
    assert [r["version"] for r in rows] == [3, 2, 1]
    assert [r["version_id"] for r in rows] == list(reversed(S.VERSIONED_JOB_VERSION_IDS))
    assert rows[-1]["cron"] == "0 5 * * *" and job["cron"] == "0 6 * * *"
    failing = await ok(http.get(f"/v1/jobs/{S.FAILING_JOB_ID}/versions/{S.FAILING_JOB_PREVIOUS_VERSION_ID}"))
    assert failing["endpoint_url"].endswith("/warehouse/v1/export")


async def test_delete_job(http: httpx.AsyncClient) -> None:
    busy = await http.delete(f"/v1/jobs/{S.HEALTHY_JOB_ID}")
    assert error(busy, 409, "conflict") == "job has active runs \u2014 cancel them first or wait for completion"
    runs = [r for r in await all_pages(http, "/v1/runs", limit=100) if r["job_id"] == S.DISABLED_JOB_ID]
    assert runs
    gone = await http.delete(f"/v1/jobs/{S.DISABLED_JOB_ID}")
    assert gone.status_code == 204 and gone.content == b""
    assert (await http.get(f"/v1/jobs/{S.DISABLED_JOB_ID}")).status_code == 404
    assert (await http.get(f"/v1/runs/{runs[0]['id']}")).status_code == 404
    assert (await http.delete(f"/v1/jobs/{S.DISABLED_JOB_ID}")).status_code == 404


async def test_clone(http: httpx.AsyncClient) -> None:
    source = await ok(http.get(f"/v1/jobs/{S.UPSTREAM_JOB_ID}"))
    clone = await ok(
        http.post(
            f"/v1/jobs/{S.UPSTREAM_JOB_ID}/clone", json={"name": "Orders ETL (staging)", "slug": "orders-etl-staging"}
        ),
        201,
    )
    assert clone["id"] != source["id"] and clone["slug"] == "orders-etl-staging" and clone["version"] == 1
    for key in ("cron", "timezone", "tags", "endpoint_url", "timeout_secs", "webhook_url"):
        assert clone[key] == source[key]
    assert "webhook_secret" not in clone and clone["enabled"] is True
    missing = await http.post(f"/v1/jobs/{S.UPSTREAM_JOB_ID}/clone", json={"name": "x"})
    assert error(missing, 400, "bad_request") == "name and slug are required"
    taken = await http.post(f"/v1/jobs/{S.UPSTREAM_JOB_ID}/clone", json={"name": "x", "slug": "orders-etl-staging"})
    assert error(taken, 500, "internal_error") == "internal server error"
    assert (await http.post("/v1/jobs/nope/clone", json={"name": "x", "slug": "y"})).status_code == 404


async def test_health(http: httpx.AsyncClient) -> None:
    health = await ok(http.get(f"/v1/jobs/{S.HEALTHY_JOB_ID}/health"))
    assert set(health) == {
        "job_id",
        "window",
        "since",
        "total_runs",
        "completed_runs",
        "failed_runs",
        "timed_out_runs",
        "crashed_runs",
        "canceled_runs",
        "expired_runs",
        "success_rate",
        "avg_duration_secs",
        "p95_duration_secs",
        "p99_duration_secs",
        "health_score",
    }
    assert health["window"] == "7d" and health["total_runs"] > 100 and health["success_rate"] > 95
    assert 0 < health["avg_duration_secs"] <= health["p95_duration_secs"] <= health["p99_duration_secs"]
    flaky = await ok(http.get(f"/v1/jobs/{S.FLAKY_JOB_ID}/health", params={"window": "30d"}))
    assert flaky["failed_runs"] > 0 and flaky["success_rate"] == pytest.approx(
        flaky["completed_runs"] / flaky["total_runs"] * 100
    )
    assert flaky["health_score"] < health["health_score"]
    refused = await http.get(f"/v1/jobs/{S.HEALTHY_JOB_ID}/health", params={"window": "2w"})
    assert error(refused, 400, "bad_request") == "invalid window: must be 1h, 1d, 7d, or 30d"
    new = await ok(http.post("/v1/jobs", json=job_body("never-ran")), 201)
    empty = await ok(http.get(f"/v1/jobs/{new['id']}/health", params={"window": "1h"}))
    assert empty["total_runs"] == 0 and empty["health_score"] == -1 and empty["success_rate"] == 0


async def test_pause_and_resume(http: httpx.AsyncClient, clock: Clock) -> None:
    paused = await ok(http.post(f"/v1/jobs/{S.HEALTHY_JOB_ID}/pause", json={"reason": "Stripe incident"}))
    assert paused["paused"] is True and paused["pause_reason"] == "Stripe incident"
    assert paused["paused_at"] == S.stamp(clock.now) and paused["version"] == 1
    clock.advance(seconds=30)
    again = await ok(http.post(f"/v1/jobs/{S.HEALTHY_JOB_ID}/pause", json={"reason": "other"}))
    assert again == paused  # already paused: nothing changes
    refused = await http.post(f"/v1/jobs/{S.HEALTHY_JOB_ID}/trigger", json={})
    assert error(refused, 409, "conflict") == "job is paused -- resume it before triggering new runs"
    long = await http.post(f"/v1/jobs/{S.CATALOG_JOB_ID}/pause", json={"reason": "x" * 501})
    assert error(long, 400, "bad_request") == "reason must be 500 characters or fewer"
    bare = await ok(http.post(f"/v1/jobs/{S.CATALOG_JOB_ID}/pause"))
    assert bare["paused"] is True and "pause_reason" not in bare
    resumed = await ok(http.post(f"/v1/jobs/{S.HEALTHY_JOB_ID}/resume"))
    assert resumed["paused"] is False and "paused_at" not in resumed and "pause_reason" not in resumed
    assert await ok(http.post(f"/v1/jobs/{S.HEALTHY_JOB_ID}/resume")) == resumed
    assert (await http.post(f"/v1/jobs/{S.HEALTHY_JOB_ID}/trigger", json={})).status_code == 201
    assert (await http.post("/v1/jobs/nope/resume")).status_code == 404


# --- triggering ----------------------------------------------------------------------------------------------


async def test_trigger_creates_a_run_that_moves_with_the_clock(http: httpx.AsyncClient, clock: Clock) -> None:
    answer = await ok(http.post(f"/v1/jobs/{S.CATALOG_JOB_ID}/trigger", json={}), 201)
    assert answer == {
        "id": answer["id"],
        "status": "queued",
        "payload_hash": EMPTY_PAYLOAD_HASH,
        "idempotency_hit": False,
    }
    run = await run_of(http, answer["id"])
    assert run["triggered_by"] == "manual" and run["attempt"] == 1 and run["payload"] == {}
    assert run["metadata"]["_sentry_route"] == "POST /v1/jobs/{jobID}/trigger" and run["created_by"].startswith(
        "apikey:"
    )
    assert run["job_version"] == 1 and run["expires_at"] and "started_at" not in run
    seen = ["queued"]
    for _ in range(60):
        clock.advance(seconds=5)
        status = (await run_of(http, answer["id"]))["status"]
        if status != seen[-1]:
            seen.append(status)
    assert seen[0] == "queued" and seen[-1] == "completed" and "executing" in seen
    done = await run_of(http, answer["id"])
    assert done["result"] and done["finished_at"] and done["execution_trace"]["queue_wait_ms"] >= 0
    payload = {"b": 1, "a": "<x>"}
    hashed = await ok(http.post(f"/v1/jobs/{S.CATALOG_JOB_ID}/trigger", json={"payload": payload}), 201)
    assert hashed["payload_hash"] == hashlib.sha256(b'{"a":"\\u003cx\\u003e","b":1}').hexdigest()


async def test_trigger_idempotency(app: Any) -> None:
    path = f"/v1/jobs/{S.FANOUT_JOB_ID}/trigger"
    async with client_for(app) as first_key, client_for(app, "strait_second_key") as second_key:
        before = len(await all_pages(first_key, "/v1/runs", limit=100))
        one = await first_key.post(path, json={}, headers={"Idempotency-Key": "evt-991"})
        replay = await first_key.post(path, json={}, headers={"Idempotency-Key": "evt-991"})
        assert one.status_code == replay.status_code == 201 and one.json() == replay.json()
        assert replay.headers["Idempotency-Replayed"] == "true"
        other_caller = await ok(second_key.post(path, json={}, headers={"X-Idempotency-Key": "evt-991"}))
        assert other_caller == {"id": one.json()["id"], "status": "queued", "idempotency_hit": True}
        assert len(await all_pages(first_key, "/v1/runs", limit=100)) == before + 1
        body = {"payload": {"user_id": "usr_5d1e7a30"}}  # the payload schema is checked before the key
        seeded = await ok(
            first_key.post(
                f"/v1/jobs/{S.MANUAL_JOB_ID}/trigger", json=body, headers={"Idempotency-Key": S.IDEMPOTENCY_KEY}
            )
        )
        assert seeded == {"id": S.IDEMPOTENT_RUN_ID, "status": "completed", "idempotency_hit": True}


@pytest.mark.parametrize(
    ("job_id", "body", "status", "code", "message"),
    [
        (S.DISABLED_JOB_ID, {}, 400, "bad_request", "job is disabled"),
        (S.PAUSED_JOB_ID, {}, 409, "conflict", "job is paused -- resume it before triggering new runs"),
        ("nope", {}, 404, "not_found", "job not found"),
        (S.HEALTHY_JOB_ID, {"priority": 11}, 422, "validation_failed", "validation failed"),
        (S.HEALTHY_JOB_ID, {"scheduled_at": "2026-11-23T11:00:00Z"}, 400, "bad_request",
         "scheduled_at must not be in the past"),
        (S.HEALTHY_JOB_ID, {"scheduled_at": "2027-01-30T00:00:00Z"}, 400, "bad_request",
         "scheduled_at cannot exceed 30 days from now"),
        (S.MANUAL_JOB_ID, {"payload": {"ticket": "PRIV-1"}}, 400, "bad_request",
         "payload validation failed: $.user_id is required"),
        (S.MANUAL_JOB_ID, {"payload": {"user_id": 42}}, 400, "bad_request",
         "payload validation failed: $.user_id must be string"),
        (S.MANUAL_JOB_ID, {}, 400, "bad_request", "payload validation failed: $ must be object"),
    ],
)  # fmt: skip
async def test_trigger_refusals(
    http: httpx.AsyncClient, job_id: str, body: Any, status: int, code: str, message: str
) -> None:
    assert error(await http.post(f"/v1/jobs/{job_id}/trigger", json=body), status, code) == message


async def test_trigger_rate_limit(http: httpx.AsyncClient, clock: Clock) -> None:
    for _ in range(10):
        assert (await http.post(f"/v1/jobs/{S.FANOUT_JOB_ID}/trigger", json={})).status_code == 201
    assert (await http.post(f"/v1/jobs/{S.FANOUT_JOB_ID}/trigger", json={})).status_code == 429
    replay = await http.post(f"/v1/jobs/{S.FANOUT_JOB_ID}/trigger", json={}, headers={"Idempotency-Key": "x"})
    assert replay.status_code == 429  # nothing to replay yet: the limit applies
    clock.advance(minutes=2)
    assert (await http.post(f"/v1/jobs/{S.FANOUT_JOB_ID}/trigger", json={})).status_code == 201


async def test_delayed_trigger_and_dry_run(http: httpx.AsyncClient, clock: Clock) -> None:
    later = S.stamp(clock.now + timedelta(minutes=10))
    body = {"payload": {"user_id": "usr_1"}, "scheduled_at": later, "priority": 3, "tags": {"ticket": "PRIV-9"}}
    answer = await ok(http.post(f"/v1/jobs/{S.MANUAL_JOB_ID}/trigger", json=body), 201)
    assert answer["status"] == "delayed"
    run = await run_of(http, answer["id"])
    assert run["scheduled_at"] == later and run["priority"] == 3 and run["tags"]["ticket"] == "PRIV-9"
    clock.advance(minutes=10, seconds=1)
    assert (await run_of(http, answer["id"]))["status"] in ("queued", "executing")
    clock.advance(minutes=2)
    assert (await run_of(http, answer["id"]))["status"] == "completed"
    count = len(await all_pages(http, "/v1/runs", limit=100))
    dry = await ok(
        http.post(f"/v1/jobs/{S.MANUAL_JOB_ID}/trigger", json={**body, "scheduled_at": None, "dry_run": True})
    )
    assert dry["job"]["id"] == S.MANUAL_JOB_ID and dry["payload_hash"] and dry["expires_at"]
    assert len(await all_pages(http, "/v1/runs", limit=100)) == count


async def test_bulk_trigger(http: httpx.AsyncClient) -> None:
    items = [{"payload": {"user_id": f"usr_{n}"}} for n in range(3)]
    items.append({"payload": {"user_id": "usr_5d1e7a30"}, "idempotency_key": S.IDEMPOTENCY_KEY})
    answer = await ok(http.post(f"/v1/jobs/{S.MANUAL_JOB_ID}/trigger/bulk", json={"items": items}), 201)
    assert answer["total"] == 4 and answer["created"] == 3 and answer["batch_id"]
    assert [r["idempotency_hit"] for r in answer["results"]] == [False, False, False, True]
    assert answer["results"][3]["id"] == S.IDEMPOTENT_RUN_ID
    batch = await ok(http.get("/v1/runs", params={"batch_id": answer["batch_id"]}))
    assert {r["id"] for r in batch["data"]} == {r["id"] for r in answer["results"][:3]}
    missing = await http.post(f"/v1/jobs/{S.MANUAL_JOB_ID}/trigger/bulk", json={})
    assert missing.json()["error"]["details"] == ["items: failed on 'required'"]
    empty = await http.post(f"/v1/jobs/{S.MANUAL_JOB_ID}/trigger/bulk", json={"items": []})
    assert empty.json()["error"]["details"] == ["items: failed on 'min'"]
    bad_item = await http.post(f"/v1/jobs/{S.MANUAL_JOB_ID}/trigger/bulk", json={"items": [{"payload": {}}]})
    assert error(bad_item, 400, "bad_request") == "payload validation failed for item 0: $.user_id is required"
    paused = await http.post(f"/v1/jobs/{S.PAUSED_JOB_ID}/trigger/bulk", json={"items": [{}]})
    assert paused.status_code == 409


# --- dependencies --------------------------------------------------------------------------------------------


async def test_dependencies(http: httpx.AsyncClient) -> None:
    listed = await ok(http.get(f"/v1/jobs/{S.DEPENDENT_JOB_ID}/dependencies"))
    assert {d["depends_on_job_id"] for d in listed["data"]} == {S.UPSTREAM_JOB_ID, S.CATALOG_JOB_ID}
    assert all(d["condition"] == "completed" for d in listed["data"])
    path = f"/v1/jobs/{S.FANOUT_JOB_ID}/dependencies"
    assert error(await http.post(path, json={"depends_on_job_id": S.FANOUT_JOB_ID}), 400, "bad_request") == (
        "job cannot depend on itself"
    )
    assert error(await http.post(path, json={"depends_on_job_id": "nope"}), 400, "bad_request") == (
        "depends_on_job_id does not exist"
    )
    wrong = await http.post(path, json={"depends_on_job_id": S.CATALOG_JOB_ID, "condition": "sometimes"})
    assert error(wrong, 400, "bad_request") == "condition must be one of: completed, failed, any"
    assert (await http.post(path, json={})).json()["error"]["details"] == ["depends_on_job_id: failed on 'required'"]
    dep = await ok(http.post(path, json={"depends_on_job_id": S.CATALOG_JOB_ID}), 201)
    assert dep["condition"] == "completed" and dep["job_id"] == S.FANOUT_JOB_ID
    twice = await http.post(path, json={"depends_on_job_id": S.CATALOG_JOB_ID})
    assert error(twice, 500, "internal_error") == "internal server error"
    assert (await http.delete(f"{path}/{dep['id']}")).status_code == 204
    again = await http.delete(f"{path}/{dep['id']}")
    assert error(again, 404, "not_found") == "job dependency not found"
    assert (await ok(http.get(path)))["data"] == []


async def test_waiting_run_is_released_when_its_dependency_completes(http: httpx.AsyncClient, clock: Clock) -> None:
    assert (await run_of(http, S.WAITING_RUN_ID))["status"] == "waiting"
    clock.advance(seconds=S.UPSTREAM_RUN_REMAINING_SECS - 5)
    assert (await run_of(http, S.UPSTREAM_RUN_ID))["status"] == "executing"
    assert (await run_of(http, S.WAITING_RUN_ID))["status"] == "waiting"
    clock.advance(seconds=10)
    upstream = await run_of(http, S.UPSTREAM_RUN_ID)
    assert upstream["status"] == "completed"
    released = await run_of(http, S.WAITING_RUN_ID)
    assert released["status"] == "executing"
    assert S.parse_stamp(released["started_at"]) > S.parse_stamp(upstream["finished_at"])
    clock.advance(minutes=10)
    assert (await run_of(http, S.WAITING_RUN_ID))["status"] == "completed"
    never = await ok(
        http.post(f"/v1/jobs/{S.DEPENDENT_JOB_ID}/trigger", json={"payload": {"dependency_key": "orders-1999-01-01"}}),
        201,
    )
    assert never["status"] == "waiting"
    plain = await ok(http.post(f"/v1/jobs/{S.DEPENDENT_JOB_ID}/trigger", json={}), 201)
    assert plain["status"] == "queued"  # the latest runs of both dependencies completed


# --- runs ----------------------------------------------------------------------------------------------------


async def test_list_runs_filters(http: httpx.AsyncClient) -> None:
    failed = await all_pages(http, "/v1/runs", status="failed", limit=100)
    assert failed and all(r["status"] == "failed" for r in failed)
    several = await all_pages(http, "/v1/runs", statuses=["crashed", "expired"])
    assert {r["id"] for r in several} >= {S.CRASHED_RUN_ID, S.EXPIRED_RUN_ID}
    assert {r["status"] for r in several} == {"crashed", "expired"}
    billing = await all_pages(http, "/v1/runs", tag_key="team", tag_value="billing", limit=100)
    assert billing and all(r["job_id"] == S.HEALTHY_JOB_ID for r in billing)
    manual = await all_pages(http, "/v1/runs", triggered_by="manual", limit=100)
    assert S.RUNNING_RUN_ID in {r["id"] for r in manual} and all(r["triggered_by"] == "manual" for r in manual)
    server = await all_pages(http, "/v1/runs", error_class="server", limit=100)
    assert S.DEAD_LETTER_RUN_ID in {r["id"] for r in server}
    keyed = await all_pages(http, "/v1/runs", metadata_key="dependency_key")
    assert S.WAITING_RUN_ID in {r["id"] for r in keyed}
    contains = await all_pages(http, "/v1/runs", payload_contains='{"ticket": "PRIV-48213"}')
    assert [r["id"] for r in contains] == [S.IDEMPOTENT_RUN_ID]
    workers = await all_pages(http, "/v1/runs", execution_mode="worker")
    assert workers and all(r["job_id"] == S.WORKER_JOB_ID for r in workers)
    unfiltered = await ok(http.get("/v1/runs", params={"job_id": S.PAUSED_JOB_ID}))  # Strait has no job_id filter
    assert {r["job_id"] for r in unfiltered["data"]} != {S.PAUSED_JOB_ID}
    assert error(await http.get("/v1/runs", params={"status": "running"}), 400, "bad_request") == "status is invalid"
    assert (
        error(await http.get("/v1/runs", params={"error_class": "x"}), 400, "bad_request") == "error_class is invalid"
    )
    assert error(await http.get("/v1/runs", params={"cursor": "x"}), 400, "bad_request") == (
        "cursor must be a valid RFC3339 timestamp"
    )
    assert error(await http.get("/v1/runs/nope"), 404, "not_found") == "run not found"


async def test_cancel(http: httpx.AsyncClient, clock: Clock) -> None:
    canceled = await ok(http.delete(f"/v1/runs/{S.QUEUED_RUN_ID}"))
    assert canceled["status"] == "canceled" and canceled["error"] == "canceled by user"
    assert canceled["finished_at"] == S.stamp(clock.now)
    clock.advance(minutes=5)
    assert (await run_of(http, S.QUEUED_RUN_ID))["status"] == "canceled"  # it no longer moves
    again = await http.delete(f"/v1/runs/{S.QUEUED_RUN_ID}")
    assert error(again, 400, "bad_request") == "run already in terminal state"
    assert (await http.delete(f"/v1/runs/{S.DEAD_LETTER_RUN_ID}")).status_code == 400
    for run_id in (S.PAUSED_RUN_ID, S.REPLAY_STAGED_RUN_ID, S.WAITING_RUN_ID, S.DELAYED_RUN_ID, S.DEQUEUED_RUN_ID):
        assert (await ok(http.delete(f"/v1/runs/{run_id}")))["status"] == "canceled"
    assert (await http.delete("/v1/runs/nope")).status_code == 404


async def test_run_events(http: httpx.AsyncClient) -> None:
    events = await ok(http.get(f"/v1/runs/{S.DEAD_LETTER_RUN_ID}/events"))
    stamps = [S.parse_stamp(e["created_at"]) for e in events["data"]]
    assert stamps == sorted(stamps) and events["has_more"] is False
    assert [e["message"] for e in events["data"] if e["type"] == "error"] == ["endpoint returned 503"] * 3
    assert any("AccessDenied" in e["message"] for e in events["data"])
    errors = await ok(http.get(f"/v1/runs/{S.DEAD_LETTER_RUN_ID}/events", params={"level": "error", "type": "log"}))
    assert errors["data"] and all(e["level"] == "error" and e["type"] == "log" for e in errors["data"])
    first = await ok(http.get(f"/v1/runs/{S.DEAD_LETTER_RUN_ID}/events", params={"limit": 2}))
    assert first["has_more"] is True and first["next_cursor"] == first["data"][1]["created_at"]
    second = await ok(
        http.get(f"/v1/runs/{S.DEAD_LETTER_RUN_ID}/events", params={"limit": 2, "cursor": first["next_cursor"]})
    )
    assert second["data"] == first["data"][:1]  # Strait's quirk: oldest first, yet the cursor asks for older events
    assert (await http.get("/v1/runs/nope/events")).status_code == 404


# --- the clock -----------------------------------------------------------------------------------------------


async def test_seeded_runs_move_on_with_the_clock(http: httpx.AsyncClient, clock: Clock) -> None:
    assert (await run_of(http, S.RUNNING_RUN_ID))["status"] == "executing"
    clock.advance(seconds=S.RUNNING_RUN_REMAINING_SECS - 2)
    beat = await run_of(http, S.RUNNING_RUN_ID)
    assert beat["status"] == "executing" and S.parse_stamp(beat["heartbeat_at"]) > clock.now - timedelta(seconds=16)
    clock.advance(seconds=4)
    done = await run_of(http, S.RUNNING_RUN_ID)
    assert done["status"] == "completed" and done["result"]["invoices_synced"] >= 0
    assert (await run_of(http, S.DEQUEUED_RUN_ID))["status"] == "executing"
    assert (await run_of(http, S.DELAYED_RUN_ID))["status"] == "delayed"
    clock.now = NOW + timedelta(seconds=S.DELAYED_RUN_STARTS_AFTER_SECS, milliseconds=100)
    assert (await run_of(http, S.DELAYED_RUN_ID))["status"] == "queued"
    clock.advance(minutes=1)
    assert (await run_of(http, S.DELAYED_RUN_ID))["status"] == "completed"
    assert (await run_of(http, S.PAUSED_RUN_ID))["status"] == "paused"  # run-level pause: stays


async def test_cron_jobs_fire_as_time_passes(http: httpx.AsyncClient, clock: Clock) -> None:
    def cron_runs(runs: list[Any], job_id: str) -> set[str]:
        return {r["id"] for r in runs if r["job_id"] == job_id and r["triggered_by"] == "cron"}

    before = await all_pages(http, "/v1/runs", limit=100)
    clock.advance(hours=1)
    after = await all_pages(http, "/v1/runs", limit=100)
    new_stripe = cron_runs(after, S.HEALTHY_JOB_ID) - cron_runs(before, S.HEALTHY_JOB_ID)
    assert len(new_stripe) == 12  # every 5 minutes
    assert cron_runs(after, S.PAUSED_JOB_ID) == cron_runs(before, S.PAUSED_JOB_ID)
    assert cron_runs(after, S.DISABLED_JOB_ID) == cron_runs(before, S.DISABLED_JOB_ID)
    new_failing = [
        r for r in after if r["id"] in cron_runs(after, S.FAILING_JOB_ID) - cron_runs(before, S.FAILING_JOB_ID)
    ]
    assert len(new_failing) == 1 and new_failing[0]["status"] != "completed"
    clock.advance(hours=1)
    await ok(http.patch(f"/v1/jobs/{S.FAILING_JOB_ID}", json={"endpoint_url": "https://exports.example.com/v1"}))
    clock.advance(hours=3)
    runs = await all_pages(http, "/v1/runs", limit=100)
    fixed = [r for r in runs if r["job_id"] == S.FAILING_JOB_ID and r["job_version"] == 3]
    assert len(fixed) == 3 and all(r["status"] == "completed" for r in fixed)


def test_planned_steps_follow_the_run_state_machine() -> None:
    job = {
        "id": "j",
        "project_id": S.PROJECT_ID,
        "version": 1,
        "timeout_secs": 30,
        "max_attempts": 3,
        "retry_priority_boost": 1,
        "execution_mode": "http",
    }
    scripts = [
        [S.Attempt("http", 1.0, 503), S.Attempt("http", 1.0, 503), S.Attempt("ok", 2.0, {"ok": True})],
        [S.Attempt("timeout", 0.0)] * 3,
        [S.Attempt("http", 1.0, 401)],
        [S.Attempt("sdk_fail", 3.0, "boom")],
        [S.Attempt("crash", 200.0, "lost")],
        [S.Attempt("system", 0.1, "breaker open")],
    ]
    finals = []
    for mode in ("http", "worker"):
        for script in scripts:
            at = datetime(2026, 1, 1, tzinfo=UTC)
            run = S.run_document(
                {**job, "execution_mode": mode},
                run_id="r",
                at=at,
                triggered_by="manual",
                scheduled_at=at + timedelta(seconds=5),
            )
            steps = S.plan({**job, "execution_mode": mode}, run, at, script, random.Random(1))
            statuses = ["delayed"] + [s["status"] for s in steps if s["status"]]
            for before, after in itertools.pairwise(statuses):
                assert after in FSM[before], (before, after)
            run["_steps"] = steps
            S.advance(run, at + timedelta(days=1))
            finals.append((run["status"], run["attempt"], run.get("error_class", "")))
    assert finals[:6] == [
        ("completed", 3, "server"),
        ("timed_out", 3, "transient"),
        ("dead_letter", 1, "auth"),
        ("failed", 1, ""),
        ("crashed", 1, ""),
        ("system_failed", 1, "server"),
    ]
    assert finals[6:] == finals[:6]


# --- faults and persistence ----------------------------------------------------------------------------------


async def test_fault_bodies_use_the_strait_error_shape(http: httpx.AsyncClient, faults: FaultInjector) -> None:
    faults.add("GET", "/v1/jobs", status=503, times=1)
    assert "fault injected" in error(await http.get("/v1/jobs"), 503, "service_unavailable")
    faults.add("GET", "/v1/runs", status=429, retry_after=2, times=1)
    limited = await http.get("/v1/runs")
    assert "fault injected" in error(limited, 429, "rate_limited") and limited.headers["Retry-After"] == "2"
    assert (await http.get("/v1/jobs")).status_code == 200
    assert faults.hits("GET", "/v1/jobs") == 2


async def test_drop_after_commits_the_write(http: httpx.AsyncClient, faults: FaultInjector) -> None:
    faults.add("POST", "/v1/jobs", drop="after", times=1)
    with pytest.raises(ConnectionDropped):
        await http.post("/v1/jobs", json=job_body("lost-answer"))
    assert len((await ok(http.get("/v1/jobs", params={"slug": "lost-answer"})))["data"]) == 1
    faults.add("POST", "/v1/jobs/*/trigger", drop="after", times=1)
    before = len(await all_pages(http, "/v1/runs", limit=100))
    with pytest.raises(ConnectionDropped):
        await http.post(f"/v1/jobs/{S.CATALOG_JOB_ID}/trigger", json={}, headers={"Idempotency-Key": "retry-me"})
    retried = await http.post(f"/v1/jobs/{S.CATALOG_JOB_ID}/trigger", json={}, headers={"Idempotency-Key": "retry-me"})
    assert retried.status_code == 201 and retried.headers["Idempotency-Replayed"] == "true"
    assert len(await all_pages(http, "/v1/runs", limit=100)) == before + 1


async def test_file_backed_state_survives_a_new_app(tmp_path: Path, clock: Clock) -> None:
    path = str(tmp_path / "strait.db")
    async with client_for(create_app(db_path=path, now=clock)) as client:
        created = await ok(client.post("/v1/jobs", json=job_body("kept-on-disk")), 201)
        run = await ok(client.post(f"/v1/jobs/{created['id']}/trigger", json={}), 201)
    clock.advance(minutes=5)
    async with client_for(create_app(db_path=path, now=clock)) as client:
        jobs = await all_pages(client, "/v1/jobs")
        assert len(jobs) == 13 and created["id"] in {j["id"] for j in jobs}  # not seeded twice
        assert (await run_of(client, run["id"]))["status"] == "completed"
