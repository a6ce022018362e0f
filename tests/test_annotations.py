"""Annotations are a contract: clients decide their own approval prompts from them (Codex, Mastra), so what every
tool says of itself is derived here from what each write declares it does, independently of the server's code.

Read through the real MCP client, for every provider's tools and the shared ones.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.types import Tool

from cases import Cases, all_cases
from jobs_mcp import registry
from jobs_mcp.operations import Operation
from support import Sandbox

pytestmark = pytest.mark.anyio

CASES = all_cases()
# Named in issue 21 as carrying destructiveHint false although they stop work or act in bulk.
MUST_BE_DESTRUCTIVE = {
    "owlmetry_cancel_job_run",
    "wiserows_cancel_job",
    "strait_cancel_run",
    "strait_create_jobs",
    "strait_trigger_jobs",
    "strait_enable_jobs",
    "strait_disable_jobs",
    "strait_delete_job",
    "lytics_kill_job",
    "arroyo_delete_pipeline",
}
SHARED = {"confirm_action", "cancel_action", "list_pending_actions", "data_health_report"}


async def _tools(provider: str) -> dict[str, Tool]:
    sandbox = Sandbox(provider=provider)
    async with Client(sandbox.server) as client:
        return {t.name: t for t in (await client.list_tools()).tools}


def _expected(op: Operation[Any, Any]) -> tuple[bool, bool]:
    """(destructive, idempotent) as the write's declaration implies: it deletes or stops work, cannot be undone, or
    acts on many things at once -> destructive; a retry is harmless only when it sets a state, stops or removes."""
    spec = op.write
    assert spec is not None
    destructive = (
        spec.effect in ("interrupts", "restarts", "removes") or spec.risk.level == "high" or spec.risk.irreversible
    )
    return destructive, spec.effect in ("changes", "interrupts", "removes")


@pytest.mark.parametrize("cases", CASES, ids=[c.provider for c in CASES])
async def test_hints_follow_from_each_writes_declared_risk(cases: Cases) -> None:
    tools = await _tools(cases.provider)
    for op in registry.provider(cases.provider).operations():
        hints = tools[op.name].annotations
        assert hints is not None and tools[op.name].title, f"{op.name} has no title"
        assert hints.title == tools[op.name].title
        assert hints.open_world_hint is True
        if op.write is None:
            assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == (True, False, True), op.name
            continue
        assert hints.read_only_hint is False, op.name
        assert (hints.destructive_hint, hints.idempotent_hint) == _expected(op), op.name
        if op.name in MUST_BE_DESTRUCTIVE:
            assert hints.destructive_hint is True, op.name
        if op.write.effect == "adds":  # a create or trigger: never "safe to retry", and a lost answer is handled
            assert op.write.find_created is not None or op.write.resend_when_lost, f"{op.name}: a lost answer?"
        if op.write.typed_confirmation:
            assert op.write.effect == "removes" and op.write.risk.irreversible, op.name
        if op.write.risk.irreversible:
            assert op.write.risk.level == "high" and op.write.typed_confirmation, op.name


async def test_shared_tools_have_titles_and_honest_hints() -> None:
    tools = await _tools("lytics")
    for name in SHARED:
        tool = tools[name]
        assert tool.title and tool.annotations is not None and tool.annotations.title == tool.title, name
    confirm = tools["confirm_action"].annotations
    assert confirm is not None and confirm.destructive_hint is True and confirm.idempotent_hint is False
    for name in ("list_pending_actions", "data_health_report"):
        hints = tools[name].annotations
        assert hints is not None and hints.read_only_hint is True
    cancel = tools["cancel_action"].annotations  # discards a proposal: changes nothing on any platform
    assert cancel is not None and cancel.destructive_hint is False and cancel.open_world_hint is False
