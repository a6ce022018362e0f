"""A platform added from the test folder alone (tests/fakeco) is served, gated and audited: adding a platform
is one provider package and one registry line, with no change to the core."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from mcp import Client
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import cases
from jobs_mcp import registry
from jobs_mcp.config import Account
from jobs_mcp.errors import ApiError
from jobs_mcp.http import ApiClient
from jobs_mcp.operations import Endpoint, OperationInput, QueryStyle
from jobs_mcp.sandbox.auth import TokenAuth
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


async def test_query_encoding_is_declared_per_argument(fakeco: None) -> None:
    """FakeCo refuses a missing boolean and a comma list, and names its prefix filter `q`: its declarations say so
    (Param), and the real simulator answers only when the query is written that way."""
    sandbox = Sandbox(provider="fakeco")
    async with Client(sandbox.server) as client:
        listed = await client.call_tool("fakeco_list_widgets", {"state": ["on", "off"], "name_prefix": "Giz"})
        assert not listed.is_error and "Gizmo" in text_of(listed), text_of(listed)
        none = await client.call_tool("fakeco_list_widgets", {"state": ["off"]})
        assert not none.is_error and "Gizmo" not in text_of(none)
    endpoint = registry.provider("fakeco").operations()[0].endpoint
    assert endpoint is not None
    args = endpoint_args(state=["on", "off"], name_prefix="G", include_retired=False)
    assert endpoint.params_for(args, QueryStyle()) == {"state": ["on", "off"], "q": "G", "include_retired": "false"}
    plain = Endpoint("GET", ("/x",), query=("state", "name_prefix", "include_retired"))
    assert plain.params_for(args, QueryStyle()) == {"state": "on,off", "name_prefix": "G"}  # False left out
    assert plain.params_for(args, QueryStyle(true="1", false="0", lists="repeat")) == {
        "state": ["on", "off"],
        "name_prefix": "G",
        "include_retired": "0",
    }


def endpoint_args(**values: Any) -> OperationInput:
    model = registry.provider("fakeco").operations()[0].input_model
    made: OperationInput = model.model_validate(values)
    return made


async def test_the_auth_scheme_can_depend_on_the_account(fakeco: None) -> None:
    """Hosted FakeCo takes Bearer, a self-hosted one Basic (user:password): one declaration, chosen per account."""
    declared = registry.provider("fakeco")
    cloud = Account(name="cloud", provider="fakeco", url="https://x.example", token=SecretStr("t0k"), extras={})
    own = cloud.model_copy(update={"name": "own", "extras": {"hosting": "self"}, "token": SecretStr("ann:pw")})
    assert declared.authorization(cloud) == "Bearer t0k"
    assert declared.authorization(own) == "Basic " + base64.b64encode(b"ann:pw").decode()

    async def whoami(request: Request) -> JSONResponse:
        return JSONResponse({"items": request.state.grant})

    platform = Starlette(
        routes=[Route("/whoami", whoami)],
        middleware=[Middleware(TokenAuth, resolve=lambda t: {"YW5uOnB3": "ann"}.get(t), refuse=refuse, scheme="Basic")],
    )
    for account, answer in ((own, "ann"), (cloud, None)):
        api = ApiClient(account, declared, transport=httpx.ASGITransport(platform))
        try:
            assert await api.request("GET", "/whoami") == answer
        except ApiError as exc:
            assert answer is None and exc.status == 401
        finally:
            await api.aclose()


def refuse(_scope: Any, _token: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "unauthorized", "message": "no"}}, status_code=401)
