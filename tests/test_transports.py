"""The server over stdio and streamable HTTP as subprocesses, and against `jobs-mcp sandbox` over real HTTP.

The canary token is used wherever a real token would be; it must not appear in any output, error or log line.
"""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from pydantic import SecretStr

from jobs_mcp.app import build_server, sandbox_mark
from jobs_mcp.config import Account, Settings
from jobs_mcp.providers.lytics.simulator import FACEBOOK_EXPORT_ID
from support import BIN, CANARY, child_env, free_port, wait_http

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # each test starts the server or the sandbox as a subprocess

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("lytics_list_jobs", {"show_all": True}),
    ("lytics_get_job", {"job_id": FACEBOOK_EXPORT_ID}),
    ("lytics_get_job", {"job_id": "0" * 32}),
    ("lytics_list_workflows", {}),
    ("lytics_get_job_logs", {"job_id": FACEBOOK_EXPORT_ID, "page_size": 5}),
    ("lytics_list_account_job_logs", {}),
]


async def exercise(client: Client) -> str:
    """Call every read tool once; return everything the client received, serialized."""
    seen = [client.instructions or ""]
    seen += [t.model_dump_json() for t in (await client.list_tools()).tools]
    for tool, arguments in CALLS:
        result = await client.call_tool(tool, arguments)
        assert result.is_error == (arguments.get("job_id") == "0" * 32), result.content
        seen.append(result.model_dump_json())
    return "\n".join(seen)


async def test_stdio_server_against_sandbox_over_http(sandbox_http: str, tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=str(BIN),
        args=["--log-level", "DEBUG", "serve"],
        env=child_env(LYTICS_API_URL=sandbox_http, LYTICS_API_TOKEN=CANARY),
    )
    with (tmp_path / "server.err").open("w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            received = await exercise(client)
        errlog.seek(0)
        stderr = errlog.read()
    assert sandbox_mark("Lytics") not in received  # a real (HTTP) account, not the embedded sandbox
    assert "GET /v2/job" in stderr  # debug logging went to stderr, not into the protocol
    assert CANARY not in received and CANARY not in stderr


async def test_stdio_server_on_embedded_sandbox() -> None:
    params = StdioServerParameters(command=str(BIN), args=["serve"], env=child_env())
    async with Client(params) as client:
        assert "SANDBOX" in (client.instructions or "")
        result = await client.call_tool("lytics_list_jobs", {})
    assert not result.is_error
    assert result.content[0].text.startswith(sandbox_mark("Lytics"))  # type: ignore[union-attr]


async def test_streamable_http_server() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN), "serve", "--http", "--port", str(port)],
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok", "sandbox": True}
        for mode in ("auto", "legacy"):
            async with Client(f"http://127.0.0.1:{port}/mcp", mode=mode) as client:
                tools = (await client.list_tools()).tools
                result = await client.call_tool("lytics_get_job", {"job_id": FACEBOOK_EXPORT_ID})
            assert {t.name for t in tools} >= {"lytics_list_jobs", "lytics_get_job_logs"}
            assert not result.is_error and result.structured_content["job"]["id"] == FACEBOOK_EXPORT_ID  # type: ignore[index]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def http_account_server(url: str, token: str) -> Any:
    return build_server(Settings(accounts=(Account(name="acme", provider="lytics", url=url, token=SecretStr(token)),)))


async def test_in_memory_server_against_sandbox_over_http(sandbox_http: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with Client(http_account_server(sandbox_http, CANARY)) as client:
        received = await exercise(client)
        listed = await client.call_tool("lytics_list_jobs", {})
    assert listed.structured_content["count"] >= 10  # type: ignore[index]
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert "/v2/job" in logs
    assert CANARY not in received and CANARY not in logs


async def test_wrong_token_over_http_is_explained(sandbox_http: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = CANARY + "-wrong"
    async with Client(http_account_server(sandbox_http, wrong)) as client:
        result = await client.call_tool("lytics_list_jobs", {})
    text = json.dumps(result.model_dump(mode="json"))
    assert result.is_error and "HTTP 401" in text and "'acme'" in text
    assert wrong not in text and CANARY not in text
    assert wrong not in "\n".join(r.getMessage() for r in caplog.records)


async def test_http_faults_through_real_sandbox(sandbox_http: str) -> None:
    httpx.post(f"{sandbox_http}/_sandbox/faults", json={"method": "GET", "path_glob": "/v2/job", "drop": True})
    httpx.post(f"{sandbox_http}/_sandbox/hits/reset")
    async with Client(http_account_server(sandbox_http, CANARY)) as client:
        result = await client.call_tool("lytics_list_jobs", {})
    assert result.is_error and "dropped" in result.content[0].text  # type: ignore[union-attr]
    hits = httpx.get(f"{sandbox_http}/_sandbox/hits", params={"method": "GET", "path": "/v2/job"}).json()
    assert hits["hits"] == 2  # a read dropped on the connection is retried once, then explained
