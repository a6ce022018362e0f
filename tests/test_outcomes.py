"""Outcomes never invite a duplicate: every write of every provider, its request handled by the simulator but its
answer unreadable (a 2xx whose body is broken) or lost, is reported as done (found, or resent with its key) or as
outcome unknown with how to check — never "failed", never "try again". A request refused on this machine before
any byte left says nothing was sent.

Through the real MCP client against each provider's simulator (tests/cases), channel 3 (confirmation ids).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from mcp import Client

from cases import Cases, all_cases
from jobs_mcp import registry
from support import Sandbox, text_of

pytestmark = pytest.mark.anyio

CASES = all_cases()
WRITES = [(c, tool, args) for c in CASES for tool, args in c.writes.items()]


def _op(cases: Cases, tool: str) -> Any:
    return next(op for op in registry.provider(cases.provider).operations() if op.name == tool)


async def _confirm_with_fault(cases: Cases, tool: str, args: dict[str, Any], **fault: Any) -> tuple[Sandbox, Any]:
    sandbox = Sandbox(provider=cases.provider, confirm="token", allow_high_risk_ids=True)
    async with Client(sandbox.server) as client:
        proposal = await client.call_tool(tool, args)
        assert not proposal.is_error, text_of(proposal)
        p = proposal.structured_content
        assert p is not None
        request = p["request"]
        sandbox.faults.add(request["method"], urlsplit(request["url"]).path, times=1, **fault)
        confirm: dict[str, Any] = {"confirmation_id": p["confirmation_id"]}
        if p["requires_typed_id"]:
            confirm["typed_job_id"] = p["target"]["id"]
        done = await client.call_tool("confirm_action", confirm)
    return sandbox, done


@pytest.mark.parametrize(("cases", "tool", "args"), WRITES, ids=[t for _, t, _ in WRITES])
@pytest.mark.parametrize("fault", [{"body": "garbled"}, {"drop": "after"}], ids=["unreadable-2xx", "lost"])
async def test_a_write_that_landed_without_a_readable_answer_is_never_failed(
    cases: Cases, tool: str, args: dict[str, Any], fault: dict[str, Any]
) -> None:
    sandbox, done = await _confirm_with_fault(cases, tool, args, **fault)
    text = text_of(done)
    assert not done.is_error, text
    outcome = done.structured_content
    assert outcome is not None and outcome["status"] in ("executed", "unknown"), text
    assert "try again" not in text.lower(), text
    spec = _op(cases, tool).write
    path = urlsplit(outcome["request"]["url"]).path
    sent = sandbox.hits(outcome["request"]["method"], path)
    if spec.find_created is not None:  # looked up, never resent: exactly one was made, and found
        assert sent == 1 and outcome["status"] == "executed" and "looked up" in text, text
    elif spec.resend_when_lost:  # resent with the same idempotency key: the platform does not act twice
        assert sent == 2 and outcome["status"] == "executed" and "sent once more" in text, text
    else:
        assert sent == 1 and outcome["status"] == "unknown" and "check" in text, text


async def test_a_header_http_cannot_carry_is_refused_before_anything_is_proposed() -> None:
    sandbox = Sandbox(provider="strait", confirm="token")
    cases = next(c for c in CASES if c.provider == "strait")
    args = cases.writes["strait_trigger_job"]
    async with Client(sandbox.server) as client:
        for key in ("é😀", "a\r\nX-Injected: 1", "a\x00b", "x" * 300):
            refused = await client.call_tool("strait_trigger_job", {**args, "idempotency_key": key})
            assert refused.is_error and "idempotency_key" in text_of(refused), text_of(refused)
            assert "Nothing was sent" in text_of(refused)
    assert sandbox.hits() == 0
