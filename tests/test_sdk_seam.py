"""The SDK seam (jobs_mcp/sdk.py): the SDK internals it relies on are still there, and still do what it needs.

If an `mcp` release moves them, these tests fail first, naming the installed version and what changed; the fix
belongs in sdk.py alone.
"""

from __future__ import annotations

from typing import Annotated

import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from jobs_mcp.sdk import make_tool, sdk_mismatches, sdk_version

pytestmark = pytest.mark.anyio

CHANGED = "mcp {version} changed what jobs_mcp/sdk.py relies on (fix it there): {what}"


class Echoed(BaseModel):
    word: str = Field(description="the word")


def test_the_sdk_internals_are_where_the_seam_expects_them() -> None:
    found = sdk_mismatches()
    assert not found, CHANGED.format(version=sdk_version(), what="; ".join(found))


async def test_a_tool_from_the_seam_is_strict_compact_and_has_its_output_schema() -> None:
    async def echo(word: Annotated[str, Field(description="a word")], times: int | None = None) -> CallToolResult:
        """Say a word back."""
        return CallToolResult(content=[TextContent(type="text", text=word)], structured_content={"word": word})

    hints = ToolAnnotations(title="Echo", read_only_hint=True)
    server = MCPServer("seam", tools=[make_tool(echo, result=Echoed, title="Echo", annotations=hints)])
    version = sdk_version()
    async with Client(server) as client:
        (tool,) = (await client.list_tools()).tools
        schema = tool.input_schema
        what = f"tools/list gave {tool.model_dump(exclude_none=True)}"
        assert schema.get("additionalProperties") is False, CHANGED.format(version=version, what=what)
        assert schema["properties"]["times"] == {"type": "integer"}, CHANGED.format(version=version, what=what)
        assert "title" not in schema["properties"]["word"], CHANGED.format(version=version, what=what)
        assert tool.output_schema is not None and "word" in tool.output_schema["properties"], CHANGED.format(
            version=version, what=what
        )
        bad = await client.call_tool("echo", {"word": "hi", "loud": True})
        said = bad.content[0].text if bad.content and isinstance(bad.content[0], TextContent) else ""
        assert bad.is_error and "loud: not an argument of this tool" in said, CHANGED.format(
            version=version, what=f"an unknown argument gave {said!r}"
        )
        good = await client.call_tool("echo", {"word": "hi"})
        assert good.structured_content == {"word": "hi"}, CHANGED.format(version=version, what=repr(good))
