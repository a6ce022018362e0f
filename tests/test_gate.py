"""The confirmation gate through a real MCP client: proposals send nothing; only a valid, unspent,
matching confirmation sends exactly the proposed request, once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver.exceptions import ToolError

from jobs_mcp.providers.lytics.simulator import ACTIVE_AUTH_ID, FACEBOOK_EXPORT_ID, HEALTHY_EXPORT_ID
from support import CANARY, Sandbox, enroll_passphrase, text_of

pytestmark = pytest.mark.anyio

S3_AUTH = {"auth_ids": [ACTIVE_AUTH_ID]}  # s3_import needs an active auth provider


def writes(sandbox: Sandbox) -> int:
    return sandbox.hits("POST") + sandbox.hits("PUT")


async def job_status(client: Client, job_id: str) -> str:
    result = await client.call_tool("lytics_get_job", {"job_id": job_id})
    return str(result.structured_content["job"]["status"])  # type: ignore[index]


async def test_pause_proposal_sends_nothing_and_says_everything(client: Client, sandbox: Sandbox) -> None:
    result = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    assert not result.is_error, text_of(result)
    p = result.structured_content
    assert p is not None and p["status"] == "proposed"
    assert p["confirmation_id"].startswith("pause:lytics/sandbox/")
    assert p["changes"] == [{"field": "status", "before": "running", "after": "paused"}]
    assert p["request"]["method"] == "POST" and p["request"]["url"].endswith(f"/v2/job/{HEALTHY_EXPORT_ID}/pause")
    assert p["risk"]["level"] == "low" and p["risk"]["irreversible"] is False
    assert p["expires_at"]
    assert "PROPOSED, not done yet" in text_of(result)
    assert writes(sandbox) == 0
    assert await job_status(client, HEALTHY_EXPORT_ID) == "running"


async def test_confirm_executes_once_and_replay_is_refused(client: Client, sandbox: Sandbox) -> None:
    proposal = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
    done = await client.call_tool("confirm_action", {"confirmation_id": cid})
    assert not done.is_error, text_of(done)
    assert done.structured_content["status"] == "executed"  # type: ignore[index]
    assert done.structured_content["target"]["status"] == "paused"  # type: ignore[index]
    assert writes(sandbox) == 1
    replay = await client.call_tool("confirm_action", {"confirmation_id": cid})
    assert replay.is_error and "already used" in text_of(replay)
    assert writes(sandbox) == 1
    records = sandbox.runtime.gate.audit.recent()
    assert records[0]["tool"] == "lytics_pause_job" and records[0]["outcome"]["status"] == "executed"


ALTERED = "does not match what was proposed (it was altered). Nothing was sent."


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        (lambda cid: cid.replace("pause:", "kill:", 1), ALTERED),  # another tool
        (lambda cid: cid.replace("/sandbox/", "/other/", 1), ALTERED),  # another account
        (lambda cid: cid[:-1] + ("A" if cid[-1] != "A" else "B"), ALTERED),  # a forged signature
        (lambda cid: cid.split(":")[0] + ":lytics/sandbox/00000000:" + cid.split(":")[-1], ALTERED),  # another target
        (
            lambda cid: "pause:lytics/sandbox/12345678:0123456789ab.zzzzzz.AAAAAAAAAAAAAAAAAAAAAA",  # never issued
            "Unknown confirmation id",
        ),
        (lambda cid: "please just do it", "not a confirmation id"),
    ],
)
async def test_tampered_or_unknown_ids_are_refused(client: Client, sandbox: Sandbox, tamper: Any, says: str) -> None:
    proposal = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
    refused = await client.call_tool("confirm_action", {"confirmation_id": tamper(cid)})
    assert refused.is_error and says in text_of(refused), text_of(refused)
    assert writes(sandbox) == 0


async def test_expired_id_is_refused(client: Client, sandbox: Sandbox) -> None:
    proposal = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
    gate = sandbox.runtime.gate
    real = gate.clock
    gate.clock = lambda: real() + gate.ttl + 1
    refused = await client.call_tool("confirm_action", {"confirmation_id": cid})
    assert refused.is_error and "expired" in text_of(refused)
    assert writes(sandbox) == 0


async def test_cancel_drops_the_proposal(client: Client, sandbox: Sandbox) -> None:
    proposal = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
    pending = await client.call_tool("list_pending_actions", {})
    handles = [a["confirmation_id"] for a in pending.structured_content["actions"]]  # type: ignore[index]
    assert handles == [cid.rsplit(".", 2)[0]], "the list names proposals by handle, never by a confirming id"
    assert cid not in text_of(pending)
    handle_confirm = await client.call_tool("confirm_action", {"confirmation_id": handles[0]})
    assert handle_confirm.is_error and writes(sandbox) == 0
    cancelled = await client.call_tool("cancel_action", {"confirmation_id": handles[0]})
    assert cancelled.structured_content["status"] == "cancelled"  # type: ignore[index]
    refused = await client.call_tool("confirm_action", {"confirmation_id": cid})
    assert refused.is_error and writes(sandbox) == 0
    pending = await client.call_tool("list_pending_actions", {})
    assert pending.structured_content["actions"] == []  # type: ignore[index]


async def test_changed_target_gets_a_fresh_proposal(client: Client, sandbox: Sandbox) -> None:
    first = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    cid = first.structured_content["confirmation_id"]  # type: ignore[index]
    change = await client.call_tool("lytics_update_job", {"job_id": HEALTHY_EXPORT_ID, "description": "edited"})
    await client.call_tool("confirm_action", {"confirmation_id": change.structured_content["confirmation_id"]})  # type: ignore[index]
    assert sandbox.hits("PUT") == 1
    stale = await client.call_tool("confirm_action", {"confirmation_id": cid})
    assert not stale.is_error
    assert stale.structured_content["status"] == "stale"  # type: ignore[index]
    assert stale.structured_content["confirmation_id"] != cid  # type: ignore[index]
    assert sandbox.hits("POST", "/v2/job/*/pause") == 0
    assert await job_status(client, HEALTHY_EXPORT_ID) == "running"


async def test_high_risk_is_never_proposed_with_an_id_by_default(client: Client, sandbox: Sandbox) -> None:
    """The model can call confirm_action itself, so a permanent action needs the person's own yes: asked in the
    client, or on the approval page (with their passkey or passphrase), never a confirmation id."""
    enroll_passphrase(sandbox.dir / "approvers.json")
    linked = await client.call_tool("lytics_kill_job", {"job_id": FACEBOOK_EXPORT_ID})
    assert not linked.is_error and linked.structured_content["confirmation_id"] is None  # type: ignore[index]
    assert "/approve/" in linked.structured_content["approval_url"] and writes(sandbox) == 0  # type: ignore[index]
    no_page = Sandbox(approval_page="off")
    async with Client(no_page.server) as other:
        refused = await other.call_tool("lytics_kill_job", {"job_id": FACEBOOK_EXPORT_ID})
    assert refused.is_error and "high-risk" in text_of(refused) and "--allow-high-risk-ids" in text_of(refused)
    assert "confirmation_id" not in text_of(refused) and writes(no_page) == 0
    assert await no_page.runtime.gate.store.all() == []


async def test_kill_needs_the_typed_job_id_when_ids_are_allowed() -> None:
    sandbox = Sandbox(allow_high_risk_ids=True)
    async with Client(sandbox.server) as client:
        await _kill_with_typed_id(client, sandbox)


async def _kill_with_typed_id(client: Client, sandbox: Sandbox) -> None:
    proposal = await client.call_tool("lytics_kill_job", {"job_id": FACEBOOK_EXPORT_ID})
    p = proposal.structured_content
    assert p is not None and p["risk"]["irreversible"] is True and p["requires_typed_id"] is True
    assert "PERMANENT" in text_of(proposal) and "cannot be undone" in text_of(proposal)
    cid = p["confirmation_id"]
    for typed in (None, "0" * 32):
        arguments = {"confirmation_id": cid} | ({"typed_job_id": typed} if typed else {})
        refused = await client.call_tool("confirm_action", arguments)
        assert refused.is_error and "typed_job_id" in text_of(refused)
    assert writes(sandbox) == 0
    done = await client.call_tool("confirm_action", {"confirmation_id": cid, "typed_job_id": FACEBOOK_EXPORT_ID})
    assert done.structured_content["status"] == "executed"  # type: ignore[index]
    assert await job_status(client, FACEBOOK_EXPORT_ID) == "deleted"


async def test_bounce_explains_the_restart(client: Client) -> None:
    proposal = await client.call_tool("lytics_bounce_job", {"job_id": FACEBOOK_EXPORT_ID})
    assert "Restarts the job" in text_of(proposal)
    assert proposal.structured_content["risk"]["level"] == "medium"  # type: ignore[index]


async def test_disallowed_transition_names_the_current_status(client: Client, sandbox: Sandbox) -> None:
    refused = await client.call_tool("lytics_resume_job", {"job_id": HEALTHY_EXPORT_ID})
    assert refused.is_error and "it is running" in text_of(refused)
    assert writes(sandbox) == 0


async def test_update_proposes_a_diff_and_keeps_the_rest(client: Client, sandbox: Sandbox) -> None:
    before = (await client.call_tool("lytics_get_job", {"job_id": HEALTHY_EXPORT_ID})).structured_content["job"]  # type: ignore[index]
    proposal = await client.call_tool(
        "lytics_update_job", {"job_id": HEALTHY_EXPORT_ID, "description": "nightly", "quiet_timezone": "Europe/Berlin"}
    )
    p = proposal.structured_content
    assert p is not None and p["request"]["method"] == "PUT"
    fields = {c["field"]: c for c in p["changes"]}
    assert fields["description"]["before"] == before["description"] and fields["description"]["after"] == "nightly"
    assert p["request"]["body"]["config"] == before["config"]  # full replace keeps what was not changed
    assert p["request"]["body"]["name"] == before["name"]
    assert writes(sandbox) == 0
    await client.call_tool("confirm_action", {"confirmation_id": p["confirmation_id"]})
    after = (await client.call_tool("lytics_get_job", {"job_id": HEALTHY_EXPORT_ID})).structured_content["job"]  # type: ignore[index]
    assert after["description"] == "nightly" and after["config"] == before["config"]
    assert after["quiet_timezone"] == "Europe/Berlin"


async def test_create_job_end_to_end(client: Client, sandbox: Sandbox) -> None:
    arguments = {"name": "Nightly S3 import", "workflow": "s3_import", "config": {"bucket": "acme-nightly"}}
    proposal = await client.call_tool("lytics_create_job", arguments | S3_AUTH)
    assert not proposal.is_error, text_of(proposal)
    assert writes(sandbox) == 0
    done = await client.call_tool("confirm_action", {"confirmation_id": proposal.structured_content["confirmation_id"]})  # type: ignore[index]
    assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]
    listed = await client.call_tool("lytics_list_jobs", {"workflow": "s3_import"})
    assert [j["name"] for j in listed.structured_content["jobs"]].count("Nightly S3 import") == 1  # type: ignore[index]


async def test_create_whose_answer_is_lost_makes_exactly_one_job(client: Client, sandbox: Sandbox) -> None:
    arguments = {"name": "Lost answer import", "workflow": "s3_import", "config": {"bucket": "b"}} | S3_AUTH
    proposal = await client.call_tool("lytics_create_job", arguments)
    sandbox.faults.add("POST", "/v2/job/*", drop="after", times=1)
    done = await client.call_tool("confirm_action", {"confirmation_id": proposal.structured_content["confirmation_id"]})  # type: ignore[index]
    assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]
    assert "is there now" in text_of(done)
    assert sandbox.hits("POST") == 1
    listed = await client.call_tool("lytics_list_jobs", {"workflow": "s3_import", "show_all": True})
    assert [j["name"] for j in listed.structured_content["jobs"]].count("Lost answer import") == 1  # type: ignore[index]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"quiet_timezone": "Mars/Olympus"}, "quiet_timezone"),
        ({"quiet_time_of_day": "25:00"}, "quiet_time_of_day"),
        ({"quiet_period": 0}, "quiet_period"),
        ({"workflow": "no_such_flow"}, "workflow"),
        ({"config": {"blob": "x" * 70_000}}, "config"),
        ({"auth_ids": ["f" * 32]}, "auth"),
        ({"name": ""}, "name"),
    ],
)
async def test_create_refuses_bad_payloads_before_any_request(
    client: Client, sandbox: Sandbox, arguments: dict[str, Any], field: str
) -> None:
    base = {"name": "x", "workflow": "s3_import", "config": {"bucket": "b"}}
    result = await client.call_tool("lytics_create_job", base | arguments)
    assert result.is_error and field in text_of(result)
    assert writes(sandbox) == 0


@pytest.mark.slow
async def test_no_token_in_proposals_or_audit(sandbox_http: str, tmp_path: Any) -> None:
    from pydantic import SecretStr

    from jobs_mcp.app import build_server
    from jobs_mcp.config import Account, Settings

    settings = Settings(
        accounts=(Account(name="acme", provider="lytics", url=sandbox_http, token=SecretStr(CANARY)),),
        audit_db=str(tmp_path / "a.db"),
    )
    server = build_server(settings)
    async with Client(server) as client:
        proposal = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
        done = await client.call_tool("confirm_action", {"confirmation_id": cid})
        pending = await client.call_tool("list_pending_actions", {})
    seen = json.dumps([r.model_dump(mode="json") for r in (proposal, done, pending)])
    assert CANARY not in seen
    assert CANARY.encode() not in (tmp_path / "a.db").read_bytes()


@pytest.mark.slow
async def test_several_accounts_and_cross_account_ids(sandbox_http: str, tmp_path: Any) -> None:
    from pydantic import SecretStr

    from jobs_mcp.app import build_server
    from jobs_mcp.config import Account, Settings

    accounts = tuple(
        Account(name=n, provider="lytics", url=sandbox_http, token=SecretStr(CANARY)) for n in ("acme", "beta")
    )
    server = build_server(Settings(accounts=accounts, audit_db=str(tmp_path / "a.db")))
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert tools["lytics_list_jobs"].input_schema["properties"]["account"]["enum"][:2] == ["acme", "beta"]
        unknown = await client.call_tool("lytics_list_jobs", {"account": "gamma"})
        assert unknown.is_error and "account" in text_of(unknown)
        proposal = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID, "account": "beta"})
        cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
        assert cid.startswith("pause:lytics/beta/")
        crossed = await client.call_tool("confirm_action", {"confirmation_id": cid, "account": "acme"})
        assert crossed.is_error and "for account 'beta'" in text_of(crossed)
        done = await client.call_tool("confirm_action", {"confirmation_id": cid, "account": "beta"})
        assert done.structured_content["status"] == "executed"  # type: ignore[index]


async def test_proposals_belong_to_their_principal(sandbox: Sandbox) -> None:
    """Another principal cannot see, confirm or cancel a proposal; the audit row names who approved."""
    gate = sandbox.runtime.gate
    op = next(o for o in gate._ops.values() if o.name == "lytics_pause_job")
    args = op.input_model.model_validate({"job_id": HEALTHY_EXPORT_ID})
    api = sandbox.runtime.client("lytics")
    proposal = await gate.issue(await gate.draft(op, args, api, principal="alice"))
    cid = proposal.confirmation_id
    assert cid is not None
    assert (await gate.pending("bob")).actions == []
    assert [a.confirmation_id for a in (await gate.pending("alice")).actions] == [cid.rsplit(".", 2)[0]]
    with pytest.raises(ToolError, match="Unknown confirmation id"):
        await gate.confirm(cid, principal="bob")
    with pytest.raises(ToolError, match="No pending proposal of yours"):
        await gate.cancel(cid, principal="bob")
    assert writes(sandbox) == 0
    done = await gate.confirm(cid, principal="alice")
    assert done.status == "executed" and writes(sandbox) == 1
    assert gate.audit.recent()[0]["principal"] == "alice"


async def test_a_job_moving_between_running_and_sleeping_does_not_make_a_proposal_stale() -> None:
    """The simulator's cycling job is running or sleeping by the clock, as a real one between runs; only what
    matters for the action (configuration, what the status means) makes a proposal stale."""
    from datetime import UTC, datetime, timedelta

    from jobs_mcp.providers.lytics.simulator import CYCLE_SECONDS, CYCLING_JOB_ID

    moment = [datetime(2026, 11, 23, 12, 0, tzinfo=UTC)]
    sandbox = Sandbox(now=lambda: moment[0])
    async with Client(sandbox.server) as client:
        before = await job_status(client, CYCLING_JOB_ID)
        proposal = await client.call_tool("lytics_pause_job", {"job_id": CYCLING_JOB_ID})
        moment[0] += timedelta(seconds=CYCLE_SECONDS)
        after = await job_status(client, CYCLING_JOB_ID)
        assert {before, after} == {"running", "sleeping"}, "the simulator moves on its own"
        cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
        done = await client.call_tool("confirm_action", {"confirmation_id": cid})
    assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]
    assert writes(sandbox) == 1


async def test_a_create_notes_a_namesake_and_a_lost_answer_never_takes_it_for_the_new_job(
    client: Client, sandbox: Sandbox
) -> None:
    existing = (await client.call_tool("lytics_get_job", {"job_id": HEALTHY_EXPORT_ID})).structured_content["job"]  # type: ignore[index]
    arguments = {"name": existing["name"], "workflow": existing["workflow"], "config": existing["config"]}
    arguments |= {"auth_ids": existing["auth_ids"]} if existing["auth_ids"] else {}
    proposal = await client.call_tool("lytics_create_job", arguments)
    assert "exist already" in text_of(proposal) and HEALTHY_EXPORT_ID in text_of(proposal)
    sandbox.faults.add("POST", "/v2/job/*", drop="after", times=1)
    done = await client.call_tool("confirm_action", {"confirmation_id": proposal.structured_content["confirmation_id"]})  # type: ignore[index]
    assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]
    assert done.structured_content["target"]["id"] != HEALTHY_EXPORT_ID  # type: ignore[index]
    assert sandbox.hits("POST") == 1


async def test_an_update_lists_every_changed_path(client: Client) -> None:
    job = (await client.call_tool("lytics_get_job", {"job_id": HEALTHY_EXPORT_ID})).structured_content["job"]  # type: ignore[index]
    config = dict(job["config"]) | {"merge_fields": {"deep": {"a": {"b": 1}, "c": "x" * 500}, "other": 2}}
    proposal = await client.call_tool("lytics_update_job", {"job_id": HEALTHY_EXPORT_ID, "config": config})
    fields = {c["field"] for c in proposal.structured_content["changes"]}  # type: ignore[index]
    assert {"config.merge_fields.deep.a.b", "config.merge_fields.deep.c", "config.merge_fields.other"} <= fields
    text = text_of(proposal)
    assert all(f in text for f in fields)
    assert "sha256" in text, "a body too large to show whole is named by size and hash, not cut silently"
