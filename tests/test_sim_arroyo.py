"""The Arroyo simulator on its own: routes, envelopes, paging, error bodies, auth, the controller's state
machine over a fake clock, checkpoints, metrics, the output stream, faults and a file-backed store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from jobs_mcp.providers.arroyo.seed import (
    BACKPRESSURE_JOB_ID,
    BACKPRESSURE_PIPELINE_ID,
    FAILED_JOB_ID,
    FAILED_JOB_SEEDED_ERRORS,
    FAILED_PIPELINE_ID,
    FINISHED_JOB_ID,
    FINISHED_PIPELINE_ID,
    HEALTHY_JOB_ID,
    HEALTHY_PIPELINE_ID,
    MAX_RUNNING_JOBS,
    NON_ADMIN_TOKEN,
    PREVIEW_JOB_ID,
    PREVIEW_PIPELINE_ID,
    RESCALING_JOB_ID,
    RESCALING_PIPELINE_ID,
    RESTART_LOOP_JOB_ID,
    RESTART_LOOP_PIPELINE_ID,
    STALLED_CHECKPOINT_JOB_ID,
    STALLED_CHECKPOINT_PIPELINE_ID,
    STARTING_JOB_ID,
    STARTING_PIPELINE_ID,
    STOPPED_JOB_ID,
    STOPPED_PIPELINE_ID,
    STOPPING_JOB_ID,
    STOPPING_PIPELINE_ID,
)
from jobs_mcp.providers.arroyo.simulator import JOB_STATES, create_app, plan_query
from jobs_mcp.sandbox.faults import FaultInjector
from support import Clock

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NOW_US = int((NOW - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
API = "/api/v1"
AUTH = {"Authorization": "Bearer sandbox-test-token"}
QUERY = (
    "INSERT INTO order_revenue_1m\nSELECT tumble(interval '1 minute') AS window, store_id, count(*) AS orders\n"
    "FROM orders GROUP BY window, store_id;"
)
PIPELINE_KEYS = {
    "id", "name", "query", "udfs", "checkpoint_interval_micros", "stop", "created_at", "action", "action_text",
    "action_in_progress", "graph", "preview", "state_url", "tags",
}  # fmt: skip
JOB_KEYS = {
    "id", "pipeline_id", "running_desired", "state", "run_id", "start_time", "finish_time", "tasks",
    "failure_reason", "created_at", "scheduler_config", "env_vars",
}  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def app(clock: Clock) -> Starlette:
    return create_app(now=clock)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sim", headers=AUTH) as c:
        yield c


async def job_of(client: httpx.AsyncClient, pipeline_id: str) -> dict[str, Any]:
    r = await client.get(f"{API}/pipelines/{pipeline_id}/jobs")
    assert r.status_code == 200, r.text
    job: dict[str, Any] = r.json()["data"][0]
    return job


async def create(client: httpx.AsyncClient, name: str = "test-pipeline", **extra: Any) -> dict[str, Any]:
    r = await client.post(f"{API}/pipelines", json={"name": name, "query": QUERY, "parallelism": 2, **extra})
    assert r.status_code == 200, r.text
    pipeline: dict[str, Any] = r.json()
    return pipeline


async def walk(
    client: httpx.AsyncClient, clock: Clock, pipeline_id: str, seconds: float, step: float = 0.25
) -> list[str]:
    """The distinct states the job shows while the clock moves ``seconds`` forward."""
    seen = [(await job_of(client, pipeline_id))["state"]]
    for _ in range(int(seconds / step)):
        clock.advance(step)
        state = (await job_of(client, pipeline_id))["state"]
        if state != seen[-1]:
            seen.append(state)
    return seen


def err(r: httpx.Response) -> str:
    body = r.json()
    assert set(body) == {"error"}, body
    return str(body["error"])


# --- auth, routing, envelopes ------------------------------------------------------------------------------------


async def test_bearer_token_required(app: Starlette) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sim") as c:
        r = await c.get(f"{API}/pipelines")
        assert r.status_code == 401 and "Bearer" in err(r)
        r = await c.get(f"{API}/pipelines", headers={"Authorization": "sandbox-test-token"})
        assert r.status_code == 401
        assert (await c.get("/_sandbox/faults")).status_code == 200  # control routes need no token


async def test_configured_tokens_and_admin_role(clock: Clock) -> None:
    app = create_app(now=clock, tokens={"ops": {"admin"}, "dev": set()})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sim") as c:
        assert (await c.get(f"{API}/jobs", headers={"Authorization": "Bearer nope"})).status_code == 401
        dev = {"Authorization": "Bearer dev"}
        assert (await c.get(f"{API}/jobs", headers=dev)).status_code == 200
        r = await c.get(f"{API}/admin/organizations/org/jobs", headers=dev)
        assert r.status_code == 403 and err(r) == "Admin role required"
        ops = {"Authorization": "Bearer ops"}
        r = await c.get(f"{API}/admin/organizations/org/pipelines", headers=ops)
        assert r.status_code == 200 and len(r.json()["data"]) == 10
        r = await c.get(f"{API}/admin/organizations/acme/pipelines", headers=ops)
        assert r.json() == {"data": [], "hasMore": False}


async def test_fixed_non_admin_token_when_any_token_accepted(client: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {NON_ADMIN_TOKEN}"}
    assert (await client.get(f"{API}/pipelines", headers=headers)).status_code == 200
    r = await client.get(f"{API}/admin/organizations/org/pipelines/{HEALTHY_PIPELINE_ID}", headers=headers)
    assert r.status_code == 403 and err(r) == "Admin role required"
    r = await client.get(f"{API}/admin/organizations/org/pipelines/{HEALTHY_PIPELINE_ID}")
    assert r.status_code == 200 and r.json()["id"] == HEALTHY_PIPELINE_ID


async def test_routes_ping_and_fallbacks(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{API}/ping")
    assert r.json() == "Pong"
    r = await client.get(f"{API}/nothing/here")
    assert r.status_code == 404 and err(r) == "Route not found"
    r = await client.delete(f"{API}/jobs")
    assert r.status_code == 405 and r.content == b""
    r = await client.get(f"{API}/pipelines/pl_missing")
    assert r.status_code == 404 and err(r) == "Pipeline not found"
    r = await client.get(f"{API}/pipelines/preview")  # GET falls through to /pipelines/{id}
    assert r.status_code == 404 and err(r) == "Pipeline not found"


async def test_list_pipelines_paging(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{API}/pipelines")
    body = r.json()
    assert set(body) == {"data", "hasMore"} and len(body["data"]) == 10 and body["hasMore"] is False
    assert PREVIEW_PIPELINE_ID not in {p["id"] for p in body["data"]}
    created = [p["created_at"] for p in body["data"]]
    assert created == sorted(created, reverse=True)
    assert all(set(p) == PIPELINE_KEYS for p in body["data"])
    pages, after = [], None
    while True:
        params = {"limit": 3} | ({"starting_after": after} if after else {})
        page = (await client.get(f"{API}/pipelines", params=params)).json()
        pages.append(page)
        after = page["data"][-1]["id"]
        if not page["hasMore"]:
            break
    assert [len(p["data"]) for p in pages] == [3, 3, 3, 1]
    assert [p["id"] for page in pages for p in page["data"]] == [p["id"] for p in body["data"]]
    r = await client.get(f"{API}/pipelines", params={"limit": 0})
    assert r.status_code == 400 and err(r) == "Limit must be greater than 0"
    r = await client.get(f"{API}/pipelines", params={"limit": "ten"})
    assert r.status_code == 400 and err(r).startswith("Failed to deserialize query string")
    r = await client.get(f"{API}/pipelines", params={"starting_after": "pl_unknown"})
    assert r.json() == {"data": [], "hasMore": False}


async def test_list_jobs_and_pipeline_jobs(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"{API}/jobs")).json()
    assert set(body) == {"data"} and len(body["data"]) == 10
    assert PREVIEW_JOB_ID not in {j["id"] for j in body["data"]}
    assert all(set(j) == JOB_KEYS for j in body["data"])
    assert all(j["id"].startswith("job_") and j["pipeline_id"].startswith("pl_") for j in body["data"])
    assert all(abs(j["created_at"] - NOW_US) < 10 * 86_400 * 10**6 for j in body["data"])  # microseconds
    preview = await job_of(client, PREVIEW_PIPELINE_ID)
    assert preview["id"] == PREVIEW_JOB_ID
    r = await client.get(f"{API}/pipelines/pl_missing/jobs")
    assert r.status_code == 404 and err(r) == "Pipeline not found"


# --- the seeded organisation -------------------------------------------------------------------------------------


async def test_seeded_states(client: httpx.AsyncClient) -> None:
    expected = {
        HEALTHY_PIPELINE_ID: ("Running", True),
        PREVIEW_PIPELINE_ID: ("Running", True),
        STOPPED_PIPELINE_ID: ("Stopped", False),
        FINISHED_PIPELINE_ID: ("Finished", True),
        FAILED_PIPELINE_ID: ("Failed", True),
        RESTART_LOOP_PIPELINE_ID: ("Recovering", True),
        BACKPRESSURE_PIPELINE_ID: ("Running", True),
        STALLED_CHECKPOINT_PIPELINE_ID: ("Running", True),
        STARTING_PIPELINE_ID: ("Compiling", True),
        STOPPING_PIPELINE_ID: ("Running", False),
        RESCALING_PIPELINE_ID: ("Rescaling", True),
    }
    for pipeline_id, (state, desired) in expected.items():
        job = await job_of(client, pipeline_id)
        assert (job["state"], job["running_desired"]) == (state, desired), pipeline_id
    ids = {j["id"] for j in (await client.get(f"{API}/jobs")).json()["data"]}
    assert {STOPPING_JOB_ID, RESCALING_JOB_ID, FAILED_JOB_ID, BACKPRESSURE_JOB_ID} <= ids
    healthy = (await client.get(f"{API}/pipelines/{HEALTHY_PIPELINE_ID}")).json()
    assert healthy["action_text"] == "Stop" and healthy["action"] == "checkpoint" and not healthy["action_in_progress"]
    assert {n["parallelism"] for n in healthy["graph"]["nodes"]} == {4}  # rescaled 2 -> 4 in its history
    assert (await job_of(client, HEALTHY_PIPELINE_ID))["run_id"] == 4
    stopping = (await client.get(f"{API}/pipelines/{STOPPING_PIPELINE_ID}")).json()
    assert (stopping["stop"], stopping["action_text"], stopping["action_in_progress"]) == ("graceful", "Stopping", True)
    stopped = (await client.get(f"{API}/pipelines/{STOPPED_PIPELINE_ID}")).json()
    assert (stopped["action_text"], stopped["action"]) == ("Start", "none")
    failed = await job_of(client, FAILED_PIPELINE_ID)
    assert failed["failure_reason"]["domain"] == "external"
    assert failed["failure_reason"]["error"].startswith("Exhausted retries: Kafka error")
    assert failed["finish_time"] is not None and failed["run_id"] == 20
    finished = await job_of(client, FINISHED_PIPELINE_ID)
    assert finished["finish_time"] - finished["start_time"] > 7_000 * 10**6
    preview = (await client.get(f"{API}/pipelines/{PREVIEW_PIPELINE_ID}")).json()
    assert preview["preview"] is True and preview["name"].startswith("preview_")
    assert preview["checkpoint_interval_micros"] == 86_400 * 10**6


def test_seeded_queries_plan_cleanly() -> None:
    from jobs_mcp.providers.arroyo.seed import SPECS

    for spec in SPECS:
        plan = plan_query(spec.query, spec.parallelism)
        assert plan.errors == [] and plan.nodes, spec.name
    ops = {n["operator_id"] for n in plan_query(SPECS[4].query, 4).nodes}
    assert {"source_payments_1", "join_5", "sink_fraud_alerts_6"} <= ops


# --- create, put, preview, validate ------------------------------------------------------------------------------


async def test_create_pipeline_and_progress(client: httpx.AsyncClient, clock: Clock) -> None:
    pipeline = await create(client, tags={"team": "qa"}, env_vars={"RUST_LOG": "info"})
    assert set(pipeline) == PIPELINE_KEYS and pipeline["id"].startswith("pl_")
    assert (pipeline["stop"], pipeline["action_text"], pipeline["action_in_progress"]) == ("none", "Stop", True)
    assert pipeline["checkpoint_interval_micros"] == 10_000_000 and pipeline["tags"] == {"team": "qa"}
    assert [n["operator"] for n in pipeline["graph"]["nodes"]] == ["kafka", "key_2", "tumbling_3", "kafka"]
    assert [e["edge_type"] for e in pipeline["graph"]["edges"]] == ["Forward", "Shuffle", "Forward"]
    job = await job_of(client, pipeline["id"])
    assert (job["state"], job["run_id"], job["start_time"], job["env_vars"]) == (
        "Created",
        0,
        None,
        {"RUST_LOG": "info"},
    )
    seen = await walk(client, clock, pipeline["id"], 7)
    assert seen == ["Created", "Compiling", "Scheduling", "Running"]
    job = await job_of(client, pipeline["id"])
    assert job["run_id"] == 1 and job["tasks"] == 8 and job["start_time"] is not None
    listed = (await client.get(f"{API}/pipelines", params={"limit": 1})).json()
    assert listed["data"][0]["id"] == pipeline["id"] and listed["hasMore"] is True


async def test_create_rejections(client: httpx.AsyncClient) -> None:
    async def post(body: Any, **kw: Any) -> httpx.Response:
        return await client.post(f"{API}/pipelines", json=body, **kw)

    r = await post({"name": "x", "query": "", "parallelism": 1})
    assert r.status_code == 400 and err(r) == "Failed to plan query:\n * Query is empty!"
    r = await post({"name": "x", "query": "SELECT * FROM nope", "parallelism": 1})
    assert r.status_code == 400 and "table 'nope' not found" in err(r)
    r = await post({"name": "x", "query": QUERY, "parallelism": 33})
    assert r.status_code == 400 and err(r).startswith("Your plan allows you to run pipelines up to parallelism 32;")
    huge = ";\n".join(
        f"INSERT INTO order_revenue_1m SELECT count(*) AS orders FROM orders GROUP BY {i}" for i in range(8)
    )
    r = await post({"name": "x", "query": huge, "parallelism": 1})
    assert r.status_code == 400 and "only allows pipelines up to 30 nodes" in err(r)
    r = await post({"name": "", "query": QUERY, "parallelism": 1})
    assert r.status_code == 400 and err(r) == "Field name must be set"
    r = await post({"name": "x", "query": QUERY, "parallelism": 1, "checkpoint_interval_micros": 500_000})
    assert r.status_code == 400 and err(r) == "Checkpoint_interval_micros must be between 1 second and 1 day."
    r = await post({"name": "x", "parallelism": 1})
    assert r.status_code == 422 and "missing field `query`" in err(r)
    r = await post({"name": "x", "query": QUERY, "parallelism": "2"})
    assert r.status_code == 422 and 'parallelism: invalid type: string "2", expected u64' in err(r)
    r = await client.post(f"{API}/pipelines", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and err(r).startswith("Failed to parse the request body as JSON")
    r = await client.post(f"{API}/pipelines", content=b"{}")
    assert r.status_code == 415 and err(r) == "Expected request with `Content-Type: application/json`"
    assert len((await client.get(f"{API}/jobs")).json()["data"]) == 10  # nothing was created


async def test_running_jobs_quota(client: httpx.AsyncClient) -> None:
    running = [
        j for j in (await client.get(f"{API}/jobs")).json()["data"]
        if j["running_desired"] and j["state"] not in ("Failed", "Finished")
    ]  # fmt: skip
    for i in range(MAX_RUNNING_JOBS + 1 - len(running)):  # the check is "more than the limit already running"
        await create(client, f"quota-{i}")
    r = await client.post(f"{API}/pipelines", json={"name": "one-too-many", "query": QUERY, "parallelism": 1})
    assert r.status_code == 400
    assert err(r).startswith(
        f"You have exceeded the maximum number\n            of running jobs in your plan ({MAX_RUNNING_JOBS})"
    )


async def test_put_creates_once(client: httpx.AsyncClient) -> None:
    body = {"name": "by-id", "query": QUERY, "parallelism": 1}
    r = await client.put(f"{API}/pipelines/pl_callerChosen", json=body)
    assert r.status_code == 200 and r.json()["id"] == "pl_callerChosen"
    r = await client.put(f"{API}/pipelines/pl_callerChosen", json=body)
    assert r.status_code == 400 and err(r) == "A record already exists with that name or id"


async def test_preview_pipelines(client: httpx.AsyncClient, clock: Clock) -> None:
    r = await client.post(f"{API}/pipelines/preview", json={"query": QUERY})
    preview = r.json()
    assert r.status_code == 200 and preview["preview"] is True and preview["name"] == f"preview_{NOW_US // 1000}"
    assert [n["operator"] for n in preview["graph"]["nodes"]][-1] == "preview"  # the Kafka sink was replaced
    r = await client.post(f"{API}/pipelines/preview", json={"query": QUERY, "enable_sinks": True})
    nodes = r.json()["graph"]["nodes"]
    assert [n["operator"] for n in nodes][-2:] == ["kafka", "preview"] and nodes[-1]["description"] == "Preview sink"
    assert preview["id"] not in {p["id"] for p in (await client.get(f"{API}/pipelines")).json()["data"]}
    seen = await walk(client, clock, preview["id"], 70, step=0.5)
    assert seen == ["Created", "Compiling", "Scheduling", "Running", "Stopping", "Stopped"]  # the 60 s TTL
    r = await client.post(f"{API}/pipelines/preview", json={"query": QUERY, "enable_sinks": None})
    assert r.status_code == 422


async def test_validate_query(client: httpx.AsyncClient) -> None:
    url = f"{API}/pipelines/validate_query"
    body = (await client.post(url, json={"query": QUERY})).json()
    assert body["errors"] == [] and len(body["graph"]["nodes"]) == 4
    assert set(body["graph"]["nodes"][0]) == {"node_id", "operator", "description", "parallelism"}
    assert body["graph"]["nodes"][0]["description"] == "KafkaSource<orders>"
    assert (await client.post(url, json={"query": "  "})).json() == {
        "graph": None,
        "errors": [{"message": "Query is empty!"}],
    }
    body = (await client.post(url, json={"query": "CREATE TABLE t (x INT) WITH (connector = 'kafka');"})).json()
    assert body["errors"] == [{"message": "Error during planning: The provided SQL does not contain a query"}]
    body = (await client.post(url, json={"query": "SELECT a\nFROM orders JOIN missing_t ON true"})).json()
    assert body["graph"] is None
    assert body["errors"] == [
        {
            "message": "table 'missing_t' not found",
            "span": {"start": {"line": 2, "column": 18}, "end": {"line": 2, "column": 27}},
        }
    ]
    body = (await client.post(url, json={"query": "SELECT extract(hour from ts) AS h FROM page_views"})).json()
    assert body["errors"] == [] and body["graph"]["nodes"][-1]["operator"] == "preview"
    body = (await client.post(url, json={"query": "INSERT INTO nowhere SELECT * FROM orders"})).json()
    assert body["errors"] == [{"message": "Error during planning: Connection nowhere not found"}]


# --- patch: stop, start, rescale, interval -----------------------------------------------------------------------


async def test_stop_with_checkpoint_then_start(client: httpx.AsyncClient, clock: Clock) -> None:
    pipeline = await create(client)
    await walk(client, clock, pipeline["id"], 6)
    r = await client.patch(f"{API}/pipelines/{pipeline['id']}", json={"stop": "checkpoint"})
    assert r.status_code == 200
    assert (r.json()["stop"], r.json()["action_text"], r.json()["action_in_progress"]) == (
        "checkpoint",
        "Stopping",
        True,
    )
    seen = await walk(client, clock, pipeline["id"], 5)
    assert seen == ["Running", "CheckpointStopping", "Stopped"]
    job = await job_of(client, pipeline["id"])
    assert job["finish_time"] is not None and not job["running_desired"]
    cps = (await client.get(f"{API}/pipelines/{pipeline['id']}/jobs/{job['id']}/checkpoints")).json()["data"]
    assert cps[-1]["checkpoint_type"] == "stopping" and cps[-1]["finish_time"] is not None
    await client.patch(f"{API}/pipelines/{pipeline['id']}", json={"stop": "none"})
    seen = await walk(client, clock, pipeline["id"], 7)
    assert seen == ["Stopped", "Compiling", "Scheduling", "Running"]
    job = await job_of(client, pipeline["id"])
    assert job["run_id"] == 2 and job["finish_time"] is None


@pytest.mark.parametrize("mode", ["graceful", "immediate", "force"])
async def test_other_stop_modes(client: httpx.AsyncClient, clock: Clock, mode: str) -> None:
    pipeline = await create(client)
    await walk(client, clock, pipeline["id"], 6)
    await client.patch(f"{API}/pipelines/{pipeline['id']}", json={"stop": mode})
    assert await walk(client, clock, pipeline["id"], 4) == ["Running", "Stopping", "Stopped"]


async def test_stop_before_running_and_force_stop_of_checkpoint_stopping(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    pipeline = await create(client)
    clock.advance(1)
    await client.patch(f"{API}/pipelines/{pipeline['id']}", json={"stop": "checkpoint"})
    assert await walk(client, clock, pipeline["id"], 4) == ["Compiling", "Stopping", "Stopped"]
    # the stalled job cannot finish a final checkpoint: CheckpointStopping hangs until a force stop
    await client.patch(f"{API}/pipelines/{STALLED_CHECKPOINT_PIPELINE_ID}", json={"stop": "checkpoint"})
    assert await walk(client, clock, STALLED_CHECKPOINT_PIPELINE_ID, 30, step=1) == ["Running", "CheckpointStopping"]
    view = (await client.get(f"{API}/pipelines/{STALLED_CHECKPOINT_PIPELINE_ID}")).json()
    assert (view["action_text"], view["action"]) == ("Force Stop", "immediate")
    await client.patch(f"{API}/pipelines/{STALLED_CHECKPOINT_PIPELINE_ID}", json={"stop": "immediate"})
    assert await walk(client, clock, STALLED_CHECKPOINT_PIPELINE_ID, 4) == ["CheckpointStopping", "Stopping", "Stopped"]


async def test_rescale(client: httpx.AsyncClient, clock: Clock) -> None:
    pipeline = await create(client)
    await walk(client, clock, pipeline["id"], 6)
    r = await client.patch(f"{API}/pipelines/{pipeline['id']}", json={"parallelism": 5})
    assert {n["parallelism"] for n in r.json()["graph"]["nodes"]} == {5}
    assert await walk(client, clock, pipeline["id"], 8) == ["Running", "Rescaling", "Scheduling", "Running"]
    job = await job_of(client, pipeline["id"])
    assert job["tasks"] == 20 and job["run_id"] == 2
    seeded = await walk(client, clock, RESCALING_PIPELINE_ID, 1)
    assert seeded[-1] in ("Scheduling", "Running")


async def test_patch_rejections(client: httpx.AsyncClient) -> None:
    url = f"{API}/pipelines/{HEALTHY_PIPELINE_ID}"
    for micros in (999_999, 86_400_000_001):
        r = await client.patch(url, json={"checkpoint_interval_micros": micros})
        assert r.status_code == 400 and err(r) == "checkpoint_interval_micros must be between 1 second and 1 day"
    r = await client.patch(url, json={"stop": "pause"})
    assert r.status_code == 422 and "unknown variant `pause`" in err(r)
    r = await client.patch(f"{API}/pipelines/pl_missing", json={"stop": "checkpoint"})
    assert r.status_code == 404 and err(r) == "Job for pipeline not found"
    r = await client.patch(url, json={"checkpoint_interval_micros": 5_000_000})
    assert r.status_code == 200 and r.json()["checkpoint_interval_micros"] == 5_000_000


# --- restart ----------------------------------------------------------------------------------------------------


async def test_restart_running_safe_and_force(client: httpx.AsyncClient, clock: Clock) -> None:
    pipeline = await create(client)
    await walk(client, clock, pipeline["id"], 6)
    r = await client.post(f"{API}/pipelines/{pipeline['id']}/restart", json={})
    assert r.status_code == 200 and set(r.json()) == PIPELINE_KEYS
    assert await walk(client, clock, pipeline["id"], 8) == ["Running", "Restarting", "Scheduling", "Running"]
    await client.post(f"{API}/pipelines/{pipeline['id']}/restart", json={"force": True})
    assert await walk(client, clock, pipeline["id"], 6) == ["Running", "Restarting", "Scheduling", "Running"]
    assert (await job_of(client, pipeline["id"]))["run_id"] == 3


async def test_restart_failed_job(client: httpx.AsyncClient, clock: Clock) -> None:
    r = await client.post(f"{API}/pipelines/{FAILED_PIPELINE_ID}/restart", json={"force": False})
    assert r.status_code == 200
    assert await walk(client, clock, FAILED_PIPELINE_ID, 7) == ["Failed", "Compiling", "Scheduling", "Running"]
    job = await job_of(client, FAILED_PIPELINE_ID)
    assert job["failure_reason"] is None and job["run_id"] == 21
    # the Kafka sink still times out: 20 s into the run it fails and the job goes back to Recovering
    assert "Recovering" in await walk(client, clock, FAILED_PIPELINE_ID, 20)


async def test_restart_without_state(client: httpx.AsyncClient) -> None:
    r = await client.post(f"{API}/pipelines/{HEALTHY_PIPELINE_ID}/restart", json={"ignore_state": True})
    assert r.status_code == 409
    assert err(r) == (
        f"cannot restart job {HEALTHY_JOB_ID} without state while it is in state Running; stop the job first"
    )
    r = await client.post(f"{API}/pipelines/{STOPPED_PIPELINE_ID}/restart", json={"ignore_state": True})
    assert r.status_code == 200 and r.json()["stop"] == "none"
    job = await job_of(client, STOPPED_PIPELINE_ID)
    assert job["id"] != STOPPED_JOB_ID and job["state"] == "Created" and job["run_id"] == 0
    assert (await client.get(f"{API}/pipelines/{STOPPED_PIPELINE_ID}/jobs/{job['id']}/checkpoints")).json() == {
        "data": []
    }
    r = await client.get(f"{API}/pipelines/{STOPPED_PIPELINE_ID}/jobs/{STOPPED_JOB_ID}/checkpoints")
    assert r.status_code == 404 and err(r) == "Job not found"
    r = await client.post(f"{API}/pipelines/pl_missing/restart", json={})
    assert r.status_code == 400 and err(r) == "No jobs for pipeline"
    r = await client.post(f"{API}/pipelines/pl_missing/restart", json={"ignore_state": True})
    assert r.status_code == 404 and err(r) == "Pipeline not found"


async def test_restart_loop_climbs_then_exhausts(client: httpx.AsyncClient, clock: Clock) -> None:
    url = f"{API}/pipelines/{RESTART_LOOP_PIPELINE_ID}/jobs/{RESTART_LOOP_JOB_ID}/errors"
    first = await job_of(client, RESTART_LOOP_PIPELINE_ID)
    errors = (await client.get(url, params={"limit": 100})).json()["data"]
    assert first["state"] == "Recovering" and len(errors) == 4
    assert {(e["message"], e["operator_id"], e["error_domain"]) for e in errors} == {
        ("task failed", "lookupjoin_2", "external")
    }
    clock.advance(600)
    later = await job_of(client, RESTART_LOOP_PIPELINE_ID)
    assert later["run_id"] > first["run_id"] + 3
    assert len((await client.get(url, params={"limit": 100})).json()["data"]) > 8
    clock.advance(1800)
    done = await job_of(client, RESTART_LOOP_PIPELINE_ID)
    assert done["state"] == "Failed" and done["failure_reason"]["error"].startswith(
        "Exhausted retries: Failed to connect"
    )
    assert len((await client.get(url, params={"limit": 100})).json()["data"]) == 20


async def test_all_fourteen_states_reachable(client: httpx.AsyncClient, clock: Clock) -> None:
    seen: set[str] = set()
    pipeline = await create(client)
    seen |= set(await walk(client, clock, pipeline["id"], 6))
    await client.patch(f"{API}/pipelines/{pipeline['id']}", json={"parallelism": 3})
    seen |= set(await walk(client, clock, pipeline["id"], 8))
    await client.post(f"{API}/pipelines/{pipeline['id']}/restart", json={})
    seen |= set(await walk(client, clock, pipeline["id"], 8))
    await client.patch(f"{API}/pipelines/{pipeline['id']}", json={"stop": "checkpoint"})
    seen |= set(await walk(client, clock, pipeline["id"], 5))
    await client.patch(f"{API}/pipelines/{pipeline['id']}", json={"stop": "none"})
    seen |= set(await walk(client, clock, pipeline["id"], 6))
    await client.patch(f"{API}/pipelines/{pipeline['id']}", json={"stop": "immediate"})
    seen |= set(await walk(client, clock, pipeline["id"], 4))
    bounded = (
        "CREATE TABLE files (x INT) WITH (connector = 'filesystem', type = 'source', path = 's3://b/p/',"
        " format = 'json');\n"
        "INSERT INTO order_revenue_1m SELECT x FROM files"
    )
    r = await client.post(f"{API}/pipelines", json={"name": "bounded", "query": bounded, "parallelism": 1})
    seen |= set(await walk(client, clock, r.json()["id"], 40, step=0.5))
    seen |= set(await walk(client, clock, RESTART_LOOP_PIPELINE_ID, 1500, step=0.5))
    assert seen == set(JOB_STATES)


# --- delete --------------------------------------------------------------------------------------------------------


async def test_delete_only_when_terminal(client: httpx.AsyncClient) -> None:
    r = await client.delete(f"{API}/pipelines/{HEALTHY_PIPELINE_ID}")
    assert r.status_code == 400
    assert (
        err(r) == "Pipeline's jobs must be in a terminal state (stopped, finished, or failed) before it can be deleted"
    )
    r = await client.delete(f"{API}/pipelines/{FINISHED_PIPELINE_ID}")
    assert r.status_code == 200 and r.content == b""
    assert (await client.get(f"{API}/pipelines/{FINISHED_PIPELINE_ID}")).status_code == 404
    assert FINISHED_JOB_ID not in {j["id"] for j in (await client.get(f"{API}/jobs")).json()["data"]}
    r = await client.delete(f"{API}/pipelines/{FINISHED_PIPELINE_ID}")
    assert r.status_code == 404 and err(r) == "Pipeline not found"


# --- errors, checkpoints, metrics, output ------------------------------------------------------------------------


async def test_job_errors_paging(client: httpx.AsyncClient) -> None:
    url = f"{API}/pipelines/{FAILED_PIPELINE_ID}/jobs/{FAILED_JOB_ID}/errors"
    first = (await client.get(url)).json()
    assert set(first) == {"data", "hasMore"} and len(first["data"]) == 10 and first["hasMore"] is True
    assert set(first["data"][0]) == {
        "id",
        "created_at",
        "operator_id",
        "task_index",
        "level",
        "message",
        "details",
        "error_domain",
    }
    entries, after = [], None
    while True:
        page = (await client.get(url, params={"limit": 50} | ({"starting_after": after} if after else {}))).json()
        entries += page["data"]
        if not page["hasMore"]:
            break
        after = page["data"][-1]["id"]
    assert len(entries) == FAILED_JOB_SEEDED_ERRORS + 20
    assert [e["created_at"] for e in entries] == sorted((e["created_at"] for e in entries), reverse=True)
    assert {e["level"] for e in entries} == {"error"}  # the warn entries stay out
    assert {e["error_domain"] for e in entries} == {"user", "external", "internal"}
    assert all(e["id"].startswith("jlm_") for e in entries)
    assert sum(e["message"] == "task failed" for e in entries) == 20
    assert (await client.get(url, params={"starting_after": "jlm_nothing"})).json() == {"data": [], "hasMore": False}
    r = await client.get(url, params={"limit": 0})
    assert r.status_code == 400 and err(r) == "Limit must be greater than 0"
    r = await client.get(f"{API}/pipelines/{HEALTHY_PIPELINE_ID}/jobs/{FAILED_JOB_ID}/errors")
    assert r.status_code == 404 and err(r) == "Job not found"


async def test_checkpoints_accumulate(client: httpx.AsyncClient, clock: Clock) -> None:
    url = f"{API}/pipelines/{HEALTHY_PIPELINE_ID}/jobs/{HEALTHY_JOB_ID}/checkpoints"
    cps = (await client.get(url)).json()["data"]
    assert len(cps) == 200
    assert set(cps[0]) == {"epoch", "backend", "checkpoint_type", "start_time", "finish_time", "events"}
    assert [c["epoch"] for c in cps] == sorted(c["epoch"] for c in cps) and cps[-1]["backend"] == "parquet"
    assert {e["event"] for e in cps[0]["events"]} == {"Checkpointing", "CheckpointingOperators", "WritingMetadata"}
    clock.advance(95)  # interval 30 s
    later = (await client.get(url)).json()["data"]
    assert later[-1]["epoch"] == cps[-1]["epoch"] + 3 and len(later) == 200
    epoch = later[-2]["epoch"]
    groups = (await client.get(f"{url}/{epoch}/operator_checkpoint_groups")).json()["data"]
    assert [g["operator_id"] for g in groups] == ["source_orders_1", "key_2", "tumbling_3", "sink_order_revenue_1m_4"]
    assert all(len(g["subtasks"]) == 4 and g["finish_time"] is not None for g in groups)
    assert groups[2]["bytes"] > groups[0]["bytes"]
    r = await client.get(f"{url}/1/operator_checkpoint_groups")
    assert r.status_code == 404 and err(r) == f"Checkpoint with epoch 1 for job '{HEALTHY_JOB_ID}' not found"
    r = await client.get(f"{url}/first/operator_checkpoint_groups")
    assert r.status_code == 400 and err(r) == "Invalid URL: Cannot parse `first` to a `u32`"


async def test_stalled_checkpoint(client: httpx.AsyncClient, clock: Clock) -> None:
    url = f"{API}/pipelines/{STALLED_CHECKPOINT_PIPELINE_ID}/jobs/{STALLED_CHECKPOINT_JOB_ID}/checkpoints"
    cps = (await client.get(url)).json()["data"]
    stuck = cps[-1]
    assert stuck["finish_time"] is None and cps[-2]["finish_time"] is not None
    assert NOW_US - stuck["start_time"] > 45 * 60 * 10**6
    open_spans = {e["event"] for e in stuck["events"] if e["finish_time"] == 0}
    assert open_spans == {"Checkpointing", "Committing"}
    clock.advance(600)
    assert (await client.get(url)).json()["data"][-1]["epoch"] == stuck["epoch"]  # nothing new completes or starts
    groups = (await client.get(f"{url}/{stuck['epoch']}/operator_checkpoint_groups")).json()["data"]
    assert [g["finish_time"] is None for g in groups] == [False, False, False, True]


async def test_operator_metric_groups(client: httpx.AsyncClient) -> None:
    url = f"{API}/pipelines/{BACKPRESSURE_PIPELINE_ID}/jobs/{BACKPRESSURE_JOB_ID}/operator_metric_groups"
    data = (await client.get(url)).json()["data"]
    view = (await client.get(f"{API}/pipelines/{BACKPRESSURE_PIPELINE_ID}")).json()
    assert [d["node_id"] for d in data] == [n["node_id"] for n in view["graph"]["nodes"]]
    names = {g["name"] for g in data[0]["metric_groups"]}
    assert names == {"bytes_recv", "bytes_sent", "messages_recv", "messages_sent", "backpressure"}
    pressure = next(g for g in data[0]["metric_groups"] if g["name"] == "backpressure")
    assert len(pressure["subtasks"]) == 4
    series = pressure["subtasks"][0]["metrics"]
    assert len(series) == 150 and series[1]["time"] - series[0]["time"] == 2_000_000
    assert min(p["value"] for p in series) > 0.8
    healthy = f"{API}/pipelines/{HEALTHY_PIPELINE_ID}/jobs/{HEALTHY_JOB_ID}/operator_metric_groups"
    groups = (await client.get(healthy)).json()["data"][0]["metric_groups"]
    calm = next(g for g in groups if g["name"] == "backpressure")["subtasks"][0]["metrics"]
    assert max(p["value"] for p in calm) < 0.1
    stopped = f"{API}/pipelines/{STOPPED_PIPELINE_ID}/jobs/{STOPPED_JOB_ID}/operator_metric_groups"
    assert (await client.get(stopped)).json() == {"data": []}


async def read_sse(app: Starlette, path: str, events: int) -> tuple[int, str, list[dict[str, Any]]]:
    """Drive the app directly (httpx's ASGI transport buffers whole bodies), then disconnect."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "server": ("sim", 80),
        "client": ("test", 1), "headers": [(b"host", b"sim"), (b"authorization", b"Bearer t")],
    }  # fmt: skip
    started: dict[str, Any] = {}
    chunks: list[bytes] = []
    requested = False
    gone = anyio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message.get("body"):
            chunks.append(message["body"])
            if b"".join(chunks).count(b"\n\n") >= events:
                gone.set()

    with anyio.fail_after(10):
        await app(scope, receive, send)
    headers = {k.decode(): v.decode() for k, v in started["headers"]}
    text = b"".join(chunks).decode()
    parsed = []
    for block in filter(None, text.split("\n\n")):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        parsed.append({"id": fields["id"], "data": json.loads(fields["data"])})
    return started["status"], headers.get("content-type", ""), parsed


