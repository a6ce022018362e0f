"""Asking the person directly: real clients that declare elicitation accept, decline or cancel; a client
without it gets the token handshake (or a clear refusal under --confirm elicit)."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.types import ElicitResult

from jobs_mcp.providers.lytics.simulator import FACEBOOK_EXPORT_ID, HEALTHY_EXPORT_ID
from support import Sandbox, text_of

pytestmark = pytest.mark.anyio
MODES = ["auto", "legacy"]


def answering(action: str, content: dict[str, Any] | None = None) -> Any:
    asked: list[str] = []

    async def callback(_context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action=action, content=content)  # type: ignore[arg-type]

    callback.asked = asked  # type: ignore[attr-defined]
    return callback


def writes(sandbox: Sandbox) -> int:
    return sandbox.hits("POST") + sandbox.hits("PUT")


@pytest.mark.parametrize("mode", MODES)
async def test_accept_executes_once(mode: str) -> None:
    sandbox = Sandbox()
    callback = answering("accept", {"approve": True})
    async with Client(sandbox.server, mode=mode, elicitation_callback=callback) as client:
        result = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    assert not result.is_error, text_of(result)
    assert result.structured_content["status"] == "executed"  # type: ignore[index]
    assert result.structured_content["target"]["status"] == "paused"  # type: ignore[index]
    assert len(set(callback.asked)) == 1 and "Pause job" in callback.asked[0]
    assert "POST" in callback.asked[0] and "/pause" in callback.asked[0]
    assert writes(sandbox) == 1
    assert sandbox.runtime.gate.audit.recent()[0]["outcome"]["status"] == "executed"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("action", "content"), [("decline", None), ("cancel", None), ("accept", {"approve": False})])
async def test_decline_cancel_or_no_sends_nothing(mode: str, action: str, content: Any) -> None:
    sandbox = Sandbox()
    async with Client(sandbox.server, mode=mode, elicitation_callback=answering(action, content)) as client:
        result = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    assert not result.is_error, text_of(result)
    assert result.structured_content["status"] == "declined"  # type: ignore[index]
    assert writes(sandbox) == 0


@pytest.mark.parametrize("mode", MODES)
async def test_kill_by_elicitation_needs_the_typed_id(mode: str) -> None:
    sandbox = Sandbox()
    wrong = answering("accept", {"typed_job_id": "0" * 32})
    async with Client(sandbox.server, mode=mode, elicitation_callback=wrong) as client:
        result = await client.call_tool("lytics_kill_job", {"job_id": FACEBOOK_EXPORT_ID})
    assert result.structured_content["status"] == "declined" and writes(sandbox) == 0  # type: ignore[index]
    assert "PERMANENT" in wrong.asked[0]
    right = answering("accept", {"typed_job_id": FACEBOOK_EXPORT_ID})
    async with Client(sandbox.server, mode=mode, elicitation_callback=right) as client:
        result = await client.call_tool("lytics_kill_job", {"job_id": FACEBOOK_EXPORT_ID})
    assert result.structured_content["status"] == "executed" and writes(sandbox) == 1  # type: ignore[index]


async def test_client_without_elicitation_gets_a_proposal() -> None:
    sandbox = Sandbox()
    async with Client(sandbox.server) as client:
        result = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    assert result.structured_content["status"] == "proposed"  # type: ignore[index]
    assert writes(sandbox) == 0


async def test_token_mode_never_elicits() -> None:
    sandbox = Sandbox(confirm="token")
    callback = answering("accept", {"approve": True})
    async with Client(sandbox.server, elicitation_callback=callback) as client:
        result = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    assert result.structured_content["status"] == "proposed" and callback.asked == []  # type: ignore[index]
    assert writes(sandbox) == 0


async def test_elicit_mode_refuses_clients_that_cannot_ask() -> None:
    sandbox = Sandbox(confirm="elicit")
    async with Client(sandbox.server) as client:
        result = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    assert result.is_error and "cannot ask" in text_of(result)
    assert writes(sandbox) == 0


@pytest.mark.parametrize("mode", MODES)
async def test_job_changed_while_the_person_decided(mode: str) -> None:
    import httpx

    from jobs_mcp.sandbox import SandboxTransport

    sandbox = Sandbox()

    async def change_then_accept(_context: Any, _params: Any) -> ElicitResult:
        async with httpx.AsyncClient(
            transport=SandboxTransport(sandbox.app), base_url="http://x", headers={"Authorization": "t"}
        ) as http:
            await http.post(f"/v2/job/{HEALTHY_EXPORT_ID}/pause")  # someone else pauses it meanwhile
        return ElicitResult(action="accept", content={"approve": True})

    async with Client(sandbox.server, mode=mode, elicitation_callback=change_then_accept) as client:
        result = await client.call_tool("lytics_bounce_job", {"job_id": HEALTHY_EXPORT_ID})
    # bounce does not apply to a paused job: nothing of ours is sent, and the job's status is named. (On the
    # 2026 protocol the draft is re-read on the answering round; on legacy the re-read happens after the yes.)
    assert result.is_error and "Cannot bounce" in text_of(result) and "it is paused" in text_of(result)
    assert sandbox.hits("POST", "/v2/job/*/bounce") == 0
