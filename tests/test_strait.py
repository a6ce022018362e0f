"""Strait-only behaviour: the idempotent trigger resent after a lost answer, triggers of paused/disabled jobs
refused and explained, scope 403s naming the scope, and the plain-text rate limit read as a rate limit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from mcp import Client
from pydantic import SecretStr

from jobs_mcp.app import build_server
from jobs_mcp.config import Account
from jobs_mcp.errors import ApiError
from jobs_mcp.providers.strait.seed import (
    DEAD_LETTER_RUN_ID,
    DISABLED_JOB_ID,
    HEALTHY_JOB_ID,
    MANUAL_JOB_ID,
    NO_TRIGGER_TOKEN,
    PAUSED_JOB_ID,
    PROJECT_ID,
    QUEUED_RUN_ID,
    READ_ONLY_TOKEN,
    parse_stamp,
    stamp,
)
from jobs_mcp.runtime import Runtime
from support import FAST, Sandbox, text_of

pytestmark = pytest.mark.anyio


def as_token(sandbox: Sandbox, token: str) -> Sandbox:
    """The sandbox's server rebuilt to call the simulator with one of its seeded limited API keys."""
    account = Account(
        name="sandbox",
        provider="strait",
        url="http://strait.sandbox",
        token=SecretStr(token),
        extras={"project_id": PROJECT_ID},
        sandbox=True,
    )
    sandbox.settings = sandbox.settings.model_copy(update={"accounts": (account,)})
    sandbox.runtime = Runtime(sandbox.settings, policy=FAST, sandbox_apps={"strait": sandbox.app})
    sandbox.server = build_server(sandbox.settings, sandbox.runtime)
    return sandbox


async def propose_and_confirm(client: Client, tool: str, args: dict[str, Any]) -> tuple[dict[str, Any], str]:
    proposal = await client.call_tool(tool, args)
    assert not proposal.is_error, text_of(proposal)
    p = proposal.structured_content
    assert p is not None
    done = await client.call_tool("confirm_action", {"confirmation_id": p["confirmation_id"]})
    assert not done.is_error, text_of(done)
    assert done.structured_content is not None
    return p, text_of(done)


async def test_a_trigger_whose_answer_was_lost_is_resent_and_starts_one_run() -> None:
    sandbox = Sandbox(provider="strait", confirm="token")
    sandbox.faults.add("POST", "/v1/jobs/*/trigger", drop="after", times=1)
    async with Client(sandbox.server) as client:
        proposal, done = await propose_and_confirm(client, "strait_trigger_job", {"job_id": HEALTHY_JOB_ID})
    key = proposal["request"]["headers"]["Idempotency-Key"]
    assert "Idempotency-Key" in proposal["risk"]["note"]
    assert "DONE" in done and "answer was lost" in done and "sent once more" in done
    assert sandbox.hits("POST", "/v1/jobs/*/trigger") == 2
    runs = [r for r in sandbox.app.state.store.all("run", parent=HEALTHY_JOB_ID) if r.get("idempotency_key") == key]
    assert len(runs) == 1


async def test_the_trigger_key_is_fixed_when_proposed() -> None:
    sandbox = Sandbox(provider="strait", confirm="token")
    async with Client(sandbox.server) as client:
        first = await client.call_tool("strait_trigger_job", {"job_id": HEALTHY_JOB_ID})
        again = await client.call_tool("strait_trigger_job", {"job_id": HEALTHY_JOB_ID})
        own = await client.call_tool("strait_trigger_job", {"job_id": HEALTHY_JOB_ID, "idempotency_key": "run-2"})
    keys = [r.structured_content["request"]["headers"]["Idempotency-Key"] for r in (first, again, own)]  # type: ignore[index]
    assert keys[0] == keys[1] != keys[2] == "run-2"


@pytest.mark.parametrize(("job_id", "state", "next_tool"), [
    (PAUSED_JOB_ID, "paused", "strait_resume_job"),
    (DISABLED_JOB_ID, "disabled", "strait_enable_jobs"),
])  # fmt: skip
async def test_a_trigger_of_a_paused_or_disabled_job_is_refused_and_the_api_answer_explained(
    job_id: str, state: str, next_tool: str
) -> None:
    sandbox = Sandbox(provider="strait", confirm="token")
    async with Client(sandbox.server) as client:
        refused = await client.call_tool("strait_trigger_job", {"job_id": job_id})
    assert refused.is_error and state in text_of(refused) and next_tool in text_of(refused)
    assert sandbox.hits("POST") == 0
    api = sandbox.runtime.client("strait")
    with pytest.raises(ApiError) as answer:  # what Strait itself says when the trigger is sent anyway
        await api.request("POST", f"/v1/jobs/{job_id}/trigger", body={})
    assert answer.value.status in (400, 409) and next_tool in str(answer.value)


