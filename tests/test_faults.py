"""Faults injected into the simulator: each gives a clear ToolError, retried exactly as the policy says."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from support import Sandbox, text_of

pytestmark = pytest.mark.anyio

LIST = "/v2/job"


async def list_jobs(sandbox: Sandbox) -> Any:
    async with Client(sandbox.server) as c:
        return await c.call_tool("lytics_list_jobs", {})


@pytest.mark.parametrize(
    ("fault", "expected_hits", "words"),
    [
        ({"status": 429, "retry_after": 1}, 3, "rate limiting"),  # first try + 2 retries
        ({"status": 503}, 2, "server error"),  # first try + 1 retry
        ({"status": 500, "body": "html"}, 2, "HTML page"),
        ({"status": 200, "body": "malformed"}, 1, "malformed JSON"),
        ({"drop": True}, 2, "dropped"),  # first try + 1 read on a fresh connection
        ({"status": 400}, 1, "failed (HTTP 400"),
        ({"status": 403}, 1, "lacks permission"),
    ],
)
async def test_persistent_fault_gives_clear_error(fault: dict[str, Any], expected_hits: int, words: str) -> None:
    sandbox = Sandbox()
    sandbox.faults.add("GET", LIST, **fault)
    result = await list_jobs(sandbox)
    assert result.is_error
    assert words in text_of(result)
    assert sandbox.hits("GET", LIST) == expected_hits


@pytest.mark.parametrize("fault", [{"status": 429, "retry_after": 1}, {"status": 502}, {"drop": True}])
async def test_transient_read_fault_is_retried_then_succeeds(fault: dict[str, Any]) -> None:
    sandbox = Sandbox()
    sandbox.faults.add("GET", LIST, times=1, **fault)
    result = await list_jobs(sandbox)
    assert not result.is_error, text_of(result)
    assert sandbox.hits("GET", LIST) == 2


async def test_a_write_whose_connection_dropped_is_never_resent() -> None:
    sandbox = Sandbox()
    sandbox.faults.add("POST", "/v2/job/*", drop="before", times=1)
    async with Client(sandbox.server) as c:
        jobs = (await c.call_tool("lytics_list_jobs", {})).structured_content["jobs"]  # type: ignore[index]
        running = next(j["id"] for j in jobs if j["status"] == "running")
        proposal = await c.call_tool("lytics_pause_job", {"job_id": running})
        cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
        await c.call_tool("confirm_action", {"confirmation_id": cid})
    assert sandbox.hits("POST", "/v2/job/*") == 1


async def test_timeout_is_reported_and_not_retried() -> None:
    sandbox = Sandbox(timeout=0.2)
    sandbox.faults.add("GET", LIST, latency=2.0)
    result = await list_jobs(sandbox)
    assert result.is_error and "did not answer" in text_of(result)
    assert sandbox.hits("GET", LIST) == 1


async def test_rejected_token_names_the_account_not_the_token() -> None:
    sandbox = Sandbox(tokens={"some-other-token"})
    result = await list_jobs(sandbox)
    text = text_of(result)
    assert result.is_error and "HTTP 401" in text and "'sandbox'" in text
    assert "sandbox-token" not in text
