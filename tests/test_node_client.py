"""Interop: the official TypeScript MCP client (@modelcontextprotocol/sdk) against `jobs-mcp serve` over stdio.

Needs Node and `npm ci --prefix tests/node` (the README's test command and .ci/run do it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from jobs_mcp.providers.lytics.simulator import HEALTHY_EXPORT_ID
from support import BIN, child_env

NODE_DIR = Path(__file__).parent / "node"


def test_typescript_sdk_client_over_stdio() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the TypeScript client cannot run")
    assert (NODE_DIR / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir(), (
        "run `npm ci --prefix tests/node` first (the README's test command does)"
    )
    out = subprocess.run(
        [node, "client.mjs", str(BIN), HEALTHY_EXPORT_ID],
        cwd=NODE_DIR,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    seen = json.loads(out)
    assert seen["server"]["name"] == "jobs-mcp"
    tools = {t["name"]: t for t in seen["tools"]}
    assert tools["lytics_list_jobs"]["readOnly"] is True and tools["lytics_kill_job"]["readOnly"] is False
    assert all(t["hasOutputSchema"] for t in tools.values())  # the TS client also validated every result
    assert seen["listedCount"] > 10 and "| ID | name |" in seen["listedText"]
    assert (seen["proposalStatus"], seen["doneStatus"]) == ("proposed", "executed")
    assert seen["replayIsError"] and "already used" in seen["replayText"]
    assert set(seen["prompts"]) == {"job-manager", "data-health-monitor"}
    assert "jobs-mcp://references/confirmation-gate" in seen["resources"]
