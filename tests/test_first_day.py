"""The first day in production: strict settings, honest start-up, quiet pipes and clear words (issue 23)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from mcp import Client

from jobs_mcp import registry
from jobs_mcp.app import build_server
from jobs_mcp.audit import AuditLog
from jobs_mcp.config import ConfigError, load_settings
from jobs_mcp.providers.lytics.simulator import HEALTHY_EXPORT_ID
from jobs_mcp.runtime import Runtime
from support import BIN, CANARY, FAST, Sandbox, child_env, free_port, http_process, text_of


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
        ('colour = "blue"', "a strait account takes token, token_env, url"),
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


# --- start only when the promises can be kept --------------------------------------------------------------------

STRONG_KEY = "first-day-gate-key-5d1c9e27b3a84f60"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (("--state", "memory", "--audit-db", "/proc/jobs-mcp-audit.db"), {}, "audit log /proc/jobs-mcp-audit.db"),
        (("--state", "/proc/jobs-mcp-state.db"), {}, "state file /proc/jobs-mcp-state.db"),
        (("--state", "redis://127.0.0.1:1/0"), {"JOBS_MCP_GATE_KEY": STRONG_KEY}, "is unreachable"),
        (("--state", "redis://127.0.0.1:1/0"), {"JOBS_MCP_GATE_KEY": STRONG_KEY, "NO_REDIS": "1"}, "pip install"),
        (("--state", "redis://127.0.0.1:1/0"), {}, "JOBS_MCP_GATE_KEY"),
    ],
    ids=["audit log unwritable", "state file unwritable", "redis unreachable", "no redis package", "no gate key"],
)
@pytest.mark.parametrize("transport", [(), ("--http", "--port", "0")], ids=["stdio", "http"])
def test_serve_refuses_to_start_when_it_cannot_write_its_audit_log_or_state(
    args: tuple[str, ...], env: dict[str, str], named: str, transport: tuple[str, ...], tmp_path: Path
) -> None:
    env = dict(env)  # the parameters are shared by both transports
    if env.pop("NO_REDIS", None):  # a Python where `import redis` fails, as without the package
        (tmp_path / "no-redis").mkdir()
        (tmp_path / "no-redis" / "redis.py").write_text("raise ImportError(\"No module named 'redis'\")\n")
        env["PYTHONPATH"] = str(tmp_path / "no-redis")
    transport = tuple(a if a != "0" else str(free_port()) for a in transport)
    result = run("serve", *transport, "--audit-db", str(tmp_path / "audit.db"), *args, **env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr and named in lines[-1], result.stderr
    assert "serving" not in result.stderr and result.stdout == ""


@pytest.mark.anyio
async def test_a_write_whose_audit_log_became_unwritable_says_why_and_sends_nothing() -> None:
    sandbox = Sandbox()
    async with Client(sandbox.server) as client:
        proposal = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
        os.mkdir(sandbox.settings.audit_db or "")  # the log is now a folder: no row can be written
        done = await client.call_tool("confirm_action", {"confirmation_id": cid})
    assert done.is_error
    said = text_of(done)
    assert "Nothing was sent: the audit log" in said and "--audit-db" in said and "propose the action again" in said
    assert sandbox.hits("POST") == 0


# --- quiet pipes -------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("command", [("demo",), ("audit", "--json", "--limit", "2000")], ids=["demo", "audit"])
def test_output_piped_into_a_reader_that_stops_early_ends_without_a_traceback(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    audit = AuditLog(tmp_path / "audit.db")
    for n in range(2000):  # more than a pipe's buffer holds
        audit.intent(f"pause:{n}", "acme", "lytics_pause_job", {"method": "POST", "url": f"http://x/{'y' * 60}"})
    audit.close()
    env = child_env(JOBS_MCP_AUDIT_DB=str(tmp_path / "audit.db"))
    with subprocess.Popen(
        [str(BIN), *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline()  # like `| head -1`: one line, then the reader is gone
        proc.stdout.close()
        errors = proc.stderr.read().decode()
        assert proc.wait(timeout=120) in (0, 141)
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors


# --- steady under load -------------------------------------------------------------------------------------------

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
PING = {"jsonrpc": "2.0", "id": 2, "method": "ping"}


@pytest.mark.slow
def test_sessions_are_capped_and_closed_when_idle(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [str(BIN), "serve", "--http", "--port", str(port), "--audit-db", str(tmp_path / "audit.db")]
    args += ["--max-sessions", "2", "--session-idle-timeout", "1"]
    with http_process(args, base + "/healthz", tmp_path / "server.log"):
        opened = [httpx.post(base + "/mcp", json=INIT, headers=MCP_HEADERS) for _ in range(3)]
        assert [r.status_code for r in opened] == [200, 200, 503]
        first = opened[0].headers["mcp-session-id"]
        time.sleep(2.5)  # both sessions go idle past the timeout and are closed
        gone = httpx.post(base + "/mcp", json=PING, headers=MCP_HEADERS | {"mcp-session-id": first})
        again = httpx.post(base + "/mcp", json=INIT, headers=MCP_HEADERS)
    assert gone.status_code == 404
    assert again.status_code == 200


def test_serve_help_documents_the_session_limits() -> None:
    shown = " ".join(run("serve", "--help").stdout.split())  # as read, whatever the help's line breaks
    assert "--session-idle-timeout" in shown and "--max-sessions" in shown and "KiB each" in shown


def test_audit_retention_drops_old_whole_writes_and_never_an_unknown_outcome(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    log = AuditLog(path)
    request = {"method": "POST", "url": "http://x/v2/job/1/pause"}
    for action in ("old-done", "old-unknown", "new-done"):
        log.intent(action, "acme", "lytics_pause_job", request)
    log.outcome("old-done", "acme", "lytics_pause_job", request, {"status": "executed"})
    log.outcome("new-done", "acme", "lytics_pause_job", request, {"status": "executed"})
    log.close()
    with closing(sqlite3.connect(path)) as db, db:  # two of the writes are decades old
        db.execute("UPDATE audit SET at = '2000-01-01T00:00:00.000+00:00' WHERE action LIKE 'old-%'")
    kept = AuditLog(path, keep_days=30)
    records = {r["action"]: r for r in kept.recent(10)}
    kept.close()
    assert set(records) == {"old-unknown", "new-done"}
    assert records["old-unknown"]["outcome"] is None  # still says the write may have landed unseen


# --- the approval page at a known address ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_stdio_approval_page_listens_on_the_port_asked_for() -> None:
    port = free_port()
    sandbox = Sandbox()
    settings = sandbox.settings.model_copy(update={"approval_port": port})
    runtime = Runtime(settings, policy=FAST, sandbox_apps={"lytics": sandbox.app})
    async with Client(build_server(settings, runtime)) as client:
        proposal = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    assert f"http://localhost:{port}/approve/" in text_of(proposal)


@pytest.mark.anyio
async def test_approval_links_use_the_public_url_behind_a_proxy() -> None:
    sandbox = Sandbox()
    settings = sandbox.settings.model_copy(update={"public_url": "https://mcp.example.com"})
    runtime = Runtime(settings, policy=FAST, sandbox_apps={"lytics": sandbox.app})
    async with Client(build_server(settings, runtime)) as client:
        proposal = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    assert "https://mcp.example.com/approve/" in text_of(proposal)
