"""A platform added from the test folder alone (tests/fakeco) is served, gated and audited: adding a platform
is one provider package and one registry line, with no change to the core."""

from __future__ import annotations

import pytest
from mcp import Client

import cases
from jobs_mcp import registry
from support import Sandbox, text_of

pytestmark = pytest.mark.anyio


@pytest.fixture
def fakeco(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.PROVIDERS, "fakeco", "fakeco")  # the one registry line
    registry.provider.cache_clear()


async def test_a_provider_from_the_test_folder_is_served_gated_and_audited(fakeco: None) -> None:
    sandbox = Sandbox(provider="fakeco", confirm="token")
    async with Client(sandbox.server) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        assert {"fakeco_list_widgets", "fakeco_switch_off_widget", "confirm_action"} <= tools
        listed = await client.call_tool("fakeco_list_widgets", {})
        assert text_of(listed).startswith("[sandbox: simulated FakeCo account") and "Gizmo" in text_of(listed)
        proposal = await client.call_tool("fakeco_switch_off_widget", {"widget_id": "w-1"})
        p = proposal.structured_content
        assert p is not None and p["status"] == "proposed" and p["confirmation_id"].startswith("off:fakeco/sandbox/")
        assert sandbox.hits("POST") == 0
        done = await client.call_tool("confirm_action", {"confirmation_id": p["confirmation_id"]})
        assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]
        assert done.structured_content["target"]["state"] == "off"  # type: ignore[index]
        missing = await client.call_tool("fakeco_switch_off_widget", {"widget_id": "nope"})
        assert missing.is_error and "fakeco_list_widgets" in text_of(missing)
    assert sandbox.hits("POST") == 1
    assert sandbox.runtime.gate.audit.recent()[0]["tool"] == "fakeco_switch_off_widget"


def test_the_shared_suites_cover_every_registered_provider(fakeco: None) -> None:
    """The suites' provider list is registry.py's: a registered platform without cases fails, naming the file."""
    assert cases.provider_names() == registry.names()
    with pytest.raises(LookupError, match=r"tests/cases/fakeco\.py"):
        cases.load("fakeco")
