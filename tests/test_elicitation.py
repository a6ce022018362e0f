"""Asking the person directly: real clients that declare elicitation accept, decline or cancel; a client
without it gets the token handshake (or a clear refusal under --confirm elicit)."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from mcp import Client
from mcp.types import (
    ClientCapabilities,
    ElicitationCapability,
    ElicitResult,
    FormElicitationCapability,
    UrlElicitationCapability,
)

from jobs_mcp.providers.lytics.simulator import FACEBOOK_EXPORT_ID, HEALTHY_EXPORT_ID
from jobs_mcp.write_tools import client_can_elicit
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
async def test_kill_by_elicitation_needs_the_code_only_the_person_saw(mode: str) -> None:
    """The typed-back check asks for a code shown in the question alone: the job ID the model passed is not it."""
    sandbox = Sandbox()
    model_guess = answering("accept", {"code": FACEBOOK_EXPORT_ID})
    async with Client(sandbox.server, mode=mode, elicitation_callback=model_guess) as client:
        result = await client.call_tool("lytics_kill_job", {"job_id": FACEBOOK_EXPORT_ID})
    assert result.structured_content["status"] == "declined" and writes(sandbox) == 0  # type: ignore[index]
    question = model_guess.asked[0]
    assert "PERMANENT" in question
    code = re.search(r"type this code: ([A-Z2-7]{6})", question).group(1)  # type: ignore[union-attr]
    assert code not in text_of(result) and "confirmation_id" not in text_of(result)

    async def person(_context: Any, params: Any) -> ElicitResult:
        shown = re.search(r"type this code: ([A-Z2-7]{6})", params.message).group(1)  # type: ignore[union-attr]
        return ElicitResult(action="accept", content={"code": shown.lower()})

    async with Client(sandbox.server, mode=mode, elicitation_callback=person) as client:
        result = await client.call_tool("lytics_kill_job", {"job_id": FACEBOOK_EXPORT_ID})
    assert result.structured_content["status"] == "executed" and writes(sandbox) == 1  # type: ignore[index]
    assert sandbox.runtime.gate.audit.recent()[0]["channel"] == "asked"


@pytest.mark.parametrize("mode", MODES)
async def test_an_approval_is_read_strictly(mode: str) -> None:
    sandbox = Sandbox()
    async with Client(sandbox.server, mode=mode, elicitation_callback=answering("accept", {"approve": "yes"})) as c:
        result = await c.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    assert (result.is_error or result.structured_content["status"] == "declined") and writes(sandbox) == 0  # type: ignore[index]


@pytest.mark.parametrize(
    ("elicitation", "asks"),
    [
        (None, False),
        (ElicitationCapability(), True),  # a bare capability (before modes existed) means form
        (ElicitationCapability(form=FormElicitationCapability()), True),
        (ElicitationCapability(url=UrlElicitationCapability()), False),  # URL only: a proposal, never an error
        (ElicitationCapability(form=FormElicitationCapability(), url=UrlElicitationCapability()), True),
    ],
)
def test_which_clients_can_be_asked(elicitation: ElicitationCapability | None, asks: bool) -> None:
    context = SimpleNamespace(client_capabilities=ClientCapabilities(elicitation=elicitation))
    assert client_can_elicit(context) is asks  # type: ignore[arg-type]


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


@pytest.mark.parametrize("mode", MODES)
async def test_a_stale_answer_never_carries_a_confirmation_id(mode: str) -> None:
    """The person was asked, so a target that changed meanwhile gets a fresh question, never an id to confirm."""
    import httpx

    from jobs_mcp.sandbox import SandboxTransport

    sandbox = Sandbox()

    async def edit_then_accept(_context: Any, _params: Any) -> ElicitResult:
        async with httpx.AsyncClient(
            transport=SandboxTransport(sandbox.app), base_url="http://x", headers={"Authorization": "t"}
        ) as http:
            job = (await http.get(f"/v2/job/{HEALTHY_EXPORT_ID}")).json()["data"]
            body = {k: job[k] for k in ("name", "config", "auth_ids")} | {"description": "edited meanwhile"}
            edited = await http.put(f"/v2/job/{job['workflow'].replace('_', '-')}/{HEALTHY_EXPORT_ID}", json=body)
            assert edited.status_code == 200, edited.text
        return ElicitResult(action="accept", content={"approve": True})

    async with Client(sandbox.server, mode=mode, elicitation_callback=edit_then_accept) as client:
        result = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    assert "confirmation_id" not in text_of(result) and await sandbox.runtime.gate.store.all() == []
    if mode == "legacy":  # asked once, then re-read: the edit shows, nothing is sent
        assert result.structured_content["status"] == "stale", text_of(result)  # type: ignore[index]
        assert result.structured_content["confirmation_id"] is None  # type: ignore[index]
        assert sandbox.hits("POST", "/v2/job/*/pause") == 0
    else:  # the 2026 protocol re-reads the target on the answering round, so the person answered the fresh draft
        assert result.structured_content["status"] in ("stale", "executed"), text_of(result)  # type: ignore[index]


# A value whose difference is at its end: cut anywhere before it, the question would hide where the data goes.
LONG_URL = (
    "https://hooks.example.com/notify?"
    + "&".join(f"k{i}=v{i}" for i in range(60))
    + "&forward_to=https://attacker.example/exfil"
)


@pytest.mark.parametrize("mode", MODES)
async def test_the_question_shows_every_changed_value_whole(mode: str) -> None:
    """The person approves what the question shows, so a changed value is never cut: a long URL reaches the
    question whole, its tail included (the model's own text may still bound it; the question may not)."""
    sandbox = Sandbox()
    asked = answering("decline")
    async with Client(sandbox.server, mode=mode, elicitation_callback=asked) as client:
        result = await client.call_tool("lytics_update_job", {"job_id": HEALTHY_EXPORT_ID, "description": LONG_URL})
    assert result.structured_content["status"] == "declined", text_of(result)  # type: ignore[index]
    assert len(LONG_URL) > 400 and LONG_URL in asked.asked[0]
    assert writes(sandbox) == 0
