"""`jobs-mcp accounts`: every configured account listed per platform, sandboxes marked, each checked with one
read-only call; a wrong token is explained, never shown, and makes the command fail."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from jobs_mcp import registry
from jobs_mcp.accounts import probe_operation
from support import BIN, CANARY, child_env, wait_http

WRONG = "wrong-tok-8e1d52c09fa7"  # a token the simulator does not accept; must never show up either


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, timeout=120, env=child_env(**env), stdin=subprocess.DEVNULL
    )


@contextmanager
def simulator_over_http(provider: str, token: str) -> Iterator[str]:
    """`jobs-mcp sandbox --port 0` for one platform, accepting only ``token``; yields its base URL."""
    command = [str(BIN), "sandbox", "--provider", provider, "--port", "0", "--token", token]
    with subprocess.Popen(command, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as proc:
        try:
            assert proc.stderr is not None
            announced = re.search(r"http://127\.0\.0\.1:\d+", proc.stderr.readline().decode())
            assert announced, "the sandbox did not say where it listens"
            wait_http(announced.group() + "/_sandbox/hits", proc)
            yield announced.group()
        finally:
            proc.terminate()


def account_table(provider: str, name: str, url: str, token_line: str) -> str:
    extras = "".join(f'{key} = "{value}"\n' for key, value in registry.provider(provider).sandbox_extras.items())
    return f'[{provider}.{name}]\nurl = "{url}"\n{token_line}\n{extras}\n'


def test_every_platform_has_a_probe_that_reads_without_arguments() -> None:
    for name in registry.names():
        op = probe_operation(name)
        assert op is not None and op.kind == "read", name
        assert not any(f.is_required() for f in op.input_model.model_fields.values())


@pytest.mark.slow
def test_accounts_lists_the_sandboxes_and_checks_each(tmp_path: Path) -> None:
    result = run("accounts", "--providers", "all", XDG_STATE_HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(registry.names())
    for name, line in zip(registry.names(), lines, strict=True):
        assert line.startswith(f"{name}/sandbox ") and "simulated" in line and " ok (" in line, line
    assert " INFO " not in result.stderr  # the default level is WARNING


@pytest.mark.slow
def test_accounts_takes_the_log_level_after_the_command(tmp_path: Path) -> None:
    result = run("accounts", "--log-level", "info", XDG_STATE_HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert " INFO " in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("provider", registry.names())
def test_a_wrong_token_is_explained_never_shown(provider: str, tmp_path: Path) -> None:
    with simulator_over_http(provider, CANARY) as url:
        accounts = tmp_path / "accounts.toml"
        accounts.write_text(
            account_table(provider, "good", url, 'token_env = "GOOD_TOKEN"')
            + account_table(provider, "bad", url, f'token = "{WRONG}"')
        )
        result = run(
            "accounts",
            "--accounts",
            str(accounts),
            "--log-level",
            "DEBUG",
            GOOD_TOKEN=CANARY,
            XDG_STATE_HOME=str(tmp_path),
        )
    output = result.stdout + result.stderr
    assert CANARY not in output and WRONG not in output
    assert result.returncode == 1, output
    good, bad = result.stdout.splitlines()
    assert good.startswith(f"{provider}/good ") and url in good and " ok (" in good, good
    assert bad.startswith(f"{provider}/bad ") and "FAILED: " in bad and "401" in bad, bad
    assert "Traceback" not in result.stderr
    assert "1 of 2 account(s) did not answer" in result.stderr


@pytest.mark.slow
def test_an_unreachable_account_fails_with_its_reason(tmp_path: Path) -> None:
    result = run("accounts", LYTICS_API_TOKEN=CANARY, LYTICS_API_URL="http://127.0.0.1:9", XDG_STATE_HOME=str(tmp_path))
    assert result.returncode == 1
    assert "lytics/default" in result.stdout and "Cannot reach Lytics" in result.stdout
    assert CANARY not in result.stdout + result.stderr
