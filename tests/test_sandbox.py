"""The Lytics simulator on its own: routes, envelopes, job rules, seeded account, faults, the in-process
transport, and the app served by uvicorn over real HTTP."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn

from jobs_mcp.providers.lytics.simulator import (
    ACTIVE_AUTH_ID,
    BAD_CONFIG_JOB_ID,
    FACEBOOK_AUTH_ID,
    FACEBOOK_EXPORT_ID,
    FACEBOOK_LOG_COUNT,
    FAILED_JOB_ID,
    HEALTHY_EXPORT_ID,
    HIDDEN_JOB_ID,
    KILLED_JOB_ID,
    PAUSED_JOB_ID,
    RATE_LIMITED_JOB_ID,
    STALE_JOB_ID,
    USER_EMAIL,
    build_account,
    create_app,
)
from jobs_mcp.sandbox import FaultInjector, SandboxTransport, parse_fault_spec
from support import Clock

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TOKEN = "sandbox-test-token"
ACCOUNT = build_account(NOW)
STATUS = {j.doc["id"]: j.doc["status"] for j in ACCOUNT.jobs}
HOOK = {"webhook_url": "https://hooks.example.com/x"}  # the one config field webhook_triggers requires
ALL_STATUSES = {"running", "sleeping", "paused", "pausing", "initializing", "failed", "completed", "deleted"}
ALL_STATUSES |= {"deleting", "unknown", "fault-1", "fault-3", "fault-7"}


def job_with(status: str) -> str:
    return str(next(j for j, s in STATUS.items() if s == status))


@pytest.fixture
def app(clock: Clock, faults: FaultInjector) -> Any:
    return create_app(now=clock, faults=faults)


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=SandboxTransport(app), base_url="http://lytics.sandbox", headers={"Authorization": TOKEN}
    ) as client:
        yield client


async def data(call: Awaitable[httpx.Response]) -> Any:
    """The payload of a v2 success envelope (checking the envelope on the way)."""
    response = await call
    assert response.status_code in (200, 201), response.text
    body = response.json()
    assert set(body) == {"data", "status", "message", "request_id", "_meta"} and body["status"] == response.status_code
    return body["data"]


def error(response: httpx.Response, status: int, code: str) -> str:
    """Checks the v2 error envelope and returns its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errors", "status", "request_id"} and body["status"] == status
    (err,) = body["errors"]
    assert set(err) == {"code", "level", "message", "timestamp"} and err["level"] == "error"
    assert err["code"] == code, err
    return str(err["message"])


# --- auth and envelopes --------------------------------------------------------------------------------------


async def test_auth_missing_or_rejected_token_gets_the_older_401() -> None:
    app = create_app(tokens={TOKEN})
    async with httpx.AsyncClient(transport=SandboxTransport(app), base_url="http://x") as client:
        for headers in ({}, {"Authorization": "wrong"}, {"Authorization": f"Bearer {TOKEN}"}):
            response = await client.get("/v2/job", headers=headers)
            assert response.status_code == 401
            assert response.json() == {"data": None, "message": "Not authorized", "status": 401}
        assert (await client.get("/v2/job", headers={"Authorization": TOKEN})).status_code == 200
        assert (await client.get("/api/workflow", params={"access_token": TOKEN})).status_code == 200
        assert (await client.get("/_sandbox/hits")).json() == {"hits": 5}  # refused ones count; no token needed


async def test_any_token_when_none_configured(http: httpx.AsyncClient) -> None:
    assert (await http.get("/v2/job", headers={"Authorization": "anything"})).status_code == 200
    assert (await http.get("/v2/job", headers={"Authorization": ""})).status_code == 401


async def test_unknown_route_and_wrong_method(http: httpx.AsyncClient) -> None:
    assert "/v2/nothing" in error(await http.get("/v2/nothing"), 404, "NOTFOUND-003")
    error(await http.delete("/v2/job"), 405, "BADREQ-001")
    error(await http.post(f"/v2/job/{HEALTHY_EXPORT_ID}/explode"), 404, "NOTFOUND-003")


# --- the seeded account ----------------------------------------------------------------------------------------


