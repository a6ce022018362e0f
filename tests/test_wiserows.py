"""WiseRows behaviour the shared suites cannot express: a failing job's logs through the shared digest (codes read
from the messages, exact counts, hints), the best-effort cancel's wording and its refusals, and the read key's 403."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from mcp import Client
from pydantic import SecretStr

from jobs_mcp.app import build_server
from jobs_mcp.config import Account
from jobs_mcp.providers.wiserows import seed as s
from jobs_mcp.providers.wiserows.vocabulary import log_code, version
from jobs_mcp.runtime import Runtime
from support import FAST, Sandbox, text_of

pytestmark = pytest.mark.anyio


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(provider="wiserows", confirm="token")


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[Client]:
    async with Client(sandbox.server) as c:
        yield c


def with_token(sandbox: Sandbox, token: str) -> Any:
    """A server on the sandbox's simulator whose account uses ``token`` (one of the seed's keys)."""
    account = Account(
        name="sandbox", provider="wiserows", url="http://wiserows.sandbox", token=SecretStr(token), sandbox=True
    )
    settings = sandbox.settings.model_copy(update={"accounts": (account,)})
    return build_server(settings, Runtime(settings, policy=FAST, sandbox_apps={"wiserows": sandbox.app}))


async def raw_job(sandbox: Sandbox, job_id: str) -> dict[str, Any]:
    transport = httpx.ASGITransport(sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://wiserows.sandbox") as http:
        r = await http.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {s.READ_TOKEN}"})
    return dict(r.json()["data"])


@pytest.mark.parametrize(
    ("message", "level", "code"),
    [
        ("Row 118/164 'Joshua Tree trail guide': Webflow API 401 Unauthorized: the access token was revoked", "error",
         "WEBFLOW_401_UNAUTHORIZED"),
        ("Row 3/300 'Alpine Down Jacket (Men's)': Shopify Admin API 401 Unauthorized: [API] Invalid API key", "error",
         "SHOPIFY_ADMIN_401_UNAUTHORIZED"),
        ("Chunk 32/40 'rows 7751-8000': Google Sheets API 400 INVALID_ARGUMENT: too many cells", "error",
         "GOOGLE_SHEETS_400_BADREQUEST"),
        ("Row 9/164 'Zion permit guide': Webflow API 429 Too Many Requests; retrying in 60 s", "warn",
         "WEBFLOW_429_RATELIMIT"),
        ("Page 4/220 '/blog/x': broken link: https://www.nps.gov/zion returned HTTP 404", "error",
         "HTTP_404_NOTFOUND"),
        ("Page 7/420 '/gear/y': model request timed out after 30 s; retrying (attempt 2 of 3)", "warn", "TIMEOUT"),
        ("Row 5/240 'Tarn Water Filter (Kids')': source column 'Features' is empty", "error", "ITEM"),
        ("Job failed after 3 min 8 s: 107 of 164 rows done, 11 failed", "error", "JOB"),
        ("Row 1/164 'Moab in winter': published (Webflow item 6512)", "info", ""),
    ],
)  # fmt: skip
def test_log_codes_come_from_the_message(message: str, level: str, code: str) -> None:
    assert log_code(message, level) == code


def test_stale_check_follows_the_status_class_not_progress() -> None:
    pending = {"status": "pending", "progress": {"total": 48, "completed": 0, "failed": 0}}
    running = {"status": "running", "progress": {"total": 48, "completed": 9, "failed": 1}}
    assert version(pending) == version(running)
    assert version(running) != version({"status": "completed"}) != version({"status": "failed"})


async def test_a_failing_jobs_log_is_digested_exactly(sandbox: Sandbox, client: Client) -> None:
    raw = await raw_job(sandbox, s.FAILED_JOB_ID)
    result = await client.call_tool("wiserows_get_job", {"job_id": s.FAILED_JOB_ID, "newest": 3})
    assert not result.is_error, text_of(result)
    out = result.structured_content
    digest = out["digest"]
    levels = Counter(e["level"] for e in raw["logs"])
    assert digest["entries"] == len(raw["logs"])
    assert (digest["levels"]["info"], digest["levels"]["warn"], digest["levels"]["error"]) == (
        levels["info"],
        levels["warn"],
        levels["error"],
    )
    errors = {g["code"]: g for g in digest["errors"]}
    revoked = errors["WEBFLOW_401_UNAUTHORIZED"]
    assert revoked["count"] == 1 and revoked["family"] == "auth" and "reconnect it in WiseRows" in revoked["hint"]
    assert errors["WEBFLOW_400_BADREQUEST"]["family"] == "bad_request" and errors["JOB"]["count"] == 1
    # every failed item logs one error, and the job's own failure one more
    assert sum(g["count"] for g in digest["errors"]) == raw["progress"]["failed"] + 1
    assert {g["code"] for g in digest["warnings"]} == {"WEBFLOW_429_RATELIMIT"}
    assert len(digest["newest"]) == 3 and digest["newest"][0]["code"] == "JOB"
    assert "logs" not in out["job"] and out["health"] == "failed"
    text = text_of(result)
    progress = raw["progress"]
    assert f"{progress['completed']} done, {progress['failed']} failed of {progress['total']}" in text
    assert "WEBFLOW_401_UNAUTHORIZED ×1 (auth)" in text and "run the job again in WiseRows" in text
    assert len(text) < 6000, "a digest, not the log"


async def test_other_failures_group_by_service_and_status(client: Client) -> None:
    ai = (await client.call_tool("wiserows_get_job", {"job_id": s.FAILED_AI_JOB_ID})).structured_content
    assert "OPENAI_429_RATELIMIT" in {g["code"] for g in ai["digest"]["errors"]}
    export = (await client.call_tool("wiserows_get_job", {"job_id": s.FAILED_EXPORT_JOB_ID})).structured_content
    assert "GOOGLE_SHEETS_400_BADREQUEST" in {g["code"] for g in export["digest"]["errors"]}
    links = (
        await client.call_tool("wiserows_get_job", {"job_id": s.COMPLETED_WITH_FAILURES_JOB_ID})
    ).structured_content
    broken = {g["code"]: g for g in links["digest"]["errors"]}["HTTP_404_NOTFOUND"]
    assert broken["count"] == 14 and broken["family"] == "not_found"


async def test_raw_log_entries_page_with_a_cursor(client: Client) -> None:
    first = (
        await client.call_tool("wiserows_get_job", {"job_id": s.FAILED_JOB_ID, "page_size": 50})
    ).structured_content
    page = first["digest"]["page"]
    assert len(page["entries"]) == 50 and page["next_cursor"]
    second = await client.call_tool(
        "wiserows_get_job", {"job_id": s.FAILED_JOB_ID, "page_size": 50, "cursor": page["next_cursor"]}
    )
    assert second.structured_content["digest"]["page"]["start"] == 50


async def test_cancel_is_best_effort_in_the_proposal_and_the_result(client: Client) -> None:
    proposal = await client.call_tool("wiserows_cancel_job", {"job_id": s.RUNNING_JOB_ID})
    assert not proposal.is_error, text_of(proposal)
    assert "logs" not in proposal.structured_content["target"], "the proposal carries the job, not its log"
    for text in (text_of(proposal), proposal.structured_content["risk"]["note"]):
        assert "step in progress" in text and "roll" in text
    done = await client.call_tool("confirm_action", {"confirmation_id": proposal.structured_content["confirmation_id"]})
    assert done.structured_content["status"] == "executed"
    assert "not rolled back" in text_of(done) and "status=cancelled" in text_of(done)


async def test_a_pending_job_may_be_cancelled_but_ended_ones_are_refused_before_proposing(
    sandbox: Sandbox, client: Client
) -> None:
    pending = await client.call_tool("wiserows_cancel_job", {"job_id": s.PENDING_JOB_ID})
    assert not pending.is_error and pending.structured_content["status"] == "proposed"
    for job_id, status in (
        (s.COMPLETED_JOB_ID, "completed"),
        (s.FAILED_JOB_ID, "failed"),
        (s.CANCELLED_JOB_ID, "cancelled"),
    ):
        refused = await client.call_tool("wiserows_cancel_job", {"job_id": job_id})
        assert refused.is_error and f"is {status}" in text_of(refused) and "pending or running" in text_of(refused)
    assert sandbox.hits("POST") == 0


async def test_a_read_key_reads_but_cannot_cancel(sandbox: Sandbox) -> None:
    async with Client(with_token(sandbox, s.READ_TOKEN)) as client:
        listed = await client.call_tool("wiserows_list_jobs", {"status": "running"})
        assert not listed.is_error, text_of(listed)
        proposal = await client.call_tool("wiserows_cancel_job", {"job_id": s.RUNNING_JOB_ID})
        done = await client.call_tool(
            "confirm_action", {"confirmation_id": proposal.structured_content["confirmation_id"]}
        )
    text = text_of(done)
    assert done.structured_content["status"] == "failed" and "HTTP 403" in text
    assert "'read' permission" in text and "write or admin key" in text and s.READ_TOKEN not in text
