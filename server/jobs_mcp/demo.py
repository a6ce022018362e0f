"""``jobs-mcp demo``: a short scripted conversation through a real MCP client session on the sandbox.

Each step is what a person might ask, the tool call an assistant would make, and the text the server returns.
Every enabled provider contributes its own steps (``Provider.demo``); the gate's steps come last.
"""

from __future__ import annotations

import json
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import anyio
from mcp import Client

from jobs_mcp import registry
from jobs_mcp.app import build_server
from jobs_mcp.config import Settings, enabled_providers, sandbox_account

Arguments = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Step:
    ask: str
    tool: str
    arguments: Arguments = field(default_factory=dict)  # or made from the previous step's structured result
    expect_error: bool = False


def confirm_previous(previous: dict[str, Any]) -> dict[str, Any]:
    """Arguments for confirm_action made from the proposal the previous step returned."""
    return {"confirmation_id": previous["confirmation_id"]}


REPLAY = Step("(the same confirmation sent again)", "confirm_action", confirm_previous, expect_error=True)


def _rule(title: str, out: TextIO) -> None:
    print(f"\n\033[1m── {title} \033[0m" if out.isatty() else f"\n── {title}", file=out)


def _next_steps(providers: tuple[str, ...], out: TextIO) -> None:
    """How to go from the demo to Claude, as the README's "Use it from Claude" says, with this install's path."""
    installed = Path(sys.executable).with_name("jobs-mcp")
    command = str(installed) if installed.exists() else "/path/to/.venv/bin/jobs-mcp"
    declared = registry.provider(providers[0])
    env = {declared.env("api_token"): "your-token"} | {declared.env(extra): "…" for extra in declared.extras}
    flags = " ".join(f"--env {name}={value}" for name, value in env.items())
    desktop = {"mcpServers": {"jobs": {"command": command, "args": ["serve"], "env": env}}}
    _rule("next: use it from Claude", out)
    print(f"Claude Code:\n  claude mcp add jobs {flags} -- {command} serve", file=out)
    print(f"Claude Desktop (claude_desktop_config.json):\n  {json.dumps(desktop, ensure_ascii=False)}", file=out)
    print(
        "A platform without a token runs on this same sandbox; `jobs-mcp accounts` checks the accounts you set.\n"
        'How a person approves each change: README.md, section "Confirming changes".',
        file=out,
    )


async def _run(out: TextIO, providers: tuple[str, ...], sandbox_db: str | None, audit: str) -> int:
    accounts = tuple(sandbox_account(name) for name in providers)
    server = build_server(Settings(accounts=accounts, sandbox_db=sandbox_db, audit_db=audit))
    script = [step for name in providers for step in registry.provider(name).demo()] + [REPLAY]
    async with Client(server) as client:
        info = client.server_info
        _rule(f"connected to {info.name if info else 'server'} {info.version if info else ''}", out)
        print("What the server tells the model (its instructions):", file=out)
        print(textwrap.indent(textwrap.fill(client.instructions or "", 106), "  "), file=out)
        tools = (await client.list_tools()).tools
        _rule(f"the server offers {len(tools)} tools", out)
        for tool in tools:
            hints = tool.annotations
            kind = "read" if hints and hints.read_only_hint else "write"
            print(f"  {tool.name:<32} {kind:<6} {tool.title or ''}", file=out)
        failures = 0
        previous: dict[str, Any] = {}
        for step in script:
            _rule(f"user: {step.ask}", out)
            arguments = step.arguments(previous) if callable(step.arguments) else step.arguments
            shown = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
            started = time.perf_counter()
            result = await client.call_tool(step.tool, arguments)
            elapsed = (time.perf_counter() - started) * 1000
            print(f"→ {step.tool}({shown})  [{elapsed:.0f} ms]", file=out)
            text = "\n".join(getattr(block, "text", "") for block in result.content)
            print(("refused, as it should be: " if step.expect_error else "") + text, file=out)
            failures += bool(result.is_error) != step.expect_error
            if not result.is_error:
                previous = result.structured_content or {}
    return failures


def run_demo(*, providers: str | None = None, sandbox_db: str | None = None, out: TextIO = sys.stdout) -> None:
    """The scripted conversation on the sandboxes of ``providers`` (a list or ``all``; default Lytics)."""
    chosen = enabled_providers(providers, [])
    # The demo's writes go to a throwaway audit log and state store, removed when it ends: nothing is left behind.
    with tempfile.TemporaryDirectory(prefix="jobs-mcp-demo-") as scratch:
        failures = anyio.run(_run, out, chosen, sandbox_db, str(Path(scratch) / "audit.db"))
    if failures:
        print(f"\n{failures} step(s) failed", file=sys.stderr)
        sys.exit(1)
    _next_steps(chosen, out)