def test_seed_is_deterministic_and_covers_every_status() -> None:
    again = build_account(NOW)
    assert [j.doc for j in again.jobs] == [j.doc for j in ACCOUNT.jobs]
    assert list(again.job(STALE_JOB_ID).logs()) == list(ACCOUNT.job(STALE_JOB_ID).logs())
    assert len(ACCOUNT.jobs) >= 30 and set(STATUS.values()) >= ALL_STATUSES
    assert any(j.doc["hidden"] for j in ACCOUNT.jobs) and len(ACCOUNT.workflows) >= 6
    for job in ACCOUNT.jobs:
        assert re.fullmatch(r"[0-9a-f]{32}", job.doc["id"])
        assert job.doc["created"] <= job.doc["updated"] <= "2026-11-23T12:00:00Z"
        if not job.lazy:
            log = list(job.logs())
            assert log[0]["timestamp"] == job.doc["created"] and "created" in log[0]["message"]
            stamps = [e["timestamp"] for e in log]
            assert stamps == sorted(stamps) and stamps[-1] <= "2026-11-23T12:00:00Z"


async def test_catalogue_reads(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/workflow")
    body = response.json()
    assert set(body) == {"data", "message", "status"} and body["message"] == "success"
    workflows = {w["id"]: w for w in body["data"]}
    assert {"facebook_audience_populate", "s3_import", "webhook_triggers"} <= set(workflows)
    assert workflows["s3_import"]["requires_auth"] and not workflows["webhook_triggers"]["requires_auth"]
    auths = {a["id"]: a for a in await data(http.get("/v2/auth"))}
    assert auths[FACEBOOK_AUTH_ID]["status"] == "expired" and auths[ACTIVE_AUTH_ID]["status"] == "active"
    fb = await data(http.get(f"/v2/job/{FACEBOOK_EXPORT_ID}"))
    assert fb["auth_ids"] == [FACEBOOK_AUTH_ID] and fb["status"] == "fault-7"
    streams = {s["stream"]: s for s in await data(http.get("/v2/stream"))}
    silence = {name: NOW - datetime.fromisoformat(s["last_msg_ts"]) for name, s in streams.items()}
    assert min(silence.values()) < timedelta(minutes=5) and max(silence.values()) > timedelta(days=2)
    fields = await data(http.get("/v2/schema/user/field"))
    assert sum(f["is_pii"] for f in fields) >= 3 and any(f["is_identity"] for f in fields)
    quota = await data(http.get("/v2/control/eventquota/thresholds"))
    assert quota["used"] / quota["limit"] == pytest.approx(0.93) and quota["period"] == "monthly"


# --- listing ---------------------------------------------------------------------------------------------------


def expected(**flags: bool) -> set[str]:
    """The documented visibility rules, written out independently of the simulator's code."""
    out = set()
    for job in ACCOUNT.jobs:
        doc = job.doc
        deleted = doc["status"] in ("deleted", "deleting")
        if flags.get("show_all") or (
            (not deleted or (flags.get("show_deleted") and flags.get("show_completed")))
            and (doc["status"] != "completed" or flags.get("show_completed"))
            and (not doc["hidden"] or flags.get("show_hidden"))
        ):
            out.add(doc["id"])
    return out


@pytest.mark.parametrize(
    "flags",
    [
        {},
        {"show_completed": True},
        {"show_hidden": True},
        {"show_deleted": True},  # alone it shows nothing more (the documented quirk)
        {"show_deleted": True, "show_completed": True},
        {"show_all": True},
    ],
)
async def test_list_visibility(http: httpx.AsyncClient, flags: dict[str, bool]) -> None:
    jobs = await data(http.get("/v2/job", params={k: str(v).lower() for k, v in flags.items()}))
    assert {j["id"] for j in jobs} == expected(**flags)


async def test_default_list_hides_completed_deleted_and_hidden_only(http: httpx.AsyncClient) -> None:
    statuses = {j["status"] for j in await data(http.get("/v2/job"))}
    assert not statuses & {"completed", "deleted", "deleting"}
    assert {"failed", "fault-1", "fault-3", "fault-7", "paused", "unknown"} <= statuses
    assert HIDDEN_JOB_ID not in {j["id"] for j in await data(http.get("/v2/job"))}
    all_ids = {j["id"] for j in await data(http.get("/v2/job", params={"show_all": "1"}))}
    assert len(all_ids) == len(ACCOUNT.jobs)


async def test_list_filters(http: httpx.AsyncClient) -> None:
    for slug in ("facebook-audience-populate", "facebook_audience_populate"):
        jobs = await data(http.get("/v2/job", params={"workflow": slug}))
        assert jobs and {j["workflow"] for j in jobs} == {"facebook_audience_populate"}
    assert await data(http.get("/v2/job", params={"workflow": "no_such_flow"})) == []
    by_auth = await data(http.get("/v2/job", params={"auth_ids": f"{FACEBOOK_AUTH_ID},{ACTIVE_AUTH_ID}"}))
    repeated = await data(http.get("/v2/job", params=[("auth_ids", FACEBOOK_AUTH_ID), ("auth_ids", ACTIVE_AUTH_ID)]))
    assert by_auth == repeated and FACEBOOK_EXPORT_ID in {j["id"] for j in by_auth}
    assert all({FACEBOOK_AUTH_ID, ACTIVE_AUTH_ID} & set(j["auth_ids"]) for j in by_auth)
    error(await http.get("/v2/job", params={"show_all": "maybe"}), 400, "BADREQ-001")


async def test_show_state_only_on_the_list(http: httpx.AsyncClient) -> None:
    plain = await data(http.get("/v2/job"))
    assert not {"state", "last_run", "sleep_until"} & set(plain[0])
    stated = {j["id"]: j for j in await data(http.get("/v2/job", params={"show_state": "true"}))}
    assert {"state", "last_run", "sleep_until"} <= set(stated[FACEBOOK_EXPORT_ID])
    assert stated[FACEBOOK_EXPORT_ID]["state"]["consecutive_errors"] == 7
    assert stated[FACEBOOK_EXPORT_ID]["sleep_until"] > "2026-11-23T12:00:00Z"
    single = await data(http.get(f"/v2/job/{FACEBOOK_EXPORT_ID}", params={"show_state": "true"}))
    assert "sleep_until" not in single and "state" not in single


# --- one job -----------------------------------------------------------------------------------------------------


async def test_get_by_id_and_by_workflow(http: httpx.AsyncClient) -> None:
    job = await data(http.get(f"/v2/job/{FACEBOOK_EXPORT_ID}"))
    assert job == ACCOUNT.job(FACEBOOK_EXPORT_ID).doc
    for slug in ("facebook-audience-populate", "facebook_audience_populate"):
        assert await data(http.get(f"/v2/job/{slug}/{FACEBOOK_EXPORT_ID}")) == job
    error(await http.get(f"/v2/job/s3-import/{FACEBOOK_EXPORT_ID}"), 404, "JOB-NOTFOUND-004")
    error(await http.get(f"/v2/job/no-such-flow/{FACEBOOK_EXPORT_ID}"), 404, "WF-NOTFOUND-005")
    assert "0" * 32 in error(await http.get(f"/v2/job/{'0' * 32}"), 404, "JOB-NOTFOUND-004")
    killed = await data(http.get(f"/v2/job/{KILLED_JOB_ID}"))
    assert killed["deleted"] is True and killed["status"] == "deleted"


# --- create and update ---------------------------------------------------------------------------------------------


async def test_create_starts_the_job(http: httpx.AsyncClient) -> None:
    body = {"name": "Nightly orders", "workflow": "s3_import", "config": {"bucket": "b"}, "auth_ids": [ACTIVE_AUTH_ID]}
    response = await http.post("/v2/job", json=body)
    assert response.status_code == 201
    job = response.json()["data"]
    assert re.fullmatch(r"[0-9a-f]{32}", job["id"]) and job["status"] == "initializing"
    assert job["created"] == job["updated"] == "2026-11-23T12:00:00Z" and job["workflow"] == "s3_import"
    assert (await data(http.get(f"/v2/job/{job['id']}")))["status"] == "running"
    log = await data(http.get(f"/v2/job/{job['id']}/logs"))
    assert [e["context"] for e in log] == [{"user_email": USER_EMAIL}]


async def test_create_on_workflow_path_and_not_running(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v2/job/webhook-triggers", params={"run_job": "false"}, json={"name": "h", "config": HOOK}
    )
    job = response.json()["data"]
    assert response.status_code == 201 and job["workflow"] == "webhook_triggers" and job["status"] == "paused"
    assert job["auth_ids"] == []  # webhooks need no auth provider


@pytest.mark.parametrize(
    ("path", "body", "code", "words"),
    [
        ("/v2/job", {"name": "x", "workflow": "no_such_flow", "config": {}}, "WF-NOTFOUND-005", "no_such_flow"),
        ("/v2/job/no-such-flow", {"name": "x", "config": {}}, "WF-NOTFOUND-005", "no_such_flow"),
        ("/v2/job/s3-import", {"name": "x", "config": {}, "auth_ids": ["f" * 32]}, "AUTH-NOTFOUND-006", "f" * 32),
        ("/v2/job/s3-import", {"name": "x", "config": {}}, "AUTH-NOTFOUND-006", "requires an auth"),
        ("/v2/job/webhook-triggers", {"config": {}}, "JOB-BADREQ-002", "name"),
        ("/v2/job/webhook-triggers", {"name": "x"}, "JOB-BADREQ-002", "config"),
        (
            "/v2/job/webhook-triggers",
            {"name": "x", "config": {}, "quiet_time_of_day": "25:00"},
            "JOB-BADREQ-002",
            "quiet",
        ),
        (
            "/v2/job/webhook-triggers",
            {"name": "x", "config": {}, "quiet_timezone": "Mars/Base"},
            "JOB-BADREQ-002",
            "zone",
        ),
        ("/v2/job", {"name": "x", "config": {}}, "JOB-BADREQ-002", "workflow"),
        ("/v2/job/webhook-triggers", {"name": "x", "config": {}}, "JOB-BADREQ-002", "missing required field"),
        ("/v2/job/webhook-triggers", {"name": "x", "config": HOOK | {"url": "u"}}, "JOB-BADREQ-002", "unknown field"),
        ("/v2/job/webhook-triggers", {"name": "x", "config": HOOK | {"trigger": "on"}}, "JOB-BADREQ-002", "one of"),
        ("/v2/job/webhook-triggers", {"name": "x", "config": {"webhook_url": 7}}, "JOB-BADREQ-002", "type string"),
    ],
)
async def test_create_refusals(http: httpx.AsyncClient, path: str, body: Any, code: str, words: str) -> None:
    assert words in error(await http.post(path, json=body), 400, code)
    assert (await http.post(path, content=b"{not json")).json()["errors"][0]["code"] == "JSON-BADREQ-025"


async def test_a_workflow_serves_its_config_fields_and_the_list_does_not(http: httpx.AsyncClient) -> None:
    listed = (await http.get("/api/workflow")).json()["data"]  # the v1 envelope: {data, message, status}
    assert listed and all("fields" not in w for w in listed)
    one = (await http.get("/api/workflow/google-ads-customer-match")).json()["data"]
    fields = {f["name"]: f for f in one["fields"]}
    assert fields["segment_id"]["required"] is True and fields["segment_id"]["type"] == "string"
    assert fields["upload_key_type"]["options"] == ["CONTACT_INFO", "CRM_ID", "MOBILE_ADVERTISER_ID"]
    error(await http.get("/api/workflow/no-such-flow"), 404, "WF-NOTFOUND-005")


async def test_put_replaces_the_whole_job(http: httpx.AsyncClient, clock: Clock) -> None:
    before = await data(http.get(f"/v2/job/{HEALTHY_EXPORT_ID}"))
    assert before["quiet_timezone"] and before["tag"]
    clock.now = NOW + timedelta(minutes=5)
    config = {"list_id": "new", "segment_id": "s"}
    body = {"name": "Renamed", "config": config, "auth_ids": before["auth_ids"], "description": "d"}
    after = await data(http.put(f"/v2/job/mailchimp-sync/{HEALTHY_EXPORT_ID}", json=body))
    assert after["config"] == config and after["name"] == "Renamed" and after["description"] == "d"
    assert after["quiet_timezone"] == "" and after["quiet_time_of_day"] == "" and after["quiet_period"] == 0
    assert after["tag"] == "" and after["hidden"] is False and after["expires_at"] is None
    assert after["updated"] == "2026-11-23T12:05:00Z" and after["status"] == before["status"]
    assert await data(http.get(f"/v2/job/{HEALTHY_EXPORT_ID}")) == after


async def test_put_monitoring_kept_when_left_out_cleared_by_null(http: httpx.AsyncClient) -> None:
    path = f"/v2/job/mailchimp_sync/{HEALTHY_EXPORT_ID}"
    base = {"name": "n", "config": {"list_id": "l", "segment_id": "s"}}
    base["auth_ids"] = ACCOUNT.job(HEALTHY_EXPORT_ID).doc["auth_ids"]
    assert (await data(http.put(path, json=base | {"monitoring": {"alert": True}})))["monitoring"] == {"alert": True}
    assert (await data(http.put(path, json=base)))["monitoring"] == {"alert": True}
    assert (await data(http.put(path, json=base | {"monitoring": None})))["monitoring"] is None


async def test_put_refusals(http: httpx.AsyncClient) -> None:
    auth = ACCOUNT.job(HEALTHY_EXPORT_ID).doc["auth_ids"]
    path = f"/v2/job/mailchimp-sync/{HEALTHY_EXPORT_ID}"
    error(await http.put(path, json={"config": {}, "auth_ids": auth}), 400, "JOB-BADREQ-002")
    error(await http.put(path, json={"name": "n", "auth_ids": auth}), 400, "JOB-BADREQ-002")
    error(await http.put(path, json={"name": "n", "config": {}}), 400, "AUTH-NOTFOUND-006")  # auth_ids reset too
    error(
        await http.put(f"/v2/job/s3-import/{HEALTHY_EXPORT_ID}", json={"name": "n", "config": {}}),
        404,
        "JOB-NOTFOUND-004",
    )
    killed = f"/v2/job/facebook-audience-populate/{KILLED_JOB_ID}"
    assert "deleted" in error(await http.put(killed, json={"name": "n", "config": {}}), 400, "JOB-BADREQ-002")


# --- lifecycle ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        ("running", "pause", "paused"),
        ("sleeping", "pause", "paused"),
        ("initializing", "pause", "paused"),
        ("fault-7", "pause", "paused"),
        ("paused", "resume", "running"),
        ("failed", "resume", "running"),
        ("fault-3", "bounce", "running"),
        ("running", "bounce", "running"),
        ("sleeping", "bounce", "running"),
        ("running", "kill", "deleted"),
        ("completed", "kill", "deleted"),
        ("failed", "release", "failed"),
        ("running", "release", "running"),
    ],
)
async def test_allowed_transitions(http: httpx.AsyncClient, clock: Clock, status: str, action: str, after: str) -> None:
    job_id = job_with(status)
    before = await data(http.get(f"/v2/job/{job_id}"))
    clock.now = NOW + timedelta(minutes=1)
    job = await data(http.post(f"/v2/job/{job_id}/{action}"))
    assert job["status"] == after and job["updated"] == before["updated"]  # lifecycle never moves `updated`
    assert job["deleted"] is (action == "kill")
    if action == "release":
        assert job == before
    last = (await data(http.get(f"/v2/job/{job_id}/logs")))[-1]
    assert last["level"] == "info" and last["context"] == {"user_email": USER_EMAIL} and last["code"] == ""
    assert last["timestamp"] == "2026-11-23T12:01:00Z"


