"""Arroyo behaviour the shared suites cannot express: each stop mode's proposal and where it leads, and the
proposals Arroyo's own rules refuse (delete while a job runs, restart without state while running)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from mcp import Client

from jobs_mcp.app import build_server
from jobs_mcp.config import Settings, sandbox_account
from jobs_mcp.providers.arroyo import observe
from jobs_mcp.providers.arroyo.seed import FAILED_JOB_ID, FAILED_PIPELINE_ID, HEALTHY_PIPELINE_ID
from jobs_mcp.providers.arroyo.simulator import create_app
from jobs_mcp.runtime import Runtime
from jobs_mcp.sandbox import FaultInjector
from support import FAST, Clock, text_of

pytestmark = pytest.mark.anyio


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))


@pytest.fixture
async def client(clock: Clock, faults: FaultInjector, tmp_path: object) -> AsyncIterator[Client]:
    app = create_app(now=clock, faults=faults)
    settings = Settings(accounts=(sandbox_account("arroyo"),), confirm="token", audit_db=f"{tmp_path}/audit.db")
    server = build_server(settings, Runtime(settings, policy=FAST, sandbox_apps={"arroyo": app}))
    async with Client(server) as c:
        yield c


async def _states(client: Client, clock: Clock, seconds: int) -> list[str]:
    """The distinct job states arroyo_get_job shows while the simulator's clock moves on, second by second."""
    seen: list[str] = []
    for _ in range(seconds):
        result = await client.call_tool("arroyo_get_job", {"pipeline_id": HEALTHY_PIPELINE_ID})
        state = result.structured_content["job"]["state"]  # type: ignore[index]
        if not seen or seen[-1] != state:
            seen.append(state)
        clock.advance(1)
    return seen


STOP_MODES = [
    ("checkpoint", "Nothing is lost", "CheckpointStopping"),
    ("graceful", "processed again", "Stopping"),
    ("immediate", "are dropped", "Stopping"),
    ("force", "kills the workers", "Stopping"),
]


@pytest.mark.parametrize(("mode", "loss", "via"), STOP_MODES, ids=[m for m, _, _ in STOP_MODES])
async def test_stop_modes(client: Client, clock: Clock, faults: FaultInjector, mode: str, loss: str, via: str) -> None:
    proposal = await client.call_tool("arroyo_stop_pipeline", {"pipeline_id": HEALTHY_PIPELINE_ID, "mode": mode})
    text = text_of(proposal)
    assert not proposal.is_error, text
    assert f"with mode {mode}" in text and loss in text and f"Running → {via} → Stopped" in text
    assert f'body: {{"stop": "{mode}"}}' in text and faults.hits("PATCH") == 0
    cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
    done = await client.call_tool("confirm_action", {"confirmation_id": cid})
    assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]
    assert faults.hits("PATCH") == 1
    assert await _states(client, clock, 10) == ["Running", via, "Stopped"]
    again = await client.call_tool("arroyo_stop_pipeline", {"pipeline_id": HEALTHY_PIPELINE_ID, "mode": mode})
    assert again.is_error and "already Stopped" in text_of(again)
    start = await client.call_tool("arroyo_start_pipeline", {"pipeline_id": HEALTHY_PIPELINE_ID})
    assert not start.is_error and "resumes from its last checkpoint" in text_of(start)


async def test_delete_refused_while_a_job_runs(client: Client, faults: FaultInjector) -> None:
    result = await client.call_tool("arroyo_delete_pipeline", {"pipeline_id": HEALTHY_PIPELINE_ID})
    text = text_of(result)
    assert result.is_error and "is Running" in text and "arroyo_stop_pipeline" in text
    assert faults.hits("DELETE") == 0


async def test_restart_without_state_needs_a_stopped_job(client: Client, faults: FaultInjector) -> None:
    args = {"pipeline_id": HEALTHY_PIPELINE_ID, "ignore_state": True}
    result = await client.call_tool("arroyo_restart_pipeline", args)
    text = text_of(result)
    assert result.is_error and "stop the job first" in text and "arroyo_stop_pipeline" in text
    assert faults.hits("POST") == 0


@pytest.fixture
def small_error_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """50 errors per page, so the seeded failed job's error log (~300 errors) takes several requests."""
    monkeypatch.setattr(observe, "ERRORS_PAGE", 50)


ERRORS_ARGS = {"pipeline_id": FAILED_PIPELINE_ID, "job_id": FAILED_JOB_ID}


async def test_error_log_pages_are_digested_one_by_one(client: Client, small_error_pages: None) -> None:
    whole = (await client.call_tool("arroyo_get_job_errors", ERRORS_ARGS)).structured_content["digest"]  # type: ignore[index]
    assert whole["complete"] and whole["entries"] > 100  # more than two pages were read


async def test_an_error_page_that_fails_leaves_an_incomplete_digest(
    client: Client, faults: FaultInjector, small_error_pages: None
) -> None:
    faults.add(
        "GET", "/api/v1/pipelines/*/errors", status=500, skip=1, times=2
    )  # the second page fails, and so does its retry
    result = await client.call_tool("arroyo_get_job_errors", ERRORS_ARGS)
    digest = result.structured_content["digest"]  # type: ignore[index]
    assert (digest["entries"], digest["complete"]) == (50, False)
    assert digest["missing"].startswith("page 2 could not be read") and "HTTP 500" in digest["missing"]
    assert "INCOMPLETE: only 50 entries were read" in text_of(result)


async def test_the_error_log_is_read_up_to_a_bound_and_says_so(
    client: Client, small_error_pages: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(observe, "ERRORS_MAX_PAGES", 2)
    digest = (await client.call_tool("arroyo_get_job_errors", ERRORS_ARGS)).structured_content["digest"]  # type: ignore[index]
    assert (digest["entries"], digest["complete"]) == (100, False)
    assert digest["missing"] == "this server reads at most the newest 100 errors"