@pytest.mark.parametrize(("token", "tool", "args", "scope"), [
    (READ_ONLY_TOKEN, "strait_pause_job", {"job_id": HEALTHY_JOB_ID}, "jobs:write"),
    (NO_TRIGGER_TOKEN, "strait_trigger_job", {"job_id": HEALTHY_JOB_ID}, "jobs:trigger"),
])  # fmt: skip
async def test_a_key_without_the_scope_gets_a_403_naming_it(
    token: str, tool: str, args: dict[str, Any], scope: str
) -> None:
    sandbox = as_token(Sandbox(provider="strait", confirm="token"), token)
    async with Client(sandbox.server) as client:
        proposal = await client.call_tool(tool, args)
        assert not proposal.is_error, text_of(proposal)  # reading the job is allowed
        cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
        done = await client.call_tool("confirm_action", {"confirmation_id": cid})
    text = text_of(done)
    assert done.structured_content["status"] == "failed"  # type: ignore[index]
    assert "HTTP 403" in text and scope in text and "scopes" in text


async def test_the_plain_text_rate_limit_reads_as_a_rate_limit() -> None:
    sandbox = Sandbox(provider="strait")
    api = sandbox.runtime.client("strait")
    body = {"items": [{"payload": {"user_id": "u"}}]}
    with pytest.raises(ApiError) as limited:
        for _ in range(6):  # the bulk trigger route allows 5 a minute
            await api.request("POST", f"/v1/jobs/{MANUAL_JOB_ID}/trigger/bulk", body=body)
    text = str(limited.value)
    assert limited.value.status == 429 and "rate limiting" in text and "after 60 s" in text
    assert "JSON" not in text


async def test_a_long_runs_digest_has_its_failure_and_says_the_rest_is_missing() -> None:
    """Strait pages a run's events only back in time, so a run with more than a page of them cannot be read
    whole: the digest holds the oldest page and the oldest error events (the failure at the end), and says so."""
    sandbox = Sandbox(provider="strait")
    store = sandbox.app.state.store
    events = store.all("event", parent=DEAD_LETTER_RUN_ID)
    oldest = min(parse_stamp(e["created_at"]) for e in events)
    chatter = [
        {
            **events[0],
            "id": f"evt_chatter_{i:03}",
            "type": "log",
            "level": "info",
            "message": f"row batch {i} sent",
            "created_at": stamp(oldest - timedelta(seconds=300 - i)),
        }
        for i in range(150)
    ]
    async with Client(sandbox.server) as client:
        short = await client.call_tool("strait_get_run", {"run_id": DEAD_LETTER_RUN_ID})
        assert sandbox.hits("GET", "/v1/runs/*/events") == 1  # one page holds them all: nothing more is read
        store.put_many("event", [(e["id"], DEAD_LETTER_RUN_ID, e) for e in chatter])
        long = await client.call_tool("strait_get_run", {"run_id": DEAD_LETTER_RUN_ID})
        assert sandbox.hits("GET", "/v1/runs/*/events") == 1 + 3  # the page, then the error events and lines
    whole, part = short.structured_content["events"], long.structured_content["events"]  # type: ignore[index]
    assert whole["complete"] and "INCOMPLETE" not in text_of(short)
    errors = sum(g["count"] for g in whole["errors"])
    assert errors >= 3 and not part["complete"]
    assert part["entries"] == 100 + errors  # the oldest page (all chatter) and every error event
    assert sum(g["count"] for g in part["errors"]) == errors
    assert "oldest 100 events" in part["missing"] and "endpoint returned 503" in text_of(long)
    assert f"INCOMPLETE: only {part['entries']:,} entries were read" in text_of(long)


async def test_a_cancel_is_caught_when_the_run_finished_while_the_person_decided() -> None:
    """The stale check is the action's own: a cancel's target is a run, whose status (not a job's flags) decides.
    Here the run ends (cancelled through a second proposal) while the first proposal waits."""
    sandbox = Sandbox(provider="strait", confirm="token")
    async with Client(sandbox.server) as client:
        first = await client.call_tool("strait_cancel_run", {"run_id": QUEUED_RUN_ID})
        assert not first.is_error and first.structured_content is not None, text_of(first)
        await propose_and_confirm(client, "strait_cancel_run", {"run_id": QUEUED_RUN_ID})
        done = await client.call_tool(
            "confirm_action", {"confirmation_id": first.structured_content["confirmation_id"]}
        )
    assert done.is_error and "nothing was sent" in text_of(done) and "already finished" in text_of(done), text_of(done)
    assert sandbox.hits("DELETE") == 1


async def test_the_health_report_says_how_its_run_counts_differ_from_strait_job_health() -> None:
    """The report counts dead-letter runs from the run list; strait_get_job_health leaves them out, as Strait's
    own formula does: each says how it counts, so the two figures can be reconciled."""
    sandbox = Sandbox(provider="strait")
    async with Client(sandbox.server) as client:
        report = text_of(await client.call_tool("data_health_report", {}))
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert "dead_letter" in report and "dead_letter runs included" in report
    assert "dead_letter runs not counted" in (tools["strait_get_job_health"].description or "")


async def test_run_lists_show_job_names_beside_ids() -> None:
    sandbox = Sandbox(provider="strait")
    async with Client(sandbox.server) as client:
        result = await client.call_tool("strait_list_runs", {"limit": 5})
    rows = result.structured_content["items"]  # type: ignore[index]
    assert rows and all(row["job name"] for row in rows)
    assert "| job | job name |" in text_of(result)