@pytest.mark.parametrize(
    ("status", "action", "words"),
    [
        ("paused", "pause", "already paused"),
        ("completed", "pause", "completed"),
        ("failed", "pause", "failed"),
        ("deleted", "pause", "deleted"),
        ("running", "resume", "running"),
        ("fault-1", "resume", "fault-1"),
        ("paused", "bounce", "paused"),
        ("completed", "bounce", "completed"),
        ("deleted", "bounce", "deleted"),
        ("deleted", "kill", "already deleted"),
        ("deleting", "kill", "deleting"),
        ("deleted", "release", "deleted"),
    ],
)
async def test_refused_transitions(http: httpx.AsyncClient, status: str, action: str, words: str) -> None:
    job_id = job_with(status)
    assert words in error(await http.post(f"/v2/job/{job_id}/{action}"), 400, "JOB-BADREQ-002")
    assert (await data(http.get(f"/v2/job/{job_id}")))["status"] == status


async def test_kill_is_a_soft_delete_and_bounce_resets_faults(http: httpx.AsyncClient) -> None:
    await data(http.post(f"/v2/job/{FACEBOOK_EXPORT_ID}/kill"))
    assert FACEBOOK_EXPORT_ID not in {j["id"] for j in await data(http.get("/v2/job"))}
    assert FACEBOOK_EXPORT_ID in {j["id"] for j in await data(http.get("/v2/job", params={"show_all": "true"}))}
    error(await http.post(f"/v2/job/{FACEBOOK_EXPORT_ID}/resume"), 400, "JOB-BADREQ-002")  # no undelete
    await data(http.post(f"/v2/job/{RATE_LIMITED_JOB_ID}/bounce"))
    stated = {j["id"]: j for j in await data(http.get("/v2/job", params={"show_state": "true"}))}
    assert stated[RATE_LIMITED_JOB_ID]["state"]["consecutive_errors"] == 0
    error(await http.post(f"/v2/job/{'0' * 32}/pause"), 404, "JOB-NOTFOUND-004")