async def test_output_stream(app: Starlette, client: httpx.AsyncClient, clock: Clock) -> None:
    path = f"{API}/pipelines/{PREVIEW_PIPELINE_ID}/jobs/{PREVIEW_JOB_ID}/output"
    status, ctype, events = await read_sse(app, path, 3)
    assert status == 200 and ctype.startswith("text/event-stream")
    assert [e["id"] for e in events[:3]] == ["0", "1", "2"]
    first = events[0]["data"]
    assert set(first) == {"operator_id", "subtask_idx", "timestamps", "start_id", "batch"}
    assert first["operator_id"] == "sink_preview_4" and first["start_id"] == 0
    rows = json.loads(first["batch"])
    assert len(rows) == len(first["timestamps"]) and set(rows[0]) == {"auction", "bids", "max_price", "window"}
    assert events[1]["data"]["start_id"] == len(rows)
    r = await client.get(f"{API}/pipelines/{HEALTHY_PIPELINE_ID}/jobs/{HEALTHY_JOB_ID}/output")
    assert r.status_code == 400 and err(r) == "Job does not have a preview sink"
    clock.advance(90)  # past the preview's 60 s TTL
    r = await client.get(path)
    assert r.status_code == 400 and err(r) == "Job must be running to read output"


# --- faults and persistence --------------------------------------------------------------------------------------


