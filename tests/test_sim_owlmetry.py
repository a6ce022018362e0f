"""The OwlMetry simulator on its own: routes, bodies, paging, auth and roles, the run state machine on a fake
clock, faults, and a file-backed store across apps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobs_mcp.providers.owlmetry import seed as s
from jobs_mcp.providers.owlmetry.simulator import CANCEL_DELAY_MS, TRIGGER_WAIT_MS, create_app
from jobs_mcp.sandbox.faults import ConnectionDropped, FaultInjector
from support import Clock

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FULL = {"Authorization": f"Bearer {s.FULL_TOKEN}"}
READ_ONLY = {"Authorization": f"Bearer {s.READ_ONLY_TOKEN}"}
CLIENT = {"Authorization": f"Bearer {s.CLIENT_TOKEN}"}
MEMBER = {"Authorization": f"Bearer {s.MEMBER_USER_TOKEN}"}
ADMIN = {"Authorization": f"Bearer {s.ADMIN_USER_TOKEN}"}
OTHER = {"Authorization": f"Bearer {s.OTHER_TEAM_TOKEN}"}
JOBS = f"/v1/teams/{s.TEAM_ID}/jobs"
TRIGGER = f"{JOBS}/trigger"
RUN_FIELDS = {
    "id", "job_type", "status", "team_id", "project_id", "triggered_by", "params", "progress", "result", "error",
    "notify", "started_at", "completed_at", "created_at",
}  # fmt: skip
FULL_KEY_ID = s.SANDBOX_KEYS[s.FULL_TOKEN].key_id


@pytest.fixture
async def http(clock: Clock, faults: FaultInjector) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(now=clock, faults=faults)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sim") as client:
        yield client


async def runs(http: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    r = await http.get(JOBS, params={"limit": 200, **params}, headers=FULL)
    assert r.status_code == 200, r.text
    return list(r.json()["job_runs"])


async def run(http: httpx.AsyncClient, run_id: str, headers: dict[str, str] = FULL) -> dict[str, Any]:
    r = await http.get(f"/v1/jobs/{run_id}", headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json()["job_run"])


async def trigger(http: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] = FULL) -> httpx.Response:
    return await http.post(TRIGGER, json=body, headers=headers)


def error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) <= {"error", "existing_run_id"}, body
    return str(body["error"])


# --- list ------------------------------------------------------------------------------------------------------------


async def test_list_is_newest_first_team_runs_only(http: httpx.AsyncClient) -> None:
    r = await http.get(JOBS, headers=FULL)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"job_runs", "cursor", "has_more"}
    listed = body["job_runs"]
    assert body["cursor"] is None and body["has_more"] is False and len(listed) == 9 + s.FILLER_COUNT
    assert all(set(x) == RUN_FIELDS and x["team_id"] == s.TEAM_ID for x in listed)
    keys = [(x["created_at"], x["id"]) for x in listed]
    assert keys == sorted(keys, reverse=True)
    ids = {x["id"] for x in listed}
    assert s.SYSTEM_RUN_ID not in ids and s.OTHER_TEAM_RUN_ID not in ids
    assert {x["status"] for x in listed} == set(s.STATUSES)
    assert listed[0]["id"] == s.PENDING_RUN_ID and listed[0]["created_at"].endswith("Z")


async def test_cursor_pages_through_everything_once(http: httpx.AsyncClient) -> None:
    everything = await runs(http)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "5"} | ({"cursor": cursor} if cursor else {})
        body = (await http.get(JOBS, params=params, headers=FULL)).json()
        seen += [x["id"] for x in body["job_runs"]]
        if not body["has_more"]:
            assert body["cursor"] is None
            break
        cursor = body["cursor"]
        last = body["job_runs"][-1]
        assert cursor == f"{last['created_at']}|{last['id']}"
    assert seen == [x["id"] for x in everything]
    assert set(s.TIE_RUN_IDS) <= set(seen)  # two runs created in the same millisecond, split by id


@pytest.mark.parametrize(("limit", "size"), [("0", 33), ("abc", 33), ("-4", 1), ("1000", 33), ("2.7", 2), ("3", 3)])
async def test_limit_is_normalized(http: httpx.AsyncClient, limit: str, size: int) -> None:
    r = await http.get(JOBS, params={"limit": limit}, headers=FULL)
    assert len(r.json()["job_runs"]) == size


async def test_filters(http: httpx.AsyncClient) -> None:
    backfills = await runs(http, job_type="revenuecat_user_backfill")
    assert backfills and all(x["job_type"] == "revenuecat_user_backfill" for x in backfills)
    assert [x["id"] for x in await runs(http, status="cancelled")] == [s.CANCELLED_RUN_ID]
    running = {x["id"] for x in await runs(http, status="running")}
    assert running == {s.RUNNING_RUN_ID, s.BACKFILL_RUN_ID}
    web = await runs(http, project_id=s.PROJECT_WEB_ID)
    assert s.FAILED_RUN_ID in {x["id"] for x in web} and {x["project_id"] for x in web} == {s.PROJECT_WEB_ID}
    recent = {x["id"] for x in await runs(http, since="1h")}
    assert recent == {s.PENDING_RUN_ID, s.RUNNING_RUN_ID, s.BACKFILL_RUN_ID}
    old = await runs(http, until="7d")
    assert old and all(x["created_at"] <= "2026-11-16T12:00:00.000Z" for x in old)
    window = await runs(http, since="2026-11-20T00:00:00Z", until="2026-11-23T00:00:00.000Z")
    assert {x["id"] for x in window} == {s.FAILED_MIDWAY_RUN_ID, s.FAILED_RUN_ID, s.COMPLETED_RUN_ID}
    assert await runs(http, job_type="db_pruning") == []  # system runs never show


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "done"}, 'invalid input value for enum job_status: "done"'),
        ({"since": "yesterday"}, 'Invalid time input: "yesterday"'),
        ({"project_id": "tidepool"}, 'invalid input syntax for type uuid: "tidepool"'),
        ({"cursor": "soon|" + s.RUNNING_RUN_ID}, "Invalid time value"),
    ],
)
async def test_malformed_filters_are_500s_like_the_real_server(
    http: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    r = await http.get(JOBS, params=params, headers=FULL)
    assert r.status_code == 500
    body = r.json()
    assert body["statusCode"] == 500 and body["error"] == "Internal Server Error" and message in body["message"]


# --- auth, permissions, roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Missing authorization"),
        ({"Authorization": s.FULL_TOKEN}, "Invalid authorization format"),
        ({"Authorization": "Token abc"}, "Invalid authorization format"),
        ({"Authorization": "Bearer "}, "Invalid authorization format"),
        ({"Authorization": f"Bearer {s.EXPIRED_TOKEN}"}, "API key expired"),
    ],
)
async def test_401s(http: httpx.AsyncClient, headers: dict[str, str], message: str) -> None:
    for r in (
        await http.get(JOBS, headers=headers),
        await http.get(f"/v1/jobs/{s.RUNNING_RUN_ID}", headers=headers),
        await http.post(f"/v1/jobs/{s.RUNNING_RUN_ID}/cancel", headers=headers),
        await http.post(TRIGGER, json={"job_type": "apple_ads_sync"}, headers=headers),
    ):
        assert error(r, 401) == message


async def test_key_permissions(http: httpx.AsyncClient) -> None:
    assert (await http.get(JOBS, headers=READ_ONLY)).status_code == 200
    assert (await http.get(f"/v1/jobs/{s.RUNNING_RUN_ID}", headers=READ_ONLY)).status_code == 200
    body = {"job_type": "revenuecat_user_backfill", "project_id": s.PROJECT_IOS_ID}
    assert error(await trigger(http, body, READ_ONLY), 403) == "Missing permission: jobs:write"
    cancel = await http.post(f"/v1/jobs/{s.RUNNING_RUN_ID}/cancel", headers=READ_ONLY)
    assert error(cancel, 403) == "Missing permission: jobs:write"
    assert error(await http.get(JOBS, headers=CLIENT), 403) == "Missing permission: jobs:read"
    assert error(await http.get(f"/v1/jobs/{s.RUNNING_RUN_ID}", headers=CLIENT), 403) == "Missing permission: jobs:read"
    assert error(await trigger(http, body, CLIENT), 403) == "Missing permission: jobs:write"
    assert (await run(http, s.RUNNING_RUN_ID))["status"] == "running"  # nothing was cancelled


async def test_team_membership_and_roles(http: httpx.AsyncClient) -> None:
    other_team = f"/v1/teams/{s.OTHER_TEAM_ID}/jobs"
    assert error(await http.get(other_team, headers=FULL), 403) == "Not a member of this team"
    assert error(await http.get(other_team, headers=ADMIN), 403) == "Not a member of this team"
    assert error(await http.get("/v1/teams/not-a-team/jobs", headers=FULL), 403) == "Not a member of this team"
    assert error(await http.get(JOBS, headers=MEMBER), 403) == "Requires admin role or higher"
    body = {"job_type": "revenuecat_user_backfill", "project_id": s.PROJECT_IOS_ID}
    assert error(await trigger(http, body, MEMBER), 403) == "Requires admin role or higher"
    assert (await http.get(JOBS, headers=ADMIN)).status_code == 200
    assert (await run(http, s.RUNNING_RUN_ID, MEMBER))["id"] == s.RUNNING_RUN_ID  # get needs membership only
    cancel = await http.post(f"/v1/jobs/{s.RUNNING_RUN_ID}/cancel", headers=MEMBER)
    assert cancel.status_code == 200 and cancel.json() == {"cancelled": True}
    theirs = await http.get(f"/v1/teams/{s.OTHER_TEAM_ID}/jobs", headers=OTHER)
    assert [x["id"] for x in theirs.json()["job_runs"]] == [s.OTHER_TEAM_RUN_ID]


async def test_tokens_none_accepts_any_token_as_a_full_agent_key(http: httpx.AsyncClient) -> None:
    guest = {"Authorization": "Bearer whatever-token"}
    assert (await http.get(JOBS, headers=guest)).status_code == 200
    r = await trigger(http, {"job_type": "revenuecat_user_backfill", "project_id": s.PROJECT_IOS_ID}, guest)
    assert r.status_code == 201 and r.json()["job_run"]["triggered_by"].startswith("manual:api_key:")


async def test_configured_tokens(clock: Clock) -> None:
    tokens = {"owl_agent_ci": {"jobs:read"}, "ci-user-jwt": {"role:member"}, "ci-admin-jwt": {"role:admin"}}
    app = create_app(tokens=tokens, now=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sim") as http:
        ci = {"Authorization": "Bearer owl_agent_ci"}
        assert (await http.get(JOBS, headers=ci)).status_code == 200
        assert error(await trigger(http, {"job_type": "apple_ads_sync"}, ci), 403) == "Missing permission: jobs:write"
        member = {"Authorization": "Bearer ci-user-jwt"}
        assert error(await http.get(JOBS, headers=member), 403) == "Requires admin role or higher"
        admin = {"Authorization": "Bearer ci-admin-jwt"}
        assert (await http.get(JOBS, headers=admin)).status_code == 200
        assert error(await http.get(JOBS, headers={"Authorization": "Bearer owl_agent_nope"}), 401) == "Invalid API key"
        assert error(await http.get(JOBS, headers={"Authorization": "Bearer a.b.c"}), 401) == "Invalid or expired token"
        assert (await http.get(JOBS, headers=FULL)).status_code == 200  # the sandbox keys always exist
        assert (await http.get(JOBS, headers=READ_ONLY)).status_code == 200


# --- get ------------------------------------------------------------------------------------------------------------


async def test_get_run_and_its_404s(http: httpx.AsyncClient) -> None:
    got = await run(http, s.COMPLETED_RUN_ID)
    assert set(got) == RUN_FIELDS and got["status"] == "completed"
    assert (await run(http, s.COMPLETED_RUN_ID.upper()))["id"] == s.COMPLETED_RUN_ID  # Postgres reads any case
    for run_id in (s.OTHER_TEAM_RUN_ID, s.SYSTEM_RUN_ID, "00000000-0000-4000-8000-000000000000"):
        assert error(await http.get(f"/v1/jobs/{run_id}", headers=FULL), 404) == "Job run not found"
    assert (await run(http, s.OTHER_TEAM_RUN_ID, OTHER))["team_id"] == s.OTHER_TEAM_ID
    bad = await http.get("/v1/jobs/not-a-uuid", headers=FULL)
    assert bad.status_code == 500 and 'invalid input syntax for type uuid: "not-a-uuid"' in bad.json()["message"]


async def test_seeded_runs(http: httpx.AsyncClient) -> None:
    completed = await run(http, s.COMPLETED_RUN_ID)
    assert completed["progress"]["processed"] == completed["progress"]["total"] == 2140
    assert completed["result"]["total"] == 2140 and completed["error"] is None
    assert completed["triggered_by"] == f"manual:user:{s.OWNER_USER_ID}"
    failed = await run(http, s.FAILED_RUN_ID)
    assert failed["status"] == "failed" and failed["error"] == "RevenueCat integration not found or disabled"
    assert failed["progress"] is None and failed["result"] is None and failed["notify"] is True
    midway = await run(http, s.FAILED_MIDWAY_RUN_ID)
    assert midway["progress"]["processed"] == 1930 and midway["progress"]["total"] == 4790
    assert "HTTP 503" in midway["error"]
    assert (await run(http, s.RESTARTED_RUN_ID))["error"] == "Server restarted during execution"
    aborted = await run(http, s.ABORTED_RUN_ID)
    assert aborted["status"] == "completed" and aborted["result"]["aborted"] is True
    assert "HTTP 401" in aborted["result"]["abort_reason"]
    cancelled = await run(http, s.CANCELLED_RUN_ID)
    assert cancelled["status"] == "cancelled" and cancelled["completed_at"] is not None
    assert cancelled["result"]["cancelled_at"] == cancelled["progress"]["processed"] > 0
    pending = await run(http, s.PENDING_RUN_ID)
    assert pending["status"] == "pending" and pending["started_at"] is None and pending["progress"] is None
    backfill = await run(http, s.BACKFILL_RUN_ID)
    assert backfill["progress"]["total"] == 0 and backfill["progress"]["processed"] > 0  # total unknown upfront
    assert "customer(s) listed" in backfill["progress"]["message"]


# --- trigger ----------------------------------------------------------------------------------------------------------


async def test_trigger_validation(http: httpx.AsyncClient) -> None:
    message = error(await trigger(http, {"job_type": "revenuecat_resync"}), 400)
    assert message == f"Invalid job_type. Must be one of: {', '.join(s.JOB_TYPES)}" and len(s.JOB_TYPES) == 18
    assert error(await trigger(http, {}), 400).startswith("Invalid job_type.")
    assert error(await trigger(http, {"job_type": 7}), 400).startswith("Invalid job_type.")
    system = await trigger(http, {"job_type": "revenuecat_sync", "project_id": s.PROJECT_IOS_ID})
    assert error(system, 400) == 'Cannot trigger system job "revenuecat_sync" via API'
    for job_type in ("revenuecat_user_backfill", "apple_ads_sync"):
        missing = await trigger(http, {"job_type": job_type, "project_id": ""})
        assert error(missing, 400) == "project_id is required for project-scoped jobs"
    for project_id in (s.OTHER_PROJECT_ID, "00000000-0000-4000-8000-000000000000"):
        other = await trigger(http, {"job_type": "apple_ads_sync", "project_id": project_id})
        assert error(other, 404) == "Project not found"


async def test_trigger_conflicts_name_the_existing_run(http: httpx.AsyncClient) -> None:
    for job_type, project_id, existing in (
        ("apple_ads_sync", s.PROJECT_IOS_ID, s.RUNNING_RUN_ID),
        ("revenuecat_user_backfill", s.PROJECT_ANDROID_ID, s.BACKFILL_RUN_ID),
    ):
        r = await trigger(http, {"job_type": job_type, "project_id": project_id})
        assert error(r, 409) == "A job of this type is already running or pending"
        assert r.json()["existing_run_id"] == existing


async def test_trigger_body_parsing_comes_before_auth(http: httpx.AsyncClient) -> None:
    bad_json = await http.post(TRIGGER, content=b"{job_type:", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["code"] == "FST_ERR_CTP_INVALID_JSON_BODY"
    empty = await http.post(TRIGGER, headers={"Content-Type": "application/json", **FULL})
    assert empty.status_code == 400 and empty.json()["code"] == "FST_ERR_CTP_EMPTY_JSON_BODY"
    assert error(await http.post(TRIGGER), 401) == "Missing authorization"  # no body: auth runs, then...
    no_body = await http.post(TRIGGER, headers=FULL)
    assert no_body.status_code == 500 and "as it is undefined" in no_body.json()["message"]
    null = await http.post(TRIGGER, content=b"null", headers={"Content-Type": "application/json", **FULL})
    assert null.status_code == 500 and "as it is null" in null.json()["message"]
    cancel = await http.post(f"/v1/jobs/{s.RUNNING_RUN_ID}/cancel", headers={"Content-Type": "application/json"})
    assert cancel.status_code == 400 and cancel.json()["code"] == "FST_ERR_CTP_EMPTY_JSON_BODY"


async def test_triggered_run_goes_pending_running_completed(http: httpx.AsyncClient, clock: Clock) -> None:
    body = {"job_type": "revenuecat_user_backfill", "project_id": s.PROJECT_IOS_ID, "params": {"note": "x"}}
    r = await trigger(http, body | {"notify": True})
    assert r.status_code == 201
    created = r.json()["job_run"]
    assert set(created) == RUN_FIELDS and created["status"] == "pending" and created["progress"] is None
    assert created["params"] == {"project_id": s.PROJECT_IOS_ID, "note": "x"} and created["notify"] is True
    assert created["triggered_by"] == f"manual:api_key:{FULL_KEY_ID}" and created["team_id"] == s.TEAM_ID
    assert created["created_at"] == "2026-11-23T12:00:00.000Z"
    again = await trigger(http, body)
    assert error(again, 409) == "A job of this type is already running or pending"
    assert again.json()["existing_run_id"] == created["id"]
    assert (await runs(http))[0]["id"] == created["id"]

    clock.advance(milliseconds=TRIGGER_WAIT_MS + 1)
    first = await run(http, created["id"])
    assert first["status"] == "running" and first["started_at"] == "2026-11-23T12:00:02.000Z"
    assert first["progress"]["message"] == "Starting RevenueCat customer backfill..."
    clock.advance(seconds=60)
    second = await run(http, created["id"])
    assert second["status"] == "running" and second["progress"]["processed"] > first["progress"]["processed"]
    clock.advance(minutes=10)
    done = await run(http, created["id"])
    assert done["status"] == "completed" and done["completed_at"] is not None and done["error"] is None
    assert done["progress"]["processed"] == 1284 and done["result"]["total_listed"] == 1284
    assert (await trigger(http, body)).status_code == 201  # nothing pending or running any more


async def test_progress_climbs_to_total_and_snaps(http: httpx.AsyncClient, clock: Clock) -> None:
    r = await trigger(http, {"job_type": "apple_ads_sync", "project_id": s.PROJECT_MAC_ID}, ADMIN)
    run_id = r.json()["job_run"]["id"]
    assert r.json()["job_run"]["triggered_by"] == f"manual:user:{s.ADMIN_USER_ID}"
    seen = []
    for _ in range(4):
        clock.advance(seconds=8)
        progress = (await run(http, run_id))["progress"]
        assert progress["total"] == 142
        seen.append(progress["processed"])
    assert seen == sorted(seen) and seen[0] < seen[-1] < 142
    clock.advance(minutes=2)
    done = await run(http, run_id)
    assert done["status"] == "completed" and done["progress"]["processed"] == 142
    assert done["result"]["examined"] == 142 and done["result"]["campaigns_upserted"] == 9


async def test_trigger_without_integration_fails(http: httpx.AsyncClient, clock: Clock) -> None:
    r = await trigger(http, {"job_type": "revenuecat_user_backfill", "project_id": s.PROJECT_WEB_ID})
    run_id = r.json()["job_run"]["id"]
    clock.advance(seconds=5)
    failed = await run(http, run_id)
    assert failed["status"] == "failed" and failed["error"] == "RevenueCat integration not found or disabled"
    assert failed["progress"] is None and failed["result"] is None and failed["completed_at"] is not None
    r = await trigger(http, {"job_type": "apple_ads_sync", "project_id": s.PROJECT_ANDROID_ID})
    clock.advance(seconds=5)
    assert (await run(http, r.json()["job_run"]["id"]))["error"] == "Apple Search Ads integration not found or disabled"


# --- cancel ----------------------------------------------------------------------------------------------------------


async def test_cancel_is_cooperative(http: httpx.AsyncClient, clock: Clock) -> None:
    r = await http.post(f"/v1/jobs/{s.RUNNING_RUN_ID}/cancel", headers=FULL)
    assert r.status_code == 200 and r.json() == {"cancelled": True}
    assert (await run(http, s.RUNNING_RUN_ID))["status"] == "running"  # it has not noticed yet
    assert (await http.post(f"/v1/jobs/{s.RUNNING_RUN_ID}/cancel", headers=FULL)).json() == {"cancelled": True}
    clock.advance(milliseconds=CANCEL_DELAY_MS)
    cancelled = await run(http, s.RUNNING_RUN_ID)
    assert cancelled["status"] == "cancelled" and cancelled["error"] is None
    assert cancelled["completed_at"] == "2026-11-23T12:00:02.000Z"
    assert 0 < cancelled["progress"]["processed"] < cancelled["progress"]["total"]  # partial, not snapped
    assert cancelled["result"]["cancelled_at"] == cancelled["progress"]["processed"]
    clock.advance(hours=5)
    assert (await run(http, s.RUNNING_RUN_ID))["status"] == "cancelled"
    again = await http.post(f"/v1/jobs/{s.RUNNING_RUN_ID}/cancel", headers=FULL)
    assert error(again, 400) == 'Cannot cancel a job with status "cancelled"'
    r = await trigger(http, {"job_type": "apple_ads_sync", "project_id": s.PROJECT_IOS_ID})
    assert r.status_code == 201  # the slot is free again


async def test_cancel_rules(http: httpx.AsyncClient, clock: Clock) -> None:
    for run_id, status in (
        (s.PENDING_RUN_ID, "pending"),
        (s.COMPLETED_RUN_ID, "completed"),
        (s.FAILED_RUN_ID, "failed"),
    ):
        r = await http.post(f"/v1/jobs/{run_id}/cancel", headers=FULL)
        assert error(r, 400) == f'Cannot cancel a job with status "{status}"'
    for run_id in (s.OTHER_TEAM_RUN_ID, "00000000-0000-4000-8000-000000000000"):
        assert error(await http.post(f"/v1/jobs/{run_id}/cancel", headers=FULL), 404) == "Job run not found"
    # as in the real route, a running system run (no team) is not hidden from cancel, though GET hides it
    r = await http.post(f"/v1/jobs/{s.SYSTEM_RUN_ID}/cancel", headers=FULL)
    assert r.status_code == 200 and r.json() == {"cancelled": True}
    clock.advance(minutes=5)
    pending = await run(http, s.PENDING_RUN_ID)
    assert pending["status"] == "running" and pending["progress"]["total"] == 3
    assert (await http.post(f"/v1/jobs/{s.PENDING_RUN_ID}/cancel", headers=FULL)).status_code == 200


async def test_the_clock_moves_everything(http: httpx.AsyncClient, clock: Clock) -> None:
    await runs(http)  # seeds the store, timed from the clock now
    clock.advance(hours=4)
    listed = {x["id"]: x for x in await runs(http)}
    assert {x["status"] for x in listed.values()} == {"completed", "failed", "cancelled"}
    assert listed[s.PENDING_RUN_ID]["status"] == "completed"
    assert listed[s.RUNNING_RUN_ID]["progress"] == {
        "processed": 4812,
        "total": 4812,
        "message": "Examined 4812, enriched 3464, 16 field errors",
    }


# --- routes, faults, persistence ---------------------------------------------------------------------------------


async def test_unknown_routes_are_fastify_404s(http: httpx.AsyncClient) -> None:
    for method, path in (("GET", "/v1/nope"), ("PUT", f"/v1/jobs/{s.RUNNING_RUN_ID}"), ("GET", f"{JOBS}/")):
        r = await http.request(method, path)
        assert r.status_code == 404
        assert r.json() == {"message": f"Route {method}:{path} not found", "error": "Not Found", "statusCode": 404}


async def test_faults_use_the_error_body_and_drop_after_commits(http: httpx.AsyncClient, faults: FaultInjector) -> None:
    faults.add("GET", "/v1/jobs/*", status=503, retry_after=2, times=1)
    r = await http.get(f"/v1/jobs/{s.RUNNING_RUN_ID}", headers=FULL)
    assert r.status_code == 503 and r.headers["retry-after"] == "2" and set(r.json()) == {"error"}
    assert (await http.get("/_sandbox/hits", params={"path": "/v1/jobs/*"})).json() == {"hits": 1}
    faults.add("POST", "/v1/teams/*/jobs/trigger", drop="after", times=1)
    body = {"job_type": "revenuecat_user_backfill", "project_id": s.PROJECT_IOS_ID}
    with pytest.raises(ConnectionDropped):
        await trigger(http, body)
    lost = await runs(http, job_type="revenuecat_user_backfill", status="pending")
    assert len(lost) == 1 and lost[0]["project_id"] == s.PROJECT_IOS_ID  # the write happened
    retry = await trigger(http, body)
    assert error(retry, 409) == "A job of this type is already running or pending"
    assert retry.json()["existing_run_id"] == lost[0]["id"]


async def test_file_store_survives_a_new_app_which_fails_stale_runs(tmp_path: Path, clock: Clock) -> None:
    db = str(tmp_path / "owlmetry.db")
    body = {"job_type": "revenuecat_user_backfill", "project_id": s.PROJECT_IOS_ID}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(create_app(db_path=db, now=clock)), base_url="http://sim"
    ) as http:
        new_id = (await trigger(http, body)).json()["job_run"]["id"]
        count = len(await runs(http))
    clock.advance(minutes=1)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(create_app(db_path=db, now=clock)), base_url="http://sim"
    ) as http:
        listed = {x["id"]: x for x in await runs(http)}
        assert len(listed) == count and new_id in listed  # kept, not seeded twice
        for run_id in (new_id, s.RUNNING_RUN_ID, s.PENDING_RUN_ID):
            assert listed[run_id]["status"] == "failed"
            assert listed[run_id]["error"] == "Server restarted during execution"
            assert listed[run_id]["completed_at"] == "2026-11-23T12:01:00.000Z"
        assert listed[s.COMPLETED_RUN_ID]["status"] == "completed"
        clock.advance(hours=5)
        assert (await run(http, new_id))["status"] == "failed"  # frozen: it never resumes