# --- logs -------------------------------------------------------------------------------------------------------


async def test_job_logs_shape_and_order(http: httpx.AsyncClient) -> None:
    log = await data(http.get(f"/v2/job/mailchimp-sync/{HEALTHY_EXPORT_ID}/logs", params={"include_errors": "true"}))
    created = ACCOUNT.job(HEALTHY_EXPORT_ID).doc["created"]
    assert [e["timestamp"] for e in log] == sorted(e["timestamp"] for e in log) and log[0]["timestamp"] >= created
    assert all(set(e) == {"job_id", "context", "code", "message", "level", "timestamp"} for e in log)
    runs = [e for e in log if "added" in e["context"]]
    assert len(runs) > 1000 and all(
        isinstance(e["context"][k], int) for e in runs for k in ("added", "omitted", "removed")
    )
    assert all(e["code"] == "" and e["level"] == "info" for e in runs)
    assert NOW - datetime.fromisoformat(log[-1]["timestamp"]) < timedelta(minutes=5)  # busy up to now
    error(await http.get(f"/v2/job/{'0' * 32}/logs"), 404, "JOB-NOTFOUND-004")


async def test_the_broken_facebook_export_log_is_huge_lazy_and_deterministic(app: Any, http: httpx.AsyncClient) -> None:
    await data(http.get("/v2/job"))
    store = app.state.store
    assert store.count_logs() > 1000 and store.count_logs(FACEBOOK_EXPORT_ID) == 0  # not inserted until needed
    log = await data(http.get(f"/v2/job/{FACEBOOK_EXPORT_ID}/logs"))
    assert len(log) == FACEBOOK_LOG_COUNT >= 10_000 and log == list(ACCOUNT.job(FACEBOOK_EXPORT_ID).logs())
    recent = [e for e in log if e["timestamp"] >= "2026-11-22T00:00:00Z"]  # the last 36 h
    codes = {e["code"] for e in recent if e["level"] == "error"}
    assert codes == {"UNAUTHORIZED-017", "JOB-FAULT-022"} and any(e["level"] == "warn" for e in recent)
    assert sum(e["code"] == "UNAUTHORIZED-017" for e in log) >= 300
    assert all(e["level"] == "info" or e["level"] == "warn" for e in log if e["timestamp"] < "2026-11-21T23:00:00Z")


