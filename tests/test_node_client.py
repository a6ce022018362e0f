"""Interop: the official TypeScript MCP client (@modelcontextprotocol/sdk) against `jobs-mcp serve` over stdio
and over streamable HTTP (bearer token, elicitation).

Needs Node 20 or newer and `npm ci --prefix tests/node` (the README's test command and .ci/run do it); skipped
without them, failed under CI.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from jobs_mcp.providers.lytics.simulator import HEALTHY_EXPORT_ID
from support import BIN, CANARY, NODE_DIR, child_env, missing, node

pytestmark = pytest.mark.slow  # Node processes starting server processes


@pytest.fixture
def node_client() -> str:
    """The Node to run the TypeScript client with (skipped, or failed under CI, when it cannot run)."""
    found = node()
    if not (NODE_DIR / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir():
        missing("the TypeScript MCP SDK is not in tests/node/node_modules: run `npm ci --prefix tests/node`")
    return found


def test_typescript_sdk_client_over_stdio(node_client: str) -> None:
    out = subprocess.run(
        [node_client, "client.mjs", str(BIN), HEALTHY_EXPORT_ID],
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


@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_typescript_sdk_client_over_http_with_elicitation(
    node_client: str, tmp_path: Path, sandbox_http: str, answer: str
) -> None:
    """The TS client over streamable HTTP (sessions, bearer token) is asked through elicitation: accept executes
    the write once; decline sends nothing."""
    import httpx

    from test_remote import ALICE, posts, served, tokens_file

    env = {"LYTICS_API_URL": sandbox_http, "LYTICS_API_TOKEN": CANARY}
    with served(tmp_path, "--auth-tokens", str(tokens_file(tmp_path)), **env) as base:
        httpx.post(f"{sandbox_http}/_sandbox/hits/reset")
        out = subprocess.run(
            [node_client, "http-client.mjs", base + "/mcp", ALICE, "lytics_pause_job", HEALTHY_EXPORT_ID, answer],
            cwd=NODE_DIR,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        sent = posts(sandbox_http)
    seen = json.loads(out)
    assert seen["sessionId"], "served with sessions"
    assert len(seen["asked"]) == 1 and "Pause job" in seen["asked"][0]["message"]
    assert not seen["isError"], seen["text"]
    if answer == "accept":
        assert seen["status"] == "executed" and sent == 1
    else:
        assert seen["status"] == "declined" and sent == 0
    assert CANARY not in out and ALICE not in (tmp_path / "server.err").read_text()


def test_typescript_sdk_client_gets_the_approval_link_by_url_elicitation(
    node_client: str, tmp_path: Path, sandbox_http: str
) -> None:
    """The TS client (protocol 2025-11-25, sessions) declaring URL-mode elicitation only: the approval link
    reaches its URL handler, and nothing the model reads (text or structured content) holds it."""
    import httpx

    from test_remote import ALICE, posts, served, tokens_file

    env = {"LYTICS_API_URL": sandbox_http, "LYTICS_API_TOKEN": CANARY}
    with served(tmp_path, "--auth-tokens", str(tokens_file(tmp_path)), **env) as base:
        httpx.post(f"{sandbox_http}/_sandbox/hits/reset")
        args = [base + "/mcp", ALICE, "lytics_pause_job", HEALTHY_EXPORT_ID, "accept", "url"]
        out = subprocess.run(
            [node_client, "http-client.mjs", *args],
            cwd=NODE_DIR,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        sent = posts(sandbox_http)
    seen = json.loads(out)
    assert [a["mode"] for a in seen["asked"]] == ["url"], seen["asked"]
    link = seen["asked"][0]["url"]
    page = base.replace("127.0.0.1", "localhost")  # linked by name: passkeys need a host name
    assert link.startswith(page + "/approve/") and "?s=" in link
    secret = link.split("?s=", 1)[1]
    assert secret not in seen["modelSees"] and "/approve/" not in seen["modelSees"]
    assert seen["status"] == "proposed" and seen["confirmationId"] is None and sent == 0
    assert "Asked the person to approve on the approval page" in seen["modelSees"]
