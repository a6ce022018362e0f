"""What models see of every tool, as one reviewable file: ``python -m jobs_mcp.snapshot --write``.

The snapshot holds each tool's definition as ``tools/list`` gives it (name, title, description, input and output
schema, annotations) for every registered platform on its sandbox, plus the shared tools. tests/test_tool_snapshot.py
fails when the server's definitions differ from the committed file, so a change of what models see shows up in
review as a diff of ``tests/tool_snapshot.json``; regenerate it with the command above and commit it with the change.
Without ``--write`` the command only checks, and exits 1 on a difference.

The same command writes ``server/jobs_mcp/tool_schemas.json``, the schemas a start reads instead of building them
(``schemas.PREBUILT``); the snapshot is always made by building them, and tests check both files.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio

from jobs_mcp import registry
from jobs_mcp.config import Settings, sandbox_account
from jobs_mcp.schemas import PREBUILT, Prebuilt, building_schemas

COMMAND = "python -m jobs_mcp.snapshot --write"
DEFAULT_PATH = Path("tests") / "tool_snapshot.json"


async def definitions(prebuilt: bool = False) -> dict[str, dict[str, Any]]:
    """Every tool's definition (tools/list), keyed by name, for all registered platforms on their sandboxes; its
    schemas built (``prebuilt``: as a start makes them, from ``schemas.PREBUILT`` where they fit)."""
    return (await _definitions(prebuilt))[0]


async def built_schemas() -> Prebuilt:
    """Every tool's schemas, built, as ``schemas.PREBUILT`` should hold them."""
    return (await _definitions(False))[1]


async def _definitions(prebuilt: bool) -> tuple[dict[str, dict[str, Any]], Prebuilt]:
    from jobs_mcp.app import build_server
    from jobs_mcp.runtime import Runtime

    with tempfile.TemporaryDirectory(prefix="snapshot-") as where:  # the server's audit log and state: thrown away
        settings = Settings(
            accounts=tuple(sandbox_account(name) for name in registry.names()),
            audit_db=str(Path(where) / "audit.db"),
            state="memory",
        )
        runtime = Runtime(settings)
        try:
            if prebuilt:
                collected, server = Prebuilt(), build_server(settings, runtime)
            else:
                with building_schemas() as collected:
                    server = build_server(settings, runtime)
            tools = await server.list_tools()
        finally:
            await runtime.aclose()
    listed = {
        tool.name: tool.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"meta", "icons"})
        for tool in sorted(tools, key=lambda t: t.name)
    }
    return listed, collected


def render(tools: dict[str, dict[str, Any]]) -> str:
    return json.dumps(tools, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def differences(committed: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """One line per tool that was added, removed or changed (and which parts of it changed)."""
    lines = [f"+ {name} (new)" for name in sorted(current.keys() - committed.keys())]
    lines += [f"- {name} (gone)" for name in sorted(committed.keys() - current.keys())]
    for name in sorted(committed.keys() & current.keys()):
        old, new = committed[name], current[name]
        parts = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        if parts:
            lines.append(f"~ {name}: {', '.join(parts)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs_mcp.snapshot", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the snapshot (default: only check it)")
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH, help=f"the snapshot file (default {DEFAULT_PATH})")
    args = parser.parse_args(argv)
    current, schemas = anyio.run(_definitions, False)
    if args.write:
        args.path.write_text(render(current), encoding="utf-8")
        PREBUILT.write_text(schemas.render(), encoding="utf-8")
        print(f"wrote {len(current)} tool definitions to {args.path}, and their schemas to {PREBUILT}")
        return 0
    committed = json.loads(args.path.read_text(encoding="utf-8")) if args.path.exists() else {}
    changed = differences(committed, current)
    if not PREBUILT.exists() or PREBUILT.read_text(encoding="utf-8") != schemas.render():
        changed.append(f"~ {PREBUILT.name}: the prebuilt schemas")
    for line in changed:
        print(line)
    if changed:
        print(f"{args.path} is out of date: run `{COMMAND}` and commit it", file=sys.stderr)
    return 1 if changed else 0


if __name__ == "__main__":
    raise SystemExit(main())