async def test_other_problem_jobs(http: httpx.AsyncClient) -> None:
    def codes(log: list[dict[str, Any]], level: str) -> set[str]:
        return {e["code"] for e in log if e["level"] == level}

    limited = await data(http.get(f"/v2/job/{RATE_LIMITED_JOB_ID}/logs"))
    assert "RATELIMIT-429" in codes(limited, "error") and codes(limited, "warn")
    broken = await data(http.get(f"/v2/job/{BAD_CONFIG_JOB_ID}/logs"))
    assert {"JOB-BADREQ-002", "BADREQ-001"} <= codes(broken, "error")
    failed = await data(http.get(f"/v2/job/{FAILED_JOB_ID}/logs"))
    assert failed[-1]["level"] == "error" and NOW - datetime.fromisoformat(failed[-1]["timestamp"]) < timedelta(hours=1)
    stale = await data(http.get(f"/v2/job/{STALE_JOB_ID}/logs"))
    silence = NOW - datetime.fromisoformat(stale[-1]["timestamp"])
    assert STATUS[STALE_JOB_ID] == "running" and timedelta(hours=26) <= silence < timedelta(hours=27)
    paused = await data(http.get(f"/v2/job/{PAUSED_JOB_ID}/logs"))
    assert "paused" in paused[-1]["message"] and paused[-1]["context"] == {"user_email": USER_EMAIL}


