"""OwlMetry behaviour the shared suites cannot express: a 409 explained as "already running", the cooperative
cancel's wording and its pending/ended refusals, system and project-scoped job types, permission 403s with the
sandbox's restricted tokens, a lost trigger answer looked up (never resent), and cursor paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from mcp import Client
from pydantic import SecretStr

from jobs_mcp.app import build_server
from jobs_mcp.config import Account
from jobs_mcp.errors import ApiError
from jobs_mcp.providers.owlmetry import PROVIDER
from jobs_mcp.providers.owlmetry import seed as s
from jobs_mcp.providers.owlmetry.vocabulary import TRIGGERABLE, version
from jobs_mcp.runtime import Runtime
from support import FAST, Sandbox, text_of

pytestmark = pytest.mark.anyio

TRIGGER_GLOB = "/v1/teams/*/jobs/trigger"


def with_token(sandbox: Sandbox, token: str) -> Any:
    """A server on the sandbox's simulator whose account uses ``token`` (one of the seed's credentials)."""
    account = Account(
        name="sandbox",
        provider="owlmetry",
        url="http://owlmetry.sandbox",
        token=SecretStr(token),
        extras={"team_id": s.TEAM_ID},
        sandbox=True,
    )
    settings = sandbox.settings.model_copy(update={"accounts": (account,)})
    return build_server(settings, Runtime(settings, policy=FAST, sandbox_apps={"owlmetry": sandbox.app}))


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(provider="owlmetry", confirm="token")


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[Client]:
    async with Client(sandbox.server) as c:
        yield c


async def direct_trigger(sandbox: Sandbox, body: dict[str, Any]) -> httpx.Response:
    """Someone else triggers a job (the dashboard, another agent) straight against the simulator."""
    transport = httpx.ASGITransport(sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://owlmetry.sandbox") as http:
        headers = {"Authorization": f"Bearer {s.FULL_TOKEN}"}
        return await http.post(f"/v1/teams/{s.TEAM_ID}/jobs/trigger", json=body, headers=headers)


def test_sandbox_team_is_the_seeded_team() -> None:
    assert PROVIDER.sandbox_extras["team_id"] == s.TEAM_ID


def test_stale_check_follows_the_status_class_not_progress() -> None:
    pending = {"status": "pending", "progress": None}
    running = {"status": "running", "progress": {"processed": 10, "total": 40}}
    assert version(pending) == version(running) == version(running | {"progress": {"processed": 30, "total": 40}})
    assert version(running) != version({"status": "cancelled"}) != version({"status": "failed"})


async def test_an_active_run_of_the_type_is_explained_before_proposing(sandbox: Sandbox, client: Client) -> None:
    result = await client.call_tool(
        "owlmetry_trigger_job", {"job_type": "apple_ads_sync", "project_id": s.PROJECT_IOS_ID}
    )
    assert result.is_error
    text = text_of(result)
    assert f"Already running: run {s.RUNNING_RUN_ID}" in text and "owlmetry_get_job_run" in text
    assert "nothing was proposed" in text and sandbox.hits("POST") == 0


async def test_a_run_that_starts_before_confirmation_makes_the_trigger_stale(sandbox: Sandbox, client: Client) -> None:
    args = {"job_type": "apple_ads_sync", "project_id": s.PROJECT_MAC_ID}
    proposal = await client.call_tool("owlmetry_trigger_job", args)
    assert not proposal.is_error, text_of(proposal)
    theirs = await direct_trigger(sandbox, args)  # another trigger lands while the person decides
    assert theirs.status_code == 201
    their_id = theirs.json()["job_run"]["id"]
    done = await client.call_tool("confirm_action", {"confirmation_id": proposal.structured_content["confirmation_id"]})
    text = text_of(done)
    assert done.is_error and "nothing was sent" in text
    assert f"Already running: run {their_id}" in text and "owlmetry_get_job_run" in text
    assert sandbox.hits("POST", TRIGGER_GLOB) == 1  # theirs only


async def test_a_409_names_the_existing_run_and_is_not_a_retry(sandbox: Sandbox, client: Client) -> None:
    """What a confirmation shows when another run starts between the gate's re-read and the trigger itself."""
    await client.call_tool("owlmetry_list_job_runs", {"limit": 1})  # the runtime's client for the account
    api = sandbox.runtime.client("owlmetry")
    with pytest.raises(ApiError) as caught:
        await api.request(
            "POST",
            f"/v1/teams/{s.TEAM_ID}/jobs/trigger",
            body={"job_type": "apple_ads_sync", "project_id": s.PROJECT_IOS_ID},
        )
    text = str(caught.value)
    assert caught.value.status == 409 and caught.value.code == "already_running"
    assert f"Already running: run {s.RUNNING_RUN_ID}" in text and "owlmetry_get_job_run" in text
    assert "not an error to retry" in text and "Try again" not in text


