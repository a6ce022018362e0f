"""Every argument is checked before anything is sent, reads included, and every refusal is bounded in size and said
in plain words. Through the real MCP client against the simulators; the request counter proves nothing left."""

from __future__ import annotations

import pytest
from mcp import Client

from jobs_mcp.providers.strait.seed import CATALOG_JOB_ID, FLAKY_JOB_ID, HEALTHY_JOB_ID, HEALTHY_JOB_SLUG
from support import Sandbox, text_of

pytestmark = pytest.mark.anyio

MISSING = "00000000-0000-7000-8000-000000000000"


@pytest.mark.parametrize(
    ("tool", "arguments", "said"),
    [
        ("strait_list_jobs", {"cursor": "page-2"}, "cursor: must be the next_cursor"),
        ("strait_list_runs", {"cursor": "abc"}, "cursor: must be the next_cursor"),
        ("strait_list_job_versions", {"job_id": HEALTHY_JOB_ID, "cursor": "x"}, "cursor"),
        ("strait_list_jobs", {"tag_value": "nightly"}, "tag_value needs tag_key"),
        ("strait_trigger_job", {"job_id": HEALTHY_JOB_ID, "idempotency_key": "é😀"}, "printable ASCII"),
        ("strait_trigger_job", {"job_id": HEALTHY_JOB_ID, "idempotency_key": "a\r\nX-Injected: 1"}, "idempotency_key"),
        ("strait_trigger_job", {"job_id": HEALTHY_JOB_ID, "idempotency_key": "a\x00b"}, "idempotency_key"),
        ("strait_create_job", {"name": "n", "slug": "Not A Slug!"}, "slug: not in the expected form (unique slug"),
    ],
)
async def test_a_bad_argument_is_refused_before_any_call(tool: str, arguments: dict[str, object], said: str) -> None:
    sandbox = Sandbox(provider="strait", confirm="token")
    async with Client(sandbox.server) as client:
        refused = await client.call_tool(tool, arguments)
    text = text_of(refused)
    assert refused.is_error and said in text and "Nothing was sent" in text, text
    assert "^" not in text and "pattern" not in text, "a regex is no explanation"
    assert sandbox.hits() == 0


async def test_refusals_are_bounded_and_count_the_problems() -> None:
    sandbox = Sandbox(provider="strait", confirm="token")
    async with Client(sandbox.server) as client:
        flood = await client.call_tool("data_health_report", {"providers": [f"zz{i}" for i in range(10_000)]})
        tags = await client.call_tool(
            "strait_update_job", {"job_id": HEALTHY_JOB_ID, "tags": {f"k{i}": "v" * 50 for i in range(5_000)}}
        )
    assert flood.is_error and len(text_of(flood)) < 2_000 and "10000 problems in all" in text_of(flood)
    assert tags.is_error and len(text_of(tags)) < 2_000, len(text_of(tags))
    assert sandbox.hits() == 0


async def test_a_dependency_on_a_job_that_does_not_exist_is_not_proposed() -> None:
    sandbox = Sandbox(provider="strait", confirm="token")
    async with Client(sandbox.server) as client:
        refused = await client.call_tool(
            "strait_add_job_dependency", {"job_id": FLAKY_JOB_ID, "depends_on_job_id": MISSING}
        )
        fine = await client.call_tool(
            "strait_add_job_dependency", {"job_id": FLAKY_JOB_ID, "depends_on_job_id": CATALOG_JOB_ID}
        )
    assert refused.is_error and "depends_on_job_id" in text_of(refused) and MISSING in text_of(refused)
    assert not fine.is_error, text_of(fine)


async def test_resuming_a_job_that_is_not_paused_says_so() -> None:
    sandbox = Sandbox(provider="strait", confirm="token")
    async with Client(sandbox.server) as client:
        refused = await client.call_tool("strait_resume_job", {"job_id": HEALTHY_JOB_ID})
    assert refused.is_error and "already not paused" in text_of(refused) and "disabled" not in text_of(refused)


