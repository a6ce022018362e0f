"""What a create or trigger needs is reachable from the tools, and what the platform would refuse for it is refused
when proposed, every problem at once, before a person is asked. Through the real MCP client against the simulators;
the request counters prove nothing was written."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from jobs_mcp.providers.lytics.simulator import ACTIVE_AUTH_ID, HEALTHY_EXPORT_ID
from support import Sandbox, text_of

pytestmark = pytest.mark.anyio


def lytics_writes(sandbox: Sandbox) -> int:
    return sandbox.hits("POST") + sandbox.hits("PUT")


# --- Lytics: a workflow's config fields ------------------------------------------------------------------------


async def test_a_workflows_config_fields_are_listed_with_type_required_and_allowed_values() -> None:
    sandbox = Sandbox(confirm="token")
    async with Client(sandbox.server) as client:
        listed = await client.call_tool("lytics_list_workflows", {})
        one = await client.call_tool("lytics_list_workflows", {"workflow": "google-ads-customer-match"})
        unknown = await client.call_tool("lytics_list_workflows", {"workflow": "no_such_flow"})
    assert "workflow=" in text_of(listed) and listed.structured_content["fields"] is None  # type: ignore[index]
    fields = {f["name"]: f for f in one.structured_content["fields"]}  # type: ignore[index]
    assert fields["segment_id"]["required"] and fields["segment_id"]["type"] == "string"
    assert fields["upload_key_type"]["options"] == ["CONTACT_INFO", "CRM_ID", "MOBILE_ADVERTISER_ID"]
    assert "CONTACT_INFO, CRM_ID, MOBILE_ADVERTISER_ID" in text_of(one)
    assert unknown.is_error and "Valid workflows:" in text_of(unknown)


GOOD_ADS = {"segment_id": "s1", "customer_list": "lapsed"}


@pytest.mark.parametrize(
    ("config", "said"),
    [
        (GOOD_ADS | {"segmnt_id": "x"}, "config.segmnt_id: not a field (did you mean segment_id?)"),
        ({"customer_list": "lapsed"}, "config.segment_id: required, missing (string)"),
        (GOOD_ADS | {"customer_list": 7}, "config.customer_list: must be text, not 7"),
        (
            GOOD_ADS | {"upload_key_type": "PHONE"},
            'config.upload_key_type: "PHONE" is not allowed; allowed: "CONTACT_INFO", "CRM_ID", "MOBILE_ADVERTISER_ID"',
        ),
    ],
)
async def test_a_create_whose_config_the_workflow_rules_out_is_not_proposed(config: dict[str, Any], said: str) -> None:
    sandbox = Sandbox(confirm="token")
    args = {"name": "Ads", "workflow": "google_ads_customer_match", "config": config, "auth_ids": [ACTIVE_AUTH_ID]}
    async with Client(sandbox.server) as client:
        refused = await client.call_tool("lytics_create_job", args)
        fine = await client.call_tool("lytics_create_job", args | {"config": GOOD_ADS})
    text = text_of(refused)
    assert refused.is_error and said in text and "Nothing was proposed" in text, text
    assert "The fields of workflow google_ads_customer_match: segment_id (string, required)" in text
    assert not fine.is_error, text_of(fine)
    assert lytics_writes(sandbox) == 0


async def test_every_config_problem_is_named_at_once_and_the_refusal_is_bounded() -> None:
    sandbox = Sandbox(confirm="token")
    config = {"customer_list": 7, "upload_key_type": "PHONE", "segmnt_id": "x"} | {f"k{i}": i for i in range(3000)}
    args = {"name": "Ads", "workflow": "google_ads_customer_match", "config": config, "auth_ids": [ACTIVE_AUTH_ID]}
    async with Client(sandbox.server) as client:
        refused = await client.call_tool("lytics_create_job", args)
    text = text_of(refused)
    assert refused.is_error and len(text) < 2_000, len(text)
    assert all(f in text for f in ("config.customer_list", "config.upload_key_type", "config.segmnt_id"))
    assert "3004 problems in all" in text  # 3003 keys' problems and the missing segment_id
    assert lytics_writes(sandbox) == 0


async def test_an_update_checks_its_config_against_the_jobs_own_workflow() -> None:
    sandbox = Sandbox(confirm="token")
    async with Client(sandbox.server) as client:
        job = (await client.call_tool("lytics_get_job", {"job_id": HEALTHY_EXPORT_ID})).structured_content["job"]  # type: ignore[index]
        partial = await client.call_tool("lytics_update_job", {"job_id": HEALTHY_EXPORT_ID, "config": {"list_id": "x"}})
        whole = await client.call_tool(
            "lytics_update_job", {"job_id": HEALTHY_EXPORT_ID, "config": job["config"] | {"double_opt_in": True}}
        )
    assert job["workflow"] == "mailchimp_sync"
    assert partial.is_error and "config.segment_id: required, missing" in text_of(partial)
    assert "The config is sent whole" in text_of(partial)
    assert not whole.is_error, text_of(whole)
    assert lytics_writes(sandbox) == 0


async def test_without_field_definitions_a_config_goes_to_the_platform_unchecked() -> None:
    sandbox = Sandbox(confirm="token")
    sandbox.faults.add("GET", "/api/workflow/*", status=404)  # a Lytics that serves no workflow details
    args = {"name": "Hook", "workflow": "webhook_triggers", "config": {"whatever": 1}}
    async with Client(sandbox.server) as client:
        proposed = await client.call_tool("lytics_create_job", args)
        details = await client.call_tool("lytics_list_workflows", {"workflow": "webhook_triggers"})
    assert not proposed.is_error, text_of(proposed)
    assert details.is_error and "serves no config field definitions" in text_of(details)
