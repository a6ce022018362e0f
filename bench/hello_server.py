"""The baseline for cold start: the smallest useful MCP server the official SDK can make (one tool, stdio)."""

from mcp.server import MCPServer

server = MCPServer("hello")


@server.tool()
def hello(name: str) -> str:
    """Say hello."""
    return f"hello {name}"


if __name__ == "__main__":
    server.run()
