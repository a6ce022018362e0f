"""Writes off per account: an account marked ``read_only = true`` in the accounts file takes no writes (nothing is
proposed, nothing sent), while another account of the same platform does; a platform whose every account is
read-only offers no write tools. Every provider, through the real MCP client on its simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from cases import Cases, all_cases
from jobs_mcp.app import build_server
from jobs_mcp.config import ConfigError, load_settings
from jobs_mcp.runtime import Runtime
from support import FAST, Sandbox, text_of

pytestmark = pytest.mark.anyio

CASES = all_cases()


def _with_accounts(cases: Cases, *, only_read_only: bool = False) -> Sandbox:
    sandbox = Sandbox(provider=cases.provider, confirm="token", allow_high_risk_ids=True)
    first = sandbox.settings.accounts[0]
    prod = first.model_copy(update={"name": "prod", "read_only": True})
    accounts = (prod,) if only_read_only else (first, prod)
    sandbox.settings = sandbox.settings.model_copy(update={"accounts": accounts})
    sandbox.runtime = Runtime(sandbox.settings, policy=FAST, sandbox_apps={cases.provider: sandbox.app})
    sandbox.server = build_server(sandbox.settings, sandbox.runtime)
    return sandbox


@pytest.mark.parametrize("cases", CASES, ids=[c.provider for c in CASES])
async def test_a_read_only_account_takes_no_writes_while_another_does(cases: Cases) -> None:
    sandbox = _with_accounts(cases)
    tool, args = next(iter(cases.writes.items()))
    async with Client(sandbox.server) as client:
        refused = await client.call_tool(tool, {**args, "account": "prod"})
        allowed = await client.call_tool(tool, {**args, "account": "sandbox"})
        read = await client.call_tool(cases.list_tool, {**cases.reads[cases.list_tool], "account": "prod"})
    assert refused.is_error and "read-only" in text_of(refused) and "'prod'" in text_of(refused), text_of(refused)
    assert not allowed.is_error and allowed.structured_content["status"] == "proposed", text_of(allowed)  # type: ignore[index]
    assert not read.is_error, text_of(read)
    assert "prod" in (sandbox.server.instructions or "")


@pytest.mark.parametrize("cases", CASES, ids=[c.provider for c in CASES])
async def test_a_platform_with_only_read_only_accounts_offers_no_writes(cases: Cases) -> None:
    sandbox = _with_accounts(cases, only_read_only=True)
    async with Client(sandbox.server) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert set(cases.reads) <= names and not set(cases.writes) & names


def test_read_only_is_read_from_the_accounts_file(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        '[lytics.prod]\ntoken_env = "PROD_TOKEN"\nread_only = true\n\n[lytics.staging]\ntoken_env = "STAGING_TOKEN"\n'
    )
    env = {"PROD_TOKEN": "p-token-123", "STAGING_TOKEN": "s-token-456"}
    settings = load_settings(env, accounts_file=str(accounts))
    assert {a.name: a.read_only for a in settings.accounts} == {"prod": True, "staging": False}
    accounts.write_text('[lytics.prod]\ntoken_env = "PROD_TOKEN"\nread_only = "yes"\n')
    with pytest.raises(ConfigError, match="read_only must be true or false"):
        load_settings(env, accounts_file=str(accounts))
