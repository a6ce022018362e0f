"""The first day in production: strict settings, honest start-up, quiet pipes and clear words (issue 23)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from jobs_mcp import registry
from jobs_mcp.config import ConfigError, load_settings
from support import BIN, CANARY, child_env


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, timeout=120, env=child_env(**env), stdin=subprocess.DEVNULL
    )


# --- strict settings ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ('ulr = "http://127.0.0.1:9"', "did you mean url?"),
        ('token_evn = "X"', "did you mean token_env?"),
        ('projectid = "p1"', "did you mean project_id?"),
        ('colour = "blue"', "a strait account takes token, token_env, url, project_id"),
    ],
)
def test_an_unknown_key_is_refused_with_the_key_the_file_and_the_closest_one(
    line: str, named: str, tmp_path: Path
) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(f'[strait.prod]\ntoken = "{CANARY}"\nproject_id = "p1"\n{line}\n')
    with pytest.raises(ConfigError) as refused:
        load_settings({}, accounts_file=str(accounts))
    message = str(refused.value)
    assert named in message and str(accounts) in message and "[strait.prod]" in message
    assert CANARY not in message


def test_all_combines_with_names_and_names_are_still_checked() -> None:
    assert load_settings({}, providers="all,lytics").providers == registry.names()
    assert load_settings({}, providers="lytics, all").providers == registry.names()
    with pytest.raises(ConfigError, match="unknown nope"):
        load_settings({}, providers="all,nope")


@pytest.mark.parametrize("key", ["short", "a" * 64, "0123456789abcdef0123456789abcde"])
def test_a_weak_gate_key_is_refused(key: str) -> None:
    with pytest.raises(ConfigError, match="JOBS_MCP_GATE_KEY is too weak") as refused:
        load_settings({"JOBS_MCP_GATE_KEY": key})
    assert key not in str(refused.value)


def test_a_rejected_token_names_the_variable_the_account_used(sandbox_http: str, tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(f'[lytics.acme_eu]\ntoken_env = "ACME_EU_LYTICS_TOKEN"\nurl = "{sandbox_http}"\n')
    checked = run("accounts", "--accounts", str(accounts), ACME_EU_LYTICS_TOKEN="wrong-token-for-acme-eu")
    assert checked.returncode == 1
    assert "ACME_EU_LYTICS_TOKEN" in checked.stdout and "LYTICS_API_TOKEN" not in checked.stdout
    assert "wrong-token-for-acme-eu" not in checked.stdout + checked.stderr