async def test_account_logs_last_24h_without_killed_jobs(http: httpx.AsyncClient, clock: Clock) -> None:
    killed_recently = [e for e in ACCOUNT.job(KILLED_JOB_ID).logs() if e["timestamp"] >= "2026-11-22T12:00:00Z"]
    assert killed_recently  # the killed job did log in the window: leaving it out is a real test
    log = await data(http.get("/v2/job/logs"))
    stamps = [e["timestamp"] for e in log]
    assert stamps == sorted(stamps) and stamps[0] >= "2026-11-22T12:00:00Z"
    jobs = {e["job_id"] for e in log}
    assert KILLED_JOB_ID not in jobs and {HEALTHY_EXPORT_ID, FACEBOOK_EXPORT_ID} <= jobs and STALE_JOB_ID not in jobs
    await data(http.post(f"/v2/job/{HEALTHY_EXPORT_ID}/kill"))
    assert HEALTHY_EXPORT_ID not in {e["job_id"] for e in await data(http.get("/v2/job/logs"))}


async def test_state_survives_in_a_file(tmp_path: Any) -> None:
    path = str(tmp_path / "sandbox.db")
    for run in range(2):
        clock = Clock()
        clock.now = NOW + timedelta(days=run)  # a later start must not reseed
        app = create_app(db_path=path, now=clock)
        async with httpx.AsyncClient(
            transport=SandboxTransport(app), base_url="http://x", headers={"Authorization": "t"}
        ) as c:
            if run == 0:
                await data(c.post(f"/v2/job/{HEALTHY_EXPORT_ID}/pause"))
            job = await data(c.get(f"/v2/job/{HEALTHY_EXPORT_ID}"))
            assert job["status"] == "paused" and job["created"] == ACCOUNT.job(HEALTHY_EXPORT_ID).doc["created"]
            assert len(await data(c.get(f"/v2/job/{FACEBOOK_EXPORT_ID}/logs"))) == FACEBOOK_LOG_COUNT
        app.state.store.close()


