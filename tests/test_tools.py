"""The read tools through a real in-memory MCP client session, against the in-process sandbox."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from mcp import Client

from jobs_mcp.app import sandbox_mark
from jobs_mcp.providers.lytics.simulator import FACEBOOK_EXPORT_ID
from support import Sandbox, text_of

pytestmark = pytest.mark.anyio

READ_TOOLS = {
    "lytics_list_jobs",
    "lytics_get_job",
    "lytics_list_workflows",
    "lytics_list_auths",
    "lytics_get_job_logs",
    "lytics_list_account_job_logs",
    "lytics_list_streams",
    "lytics_list_schema_fields",
    "lytics_get_event_quota",
    "lytics_wait_for_job",
    "data_health_report",
}


@pytest.fixture(params=["auto", "legacy"])
async def session(request: pytest.FixtureRequest, sandbox: Sandbox) -> Any:
    async with Client(sandbox.server, mode=request.param) as c:
        yield c


async def test_tools_have_valid_schemas_and_annotations(session: Client) -> None:
    tools = {t.name: t for t in (await session.list_tools()).tools}
    assert tools.keys() >= READ_TOOLS
    for tool in tools.values():
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        assert tool.output_schema is not None
        jsonschema.Draft202012Validator.check_schema(tool.output_schema)
        assert tool.annotations is not None
        shared = ("confirm_action", "data_health_report")
        assert tool.annotations.open_world_hint is (tool.name.startswith("lytics_") or tool.name in shared)
        if tool.name in READ_TOOLS:
            assert tool.annotations.read_only_hint is True
            assert tool.annotations.destructive_hint is False
    job_id = tools["lytics_get_job"].input_schema["properties"]["job_id"]
    assert job_id["maxLength"] and job_id["description"]
    assert tools["lytics_get_job"].input_schema["required"] == ["job_id"]
    assert tools["lytics_get_job"].input_schema.get("additionalProperties") is False


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("lytics_list_jobs", {}),
        ("lytics_list_jobs", {"show_all": True, "show_state": True}),
        ("lytics_get_job", {"job_id": FACEBOOK_EXPORT_ID}),
        ("lytics_get_job", {"job_id": FACEBOOK_EXPORT_ID, "workflow": "facebook-audience-populate"}),
        ("lytics_list_workflows", {}),
        ("lytics_get_job_logs", {"job_id": FACEBOOK_EXPORT_ID, "page_size": 3}),
        ("lytics_list_account_job_logs", {}),
    ],
)
async def test_structured_content_matches_output_schema(session: Client, tool: str, arguments: dict[str, Any]) -> None:
    tools = {t.name: t for t in (await session.list_tools()).tools}
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    jsonschema.validate(result.structured_content, tools[tool].output_schema)
    assert result.structured_content["sandbox"] is True
    assert text_of(result).startswith(sandbox_mark("Lytics"))


async def test_list_jobs_is_a_table_and_hides_terminal_jobs(client: Client) -> None:
    default = await client.call_tool("lytics_list_jobs", {})
    everything = await client.call_tool("lytics_list_jobs", {"show_all": True})
    text = text_of(default)
    assert "| ID | name | workflow | status | updated |" in text
    shown = {j["status"] for j in default.structured_content["jobs"]}  # type: ignore[index]
    assert not shown & {"completed", "deleted", "deleting"}
    assert default.structured_content["count"] < everything.structured_content["count"]  # type: ignore[index]
    statuses = {j["status"] for j in everything.structured_content["jobs"]}  # type: ignore[index]
    assert {"completed", "deleted", "paused", "failed"} <= statuses
    assert any(s.startswith("fault-") for s in statuses)
    health = {j["status"]: j["health"] for j in everything.structured_content["jobs"]}  # type: ignore[index]
    assert health["running"] == "live" and health["deleted"] == "deleted" and health["failed"] == "failed"
    assert all(health[s] == "fault" for s in statuses if s.startswith("fault-"))


async def test_list_jobs_filters_by_workflow(client: Client) -> None:
    result = await client.call_tool("lytics_list_jobs", {"workflow": "facebook-audience-populate"})
    jobs = result.structured_content["jobs"]  # type: ignore[index]
    assert jobs and all(j["workflow"] == "facebook_audience_populate" for j in jobs)


async def test_get_job_shows_the_job(client: Client) -> None:
    result = await client.call_tool("lytics_get_job", {"job_id": FACEBOOK_EXPORT_ID})
    job = result.structured_content["job"]  # type: ignore[index]
    assert job["id"] == FACEBOOK_EXPORT_ID and job["workflow"] == "facebook_audience_populate"
    assert result.structured_content["health"] == "fault"  # type: ignore[index]
    assert FACEBOOK_EXPORT_ID in text_of(result) and "fault" in text_of(result)


async def test_unknown_job_says_how_to_find_jobs(client: Client, sandbox: Sandbox) -> None:
    result = await client.call_tool("lytics_get_job", {"job_id": "0" * 32})
    assert result.is_error
    assert "was not found" in text_of(result) and "lytics_list_jobs" in text_of(result)
    assert sandbox.hits("GET", "/v2/job/" + "0" * 32) == 1  # asked the API once; a 404 is not retried


async def test_job_logs_digest_the_failing_export(client: Client) -> None:
    result = await client.call_tool("lytics_get_job_logs", {"job_id": FACEBOOK_EXPORT_ID})
    digest = result.structured_content["digest"]  # type: ignore[index]
    assert digest["entries"] >= 10_000
    assert any(group["code"] == "UNAUTHORIZED-017" for group in digest["errors"])
    assert "UNAUTHORIZED-017" in text_of(result)


async def test_unknown_workflow_lists_valid_ones_without_calling_jobs(client: Client, sandbox: Sandbox) -> None:
    result = await client.call_tool("lytics_list_jobs", {"workflow": "no_such_flow"})
    assert result.is_error
    text = text_of(result)
    assert "workflow" in text and "facebook_audience_populate" in text
    assert sandbox.hits(path_glob="/v2/job*") == 0


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("lytics_get_job", {}, "job_id"),
        ("lytics_get_job", {"job_id": ""}, "job_id"),
        ("lytics_get_job", {"job_id": "../../v2/account"}, "job_id"),
        ("lytics_get_job", {"job_id": 42}, "job_id"),
        ("lytics_get_job", {"job_id": "f" * 5000}, "job_id"),
        ("lytics_get_job", {"job_id": FACEBOOK_EXPORT_ID, "workflow": "bad/flow"}, "workflow"),
        ("lytics_get_job", {"job_id": FACEBOOK_EXPORT_ID, "surprise": 1}, "surprise"),
        ("lytics_list_jobs", {"show_all": "maybe"}, "show_all"),
        ("lytics_list_jobs", {"auth_ids": "not-a-list-of-ids"}, "auth_ids"),
        ("lytics_get_job_logs", {"job_id": FACEBOOK_EXPORT_ID, "newest": 1000}, "newest"),
        ("lytics_get_job_logs", {"job_id": FACEBOOK_EXPORT_ID, "cursor": "x" * 500}, "cursor"),
        ("lytics_list_account_job_logs", {"top": -1}, "top"),
    ],
)
async def test_bad_input_names_the_field_and_sends_nothing(
    client: Client, sandbox: Sandbox, tool: str, arguments: dict[str, Any], field: str
) -> None:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    text = text_of(result)
    assert field in text
    assert len(text) < 2000  # an oversized value is not echoed back whole
    assert sandbox.hits() == 0


async def test_bad_cursor_is_refused_clearly(client: Client) -> None:
    result = await client.call_tool("lytics_get_job_logs", {"job_id": FACEBOOK_EXPORT_ID, "cursor": "bm9wZQ"})
    assert result.is_error and "cursor" in text_of(result)


async def test_read_only_registers_only_reads() -> None:
    sandbox = Sandbox(read_only=True)
    async with Client(sandbox.server) as c:
        tools = (await c.list_tools()).tools
    assert {t.name for t in tools} == READ_TOOLS
    assert "SANDBOX" in (sandbox.server.instructions or "")


def test_jobs_are_read_leniently() -> None:
    from jobs_mcp.providers.lytics.reads import Job
    from jobs_mcp.providers.lytics.vocabulary import status_class

    job = Job.model_validate(
        {"id": 7, "name": None, "status": "runnable", "deleted": None, "brand_new_field": {"x": 1}}
    )
    assert (job.id, job.name, job.status, job.deleted) == ("7", "", "runnable", False)
    assert job.model_extra == {"brand_new_field": {"x": 1}}
    assert [status_class(s) for s in ("running", "runnable", "fault-12", "fault", "killed", "mystery")] == [
        "live",
        "live",
        "fault",
        "fault",
        "deleted",
        "unknown",
    ]
