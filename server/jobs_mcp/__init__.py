"""jobs-mcp: an MCP server for safe, conversational control of data-platform jobs."""

__version__ = "0.1.0"