# --- faults in process -----------------------------------------------------------------------------------------


async def test_status_fault_with_retry_after_for_n_times(http: httpx.AsyncClient, faults: FaultInjector) -> None:
    faults.add("GET", "/v2/job/*/logs", status=429, retry_after=1, times=2)
    for _ in range(2):
        response = await http.get(f"/v2/job/{STALE_JOB_ID}/logs")
        error(response, 429, "RATELIMIT-429")
        assert response.headers["Retry-After"] == "1"
    assert (await http.get(f"/v2/job/{STALE_JOB_ID}/logs")).status_code == 200
    assert (await http.get("/v2/job")).status_code == 200  # the glob did not match
    assert faults.hits("GET", "/v2/job/*/logs") == 3 and faults.hits() == 4 and faults.hits("POST") == 0
    faults.add("*", "/v2/*", status=503)
    error(await http.post(f"/v2/job/{STALE_JOB_ID}/pause"), 503, "INTERNAL-019")
    faults.clear()
    assert (await http.get("/v2/job")).status_code == 200
    faults.reset_hits()
    assert faults.hits() == 0


async def test_body_faults(http: httpx.AsyncClient, faults: FaultInjector) -> None:
    faults.add("GET", "/v2/job", body="malformed", times=1)
    faults.add("GET", "/v2/job", body="html", times=1)
    malformed = await http.get("/v2/job")
    assert malformed.status_code == 200 and malformed.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        malformed.json()
    html = await http.get("/v2/job")
    assert html.status_code == 502 and html.headers["content-type"].startswith("text/html") and "<html>" in html.text


async def test_latency_becomes_a_read_timeout(app: Any, faults: FaultInjector) -> None:
    faults.add("GET", "/v2/job", latency=5.0, times=1)
    faults.add("GET", "/v2/job", latency=0.05, times=1)
    async with httpx.AsyncClient(
        transport=SandboxTransport(app), base_url="http://x", headers={"Authorization": "t"}, timeout=0.3
    ) as client:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/v2/job")
        assert time.monotonic() - started < 2
        assert (await client.get("/v2/job")).status_code == 200  # slow but inside the limit
    assert faults.hits("GET", "/v2/job") == 2