async def test_system_and_unknown_types_are_refused_with_the_triggerable_ones(sandbox: Sandbox, client: Client) -> None:
    for job_type in ("revenuecat_sync", "issue_scan", "made_up_sync"):
        result = await client.call_tool("owlmetry_trigger_job", {"job_type": job_type, "project_id": s.PROJECT_IOS_ID})
        assert result.is_error
        text = text_of(result)
        assert all(t in text for t in TRIGGERABLE) and "Nothing was proposed" in text, text
    assert "system job" in text_of(await client.call_tool("owlmetry_trigger_job", {"job_type": "revenuecat_sync"}))
    missing = await client.call_tool("owlmetry_trigger_job", {"job_type": "revenuecat_user_backfill"})
    assert missing.is_error and "project_id" in text_of(missing) and "one project" in text_of(missing)
    assert sandbox.hits() == 0  # refused before any call, the active-run lookup included


async def test_cancel_is_cooperative_in_the_proposal_and_the_result(sandbox: Sandbox, client: Client) -> None:
    proposal = await client.call_tool("owlmetry_cancel_job_run", {"run_id": s.RUNNING_RUN_ID})
    assert not proposal.is_error, text_of(proposal)
    assert "stops at its next check" in text_of(proposal)
    assert "next check" in proposal.structured_content["risk"]["note"]
    done = await client.call_tool("confirm_action", {"confirmation_id": proposal.structured_content["confirmation_id"]})
    assert done.structured_content["status"] == "executed"
    assert "stops at its next check" in text_of(done) and "now:" not in text_of(done)


async def test_pending_and_ended_runs_are_not_proposed_for_cancel(sandbox: Sandbox, client: Client) -> None:
    pending = await client.call_tool("owlmetry_cancel_job_run", {"run_id": s.PENDING_RUN_ID})
    assert pending.is_error
    assert "pending" in text_of(pending) and "only running runs" in text_of(pending)
    ended = await client.call_tool("owlmetry_cancel_job_run", {"run_id": s.COMPLETED_RUN_ID})
    assert ended.is_error and "already ended (completed)" in text_of(ended)
    assert sandbox.hits("POST") == 0


async def test_read_only_key_can_read_and_propose_but_not_write(sandbox: Sandbox) -> None:
    async with Client(with_token(sandbox, s.READ_ONLY_TOKEN)) as client:
        listed = await client.call_tool("owlmetry_list_job_runs", {"limit": 2})
        assert not listed.is_error, text_of(listed)
        proposal = await client.call_tool("owlmetry_cancel_job_run", {"run_id": s.RUNNING_RUN_ID})
        assert not proposal.is_error, text_of(proposal)
        done = await client.call_tool(
            "confirm_action", {"confirmation_id": proposal.structured_content["confirmation_id"]}
        )
    text = text_of(done)
    assert done.structured_content["status"] == "failed"
    assert "HTTP 403" in text and "Missing permission: jobs:write" in text and "agent keys" in text
    assert s.READ_ONLY_TOKEN not in text


