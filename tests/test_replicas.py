"""Two `jobs-mcp serve --http --stateless` replicas sharing a real redis-server, in front of the Lytics simulator
over real HTTP: a proposal made on one is confirmed on the other, exactly once, even when raced; Redis going away
gives clear errors and never a second write; service returns with Redis."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from jobs_mcp.providers.lytics.simulator import HEALTHY_EXPORT_ID
from support import CANARY, needs_redis, text_of
from test_remote import ALICE, answering, mcp_client, posts, served, tokens_file
from test_state_store import RedisServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # redis-server, the sandbox and two replicas as subprocesses

GATE_KEY = "replica-test-gate-key-7c2e19a4d05b8f63"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(needs_redis(), tmp_path / "redis")
    server.start()
    yield server
    server.kill()


@contextmanager
def replicas(tmp_path: Path, redis_url: str, sandbox_url: str, confirm: str = "token") -> Iterator[tuple[str, str]]:
    tokens = str(tokens_file(tmp_path))
    env = {"LYTICS_API_URL": sandbox_url, "LYTICS_API_TOKEN": CANARY, "JOBS_MCP_GATE_KEY": GATE_KEY}
    args = ["--stateless", "--state", redis_url, "--auth-tokens", tokens, "--confirm", confirm]
    with ExitStack() as stack:
        bases = []
        for name in ("a", "b"):
            where = tmp_path / name
            where.mkdir()
            bases.append(stack.enter_context(served(where, *args, **env)))
        yield bases[0], bases[1]
        for name in ("a", "b"):
            logged = (tmp_path / name / "server.err").read_text()
            assert CANARY not in logged and ALICE not in logged and GATE_KEY not in logged


def reset(sandbox_url: str) -> None:
    httpx.post(f"{sandbox_url}/_sandbox/hits/reset")


async def test_propose_on_one_confirm_on_the_other(
    tmp_path: Path, redis_server: RedisServer, sandbox_http: str
) -> None:
    with replicas(tmp_path, redis_server.url, sandbox_http) as (a, b):
        reset(sandbox_http)
        async with mcp_client(a, ALICE) as on_a, mcp_client(b, ALICE) as on_b:
            proposal = await on_a.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
            cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
            listed_on_b = await on_b.call_tool("list_pending_actions", {})
            done = await on_b.call_tool("confirm_action", {"confirmation_id": cid})
            replay_a = await on_a.call_tool("confirm_action", {"confirmation_id": cid})
            replay_b = await on_b.call_tool("confirm_action", {"confirmation_id": cid})
    assert cid.rsplit(".", 2)[0] in text_of(listed_on_b)
    assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]
    for replay in (replay_a, replay_b):
        assert replay.is_error and "already used" in text_of(replay)
    assert posts(sandbox_http) == 1


async def test_a_confirmation_raced_on_both_replicas_executes_once(
    tmp_path: Path, redis_server: RedisServer, sandbox_http: str
) -> None:
    rounds = 20
    with replicas(tmp_path, redis_server.url, sandbox_http) as (a, b):
        reset(sandbox_http)
        async with mcp_client(a, ALICE) as on_a, mcp_client(b, ALICE) as on_b:
            for i in range(rounds):
                tool = "lytics_pause_job" if i % 2 == 0 else "lytics_resume_job"
                proposal = await on_a.call_tool(tool, {"job_id": HEALTHY_EXPORT_ID})
                cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
                results: list[Any] = []

                async def confirm(client: Client, cid: str = cid, results: list[Any] = results) -> None:
                    results.append(await client.call_tool("confirm_action", {"confirmation_id": cid}))

                async with anyio.create_task_group() as tg:
                    tg.start_soon(confirm, on_a)
                    tg.start_soon(confirm, on_b)
                executed = [r for r in results if not r.is_error and r.structured_content["status"] == "executed"]
                refused = [r for r in results if r.is_error]
                assert len(executed) == 1 and len(refused) == 1, [text_of(r) for r in results]
                assert "already used" in text_of(refused[0])
    assert posts(sandbox_http) == rounds


async def test_redis_restarted_mid_run(tmp_path: Path, redis_server: RedisServer, sandbox_http: str) -> None:
    with replicas(tmp_path, redis_server.url, sandbox_http) as (a, b):
        reset(sandbox_http)
        async with mcp_client(a, ALICE) as on_a, mcp_client(b, ALICE) as on_b:
            proposal = await on_a.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
            cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]

            redis_server.kill()
            down = await on_b.call_tool("confirm_action", {"confirmation_id": cid})
            new_proposal = await on_a.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
            ready_down = httpx.get(a + "/readyz")
            assert posts(sandbox_http) == 0

            redis_server.start()  # same port, empty (no persistence): the pending proposal is gone
            ready_up = httpx.get(b + "/readyz")
            lost = await on_b.call_tool("confirm_action", {"confirmation_id": cid})
            fresh = await on_a.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
            fresh_id = fresh.structured_content["confirmation_id"]  # type: ignore[index]
            done = await on_b.call_tool("confirm_action", {"confirmation_id": fresh_id})
            replay = await on_a.call_tool("confirm_action", {"confirmation_id": cid})
    assert down.is_error and new_proposal.is_error
    assert ready_down.status_code == 503 and "unavailable" in ready_down.json()["checks"]["state"]
    assert ready_up.status_code == 200, ready_up.text
    assert lost.is_error, text_of(lost)  # never executed: the proposal did not survive the empty Redis
    assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]
    assert replay.is_error
    assert posts(sandbox_http) == 1  # no write twice, none during the outage


class RoundRobin(httpx2.AsyncBaseTransport):
    """Sends each HTTP request to the next replica, as a load balancer without sticky sessions would."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.sent: list[int] = []
        self.inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        port = self.ports[len(self.sent) % len(self.ports)]
        self.sent.append(port)
        request.url = request.url.copy_with(port=port)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_an_elicitation_retry_lands_on_the_other_replica(
    tmp_path: Path, redis_server: RedisServer, sandbox_http: str
) -> None:
    """A modern client's approval round (Resolve's input-required retry, sealed requestState) crosses replicas:
    the state is sealed with a key derived from JOBS_MCP_GATE_KEY, shared by both."""
    with replicas(tmp_path, redis_server.url, sandbox_http, confirm="auto") as (a, b):
        reset(sandbox_http)
        ports = [int(a.rsplit(":", 1)[1]), int(b.rsplit(":", 1)[1])]
        transport = RoundRobin(ports)
        yes = answering("accept", {"approve": True})
        async with (
            httpx2.AsyncClient(transport=transport, headers={"Authorization": f"Bearer {ALICE}"}) as http,
            Client(streamable_http_client(a + "/mcp", http_client=http), elicitation_callback=yes) as c,
        ):
            result = await c.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    assert set(transport.sent) == set(ports)
    assert yes.asked, "the person was asked"
    assert result.structured_content["status"] == "executed", text_of(result)  # type: ignore[index]
    assert posts(sandbox_http) == 1


async def test_a_redis_outage_is_explained_to_the_model(
    tmp_path: Path, redis_server: RedisServer, sandbox_http: str
) -> None:
    with replicas(tmp_path, redis_server.url, sandbox_http) as (a, _b):
        async with mcp_client(a, ALICE) as on_a:
            redis_server.kill()
            down = await on_a.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
            redis_server.start()
    assert down.is_error and "Redis" in text_of(down) and "redis-server is running" in text_of(down)