async def test_dropped_connection_in_process(http: httpx.AsyncClient, faults: FaultInjector) -> None:
    faults.add("GET", "/v2/job", drop=True, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        await http.get("/v2/job")
    body = {"name": "Lost answer", "config": HOOK}
    faults.add("POST", "/v2/job/*", drop="after", times=1)  # handled, then the answer is cut: the job exists
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post("/v2/job/webhook-triggers", json=body)
    faults.add("POST", "/v2/job/*", drop="before", times=1)  # never handled: no second job
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post("/v2/job/webhook-triggers", json=body)
    names = [j["name"] for j in await data(http.get("/v2/job", params={"show_all": "true"}))]
    assert names.count("Lost answer") == 1


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({}, "does nothing"),
        ({"status": 42}, "HTTP status"),
        ({"status": 500, "times": 0}, "times"),
        ({"body": "xml"}, "body"),
        ({"drop": "sometimes"}, "drop"),
        ({"latency": -1}, "latency"),
    ],
)
def test_fault_injector_refuses_bad_faults(kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        FaultInjector().add("GET", "/v2/job", **kwargs)


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        (
            "GET /v2/job/*/logs:status=429,retry_after=1,times=2",
            ("GET", "/v2/job/*/logs", {"status": 429, "retry_after": 1.0, "times": 2}),
        ),
        ("post /v2/job/*:drop", ("POST", "/v2/job/*", {"drop": True})),
        ("POST /v2/job/*:drop=after,times=1", ("POST", "/v2/job/*", {"drop": "after", "times": 1})),
        ("* /v2/stream:latency=2.5", ("*", "/v2/stream", {"latency": 2.5})),
        ("GET /v2/job: body=html , status=503", ("GET", "/v2/job", {"body": "html", "status": 503})),
    ],
)
def test_parse_fault_spec(spec: str, parsed: tuple[str, str, dict[str, Any]]) -> None:
    assert parse_fault_spec(spec) == parsed
    FaultInjector().add(parsed[0], parsed[1], **parsed[2])


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("/v2/job:status=500", "METHOD"),
        ("GET v2/job:status=500", "start with /"),
        ("GET /v2/job:colour=red", "unknown key 'colour'"),
        ("GET /v2/job:status=abc", "status='abc'"),
        ("GET /v2/job:status", "needs a value"),
        ("GET /v2/job", "does nothing"),
        ("GET /v2/job:body=xml", "body"),
        ("G3T /v2/job:status=500", "method"),
    ],
)
def test_parse_fault_spec_errors(spec: str, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        parse_fault_spec(spec)


# --- over real HTTP ---------------------------------------------------------------------------------------------


@pytest.fixture
def served() -> Iterator[str]:
    """The simulator under uvicorn on a free loopback port, accepting only TOKEN; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(tokens={TOKEN}), host="127.0.0.1", port=port, log_level="critical")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = server.force_exit = True
    thread.join(5)


def test_over_real_http(served: str) -> None:
    with httpx.Client(base_url=served, timeout=5) as client:
        assert client.get("/v2/job").status_code == 401
        jobs = client.get("/v2/job", headers={"Authorization": TOKEN}).json()["data"]
        assert FACEBOOK_EXPORT_ID in {j["id"] for j in jobs}
        assert (
            client.post("/_sandbox/faults", json={"method": "GET", "path_glob": "/v2/job", "body": "xml"}).status_code
            == 400
        )
        added = client.post("/_sandbox/faults", json={"method": "GET", "path_glob": "/v2/job", "drop": True})
        assert added.status_code == 201 and added.json()["faults"][0]["drop"] is True
        assert client.post("/_sandbox/hits/reset").json() == {"hits": 0}
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/v2/job", headers={"Authorization": TOKEN})
        assert client.get("/_sandbox/hits", params={"method": "GET", "path": "/v2/job"}).json() == {"hits": 1}
        assert client.delete("/_sandbox/faults").json() == {"faults": []}
        assert client.get("/v2/job", headers={"Authorization": TOKEN}).status_code == 200
        client.post("/_sandbox/faults", json={"method": "GET", "path_glob": "/v2/auth", "latency": 1.0, "times": 1})
        with pytest.raises(httpx.ReadTimeout):
            client.get("/v2/auth", headers={"Authorization": TOKEN}, timeout=0.2)
        assert client.get("/_sandbox/hits").json() == {"hits": 3}  # the control routes are not counted
