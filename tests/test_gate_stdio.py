"""The gate over stdio with a subprocess server, against the sandbox over real HTTP, and `jobs-mcp audit`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from jobs_mcp.providers.lytics.simulator import HEALTHY_EXPORT_ID
from support import BIN, CANARY, child_env, text_of

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # the server and the sandbox as subprocesses


async def test_propose_confirm_replay_over_stdio(sandbox_http: str, tmp_path: Path) -> None:
    audit_db = tmp_path / "audit.db"
    params = StdioServerParameters(
        command=str(BIN),
        args=["serve", "--audit-db", str(audit_db)],
        env=child_env(LYTICS_API_URL=sandbox_http, LYTICS_API_TOKEN=CANARY),
    )
    async with Client(params) as client:
        proposal = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
        done = await client.call_tool("confirm_action", {"confirmation_id": cid})
        replay = await client.call_tool("confirm_action", {"confirmation_id": cid})
    assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]
    assert replay.is_error and "already used" in text_of(replay)
    for result in (proposal, done, replay):
        assert CANARY not in result.model_dump_json()

    printed = subprocess.run(
        [str(BIN), "audit", "--audit-db", str(audit_db), "--json"], capture_output=True, text=True, check=True
    ).stdout
    records = [json.loads(line) for line in printed.splitlines()]
    assert len(records) == 1
    assert records[0]["tool"] == "lytics_pause_job" and records[0]["outcome"]["status"] == "executed"
    assert records[0]["request"]["url"].endswith(f"/v2/job/{HEALTHY_EXPORT_ID}/pause")
    assert CANARY not in printed and CANARY.encode() not in audit_db.read_bytes()
    text = subprocess.run([str(BIN), "audit", "--audit-db", str(audit_db)], capture_output=True, text=True).stdout
    assert "lytics_pause_job" in text and "executed" in text


async def test_a_one_shot_client_confirms_in_a_new_server_process(sandbox_http: str, tmp_path: Path) -> None:
    """Proposals live in the state store beside the audit log: a client that starts the server per call (the
    Inspector CLI) or a restarted Claude Desktop can still confirm; the key file is private."""
    params = StdioServerParameters(
        command=str(BIN),
        args=["serve", "--audit-db", str(tmp_path / "audit.db")],
        env=child_env(LYTICS_API_URL=sandbox_http, LYTICS_API_TOKEN=CANARY),
    )
    async with Client(params) as first:
        proposal = await first.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
    async with Client(params) as second:
        listed = await second.call_tool("list_pending_actions", {})
        done = await second.call_tool("confirm_action", {"confirmation_id": cid})
    assert cid.rsplit(".", 2)[0] in text_of(listed) and cid not in text_of(listed)
    assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]
    assert (tmp_path / "gate.key").stat().st_mode & 0o077 == 0
    assert (tmp_path / "state.db").exists()


async def test_a_proposal_from_an_earlier_process_says_its_sandbox_was_restarted(tmp_path: Path) -> None:
    """Without credentials each server process seeds its own in-memory sandbox, while proposals persist in the state
    store: an id from an earlier process is about a sandbox that is gone. The answer says so (not "the target
    changed", forever), sends nothing, and uses the id up; a proposal made and confirmed in one process works."""
    params = StdioServerParameters(
        command=str(BIN), args=["serve", "--audit-db", str(tmp_path / "audit.db")], env=child_env()
    )
    async with Client(params) as first:
        proposal = await first.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
    async with Client(params) as second:
        restarted = await second.call_tool("confirm_action", {"confirmation_id": cid})
        pending = await second.call_tool("list_pending_actions", {})
        again = await second.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        done = await second.call_tool(
            "confirm_action",
            {"confirmation_id": again.structured_content["confirmation_id"]},  # type: ignore[index]
        )
    said = text_of(restarted)
    assert restarted.is_error and "sandbox was restarted since this proposal" in said, said
    assert "nothing was sent" in said and "Propose the action again" in said and "target changed" not in said
    assert cid.rsplit(".", 2)[0] not in text_of(pending)
    assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]
    printed = subprocess.run(
        [str(BIN), "audit", "--audit-db", str(tmp_path / "audit.db"), "--json"], capture_output=True, text=True
    ).stdout
    sent = [json.loads(line) for line in printed.splitlines()]
    outcomes = {r["action"]: r["outcome"]["status"] for r in sent}
    assert outcomes[cid] == "stale" and sorted(outcomes.values()) == ["executed", "stale"], outcomes  # sent once
