"""Arroyo behaviour the shared suites cannot express: each stop mode's proposal and where it leads, and the
proposals Arroyo's own rules refuse (delete while a job runs, restart without state while running)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from mcp import Client

from jobs_mcp.app import build_server
from jobs_mcp.config import Settings, sandbox_account
from jobs_mcp.providers.arroyo.seed import HEALTHY_PIPELINE_ID
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