async def test_fault_status_uses_error_body(clock: Clock) -> None:
    faults = FaultInjector()
    faults.add("GET", f"{API}/jobs", status=503, times=1)
    app = create_app(now=clock, faults=faults)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sim", headers=AUTH) as c:
        r = await c.get(f"{API}/jobs")
        assert r.status_code == 503 and "fault injected" in err(r)
        assert (await c.get(f"{API}/jobs")).status_code == 200
    assert faults.hits("GET", f"{API}/jobs") == 2


async def test_dropped_answer_after_commit(clock: Clock) -> None:
    faults = FaultInjector()
    faults.add("POST", f"{API}/pipelines", drop="after", times=1)
    app = create_app(now=clock, faults=faults)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sim", headers=AUTH) as c:
        with pytest.raises(Exception, match="dropped"):
            await c.post(f"{API}/pipelines", json={"name": "lost-answer", "query": QUERY, "parallelism": 1})
        names = [p["name"] for p in (await c.get(f"{API}/pipelines", params={"limit": 50})).json()["data"]]
        assert names.count("lost-answer") == 1


async def test_file_backed_store_survives_a_new_app(tmp_path: Path, clock: Clock) -> None:
    db = str(tmp_path / "arroyo.sqlite")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(create_app(db_path=db, now=clock)), base_url="http://sim", headers=AUTH
    ) as c:
        created = await create(c, "kept")
        await c.patch(f"{API}/pipelines/{STOPPING_PIPELINE_ID}", json={"stop": "none"})
    clock.advance(10)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(create_app(db_path=db, now=clock)), base_url="http://sim", headers=AUTH
    ) as c:
        listed = (await c.get(f"{API}/pipelines", params={"limit": 50})).json()["data"]
        assert len(listed) == 11 and created["id"] in {p["id"] for p in listed}
        assert (await job_of(c, created["id"]))["state"] == "Running"
        assert (await job_of(c, STOPPING_PIPELINE_ID))["state"] == "Running"  # stop cancelled before it applied
        assert (await job_of(c, STARTING_PIPELINE_ID))["id"] == STARTING_JOB_ID
