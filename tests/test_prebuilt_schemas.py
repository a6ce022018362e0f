"""Start-up reads every tool's schemas from ``jobs_mcp/tool_schemas.json`` instead of building them: the file is
never stale (it is what building them gives now), a start that reads it lists exactly what a start that builds them
lists, and a tool made from it is as strict on its first call as one built at once."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from jobs_mcp import registry
from jobs_mcp.app import build_server, enabled_operations, operation_tool
from jobs_mcp.config import Settings, sandbox_account
from jobs_mcp.runtime import Runtime
from jobs_mcp.schemas import PREBUILT
from jobs_mcp.sdk import RoundsTool
from jobs_mcp.snapshot import COMMAND, built_schemas, definitions

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def everything(where: str) -> Settings:
    accounts = tuple(sandbox_account(name) for name in registry.names())
    return Settings(accounts=accounts, audit_db=str(Path(where) / "audit.db"), state="memory")


async def test_the_prebuilt_schemas_are_what_building_them_gives_now() -> None:
    fresh = (await built_schemas()).render()
    assert PREBUILT.read_text(encoding="utf-8") == fresh, (
        f"{PREBUILT.name} is stale: a start would list other schemas than the tools have. Run `{COMMAND}` (from the "
        "repository's root) and commit it."
    )


async def test_a_start_from_prebuilt_schemas_lists_what_building_them_lists() -> None:
    assert await definitions(prebuilt=True) == await definitions()


async def test_no_tool_builds_its_argument_model_at_start(tmp_path: Path) -> None:
    settings = everything(str(tmp_path))
    runtime = Runtime(settings)
    try:
        tools = [operation_tool(op, runtime) for op in enabled_operations(settings)]
    finally:
        await runtime.aclose()
    built = [t.name for t in tools if not (isinstance(t, RoundsTool) and t.deferred)]
    assert not built, f"built at start (their prebuilt schemas missing or made from another signature): {built}"


async def test_a_deferred_tool_is_strict_on_its_first_call() -> None:
    with tempfile.TemporaryDirectory() as where:
        settings = everything(where)
        runtime = Runtime(settings)
        try:
            async with Client(build_server(settings, runtime)) as client:
                wrong: Any = await client.call_tool("lytics_list_jobs", {"invented_filter": 1})
                assert wrong.is_error
                assert "invented_filter: not an argument of this tool" in wrong.content[0].text
                bad: Any = await client.call_tool("lytics_get_job", {"job_id": ""})
                assert bad.is_error and "job_id" in bad.content[0].text
                good = await client.call_tool("lytics_list_jobs", {})
                assert not good.is_error and good.structured_content is not None
        finally:
            await runtime.aclose()
