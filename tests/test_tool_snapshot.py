"""What models see cannot drift unnoticed: every tool's definition against tests/tool_snapshot.json, and the
README's tool tables against the tools the registry's platforms really have.

When a definition changes on purpose, regenerate the snapshot with `python -m jobs_mcp.snapshot --write` and commit
it with the change: the diff is what reviewers read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from jobs_mcp import registry
from jobs_mcp.snapshot import COMMAND, definitions, differences

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).parent.parent
SNAPSHOT = Path(__file__).with_name("tool_snapshot.json")
SHARED = "Shared by every platform"


@pytest.fixture(scope="module")
def current() -> dict[str, dict[str, Any]]:
    import anyio

    return anyio.run(definitions)


def test_every_tool_definition_matches_the_snapshot(current: dict[str, dict[str, Any]]) -> None:
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    changed = differences(committed, current)
    assert not changed, (
        "What models see changed:\n  " + "\n  ".join(changed) + f"\nIf that is intended, run `{COMMAND}` (from the "
        "repository's root) and commit tests/tool_snapshot.json with the change."
    )


def readme_tables() -> dict[str, list[tuple[list[str], str]]]:
    """The README's tool tables under "Platforms and tools": heading (the bold line) -> rows of (tools, kind)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Platforms and tools", 1)[1].split("\n## ", 1)[0]
    tables: dict[str, list[tuple[list[str], str]]] = {}
    heading, kind_column = "", None
    for line in section.splitlines():
        bold = re.match(r"\*\*(.+?)\*\*", line)
        if bold:
            heading, kind_column = bold.group(1), None
        elif line.startswith("| tool"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            kind_column = cells.index("kind") if "kind" in cells else -1
            tables[heading] = []
        elif line.startswith("|") and not line.startswith("|---") and kind_column is not None:
            cells = [c.strip() for c in line.strip("|").split("|")]
            kind = cells[kind_column] if kind_column >= 0 else ""
            tables[heading].append((re.findall(r"`([a-z0-9_]+)`", cells[0]), kind))
    return tables


def test_the_readme_lists_every_tool_and_nothing_else(current: dict[str, dict[str, Any]]) -> None:
    tables = readme_tables()
    prefixes = {registry.provider(name).title: registry.provider(name).prefix for name in registry.names()}
    assert set(tables) == {SHARED, *prefixes}, f"README tool tables: {sorted(tables)}; platforms: {sorted(prefixes)}"
    platform_tools = {t for t in current if any(t.startswith(p) for p in prefixes.values())}
    for heading, rows in tables.items():
        listed = [tool for tools, _ in rows for tool in tools]
        if heading == SHARED:
            real = set(current) - platform_tools
        else:
            real = {t for t in current if t.startswith(prefixes[heading])}
        assert sorted(listed) == sorted(real), (
            f"README.md's {heading} table: missing {sorted(real - set(listed))}, "
            f"not a tool {sorted(set(listed) - real)}"
            f"{', listed twice' if len(listed) != len(set(listed)) else ''}"
        )
        for tools, kind in rows:
            for tool in tools:
                hints = current[tool]["annotations"]
                if kind == "read":
                    assert hints["readOnlyHint"], f"README.md says {tool} is a read"
                elif kind in ("write", "destructive"):
                    assert not hints["readOnlyHint"], f"README.md says {tool} writes"
                if kind == "destructive":
                    assert hints["destructiveHint"], f"README.md says {tool} is destructive"
