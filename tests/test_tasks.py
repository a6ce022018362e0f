"""The wait tools as MCP Tasks (jobs_mcp.tasks), driven by FastMCP 4's client with fastmcp-tasks — a client of
the io.modelcontextprotocol/tasks extension that nobody here wrote — over HTTP, against two `jobs-mcp serve
--http --stateless` replicas sharing a real redis-server and the Lytics simulator over real HTTP: a task made on
one replica is read, finished and cancelled through the other; another principal cannot see it; a cancel stops
the following (no more reads of the platform), never the run."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client as SdkClient

from jobs_mcp.providers.lytics.simulator import CYCLING_JOB_ID, FAILED_JOB_ID, HEALTHY_EXPORT_ID
from support import needs_module, text_of
from test_remote import ALICE, BOB, mcp_client
from test_replicas import redis_server, replicas  # noqa: F401 (a fixture)
from test_state_store import RedisServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # redis-server, the sandbox and two replicas as subprocesses

WAIT = "lytics_wait_for_job"


@asynccontextmanager
async def tasks_client(base: str, token: str) -> AsyncIterator[Any]:
    """FastMCP's client (it declares the tasks extension on every request once fastmcp_tasks is imported)."""
    needs_module("fastmcp_tasks", "pip install -e '.[dev]'")
    from fastmcp import Client
    from fastmcp.client.auth import BearerAuth

    async with Client(base + "/mcp", auth=BearerAuth(token)) as client:
        yield client


def job_reads(sandbox_url: str) -> int:
    hits: int = httpx.get(f"{sandbox_url}/_sandbox/hits", params={"method": "GET"}).json()["hits"]
    return hits


async def test_a_task_made_on_one_replica_is_answered_by_the_other(
    tmp_path: Path,
    redis_server: RedisServer,  # noqa: F811
    sandbox_http: str,
) -> None:
    needs_module("fastmcp_tasks", "pip install -e '.[dev]'")  # skipped without it (failed under CI)
    from fastmcp_tasks import ToolTask, call_tool_task

    with replicas(tmp_path, redis_server.url, sandbox_http) as (a, b):
        async with tasks_client(a, ALICE) as on_a, tasks_client(b, ALICE) as on_b, tasks_client(b, BOB) as bob:
            # a run already over: the task completes with exactly what the plain wait answers
            over = await call_tool_task(on_a, WAIT, {"job_id": FAILED_JOB_ID})
            done = await ToolTask(on_b, WAIT, over.create_result).result()
            async with mcp_client(b, ALICE) as plain:  # the SDK's client: no extension, so a plain call
                direct = await plain.call_tool(WAIT, {"job_id": FAILED_JOB_ID})
            assert done.structured_content is not None and direct.structured_content is not None
            assert done.structured_content["status"] == direct.structured_content["status"] == "failed"
            assert done.content[0].text == text_of(direct)  # type: ignore[union-attr]

            # working on one, completed through the other (a job whose status flips every 20 s)
            flips = await call_tool_task(on_a, WAIT, {"job_id": CYCLING_JOB_ID, "until": "status_changes"})
            seen_on_b = ToolTask(on_b, WAIT, flips.create_result)
            first = await seen_on_b.status()
            assert first.status == "working" and first.status_message, first
            with anyio.fail_after(40):
                finished = await seen_on_b.result()
            assert finished.structured_content is not None and finished.structured_content["ended"] is True
            assert (await seen_on_b.status()).status == "completed"

            # another principal is told the task does not exist
            with pytest.raises(Exception, match="Unknown task"):
                await ToolTask(bob, WAIT, flips.create_result).status()


async def test_cancelling_a_task_stops_following_on_the_replica_that_follows(
    tmp_path: Path,
    redis_server: RedisServer,  # noqa: F811
    sandbox_http: str,
) -> None:
    needs_module("fastmcp_tasks", "pip install -e '.[dev]'")  # skipped without it (failed under CI)
    from fastmcp_tasks import ToolTask, call_tool_task

    with replicas(tmp_path, redis_server.url, sandbox_http) as (a, b):
        async with tasks_client(a, ALICE) as on_a, tasks_client(b, ALICE) as on_b:
            running = await call_tool_task(on_a, WAIT, {"job_id": HEALTHY_EXPORT_ID})  # runs on and on
            before = job_reads(sandbox_http)
            with anyio.fail_after(20):
                while True:
                    if job_reads(sandbox_http) >= before + 2:  # it is being followed
                        break
                    await anyio.sleep(0.2)
            await ToolTask(on_b, WAIT, running.create_result).cancel()
            await anyio.sleep(2)  # replica a sees the cancel mark within a second
            after = job_reads(sandbox_http)
            await anyio.sleep(12)  # more than its pace between reads
            assert job_reads(sandbox_http) == after, "replica a still polls the platform after the cancel"
            status = await ToolTask(on_a, WAIT, running.create_result).status()
            assert status.status == "cancelled" and "run itself goes on" in (status.status_message or "")
        async with mcp_client(b, ALICE) as plain:  # the job was not touched: still running
            job = await plain.call_tool("lytics_get_job", {"job_id": HEALTHY_EXPORT_ID})
        assert (job.structured_content or {})["job"]["status"] == "running"


async def test_clients_without_the_extension_keep_the_plain_call(
    tmp_path: Path,
    redis_server: RedisServer,  # noqa: F811
    sandbox_http: str,
) -> None:
    with replicas(tmp_path, redis_server.url, sandbox_http) as (a, _b):
        async with mcp_client(a, ALICE) as plain:
            result = await plain.call_tool(WAIT, {"job_id": FAILED_JOB_ID})
            assert not result.is_error and (result.structured_content or {})["ended"] is True
            assert "task" not in json.dumps(result.structured_content).lower()
    assert SdkClient  # the SDK's own client, not FastMCP's
