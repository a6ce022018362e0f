"""Request paths go where they are shown: a value that HTTP clients would resolve as a dot segment (``.``,
``..``) or that would leave a segment empty is refused wherever ids and remote text are put into a path."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

from jobs_mcp.operations import Endpoint, segment
from jobs_mcp.providers.lytics.simulator import HEALTHY_EXPORT_ID
from support import Sandbox, text_of

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_a_dot_or_empty_segment_is_refused(value: str) -> None:
    with pytest.raises(ToolError, match="Nothing was sent"):
        segment(value)


@pytest.mark.parametrize("value", [".", ".."])
def test_a_declared_path_refuses_a_dot_segment(value: str) -> None:
    class Args(BaseModel):
        job_id: str

    with pytest.raises(ToolError, match="Nothing was sent"):
        Endpoint("GET", ("/v2/job/{job_id}/x",)).path_for(Args(job_id=value))


@pytest.mark.parametrize("value", ["...", ".a", "a.", "a/..", "%2e%2e"])
def test_other_values_are_one_quoted_segment(value: str) -> None:
    assert "/" not in segment(value) and segment(value) not in (".", "..")


@pytest.mark.parametrize("workflow", ["..", "."])
async def test_a_remote_workflow_that_is_a_dot_segment_sends_nothing(workflow: str) -> None:
    """A Lytics job whose workflow (remote text) reads ``..`` would have its update sent to ``PUT /v2/<id>``."""
    sandbox = Sandbox()
    store: Any = sandbox.app.state.store  # type: ignore[attr-defined]
    record = store.job(HEALTHY_EXPORT_ID)
    record.doc["workflow"] = workflow
    store.save(record)
    async with Client(sandbox.server) as client:
        result = await client.call_tool("lytics_update_job", {"job_id": HEALTHY_EXPORT_ID, "description": "x"})
    assert result.is_error and "into a request path" in text_of(result), text_of(result)
    assert sandbox.hits("PUT") == 0 and sandbox.hits("POST") == 0
