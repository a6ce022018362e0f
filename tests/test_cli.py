"""The `jobs-mcp` command as a person uses it: help, the demo, config errors, the sandbox's fault flags."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from jobs_mcp.config import ConfigError, load_settings
from support import BIN, CANARY, child_env


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=120, env=child_env(**env))


def test_help_explains_every_command() -> None:
    top = run("--help")
    assert top.returncode == 0
    for command in ("serve", "demo", "sandbox", "audit"):
        assert command in top.stdout
    assert "LYTICS_API_TOKEN" in top.stdout
    serve = run("serve", "--help").stdout
    assert "--read-only" in serve and "--confirm" in serve and "--http" in serve
    assert "fault spec" in run("sandbox", "--help").stdout


def test_demo_runs_the_whole_script_on_the_sandbox() -> None:
    demo = run("demo")
    assert demo.returncode == 0, demo.stderr
    out = demo.stdout
    for expected in (
        "the server offers 19 tools",
        "| ID | name | workflow | status | updated |",
        "UNAUTHORIZED-017",
        "Last 24 h:",
        "Data health: UNHEALTHY",
        "PROPOSED, not done yet",
        "DONE: Pause job",
        "refused, as it should be",
        "already used",
    ):
        assert expected in out, expected


def test_bad_settings_exit_with_a_clear_message(tmp_path: Path) -> None:
    bad = run("serve", "--http", "--host", "0.0.0.0")
    assert bad.returncode == 2 and "loopback" in bad.stderr
    fault = run("sandbox", "--fault", "GET /v2/job:status=abc")
    assert fault.returncode == 2 and "--fault" in fault.stderr
    url = run("serve", LYTICS_API_TOKEN=CANARY, LYTICS_API_URL="ftp://nope")
    assert url.returncode == 2 and "LYTICS_API_URL" in url.stderr and CANARY not in url.stderr


def test_accounts_file(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text('[lytics.acme]\ntoken_env = "ACME_TOKEN"\n\n[lytics.beta]\ntoken = "t2"\nurl = "http://x"\n')
    settings = load_settings({"ACME_TOKEN": CANARY}, accounts_file=str(accounts))
    assert [a.name for a in settings.accounts] == ["acme", "beta"]
    assert CANARY not in repr(settings)
    with pytest.raises(ConfigError, match="ACME_TOKEN"):
        load_settings({}, accounts_file=str(accounts))
    with pytest.raises(ConfigError, match="not valid TOML"):
        accounts.write_text("[lytics.acme\n")
        load_settings({}, accounts_file=str(accounts))
