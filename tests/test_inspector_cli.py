"""Interop: the official MCP Inspector's CLI (`inspector --cli`, @modelcontextprotocol/inspector) against
`jobs-mcp serve`, over stdio (one server process per CLI call) and over streamable HTTP.

Needs `npm ci --prefix tests/node` (the README's test command and .ci/run do it); the Inspector and the Node 22
it needs live in tests/node/node_modules. Skipped without them, failed under CI.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jobs_mcp.providers.lytics.simulator import HEALTHY_EXPORT_ID
from support import BIN, NODE_BIN, child_env, free_port, http_process, missing, node, node_major

INSPECTOR = NODE_BIN / "inspector"

pytestmark = pytest.mark.slow  # every Inspector call is a Node process starting a server process


@pytest.fixture(autouse=True)
def _inspector_installed() -> None:
    node()  # tests/node installed and a Node 20+ (skipped, or failed under CI, otherwise)
    if not INSPECTOR.exists() or node_major(str(NODE_BIN / "node")) < 22:
        missing(f"the MCP Inspector and Node 22 are not in {NODE_BIN}: run `npm ci --prefix tests/node`")


def inspector(tmp: Path, *args: str) -> Any:
    """One `inspector --cli ...` call: a clean environment (no platform or jobs-mcp settings, HOME and state in
    tmp, tests/node's Node 22 first on PATH); returns its JSON output."""
    env = child_env(HOME=str(tmp), XDG_STATE_HOME=str(tmp / "state"), CI="1")
    env["PATH"] = f"{NODE_BIN}:{env.get('PATH', '')}"
    done = subprocess.run(
        [str(INSPECTOR), "--cli", *args],
        cwd=tmp,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"inspector {args[-4:]} exited {done.returncode}: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


def stdio(tmp: Path, *args: str) -> list[str]:
    """`jobs-mcp serve` over stdio with its audit log, state store and sandbox state in tmp."""
    return [str(BIN), "serve", "--audit-db", str(tmp / "audit.db"), "--sandbox-db", str(tmp / "sandbox.db"), *args]


def test_tools_list_and_call_over_stdio(tmp_path: Path) -> None:
    listed = inspector(tmp_path, *stdio(tmp_path), "--method", "tools/list")
    names = {tool["name"] for tool in listed["tools"]}
    assert {"lytics_list_jobs", "confirm_action"} <= names

    table = inspector(tmp_path, *stdio(tmp_path), "--method", "tools/call", "--tool-name", "lytics_list_jobs")
    assert not table.get("isError")
    text = table["content"][0]["text"]
    assert text.startswith("[sandbox: simulated Lytics account")
    assert "| ID | name | workflow | status | updated |" in text and HEALTHY_EXPORT_ID in text


def test_propose_then_confirm_in_the_next_process(tmp_path: Path) -> None:
    """A proposal made by one server process (one CLI call) is confirmed by the next: both share the state store
    beside --audit-db, and --sandbox-db keeps the simulated account so the pause is seen afterwards."""
    args = ["--method", "tools/call", "--tool-name"]
    proposed = inspector(
        tmp_path, *stdio(tmp_path), *args, "lytics_pause_job", "--tool-arg", f"job_id={HEALTHY_EXPORT_ID}"
    )
    assert proposed["structuredContent"]["status"] == "proposed"
    assert "PROPOSED, not done yet" in proposed["content"][0]["text"]
    confirmation_id = proposed["structuredContent"]["confirmation_id"]
    assert f'confirmation_id="{confirmation_id}"' in proposed["content"][0]["text"]  # what a person/model sees

    before = inspector(tmp_path, *stdio(tmp_path), *args, "lytics_get_job", "--tool-arg", f"job_id={HEALTHY_EXPORT_ID}")
    assert before["structuredContent"]["job"]["status"] == "running"  # proposing sent nothing

    done = inspector(
        tmp_path, *stdio(tmp_path), *args, "confirm_action", "--tool-arg", f"confirmation_id={confirmation_id}"
    )
    assert not done.get("isError"), done
    assert done["structuredContent"]["status"] == "executed"
    assert done["content"][0]["text"].splitlines()[1].startswith("DONE: Pause job")

    after = inspector(tmp_path, *stdio(tmp_path), *args, "lytics_get_job", "--tool-arg", f"job_id={HEALTHY_EXPORT_ID}")
    assert after["structuredContent"]["job"]["status"] == "paused"
    assert (tmp_path / "state.db").is_file() and (tmp_path / "audit.db").is_file()


def test_tools_list_over_http(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [str(BIN), "serve", "--http", "--port", str(port), "--audit-db", str(tmp_path / "audit.db")]
    state = {"HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    with http_process(args, url + "/healthz", tmp_path / "server.log", **state):
        listed = inspector(tmp_path, f"{url}/mcp", "--transport", "http", "--method", "tools/list")
    names = {tool["name"] for tool in listed["tools"]}
    assert {"lytics_list_jobs", "confirm_action"} <= names