async def test_a_key_without_jobs_read_and_a_member_user_are_explained(sandbox: Sandbox) -> None:
    async with Client(with_token(sandbox, s.CLIENT_TOKEN)) as client:
        denied = await client.call_tool("owlmetry_list_job_runs", {})
    assert denied.is_error and "Missing permission: jobs:read" in text_of(denied)
    async with Client(with_token(sandbox, s.MEMBER_USER_TOKEN)) as client:
        listed = await client.call_tool("owlmetry_list_job_runs", {})
        one = await client.call_tool("owlmetry_get_job_run", {"run_id": s.COMPLETED_RUN_ID})
    assert listed.is_error and "Requires admin role" in text_of(listed) and "below admin" in text_of(listed)
    assert not one.is_error, "a member may still read one run"


async def test_a_lost_trigger_answer_is_looked_up_not_resent(sandbox: Sandbox, client: Client) -> None:
    args = {"job_type": "revenuecat_user_backfill", "project_id": s.PROJECT_IOS_ID, "params": {"page_size": 50}}
    proposal = await client.call_tool("owlmetry_trigger_job", args)
    assert not proposal.is_error, text_of(proposal)
    sandbox.faults.add("POST", TRIGGER_GLOB, drop="after", times=1)
    done = await client.call_tool("confirm_action", {"confirmation_id": proposal.structured_content["confirmation_id"]})
    result = done.structured_content
    assert result["status"] == "executed", text_of(done)
    assert result["target"]["job_type"] == "revenuecat_user_backfill" and result["target"]["params"]["page_size"] == 50
    assert "Do not propose it again" in text_of(done)
    assert sandbox.hits("POST", TRIGGER_GLOB) == 1


async def test_a_lost_trigger_answer_with_nothing_found_is_unknown_never_failed(
    sandbox: Sandbox, client: Client
) -> None:
    proposal = await client.call_tool(
        "owlmetry_trigger_job", {"job_type": "apple_ads_sync", "project_id": s.PROJECT_MAC_ID}
    )
    sandbox.faults.add("POST", TRIGGER_GLOB, drop="before", times=1)
    done = await client.call_tool("confirm_action", {"confirmation_id": proposal.structured_content["confirmation_id"]})
    assert done.structured_content["status"] == "unknown" and "may still appear" in text_of(done)
    assert sandbox.hits("POST", TRIGGER_GLOB) == 1, "never sent twice"


async def test_cursor_pages_newest_first_without_overlap(client: Client) -> None:
    first = await client.call_tool("owlmetry_list_job_runs", {"limit": 4})
    page1 = first.structured_content
    assert page1["next_cursor"] and f'cursor="{page1["next_cursor"]}"' in text_of(first)
    second = await client.call_tool("owlmetry_list_job_runs", {"limit": 4, "cursor": page1["next_cursor"]})
    page2 = second.structured_content
    ids1, ids2 = [r["id"] for r in page1["runs"]], [r["id"] for r in page2["runs"]]
    assert len(ids2) == 4 and not set(ids1) & set(ids2)
    assert page1["runs"][-1]["created_at"] >= page2["runs"][0]["created_at"]


async def test_run_shows_progress_as_processed_of_total_and_percent(client: Client) -> None:
    failed = await client.call_tool("owlmetry_get_job_run", {"run_id": s.FAILED_MIDWAY_RUN_ID})
    assert "1,930/4,790 (40.3%)" in text_of(failed) and failed.structured_content["progress_percent"] == 40.3
    unknown = await client.call_tool("owlmetry_get_job_run", {"run_id": s.BACKFILL_RUN_ID})
    assert "total unknown" in text_of(unknown) and unknown.structured_content["progress_percent"] is None
    aborted = await client.call_tool("owlmetry_get_job_run", {"run_id": s.ABORTED_RUN_ID})
    assert "aborted early" in text_of(aborted) and "Invalid API key" in text_of(aborted)


async def test_ids_that_cannot_be_owlmetry_uuids_are_refused_before_any_call(sandbox: Sandbox, client: Client) -> None:
    result = await client.call_tool("owlmetry_get_job_run", {"run_id": "run-123"})
    assert result.is_error and "run_id" in text_of(result) and "UUID" in text_of(result)
    assert sandbox.hits() == 0
