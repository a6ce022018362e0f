"""The wait tools (jobs_mcp.waits), parametrized over every provider whose runs or jobs end.

Each provider's case names a run already over, one that ends after some polls, one still going when the time is
up, and the route a poll reads. The server and the simulator share a hand-moved clock: a wait's pauses move it
instead of sleeping, so following a run for minutes takes milliseconds.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client

from cases import Cases, Follow, all_cases
from jobs_mcp.waits import DEFAULT_TIMEOUT, MAX_TIMEOUT
from support import CANARY, Clock, Sandbox, text_of

pytestmark = pytest.mark.anyio

FOLLOWED = [c for c in all_cases() if c.follow is not None]
IDS = [c.provider for c in FOLLOWED]


def follow_of(cases: Cases) -> Follow:
    assert cases.follow is not None
    return cases.follow


def served(cases: Cases) -> tuple[Sandbox, Clock]:
    clock = Clock()
    return Sandbox(provider=cases.provider, now=clock), clock


def test_every_platform_with_runs_has_a_wait_tool() -> None:
    assert sorted(IDS) == sorted(c.provider for c in all_cases())


@pytest.mark.parametrize("cases", FOLLOWED, ids=IDS)
async def test_a_run_already_over_is_answered_at_once(cases: Cases) -> None:
    follow = follow_of(cases)
    sandbox, clock = served(cases)
    start = clock.now
    async with Client(sandbox.server) as client:
        result = await client.call_tool(follow.tool, follow.ended)
    assert not result.is_error, text_of(result)
    data: dict[str, Any] = result.structured_content or {}
    assert data["ended"] is True and data["polls"] == 1 and clock.now == start
    assert data["health"] == "failed" or data["reached"] is False
    assert data["digest"] is not None or data["detail"] or "get_job_logs" in data["next_step"], data
    assert "again" not in data["next_step"]


@pytest.mark.parametrize("cases", FOLLOWED, ids=IDS)
async def test_a_running_run_is_followed_to_its_end_with_progress(cases: Cases) -> None:
    follow = follow_of(cases)
    sandbox, clock = served(cases)
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with Client(sandbox.server) as client:
        for _call in range(12):  # "within a few calls": every call stays within its own time limit
            before = clock.now
            result = await client.call_tool(follow.tool, follow.ends, progress_callback=on_progress)
            assert not result.is_error, text_of(result)
            data: dict[str, Any] = result.structured_content or {}
            assert (clock.now - before).total_seconds() <= DEFAULT_TIMEOUT + 1
            if data["ended"]:
                break
            assert f"call {follow.tool}(" in data["next_step"]
    assert data["ended"] and data["status"] == follow.ends_as, data
    assert data["polls"] >= 2 or _call > 0
    assert seen and all(message and data["id"] in message for _, _, message in seen)
    assert all(total is not None and 0 <= progress <= total for progress, total, _ in seen)


@pytest.mark.parametrize("cases", FOLLOWED, ids=IDS)
async def test_time_up_is_an_answer_naming_the_next_call(cases: Cases) -> None:
    follow = follow_of(cases)
    sandbox, clock = served(cases)
    start = clock.now
    async with Client(sandbox.server) as client:
        result = await client.call_tool(follow.tool, {**follow.stays, "timeout_s": 30})
    assert not result.is_error, text_of(result)
    data: dict[str, Any] = result.structured_content or {}
    assert data["ended"] is False and 30 <= data["waited_s"] <= 31
    assert 30 <= (clock.now - start).total_seconds() <= 31
    assert "still" in text_of(result) and f"call {follow.tool}(" in text_of(result)
    # the platform's pace, backing off: a handful of reads in 30 s, not one a second
    assert 3 <= data["polls"] <= 10, data["polls"]


@pytest.mark.parametrize("seconds", [0, MAX_TIMEOUT + 1, 600])
@pytest.mark.parametrize("cases", FOLLOWED, ids=IDS)
async def test_timeout_out_of_range_is_refused_before_any_read(cases: Cases, seconds: int) -> None:
    follow = follow_of(cases)
    sandbox, _clock = served(cases)
    async with Client(sandbox.server) as client:
        result = await client.call_tool(follow.tool, {**follow.stays, "timeout_s": seconds})
    assert result.is_error and "timeout_s" in text_of(result)
    assert sandbox.hits() == 0


@pytest.mark.parametrize("cases", FOLLOWED, ids=IDS)
async def test_cancelling_stops_the_polls_at_once(cases: Cases) -> None:
    """A client that gives up (the SDK sends notifications/cancelled): no read of the platform afterwards."""
    follow = follow_of(cases)
    clock = Clock()
    sandbox = Sandbox(provider=cases.provider, now=clock)
    polled = anyio.Event()

    async def paced(seconds: float) -> None:  # a real pause, so the call is still waiting when it is cancelled
        polled.set()
        clock.advance(seconds)
        await anyio.sleep(0.05)

    sandbox.runtime.sleep = paced
    async with Client(sandbox.server) as client:
        async with anyio.create_task_group() as group:
            group.start_soon(client.call_tool, follow.tool, follow.stays)
            await polled.wait()
            group.cancel_scope.cancel()
        after = sandbox.hits(path_glob=follow.route)
        await anyio.sleep(0.5)  # several paces of the loop, had it gone on
        assert sandbox.hits(path_glob=follow.route) == after
        # the session is still fine
        result = await client.call_tool(follow.tool, follow.ended)
        assert not result.is_error


def after_first_poll(sandbox: Sandbox, clock: Clock, route: str, status: int, retry_after: float | None) -> None:
    """From the second poll on, the platform answers ``status`` on the poll's route."""
    added: list[bool] = []

    async def then_failing(seconds: float) -> None:
        if not added:
            sandbox.faults.add("GET", route, status=status, retry_after=retry_after)
            added.append(True)
        await clock.sleep(seconds)

    sandbox.runtime.sleep = then_failing