async def test_a_create_strait_would_refuse_is_refused_with_every_problem_at_once() -> None:
    sandbox = Sandbox(provider="strait", confirm="token")
    async with Client(sandbox.server) as client:
        missing = await client.call_tool("strait_create_job", {"name": "Noon", "slug": "noon"})
        wrong = await client.call_tool(
            "strait_create_job",
            {
                "name": "Noon",
                "slug": "noon",
                "endpoint_url": "ftp://example.com/run",
                "cron": "every day at noon",
                "timezone": "Mars/Olympus_Mons",
            },
        )
        out_of_range = await client.call_tool(
            "strait_create_job",
            {"name": "Noon", "slug": "noon", "endpoint_url": "https://example.com/run", "cron": "61 25 * * *"},
        )
        private = await client.call_tool(
            "strait_create_job", {"name": "Noon", "slug": "noon", "endpoint_url": "http://127.0.0.1:8080/run"}
        )
    assert missing.is_error and "endpoint_url: required" in text_of(missing)
    text = text_of(wrong)
    assert wrong.is_error and all(f in text for f in ("endpoint_url:", "cron:", "timezone:")), text
    assert "5 fields" in text and "IANA" in text
    assert out_of_range.is_error and "minute and hour" in text_of(out_of_range)
    assert private.is_error and "private or loopback" in text_of(private)
    assert sandbox.hits() == 0


async def test_a_slug_that_is_taken_is_refused_before_the_person_is_asked() -> None:
    sandbox = Sandbox(provider="strait", confirm="token")
    url = "https://example.com/run"
    async with Client(sandbox.server) as client:
        taken = await client.call_tool(
            "strait_create_job", {"name": "Again", "slug": HEALTHY_JOB_SLUG, "endpoint_url": url}
        )
        twice = await client.call_tool(
            "strait_create_jobs",
            {
                "jobs": [{"name": "A", "slug": "same-slug", "endpoint_url": url}] * 2
                + [{"name": "B", "slug": HEALTHY_JOB_SLUG, "endpoint_url": url}]
            },
        )
        clone = await client.call_tool(
            "strait_clone_job", {"job_id": FLAKY_JOB_ID, "name": "C", "slug": HEALTHY_JOB_SLUG}
        )
    assert taken.is_error and HEALTHY_JOB_ID in text_of(taken) and "nothing was proposed" in text_of(taken)
    assert twice.is_error and "same-slug is given 2 times" in text_of(twice) and HEALTHY_JOB_SLUG in text_of(twice)
    assert clone.is_error and "is taken by job" in text_of(clone)
    assert sandbox.hits("POST") == 0


@pytest.mark.parametrize("tool", ["strait_get_job", "strait_pause_job", "strait_list_runs"])
async def test_a_slug_given_as_a_job_id_gets_a_did_you_mean(tool: str) -> None:
    sandbox = Sandbox(provider="strait", confirm="token")
    async with Client(sandbox.server) as client:
        refused = await client.call_tool(tool, {"job_id": HEALTHY_JOB_SLUG})
    text = text_of(refused)
    assert refused.is_error and "is a job's slug, not its ID" in text and f'job_id="{HEALTHY_JOB_ID}"' in text, text
    assert sandbox.hits("GET", "/v1/jobs") == 1 and sandbox.hits() == 1  # one lookup by slug, nothing else


async def test_nested_values_read_as_json() -> None:
    sandbox = Sandbox(provider="strait", confirm="token")
    async with Client(sandbox.server) as client:
        proposal = await client.call_tool(
            "strait_trigger_job", {"job_id": HEALTHY_JOB_ID, "payload": {"full": True, "note": None}}
        )
    assert '{"full": true, "note": null}' in text_of(proposal) and "True" not in text_of(proposal)