@pytest.mark.parametrize(("status", "retry_after", "most"), [(429, 12, 5), (503, None, 8)])
@pytest.mark.parametrize("cases", FOLLOWED, ids=IDS)
async def test_rate_limits_and_outages_while_polling_back_off_and_are_reported(
    cases: Cases, status: int, retry_after: float | None, most: int
) -> None:
    """The platform starts answering 429 (Retry-After 12) or 503 after the first read: the wait slows down (to
    the pace a 429 asks for), and at time up says what it met instead of failing."""
    follow = follow_of(cases)
    clock = Clock()
    sandbox = Sandbox(provider=cases.provider, now=clock)
    after_first_poll(sandbox, clock, follow.route, status, retry_after)
    async with Client(sandbox.server) as client:
        result = await client.call_tool(follow.tool, {**follow.stays, "timeout_s": 40})
    assert not result.is_error, text_of(result)
    data: dict[str, Any] = result.structured_content or {}
    assert data["ended"] is False and str(status) in data["next_step"], data
    assert data["polls"] <= most, data["polls"]


@pytest.mark.parametrize("cases", FOLLOWED, ids=IDS)
async def test_a_run_deleted_while_followed_is_an_answer(cases: Cases) -> None:
    follow = follow_of(cases)
    clock = Clock()
    sandbox = Sandbox(provider=cases.provider, now=clock)
    after_first_poll(sandbox, clock, follow.route, 404, None)
    async with Client(sandbox.server) as client:
        result = await client.call_tool(follow.tool, follow.stays)
    assert not result.is_error, text_of(result)
    data: dict[str, Any] = result.structured_content or {}
    assert data["ended"] is True and data["health"] == "deleted" and "deleted while" in data["next_step"], data


AFTER = [(c, tool) for c in FOLLOWED for tool in follow_of(c).after]


@pytest.mark.parametrize(("cases", "tool"), AFTER, ids=[tool for _, tool in AFTER])
async def test_an_executed_trigger_or_start_names_the_wait_and_its_id(cases: Cases, tool: str) -> None:
    follow = follow_of(cases)
    sandbox = Sandbox(provider=cases.provider, confirm="token")
    async with Client(sandbox.server) as client:
        proposal = await client.call_tool(tool, cases.writes[tool])
        confirm = {"confirmation_id": (proposal.structured_content or {})["confirmation_id"]}
        done = await client.call_tool("confirm_action", confirm)
        data: dict[str, Any] = done.structured_content or {}
        assert data["status"] == "executed", text_of(done)
        assert f"call {follow.tool}(" in data["next_step"] and str(data["target"]["id"]) in data["next_step"]
        call = data["next_step"].split(f"call {follow.tool}(", 1)[1].split(")", 1)[0]
        args = dict(part.split("=", 1) for part in call.split(", "))
        followed = await client.call_tool(follow.tool, {k: v.strip('"') for k, v in args.items()} | {"timeout_s": 5})
    assert not followed.is_error, text_of(followed)


@pytest.mark.slow
async def test_progress_and_cancel_over_http(tmp_path: Path, sandbox_http: str) -> None:
    """`jobs-mcp serve --http` in front of the Lytics simulator over real HTTP: progress arrives at each poll, and
    a client that gives up leaves no loop polling the platform."""
    from jobs_mcp.providers.lytics.simulator import HEALTHY_EXPORT_ID
    from test_remote import ALICE, mcp_client, served, tokens_file

    env = {"LYTICS_API_URL": sandbox_http, "LYTICS_API_TOKEN": CANARY}
    progressed = anyio.Event()
    messages: list[str] = []

    async def on_progress(_progress: float, _total: float | None, message: str | None) -> None:
        messages.append(message or "")
        progressed.set()

    def reads() -> int:
        hits: int = httpx.get(f"{sandbox_http}/_sandbox/hits", params={"method": "GET"}).json()["hits"]
        return hits

    with served(tmp_path, "--auth-tokens", str(tokens_file(tmp_path)), **env) as base:
        async with mcp_client(base, ALICE) as client:
            async with anyio.create_task_group() as group:
                args = {"job_id": HEALTHY_EXPORT_ID}
                group.start_soon(partial(client.call_tool, "lytics_wait_for_job", args, progress_callback=on_progress))
                with anyio.fail_after(20):
                    await progressed.wait()
                group.cancel_scope.cancel()
            await anyio.sleep(1)
            after = reads()
            await anyio.sleep(7)  # more than the wait's pace between reads
            assert reads() == after, "the wait went on polling after the client cancelled"
    assert messages and HEALTHY_EXPORT_ID in messages[0] and "running" in messages[0]
